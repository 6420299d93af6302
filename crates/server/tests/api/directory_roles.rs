//! Directory roles of customer tenants (operations 10–14) and customer users acting in their
//! own tenant by them: sign-in, the forced password change, what each role allows, target
//! tiers that follow membership, isolation from other customers and from the partner's
//! account, and the approval of a relationship by the customer's Global Administrator.

use reqwest::{Method, StatusCode};
use roster_domain::authz::DirectoryRole;
use serde_json::{json, Value};

use crate::common::*;

const GA: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

fn members_path(cid: &str, role: &str) -> String {
    format!("/v1/customers/{cid}/directoryroles/{role}/usermembers")
}

async fn add_member(app: &TestApp, cid: &str, role: &str, uid: &str) {
    let (s, b) = app
        .post(
            &members_path(cid, role),
            json!({"Id": uid, "Attributes": {"ObjectType": "UserMember"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

/// A customer user with a known, non-temporary password; returns its id.
async fn customer_user(app: &TestApp, cid: &str, upn: &str) -> String {
    let (s, b) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": upn, "displayName": upn, "usageLocation": "US",
                   "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn ids_of(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn the_catalogue_members_and_a_users_roles() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (s, catalogue) = app
        .get(&format!("/v1/customers/{cid}/directoryroles"))
        .await;
    assert_eq!(s, StatusCode::OK, "{catalogue}");
    assert_eq!(catalogue["totalCount"], 12);
    assert_eq!(catalogue["attributes"]["objectType"], "Collection");
    for role in DirectoryRole::ALL {
        assert!(
            catalogue["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == role.id()
                    && i["name"] == role.name()
                    && i["attributes"]["objectType"] == "DirectoryRole"),
            "{role:?}"
        );
    }
    let mut users = Vec::new();
    for n in 0..3 {
        users.push(customer_user(&app, &cid, &format!("u{n}@contoso.onmicrosoft.com")).await);
    }
    // Add (201, with roleId); adding again changes nothing and answers the same.
    let (s, m) = app
        .post(
            &members_path(&cid, HELPDESK_ADMIN),
            json!({"id": users[0], "displayName": "ignored"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["roleId"], HELPDESK_ADMIN);
    assert_eq!(m["userPrincipalName"], "u0@contoso.onmicrosoft.com");
    assert_eq!(m["attributes"]["objectType"], "UserMember");
    add_member(&app, &cid, HELPDESK_ADMIN, &users[0]).await;
    add_member(&app, &cid, HELPDESK_ADMIN, &users[1]).await;
    add_member(&app, &cid, HELPDESK_ADMIN, &users[2]).await;
    add_member(&app, &cid, USER_ADMIN, &users[0]).await;
    let adds = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.operation.as_str() == "add_user_member")
        .count();
    assert_eq!(adds, 4, "a repeated add writes no record");
    // A user's roles.
    let (s, roles) = app
        .get(&format!(
            "/v1/customers/{cid}/users/{}/directoryroles",
            users[0]
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{roles}");
    let mut got = ids_of(&roles);
    got.sort();
    let mut want = vec![USER_ADMIN.to_string(), HELPDESK_ADMIN.to_string()];
    want.sort();
    assert_eq!(got, want);
    // Members, a page of 2 at a time, following the continuation token.
    let (s, page) = app
        .get(&format!("{}?size=2", members_path(&cid, HELPDESK_ADMIN)))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], 2);
    let token = page["continuationToken"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let next = &page["links"]["next"];
    assert_eq!(next["headers"][0]["key"], "MS-ContinuationToken");
    let r = app
        .req(
            Method::GET,
            &format!("{}?seekOperation=Next", members_path(&cid, HELPDESK_ADMIN)),
        )
        .header("MS-ContinuationToken", &token)
        .send()
        .await
        .unwrap();
    let (s, rest) = into_parts(r).await;
    assert_eq!(s, StatusCode::OK, "{rest}");
    assert_eq!(rest["continuationToken"], "");
    let mut all = ids_of(&page);
    all.extend(ids_of(&rest));
    all.sort();
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(all, expected);
    // A token of another role's list is refused.
    let r = app
        .req(
            Method::GET,
            &format!("{}?seekOperation=Next", members_path(&cid, USER_ADMIN)),
        )
        .header("MS-ContinuationToken", &token)
        .send()
        .await
        .unwrap();
    assert_error(&into_parts(r).await, StatusCode::BAD_REQUEST, 3000);
    // Sizes: 0 is the default, 1–500, anything else refused.
    let (s, _) = app
        .get(&format!("{}?size=0", members_path(&cid, HELPDESK_ADMIN)))
        .await;
    assert_eq!(s, StatusCode::OK);
    let got = app
        .get(&format!("{}?size=501", members_path(&cid, HELPDESK_ADMIN)))
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    // Remove (204); again: not a member (404 1000).
    let path = format!("{}/{}", members_path(&cid, HELPDESK_ADMIN), users[1]);
    let (s, _) = app.delete(&path).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, 1000);
    assert!(app
        .audit_operations()
        .await
        .contains(&"remove_user_member".to_string()));
    // Unknown role, unknown user, bad ids.
    let unknown_role = "00000000-0000-4000-8000-000000000001";
    assert_error(
        &app.get(&members_path(&cid, unknown_role)).await,
        StatusCode::NOT_FOUND,
        1000,
    );
    assert_error(
        &app.post(&members_path(&cid, unknown_role), json!({"id": users[0]}))
            .await,
        StatusCode::NOT_FOUND,
        1000,
    );
    assert_error(
        &app.post(
            &members_path(&cid, GA),
            json!({"id": "5e7c9b1e-0000-4000-8000-000000000000"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    assert_error(
        &app.post(&members_path(&cid, GA), json!({"id": "nope"}))
            .await,
        StatusCode::BAD_REQUEST,
        2000,
    );
    assert_error(
        &app.get(&format!(
            "/v1/customers/{cid}/users/5e7c9b1e-0000-4000-8000-000000000000/directoryroles"
        ))
        .await,
        StatusCode::NOT_FOUND,
        60002,
    );
}
on_both_backends!(the_catalogue_members_and_a_users_roles);

async fn delete_hides_memberships_and_restore_brings_them_back() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let uid = customer_user(&app, &cid, "ada@contoso.onmicrosoft.com").await;
    add_member(&app, &cid, USER_ADMIN, &uid).await;
    let (s, _) = app
        .delete(&format!("/v1/customers/{cid}/users/{uid}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, members) = app.get(&members_path(&cid, USER_ADMIN)).await;
    assert_eq!(members["totalCount"], 0, "{members}");
    // A deleted user cannot be given a role.
    assert_error(
        &app.post(&members_path(&cid, GA), json!({"id": uid})).await,
        StatusCode::NOT_FOUND,
        60002,
    );
    let (s, b) = app
        .patch(
            &format!("/v1/customers/{cid}/users/{uid}"),
            json!({"state": "active"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, members) = app.get(&members_path(&cid, USER_ADMIN)).await;
    assert_eq!(ids_of(&members), vec![uid.clone()]);
    let (_, roles) = app
        .get(&format!("/v1/customers/{cid}/users/{uid}/directoryroles"))
        .await;
    assert_eq!(ids_of(&roles), vec![USER_ADMIN.to_string()]);
}
on_both_backends!(delete_hides_memberships_and_restore_brings_them_back);

async fn customer_users_sign_in_and_act_in_their_own_tenant_by_their_roles() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let other = app.customer("fabrikam.onmicrosoft.com").await;
    let stranger = customer_user(&app, &other, "x@fabrikam.onmicrosoft.com").await;
    // A user with a generated temporary password must change it first.
    let (s, created) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "displayName": "Ada"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let ada = created["id"].as_str().unwrap().to_string();
    let temporary = created["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = app
        .sign_in("ada@contoso.onmicrosoft.com", &temporary)
        .await
        .unwrap_err();
    assert_eq!(
        refused.1["error"], "password_change_required",
        "{}",
        refused.1
    );
    let r = app
        .client
        .post(app.url("/v1/passwordchange"))
        .json(&json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "currentPassword": temporary, "newPassword": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let token = app
        .sign_in("ada@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    let users = format!("/v1/customers/{cid}/users");

    // Without a directory role: its own customer, and nothing else.
    let (s, c) = call(
        &app,
        &token,
        Method::GET,
        &format!("/v1/customers/{cid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (s, list) = call(&app, &token, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(ids_of(&list), vec![cid.clone()]);
    assert_error(
        &call(&app, &token, Method::GET, &users, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    for path in [
        format!("/v1/customers/{other}"),
        format!("/v1/customers/{other}/users"),
        format!("/v1/customers/{other}/users/{stranger}"),
        format!("/v1/customers/{other}/directoryroles"),
    ] {
        assert_error(
            &call(&app, &token, Method::GET, &path, None).await,
            StatusCode::NOT_FOUND,
            60003,
        );
    }
    for path in [
        "/v1/users",
        "/v1/roles",
        "/v1/groups",
        "/v1/invitations",
        "/v1/applications",
    ] {
        assert_error(
            &call(&app, &token, Method::GET, path, None).await,
            StatusCode::FORBIDDEN,
            900150,
        );
    }
    let got = call(
        &app,
        &token,
        Method::POST,
        "/v1/customers",
        Some(json!({"companyProfile": {"domain": "mine.onmicrosoft.com", "companyName": "Mine"}})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
    let got = call(
        &app,
        &token,
        Method::PATCH,
        &format!("/v1/customers/{cid}"),
        Some(json!({"allowDelegatedAccess": false})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);

    // User Administrator: creates and edits users of its own tenant; the audit record names it.
    add_member(&app, &cid, USER_ADMIN, &ada).await;
    let (s, bob) = call(
        &app,
        &token,
        Method::POST,
        &users,
        Some(json!({"userPrincipalName": "bob@contoso.onmicrosoft.com", "displayName": "Bob"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{bob}");
    let bob = bob["id"].as_str().unwrap().to_string();
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| r.operation.as_str() == "create_customer_user" && r.resource_id == bob)
        .unwrap();
    assert_eq!(record.actor.map(|a| a.to_string()), Some(ada.clone()));
    assert_eq!(record.customer.map(|c| c.to_string()), Some(cid.clone()));
    let got = call(
        &app,
        &token,
        Method::POST,
        &format!("/v1/customers/{other}/users"),
        Some(json!({"userPrincipalName": "z@fabrikam.onmicrosoft.com", "displayName": "Z"})),
    )
    .await;
    assert_error(&got, StatusCode::NOT_FOUND, 60003);
    // It may not hand out roles: that takes a Privileged Role Administrator.
    let got = call(
        &app,
        &token,
        Method::POST,
        &members_path(&cid, GA),
        Some(json!({"id": ada})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);

    // Tiers follow membership: a User Administrator resets a plain user's password, not a
    // Global Administrator's; when the target loses the role, it may again.
    let reset =
        json!({"passwordProfile": {"password": "Fresh-Pass-77x", "forceChangePassword": true}});
    let bob_path = format!("{users}/{bob}");
    let (s, b) = call(&app, &token, Method::PATCH, &bob_path, Some(reset.clone())).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    add_member(&app, &cid, GA, &bob).await;
    let before = app.audit_records().await.len();
    assert_error(
        &call(&app, &token, Method::PATCH, &bob_path, Some(reset.clone())).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &call(&app, &token, Method::DELETE, &bob_path, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_eq!(
        app.audit_records().await.len(),
        before,
        "a refused call writes nothing"
    );
    let (s, _) = app
        .delete(&format!("{}/{bob}", members_path(&cid, GA)))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = call(&app, &token, Method::PATCH, &bob_path, Some(reset)).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Losing its own role takes effect on the next request.
    let (s, _) = app
        .delete(&format!("{}/{ada}", members_path(&cid, USER_ADMIN)))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &call(&app, &token, Method::GET, &users, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Deleting the user ends its token at once.
    let (s, _) = app.delete(&format!("{users}/{ada}")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        &token,
        Method::GET,
        &format!("/v1/customers/{cid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
on_both_backends!(customer_users_sign_in_and_act_in_their_own_tenant_by_their_roles);

async fn the_customers_global_administrator_approves_a_relationship() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let ga = customer_user(&app, &cid, "ga@contoso.onmicrosoft.com").await;
    customer_user(&app, &cid, "plain@contoso.onmicrosoft.com").await;
    add_member(&app, &cid, GA, &ga).await;
    let base = format!("/v1/customers/{cid}/delegatedadminrelationships");
    let (s, rel) = app
        .post(
            &base,
            json!({"displayName": "Helpdesk", "duration": "P30D", "roles": [USER_ADMIN]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rel}");
    let rid = rel["id"].as_str().unwrap();
    assert_eq!(rel["status"], "approval_pending");
    // A user without Global Administrator may not approve.
    let plain_token = app
        .sign_in("plain@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    let got = call(
        &app,
        &plain_token,
        Method::POST,
        &format!("{base}/{rid}/approve"),
        Some(json!({})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
    let token = app
        .sign_in("ga@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    let (s, list) = call(&app, &token, Method::GET, &base, None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["totalCount"], 1);
    let (s, approved) = call(
        &app,
        &token,
        Method::POST,
        &format!("{base}/{rid}/approve"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "active");
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| r.operation.as_str() == "approve_delegated_admin_relationship")
        .unwrap();
    assert_eq!(record.actor.map(|a| a.to_string()), Some(ga.clone()));
    // It cannot create or terminate relationships: those are the partner's.
    let got = call(
        &app,
        &token,
        Method::POST,
        &format!("{base}/{rid}/terminate"),
        Some(json!({})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
    let got = call(
        &app,
        &token,
        Method::POST,
        &base,
        Some(json!({"displayName": "Mine", "duration": "P30D", "roles": [USER_ADMIN]})),
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, 900150);
}
on_both_backends!(the_customers_global_administrator_approves_a_relationship);
