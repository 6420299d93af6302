//! The `roster` client commands, run as the built binary against a started `roster serve`:
//! login, customers and their users in table and JSON form (JSON compared with the REST
//! answer), the saved login's file, exit codes by class.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use cli::{admin_token, json, ok, rest, roster, sign_in_error, PASSWORD};

use serde_json::Value;

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
    let token = admin_token(&base).await;
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

/// The text after `label` on the line that has it.
fn after(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.split_once(label).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_own_account_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let server = server::start(data.path(), Some(PASSWORD)).expect("roster serve");
    let base = server.base.clone();
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    let admin = "admin@partner.local";
    ok(&roster(
        c,
        &[
            "login",
            "--url",
            &base,
            "--username",
            admin,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
    let token = admin_token(&base).await;
    let post = |path: &str, body: Value| {
        let url = format!("{base}{path}");
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };

    // partner-user new: the temporary password once, and it is the user's.
    let out = ok(&roster(
        c,
        &[
            "partner-user",
            "new",
            "--upn",
            "una@partner.local",
            "--first-name",
            "Una",
            "--last-name",
            "Agent",
            "--role",
            "Admin agent",
            "-o",
            "table",
        ],
        "",
    ));
    let first = after(&out, "Temporary password (shown once):");
    let sign_in = |password: String| {
        let base = base.clone();
        async move { sign_in_error(&base, "una@partner.local", &password).await }
    };
    assert_eq!(sign_in(first.clone()).await, "password_change_required");
    let una = json(&roster(
        c,
        &["partner-user", "get", "una@partner.local", "-o", "json"],
        "",
    ));
    let id = una["id"].as_str().unwrap().to_string();
    assert_eq!(una, rest(&base, &token, &format!("/v1/users/{id}")).await);
    assert!(una.get("passwordProfile").is_none(), "shown once only");
    // set: names and roles (--role replaces them).
    let set = json(&roster(
        c,
        &[
            "partner-user",
            "set",
            "una@partner.local",
            "--display-name",
            "Una the Agent",
            "--role",
            "Helpdesk agent",
            "--role",
            "Sales agent",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(set["displayName"], "Una the Agent");
    assert_eq!(
        set["roles"],
        serde_json::json!(["Helpdesk agent", "Sales agent"])
    );
    // reset-password: a new temporary password, shown once; the old one stops working.
    let out = ok(&roster(
        c,
        &["partner-user", "reset-password", &id, "-o", "table"],
        "",
    ));
    let second = after(&out, "Temporary password (shown once):");
    assert_ne!(first, second);
    assert_eq!(sign_in(second).await, "password_change_required");
    assert_eq!(sign_in(first).await, "invalid_grant");
    // history and remove (asks; --yes without a terminal).
    let out = roster(c, &["partner-user", "remove", "una@partner.local"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = ok(&roster(
        c,
        &[
            "partner-user",
            "remove",
            "una@partner.local",
            "--yes",
            "-o",
            "table",
        ],
        "",
    ));
    assert!(out.contains("Removed the access of Una the Agent"), "{out}");
    let users = json(&roster(c, &["partner-user", "list", "-o", "json"], ""));
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id.as_str()),
        "{users}"
    );

    // invite, invitation list / resend / delete.
    let sent = json(&roster(
        c,
        &[
            "invite",
            "ann@outside.example; bob@outside.example",
            "--role",
            "Helpdesk agent",
            "-o",
            "json",
        ],
        "",
    ));
    assert_eq!(sent.as_array().unwrap().len(), 2, "{sent}");
    let listed = json(&roster(c, &["invitation", "list", "-o", "json"], ""));
    assert_eq!(
        listed,
        rest(&base, &token, "/v1/invitations").await["items"],
        "the wire JSON"
    );
    let table = ok(&roster(c, &["invitation", "list", "-o", "table"], ""));
    assert!(
        table.contains("ann@outside.example") && table.contains("pending"),
        "{table}"
    );
    let resent = json(&roster(
        c,
        &["invitation", "resend", "ann@outside.example", "-o", "json"],
        "",
    ));
    assert_eq!(resent["status"], "pending");
    assert_ne!(resent["sentAt"], Value::Null);
    let out = roster(c, &["invitation", "delete", "bob@outside.example"], "");
    assert_eq!(out.status.code(), Some(2), "asks first");
    ok(&roster(
        c,
        &["invitation", "delete", "bob@outside.example", "--yes"],
        "",
    ));
    let after_delete = rest(&base, &token, "/v1/invitations").await;
    assert!(
        !after_delete["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["email"] == "bob@outside.example" && i["status"] == "pending"),
        "{after_delete}"
    );
    let out = roster(c, &["invitation", "resend", "nobody@outside.example"], "");
    assert_eq!(out.status.code(), Some(4));

    // relationship new / approve / assign / get / list / terminate, roles by name.
    ok(&roster(
        c,
        &[
            "customer",
            "new",
            "--domain",
            "rel.onmicrosoft.com",
            "--name",
            "Rel",
        ],
        "",
    ));
    let rel = |args: &[&str]| {
        let mut all = vec!["relationship", args[0], "--customer", "rel.onmicrosoft.com"];
        all.extend_from_slice(&args[1..]);
        all.extend_from_slice(&["-o", "json"]);
        json(&roster(c, &all, ""))
    };
    let made = rel(&[
        "new",
        "--name",
        "Support",
        "--duration",
        "P90D",
        "--role",
        "User Administrator",
    ]);
    assert_eq!(made["displayName"], "Support");
    assert_eq!(made["roles"][0]["displayName"], "User Administrator");
    let approved = rel(&["approve", "Support"]);
    assert_eq!(approved["status"], "active", "{approved}");
    let group = post(
        "/v1/groups",
        serde_json::json!({"displayName": "Helpers", "roles": ["Admin agent"]}),
    )
    .await;
    assert!(group["id"].is_string(), "{group}");
    let assigned = rel(&[
        "assign",
        "Support",
        "--group",
        "Helpers",
        "--role",
        "User Administrator",
    ]);
    assert_eq!(assigned["groupId"], group["id"]);
    let cid = made["customerId"].as_str().unwrap();
    let rid = made["id"].as_str().unwrap();
    assert_eq!(
        rel(&["get", rid]),
        rest(
            &base,
            &token,
            &format!("/v1/customers/{cid}/delegatedadminrelationships/{rid}")
        )
        .await
    );
    let table = ok(&roster(
        c,
        &[
            "relationship",
            "list",
            "--customer",
            "rel.onmicrosoft.com",
            "-o",
            "table",
        ],
        "",
    ));
    assert!(
        table.contains("Support") && table.contains("User Administrator"),
        "{table}"
    );
    let ended = rel(&["terminate", "Support", "--yes"]);
    assert_eq!(ended["status"], "terminated", "{ended}");

    // An application alone: customers, never their users; its secret is not kept.
    let registered = post(
        "/v1/applications",
        serde_json::json!({"displayName": "A script"}),
    )
    .await;
    let client_id = registered["clientId"].as_str().unwrap();
    let secret = registered["clientSecret"].as_str().unwrap();
    let as_app = tempfile::tempdir().unwrap();
    let a = as_app.path();
    let out = ok(&roster(
        a,
        &[
            "login",
            "--url",
            &base,
            "--client-id",
            client_id,
            "--client-secret-stdin",
        ],
        &format!("{secret}\n"),
    ));
    assert!(
        out.contains(&format!("the application {client_id}")),
        "{out}"
    );
    assert!(!std::fs::read_to_string(a.join("logins.json"))
        .unwrap()
        .contains(secret));
    let me = json(&roster(a, &["whoami", "-o", "json"], ""));
    assert_eq!(me["application"], client_id);
    let customers = json(&roster(a, &["customer", "list", "-o", "json"], ""));
    assert_eq!(customers.as_array().unwrap().len(), 1);
    let out = roster(
        a,
        &["customer-user", "list", "--customer", "rel.onmicrosoft.com"],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "App-only never reaches users");
    let out = roster(
        a,
        &[
            "login",
            "--url",
            &base,
            "--client-id",
            client_id,
            "--client-secret-stdin",
        ],
        "not-the-secret\n",
    );
    assert_eq!(out.status.code(), Some(3));

    // A user through a public client (App+User).
    let public = post(
        "/v1/applications",
        serde_json::json!({"displayName": "Roster CLI", "publicClient": true}),
    )
    .await;
    let through = tempfile::tempdir().unwrap();
    let t = through.path();
    ok(&roster(
        t,
        &[
            "login",
            "--url",
            &base,
            "--username",
            admin,
            "--client-id",
            public["clientId"].as_str().unwrap(),
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
    let users = json(&roster(
        t,
        &[
            "customer-user",
            "list",
            "--customer",
            "rel.onmicrosoft.com",
            "-o",
            "json",
        ],
        "",
    ));
    assert!(users.is_array(), "{users}");
    // Neither a user nor an application: a usage error.
    let out = roster(t, &["login", "--url", &base], "");
    assert_eq!(out.status.code(), Some(2));
    drop(server);
}
