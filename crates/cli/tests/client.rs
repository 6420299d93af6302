//! The `roster` client commands, run as the built binary against a started `roster serve`:
//! login, customers and their users in table and JSON form (JSON compared with the REST
//! answer), the saved login's file, exit codes by class.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASSWORD: &str = "Correct-Horse-42-Battery";

/// Runs `roster ARGS` with this config folder, `stdin` on its standard input.
fn roster(config: &Path, args: &[&str], stdin: &str) -> Output {
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

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

async fn rest(base: &str, token: &str, path: &str) -> Value {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_their_users_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let server = server::start(data.path(), Some(PASSWORD)).expect("roster serve");
    let base = server.base.clone();
    let config = tempfile::tempdir().unwrap();
    let c = config.path();

    // Not signed in: exit 3, and what to do.
    let out = roster(c, &["customer", "list"], "");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("roster login"));
    // A wrong password: 3 too.
    let out = roster(
        c,
        &[
            "login",
            "--url",
            &base,
            "--username",
            "admin@partner.local",
            "--password-stdin",
        ],
        "wrong-password-1\n",
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&roster(
        c,
        &[
            "login",
            "--url",
            &base,
            "--username",
            "admin@partner.local",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
    // The saved login: mode 0600, no password in it.
    let file = c.join("logins.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(!std::fs::read_to_string(&file).unwrap().contains(PASSWORD));

    // customer new / list / get / use, in table and JSON form.
    let created = json(&roster(
        c,
        &[
            "customer",
            "new",
            "--domain",
            "contoso.onmicrosoft.com",
            "--name",
            "Contoso",
            "--country",
            "GB",
            "-o",
            "json",
        ],
        "",
    ));
    let cid = created["id"].as_str().unwrap().to_string();
    let table = ok(&roster(c, &["customer", "list", "-o", "table"], ""));
    assert!(
        table.contains("Contoso") && table.contains("contoso.onmicrosoft.com"),
        "{table}"
    );
    let token: Value = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "admin@partner.local"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let by_domain = json(&roster(
        c,
        &["customer", "get", "contoso.onmicrosoft.com", "-o", "json"],
        "",
    ));
    assert_eq!(
        by_domain,
        rest(&base, &token, &format!("/v1/customers/{cid}")).await,
        "the wire JSON"
    );
    let list = json(&roster(
        c,
        &["customer", "list", "--search", "conto", "-o", "json"],
        "",
    ));
    assert_eq!(list.as_array().unwrap().len(), 1);
    ok(&roster(
        c,
        &["customer", "use", "contoso.onmicrosoft.com"],
        "",
    ));

    // customer-user new: the temporary password once; get by UPN equals the REST answer.
    let out = ok(&roster(
        c,
        &[
            "customer-user",
            "new",
            "--upn",
            "ada@contoso.onmicrosoft.com",
            "--display-name",
            "Ada Lovelace",
            "--usage-location",
            "GB",
            "-o",
            "table",
        ],
        "",
    ));
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Temporary password (shown once): "))
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);
    let ada = json(&roster(
        c,
        &[
            "customer-user",
            "get",
            "ada@contoso.onmicrosoft.com",
            "-o",
            "json",
        ],
        "",
    ));
    let uid = ada["id"].as_str().unwrap().to_string();
    assert_eq!(
        ada,
        rest(&base, &token, &format!("/v1/customers/{cid}/users/{uid}")).await
    );
    assert!(ok(&roster(c, &["customer-user", "list", "-o", "table"], "")).contains("Ada Lovelace"));
    let csv = ok(&roster(c, &["customer-user", "list", "-o", "csv"], ""));
    assert!(
        csv.starts_with("Id,Display name,User principal name,Usage location,State\n"),
        "{csv}"
    );
    // set, reset-password (generated, or from stdin).
    let set = json(&roster(
        c,
        &[
            "customer-user",
            "set",
            "ada@contoso.onmicrosoft.com",
            "--display-name",
            "Countess Lovelace",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(set["displayName"], "Countess Lovelace");
    let reset = json(&roster(
        c,
        &["customer-user", "reset-password", &uid, "-o", "json"],
        "",
    ));
    assert_eq!(
        reset["passwordProfile"]["password"].as_str().unwrap().len(),
        16
    );
    ok(&roster(
        c,
        &[
            "customer-user",
            "reset-password",
            &uid,
            "--password-stdin",
            "--no-force-change",
            "-o",
            "json",
        ],
        "Own-Choice-123x\n",
    ));
    let signed: reqwest::StatusCode = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada@contoso.onmicrosoft.com"),
            ("password", "Own-Choice-123x"),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(signed, 200, "the password from stdin signs in");
    // remove: refused without a terminal and --yes (exit 2), done with --yes; restore.
    let out = roster(
        c,
        &["customer-user", "remove", "ada@contoso.onmicrosoft.com"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    ok(&roster(
        c,
        &[
            "customer-user",
            "remove",
            "ada@contoso.onmicrosoft.com",
            "--yes",
        ],
        "",
    ));
    let deleted = json(&roster(
        c,
        &["customer-user", "list", "--deleted", "-o", "json"],
        "",
    ));
    assert_eq!(deleted.as_array().unwrap().len(), 1);
    let restored = json(&roster(
        c,
        &[
            "customer-user",
            "restore",
            "ada@contoso.onmicrosoft.com",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(restored["state"], "active");

    // Seats, licences and directory roles.
    const E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
    let r = reqwest::Client::new()
        .put(format!("{base}/v1/customers/{cid}/subscribedskus/{E3}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"totalUnits": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seats = json(&roster(
        c,
        &["customer", "license", "list", "-o", "json"],
        "",
    ));
    assert_eq!(
        seats,
        rest(
            &base,
            &token,
            &format!("/v1/customers/{cid}/subscribedskus")
        )
        .await["items"]
    );
    let held = json(&roster(
        c,
        &[
            "customer-user",
            "license",
            "set",
            "ada@contoso.onmicrosoft.com",
            "--add",
            E3,
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(held.as_array().unwrap().len(), 1);
    let table = ok(&roster(
        c,
        &["customer", "license", "list", "-o", "table"],
        "",
    ));
    assert!(table.contains("Microsoft 365 E3"), "{table}");
    let got = json(&roster(
        c,
        &[
            "customer-user",
            "license",
            "get",
            "ada@contoso.onmicrosoft.com",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(got[0]["productSku"]["id"], E3);
    let out = roster(
        c,
        &[
            "customer-user",
            "license",
            "set",
            "ada@contoso.onmicrosoft.com",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "nothing to change");
    let roles = json(&roster(c, &["directory-role", "list", "-o", "json"], ""));
    assert_eq!(roles.as_array().unwrap().len(), 12);
    ok(&roster(
        c,
        &[
            "directory-role",
            "add-member",
            "User Administrator",
            "ada@contoso.onmicrosoft.com",
        ],
        "",
    ));
    let members = json(&roster(
        c,
        &[
            "directory-role",
            "members",
            "User Administrator",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(
        members[0]["userPrincipalName"],
        "ada@contoso.onmicrosoft.com"
    );
    let theirs = json(&roster(
        c,
        &[
            "customer-user",
            "role",
            "list",
            "ada@contoso.onmicrosoft.com",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(theirs[0]["name"], "User Administrator");
    ok(&roster(
        c,
        &[
            "directory-role",
            "remove-member",
            "User Administrator",
            "ada@contoso.onmicrosoft.com",
            "--yes",
        ],
        "",
    ));
    let members = json(&roster(
        c,
        &[
            "directory-role",
            "members",
            "User Administrator",
            "-o",
            "json",
        ],
        "",
    ));
    assert!(members.as_array().unwrap().is_empty());

    // Exit codes: 4 not found, 5 conflict, 6 invalid input with every problem.
    let out = roster(
        c,
        &["customer-user", "get", "nobody@contoso.onmicrosoft.com"],
        "",
    );
    assert_eq!(out.status.code(), Some(4));
    let out = roster(
        c,
        &[
            "customer-user",
            "new",
            "--upn",
            "ada@contoso.onmicrosoft.com",
            "--display-name",
            "Again",
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = roster(
        c,
        &[
            "customer-user",
            "new",
            "--upn",
            "no-at-sign",
            "--display-name",
            "X",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("code 3000") && err.contains("- userPrincipalName"),
        "{err}"
    );
    assert!(!err.contains("Error {"), "no debug dump: {err}");
    let out = roster(
        c,
        &["customer-user", "list", "--customer", "nowhere.example"],
        "",
    );
    assert_eq!(out.status.code(), Some(4));
    let out = roster(c, &["customer", "frobnicate"], "");
    assert_eq!(out.status.code(), Some(2));

    // ROSTER_URL and ROSTER_TOKEN work without a login.
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["customer", "list", "-o", "json"])
        .env("ROSTER_CONFIG_DIR", tempfile::tempdir().unwrap().path())
        .env("ROSTER_URL", &base)
        .env("ROSTER_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(json(&out).as_array().unwrap().len(), 1);

    // The partner's own account: its users, a user's history, the audit log.
    let users = json(&roster(c, &["partner-user", "list", "-o", "json"], ""));
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["userPrincipalName"] == "admin@partner.local"));
    let table = ok(&roster(c, &["partner-user", "list", "-o", "table"], ""));
    assert!(table.contains("Global admin"), "{table}");
    let admin = json(&roster(
        c,
        &["partner-user", "get", "admin@partner.local", "-o", "json"],
        "",
    ));
    let history = json(&roster(
        c,
        &[
            "partner-user",
            "history",
            "admin@partner.local",
            "-o",
            "json",
        ],
        "",
    ));
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["path"] == format!("/v1/customers/{cid}/users")),
        "{history}"
    );
    assert_eq!(admin["userPrincipalName"], "admin@partner.local");
    let records = json(&roster(
        c,
        &["audit", "list", "--from", "2026-01-01", "-o", "json"],
        "",
    ));
    let ops: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["operationType"].as_str())
        .collect();
    for op in [
        "create_customer",
        "create_customer_user",
        "delete_customer_user",
        "restore_customer_user",
    ] {
        assert!(ops.contains(&op), "{op} missing: {ops:?}");
    }
    let out = roster(c, &["audit", "list", "--from", "not-a-date"], "");
    assert_eq!(out.status.code(), Some(6));

    // Completions for the shells.
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = ok(&roster(c, &["completions", shell], ""));
        assert!(script.contains("customer-user"), "{shell}");
    }

    // logout forgets the login.
    ok(&roster(c, &["logout"], ""));
    assert_eq!(roster(c, &["whoami"], "").status.code(), Some(3));
    drop(server);
}

/// `roster login` on a terminal asks for the password without echoing it: run in a
/// pseudo-terminal (util-linux `script`), the password typed after the prompt never shows.
#[test]
fn the_password_prompt_does_not_echo() {
    use std::io::Read;
    if !Path::new("/usr/bin/script").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs util-linux's script"
        );
        eprintln!("SKIPPED: no /usr/bin/script");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = server::start(data.path(), Some(PASSWORD)).expect("roster serve");
    let config = tempfile::tempdir().unwrap();
    let command = format!(
        "{} login --url {} --username admin@partner.local",
        env!("CARGO_BIN_EXE_roster"),
        server.base
    );
    let mut child = Command::new("/usr/bin/script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("ROSTER_CONFIG_DIR", config.path())
        .env_remove("ROSTER_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Wait for the prompt, then type as a person would.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen).contains("Password:") {
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt: {}",
            String::from_utf8_lossy(&seen)
        );
        if stdout.read(&mut byte).unwrap() == 0 {
            break;
        }
        seen.push(byte[0]);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("Signed in to"), "{rest}");
    assert!(!rest.contains(PASSWORD), "the password was echoed: {rest}");
    assert!(config.path().join("logins.json").exists());
    drop(server);
}
