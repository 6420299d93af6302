use reqwest::{Method, StatusCode};
use roster_domain::Duration;
use serde_json::json;

use crate::common::*;

async fn setup() -> (TestApp, String) {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    (app, cid)
}

fn users(cid: &str) -> String {
    format!("/v1/customers/{cid}/users")
}

fn user(cid: &str, uid: &str) -> String {
    format!("/v1/customers/{cid}/users/{uid}")
}

async fn audit_ops(app: &TestApp) -> Vec<String> {
    app.audit_operations().await
}

async fn create_with_a_generated_password_shows_it_once() {
    let (app, cid) = setup().await;
    let (status, body) = app
        .post(&users(&cid), json!({"userPrincipalName": "Ada@contoso.onmicrosoft.com", "displayName": "Ada Lovelace", "usageLocation": "gb"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let password = body["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);
    assert_eq!(body["passwordProfile"]["forceChangePassword"], true);
    assert_eq!(body["userPrincipalName"], "Ada@contoso.onmicrosoft.com");
    assert_eq!(body["usageLocation"], "GB");
    assert_eq!(body["state"], "active");
    assert_eq!(body["userDomainType"], "none");
    assert_eq!(body["attributes"]["objectType"], "CustomerUser");
    let uid = body["id"].as_str().unwrap();
    assert_eq!(
        body["links"]["self"]["uri"],
        format!("/customers/{cid}/users/{uid}")
    );
    // Never again: not on GET, not in the list, not in the database file.
    let (_, got) = app.get(&user(&cid, uid)).await;
    assert!(got.get("passwordProfile").is_none(), "{got}");
    let (_, list) = app.get(&users(&cid)).await;
    assert!(!list.to_string().contains(&password));
    assert!(
        !contains_bytes(&app.stored_bytes().await, &password),
        "plaintext password stored"
    );
    assert!(audit_ops(&app)
        .await
        .contains(&"create_customer_user".to_string()));
}
on_both_backends!(create_with_a_generated_password_shows_it_once);

async fn dotnet_sdk_shaped_bodies() {
    let (app, cid) = setup().await;
    let create = json!({"UsageLocation":"US","Id":null,"UserPrincipalName":"grace@contoso.onmicrosoft.com","FirstName":"Grace",
        "LastName":null,"DisplayName":"Grace Hopper","PasswordProfile":{"ForceChangePassword":true,"Password":GOOD_PASSWORD},
        "LastDirectorySyncTime":null,"UserDomainType":"none","State":"active","SoftDeletionTime":null,
        "Attributes":{"ObjectType":"CustomerUser"}});
    let r = app
        .req(Method::POST, &format!("{}/", users(&cid)))
        .json(&create)
        .send()
        .await
        .unwrap();
    let (status, body) = into_parts(r).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["passwordProfile"]["password"], GOOD_PASSWORD);
    assert_eq!(body["passwordProfile"]["forceChangePassword"], true);
    assert_eq!(body["firstName"], "Grace");
    assert!(body.get("lastName").is_none());
    let uid = body["id"].as_str().unwrap();
    // The SDK's PATCH: State active, nulls for everything it does not change.
    let patch = json!({"UsageLocation":null,"Id":uid,"UserPrincipalName":null,"FirstName":null,"LastName":"Hopper",
        "DisplayName":null,"PasswordProfile":null,"LastDirectorySyncTime":null,"UserDomainType":"none","State":"active",
        "SoftDeletionTime":null,"Attributes":{"ObjectType":"CustomerUser"}});
    let (status, body) = app.patch(&user(&cid, uid), patch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lastName"], "Hopper");
    assert_eq!(body["firstName"], "Grace");
    assert_eq!(body["displayName"], "Grace Hopper");
    assert_eq!(body["usageLocation"], "US");
    assert!(body.get("passwordProfile").is_none());
    // GET and DELETE with a Content-Type and no body, and trailing slashes.
    let r = app
        .req(Method::GET, &format!("{}/", user(&cid, uid)))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .req(Method::DELETE, &user(&cid, uid))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
on_both_backends!(dotnet_sdk_shaped_bodies);

async fn validation_reports_every_property() {
    let (app, cid) = setup().await;
    let got = app
        .post(&users(&cid), json!({"userPrincipalName": ".bad@contoso.onmicrosoft.com", "firstName": "x".repeat(65),
            "usageLocation": "UK", "immutableId": "i".repeat(257), "phoneNumber": "1".repeat(65), "passwordProfile": {"password": "short"}}))
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(
        got.1["data"],
        json!([
            "userPrincipalName",
            "displayName",
            "firstName",
            "immutableId",
            "phoneNumber",
            "usageLocation",
            "passwordProfile.password"
        ])
    );
}
on_both_backends!(validation_reports_every_property);

async fn upn_is_unique_among_active_users_case_insensitively() {
    let (app, cid) = setup().await;
    let first = app.user(&cid, "sam@contoso.onmicrosoft.com", "Sam").await;
    let dup = app
        .post(
            &users(&cid),
            json!({"userPrincipalName": "SAM@Contoso.OnMicrosoft.com", "displayName": "Sam 2"}),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, 60004);
    // A soft-deleted user keeps its UPN but does not block a new user.
    let uid = first["id"].as_str().unwrap();
    assert_eq!(app.delete(&user(&cid, uid)).await.0, StatusCode::NO_CONTENT);
    let again = app
        .user(&cid, "sam@contoso.onmicrosoft.com", "Sam again")
        .await;
    assert_ne!(again["id"], first["id"]);
    // Renaming onto a taken UPN is refused too.
    let other = app.user(&cid, "kim@contoso.onmicrosoft.com", "Kim").await;
    let rename = app
        .patch(
            &user(&cid, other["id"].as_str().unwrap()),
            json!({"userPrincipalName": "Sam@contoso.onmicrosoft.com"}),
        )
        .await;
    assert_error(&rename, StatusCode::CONFLICT, 60004);
}
on_both_backends!(upn_is_unique_among_active_users_case_insensitively);

async fn patch_edits_clears_and_changes_upn() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "lee@contoso.onmicrosoft.com", "Lee").await;
    let uid = u["id"].as_str().unwrap();
    let (s, b) = app
        .patch(&user(&cid, uid), json!({"firstName": "Lee", "phoneNumber": "+1 555 0100", "userPrincipalName": "lee.x@contoso.onmicrosoft.com"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["userPrincipalName"], "lee.x@contoso.onmicrosoft.com");
    assert_eq!(b["phoneNumber"], "+1 555 0100");
    let (s, b) = app
        .patch(&user(&cid, uid), json!({"phoneNumber": ""}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(b.get("phoneNumber").is_none(), "cleared: {b}");
    let ops = audit_ops(&app).await;
    assert!(
        ops.contains(&"update_customer_user_principal_name".to_string()),
        "{ops:?}"
    );
    assert!(ops.contains(&"update_customer_user".to_string()), "{ops:?}");
    // state: inactive is not a delete.
    assert_error(
        &app.patch(&user(&cid, uid), json!({"state": "inactive"}))
            .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    assert_error(
        &app.patch(&user(&cid, uid), json!({"displayName": "  "}))
            .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(patch_edits_clears_and_changes_upn);

async fn reset_password_and_the_flag_alone() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "pat@contoso.onmicrosoft.com", "Pat").await;
    let uid = u["id"].as_str().unwrap();
    let (s, b) = app
        .patch(&user(&cid, uid), json!({"passwordProfile": {"password": "Fresh-Start-77x", "forceChangePassword": true}, "attributes": {"objectType": "CustomerUser"}}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["passwordProfile"],
        json!({"password": "Fresh-Start-77x", "forceChangePassword": true})
    );
    let (s, b) = app
        .patch(
            &user(&cid, uid),
            json!({"passwordProfile": {"password": null, "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["passwordProfile"], json!({"forceChangePassword": false}));
    let weak = app
        .patch(
            &user(&cid, uid),
            json!({"passwordProfile": {"password": "password"}}),
        )
        .await;
    assert_error(&weak, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(weak.1["data"], json!(["passwordProfile.password"]));
    let ops = audit_ops(&app).await;
    assert_eq!(
        ops.iter()
            .filter(|o| *o == "reset_customer_user_password")
            .count(),
        2,
        "{ops:?}"
    );
    // No audit record carries a password.
    let all = app.audit_records().await;
    assert!(all
        .iter()
        .all(|a| !a.new_value.contains("Fresh-Start-77x") && !a.new_value.contains(GOOD_PASSWORD)));
}
on_both_backends!(reset_password_and_the_flag_alone);

async fn delete_restore_round_trip() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "rob@contoso.onmicrosoft.com", "Rob").await;
    let uid = u["id"].as_str().unwrap();
    assert_eq!(app.delete(&user(&cid, uid)).await.0, StatusCode::NO_CONTENT);
    // Deleted: gone from the default list, in the inactive list, visible by id.
    let (_, list) = app.get(&users(&cid)).await;
    assert_eq!(list["totalCount"], 0);
    let (s, got) = app.get(&user(&cid, uid)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["state"], "inactive");
    assert_eq!(got["softDeletionTime"], "2026-01-05T09:00:00Z");
    // Deleting again: 60002. Editing: 60005.
    assert_error(
        &app.delete(&user(&cid, uid)).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    assert_error(
        &app.patch(&user(&cid, uid), json!({"displayName": "X"}))
            .await,
        StatusCode::CONFLICT,
        60005,
    );
    // Restore with another change in the same body.
    let (s, b) = app
        .patch(&user(&cid, uid), json!({"State": "Active", "DisplayName": "Rob Restored", "Attributes": {"ObjectType": "CustomerUser"}}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "active");
    assert_eq!(b["displayName"], "Rob Restored");
    assert!(b.get("softDeletionTime").is_none());
    let ops = audit_ops(&app).await;
    for op in [
        "delete_customer_user",
        "restore_customer_user",
        "update_customer_user",
    ] {
        assert!(ops.contains(&op.to_string()), "{op} in {ops:?}");
    }
}
on_both_backends!(delete_restore_round_trip);

async fn restore_when_the_upn_was_taken() {
    let (app, cid) = setup().await;
    let old = app.user(&cid, "max@contoso.onmicrosoft.com", "Max").await;
    let uid = old["id"].as_str().unwrap();
    app.delete(&user(&cid, uid)).await;
    app.user(&cid, "MAX@contoso.onmicrosoft.com", "New Max")
        .await;
    let blocked = app
        .patch(&user(&cid, uid), json!({"state": "active"}))
        .await;
    assert_error(&blocked, StatusCode::CONFLICT, 60006);
    let (s, b) = app
        .patch(
            &user(&cid, uid),
            json!({"state": "active", "userPrincipalName": "max.old@contoso.onmicrosoft.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["userPrincipalName"], "max.old@contoso.onmicrosoft.com");
    assert_eq!(b["state"], "active");
}
on_both_backends!(restore_when_the_upn_was_taken);

async fn etag_and_if_match() {
    let (app, cid) = setup().await;
    let u = app.user(&cid, "eve@contoso.onmicrosoft.com", "Eve").await;
    let uid = u["id"].as_str().unwrap();
    let etag = u["attributes"]["etag"].as_str().unwrap().to_string();
    let r = app.req(Method::GET, &user(&cid, uid)).send().await.unwrap();
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    let ok = app
        .req(Method::PATCH, &user(&cid, uid))
        .header("If-Match", &etag)
        .json(&json!({"displayName": "Eve 2"}))
        .send()
        .await
        .unwrap();
    let (s, b) = into_parts(ok).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(
        b["attributes"]["etag"].as_str().unwrap(),
        etag,
        "the etag changes on every write"
    );
    let stale = app
        .req(Method::PATCH, &user(&cid, uid))
        .header("If-Match", &etag)
        .json(&json!({"displayName": "Eve 3"}))
        .send()
        .await
        .unwrap();
    assert_error(
        &into_parts(stale).await,
        StatusCode::PRECONDITION_FAILED,
        60008,
    );
    let (_, now) = app.get(&user(&cid, uid)).await;
    assert_eq!(
        now["displayName"], "Eve 2",
        "a refused PATCH changes nothing"
    );
    let stale_delete = app
        .req(Method::DELETE, &user(&cid, uid))
        .header("If-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_error(
        &into_parts(stale_delete).await,
        StatusCode::PRECONDITION_FAILED,
        60008,
    );
    let any = app
        .req(Method::DELETE, &user(&cid, uid))
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(any.status(), StatusCode::NO_CONTENT);
}
on_both_backends!(etag_and_if_match);

async fn not_found_and_bad_ids() {
    let (app, cid) = setup().await;
    let missing = uuid::Uuid::new_v4();
    assert_error(
        &app.get(&user(&cid, &missing.to_string())).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    assert_error(
        &app.patch(
            &user(&cid, &missing.to_string()),
            json!({"displayName": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    assert_error(
        &app.delete(&user(&cid, &missing.to_string())).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    let bad = app.get(&user(&cid, "123")).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, 2000);
    assert_eq!(bad.1["description"], "User Id must be a GUID.");
    assert_error(
        &app.get(&users("nope")).await,
        StatusCode::BAD_REQUEST,
        2000,
    );
    assert_error(
        &app.get(&users(&missing.to_string())).await,
        StatusCode::NOT_FOUND,
        60003,
    );
    // A user of another customer is not found through this one.
    let other = app.customer("other.com").await;
    let theirs = app.user(&other, "zed@other.com", "Zed").await;
    assert_error(
        &app.get(&user(&cid, theirs["id"].as_str().unwrap())).await,
        StatusCode::NOT_FOUND,
        60002,
    );
}
on_both_backends!(not_found_and_bad_ids);

async fn purge_after_the_retention_under_the_injected_clock() {
    let (mut app, cid) = setup().await;
    let keep = app.user(&cid, "keep@contoso.onmicrosoft.com", "Keep").await;
    let gone = app.user(&cid, "gone@contoso.onmicrosoft.com", "Gone").await;
    let (keep_id, gone_id) = (keep["id"].as_str().unwrap(), gone["id"].as_str().unwrap());
    app.delete(&user(&cid, gone_id)).await;
    app.advance(Duration::from_days(29)).await;
    app.delete(&user(&cid, keep_id)).await;
    app.advance(Duration::from_millis(Duration::from_days(1).millis() + 1))
        .await;
    // The purge job runs every 50 ms in tests: wait for it to see the new time.
    let mut purged = false;
    for _ in 0..200 {
        if app.get(&user(&cid, gone_id)).await.0 == StatusCode::NOT_FOUND {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(purged, "the user deleted 30 days ago was not purged");
    assert_error(
        &app.patch(&user(&cid, gone_id), json!({"state": "active"}))
            .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    // The one deleted a day ago is still restorable.
    let (s, b) = app
        .patch(&user(&cid, keep_id), json!({"state": "active"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(audit_ops(&app)
        .await
        .contains(&"purge_customer_user".to_string()));
}
on_both_backends!(purge_after_the_retention_under_the_injected_clock);

async fn concurrent_creates_of_one_upn_make_exactly_one_user() {
    let (app, cid) = setup().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = app.clone();
        let path = users(&cid);
        tasks.push(tokio::spawn(async move {
            app.post(&path, json!({"userPrincipalName": "race@contoso.onmicrosoft.com", "displayName": format!("Racer {i}")}))
                .await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let got = t.await.unwrap();
        if got.0 == StatusCode::CREATED {
            created += 1;
        } else {
            assert_error(&got, StatusCode::CONFLICT, 60004);
        }
    }
    assert_eq!(created, 1);
    let (_, list) = app.get(&users(&cid)).await;
    assert_eq!(list["totalCount"], 1);
}
on_both_backends!(concurrent_creates_of_one_upn_make_exactly_one_user);

/// POST …/resetpassword: Roster generates the temporary password (shown once; a replay
/// shows it null), the old password and the user's tokens stop working, the flag follows the
/// body, and a deleted user or an unknown one is refused.
async fn reset_password_generates_a_temporary_password_once() {
    let (app, cid) = setup().await;
    let (_, created) = app
        .post(
            &users(&cid),
            json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "displayName": "Ada",
                   "passwordProfile": {"password": "First-Own-Pass-1", "forceChangePassword": false}}),
        )
        .await;
    let uid = created["id"].as_str().unwrap().to_string();
    let token = app
        .sign_in("ada@contoso.onmicrosoft.com", "First-Own-Pass-1")
        .await
        .unwrap();
    let reset = format!("{}/resetpassword", user(&cid, &uid));
    let r = app
        .req(Method::POST, &reset)
        .header("MS-RequestId", "7b0e7a36-5b8b-4f7e-9a59-2b1d2c3d4e5f")
        .send()
        .await
        .unwrap();
    let (status, body) = into_parts(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let password = body["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);
    assert_eq!(body["passwordProfile"]["forceChangePassword"], true);
    assert!(!password.starts_with(['=', '+', '-', '@']));
    // The old password and the old token are over; the new password must be changed first.
    assert!(app
        .sign_in("ada@contoso.onmicrosoft.com", "First-Own-Pass-1")
        .await
        .is_err());
    let (status, _) = into_parts(
        app.client
            .get(app.url(&user(&cid, &uid)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, refused) = app
        .sign_in("ada@contoso.onmicrosoft.com", &password)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // A replay answers the same user without the password, and resets nothing again.
    let (status, replay) = into_parts(
        app.req(Method::POST, &reset)
            .header("MS-RequestId", "7b0e7a36-5b8b-4f7e-9a59-2b1d2c3d4e5f")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        replay["passwordProfile"]["password"],
        serde_json::Value::Null
    );
    assert!(!contains_bytes(&app.stored_bytes().await, &password));
    assert_eq!(
        audit_ops(&app)
            .await
            .iter()
            .filter(|o| *o == "reset_customer_user_password")
            .count(),
        1
    );
    // forceChangePassword: false lets the user sign in with it at once.
    let (status, body) = app
        .post(&reset, json!({"forceChangePassword": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["passwordProfile"]["password"].as_str().unwrap();
    assert!(app
        .sign_in("ada@contoso.onmicrosoft.com", second)
        .await
        .is_ok());
    // A JSON null is no options, as no body is: a new temporary password to change.
    let (status, after_null) = app.post(&reset, serde_json::Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{after_null}");
    assert_eq!(after_null["passwordProfile"]["forceChangePassword"], true);
    // Bad bodies, unknown and deleted users.
    assert_error(
        &app.post(&reset, json!({"forceChange": true})).await,
        StatusCode::BAD_REQUEST,
        800002,
    );
    let unknown = format!(
        "{}/resetpassword",
        user(&cid, &roster_service::new_user_id().to_string())
    );
    assert_error(
        &app.post(&unknown, json!({})).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    app.delete(&user(&cid, &uid)).await;
    assert_error(
        &app.post(&reset, json!({})).await,
        StatusCode::CONFLICT,
        60005,
    );
}
on_both_backends!(reset_password_generates_a_temporary_password_once);
