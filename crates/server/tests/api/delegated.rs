//! Granular delegated admin relationships: the lifecycle, access through assigned security
//! groups (granular wins over legacy), expiry under the injected clock, the legacy switch,
//! and tenant isolation.

use reqwest::{Method, StatusCode};
use roster_domain::authz::DirectoryRole;
use roster_domain::Duration;
use serde_json::{json, Value};

use crate::common::*;

fn ids(roles: &[DirectoryRole]) -> Value {
    json!(roles.iter().map(|r| r.id()).collect::<Vec<_>>())
}

async fn group(app: &TestApp, name: &str) -> String {
    let (s, g) = app.post("/v1/groups", json!({"displayName": name})).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    g["id"].as_str().unwrap().to_string()
}

#[allow(clippy::too_many_arguments)]
/// A relationship of `customer`, approved, with `group` assigned `assigned`; returns its id.
async fn active_relationship(
    app: &TestApp,
    customer: &str,
    name: &str,
    duration: &str,
    auto_extend: &str,
    roles: &[DirectoryRole],
    group: &str,
    assigned: &[DirectoryRole],
) -> String {
    let base = format!("/v1/customers/{customer}/delegatedadminrelationships");
    let (s, r) = app
        .post(&base, json!({"displayName": name, "duration": duration, "roles": ids(roles), "autoExtendDuration": auto_extend}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    let (s, r) = app.post(&format!("{base}/{rid}/approve"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (s, a) = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": group, "roles": ids(assigned)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    rid
}

fn new_user(upn: &str) -> Value {
    json!({"userPrincipalName": upn, "displayName": "New", "passwordProfile": {"password": GOOD_PASSWORD}})
}

async fn create_approve_assign_terminate() {
    let app = TestApp::start().await;
    let cid = app.customer("flow.example.com").await;
    let base = format!("/v1/customers/{cid}/delegatedadminrelationships");
    let roles = [
        DirectoryRole::UserAdministrator,
        DirectoryRole::DirectoryReaders,
    ];
    let (s, r) = app
        .post(&base, json!({"DisplayName": "Flow helpers", "duration": "P730D", "ROLES": ids(&roles), "autoExtendDuration": "P180D"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "approval_pending");
    assert_eq!(r["duration"], "P730D");
    assert_eq!(r["autoExtendDuration"], "P180D");
    assert_eq!(r["roles"].as_array().unwrap().len(), 2);
    assert!(r.get("endDateTime").is_none(), "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    // The name is unique per partner, in any casing.
    let other = app.customer("other.example.com").await;
    let dup = app
        .post(
            &format!("/v1/customers/{other}/delegatedadminrelationships"),
            json!({"displayName": "FLOW HELPERS", "duration": "P1D", "roles": ids(&roles)}),
        )
        .await;
    assert_eq!(dup.0, StatusCode::CONFLICT, "{}", dup.1);
    // Not active yet: no assignment.
    let gid = group(&app, "Helpers").await;
    let early = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": gid, "roles": ids(&roles)}),
        )
        .await;
    assert_eq!(early.0, StatusCode::CONFLICT, "{}", early.1);

    let (s, list) = app.get(&base).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["totalCount"], 1);
    let (s, one) = app.get(&format!("{base}/{rid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["displayName"], "Flow helpers");
    assert_eq!(
        app.get(&format!("{base}/nope")).await.0,
        StatusCode::NOT_FOUND
    );

    let (s, approved) = app.post(&format!("{base}/{rid}/approve"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "active");
    assert_eq!(approved["endDateTime"], "2028-01-05T09:00:00Z");
    assert_eq!(
        app.post(&format!("{base}/{rid}/approve"), json!({}))
            .await
            .0,
        StatusCode::CONFLICT
    );

    let (s, a) = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": gid, "roles": ids(&[DirectoryRole::DirectoryReaders])}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["groupId"], gid.as_str());
    assert_eq!(a["roles"][0]["displayName"], "Directory Readers");
    let again = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": gid, "roles": ids(&[DirectoryRole::DirectoryReaders])}),
        )
        .await;
    assert_eq!(again.0, StatusCode::CONFLICT);
    let (_, one) = app.get(&format!("{base}/{rid}")).await;
    assert_eq!(one["accessAssignments"].as_array().unwrap().len(), 1);

    let (s, t) = app
        .post(&format!("{base}/{rid}/terminate"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "terminated");
    assert_eq!(
        app.post(&format!("{base}/{rid}/terminate"), json!({}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let gid2 = group(&app, "Late").await;
    assert_eq!(
        app.post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": gid2, "roles": ids(&[DirectoryRole::DirectoryReaders])})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let ops = app.audit_operations().await;
    for op in [
        "create_delegated_admin_relationship",
        "approve_delegated_admin_relationship",
        "create_delegated_admin_access_assignment",
        "terminate_delegated_admin_relationship",
    ] {
        assert_eq!(ops.iter().filter(|o| *o == op).count(), 1, "{op}: {ops:?}");
    }

    // Admin agents manage relationships, but only a Global admin records an approval.
    member(&app, "agent", json!({"roles": ["Admin agent"]})).await;
    let agent = as_member(&app, "agent").await;
    let (s, r2) = call(
        &app,
        &agent,
        Method::POST,
        &base,
        Some(json!({"displayName": "By agent", "duration": "P10D", "roles": ids(&roles)})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r2}");
    let rid2 = r2["id"].as_str().unwrap();
    assert_error(
        &call(
            &app,
            &agent,
            Method::POST,
            &format!("{base}/{rid2}/approve"),
            Some(json!({})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
}
on_both_backends!(create_approve_assign_terminate);

async fn a_group_with_user_administrator_acts_in_that_customer_only() {
    let app = TestApp::start().await;
    let a = app.customer("granted.example.com").await;
    let b = app.customer("elsewhere.example.com").await;
    let gid = group(&app, "Helpers").await;
    member(&app, "plain", json!({"roles": [], "groups": [gid]})).await;
    active_relationship(
        &app,
        &a,
        "Helpers",
        "P90D",
        "PT0S",
        &[DirectoryRole::UserAdministrator],
        &gid,
        &[DirectoryRole::UserAdministrator],
    )
    .await;
    let plain = as_member(&app, "plain").await;
    let (s, u) = call(
        &app,
        &plain,
        Method::POST,
        &format!("/v1/customers/{a}/users"),
        Some(new_user("made@granted.example.com")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert_eq!(
        call(
            &app,
            &plain,
            Method::GET,
            &format!("/v1/customers/{a}/users"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    // It sees the customer it acts in, and only that one.
    assert_eq!(
        call(
            &app,
            &plain,
            Method::GET,
            &format!("/v1/customers/{a}"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, list) = call(&app, &plain, Method::GET, "/v1/customers", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["items"][0]["id"], a.as_str());
    assert_error(
        &call(
            &app,
            &plain,
            Method::POST,
            &format!("/v1/customers/{b}/users"),
            Some(new_user("x@elsewhere.example.com")),
        )
        .await,
        StatusCode::NOT_FOUND,
        60003,
    );
    assert_error(
        &call(
            &app,
            &plain,
            Method::GET,
            &format!("/v1/customers/{b}"),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        60003,
    );
}
on_both_backends!(a_group_with_user_administrator_acts_in_that_customer_only);

async fn granular_wins_over_legacy() {
    let app = TestApp::start().await;
    let a = app.customer("readers.example.com").await;
    let b = app.customer("legacy.example.com").await;
    let gid = group(&app, "Readers").await;
    member(
        &app,
        "agent",
        json!({"roles": ["Admin agent"], "groups": [gid]}),
    )
    .await;
    active_relationship(
        &app,
        &a,
        "Readers",
        "P90D",
        "PT0S",
        &[
            DirectoryRole::DirectoryReaders,
            DirectoryRole::UserAdministrator,
        ],
        &gid,
        &[DirectoryRole::DirectoryReaders],
    )
    .await;
    let agent = as_member(&app, "agent").await;
    assert_eq!(
        call(
            &app,
            &agent,
            Method::GET,
            &format!("/v1/customers/{a}/users"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &app,
            &agent,
            Method::POST,
            &format!("/v1/customers/{a}/users"),
            Some(new_user("n@readers.example.com")),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Where no relationship applies, legacy access still does.
    assert_eq!(
        call(
            &app,
            &agent,
            Method::POST,
            &format!("/v1/customers/{b}/users"),
            Some(new_user("n@legacy.example.com"))
        )
        .await
        .0,
        StatusCode::CREATED
    );
}
on_both_backends!(granular_wins_over_legacy);

async fn expiry_under_the_clock_ends_access() {
    let mut app = TestApp::start().await;
    let a = app.customer("expiring.example.com").await;
    let gid = group(&app, "Short").await;
    let gid2 = group(&app, "Long").await;
    member(&app, "short", json!({"roles": [], "groups": [gid]})).await;
    member(&app, "long", json!({"roles": [], "groups": [gid2]})).await;
    let rid = active_relationship(
        &app,
        &a,
        "Short",
        "P1D",
        "PT0S",
        &[DirectoryRole::UserAdministrator],
        &gid,
        &[DirectoryRole::UserAdministrator],
    )
    .await;
    active_relationship(
        &app,
        &a,
        "Long",
        "P1D",
        "P180D",
        &[DirectoryRole::UserAdministrator],
        &gid2,
        &[DirectoryRole::UserAdministrator],
    )
    .await;
    let short = as_member(&app, "short").await;
    assert_eq!(
        call(
            &app,
            &short,
            Method::POST,
            &format!("/v1/customers/{a}/users"),
            Some(new_user("one@expiring.example.com"))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    app.advance(Duration::from_days(2)).await;
    let short = as_member(&app, "short").await;
    assert_error(
        &call(
            &app,
            &short,
            Method::POST,
            &format!("/v1/customers/{a}/users"),
            Some(new_user("two@expiring.example.com")),
        )
        .await,
        StatusCode::NOT_FOUND,
        60003,
    );
    let (_, r) = app
        .get(&format!(
            "/v1/customers/{a}/delegatedadminrelationships/{rid}"
        ))
        .await;
    assert_eq!(r["status"], "expired", "{r}");
    // Auto-extend keeps the other one going.
    let long = as_member(&app, "long").await;
    assert_eq!(
        call(
            &app,
            &long,
            Method::POST,
            &format!("/v1/customers/{a}/users"),
            Some(new_user("three@expiring.example.com"))
        )
        .await
        .0,
        StatusCode::CREATED
    );
}
on_both_backends!(expiry_under_the_clock_ends_access);

async fn turning_legacy_access_off_removes_admin_agents_rights() {
    let app = TestApp::start().await;
    let c = app.customer("switch.example.com").await;
    member(&app, "agent", json!({"roles": ["Admin agent"]})).await;
    let agent = as_member(&app, "agent").await;
    assert_eq!(
        call(
            &app,
            &agent,
            Method::POST,
            &format!("/v1/customers/{c}/users"),
            Some(new_user("a@switch.example.com"))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, body) = app
        .patch(
            &format!("/v1/customers/{c}"),
            json!({"AllowDelegatedAccess": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["allowDelegatedAccess"], false);
    assert_error(
        &call(
            &app,
            &agent,
            Method::POST,
            &format!("/v1/customers/{c}/users"),
            Some(new_user("b@switch.example.com")),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    let before = app.audit_records().await.len();
    assert_eq!(
        app.patch(
            &format!("/v1/customers/{c}"),
            json!({"allowDelegatedAccess": false})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        app.audit_records().await.len(),
        before,
        "no change, no record"
    );
    let ops = app.audit_operations().await;
    assert_eq!(
        ops.iter().filter(|o| *o == "update_customer").count(),
        1,
        "{ops:?}"
    );
    assert_error(
        &app.patch(
            &format!("/v1/customers/{c}"),
            json!({"allowDelegatedAccess": "no"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        800002,
    );
    // A Sales agent may not edit customers.
    member(&app, "sales", json!({"roles": ["Sales agent"]})).await;
    let sales = as_member(&app, "sales").await;
    assert_error(
        &call(
            &app,
            &sales,
            Method::PATCH,
            &format!("/v1/customers/{c}"),
            Some(json!({"allowDelegatedAccess": true})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
}
on_both_backends!(turning_legacy_access_off_removes_admin_agents_rights);

async fn a_customer_without_access_is_not_there() {
    let app = TestApp::start().await;
    let a = app.customer("mine.example.com").await;
    let b = app.customer("theirs.example.com").await;
    let ua = app.user(&a, "ua@mine.example.com", "UA").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ub = app.user(&b, "ub@theirs.example.com", "UB").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let gid = group(&app, "Mine").await;
    member(&app, "plain", json!({"roles": [], "groups": [gid]})).await;
    active_relationship(
        &app,
        &a,
        "Mine",
        "P30D",
        "PT0S",
        &[DirectoryRole::UserAdministrator],
        &gid,
        &[DirectoryRole::UserAdministrator],
    )
    .await;
    let plain = as_member(&app, "plain").await;
    let hidden = [
        (Method::GET, format!("/v1/customers/{b}"), None),
        (Method::GET, format!("/v1/customers/{b}/users"), None),
        (Method::GET, format!("/v1/customers/{b}/users/{ua}"), None),
        (Method::GET, format!("/v1/customers/{b}/users/{ub}"), None),
        (
            Method::POST,
            format!("/v1/customers/{b}/users"),
            Some(new_user("x@theirs.example.com")),
        ),
        (
            Method::PATCH,
            format!("/v1/customers/{b}/users/{ub}"),
            Some(json!({"displayName": "Changed"})),
        ),
        (
            Method::DELETE,
            format!("/v1/customers/{b}/users/{ub}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/customers/{b}"),
            Some(json!({"allowDelegatedAccess": false})),
        ),
    ];
    let before = app.audit_records().await.len();
    for (method, path, body) in hidden {
        let got = call(&app, &plain, method.clone(), &path, body).await;
        assert_eq!(got.0, StatusCode::NOT_FOUND, "{method} {path}: {}", got.1);
        assert_eq!(got.1["code"], 60003, "{method} {path}: {}", got.1);
    }
    // A user of another customer is not found under the one it may see.
    assert_eq!(
        call(
            &app,
            &plain,
            Method::GET,
            &format!("/v1/customers/{a}/users/{ub}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.audit_records().await.len(), before);
}
on_both_backends!(a_customer_without_access_is_not_there);

async fn invalid_or_refused_requests_change_nothing() {
    let app = TestApp::start().await;
    let c = app.customer("checks.example.com").await;
    let base = format!("/v1/customers/{c}/delegatedadminrelationships");
    let before = app.audit_records().await.len();
    let bad = app
        .post(&base, json!({"displayName": "x".repeat(51), "duration": "P731D", "roles": ["nope"], "autoExtendDuration": "P3D"}))
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(
        bad.1["data"],
        json!(["displayName", "duration", "roles", "autoExtendDuration"])
    );
    let ga = app
        .post(&base, json!({"displayName": "Everything", "duration": "P30D", "roles": ids(&[DirectoryRole::GlobalAdministrator]), "autoExtendDuration": "P180D"}))
        .await;
    assert_error(&ga, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(ga.1["data"], json!(["autoExtendDuration"]));
    assert_error(
        &app.post(
            &base,
            json!({"displayName": "No duration", "roles": ids(&[DirectoryRole::DirectoryReaders])}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    assert_error(
        &app.post(&base, json!({"displayName": 5})).await,
        StatusCode::BAD_REQUEST,
        800002,
    );
    let unknown = format!(
        "/v1/customers/{}/delegatedadminrelationships",
        roster_service::new_user_id()
    );
    assert_error(&app.post(&unknown, json!({"displayName": "N", "duration": "P1D", "roles": ids(&[DirectoryRole::DirectoryReaders])})).await, StatusCode::NOT_FOUND, 60003);
    // Not an Admin agent: refused.
    member(&app, "helpdesk", json!({"roles": ["Helpdesk agent"]})).await;
    let helpdesk = as_member(&app, "helpdesk").await;
    assert_error(
        &call(&app, &helpdesk, Method::POST, &base, Some(json!({"displayName": "H", "duration": "P1D", "roles": ids(&[DirectoryRole::DirectoryReaders])}))).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &call(&app, &helpdesk, Method::GET, &base, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Refused calls wrote nothing; the helpdesk member's creation wrote one record.
    assert_eq!(app.audit_records().await.len(), before + 1);
    let before = before + 1;
    // Assignment: a group of the partner, roles of the relationship.
    let (s, r) = app.post(&base, json!({"displayName": "Ok", "duration": "P30D", "roles": ids(&[DirectoryRole::DirectoryReaders])})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap();
    app.post(&format!("{base}/{rid}/approve"), json!({})).await;
    let after_ok = app.audit_records().await.len();
    assert_eq!(after_ok, before + 2);
    let gid = group(&app, "G").await;
    let after_group = app.audit_records().await.len();
    let wrong = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": "no-such-group", "roles": ids(&[DirectoryRole::UserAdministrator])}),
        )
        .await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(wrong.1["data"], json!(["groupId", "roles"]));
    assert_error(
        &app.post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": gid}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    assert_error(
        &call(
            &app,
            &helpdesk,
            Method::POST,
            &format!("{base}/{rid}/accessassignments"),
            Some(json!({"groupId": gid, "roles": ids(&[DirectoryRole::DirectoryReaders])})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_eq!(app.audit_records().await.len(), after_group);
}
on_both_backends!(invalid_or_refused_requests_change_nothing);
