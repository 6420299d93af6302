//! Runs the built `roster` client commands for the tests, each with its own config folder.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const PASSWORD: &str = "Correct-Horse-42-Battery";

/// Runs `roster ARGS` with this config folder, `stdin` on its standard input.
pub fn roster(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("ROSTER_CONFIG_DIR", config)
        .env_remove("ROSTER_URL")
        .env_remove("ROSTER_TOKEN")
        .env_remove("ROSTER_PASSWORD")
        .env_remove("ROSTER_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

pub async fn rest(base: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The token endpoint's answer to a form (a grant).
pub async fn grant(base: &str, form: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An access token of the bootstrap admin.
pub async fn admin_token(base: &str) -> String {
    let form = [
        ("grant_type", "password"),
        ("username", "admin@partner.local"),
        ("password", PASSWORD),
    ];
    grant(base, &form).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What signing in as `username` with `password` answers as its error (`Null` when it
/// signs in): a right temporary password gets `password_change_required`.
pub async fn sign_in_error(base: &str, username: &str, password: &str) -> Value {
    let form = [
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ];
    grant(base, &form).await["error"].clone()
}
