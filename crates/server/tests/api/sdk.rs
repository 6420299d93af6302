//! The Rust SDK (crates/client) against the real server on both backends: every call it
//! has, paging across pages, errors, a retry after a dropped connection that does not create
//! twice, back-off on 429 and 503, and the token's refresh after it expired.

use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use futures_util::TryStreamExt;
use roster_client::wire::{CompanyProfileRequest, CustomerRequest, CustomerUserRequest};
use roster_client::{Credentials, CustomerQuery, Partner, RetryPolicy, UserQuery};
use roster_domain::Duration;

use crate::common::*;
use crate::fault_proxy::{proxy, Fault};

async fn connect(app: &TestApp) -> Partner {
    Partner::connect(&app.base, Credentials::password(ADMIN, ADMIN_PASSWORD))
        .await
        .expect("signs in")
}

fn customer(domain: &str, name: &str) -> CustomerRequest {
    CustomerRequest {
        company_profile: Some(CompanyProfileRequest {
            domain: Some(domain.into()),
            company_name: Some(name.into()),
        }),
        billing_profile: None,
    }
}

fn user(upn: &str, name: &str) -> CustomerUserRequest {
    CustomerUserRequest {
        user_principal_name: Some(upn.into()),
        display_name: Some(name.into()),
        usage_location: Some("US".into()),
        ..Default::default()
    }
}

