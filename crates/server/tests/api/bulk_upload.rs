//! Bulk upload of customer users from a CSV file: the format, every rule with its row and
//! column, all or nothing, concurrency, replays, rights, and the result file.

use reqwest::{Method, StatusCode};
use roster_domain::authz::DirectoryRole;
use serde_json::{json, Value};

use crate::common::*;

const HEADER: &str = "First name,Last name,Display name,Email,Status update";
const DOMAIN: &str = "contoso.onmicrosoft.com";

fn path(cid: &str) -> String {
    format!("/v1/customers/{cid}/users/bulkupload")
}

/// A file of `rows` under the header, LF line ends.
fn file(rows: &[String]) -> String {
    std::iter::once(HEADER.to_string())
        .chain(rows.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn users(n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("First{i},Last{i},User {prefix} {i},{prefix}{i}@{DOMAIN},"))
        .collect()
}

struct Upload {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Upload {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    /// The result file's rows after its header (which it checks).
    fn rows(&self) -> Vec<Vec<String>> {
        let text = self.text.trim_start_matches('\u{feff}');
        let delimiter = if text.lines().next().unwrap().contains(';') {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            header,
            [
                "First name",
                "Last name",
                "Display name",
                "Email",
                "Status update",
                "Temporary password"
            ]
        );
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }
}

async fn upload_as(
    app: &TestApp,
    token: &str,
    cid: &str,
    query: &str,
    body: impl Into<Vec<u8>>,
    headers: &[(&str, &str)],
) -> Upload {
    let mut r = app
        .client
        .post(app.url(&format!("{}{query}", path(cid))))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(body.into());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let r = r.send().await.unwrap();
    Upload {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn upload(app: &TestApp, cid: &str, body: impl Into<Vec<u8>>) -> Upload {
    upload_as(app, &app.token, cid, "?usageLocation=GB", body, &[]).await
}

async fn active_count(app: &TestApp, cid: &str) -> usize {
    let (s, page) = app
        .get(&format!("/v1/customers/{cid}/users?size=500"))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().len()
}

/// The problems of a refused upload, as (row, column, message).
fn problems(u: &Upload) -> Vec<(Value, Value, String)> {
    assert_eq!(u.status, StatusCode::BAD_REQUEST, "{}", u.text);
    let body = u.json();
    assert_eq!(body["code"], 3000, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row"].clone(),
                p["column"].clone(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn creates_every_user_and_answers_the_result_file() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let before = app.audit_count().await;
    // A byte-order mark, CRLF, a display name with a comma and a quote, names in other case.
    let body = format!(
        "\u{feff}first name,LAST NAME, Display Name ,email,Status update\r\n\
         Ada,Lovelace,\"Lovelace, Ada \"\"Countess\"\"\",ada@{DOMAIN},\r\n\
         ,,Bob,BOB@{DOMAIN},\r\n\
         Grace,Hopper,Grace Hopper,grace@{DOMAIN},\r\n\r\n"
    );
    let u = upload(&app, &cid, body).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    assert_eq!(u.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(u.headers["cache-control"], "no-store");
    assert!(u.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename="));
    let rows = u.rows();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        &rows[0][..5],
        [
            "Ada",
            "Lovelace",
            "Lovelace, Ada \"Countess\"",
            &format!("ada@{DOMAIN}"),
            "Created"
        ]
    );
    assert_eq!(rows[1][3], format!("BOB@{DOMAIN}"));
    assert!(rows.iter().all(|r| r[5].len() == 16), "{rows:?}");
    // The users are there, in the usage location given, with a password to change.
    assert_eq!(active_count(&app, &cid).await, 3);
    let (_, page) = app.get(&format!("/v1/customers/{cid}/users")).await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["usageLocation"] == "GB"),
        "{page}"
    );
    let (s, e) = app
        .sign_in(&format!("ada@{DOMAIN}"), &rows[0][5])
        .await
        .unwrap_err();
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password_change_required"))
    );
    let r = app
        .client
        .post(app.url("/v1/passwordchange"))
        .json(&json!({"userPrincipalName": format!("ada@{DOMAIN}"), "currentPassword": rows[0][5], "newPassword": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(app
        .sign_in(&format!("ada@{DOMAIN}"), GOOD_PASSWORD)
        .await
        .is_ok());
    // One record a user and one for the upload; no password in either.
    let ops = app.audit_operations().await;
    assert_eq!(app.audit_count().await, before + 4 + 1, "{ops:?}");
    assert_eq!(
        ops.iter()
            .filter(|o| *o == "bulk_upload_customer_users")
            .count(),
        1
    );
    let stored = app.stored_bytes().await;
    for r in &rows {
        assert!(
            !contains_bytes(&stored, &r[5]),
            "a temporary password is stored"
        );
    }
}
on_both_backends!(creates_every_user_and_answers_the_result_file);

async fn semicolons_json_and_the_template() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let body = format!(
        "{}\nAda;L;\"A; L\";ada@{DOMAIN};\n",
        HEADER.replace(',', ";")
    );
    let u = upload(&app, &cid, body).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    assert!(u.text.contains("Temporary password;") || u.text.contains(";Temporary password"));
    assert_eq!(u.rows()[0][2], "A; L");
    // JSON for the SDK: the created users as a single create answers each.
    let u = upload_as(
        &app,
        &app.token,
        &cid,
        "?usageLocation=us",
        file(&users(2, "j")),
        &[("Accept", "application/json")],
    )
    .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let body = u.json();
    assert_eq!(body["totalCount"], 2);
    let first = &body["items"][0];
    assert_eq!(first["usageLocation"], "US");
    assert_eq!(first["passwordProfile"]["forceChangePassword"], true);
    assert_eq!(
        first["passwordProfile"]["password"].as_str().unwrap().len(),
        16
    );
    assert_eq!(first["attributes"]["objectType"], "CustomerUser");
    let r = app
        .req(Method::GET, &format!("{}/template", path(&cid)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), format!("\u{feff}{HEADER}\r\n"));
}
on_both_backends!(semicolons_json_and_the_template);

async fn every_problem_with_its_row_and_column_and_nothing_created() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    app.customer("fabrikam.onmicrosoft.com").await;
    app.user(&cid, &format!("taken@{DOMAIN}"), "Taken").await;
    let gone = app.user(&cid, &format!("gone@{DOMAIN}"), "Gone").await;
    let (s, _) = app
        .delete(&format!(
            "/v1/customers/{cid}/users/{}",
            gone["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let before = (active_count(&app, &cid).await, app.audit_count().await);
    let long = "x".repeat(51);
    let u = upload(
        &app,
        &cid,
        file(&[
            format!("{long},L,Name,a@{DOMAIN},"),
            format!("F,L,,b@{DOMAIN},"),
            "F,L,Name,not an address,".to_string(),
            "F,L,Name,c@fabrikam.onmicrosoft.com,".to_string(),
            format!("F,L,Name,TAKEN@{DOMAIN},"),
            format!("F,L,Name,a@{},", DOMAIN.to_uppercase()),
            format!("F,L,Name,d@{DOMAIN},done"),
            "F,L,Name".to_string(),
            format!("F,L,Name,gone@{DOMAIN},"),
        ]),
    )
    .await;
    let got = problems(&u);
    let at = |row: u64, column: &str| {
        got.iter()
            .find(|(r, c, _)| *r == json!(row) && *c == json!(column))
            .unwrap_or_else(|| panic!("row {row} {column} in {got:?}"))
            .2
            .clone()
    };
    assert!(at(2, "First name").contains("at most 50"));
    assert!(at(3, "Display name").contains("is required"));
    assert!(at(4, "Email").contains("alias@domain"));
    assert!(at(5, "Email").contains("not a domain of this customer"));
    assert!(at(6, "Email").contains("active user of this customer already"));
    assert!(at(7, "Email").contains("row 2 already"));
    assert!(at(8, "Status update").contains("must be empty"));
    assert!(got
        .iter()
        .any(|(r, c, m)| *r == json!(9) && c.is_null() && m.contains("has 3 fields")));
    // A soft-deleted user's address is free: row 10 has no problem.
    assert!(!got.iter().any(|(r, _, _)| *r == json!(10)), "{got:?}");
    assert_eq!(got.len(), 8, "{got:?}");
    assert!(u.json()["description"]
        .as_str()
        .unwrap()
        .contains("nothing was created"));
    assert_eq!(
        (active_count(&app, &cid).await, app.audit_count().await),
        before
    );
    // The usage location, the header, the encoding and the size are problems too.
    for (query, body, expect) in [
        ("", file(&users(1, "q")), "usageLocation is required"),
        ("?usageLocation=XX", file(&users(1, "q")), "usageLocation"),
        (
            "?usageLocation=GB",
            "First name,Surname,Display name,Email,Status update\nA,B,C,d@contoso.onmicrosoft.com,"
                .to_string(),
            "'Surname'",
        ),
        ("?usageLocation=GB", String::new(), "empty"),
        ("?usageLocation=GB", HEADER.to_string(), "no users"),
    ] {
        let u = upload_as(&app, &app.token, &cid, query, body, &[]).await;
        let got = problems(&u);
        assert!(
            got.iter().any(|(_, _, m)| m.contains(expect)),
            "{query}: {got:?}"
        );
    }
    let latin1 = format!("{HEADER}\nRen\u{e9},D,Ren\u{e9} D,r@{DOMAIN},")
        .chars()
        .map(|c| c as u8)
        .collect::<Vec<u8>>();
    let got = problems(&upload(&app, &cid, latin1).await);
    assert!(got[0].2.contains("CSV UTF-8"), "{got:?}");
    assert_eq!(
        (active_count(&app, &cid).await, app.audit_count().await),
        before
    );
}
on_both_backends!(every_problem_with_its_row_and_column_and_nothing_created);

async fn a_hundred_rows_go_in_and_a_hundred_and_one_do_not() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let got = problems(&upload(&app, &cid, file(&users(101, "m"))).await);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].0.is_null() && got[0].2.contains("101 users"));
    // Only row 101 (the hundredth user) is bad: nothing is created.
    let mut rows = users(100, "n");
    rows[99] = "F,L,,bad@contoso.onmicrosoft.com,".into();
    let got = problems(&upload(&app, &cid, file(&rows)).await);
    assert_eq!(
        got,
        vec![(json!(101), json!("Display name"), got[0].2.clone())]
    );
    assert_eq!(active_count(&app, &cid).await, 0);
    let u = upload(&app, &cid, file(&users(100, "n"))).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    assert_eq!(u.rows().len(), 100);
    assert_eq!(active_count(&app, &cid).await, 100);
    // More than 1 MiB is refused before it is read.
    let big = format!("{HEADER}\n{}", "x".repeat(1024 * 1024));
    let u = upload(&app, &cid, big).await;
    assert_eq!(u.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(u.json()["code"], 800004);
}
on_both_backends!(a_hundred_rows_go_in_and_a_hundred_and_one_do_not);

async fn validate_only_checks_as_an_upload_would_and_creates_no_one() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let check = |body: String, query: &'static str| {
        let app = &app;
        let cid = cid.clone();
        async move { upload_as(app, &app.token, &cid, query, body, &[]).await }
    };
    let good = file(&users(3, "v"));
    let u = check(good.clone(), "?usageLocation=GB&validateOnly=true").await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.text);
    assert_eq!(u.json(), json!({"rows": 3}));
    assert_eq!(active_count(&app, &cid).await, 0);
    // The same problems an upload answers, the active users' addresses among them.
    let created = upload(&app, &cid, file(&users(1, "v"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let mut rows = users(3, "v");
    rows[2] = "F,L,Elsewhere,c@fabrikam.example,".into();
    let u = check(file(&rows), "?usageLocation=GB&validateOnly=TRUE").await;
    let got = problems(&u);
    assert_eq!(
        got.iter().map(|p| (&p.0, &p.1)).collect::<Vec<_>>(),
        [(&json!(2), &json!("Email")), (&json!(4), &json!("Email"))],
        "{got:?}"
    );
    assert!(got[0].2.contains("active user"), "{got:?}");
    assert_eq!(active_count(&app, &cid).await, 1);
    // validateOnly=false uploads; anything but true or false is refused.
    let u = check(file(&users(2, "w")), "?usageLocation=GB&validateOnly=false").await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    for query in [
        "?usageLocation=GB&validateOnly=yes",
        "?usageLocation=GB&validateOnly=",
    ] {
        let u = check(good.clone(), query).await;
        assert_eq!(u.status, StatusCode::BAD_REQUEST, "{}", u.text);
        assert!(u.json()["description"]
            .as_str()
            .unwrap()
            .contains("validateOnly"));
    }
    assert_eq!(active_count(&app, &cid).await, 3);
}
on_both_backends!(validate_only_checks_as_an_upload_would_and_creates_no_one);

async fn two_uploads_with_one_address_in_common_one_wins_whole() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let mut a = users(20, "a");
    let mut b = users(20, "b");
    a.push(format!("S,S,Shared,shared@{DOMAIN},"));
    b.insert(0, format!("S,S,Shared,shared@{DOMAIN},"));
    let request = |rows: &[String]| {
        app.client
            .post(app.url(&format!("{}?usageLocation=GB", path(&cid))))
            .bearer_auth(&app.token)
            .body(file(rows))
    };
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = [request(&a), request(&b)]
        .into_iter()
        .map(|r| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let r = r.send().await.unwrap();
                let status = r.status();
                let text = r.text().await.unwrap();
                (
                    status,
                    serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{answers:?}"
    );
    let loser = answers
        .iter()
        .find(|(s, _)| *s != StatusCode::CREATED)
        .unwrap();
    // Refused whole: at the check (the address is an active user's) or, when both passed
    // it together, in the transaction (taken meanwhile).
    match loser.0 {
        StatusCode::BAD_REQUEST => assert!(loser.1.to_string().contains("shared@"), "{loser:?}"),
        StatusCode::CONFLICT => {
            assert_eq!(loser.1["code"], 60004);
            assert_eq!(loser.1["data"], json!([format!("shared@{DOMAIN}")]));
        }
        other => panic!("{other}: {loser:?}"),
    }
    assert_eq!(active_count(&app, &cid).await, 21);
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    two_uploads_with_one_address_in_common_one_wins_whole
);

async fn a_replay_answers_the_same_rows_without_the_passwords() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = file(&users(3, "r"));
    let first = upload_as(
        &app,
        &app.token,
        &cid,
        "?usageLocation=GB",
        body.clone(),
        &[("MS-RequestId", &key)],
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.headers.get("roster-replay").is_none());
    let again = upload_as(
        &app,
        &app.token,
        &cid,
        "?usageLocation=GB",
        body,
        &[("MS-RequestId", &key)],
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.headers["roster-replay"], "secrets-withheld");
    assert_eq!(again.headers["content-type"], "text/csv; charset=utf-8");
    let (one, two) = (first.rows(), again.rows());
    assert_eq!(one.len(), two.len());
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a[..5], b[..5]);
        assert_eq!(b[5], "", "no password on a replay");
    }
    assert_eq!(active_count(&app, &cid).await, 3, "created once");
    let stored = app.stored_bytes().await;
    for r in &one {
        assert!(!contains_bytes(&stored, &r[5]));
    }
}
on_both_backends!(a_replay_answers_the_same_rows_without_the_passwords);

async fn who_may_upload() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let other = app.customer("fabrikam.onmicrosoft.com").await;
    let mut tokens = Vec::new();
    for (alias, role) in [
        ("reader", Some(DirectoryRole::DirectoryReaders)),
        ("helpdesk", Some(DirectoryRole::HelpdeskAdministrator)),
        ("writer", Some(DirectoryRole::DirectoryWriters)),
        ("admin", Some(DirectoryRole::UserAdministrator)),
    ] {
        let u = app.user(&cid, &format!("{alias}@{DOMAIN}"), alias).await;
        if let Some(role) = role {
            let (s, b) = app
                .post(
                    &format!(
                        "/v1/customers/{cid}/directoryroles/{}/usermembers",
                        role.id()
                    ),
                    json!({"id": u["id"]}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        tokens.push((
            alias,
            app.sign_in(&format!("{alias}@{DOMAIN}"), GOOD_PASSWORD)
                .await
                .unwrap(),
        ));
    }
    for (alias, token) in &tokens {
        let u = upload_as(
            &app,
            token,
            &cid,
            "?usageLocation=GB",
            file(&users(1, alias)),
            &[],
        )
        .await;
        if *alias == "admin" {
            assert_eq!(u.status, StatusCode::CREATED, "{alias}: {}", u.text);
        } else {
            assert_eq!(
                (u.status, u.json()["code"].clone()),
                (StatusCode::FORBIDDEN, json!(900150)),
                "{alias}: {}",
                u.text
            );
        }
    }
    // Another customer does not even exist for this tenant's users.
    let (_, admin) = &tokens[3];
    let u = upload_as(
        &app,
        admin,
        &other,
        "?usageLocation=GB",
        file(&users(1, "x")),
        &[],
    )
    .await;
    assert_eq!(
        (u.status, u.json()["code"].clone()),
        (StatusCode::NOT_FOUND, json!(60003))
    );
    // A partner Sales agent sees customers but may not act in them; an Admin agent may
    // (legacy delegated access: Global Administrator).
    member(&app, "sales", json!({"roles": ["Sales agent"]})).await;
    member(&app, "agent", json!({"roles": ["Admin agent"]})).await;
    let sales = as_member(&app, "sales").await;
    let agent = as_member(&app, "agent").await;
    let u = upload_as(
        &app,
        &sales,
        &cid,
        "?usageLocation=GB",
        file(&users(1, "s")),
        &[],
    )
    .await;
    assert_eq!(u.status, StatusCode::FORBIDDEN, "{}", u.text);
    let u = upload_as(
        &app,
        &agent,
        &cid,
        "?usageLocation=GB",
        file(&users(1, "g")),
        &[],
    )
    .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
}
on_both_backends!(who_may_upload);

/// The service door answers as the REST door does (the portal and the CLI call it).
async fn through_the_service() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let ctx = roster_service::Ctx {
        actor: app.roster.authenticate(&app.token).await.unwrap(),
        request_id: uuid::Uuid::new_v4().to_string(),
        correlation_id: uuid::Uuid::new_v4().to_string(),
    };
    let customer = cid.parse().unwrap();
    let done = app
        .roster
        .bulk_upload_customer_users(&ctx, customer, file(&users(2, "s")).as_bytes(), Some("gb"))
        .await
        .unwrap();
    assert_eq!(done.created.len(), 2);
    assert_eq!(done.created[0].row.row, 2);
    assert_eq!(done.created[1].user.upn.as_str(), format!("s1@{DOMAIN}"));
    assert!(done.created.iter().all(|c| c.user.force_change_password));
    let refused = app
        .roster
        .bulk_upload_customer_users(&ctx, customer, file(&users(2, "s")).as_bytes(), Some("GB"))
        .await
        .unwrap_err();
    let roster_service::ServiceError::BulkRefused(problems) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        problems.iter().map(|p| p.row).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );
}
on_both_backends!(through_the_service);

/// The example file docs/BULK_UPLOAD.md shows goes in as the docs say.
async fn the_example_file_of_the_docs() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let example = include_str!("../../../../docs/examples/users.csv");
    let u = upload(&app, &cid, example).await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let rows = u.rows();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[1][2], "Hopper, Grace (Rear Admiral)");
    assert_eq!(rows[2][2], "Alan \"Prof\" Turing");
    assert_eq!(
        rows[4][..4],
        ["", "", "Front Desk", "frontdesk@contoso.onmicrosoft.com"]
    );
    assert!(rows.iter().all(|r| r[4] == "Created" && r[5].len() >= 8));
}
on_both_backends!(the_example_file_of_the_docs);
