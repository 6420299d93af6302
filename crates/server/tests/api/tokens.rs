//! Refresh tokens (rotation, reuse detection, revocation) and the password change.

use reqwest::StatusCode;
use roster_domain::Duration;
use serde_json::{json, Value};

use crate::common::*;

async fn grant(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    into_parts(
        app.client
            .post(app.url("/oauth2/token"))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn password_grant(app: &TestApp, user: &str, password: &str) -> (StatusCode, Value) {
    grant(
        app,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ],
    )
    .await
}

async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    grant(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn change(app: &TestApp, upn: &str, current: &str, new: &str) -> (StatusCode, Value) {
    into_parts(
        app.client
            .post(app.url("/v1/passwordchange"))
            .json(
                &json!({"userPrincipalName": upn, "currentPassword": current, "newPassword": new}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let app = TestApp::start().await;
    let (s, first) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (s, second) = refresh(&app, &r1).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let access = second["access_token"].as_str().unwrap();
    let r = app
        .client
        .get(app.url("/v1/customers"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The first token again: refused, and the family (with the second) is revoked.
    assert_eq!(refresh(&app, &r1).await.1["error"], "invalid_grant");
    assert_eq!(refresh(&app, &r2).await.1["error"], "invalid_grant");
    // Another sign-in is another family, untouched.
    let (_, other) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
    // Garbage and a missing token.
    assert_eq!(refresh(&app, "garbage").await.1["error"], "invalid_grant");
    assert_eq!(
        grant(&app, &[("grant_type", "refresh_token")]).await.1["error"],
        "invalid_request"
    );
}
on_both_backends!(refresh_tokens_rotate_and_a_reused_one_revokes_its_family);

async fn refresh_tokens_expire_and_die_with_a_reset_or_a_removal() {
    let app = TestApp::start().await;
    let (_, t) = password_grant(&app, ADMIN, ADMIN_PASSWORD).await;
    let token = t["refresh_token"].as_str().unwrap().to_string();
    app.clock.advance(Duration::from_days(14));
    assert_eq!(
        refresh(&app, &token).await.1["error"],
        "invalid_grant",
        "expired after 14 days"
    );

    let mut app = app;
    app.advance(Duration::from_secs(1)).await;
    let (s, member) = app
        .post("/v1/users", json!({"userPrincipalName": "ray@partner.local", "displayName": "Ray", "roles": ["Admin agent"],
            "passwordProfile": {"password": "Tq7#vLm2xR-ray", "forceChangePassword": false}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{member}");
    let id = member["id"].as_str().unwrap();
    let (_, t) = password_grant(&app, "ray@partner.local", "Tq7#vLm2xR-ray").await;
    let token = t["refresh_token"].as_str().unwrap().to_string();
    // A reset by a Global admin ends it.
    app.patch(
        &format!("/v1/users/{id}"),
        json!({"passwordProfile": {"password": "Tq7#vLm2xR-ray2", "forceChangePassword": false}}),
    )
    .await;
    assert_eq!(refresh(&app, &token).await.1["error"], "invalid_grant");
    // So does the removal of access.
    let (_, t) = password_grant(&app, "ray@partner.local", "Tq7#vLm2xR-ray2").await;
    let token = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.delete(&format!("/v1/users/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(refresh(&app, &token).await.1["error"], "invalid_grant");
}
on_both_backends!(refresh_tokens_expire_and_die_with_a_reset_or_a_removal);

async fn a_temporary_password_is_changed_before_signing_in() {
    let app = TestApp::start().await;
    let (s, created) = app
        .post("/v1/users", json!({"userPrincipalName": "tess@partner.local", "firstName": "Tess", "lastName": "Ogden", "roles": ["Sales agent"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let temporary = created["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        password_grant(&app, "tess@partner.local", &temporary)
            .await
            .1["error"],
        "password_change_required"
    );
    let fresh = "Wq4!rN8zLk-new";
    // Wrong current password, unknown user: one answer.
    let wrong = change(&app, "tess@partner.local", "Not-the-one-9", fresh).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, 3000);
    let unknown = change(&app, "nobody@partner.local", &temporary, fresh).await;
    assert_eq!(unknown.1["description"], wrong.1["description"]);
    // The new password must differ and meet the policy.
    assert_eq!(
        change(&app, "tess@partner.local", &temporary, &temporary)
            .await
            .1["data"],
        json!(["newPassword"])
    );
    assert_eq!(
        change(&app, "tess@partner.local", &temporary, "password1")
            .await
            .1["data"],
        json!(["newPassword"])
    );
    assert_eq!(
        change(&app, "tess@partner.local", &temporary, "Tess-Ogden-2026!")
            .await
            .1["data"],
        json!(["newPassword"])
    );
    // Changed: the new password signs in, the temporary one no longer does.
    let (s, _) = change(&app, "Tess@partner.local", &temporary, fresh).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, t) = password_grant(&app, "tess@partner.local", fresh).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        password_grant(&app, "tess@partner.local", &temporary)
            .await
            .1["error"],
        "invalid_grant"
    );
    // Malformed bodies are the usual 800002.
    let r = app
        .client
        .post(app.url("/v1/passwordchange"))
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_error(&into_parts(r).await, StatusCode::BAD_REQUEST, 800002);
}
on_both_backends!(a_temporary_password_is_changed_before_signing_in);

async fn a_customer_user_changes_its_temporary_password() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (s, u) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "amy@contoso.onmicrosoft.com", "displayName": "Amy"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let temporary = u["passwordProfile"]["password"].as_str().unwrap();
    let (s, b) = change(
        &app,
        "amy@contoso.onmicrosoft.com",
        temporary,
        "Wq4!rN8zLk-amy",
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    // The temporary password is gone: changing from it again is refused.
    let again = change(
        &app,
        "amy@contoso.onmicrosoft.com",
        temporary,
        "Zx9!pL3mQw-amy",
    )
    .await;
    assert_error(&again, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(
        change(
            &app,
            "amy@contoso.onmicrosoft.com",
            "Wq4!rN8zLk-amy",
            "Zx9!pL3mQw-amy"
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
}
on_both_backends!(a_customer_user_changes_its_temporary_password);
