//! Generated input against the whole API: schemathesis (PyPI) reads the server's
//! `/openapi.json` and sends requests that fit it and requests that break it, to every
//! operation, with an administrator's token, then sequences of calls along the document's
//! links. Every check runs (no 5xx, answers and headers as documented, valid requests
//! accepted and invalid ones refused, 405 for undeclared methods, no access without the
//! token); crates/cli/tests/schemathesis/schemathesis.toml lists the few operations that may
//! refuse a request fitting the document, and why. On SQLite and on PostgreSQL.
//!
//! `bash scripts/test-schemathesis.sh` installs it (as CI does); without it the test says
//! SKIPPED, and under CI it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli::{admin_token, PASSWORD};

/// Examples per operation and phase: enough to reach every operation's edges in about a
/// minute per backend on a debug build.
const EXAMPLES: &str = "25";

/// The `st` program: ROSTER_TEST_SCHEMATHESIS, or `None` (said visibly) when it is not set.
fn schemathesis() -> Option<PathBuf> {
    match std::env::var_os("ROSTER_TEST_SCHEMATHESIS") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run schemathesis: eval \"$(bash scripts/test-schemathesis.sh)\""
            );
            eprintln!(
                "SKIPPED: ROSTER_TEST_SCHEMATHESIS is unset (eval \"$(bash scripts/test-schemathesis.sh)\")"
            );
            None
        }
    }
}

fn settings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis")
}

/// Runs schemathesis against a server started with `flags`, which must pass every check.
async fn run_against(st: &Path, flags: &[&str]) {
    let data = tempfile::tempdir().unwrap();
    let mut all = vec![
        // The generated requests come fast from one address and one partner.
        "--sign-in-per-minute-per-address",
        "0",
        "--api-per-minute-per-partner",
        "0",
        "--api-per-minute-per-application",
        "0",
    ];
    all.extend_from_slice(flags);
    let mut srv = server::start_with(data.path(), Some(PASSWORD), &all).unwrap();
    let token = admin_token(&srv.base).await;
    let seed = std::env::var("ROSTER_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    let config = settings_dir().join("schemathesis.toml");
    let out = tokio::task::spawn_blocking({
        let st = st.to_path_buf();
        let url = format!("{}/openapi.json", srv.base);
        // Its example database (.hypothesis) goes with the server's data, not into the tree.
        let scratch = data.path().to_path_buf();
        let seed = seed.clone();
        move || {
            Command::new(st)
                .current_dir(scratch)
                .env("SCHEMATHESIS_HOOKS", "hooks")
                .env("PYTHONPATH", settings_dir())
                .arg("--config-file")
                .arg(config)
                .args(["run", &url, "--checks", "all", "--max-examples", EXAMPLES])
                // One worker: CPython 3.11 before 3.11.8 can fail parsing in two threads at once.
                .args(["--workers", "1", "--seed", &seed, "--no-color"])
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures (seed {seed}; ROSTER_SCHEMATHESIS_SEED={seed} runs them again):\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("Tested: "),
        "schemathesis tested nothing:\n{report}"
    );
    assert!(srv.terminate().success(), "the server did not stop cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_requests_on_sqlite() {
    let Some(st) = schemathesis() else { return };
    run_against(&st, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_requests_on_postgres() {
    let Some(st) = schemathesis() else { return };
    let Some(admin) = roster_store::testing::postgres_for_tests() else {
        return;
    };
    let url = roster_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    run_against(&st, &["--database-url", &url]).await;
}
