//! Faults the server must ride out: its PostgreSQL stopped and started again under load
//! (a cluster of the test's own, so that no other test loses its database).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/server.rs"]
mod server;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cli::{admin_token, rest, PASSWORD};

/// The newest PostgreSQL's programs on this machine (CI installs them: scripts/test-postgres.sh).
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    found.pop()
}

/// A PostgreSQL cluster of this test's own, in a temporary directory.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// A PostgreSQL program, to be run as the postgres user when the test runs as root
    /// (PostgreSQL refuses root).
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// Runs a PostgreSQL program, which must succeed.
    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn new() -> Option<Self> {
        let Some(bin) = pg_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have PostgreSQL for this test (scripts/test-postgres.sh installs it)"
            );
            eprintln!("no PostgreSQL on this machine: the stop-and-start test did not run");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let _ = Command::new("useradd")
                .args(["--system", "postgres"])
                .output();
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { bin, dir, port };
        cluster.run(
            "initdb",
            &["-D", &cluster.data(), "-A", "trust", "-U", "postgres"],
        );
        cluster.start();
        Some(cluster)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

/// A new customer of `domain`: the address of its users.
async fn customer_users(client: &reqwest::Client, base: &str, token: &str, domain: &str) -> String {
    let created: Value = client
        .post(format!("{base}/v1/customers"))
        .bearer_auth(token)
        .json(&json!({"companyProfile": {"domain": domain, "companyName": domain}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!(
        "{base}/v1/customers/{}/users",
        created["id"].as_str().expect("a customer")
    )
}

/// What the load saw: every status, and the display name of the last acknowledged PATCH.
#[derive(Default)]
struct Seen {
    statuses: Vec<u16>,
    unavailable_without_retry_after: usize,
    last_acknowledged: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load() {
    let Some(pg) = Cluster::new() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let url = pg.url();
    let mut server = server::start_with(data.path(), Some(PASSWORD), &["--database-url", &url])
        .expect("roster serve");
    let base = server.base.clone();
    let token = admin_token(&base).await;
    let client = reqwest::Client::new();
    let users = customer_users(&client, &base, &token, "faults.onmicrosoft.com").await;
    let user: Value = client
        .post(&users)
        .bearer_auth(&token)
        .json(&json!({"userPrincipalName": "ada@faults.onmicrosoft.com", "displayName": "Ada 0"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_path = format!("{users}/{}", user["id"].as_str().unwrap());

    // One PATCH after another (each acknowledged one is the newest), and reads beside them.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (seen, done, client, token, user_path) = (
            seen.clone(),
            done.clone(),
            client.clone(),
            token.clone(),
            user_path.clone(),
        );
        tokio::spawn(async move {
            let mut i = 1;
            while !done.load(Ordering::Relaxed) {
                let name = format!("Ada {i}");
                let patch = client
                    .patch(&user_path)
                    .bearer_auth(&token)
                    .json(&json!({"displayName": name}))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .unwrap();
                let read = client
                    .get(&user_path)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                {
                    let mut s = seen.lock().unwrap();
                    for r in [&patch, &read] {
                        s.statuses.push(r.status().as_u16());
                        if r.status() == 503 && !r.headers().contains_key("retry-after") {
                            s.unavailable_without_retry_after += 1;
                        }
                    }
                    if patch.status() == 200 {
                        s.last_acknowledged = Some(name);
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.stop();
    // While the database is down: /healthz says so, requests get 503 with Retry-After.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        if r.status() == 503 {
            assert!(r.headers().contains_key("retry-after"));
            break;
        }
        assert!(Instant::now() < deadline, "/healthz never said 503");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let gap: Vec<u16> = seen.lock().unwrap().statuses.clone();
    assert!(gap.contains(&503), "no request saw the database gone");
    pg.start();
    // Service resumes by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "/healthz never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = seen.lock().unwrap().statuses.len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().statuses[before..]
        .iter()
        .filter(|s| **s == 200)
        .count()
        < 10
    {
        assert!(
            Instant::now() < deadline,
            "the load never got through again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, Ordering::Relaxed);
    load.await.unwrap();

    let (statuses, without_retry_after, last_acknowledged) = {
        let s = seen.lock().unwrap();
        (
            s.statuses.clone(),
            s.unavailable_without_retry_after,
            s.last_acknowledged.clone(),
        )
    };
    let other: Vec<&u16> = statuses
        .iter()
        .filter(|c| **c != 200 && **c != 503)
        .collect();
    assert!(
        other.is_empty(),
        "answers other than 200 and 503: {other:?}"
    );
    assert_eq!(without_retry_after, 0);
    // Nothing acknowledged was lost: the user has the last acknowledged name.
    let now = rest("", &token, &user_path).await;
    assert_eq!(now["displayName"].as_str(), last_acknowledged.as_deref());
    assert!(server.terminate().success());
}

/// Free bytes of the file system that holds `path`.
fn free_bytes(path: &std::path::Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A small file system of the test's own (a tmpfs), unmounted at the end.
struct SmallDisk(tempfile::TempDir);

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_reading_and_recovers() {
    if !is_root() {
        eprintln!("not root: the full-disk test needs to mount a small tmpfs, and did not run");
        return;
    }
    let disk = SmallDisk(tempfile::tempdir().unwrap());
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(disk.0.path())
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a tmpfs");
    let data = disk.0.path().join("data");
    let mut server = server::start(&data, Some(PASSWORD)).expect("roster serve");
    let base = server.base.clone();
    let token = admin_token(&base).await;
    let client = reqwest::Client::new();
    let users = customer_users(&client, &base, &token, "full.onmicrosoft.com").await;
    // Fill the disk but for a little room.
    let filler = disk.0.path().join("filler");
    let room = 256 * 1024;
    let fill = free_bytes(disk.0.path()).saturating_sub(room);
    std::fs::write(&filler, vec![0u8; usize::try_from(fill).unwrap()]).unwrap();
    let create = |i: usize| {
        client
            .post(&users)
            .bearer_auth(&token)
            .json(&json!({"userPrincipalName": format!("u{i}@full.onmicrosoft.com"), "displayName": format!("User {i} {}", "x".repeat(200))}))
            .send()
    };
    let mut acknowledged = 0;
    let mut refused = None;
    for i in 0..5_000 {
        let r = create(i).await.unwrap();
        match r.status().as_u16() {
            201 => acknowledged += 1,
            503 => {
                assert!(r.headers().contains_key("retry-after"));
                refused = Some(r.json::<Value>().await.unwrap());
                break;
            }
            other => panic!("{other}: {}", r.text().await.unwrap()),
        }
    }
    let refused = refused.expect("the disk never filled");
    assert_eq!(refused["code"], 503, "{refused}");
    assert!(
        refused["description"]
            .as_str()
            .unwrap()
            .contains("disk is full"),
        "{refused}"
    );
    // Reads go on.
    let list = client
        .get(format!("{users}?size=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    // Space comes back: writes resume, and every acknowledged one is there.
    std::fs::remove_file(&filler).unwrap();
    let r = create(100_000).await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let list = rest("", &token, &format!("{users}?size=500")).await;
    assert_eq!(
        list["totalCount"].as_u64(),
        Some(acknowledged + 1),
        "{list}"
    );
    assert!(server.terminate().success());
}

/// SIGTERM in the middle of a flood of reads and sign-ins: what was answered was answered
/// whole and rightly, the rest could not connect, and the server exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_flood_stops_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut server = server::start(data.path(), Some(PASSWORD)).expect("roster serve");
    let base = server.base.clone();
    let token = admin_token(&base).await;
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::<u16>::new()));
    let mut tasks = Vec::new();
    for lane in 0..64 {
        let (base, token, stop, answers) =
            (base.clone(), token.clone(), stop.clone(), answers.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let r = if lane % 8 == 0 {
                    client
                        .post(format!("{base}/oauth2/token"))
                        .form(&[
                            ("grant_type", "password"),
                            ("username", "nobody@partner.local"),
                            ("password", "Wrong-Password-1"),
                        ])
                        .send()
                        .await
                } else {
                    client
                        .get(format!("{base}/v1/customers"))
                        .bearer_auth(&token)
                        .send()
                        .await
                };
                match r {
                    // Answered: the body arrives whole.
                    Ok(r) => {
                        let status = r.status().as_u16();
                        if r.bytes().await.is_ok() {
                            answers.lock().unwrap().push(status);
                        }
                    }
                    // The server closed its listener or the connection: a clean refusal.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let status = server.terminate();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(status.success(), "roster exited {status:?}");
    let answers = answers.lock().unwrap();
    assert!(
        answers.len() > 50,
        "the flood was answered: {}",
        answers.len()
    );
    let wrong: Vec<&u16> = answers
        .iter()
        .filter(|s| ![200, 400, 429, 503].contains(*s))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}
