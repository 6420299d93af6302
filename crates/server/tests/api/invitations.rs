//! Invitations of outside users: guests, the outbox, single-use links, sign-in by email.

use reqwest::{Method, StatusCode};
use roster_domain::{Duration, Timestamp};
use serde_json::{json, Value};

use crate::common::*;

const GUEST_PASSWORD: &str = "Tq7#vLm2xR-guest";

/// The outbox's messages, oldest first.
fn outbox(app: &TestApp) -> Vec<String> {
    let dir = app.dir.path().join("outbox");
    let mut names: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The token of the invitation link in the newest mail to `email`.
fn token_for(app: &TestApp, email: &str) -> String {
    let mail = outbox(app)
        .into_iter()
        .rev()
        .find(|m| m.contains(&format!("\r\nTo: {email}\r\n")))
        .unwrap_or_else(|| panic!("no mail to {email}"));
    let start = mail.find("/invitations/redeem?token=").expect("a link") + 26;
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn redeem(app: &TestApp, body: Value) -> (StatusCode, Value) {
    // No access token: the link is the credential.
    into_parts(
        app.client
            .post(app.url("/v1/invitations/redeem"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn audit_ops(app: &TestApp) -> Vec<String> {
    app.roster
        .store()
        .read_job(|db| {
            let partner = db.first_partner()?.unwrap().0;
            db.audit_records(
                partner,
                Timestamp::from_unix_millis(0),
                Timestamp::from_unix_millis(i64::MAX),
                100_000,
            )
        })
        .await
        .unwrap()
        .iter()
        .map(|a| a.operation.as_str().to_string())
        .collect()
}

fn id_of(list: &Value, email: &str) -> String {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
        .unwrap_or_else(|| panic!("no invitation for {email}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn invite_resend_redeem_and_sign_in() {
    let app = TestApp::start().await;
    let (s, made) = app
        .post(
            "/v1/invitations",
            json!({"emails": "Ada@Example.com; grace@navy.example.org", "roles": ["Admin agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["totalCount"], 2);
    assert_eq!(made["items"][0]["status"], "pending");
    assert_eq!(made["items"][0]["roles"], json!(["Admin agent"]));
    assert_eq!(
        made["items"][0]["userPrincipalName"],
        "ada_example.com#EXT#@partner.local"
    );
    assert_eq!(made["items"][0]["expiresAt"], "2026-02-04T09:00:00Z");
    // Two mails in the outbox, each with its link; the tokens are stored only hashed.
    let mails = outbox(&app);
    assert_eq!(mails.len(), 2);
    for m in &mails {
        assert!(m.starts_with("From: "), "{m}");
        assert!(
            m.contains("\r\nDate: Mon, 05 Jan 2026 09:00:00 +0000\r\n"),
            "{m}"
        );
        assert!(
            m.contains("http://127.0.0.1:8080/invitations/redeem?token="),
            "{m}"
        );
    }
    let ada_first = token_for(&app, "Ada@Example.com");
    let grace = token_for(&app, "grace@navy.example.org");
    assert_eq!(ada_first.len(), 43);
    assert!(!contains_bytes(&app.stored_bytes().await, &ada_first));
    // The guests are partner users pending their invitation: they cannot sign in yet.
    let (_, users) = app.get("/v1/users").await;
    let guest = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == "ada_example.com#EXT#@partner.local")
        .unwrap()
        .clone();
    assert_eq!(guest["userType"], "guest");
    assert!(app
        .sign_in("ada@example.com", GUEST_PASSWORD)
        .await
        .is_err());
    // List, then resend Ada's: the old link stops working.
    let (s, list) = app.get("/v1/invitations").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["totalCount"], 2);
    let ada_id = id_of(&list, "Ada@Example.com");
    app.clock.advance(Duration::from_mins(30));
    let (s, resent) = app
        .post(&format!("/v1/invitations/{ada_id}/resend"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{resent}");
    assert_eq!(resent["sentAt"], "2026-01-05T09:30:00Z");
    assert_eq!(outbox(&app).len(), 3);
    let ada = token_for(&app, "Ada@Example.com");
    assert_ne!(ada, ada_first);
    assert_error(
        &redeem(
            &app,
            json!({"token": ada_first, "password": GUEST_PASSWORD}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    // Unknown token, weak password: refused.
    assert_error(
        &redeem(&app, json!({"token": "nope", "password": GUEST_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    assert_error(
        &redeem(&app, json!({"token": ada, "password": "password1"})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    // Redeem: the guest signs in with the address it was invited with, in any casing.
    let (s, accepted) = redeem(
        &app,
        json!({"token": ada, "password": GUEST_PASSWORD, "displayName": "Ada Lovelace"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    // Single use.
    assert_error(
        &redeem(&app, json!({"token": ada, "password": GUEST_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    let token = app
        .sign_in("ada@example.com", GUEST_PASSWORD)
        .await
        .expect("the guest signs in by email");
    // Its UPN works too.
    app.sign_in("ada_example.com#EXT#@partner.local", GUEST_PASSWORD)
        .await
        .expect("the guest signs in by UPN");
    // Its role works (Admin agent: customers), and no more than that.
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &call(&app, &token, Method::GET, "/v1/invitations", None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    let (_, me) = app
        .get(&format!("/v1/users/{}", guest["id"].as_str().unwrap()))
        .await;
    assert_eq!(me["displayName"], "Ada Lovelace");
    // Grace's link still works; an accepted invitation cannot be resent.
    assert_eq!(
        redeem(&app, json!({"token": grace, "password": GUEST_PASSWORD}))
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &app.post(&format!("/v1/invitations/{ada_id}/resend"), json!({}))
            .await,
        StatusCode::CONFLICT,
        60005,
    );
    let ops = audit_ops(&app).await;
    for op in [
        "invite_partner_user",
        "resend_invitation",
        "redeem_invitation",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op}: {ops:?}");
    }
    assert_eq!(ops.iter().filter(|o| *o == "redeem_invitation").count(), 2);
}
on_both_backends!(invite_resend_redeem_and_sign_in);

async fn links_expire_after_30_days() {
    let app = TestApp::start().await;
    let (s, made) = app
        .post(
            "/v1/invitations",
            json!({"emails": "late@example.com", "roles": ["Sales agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let token = token_for(&app, "late@example.com");
    app.clock
        .advance(Duration::from_millis(Duration::from_days(30).millis() + 1));
    assert_error(
        &redeem(&app, json!({"token": token, "password": GUEST_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    let mut app = app;
    app.advance(Duration::from_millis(0)).await;
    let (_, list) = app.get("/v1/invitations").await;
    assert_eq!(list["items"][0]["status"], "expired");
    // A resend gives a fresh 30 days.
    let id = id_of(&list, "late@example.com");
    assert_eq!(
        app.post(&format!("/v1/invitations/{id}/resend"), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let token = token_for(&app, "late@example.com");
    app.clock
        .advance(Duration::from_millis(Duration::from_days(30).millis() - 1));
    assert_eq!(
        redeem(&app, json!({"token": token, "password": GUEST_PASSWORD}))
            .await
            .0,
        StatusCode::OK
    );
}
on_both_backends!(links_expire_after_30_days);

async fn delete_withdraws_a_pending_invitation() {
    let app = TestApp::start().await;
    let (s, _) = app
        .post(
            "/v1/invitations",
            json!({"emails": "gone@example.com", "roles": ["Helpdesk agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let token = token_for(&app, "gone@example.com");
    let (_, list) = app.get("/v1/invitations").await;
    let id = id_of(&list, "gone@example.com");
    // Inviting the same address again is refused while it is pending.
    assert_error(
        &app.post(
            "/v1/invitations",
            json!({"emails": "GONE@example.com", "roles": ["Helpdesk agent"]}),
        )
        .await,
        StatusCode::CONFLICT,
        60005,
    );
    let (s, _) = app.delete(&format!("/v1/invitations/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &app.delete(&format!("/v1/invitations/{id}")).await,
        StatusCode::NOT_FOUND,
        1000,
    );
    assert_error(
        &redeem(&app, json!({"token": token, "password": GUEST_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    let (_, list) = app.get("/v1/invitations").await;
    assert_eq!(list["totalCount"], 0);
    let (_, users) = app.get("/v1/users").await;
    assert_eq!(users["totalCount"], 1, "the pending guest is gone: {users}");
    assert!(audit_ops(&app)
        .await
        .iter()
        .any(|o| o == "delete_invitation"));
    // The address may be invited again.
    assert_eq!(
        app.post(
            "/v1/invitations",
            json!({"emails": "gone@example.com", "roles": ["Helpdesk agent"]})
        )
        .await
        .0,
        StatusCode::CREATED
    );
}
on_both_backends!(delete_withdraws_a_pending_invitation);

async fn refusals() {
    let app = TestApp::start().await;
    let eleven: Vec<String> = (0..11).map(|i| format!("u{i}@example.com")).collect();
    for body in [
        json!({"emails": "", "roles": ["Admin agent"]}),
        json!({"emails": " ; , ", "roles": ["Admin agent"]}),
        json!({"roles": ["Admin agent"]}),
        json!({"emails": eleven.join(", "), "roles": ["Admin agent"]}),
        json!({"emails": "not-an-address", "roles": ["Admin agent"]}),
        json!({"emails": "a@example.com, a@EXAMPLE.com", "roles": ["Admin agent"]}),
        json!({"emails": "a@example.com"}),
        json!({"emails": "a@example.com", "roles": ["Owner"]}),
        json!({"emails": "a@example.com", "roles": ["Admin agent", "Global admin"]}),
        json!({"emails": "someone@partner.local", "roles": ["Admin agent"]}),
    ] {
        let got = app.post("/v1/invitations", body.clone()).await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    }
    assert!(outbox(&app).is_empty());
    // Ten is the most.
    let (s, b) = app
        .post(
            "/v1/invitations",
            json!({"emails": eleven[..10].join(";"), "roles": ["Sales agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(outbox(&app).len(), 10);
    // Redeeming needs no token, but does need a body that makes sense.
    assert_error(
        &redeem(&app, json!({"password": GUEST_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(refusals);

async fn only_account_user_managers_invite() {
    let app = TestApp::start().await;
    let (s, b) = app
        .post("/v1/users", json!({"userPrincipalName": "agent@partner.local", "displayName": "Agent", "roles": ["Admin agent"], "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let token = app
        .sign_in("agent@partner.local", GOOD_PASSWORD)
        .await
        .unwrap();
    let before = audit_ops(&app).await.len();
    assert_error(
        &call(
            &app,
            &token,
            Method::POST,
            "/v1/invitations",
            Some(json!({"emails": "x@example.com", "roles": ["Sales agent"]})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert!(outbox(&app).is_empty());
    assert_eq!(audit_ops(&app).await.len(), before);
    assert_error(
        &call(&app, &token, Method::GET, "/v1/invitations", None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // A User management admin may.
    let (s, b) = app
        .post("/v1/users", json!({"userPrincipalName": "uma@partner.local", "displayName": "UMA", "roles": ["User management admin"], "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let uma = app
        .sign_in("uma@partner.local", GOOD_PASSWORD)
        .await
        .unwrap();
    let (s, b) = call(
        &app,
        &uma,
        Method::POST,
        "/v1/invitations",
        Some(json!({"emails": "x@example.com", "roles": ["Sales agent"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["items"][0]["id"].as_str().unwrap().to_string();
    assert_error(
        &call(
            &app,
            &token,
            Method::POST,
            &format!("/v1/invitations/{id}/resend"),
            Some(json!({})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &call(
            &app,
            &token,
            Method::DELETE,
            &format!("/v1/invitations/{id}"),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_eq!(outbox(&app).len(), 1);
}
on_both_backends!(only_account_user_managers_invite);
