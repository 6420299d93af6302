//! Applications: registration by a Global admin, App-only tokens (client credentials) that
//! reach customers but never users, App+User tokens (the password grant with client_id),
//! secret resets and deletion revoking tokens at once.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// `POST /oauth2/token` with these form fields.
async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    into_parts(r).await
}

async fn register(app: &TestApp, name: &str) -> (String, String) {
    let (s, b) = app
        .post("/v1/applications", json!({"displayName": name}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["clientId"], b["id"]);
    assert_eq!(b["attributes"]["objectType"], "Application");
    (
        b["clientId"].as_str().unwrap().to_string(),
        b["clientSecret"].as_str().unwrap().to_string(),
    )
}

async fn app_only(app: &TestApp, id: &str, secret: &str) -> String {
    let (s, b) = token_request(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(
        b.get("refresh_token").is_none(),
        "client credentials get no refresh token: {b}"
    );
    b["access_token"].as_str().unwrap().to_string()
}

async fn app_only_tokens_reach_customers_but_never_users() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let user = app.user(&cid, "ada@contoso.onmicrosoft.com", "Ada").await;
    let uid = user["id"].as_str().unwrap();
    let (id, secret) = register(&app, "Billing sync").await;
    // The secret is shown once: the list never shows it, and it is not stored.
    let (s, list) = app.get("/v1/applications").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["totalCount"], 1);
    assert!(list["items"][0].get("clientSecret").is_none(), "{list}");
    assert!(!contains_bytes(&app.stored_bytes().await, &secret));

    let token = app_only(&app, &id, &secret).await;
    // Customers: yes.
    let (s, b) = call(&app, &token, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = call(
        &app,
        &token,
        Method::POST,
        "/v1/customers",
        Some(json!({"companyProfile": {"domain": "fabrikam.onmicrosoft.com", "companyName": "Fabrikam"}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // The audit record names the application and no user.
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| {
            r.operation.as_str() == "create_customer" && r.resource_id == b["id"].as_str().unwrap()
        })
        .expect("audit record");
    assert_eq!(record.application.map(|a| a.to_string()), Some(id.clone()));
    assert_eq!(record.actor, None);
    // Customer users, directory roles, the partner's account: 403 900150, and nothing
    // changes.
    let before = app.audit_records().await.len();
    for (method, path, body) in [
        (Method::GET, format!("/v1/customers/{cid}/users"), None),
        (
            Method::GET,
            format!("/v1/customers/{cid}/users/{uid}"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/customers/{cid}/users"),
            Some(json!({"userPrincipalName": "x@contoso.onmicrosoft.com", "displayName": "X"})),
        ),
        (
            Method::DELETE,
            format!("/v1/customers/{cid}/users/{uid}"),
            None,
        ),
        (
            Method::GET,
            format!("/v1/customers/{cid}/directoryroles"),
            None,
        ),
        (Method::GET, "/v1/users".to_string(), None),
        (
            Method::GET,
            "/v1/auditrecords?startDate=2026-01-01T00:00:00Z".to_string(),
            None,
        ),
        (Method::GET, "/v1/applications".to_string(), None),
        (
            Method::POST,
            "/v1/invitations".to_string(),
            Some(json!({"emails": "a@example.com", "roles": ["Sales agent"]})),
        ),
    ] {
        let got = call(&app, &token, method.clone(), &path, body).await;
        assert_error(&got, StatusCode::FORBIDDEN, 900150);
        assert!(
            got.1["description"].as_str().unwrap().contains("App+User"),
            "{method} {path}: {}",
            got.1
        );
    }
    assert_eq!(app.audit_records().await.len(), before);
    let (s, b) = app.get(&format!("/v1/customers/{cid}/users/{uid}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "active");
}
on_both_backends!(app_only_tokens_reach_customers_but_never_users);

async fn only_a_global_admin_registers_applications() {
    let app = TestApp::start().await;
    let (s, b) = app
        .post(
            "/v1/users",
            json!({"userPrincipalName": "uma@partner.local", "displayName": "Uma",
                   "roles": ["User management admin", "Admin agent"],
                   "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let uma = app
        .sign_in("uma@partner.local", GOOD_PASSWORD)
        .await
        .unwrap();
    let got = call(
        &app,
        &uma,
        Method::POST,
        "/v1/applications",
        Some(json!({"displayName": "Mine"})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
    let got = call(&app, &uma, Method::GET, "/v1/applications", None).await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
    // A name is required.
    let got = app
        .post("/v1/applications", json!({"displayName": "  "}))
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(got.1["data"], json!(["displayName"]));
    let (s, list) = app.get("/v1/applications").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["totalCount"], 0);
}
on_both_backends!(only_a_global_admin_registers_applications);

async fn client_credentials_are_checked() {
    let app = TestApp::start().await;
    let (id, secret) = register(&app, "Sync").await;
    for (case, form) in [
        (
            "wrong secret",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", "nope"),
            ],
        ),
        (
            "unknown client",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "5e7c9b1e-0000-4000-8000-000000000000"),
                ("client_secret", secret.as_str()),
            ],
        ),
    ] {
        let (s, b) = token_request(&app, &form).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{case}: {b}");
        assert_eq!(b["error"], "invalid_client", "{case}");
    }
    let (s, b) = token_request(
        &app,
        &[("grant_type", "client_credentials"), ("client_id", &id)],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"], "invalid_request");
    // HTTP Basic authentication of the client (RFC 6749 §2.3.1) works as the form does.
    let r = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (s, b) = into_parts(r).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let token = b["access_token"].as_str().unwrap().to_string();
    let (s, _) = call(&app, &token, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::OK);

    // A new secret: the old one and the tokens it got stop working at once.
    let (s, renewed) = app
        .post(&format!("/v1/applications/{id}/resetsecret"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{renewed}");
    let new_secret = renewed["clientSecret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (s, _) = call(&app, &token, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, b) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let fresh = app_only(&app, &id, new_secret).await;
    let (s, _) = call(&app, &fresh, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::OK);
    let got = app
        .post(
            "/v1/applications/5e7c9b1e-0000-4000-8000-000000000000/resetsecret",
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, 1000);
    let ops = app.audit_operations().await;
    assert!(ops.contains(&"register_application".to_string()), "{ops:?}");
    assert!(
        ops.contains(&"reset_application_secret".to_string()),
        "{ops:?}"
    );
}
on_both_backends!(client_credentials_are_checked);

async fn app_plus_user_tokens_act_as_the_user_and_die_with_the_application() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (id, secret) = register(&app, "Provisioning").await;
    // A public client sends only client_id; a confidential one its secret too, which must be
    // right.
    let (s, b) = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
            ("client_id", &id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{b}"
    );
    let (s, b) = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let token = b["access_token"].as_str().unwrap().to_string();
    let refresh = b["refresh_token"].as_str().unwrap().to_string();
    // App+User reaches customer users, and the audit record names both.
    let (s, created) = call(
        &app,
        &token,
        Method::POST,
        &format!("/v1/customers/{cid}/users"),
        Some(json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "displayName": "Ada"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| r.operation.as_str() == "create_customer_user")
        .unwrap();
    assert_eq!(record.application.map(|a| a.to_string()), Some(id.clone()));
    assert!(record.actor.is_some());
    // A refresh keeps the application.
    let (s, b) = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let refreshed = b["access_token"].as_str().unwrap().to_string();
    let refresh = b["refresh_token"].as_str().unwrap().to_string();
    let (s, _) = call(
        &app,
        &refreshed,
        Method::GET,
        &format!("/v1/customers/{cid}/users"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Deleting the application ends its App+User tokens and refresh tokens at once; the
    // user's own sign-in is untouched.
    let (s, _) = app.delete(&format!("/v1/applications/{id}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for t in [&token, &refreshed] {
        let (s, _) = call(&app, t, Method::GET, "/v1/customers", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, b) = token_request(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{b}"
    );
    let (s, _) = app.get("/v1/customers").await;
    assert_eq!(s, StatusCode::OK);
    let got = app.delete(&format!("/v1/applications/{id}")).await;
    assert_error(&got, StatusCode::NOT_FOUND, 1000);
    assert!(app
        .audit_operations()
        .await
        .contains(&"delete_application".to_string()));
}
on_both_backends!(app_plus_user_tokens_act_as_the_user_and_die_with_the_application);
