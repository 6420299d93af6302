//! Starts the built `roster` binary for a test, on a free port of 127.0.0.1.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub base: String,
    pub stdout: Vec<String>,
}

/// Starts `roster serve` on a free port of 127.0.0.1 and waits for its address.
#[allow(clippy::zombie_processes)] // the Server waits for the child in terminate() or drop()
pub fn start(data_dir: &Path, password: Option<&str>) -> Result<Server, String> {
    start_with(data_dir, password, &[])
}

/// `start`, with more flags for `roster serve`.
#[allow(clippy::zombie_processes)] // the Server waits for the child in terminate() or drop()
pub fn start_with(
    data_dir: &Path,
    password: Option<&str>,
    flags: &[&str],
) -> Result<Server, String> {
    // Under the umask most systems give (022), so that file modes are what Roster sets.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "umask 022; exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_roster"),
    ])
    .arg("serve")
    .args(flags)
    .env("ROSTER_DATA_DIR", data_dir)
    .env("ROSTER_LISTEN", "127.0.0.1:0")
    .env_remove("ROSTER_DATABASE_URL")
    .env_remove("ROSTER_BOOTSTRAP_ADMIN_PASSWORD")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("ROSTER_BOOTSTRAP_ADMIN_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("spawn roster");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<Result<String, String>>();
    let err_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(Ok(line));
        }
    });
    std::thread::spawn(move || {
        let text: String = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n");
        let _ = err_tx.send(Err(text));
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(line)) => {
                if let Some(url) = line.strip_prefix("Roster is listening on ") {
                    let base = url.to_string();
                    lines.push(line);
                    return Ok(Server {
                        child,
                        base,
                        stdout: lines,
                    });
                }
                lines.push(line);
            }
            Ok(Err(stderr)) => {
                let status = child.wait().expect("wait");
                return Err(format!("exited with {status}: {stderr}"));
            }
            Err(_) => {}
        }
    }
    let _ = child.kill();
    Err("roster did not start within 60 s".into())
}

impl Server {
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "roster did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    /// A failed test must not leave a server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
