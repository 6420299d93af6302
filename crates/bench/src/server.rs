//! The `roster serve` the harness starts and measures: its cold start, its peak memory, and
//! the size of its database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pid: u32,
    pub base: String,
    /// From the spawn to the first answered `/healthz`.
    pub cold_start: Duration,
    log: PathBuf,
}

/// The rate limits the server runs with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RateLimits {
    /// None (0): the workloads measure how fast the server goes, far above one partner's
    /// default rate.
    Off,
    /// The server's own defaults (the soak): whatever the environment says is removed.
    Defaults,
}

/// The environment variables of the rate limits.
const RATE_LIMIT_VARIABLES: [&str; 3] = [
    "ROSTER_API_PER_MINUTE_PER_PARTNER",
    "ROSTER_API_PER_MINUTE_PER_APPLICATION",
    "ROSTER_SIGN_IN_PER_MINUTE_PER_ADDRESS",
];

/// Starts `binary serve` on a free port of 127.0.0.1 and waits until it answers.
pub async fn start(
    binary: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
    admin_password: &str,
    limits: RateLimits,
    log: PathBuf,
) -> anyhow::Result<Server> {
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir)
        .env("ROSTER_BOOTSTRAP_ADMIN_PASSWORD", admin_password)
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_CONFIG")
        .env("ROSTER_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .kill_on_drop(true);
    // Environment variables, which an older binary (--server-binary) ignores; and none of
    // the other limits' (connections, requests in flight, the hashing queue), which keep
    // their defaults in every run.
    for variable in RATE_LIMIT_VARIABLES {
        match limits {
            RateLimits::Off => cmd.env(variable, "0"),
            RateLimits::Defaults => cmd.env_remove(variable),
        };
    }
    for variable in [
        "ROSTER_MAX_CONNECTIONS",
        "ROSTER_MAX_REQUESTS_IN_FLIGHT",
        "ROSTER_HASH_QUEUE",
    ] {
        cmd.env_remove(variable);
    }
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = child.id().context("the server exited at once")?;
    let stdout = child.stdout.take().context("no standard output")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match tokio::time::timeout(Duration::from_secs(120), lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                if let Some(url) = line.strip_prefix("Roster is listening on ") {
                    break url.trim().to_string();
                }
            }
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = child.wait().await?;
                bail!(
                    "the server exited ({status}) before listening: {}",
                    tail(&log)
                );
            }
            Err(_) => bail!("the server did not listen within 120 s: {}", tail(&log)),
        }
    };
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::builder().no_proxy().build()?;
    let health = format!("{base}/healthz");
    loop {
        if let Ok(r) = client.get(&health).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the server did not answer /healthz within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Server {
        child,
        pid,
        base,
        cold_start: started.elapsed(),
        log,
    })
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The most resident memory the server had at any time (`VmHWM`).
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        status_bytes(self.pid, "VmHWM")
    }

    /// Samples the server's anonymous resident memory (its heap and stacks: `RssAnon`) and
    /// its file-backed resident pages (`RssFile`: mapped files, SQLite's `mmap` of the
    /// database among them, which are the kernel's page cache, shared and reclaimable) every
    /// 100 ms until the server stops; the highest of each so far.
    pub fn watch_memory(&self) -> Arc<MemoryPeaks> {
        let peaks = Arc::new(MemoryPeaks::default());
        let (pid, p) = (self.pid, peaks.clone());
        tokio::spawn(async move {
            while let (Some(anon), Some(file)) =
                (status_bytes(pid, "RssAnon"), status_bytes(pid, "RssFile"))
            {
                p.anon.fetch_max(anon, Ordering::Relaxed);
                p.file.fetch_max(file, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        peaks
    }

    /// SIGTERM, then waits for the graceful stop (SIGKILL after 30 s).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    bail!("the server stopped with {status}: {}", tail(&self.log));
                }
            }
            Err(_) => {
                self.child.kill().await?;
                bail!("the server did not stop within 30 s of SIGTERM");
            }
        }
        Ok(())
    }
}

/// The end of the server's log, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(2000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    format!("{} (log: {})", text[start..].trim(), log.display())
}

/// The SQLite database file of `url`, if it is one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// The bytes a SQLite database takes on disk: the file, its write-ahead log and its
/// shared-memory index.
pub fn sqlite_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = path.as_os_str().to_os_string();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len())
        })
        .sum()
}

/// The highest resident memory of each kind seen ([`Server::watch_memory`]).
#[derive(Default, Debug)]
pub struct MemoryPeaks {
    pub anon: AtomicU64,
    pub file: AtomicU64,
}

/// A `kB` figure of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    status_field_bytes(&read_status(pid)?, field)
}

/// `/proc/<pid>/status`, while the process lives.
pub fn read_status(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok()
}

/// A `kB` figure (`VmRSS:    12345 kB`) of the text of `/proc/<pid>/status`, in bytes.
pub fn status_field_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    let kib: u64 = line
        .split_once(':')?
        .1
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::{sqlite_path, status_field_bytes};
    use std::path::PathBuf;

    const STATUS: &str =
        "Name:\troster\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  812345 kB\n\
VmHWM:\t  104960 kB\nVmRSS:\t   98304 kB\nRssAnon:\t   65536 kB\nRssFile:\t   32768 kB\n\
RssShmem:\t       0 kB\nThreads:\t17\n";

    #[test]
    fn status_figures_are_read_in_bytes() {
        assert_eq!(status_field_bytes(STATUS, "VmRSS"), Some(98_304 * 1024));
        assert_eq!(status_field_bytes(STATUS, "VmHWM"), Some(104_960 * 1024));
        assert_eq!(status_field_bytes(STATUS, "RssAnon"), Some(65_536 * 1024));
        assert_eq!(status_field_bytes(STATUS, "RssShmem"), Some(0));
    }

    #[test]
    fn a_missing_or_unlike_field_is_none() {
        assert_eq!(status_field_bytes(STATUS, "VmSwap"), None);
        // A prefix of a field is not the field.
        assert_eq!(status_field_bytes(STATUS, "Vm"), None);
        assert_eq!(status_field_bytes(STATUS, "State"), None);
        assert_eq!(status_field_bytes("", "VmRSS"), None);
    }

    #[test]
    fn the_sqlite_path_of_a_url() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/d/roster.db?mode=rwc"),
            Some(PathBuf::from("/tmp/d/roster.db"))
        );
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }
}
