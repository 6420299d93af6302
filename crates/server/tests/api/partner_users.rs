//! The partner account: users, roles, groups, and who may manage them.

use reqwest::{Method, StatusCode};
use roster_domain::authz::PartnerRole;
use serde_json::json;

use crate::common::*;

const PASSWORD: &str = MEMBER_PASSWORD;

async fn create_list_get_and_sign_in() {
    let app = TestApp::start().await;
    let (s, created) = app
        .post("/v1/users", json!({"userPrincipalName": "Grace@partner.local", "firstName": "Grace", "lastName": "Hopper", "roles": ["User management admin", "Admin agent"]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["displayName"], "Grace Hopper");
    assert_eq!(
        created["roles"],
        json!(["User management admin", "Admin agent"])
    );
    assert_eq!(created["hasAccess"], true);
    assert_eq!(created["userType"], "member");
    assert_eq!(created["passwordProfile"]["forceChangePassword"], true);
    let temporary = created["passwordProfile"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(temporary.len(), 16);
    // The temporary password must be changed before signing in.
    let (s, e) = app
        .sign_in("grace@partner.local", &temporary)
        .await
        .unwrap_err();
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password_change_required"))
    );
    let id = created["id"].as_str().unwrap();
    let (s, got) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(got.get("passwordProfile").is_none());
    let (_, list) = app.get("/v1/users").await;
    assert_eq!(list["totalCount"], 2);
    let (_, admins) = app.get("/v1/users?role=Global%20admin").await;
    assert_eq!(admins["totalCount"], 1);
    assert_eq!(admins["items"][0]["userPrincipalName"], ADMIN);
    // Refusals: a UPN off the partner's domains, a taken UPN, roles and custom permissions
    // together, an unknown role, a directory Global admin without a recovery email.
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let _ = cid;
    for (body, code) in [
        (
            json!({"userPrincipalName": "x@contoso.onmicrosoft.com", "displayName": "X"}),
            3000,
        ),
        (
            json!({"userPrincipalName": "GRACE@partner.local", "displayName": "X"}),
            60004,
        ),
        (
            json!({"userPrincipalName": "y@partner.local", "displayName": "Y", "roles": ["Admin agent"], "customPermissions": {"customers": "read"}}),
            3000,
        ),
        (
            json!({"userPrincipalName": "y@partner.local", "displayName": "Y", "roles": ["Owner"]}),
            3000,
        ),
        (
            json!({"userPrincipalName": "y@partner.local", "displayName": "Y", "isDirectoryGlobalAdmin": true}),
            3000,
        ),
    ] {
        let got = app.post("/v1/users", body.clone()).await;
        assert_eq!(got.1["code"], code, "{body}: {}", got.1);
    }
}
on_both_backends!(create_list_get_and_sign_in);

async fn user_management_admins_cannot_touch_global_admin_or_passwords() {
    let app = TestApp::start().await;
    member(&app, "uma", json!({"roles": ["User management admin"]})).await;
    let target = member(&app, "target", json!({"roles": ["Billing admin"]})).await;
    let tid = target["id"].as_str().unwrap();
    let uma = as_member(&app, "uma").await;
    let before = app.audit_count().await;
    // Refused: granting Global admin, creating directory users, resetting passwords.
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/users/access".to_string(),
            json!({"userIds": [tid], "roles": ["Global admin"]}),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{tid}"),
            json!({"roles": ["Global admin", "Billing admin"]}),
        ),
        (
            Method::POST,
            format!("/v1/roles/{}/usermembers", PartnerRole::GlobalAdmin.id()),
            json!({"id": tid}),
        ),
        (
            Method::POST,
            "/v1/users".to_string(),
            json!({"userPrincipalName": "n@partner.local", "displayName": "N"}),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{tid}"),
            json!({"passwordProfile": {"password": null}}),
        ),
        (
            Method::POST,
            "/v1/groups".to_string(),
            json!({"displayName": "Admins", "roles": ["Global admin"]}),
        ),
    ] {
        let got = call(&app, &uma, method.clone(), &path, Some(body.clone())).await;
        assert_error(&got, StatusCode::FORBIDDEN, 900150);
    }
    assert_eq!(
        app.audit_count().await,
        before,
        "a refused call writes no audit record"
    );
    let (_, t) = app.get(&format!("/v1/users/{tid}")).await;
    assert_eq!(
        t["roles"],
        json!(["Billing admin"]),
        "a refused call changes nothing"
    );
    // Allowed: other roles, for several users at once.
    let other = member(&app, "other", json!({"roles": []})).await;
    let (s, b) = call(
        &app,
        &uma,
        Method::POST,
        "/v1/users/access",
        Some(json!({"userIds": [tid, other["id"]], "roles": ["Admin agent", "Helpdesk agent"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["totalCount"], 2);
    assert_eq!(
        b["items"][1]["roles"],
        json!(["Admin agent", "Helpdesk agent"])
    );
}
on_both_backends!(user_management_admins_cannot_touch_global_admin_or_passwords);

async fn the_last_global_admin_stays() {
    let app = TestApp::start().await;
    let (_, list) = app.get("/v1/users").await;
    let admin = admin_id(&list);
    assert_error(
        &app.delete(&format!("/v1/users/{admin}")).await,
        StatusCode::CONFLICT,
        60005,
    );
    assert_error(
        &app.patch(
            &format!("/v1/users/{admin}"),
            json!({"roles": ["Admin agent"]}),
        )
        .await,
        StatusCode::CONFLICT,
        60005,
    );
    let ga = PartnerRole::GlobalAdmin.id();
    let (s, _) = app
        .delete(&format!("/v1/roles/{ga}/usermembers/{admin}"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // With a second Global admin, the first may go.
    let second = member(&app, "second", json!({"roles": ["Global admin"]})).await;
    let (s, b) = app
        .patch(
            &format!("/v1/users/{admin}"),
            json!({"roles": ["Admin agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Now the second is the last.
    let sid = second["id"].as_str().unwrap();
    assert_error(
        &app.delete(&format!("/v1/users/{sid}")).await,
        StatusCode::FORBIDDEN,
        900150,
    );
}
on_both_backends!(the_last_global_admin_stays);

async fn removal_and_reset_end_sessions_at_once() {
    let app = TestApp::start().await;
    let agent = member(&app, "agent", json!({"roles": ["Admin agent"]})).await;
    let id = agent["id"].as_str().unwrap();
    let token = as_member(&app, "agent").await;
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    // A reset by a Global admin: a new temporary password, shown once; the old token is dead.
    let (s, reset) = app
        .patch(&format!("/v1/users/{id}"), json!({"passwordProfile": {}}))
        .await;
    assert_eq!(s, StatusCode::OK, "{reset}");
    let temporary = reset["passwordProfile"]["password"].as_str().unwrap();
    assert_eq!(reset["passwordProfile"]["forceChangePassword"], true);
    assert_error(
        &call(&app, &token, Method::GET, "/v1/customers", None).await,
        StatusCode::UNAUTHORIZED,
        800001,
    );
    assert_eq!(
        app.sign_in("agent@partner.local", temporary)
            .await
            .unwrap_err()
            .1["error"],
        "password_change_required"
    );
    // Removal: the directory user stays, without access, and cannot sign in.
    app.patch(
        &format!("/v1/users/{id}"),
        json!({"passwordProfile": {"password": PASSWORD, "forceChangePassword": false}}),
    )
    .await;
    let token = as_member(&app, "agent").await;
    assert_eq!(
        app.delete(&format!("/v1/users/{id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &call(&app, &token, Method::GET, "/v1/customers", None).await,
        StatusCode::UNAUTHORIZED,
        800001,
    );
    assert_eq!(
        app.sign_in("agent@partner.local", PASSWORD)
            .await
            .unwrap_err()
            .1["error"],
        "invalid_grant"
    );
    let (_, still) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(still["hasAccess"], false);
    assert_eq!(still["state"], "active");
    // And access can be given back.
    let (s, _) = app
        .post(
            "/v1/users/access",
            json!({"userIds": [id], "roles": ["Sales agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(app.sign_in("agent@partner.local", PASSWORD).await.is_ok());
}
on_both_backends!(removal_and_reset_end_sessions_at_once);

async fn roles_members_and_groups() {
    let app = TestApp::start().await;
    let (s, roles) = app.get("/v1/roles").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(roles["totalCount"], 6);
    let agent_role = PartnerRole::AdminAgent.id();
    let plain = member(&app, "plain", json!({"roles": []})).await;
    let pid = plain["id"].as_str().unwrap();
    let (s, m) = app
        .post(
            &format!("/v1/roles/{agent_role}/usermembers"),
            json!({"Id": pid, "DisplayName": null}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["roleId"], agent_role);
    let (_, members) = app
        .get(&format!("/v1/roles/{agent_role}/usermembers"))
        .await;
    let ids: Vec<&str> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&pid), "{members}");
    assert_eq!(
        app.delete(&format!("/v1/roles/{agent_role}/usermembers/{pid}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/v1/roles/{agent_role}/usermembers/{pid}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/roles/not-a-role/usermembers").await.0,
        StatusCode::NOT_FOUND
    );

    // A group's roles reach its members: the plain user sees customers through the group.
    let token = as_member(&app, "plain").await;
    assert_error(
        &call(&app, &token, Method::GET, "/v1/customers", None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    let (s, g) = app.post("/v1/groups", json!({"displayName": "Agents", "description": "Helpdesk", "roles": ["Helpdesk agent"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap();
    assert_eq!(
        app.post("/v1/groups", json!({"displayName": "agents"}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(&format!("/v1/groups/{gid}/members"), json!({"userId": pid}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, helpdesk) = app
        .get(&format!(
            "/v1/roles/{}/usermembers",
            PartnerRole::HelpdeskAgent.id()
        ))
        .await;
    assert_eq!(
        helpdesk["totalCount"], 1,
        "members through a group count: {helpdesk}"
    );
    let (_, groups) = app.get("/v1/groups").await;
    assert_eq!(groups["items"][0]["roles"], json!(["Helpdesk agent"]));
    let (_, p) = app.get(&format!("/v1/users/{pid}")).await;
    assert_eq!(p["groups"], json!([gid]));
    assert_eq!(
        app.delete(&format!("/v1/groups/{gid}/members/{pid}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &call(&app, &token, Method::GET, "/v1/customers", None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Groups on create and on PATCH.
    let grouped = member(&app, "grouped", json!({"groups": [gid]})).await;
    assert_eq!(grouped["groups"], json!([gid]));
    let (_, ungrouped) = app
        .patch(
            &format!("/v1/users/{}", grouped["id"].as_str().unwrap()),
            json!({"groups": []}),
        )
        .await;
    assert_eq!(ungrouped["groups"], json!([]));
    assert_error(
        &app.post(
            "/v1/users",
            json!({"userPrincipalName": "z@partner.local", "displayName": "Z", "groups": ["nope"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(roles_members_and_groups);

async fn custom_permissions_instead_of_roles() {
    let app = TestApp::start().await;
    let user = member(
        &app,
        "reader",
        json!({"customPermissions": {"customers": "read", "AccountUsers": "Read only"}}),
    )
    .await;
    assert_eq!(
        user["customPermissions"],
        json!({"accountUsers": "read", "customers": "read"})
    );
    assert_eq!(user["roles"], json!([]));
    let token = as_member(&app, "reader").await;
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/customers", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/users", None).await.0,
        StatusCode::OK
    );
    let refused = call(
        &app,
        &token,
        Method::POST,
        "/v1/customers",
        Some(json!({"companyProfile": {"domain": "r.com", "companyName": "R"}})),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, 900150);
    assert_error(
        &call(
            &app,
            &token,
            Method::POST,
            "/v1/groups",
            Some(json!({"displayName": "G"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &app.post("/v1/users", json!({"userPrincipalName": "q@partner.local", "displayName": "Q", "customPermissions": {"billing": "read"}})).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(custom_permissions_instead_of_roles);

async fn each_users_history_and_last_activity() {
    let app = TestApp::start().await;
    let m = member(&app, "busy", json!({"roles": ["Admin agent"]})).await;
    let id = m["id"].as_str().unwrap();
    assert!(m.get("lastActivity").is_none(), "no request yet: {m}");
    let token = as_member(&app, "busy").await;
    call(&app, &token, Method::GET, "/v1/customers", None).await;
    app.clock.advance(roster_domain::Duration::from_secs(5));
    call(&app, &token, Method::GET, "/v1/users", None).await;
    app.clock.advance(roster_domain::Duration::from_secs(5));
    call(
        &app,
        &token,
        Method::POST,
        "/v1/customers",
        Some(json!({"companyProfile": {"domain": "busy.com", "companyName": "Busy"}})),
    )
    .await;
    let (s, history) = app.get(&format!("/v1/users/{id}/activity")).await;
    assert_eq!(s, StatusCode::OK, "{history}");
    let lines: Vec<(String, String, u64)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["method"].as_str().unwrap().into(),
                a["path"].as_str().unwrap().into(),
                a["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("POST".to_string(), "/v1/customers".to_string(), 201),
            ("GET".into(), "/v1/users".into(), 403),
            ("GET".into(), "/v1/customers".into(), 200),
        ]
    );
    assert_eq!(history["items"][0]["date"], "2026-01-05T09:00:10Z");
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(user["lastActivity"], "2026-01-05T09:00:10Z");
    // Paged, and only for a Global admin.
    let (_, first) = app.get(&format!("/v1/users/{id}/activity?size=2")).await;
    assert_eq!(first["totalCount"], 2);
    assert!(!first["continuationToken"].as_str().unwrap().is_empty());
    assert_error(
        &call(
            &app,
            &token,
            Method::GET,
            &format!("/v1/users/{id}/activity"),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &app.get(&format!("/v1/users/{}/activity", uuid::Uuid::new_v4()))
            .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    // Kept 30 days.
    app.clock.advance(roster_domain::Duration::from_days(31));
    app.roster.run_maintenance().await.unwrap();
    let fresh = app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let (_, later) = call(
        &app,
        &fresh,
        Method::GET,
        &format!("/v1/users/{id}/activity"),
        None,
    )
    .await;
    assert_eq!(later["totalCount"], 0, "{later}");
}
on_both_backends!(each_users_history_and_last_activity);