async fn every_call_of_customers_and_their_users() {
    let app = TestApp::start().await;
    let partner = connect(&app).await;
    let created = partner
        .customers()
        .create(&customer("contoso.onmicrosoft.com", "Contoso"))
        .await
        .unwrap();
    partner
        .customers()
        .create(&customer("fabrikam.onmicrosoft.com", "Fabrikam"))
        .await
        .unwrap();
    let all: Vec<_> = partner.customers().list().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    let found: Vec<_> = partner
        .customers()
        .query(CustomerQuery::search("fabri"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].company_profile.company_name, "Fabrikam");
    let c = partner.customers().by_id(&created.id);
    assert_eq!(c.get().await.unwrap().id, created.id);
    let users = c.users();

    // Create with a generated password: shown once.
    let ada = users
        .create(&user("ada@contoso.onmicrosoft.com", "Ada Lovelace"))
        .await
        .unwrap();
    let temporary = ada.password_profile.clone().unwrap().password.unwrap();
    assert_eq!(temporary.len(), 16);
    let got = users.by_id(&ada.id).get().await.unwrap();
    assert!(got.password_profile.is_none());
    // Patch only what is sent.
    let patched = users
        .by_id(&ada.id)
        .patch(&CustomerUserRequest {
            display_name: Some("Countess Lovelace".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(patched.display_name, "Countess Lovelace");
    assert_eq!(patched.usage_location.as_deref(), Some("US"));
    // Reset the password: a new one, once.
    let reset = users.by_id(&ada.id).reset_password(None).await.unwrap();
    let new = reset.password_profile.unwrap().password.unwrap();
    assert_ne!(new, temporary);
    // Delete, find among the deleted, restore.
    users.by_id(&ada.id).delete().await.unwrap();
    let deleted: Vec<_> = users.deleted().try_collect().await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].id, ada.id);
    let active: Vec<_> = users.list(UserQuery::active()).try_collect().await.unwrap();
    assert!(active.is_empty());
    let restored = users.by_id(&ada.id).restore().await.unwrap();
    assert_eq!(restored.state, "active");
    // Search and sort.
    users
        .create(&user("grace@contoso.onmicrosoft.com", "Grace Hopper"))
        .await
        .unwrap();
    let graces: Vec<_> = users
        .list(UserQuery::active().search("hopper"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(graces.len(), 1);
    let by_name: Vec<String> = users
        .list(UserQuery::active().by_display_name().descending())
        .map_ok(|u| u.display_name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_name, ["Grace Hopper", "Countess Lovelace"]);
    // Bulk upload: the result file with the passwords.
    let csv = b"First name,Last name,Display name,Email,Status update\r\nAlan,Turing,Alan Turing,alan@contoso.onmicrosoft.com,\r\n".to_vec();
    let result = users.bulk_upload(csv, "GB").await.unwrap();
    assert!(
        result.contains("Temporary password") && result.contains("alan@contoso.onmicrosoft.com"),
        "{result}"
    );
    // Seats and licences.
    let (status, _) = app
        .send(
            reqwest::Method::PUT,
            &format!(
                "/v1/customers/{}/subscribedskus/05e9a617-0261-4cee-bb44-138d3ef5d965",
                created.id
            ),
            Some(serde_json::json!({"totalUnits": 3})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let skus = c.subscribed_skus().await.unwrap();
    assert_eq!(skus.len(), 1);
    let update: roster_client::wire::LicenseUpdateRequest = serde_json::from_value(
        serde_json::json!({"licensesToAssign": [{"skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965"}], "licensesToRemove": []}),
    )
    .unwrap();
    users.by_id(&ada.id).update_licenses(&update).await.unwrap();
    let licences = users.by_id(&ada.id).licenses().await.unwrap();
    assert_eq!(licences.len(), 1);

    // Errors carry the status, Partner Center's code, the sentence and the problems.
    let e = users
        .by_id(&roster_service::new_user_id().to_string())
        .get()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.code, Some(60002));
    assert!(!e.correlation_id.is_empty() && !e.request_id.is_empty());
    let e = users.create(&user("not an address", "")).await.unwrap_err();
    assert!(e.is_invalid(), "{e}");
    assert!(!e.data.is_empty(), "{e:?}");
    let e = users
        .create(&user("grace@contoso.onmicrosoft.com", "Grace again"))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    let e = Partner::connect(
        &app.base,
        Credentials::password(ADMIN, "wrong password here"),
    )
    .await
    .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
}
on_both_backends!(every_call_of_customers_and_their_users);

async fn lists_follow_their_continuation_tokens() {
    let app = TestApp::start().await;
    let partner = connect(&app).await;
    let c = partner
        .customers()
        .create(&customer("pages.onmicrosoft.com", "Pages"))
        .await
        .unwrap();
    let users = partner.customers().by_id(&c.id).users();
    let mut csv = String::from("First name,Last name,Display name,Email,Status update\r\n");
    for i in 0..25 {
        csv.push_str(&format!(
            "U,{i},User {i:02},u{i:02}@pages.onmicrosoft.com,\r\n"
        ));
    }
    users.bulk_upload(csv.into_bytes(), "US").await.unwrap();
    let all: Vec<String> = users
        .list(UserQuery::active().size(10))
        .map_ok(|u| u.user_principal_name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "in order, none twice");
    // A page at a time.
    let q = UserQuery::active().size(10);
    let first = users.page(&q, None).await.unwrap();
    assert_eq!(first.items.len(), 10);
    let token = first.continuation_token.clone().unwrap();
    let second = users.page(&q, Some(&token)).await.unwrap();
    assert_eq!(second.items[0].user_principal_name, all[10]);
}
on_both_backends!(lists_follow_their_continuation_tokens);

async fn a_retry_after_a_lost_answer_creates_once() {
    let app = TestApp::start().await;
    let cid = app.customer("retry.onmicrosoft.com").await;
    let (url, seen) = proxy(
        app.base.clone(),
        vec![Fault::DropAfterForwarding],
        "POST /v1/customers/",
    )
    .await;
    let partner = Partner::builder(&url)
        .retry(RetryPolicy {
            attempts: 3,
            base_delay: StdDuration::from_millis(50),
            max_delay: StdDuration::from_millis(200),
        })
        .connect(Credentials::password(ADMIN, ADMIN_PASSWORD))
        .await
        .unwrap();
    let created = partner
        .customers()
        .by_id(&cid)
        .users()
        .create(&user("once@retry.onmicrosoft.com", "Once"))
        .await
        .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2, "sent twice");
    let (_, list) = app.get(&format!("/v1/customers/{cid}/users")).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "created once: {list}"
    );
    assert_eq!(list["items"][0]["id"], created.id.as_str());
}
on_both_backends!(a_retry_after_a_lost_answer_creates_once);

async fn busy_and_unavailable_answers_are_waited_out() {
    let app = TestApp::start().await;
    app.customer("busy.onmicrosoft.com").await;
    let (url, seen) = proxy(
        app.base.clone(),
        vec![
            Fault::Status("429 Too Many Requests"),
            Fault::Status("503 Service Unavailable"),
        ],
        "GET /v1/customers",
    )
    .await;
    let partner = Partner::builder(&url)
        .retry(RetryPolicy {
            attempts: 4,
            base_delay: StdDuration::from_millis(50),
            max_delay: StdDuration::from_secs(2),
        })
        .connect(Credentials::password(ADMIN, ADMIN_PASSWORD))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let all: Vec<_> = partner.customers().list().try_collect().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "429, 503, then the answer");
    // Retry-After: 1 was honoured, twice.
    assert!(
        started.elapsed() >= StdDuration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Without retries left, the error says what the server said.
    let (url, _) = proxy(
        app.base.clone(),
        vec![Fault::Status("503 Service Unavailable"); 5],
        "GET /v1/customers",
    )
    .await;
    let partner = Partner::builder(&url)
        .retry(RetryPolicy {
            attempts: 2,
            base_delay: StdDuration::from_millis(10),
            max_delay: StdDuration::from_millis(20),
        })
        .connect(Credentials::password(ADMIN, ADMIN_PASSWORD))
        .await
        .unwrap();
    let e = partner
        .customers()
        .page(&CustomerQuery::all(), None)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(503), "{e}");
}
on_both_backends!(busy_and_unavailable_answers_are_waited_out);

async fn an_expired_token_is_refreshed_once() {
    let mut app = TestApp::start().await;
    let partner = connect(&app).await;
    let before = partner.access_token().await.unwrap();
    assert_eq!(
        partner
            .customers()
            .list()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        0
    );
    // The server's clock moves past the token's hour: its next call gets a 401, refreshes
    // with the refresh token, and goes through.
    app.advance(Duration::from_hours(2)).await;
    let all: Vec<_> = partner.customers().list().try_collect().await.unwrap();
    assert!(all.is_empty());
    assert_ne!(partner.access_token().await.unwrap(), before);
    // A token given as is works until it expires.
    let given = Partner::connect(&app.base, Credentials::token(app.token.clone()))
        .await
        .unwrap();
    assert!(given
        .customers()
        .page(&CustomerQuery::all(), None)
        .await
        .is_ok());
    let e = Partner::connect(&app.base, Credentials::token("not-a-token"))
        .await
        .unwrap()
        .customers()
        .page(&CustomerQuery::all(), None)
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e}");
}
on_both_backends!(an_expired_token_is_refreshed_once);

