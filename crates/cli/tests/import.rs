//! `roster customer-user import`, the built binary against a started `roster serve` on both
//! backends: 250 rows in three uploads with progress and a result file of mode 0600 whose
//! every password signs in; a file with problems (row 180's domain, found by the server, and
//! a duplicate across uploads, found locally) that creates no one; an upload that fails in
//! the middle, and `--resume`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "../../server/tests/api/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/server.rs"]
mod server;

use std::path::Path;
use std::process::Output;

use cli::{admin_token, ok, roster, sign_in_error, PASSWORD};

use serde_json::Value;

const ADMIN: &str = "admin@partner.local";

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn login(config: &Path, url: &str) {
    ok(&roster(
        config,
        &[
            "login",
            "--url",
            url,
            "--username",
            ADMIN,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
}

/// A file of `n` users of `domain`, with `change` applied to each row's fields.
fn users_csv(n: usize, domain: &str, change: impl Fn(usize, &mut [String; 4])) -> String {
    let mut s = String::from("First name,Last name,Display name,Email,Status update\r\n");
    for i in 0..n {
        let row = i + 2;
        let mut f = [
            format!("First{row}"),
            format!("Last{row}"),
            format!("User {row}"),
            format!("user{row}@{domain}"),
        ];
        change(row, &mut f);
        s.push_str(&format!("{},\r\n", f.join(",")));
    }
    s
}

/// The result file: its lines, each `[first, last, display, email, status, password]`.
fn result_rows(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark first"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next().unwrap(),
        "First name,Last name,Display name,Email,Status update,Temporary password"
    );
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn active_users(base: &str, token: &str, customer: &str) -> usize {
    let page: Value = reqwest::Client::new()
        .get(format!("{base}/v1/customers/{customer}/users?size=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let more = page["continuationToken"].as_str().unwrap_or_default();
    assert!(more.is_empty(), "one page: {page}");
    page["items"].as_array().unwrap().len()
}

/// A temporary password is right when signing in with it asks for a new one.
async fn signs_in(base: &str, upn: &str, password: &str) -> bool {
    sign_in_error(base, upn, password).await == "password_change_required"
}

async fn import_on(database: Option<String>) {
    let data = tempfile::tempdir().unwrap();
    // Every one of the 250 passwords signs in from 127.0.0.1, far more than a minute's rate
    // of sign-ins from one address allows.
    let mut flags: Vec<&str> = vec!["--sign-in-per-minute-per-address", "0"];
    if let Some(url) = &database {
        flags.extend(["--database-url", url]);
    }
    let server = server::start_with(data.path(), Some(PASSWORD), &flags).expect("roster serve");
    let base = server.base.clone();
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    login(c, &base);
    let token = admin_token(&base).await;
    let mut customers = Vec::new();
    for domain in ["import.onmicrosoft.com", "resume.onmicrosoft.com"] {
        let out = ok(&roster(
            c,
            &[
                "customer", "new", "--domain", domain, "--name", domain, "-o", "json",
            ],
            "",
        ));
        let v: Value = serde_json::from_str(&out).unwrap();
        customers.push(v["id"].as_str().unwrap().to_string());
    }
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("users.csv");
    let out = work.path().join("created.csv");
    let import = |customer: &str, extra: &[&str]| {
        let mut args = vec![
            "customer-user",
            "import",
            file.to_str().unwrap(),
            "--customer",
            customer,
            "--usage-location",
            "US",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let run = |config: &Path, args: &[String]| {
        roster(
            config,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            "",
        )
    };

    // Row 180 on a domain the customer does not have (the server's check, in the second
    // upload's part), and row 240 repeating row 3 (two uploads apart): nobody is created.
    std::fs::write(
        &file,
        users_csv(250, "import.onmicrosoft.com", |row, f| match row {
            180 => f[3] = "user180@not-theirs.example".into(),
            240 => f[3] = "USER3@import.onmicrosoft.com".into(),
            _ => {}
        }),
    )
    .unwrap();
    let refused = run(c, &import("import.onmicrosoft.com", &[]));
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(6), "{said}");
    assert!(
        said.contains("2 problems, so no user was created"),
        "{said}"
    );
    assert!(said.contains("row 180, Email: "), "{said}");
    assert!(said.contains("not-theirs.example"), "{said}");
    assert!(
        said.contains("row 240, Email: 'USER3@import.onmicrosoft.com' is in row 3 already"),
        "{said}"
    );
    assert!(!out.exists(), "no result file");
    assert_eq!(active_users(&base, &token, &customers[0]).await, 0);

    // A result file that cannot be written stops the run before anyone is created.
    std::fs::write(&file, users_csv(250, "import.onmicrosoft.com", |_, _| {})).unwrap();
    let mut nowhere = import("import.onmicrosoft.com", &[]);
    let at = nowhere.iter().position(|a| a == "--out").unwrap() + 1;
    nowhere[at] = work.path().join("no/such/folder.csv").display().to_string();
    let stopped = run(c, &nowhere);
    assert_eq!(stopped.status.code(), Some(2), "{}", text(&stopped));
    assert!(
        text(&stopped).contains("cannot write"),
        "{}",
        text(&stopped)
    );
    assert_eq!(active_users(&base, &token, &customers[0]).await, 0);

    // The file fixed: three uploads, a progress line after each, every password right.
    let done = run(c, &import("import.onmicrosoft.com", &["-o", "table"]));
    let said = text(&done);
    assert!(done.status.success(), "{said}");
    for line in [
        "100 of 250 users created",
        "200 of 250 users created",
        "250 of 250 users created",
        "Created 250 users in 3 uploads. Their temporary passwords are in ",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    let rows = result_rows(&out);
    assert_eq!(rows.len(), 250);
    for (i, r) in rows.iter().enumerate() {
        let row = i + 2;
        assert_eq!(
            r[..5],
            [
                format!("First{row}"),
                format!("Last{row}"),
                format!("User {row}"),
                format!("user{row}@import.onmicrosoft.com"),
                "Created".to_string()
            ]
        );
        assert!(signs_in(&base, &r[3], &r[5]).await, "row {row}: {r:?}");
    }
    assert_eq!(active_users(&base, &token, &customers[0]).await, 250);
    // An import never overwrites the passwords of an earlier one.
    let again = run(c, &import("import.onmicrosoft.com", &[]));
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("--resume"));
    std::fs::remove_file(&out).unwrap();

    // The second upload fails (the server unavailable past the SDK's retries): the first
    // upload's users stay, in the result file; --resume imports the rest, once each.
    std::fs::write(&file, users_csv(250, "resume.onmicrosoft.com", |_, _| {})).unwrap();
    let mut faults = vec![fault_proxy::Fault::Forward];
    faults.extend([fault_proxy::Fault::Status("503 Service Unavailable"); 10]);
    let (proxy, _) =
        fault_proxy::proxy(base.clone(), faults, "bulkupload?usageLocation=US HTTP").await;
    let through_proxy = tempfile::tempdir().unwrap();
    login(through_proxy.path(), &proxy);
    let failed = run(through_proxy.path(), &import("resume.onmicrosoft.com", &[]));
    let said = text(&failed);
    assert_eq!(failed.status.code(), Some(1), "{said}");
    assert!(
        said.contains("upload 2 of 3 (rows 102 to 201) failed, and created no one"),
        "{said}"
    );
    assert!(
        said.contains("The 100 users before it were created"),
        "{said}"
    );
    assert!(said.contains("--resume"), "{said}");
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    let first_run = result_rows(&out);
    assert_eq!(first_run.len(), 100);
    assert_eq!(active_users(&base, &token, &customers[1]).await, 100);

    let resumed = run(c, &import("resume.onmicrosoft.com", &["--resume"]));
    let said = text(&resumed);
    assert!(resumed.status.success(), "{said}");
    assert!(
        said.contains("100 users of the file were created by the earlier run"),
        "{said}"
    );
    assert!(said.contains("150 of 150 users created"), "{said}");
    let summary: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(
        (
            &summary["created"],
            &summary["leftOut"],
            &summary["uploads"]
        ),
        (&Value::from(150), &Value::from(100), &Value::from(2))
    );
    let rows = result_rows(&out);
    assert_eq!(rows.len(), 250);
    assert_eq!(
        rows[..100],
        first_run[..],
        "the earlier lines kept as they were"
    );
    let emails: Vec<String> = rows.iter().map(|r| r[3].clone()).collect();
    let expected: Vec<String> = (2..252)
        .map(|row| format!("user{row}@resume.onmicrosoft.com"))
        .collect();
    assert_eq!(emails, expected);
    for r in [&rows[0], &rows[100], &rows[249]] {
        assert!(signs_in(&base, &r[3], &r[5]).await, "{r:?}");
    }
    assert_eq!(active_users(&base, &token, &customers[1]).await, 250);
    // Resumed once more, there is nothing left to do.
    let nothing = run(
        c,
        &import("resume.onmicrosoft.com", &["--resume", "-o", "table"]),
    );
    assert!(
        ok(&nothing).contains("Nothing to import: the file's 250 users are in "),
        "{}",
        text(&nothing)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_sqlite() {
    import_on(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_postgres() {
    let Some(admin) = roster_store::testing::postgres_for_tests() else {
        return;
    };
    let url = roster_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    import_on(Some(url)).await;
}
