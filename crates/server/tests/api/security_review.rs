//! Regressions for the findings of the security review of `70e6f8c`
//! (`../shared/research/security-review.md`): each test failed on that commit.

use reqwest::{Method, StatusCode};
use roster_domain::authz::PartnerRole;
use serde_json::{json, Value};

use crate::common::*;

/// The ids of the Global admins, as the role's member list gives them.
async fn global_admins(app: &TestApp) -> Vec<String> {
    let (s, list) = app
        .get(&format!(
            "/v1/roles/{}/usermembers",
            PartnerRole::GlobalAdmin.id()
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mut ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// F1: a PATCH of a partner user that changes nothing is authorized like any other: no
/// principal without the right to manage account users reads a record through it, and a
/// no-op writes no audit record.
async fn f1_an_empty_patch_of_a_partner_user_is_authorized() {
    let app = TestApp::start().await;
    let (_, list) = app.get("/v1/users").await;
    let admin = admin_id(&list);
    let cid = app.customer("contoso.onmicrosoft.com").await;
    app.user(&cid, "plain@contoso.onmicrosoft.com", "Plain")
        .await;
    let mut callers = Vec::new();
    for (alias, role) in [
        ("sales", "Sales agent"),
        ("billing", "Billing admin"),
        ("helpdesk", "Helpdesk agent"),
        ("agent", "Admin agent"),
    ] {
        member(&app, alias, json!({"roles": [role]})).await;
        callers.push((alias.to_string(), as_member(&app, alias).await));
    }
    callers.push(("app-only".into(), app_only_token(&app).await));
    callers.push((
        "customer user".into(),
        app.sign_in("plain@contoso.onmicrosoft.com", GOOD_PASSWORD)
            .await
            .unwrap(),
    ));
    let path = format!("/v1/users/{admin}");
    let before = app.audit_count().await;
    for (who, token) in &callers {
        // `{}`, and what the .NET SDK sends with nothing to change.
        for body in [
            json!({}),
            json!({"attributes": {"objectType": "PartnerUser"}}),
            json!({"passwordProfile": null}),
        ] {
            let got = call(&app, token, Method::PATCH, &path, Some(body.clone())).await;
            assert_eq!(got.0, StatusCode::FORBIDDEN, "{who} {body}: {}", got.1);
            assert_eq!(got.1["code"], 900150, "{who}: {}", got.1);
            assert!(
                got.1.get("userPrincipalName").is_none(),
                "{who} read the record: {}",
                got.1
            );
        }
        // An unknown id answers the same as a known one: no way to tell which ids exist.
        let unknown = format!("/v1/users/{}", uuid::Uuid::new_v4());
        let got = call(&app, token, Method::PATCH, &unknown, Some(json!({}))).await;
        assert_eq!(got.0, StatusCode::FORBIDDEN, "{who}: {}", got.1);
    }
    assert_eq!(
        app.audit_count().await,
        before,
        "a refused PATCH writes no audit record"
    );
    // Those who may manage account users get the user, and a no-op still writes nothing.
    member(&app, "uma", json!({"roles": ["User management admin"]})).await;
    let uma = as_member(&app, "uma").await;
    for token in [&app.token, &uma] {
        let (s, body) = call(&app, token, Method::PATCH, &path, Some(json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["userPrincipalName"], ADMIN);
        // The same values again are no change either.
        let (s, _) = call(
            &app,
            token,
            Method::PATCH,
            &path,
            Some(json!({"displayName": body["displayName"], "roles": body["roles"], "groups": []})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(
        app.audit_count().await,
        before + 1,
        "only the creation of uma was recorded"
    );
}
on_both_backends!(f1_an_empty_patch_of_a_partner_user_is_authorized);

/// F2: a User management admin may not take Global admin from a user who holds it through a
/// security group, neither by emptying the user's groups nor by removing its access; a
/// Global admin may, down to the last one.
async fn f2_global_admin_through_a_group_is_guarded_on_every_path() {
    let app = TestApp::start().await;
    let (s, group) = app
        .post(
            "/v1/groups",
            json!({"displayName": "GA group", "roles": ["Global admin"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap();
    let x = member(
        &app,
        "groupga",
        json!({"roles": ["Billing admin"], "groups": [gid]}),
    )
    .await;
    let y = member(
        &app,
        "groupga2",
        json!({"roles": ["Billing admin"], "groups": [gid]}),
    )
    .await;
    let (x, y) = (
        x["id"].as_str().unwrap().to_string(),
        y["id"].as_str().unwrap().to_string(),
    );
    let admins = global_admins(&app).await;
    assert_eq!(
        admins.len(),
        3,
        "the bootstrap admin and the two group members"
    );
    // A directory user in the group whose access was removed: giving it access again would
    // make it a Global admin.
    let z = member(&app, "groupga3", json!({"roles": [], "groups": [gid]})).await;
    let z = z["id"].as_str().unwrap().to_string();
    let (s, b) = app.delete(&format!("/v1/users/{z}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    member(&app, "uma", json!({"roles": ["User management admin"]})).await;
    let uma = as_member(&app, "uma").await;
    let before = app.audit_count().await;
    for (method, path, body) in [
        (
            Method::DELETE,
            format!("/v1/groups/{gid}/members/{x}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/users/{x}"),
            Some(json!({"groups": []})),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{x}"),
            Some(json!({"groups": [], "roles": ["Billing admin"]})),
        ),
        (Method::DELETE, format!("/v1/users/{y}"), None),
        (
            Method::POST,
            "/v1/users/access".to_string(),
            Some(json!({"userIds": [z], "roles": ["Sales agent"]})),
        ),
    ] {
        let got = call(&app, &uma, method.clone(), &path, body.clone()).await;
        assert_error(&got, StatusCode::FORBIDDEN, 900150);
    }
    assert_eq!(
        app.audit_count().await,
        before,
        "refused calls write nothing"
    );
    assert_eq!(
        global_admins(&app).await,
        admins,
        "nobody lost Global admin"
    );
    // Other edits of a user in the group stay open to a User management admin... but not
    // its name: F10.
    let (s, b) = call(
        &app,
        &uma,
        Method::PATCH,
        &format!("/v1/users/{x}"),
        Some(json!({"roles": ["Billing admin", "Sales agent"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // A Global admin may take it away, through either path.
    let (s, b) = app
        .patch(&format!("/v1/users/{x}"), json!({"groups": []}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.delete(&format!("/v1/users/{y}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    let (_, list) = app.get("/v1/users").await;
    assert_eq!(global_admins(&app).await, vec![admin_id(&list)]);
}
on_both_backends!(f2_global_admin_through_a_group_is_guarded_on_every_path);

/// F2, the last Global admin: when it holds the role only through a group, neither leaving
/// the group nor losing its access may take the account's last Global admin away.
async fn f2_the_last_global_admin_through_a_group_stays() {
    let app = TestApp::start().await;
    let (_, group) = app
        .post(
            "/v1/groups",
            json!({"displayName": "GA group", "roles": ["Global admin"]}),
        )
        .await;
    let gid = group["id"].as_str().unwrap();
    let (_, list) = app.get("/v1/users").await;
    let admin = admin_id(&list);
    // The bootstrap admin holds Global admin through the group only.
    let (s, b) = app
        .patch(&format!("/v1/users/{admin}"), json!({"groups": [gid]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .patch(
            &format!("/v1/users/{admin}"),
            json!({"roles": ["Admin agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(global_admins(&app).await, vec![admin.clone()]);
    let before = app.audit_count().await;
    for got in [
        app.patch(&format!("/v1/users/{admin}"), json!({"groups": []}))
            .await,
        app.delete(&format!("/v1/users/{admin}")).await,
        app.delete(&format!("/v1/groups/{gid}/members/{admin}"))
            .await,
    ] {
        assert_error(&got, StatusCode::CONFLICT, 60005);
    }
    assert_eq!(app.audit_count().await, before);
    assert_eq!(global_admins(&app).await, vec![admin]);
}
on_both_backends!(f2_the_last_global_admin_through_a_group_stays);

/// F10: the name a Global admin signs in with (and its other directory properties) is
/// changed by Global admins only, whether it holds the role itself or through a group.
async fn f10_only_a_global_admin_renames_a_global_admin() {
    let app = TestApp::start().await;
    let ga = member(&app, "ga2", json!({"roles": ["Global admin"]})).await;
    let (_, group) = app
        .post(
            "/v1/groups",
            json!({"displayName": "GA group", "roles": ["Global admin"]}),
        )
        .await;
    let by_group = member(&app, "ga3", json!({"roles": [], "groups": [group["id"]]})).await;
    let plain = member(&app, "plain", json!({"roles": ["Sales agent"]})).await;
    member(&app, "uma", json!({"roles": ["User management admin"]})).await;
    let uma = as_member(&app, "uma").await;
    let before = app.audit_count().await;
    for target in [&ga, &by_group] {
        let path = format!("/v1/users/{}", target["id"].as_str().unwrap());
        for body in [
            json!({"userPrincipalName": "renamed@partner.local"}),
            json!({"displayName": "Someone else"}),
            json!({"firstName": "Eve"}),
        ] {
            let got = call(&app, &uma, Method::PATCH, &path, Some(body.clone())).await;
            assert_error(&got, StatusCode::FORBIDDEN, 900150);
        }
    }
    assert_eq!(app.audit_count().await, before);
    assert!(
        app.sign_in("ga2@partner.local", MEMBER_PASSWORD)
            .await
            .is_ok(),
        "still signs in under its name"
    );
    // A user without Global admin is renamed by a User management admin; a Global admin by
    // a Global admin.
    let (s, b) = call(
        &app,
        &uma,
        Method::PATCH,
        &format!("/v1/users/{}", plain["id"].as_str().unwrap()),
        Some(json!({"displayName": "Plain Tester"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .patch(
            &format!("/v1/users/{}", ga["id"].as_str().unwrap()),
            json!({"userPrincipalName": "renamed@partner.local"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(app
        .sign_in("renamed@partner.local", MEMBER_PASSWORD)
        .await
        .is_ok());
}
on_both_backends!(f10_only_a_global_admin_renames_a_global_admin);

/// F6: concurrent edits of one user never answer 500. Without If-Match every edit is applied,
/// one after the other; with If-Match one wins and the others get 412.
async fn f6_concurrent_edits_are_serialised_or_refused_never_500() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let user = app.user(&cid, "hot@contoso.onmicrosoft.com", "Hot").await;
    let path = app.url(&format!(
        "/v1/customers/{cid}/users/{}",
        user["id"].as_str().unwrap()
    ));
    let before = app.audit_count().await;
    let n = 50;
    let answers = all_at_once(
        (0..n)
            .map(|i| {
                app.client
                    .patch(&path)
                    .bearer_auth(&app.token)
                    .json(&json!({"phoneNumber": format!("+44 {i}")}))
            })
            .collect(),
    )
    .await;
    for (s, b) in &answers {
        assert_eq!(*s, StatusCode::OK, "{b}");
    }
    // Every edit was applied and recorded; the last one applied is what the user holds.
    assert_eq!(app.audit_count().await, before + n);
    let etags: std::collections::BTreeSet<_> = answers
        .iter()
        .map(|(_, b)| b["attributes"]["etag"].to_string())
        .collect();
    assert_eq!(
        etags.len(),
        n as usize,
        "each edit made a version of its own"
    );
    let (_, now) = app
        .get(&format!(
            "/v1/customers/{cid}/users/{}",
            user["id"].as_str().unwrap()
        ))
        .await;
    let last = answers
        .iter()
        .find(|(_, b)| b["attributes"]["etag"] == now["attributes"]["etag"])
        .unwrap();
    assert_eq!(now["phoneNumber"], last.1["phoneNumber"]);
    // With If-Match, all sent against one version: exactly one wins.
    let etag = now["attributes"]["etag"].as_str().unwrap().to_string();
    let answers = all_at_once(
        (0..20)
            .map(|i| {
                app.client
                    .patch(&path)
                    .bearer_auth(&app.token)
                    .header("If-Match", &etag)
                    .json(&json!({"displayName": format!("Hot {i}")}))
            })
            .collect(),
    )
    .await;
    let won = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(won, 1, "{answers:?}");
    for got in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_error(got, StatusCode::PRECONDITION_FAILED, 60008);
    }
    // Concurrent deletes: one 204, the others find no active user.
    let answers = all_at_once(
        (0..10)
            .map(|_| app.client.delete(&path).bearer_auth(&app.token))
            .collect(),
    )
    .await;
    assert_eq!(
        answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::NO_CONTENT)
            .count(),
        1,
        "{answers:?}"
    );
    for got in answers.iter().filter(|(s, _)| *s != StatusCode::NO_CONTENT) {
        assert_error(got, StatusCode::NOT_FOUND, 60002);
    }
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    f6_concurrent_edits_are_serialised_or_refused_never_500
);

/// F7: a soft delete ends the user's sessions, and a restore does not bring them back; so
/// does requiring a password change.
async fn f7_delete_ends_sessions_and_restore_does_not_revive_them() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let user = app.user(&cid, "back@contoso.onmicrosoft.com", "Back").await;
    let uid = user["id"].as_str().unwrap();
    let path = format!("/v1/customers/{cid}/users/{uid}");
    let grant = |app: &TestApp| {
        let r = app
            .client
            .post(app.url("/oauth2/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "back@contoso.onmicrosoft.com"),
                ("password", GOOD_PASSWORD),
            ])
            .send();
        async move { into_parts(r.await.unwrap()).await.1 }
    };
    let refresh = |app: &TestApp, token: &str| {
        let r = app
            .client
            .post(app.url("/oauth2/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .send();
        async move { into_parts(r.await.unwrap()).await.0 }
    };
    let first = grant(&app).await;
    let (access, refresh_token) = (
        first["access_token"].as_str().unwrap(),
        first["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(
        call(&app, access, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(app.delete(&path).await.0, StatusCode::NO_CONTENT);
    let (s, b) = app.patch(&path, json!({"state": "active"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        call(&app, access, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "the old access token died with the delete"
    );
    assert_eq!(
        refresh(&app, refresh_token).await,
        StatusCode::BAD_REQUEST,
        "and so did the refresh token"
    );
    // The restored user signs in afresh.
    let second = grant(&app).await;
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(
        call(&app, access, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    // Requiring a password change ends the sessions too.
    let (s, b) = app
        .patch(
            &path,
            json!({"passwordProfile": {"forceChangePassword": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        call(&app, access, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, second["refresh_token"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST
    );
}
on_both_backends!(f7_delete_ends_sessions_and_restore_does_not_revive_them);

/// F5: a response that carries a secret (a client secret, a password) is never recorded whole
/// in the idempotency ledger; a replay shows the secret as null (it is shown once).
async fn f5_no_secret_reaches_the_idempotency_ledger() {
    let app = TestApp::start().await;
    let keyed = |method: Method, path: &str, key: &str, body: Value| {
        let r = app
            .req(method, path)
            .header("MS-RequestId", key)
            .json(&body)
            .send();
        async move { into_parts(r.await.unwrap()).await }
    };
    let key = uuid::Uuid::new_v4().to_string();
    let (s, created) = keyed(
        Method::POST,
        "/v1/applications",
        &key,
        json!({"displayName": "app"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["clientSecret"].as_str().unwrap().to_string();
    let (s, replay) = keyed(
        Method::POST,
        "/v1/applications",
        &key,
        json!({"displayName": "app"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(replay["clientId"], created["clientId"]);
    assert_eq!(replay["clientSecret"], Value::Null, "shown once: {replay}");
    let reset_path = format!(
        "/v1/applications/{}/resetsecret",
        created["id"].as_str().unwrap()
    );
    let key2 = uuid::Uuid::new_v4().to_string();
    let (s, reset) = keyed(Method::POST, &reset_path, &key2, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{reset}");
    let new_secret = reset["clientSecret"].as_str().unwrap().to_string();
    assert_eq!(
        keyed(Method::POST, &reset_path, &key2, json!({})).await.1["clientSecret"],
        Value::Null
    );
    // A partner user's generated password, and a given one.
    let key3 = uuid::Uuid::new_v4().to_string();
    let (s, partner) = keyed(
        Method::POST,
        "/v1/users",
        &key3,
        json!({"userPrincipalName": "new@partner.local", "displayName": "New"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{partner}");
    let generated = partner["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let key4 = uuid::Uuid::new_v4().to_string();
    let reset_user = format!("/v1/users/{}", partner["id"].as_str().unwrap());
    let (s, b) = keyed(
        Method::PATCH,
        &reset_user,
        &key4,
        json!({"passwordProfile": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let generated2 = b["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = app.stored_bytes().await;
    for s in [&secret, &new_secret, &generated, &generated2] {
        assert!(
            !contains_bytes(&stored, s),
            "a secret is stored in plaintext"
        );
    }
}
on_both_backends!(f5_no_secret_reaches_the_idempotency_ledger);

/// F8 on both backends: the outbox (invitation links) and, on SQLite, the database are
/// readable by their owner only (the binary's test covers the data directory and backups).
async fn f8_the_outbox_and_the_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let app = TestApp::start().await;
    let (s, b) = app
        .post(
            "/v1/invitations",
            json!({"emails": "guest@example.com", "roles": ["Sales agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let outbox = app.dir.path().join("outbox");
    assert_eq!(mode(&outbox), 0o700);
    let mails: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mode(&mails[0]), 0o600);
    if app.database_url.is_none() {
        assert_eq!(mode(&app.dir.path().join("roster.db")), 0o600);
    }
}
on_both_backends!(f8_the_outbox_and_the_database_are_private);

/// F9: turning legacy delegated access back on (which makes every Admin agent a Global
/// Administrator of the customer) takes a partner Global admin; turning it off, whoever edits
/// the customer and the customer's own Global Administrator.
async fn f9_only_a_global_admin_turns_legacy_access_on() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let path = format!("/v1/customers/{cid}");
    let ga = app
        .user(&cid, "ga@contoso.onmicrosoft.com", "Customer GA")
        .await;
    let (s, b) = app.post(&format!("/v1/customers/{cid}/directoryroles/62e90394-69f5-4237-9190-012177145e10/usermembers"), json!({"id": ga["id"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    app.user(&cid, "plain@contoso.onmicrosoft.com", "Plain")
        .await;
    let customer_ga = app
        .sign_in("ga@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    let customer_plain = app
        .sign_in("plain@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    member(&app, "helpdesk", json!({"roles": ["Helpdesk agent"]})).await;
    member(&app, "agent", json!({"roles": ["Admin agent"]})).await;
    let helpdesk = as_member(&app, "helpdesk").await;
    let agent = as_member(&app, "agent").await;
    let app_only = app_only_token(&app).await;
    let set = |token: &String, on: bool| {
        let token = token.clone();
        let (app, path) = (&app, &path);
        async move {
            call(
                app,
                &token,
                Method::PATCH,
                path,
                Some(json!({"allowDelegatedAccess": on})),
            )
            .await
        }
    };
    let legacy = || async { app.get(&path).await.1["allowDelegatedAccess"].clone() };
    // Off, by each who may.
    for token in [&helpdesk, &agent, &app_only, &customer_ga, &app.token] {
        let (s, b) = set(token, false).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(legacy().await, false);
        // On again, by those who may not: nothing changes and nothing is recorded.
        let before = app.audit_count().await;
        for refused in [&helpdesk, &agent, &app_only, &customer_ga] {
            let got = set(refused, true).await;
            assert_error(&got, StatusCode::FORBIDDEN, 900150);
        }
        assert_eq!(app.audit_count().await, before);
        assert_eq!(legacy().await, false);
        let (s, b) = set(&app.token, true).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(legacy().await, true);
    }
    // A customer user without Global Administrator may do neither.
    for on in [false, true] {
        assert_error(
            &set(&customer_plain, on).await,
            StatusCode::FORBIDDEN,
            900150,
        );
    }
}
on_both_backends!(f9_only_a_global_admin_turns_legacy_access_on);

/// F11: a continuation token of one role's members is refused on another role's list (and on
/// the users list), instead of listing users under the wrong role.
async fn f11_a_role_members_token_is_for_its_own_role_only() {
    let app = TestApp::start().await;
    for alias in ["sales1", "sales2"] {
        member(&app, alias, json!({"roles": ["Sales agent"]})).await;
    }
    let members = |role: PartnerRole| format!("/v1/roles/{}/usermembers", role.id());
    let (s, page) = app
        .get(&format!("{}?size=1", members(PartnerRole::SalesAgent)))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let token = page["continuationToken"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let next = |path: String| {
        let r = app
            .req(Method::GET, &format!("{path}?seekOperation=Next"))
            .header("MS-ContinuationToken", token.clone())
            .send();
        async move { into_parts(r.await.unwrap()).await }
    };
    let (s, second) = next(members(PartnerRole::SalesAgent)).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    assert_eq!(second["items"][0]["roleId"], PartnerRole::SalesAgent.id());
    for path in [members(PartnerRole::GlobalAdmin), "/v1/users".to_string()] {
        assert_error(&next(path).await, StatusCode::BAD_REQUEST, 3000);
    }
}
on_both_backends!(f11_a_role_members_token_is_for_its_own_role_only);

/// F12: a partner user whose account access was removed cannot change its password either
/// (sign-in's eligibility), and gets the answer a wrong password gets.
async fn f12_a_removed_user_cannot_change_its_password() {
    let app = TestApp::start().await;
    let billing = member(&app, "billing", json!({"roles": ["Billing admin"]})).await;
    let change = |current: &str| {
        let r = app.client.post(app.url("/v1/passwordchange")).json(&json!({"userPrincipalName": "billing@partner.local", "currentPassword": current, "newPassword": "Another-Fresh-Pass-77"})).send();
        async move { into_parts(r.await.unwrap()).await }
    };
    let wrong = change("Not-The-Password-1").await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(
        app.delete(&format!("/v1/users/{}", billing["id"].as_str().unwrap()))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let removed = change(MEMBER_PASSWORD).await;
    assert_error(&removed, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(removed.1, wrong.1, "the same answer as a wrong password");
    // Nothing changed: given access again, it signs in with its old password.
    let (s, b) = app
        .post(
            "/v1/users/access",
            json!({"userIds": [billing["id"]], "roles": ["Billing admin"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(app
        .sign_in("billing@partner.local", MEMBER_PASSWORD)
        .await
        .is_ok());
    assert_eq!(change(MEMBER_PASSWORD).await.0, StatusCode::NO_CONTENT);
}
on_both_backends!(f12_a_removed_user_cannot_change_its_password);

/// F13: invitation addresses are checked by the mail courier's own parser when they are
/// given: one it could not deliver to is refused, and no guest is made.
async fn f13_undeliverable_invitation_addresses_are_refused() {
    let app = TestApp::start().await;
    for bad in [
        "a\"b<c>@example.com",
        "(comment)foo@example.com",
        "ok@example.com; a<b@example.com",
    ] {
        let got = app
            .post(
                "/v1/invitations",
                json!({"emails": bad, "roles": ["Sales agent"]}),
            )
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    }
    let (_, list) = app.get("/v1/invitations").await;
    assert_eq!(list["totalCount"], 0, "{list}");
    let (s, b) = app
        .post(
            "/v1/invitations",
            json!({"emails": "o'brien+roster@example.com", "roles": ["Sales agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}
on_both_backends!(f13_undeliverable_invitation_addresses_are_refused);

/// `n` distinct wrong passwords for `username` from `client`, all at once, and (when given)
/// the right one 150 ms later: the statuses of the wrong ones and of the right one.
async fn burst(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    n: usize,
    right: Option<&str>,
) -> (Vec<StatusCode>, Option<StatusCode>) {
    let form = |p: String| {
        vec![
            ("grant_type".to_string(), "password".to_string()),
            ("username".into(), username.to_string()),
            ("password".into(), p),
        ]
    };
    let wrong: Vec<_> = (0..n)
        .map(|i| {
            client
                .post(app.url("/oauth2/token"))
                .form(&form(format!("Parallel-Guess-{i:03}-Xq!")))
        })
        .collect();
    let right = right.map(|p| {
        let request = client
            .post(app.url("/oauth2/token"))
            .form(&form(p.to_string()));
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            request.send().await.unwrap().status()
        })
    });
    let answers = all_at_once(wrong).await;
    let right = match right {
        Some(t) => Some(t.await.unwrap()),
        None => None,
    };
    (answers.into_iter().map(|(s, _)| s).collect(), right)
}

/// The lockout of `user` from every source but its familiar networks.
async fn throttle_of(app: &TestApp, user: &str) -> roster_domain::lockout::Throttle {
    let user = user.to_string();
    app.roster
        .store()
        .write_job(move |db| db.lock_throttle(&user, roster_domain::lockout::OTHER_SOURCES))
        .await
        .unwrap()
}

/// F3: however many guesses arrive at once, no more than ten passwords are checked before
/// the lockout, and a right password inside the burst is refused like any other.
async fn f3_a_burst_of_guesses_gets_ten_checks_and_one_lockout() {
    // Room in the hashing queue for the whole burst: this is about the lockout's count, and a
    // full queue's 503 is limits.rs's subject (120 guesses at once would overflow the
    // default queue's shared part on a loaded machine).
    let mut b = Builder::default();
    b.settings.limits.hash_queue = 512;
    let app = TestApp::start_with(b).await;
    let cid = app.customer("contoso1.onmicrosoft.com").await;
    let v1 = app
        .user(&cid, "victim1@contoso1.onmicrosoft.com", "V1")
        .await;
    let v2 = app
        .user(&cid, "victim2@contoso1.onmicrosoft.com", "V2")
        .await;
    let client = reqwest::Client::new();
    let (wrong, right) = burst(
        &app,
        &client,
        "victim1@contoso1.onmicrosoft.com",
        40,
        Some(GOOD_PASSWORD),
    )
    .await;
    assert!(
        wrong.iter().all(|s| *s == StatusCode::BAD_REQUEST),
        "{wrong:?}"
    );
    assert_eq!(
        right,
        Some(StatusCode::BAD_REQUEST),
        "the right password inside a burst gets no token"
    );
    let t = throttle_of(&app, v1["id"].as_str().unwrap()).await;
    assert!(
        t.is_locked(roster_service::Clock::now(app.clock.as_ref())),
        "{t:?}"
    );
    assert_eq!(t.lockouts, 1, "{t:?}");
    let (wrong, _) = burst(&app, &client, "victim2@contoso1.onmicrosoft.com", 120, None).await;
    assert!(wrong.iter().all(|s| *s == StatusCode::BAD_REQUEST));
    let t = throttle_of(&app, v2["id"].as_str().unwrap()).await;
    assert_eq!(
        (t.lockouts, t.attempts),
        (1, 10),
        "ten checked, one lockout of a minute: {t:?}"
    );
    // A minute later the owner signs in, and that clears the history.
    app.clock.advance(roster_domain::Duration::from_mins(1));
    assert_eq!(
        password_grant_status(
            &app,
            &client,
            "victim2@contoso1.onmicrosoft.com",
            GOOD_PASSWORD
        )
        .await,
        StatusCode::OK
    );
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    f3_a_burst_of_guesses_gets_ten_checks_and_one_lockout
);

/// F3, the owner: a burst from elsewhere locks every source but the networks its owner
/// signed in from, so the owner keeps signing in from its own; guesses from several
/// addresses share one lockout, so spreading them gains nothing.
async fn f3_a_burst_from_elsewhere_does_not_lock_the_owner_out() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let user = app
        .user(&cid, "owner@contoso.onmicrosoft.com", "Owner")
        .await;
    let upn = "owner@contoso.onmicrosoft.com";
    let (home, attacker, attacker2) = (
        client_from("127.0.0.1"),
        client_from("127.0.0.2"),
        client_from("127.0.0.3"),
    );
    assert_eq!(
        password_grant_status(&app, &home, upn, GOOD_PASSWORD).await,
        StatusCode::OK
    );
    let (wrong, right) = burst(&app, &attacker, upn, 30, Some(GOOD_PASSWORD)).await;
    assert!(wrong.iter().all(|s| *s == StatusCode::BAD_REQUEST));
    assert_eq!(right, Some(StatusCode::BAD_REQUEST));
    // The other address shares the attacker's lockout, even with the right password...
    assert_eq!(
        password_grant_status(&app, &attacker2, upn, GOOD_PASSWORD).await,
        StatusCode::BAD_REQUEST
    );
    let t = throttle_of(&app, user["id"].as_str().unwrap()).await;
    // The owner's first sign-in (from a network not yet familiar) and ten guesses.
    assert_eq!((t.lockouts, t.attempts), (1, 11), "{t:?}");
    // ...while the owner, from the network it signed in from, is not locked out.
    assert_eq!(
        password_grant_status(&app, &home, upn, GOOD_PASSWORD).await,
        StatusCode::OK
    );
    // Its own network has a lockout of its own: ten failures from it lock it.
    for i in 0..10 {
        assert_eq!(
            password_grant_status(&app, &home, upn, &format!("Typo-{i}-Xq!")).await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        password_grant_status(&app, &home, upn, GOOD_PASSWORD).await,
        StatusCode::BAD_REQUEST
    );
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    f3_a_burst_from_elsewhere_does_not_lock_the_owner_out
);

/// F14: a wrong guess costs the same write whether the account exists or not (unknown user
/// names get a lockout of their own under a keyed name), so timing tells nothing, and a
/// scanner of user names is throttled too.
async fn f14_unknown_accounts_are_counted_like_known_ones() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();
    let (wrong, right) = burst(&app, &client, "nobody@partner.local", 30, None).await;
    assert!(wrong.iter().all(|s| *s == StatusCode::BAD_REQUEST));
    assert_eq!(right, None);
    let subject = app
        .roster
        .keys()
        .current()
        .unknown_account_subject("NOBODY@partner.local");
    let t = throttle_of(&app, &subject).await;
    assert_eq!((t.lockouts, t.attempts), (1, 10), "{t:?}");
    // Nothing of the name itself is stored.
    assert!(!contains_bytes(
        &app.stored_bytes().await,
        "nobody@partner.local"
    ));
    // A day later the maintenance forgets it.
    app.clock.advance(roster_domain::Duration::from_days(2));
    app.roster.run_maintenance().await.unwrap();
    assert_eq!(throttle_of(&app, &subject).await, Default::default());
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    f14_unknown_accounts_are_counted_like_known_ones
);

/// F15 of the security review: an application is confidential unless registered as a public
/// client; a confidential one gets App+User tokens only with its secret.
async fn f15_only_public_clients_sign_users_in_without_a_secret() {
    let app = TestApp::start().await;
    let grant = |id: String, secret: Option<String>| {
        let mut form = vec![
            ("grant_type", "password".to_string()),
            ("username", ADMIN.to_string()),
            ("password", ADMIN_PASSWORD.to_string()),
            ("client_id", id),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        let r = app.client.post(app.url("/oauth2/token")).form(&form).send();
        async move { into_parts(r.await.unwrap()).await }
    };
    let (s, confidential) = app
        .post("/v1/applications", json!({"displayName": "Sync service"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{confidential}");
    assert_eq!(confidential["publicClient"], false);
    let (s, public) = app
        .post(
            "/v1/applications",
            json!({"displayName": "Admin's script", "publicClient": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{public}");
    assert_eq!(public["publicClient"], true);
    let id = |b: &Value| b["clientId"].as_str().unwrap().to_string();
    let secret = |b: &Value| Some(b["clientSecret"].as_str().unwrap().to_string());
    let (s, b) = grant(id(&confidential), None).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{b}"
    );
    assert_eq!(
        grant(id(&confidential), secret(&confidential)).await.0,
        StatusCode::OK
    );
    assert_eq!(grant(id(&public), None).await.0, StatusCode::OK);
    assert_eq!(
        grant(id(&public), Some("wrong".into())).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = app.get("/v1/applications").await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == public["id"])
        .unwrap();
    assert_eq!(listed["publicClient"], true, "{list}");
}
on_both_backends!(f15_only_public_clients_sign_users_in_without_a_secret);

/// F16: repeats of a request still running wait on reads, woken when its answer is recorded,
/// instead of two write transactions each every 20 ms (which queue for SQLite's one writer).
async fn f16_waiting_repeats_do_not_write() {
    use sha2::Digest;
    // No maintenance pass meanwhile: it writes.
    let app = TestApp::start_with(Builder {
        purge_interval: std::time::Duration::from_secs(3600),
        ..Default::default()
    })
    .await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let caller = app.roster.authenticate(&app.token).await.unwrap().user;
    let path = format!("/v1/customers/{cid}/users");
    let body = json!({"userPrincipalName": "once@contoso.onmicrosoft.com", "displayName": "Once"})
        .to_string();
    let key = roster_service::requests::RequestKey {
        caller: caller.to_string(),
        request_id: uuid::Uuid::new_v4().to_string(),
        method: "POST".into(),
        // As the idempotency ledger keeps it: without the /v1 prefix.
        path: path.trim_start_matches("/v1").to_string(),
        body_hash: sha2::Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    // An owner that takes its time (as one on another server, or stuck behind a hash).
    assert_eq!(
        app.roster.claim_request(&key).await.unwrap(),
        roster_service::requests::RequestClaim::Owner
    );
    let n = 10;
    let repeats: Vec<_> = (0..n)
        .map(|_| {
            let request = app
                .req(Method::POST, &path)
                .header("MS-RequestId", &key.request_id)
                .header("Content-Type", "application/json")
                .body(body.clone());
            tokio::spawn(async move { into_parts(request.send().await.unwrap()).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = app.roster.store().write_transactions();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let during = app.roster.store().write_transactions() - before;
    // (At most the activity history's batch of the earlier requests writes meanwhile.)
    assert!(
        during <= 1,
        "{during} write transactions while {n} repeats waited"
    );
    assert!(
        repeats.iter().all(|r| !r.is_finished()),
        "they wait for the answer"
    );
    let answer =
        json!({"headers": [], "body": json!({"id": "the-first-answer"}).to_string()}).to_string();
    app.roster.finish_request(&key, 201, &answer).await.unwrap();
    for r in repeats {
        let (s, b) = r.await.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["id"], "the-first-answer");
    }
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    f16_waiting_repeats_do_not_write
);