async fn the_partners_own_account() {
    let app = TestApp::start().await;
    let partner = connect(&app).await;
    let users = partner.users();
    let listed: Vec<_> = users.list().try_collect().await.unwrap();
    assert!(listed.iter().any(|u| u.user_principal_name == ADMIN));
    let una = users
        .create(&roster_client::wire::PartnerUserRequest {
            user_principal_name: Some("una@partner.local".into()),
            first_name: Some("Una".into()),
            last_name: Some("Agent".into()),
            roles: Some(vec!["Admin agent".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(una.password_profile.is_some(), "a temporary password, once");
    let patched = users
        .by_id(&una.id)
        .patch(&roster_client::wire::PartnerUserRequest {
            display_name: Some("Una the Agent".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(patched.display_name, "Una the Agent");
    users.by_id(&una.id).remove().await.unwrap();
    let granted = users
        .grant_access(&roster_client::wire::GrantAccessRequest {
            user_ids: Some(vec![una.id.clone()]),
            roles: Some(vec!["Sales agent".into()]),
            custom_permissions: None,
        })
        .await
        .unwrap();
    assert_eq!(granted.len(), 1);

    // The account's roles and groups.
    let roles = partner.roles().list().await.unwrap();
    let helpdesk = roles.iter().find(|r| r.name == "Helpdesk agent").unwrap();
    let role = partner.roles().by_id(&helpdesk.id);
    role.add_member(&una.id).await.unwrap();
    let members: Vec<_> = role.members().try_collect().await.unwrap();
    assert!(members.iter().any(|m| m.id == una.id), "{members:?}");
    role.remove_member(&una.id).await.unwrap();
    let members: Vec<_> = role.members().try_collect().await.unwrap();
    assert!(!members.iter().any(|m| m.id == una.id), "{members:?}");
    let group = partner
        .groups()
        .create(&roster_client::wire::SecurityGroupRequest {
            display_name: Some("Helpers".into()),
            description: None,
            roles: Some(vec!["Helpdesk agent".into()]),
        })
        .await
        .unwrap();
    partner
        .groups()
        .add_member(&group.id, &una.id)
        .await
        .unwrap();
    let members: Vec<_> = role.members().try_collect().await.unwrap();
    assert!(members.iter().any(|m| m.id == una.id), "through the group");
    assert!(partner
        .groups()
        .list()
        .await
        .unwrap()
        .iter()
        .any(|g| g.id == group.id && g.roles == ["Helpdesk agent"]));
    partner
        .groups()
        .remove_member(&group.id, &una.id)
        .await
        .unwrap();
    let me = listed
        .iter()
        .find(|u| u.user_principal_name == ADMIN)
        .unwrap();
    let history: Vec<_> = users.by_id(&me.id).history().try_collect().await.unwrap();
    assert!(
        history
            .iter()
            .any(|a| a.path == "/v1/users" && a.method == "POST"),
        "{history:?}"
    );

    // Invitations.
    let invited = partner
        .invitations()
        .create(&roster_client::wire::InvitationRequest {
            emails: Some("ann@outside.example; bob@outside.example".into()),
            roles: Some(vec!["Helpdesk agent".into()]),
        })
        .await
        .unwrap();
    assert_eq!(invited.len(), 2);
    assert_eq!(partner.invitations().list().await.unwrap().len(), 2);
    let resent = partner.invitations().resend(&invited[0].id).await.unwrap();
    assert_eq!(resent.status, "pending");
    partner.invitations().delete(&invited[1].id).await.unwrap();

    // A customer's directory roles and relationships.
    let cid = app.customer("rel.onmicrosoft.com").await;
    let c = partner.customers().by_id(&cid);
    assert_eq!(c.directory_roles().await.unwrap().len(), 12);
    let pat = c
        .users()
        .create(&user("pat@rel.onmicrosoft.com", "Pat"))
        .await
        .unwrap();
    const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    c.directory_role(USER_ADMIN)
        .add_member(&pat.id)
        .await
        .unwrap();
    let members: Vec<_> = c
        .directory_role(USER_ADMIN)
        .members()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].id, pat.id);
    let roles = c.users().by_id(&pat.id).directory_roles().await.unwrap();
    assert_eq!(roles.len(), 1);
    c.directory_role(USER_ADMIN)
        .remove_member(&pat.id)
        .await
        .unwrap();
    let rel = c
        .relationships()
        .create(&roster_client::wire::DelegatedAdminRelationshipRequest {
            display_name: Some("Support".into()),
            duration: Some("P30D".into()),
            roles: Some(vec![USER_ADMIN.into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let approved = c.relationships().approve(&rel.id).await.unwrap();
    assert_eq!(approved.status, "active");
    c.relationships()
        .assign(
            &rel.id,
            &roster_client::wire::AccessAssignmentRequest {
                group_id: Some(group.id.clone()),
                roles: Some(vec![USER_ADMIN.into()]),
            },
        )
        .await
        .unwrap();
    let got = c.relationships().get(&rel.id).await.unwrap();
    assert_eq!(got.access_assignments.len(), 1);
    let terminated = c.relationships().terminate(&rel.id).await.unwrap();
    assert_eq!(terminated.status, "terminated");
    assert_eq!(c.relationships().list().await.unwrap().len(), 1);

    // The audit log has it all.
    let records: Vec<_> = partner
        .audit_records("2026-01-01", None)
        .try_collect()
        .await
        .unwrap();
    for op in [
        "create_partner_user",
        "invite_partner_user",
        "approve_delegated_admin_relationship",
        "terminate_delegated_admin_relationship",
    ] {
        assert!(
            records.iter().any(|r| r.operation_type == op),
            "{op} missing"
        );
    }
}
on_both_backends!(the_partners_own_account);

async fn applications_sign_in_alone_and_with_a_user() {
    let app = TestApp::start().await;
    let cid = app.customer("apps.onmicrosoft.com").await;
    let (s, public) = app
        .post(
            "/v1/applications",
            serde_json::json!({"displayName": "A public client", "publicClient": true}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{public}");
    let (s, confidential) = app
        .post(
            "/v1/applications",
            serde_json::json!({"displayName": "A script"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{confidential}");

    // App+User: the user's rights, through the application.
    let as_user = Partner::connect(
        &app.base,
        Credentials::app_user(public["clientId"].as_str().unwrap(), ADMIN, ADMIN_PASSWORD),
    )
    .await
    .unwrap();
    let users = as_user.customers().by_id(&cid).users();
    users
        .create(&user("ada@apps.onmicrosoft.com", "Ada"))
        .await
        .unwrap();
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| r.operation.as_str() == "create_customer_user")
        .unwrap();
    assert!(
        record.application.is_some() && record.actor.is_some(),
        "{record:?}"
    );

    // App-only: customers, never their users.
    let alone = Partner::connect(
        &app.base,
        Credentials::application(
            confidential["clientId"].as_str().unwrap(),
            confidential["clientSecret"].as_str().unwrap(),
        ),
    )
    .await
    .unwrap();
    let customers: Vec<_> = alone.customers().list().try_collect().await.unwrap();
    assert_eq!(customers.len(), 1);
    let e = alone
        .customers()
        .by_id(&cid)
        .users()
        .list(UserQuery::active())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e:?}");
    let e = Partner::connect(
        &app.base,
        Credentials::application(confidential["clientId"].as_str().unwrap(), "wrong secret"),
    )
    .await
    .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
}
on_both_backends!(applications_sign_in_alone_and_with_a_user);
