//! An upgrade: a database made by the first schema version (with the signing key in the
//! data directory, as that version kept it) is opened by this binary, migrated, and keeps
//! every row.

use reqwest::StatusCode;
use roster_domain::audit::AuditRecord;
use roster_domain::audit::OperationType;
use roster_domain::country::CountryCode;
use roster_domain::customer::{BillingProfile, Customer};
use roster_domain::customer_user::{CustomerUser, UserDomainType, UserState};
use roster_domain::{CustomerId, DomainName, PartnerId, Timestamp, Upn, UserId};
use roster_service::{HashCost, Hasher, SigningKey};
use roster_store::customers::NewPartner;
use roster_store::Store;

use crate::common::*;

fn user(
    customer: CustomerId,
    upn: &str,
    name: &str,
    state: UserState,
    now: Timestamp,
) -> CustomerUser {
    CustomerUser {
        id: UserId::new_random(),
        customer,
        upn: Upn::parse(upn).unwrap(),
        display_name: name.into(),
        first_name: Some(name.into()),
        last_name: None,
        usage_location: Some(CountryCode::parse("DE").unwrap()),
        immutable_id: None,
        phone_number: Some("+49 30 1234".into()),
        domain_type: UserDomainType::None,
        state,
        soft_deleted_at: (state == UserState::Inactive).then_some(now),
        force_change_password: false,
        version: 3,
        created_at: now,
        updated_at: now,
    }
}

async fn a_database_of_the_first_schema_is_migrated_and_keeps_its_data() {
    let (dir, database_url) = TestApp::fresh_data().await;
    let url = roster_service::startup::database_url(dir.path(), database_url.as_deref());
    let now = Timestamp::parse_rfc3339("2026-01-05T08:00:00Z").unwrap();

    // What the first version left behind: schema 1, and the key in the data directory.
    let store = Store::open_at(&url, Some(1)).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    let (v1_key, secret) = SigningKey::generate();
    std::fs::write(dir.path().join("signing.key"), format!("{secret}\n")).unwrap();
    let hash = Hasher::new(HashCost::TEST)
        .unwrap()
        .hash(&roster_domain::password::Password::new(ADMIN_PASSWORD))
        .await
        .unwrap();
    let partner = PartnerId::new_random();
    let customer = Customer {
        id: CustomerId::new_random(),
        partner,
        company_name: "Contoso".into(),
        domain: DomainName::parse("contoso.onmicrosoft.com").unwrap(),
        country: CountryCode::parse("DE").unwrap(),
        billing: BillingProfile {
            email: Some("billing@contoso.com".into()),
            ..Default::default()
        },
        allow_delegated_access: true,
        created_at: now,
    };
    let active = user(
        customer.id,
        "ada@contoso.onmicrosoft.com",
        "Ada",
        UserState::Active,
        now,
    );
    let deleted = user(
        customer.id,
        "bob@contoso.onmicrosoft.com",
        "Bob",
        UserState::Inactive,
        now,
    );
    {
        let (customer, active_id, v1_key_id) = (
            customer.clone(),
            active.id.to_string(),
            v1_key.id().to_string(),
        );
        store
            .write_job(move |db| -> roster_store::Result<()> {
                assert!(db.set_setting_once("bootstrapped_partner", &partner.to_string())?);
                assert!(db.set_setting_once("signing_key_id", &v1_key_id)?);
                db.insert_partner(
                    &NewPartner {
                        id: partner,
                        company_name: "partner.local".into(),
                        domain: DomainName::parse("partner.local").unwrap(),
                        country: CountryCode::parse("US").unwrap(),
                    },
                    now,
                )?;
                db.insert_customer(&customer)?;
                db.insert_audit(&AuditRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    created_at: now,
                    partner,
                    customer: Some(customer.id),
                    actor: None,
                    application: None,
                    operation: OperationType::CreateCustomerUser,
                    resource_type: "customer_user".into(),
                    resource_id: active_id,
                    new_value: "{}".into(),
                    correlation_id: "c".into(),
                    request_id: "r".into(),
                })?;
                Ok(())
            })
            .await
            .unwrap();
    }
    store.close().await;
    // The administrator and the customer's users as schema 1 kept them: user rows (with the
    // columns schema 1 had) and roles, nothing more.
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        for (u, stamp) in [(&active, "s1"), (&deleted, "s2")] {
            sqlx::query(
                "INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, first_name, last_name, \
                 usage_location, immutable_id, phone_number, domain_type, state, soft_deleted_at, password_hash, \
                 force_change_password, security_stamp, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
            )
            .bind(u.id.to_string())
            .bind(u.customer.to_string())
            .bind(u.upn.as_str())
            .bind(u.upn.key())
            .bind(&u.display_name)
            .bind(roster_domain::listing::sort_key(&u.display_name))
            .bind(u.first_name.clone())
            .bind(u.last_name.clone())
            .bind(u.usage_location.map(|c| c.as_str().to_string()))
            .bind(u.immutable_id.clone())
            .bind(u.phone_number.clone())
            .bind(u.domain_type.as_str())
            .bind(u.state.as_str())
            .bind(u.soft_deleted_at.map(Timestamp::unix_millis))
            .bind(&hash)
            .bind(i64::from(u.force_change_password))
            .bind(stamp)
            .bind(u.version)
            .bind(u.created_at.unix_millis())
            .bind(u.updated_at.unix_millis())
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let admin = UserId::new_random().to_string();
        sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, domain_type, state, \
             password_hash, force_change_password, security_stamp, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $3, 'Administrator', 'administrator', 'none', 'active', $4, 0, 'stamp', 1, 0, 0)",
        )
        .bind(&admin)
        .bind(partner.to_string())
        .bind(ADMIN)
        .bind(&hash)
        .execute(&mut conn)
        .await
        .unwrap();
        for role in ["global_admin", "admin_agent"] {
            sqlx::query("INSERT INTO partner_roles (user_id, role) VALUES ($1, $2)")
                .bind(&admin)
                .bind(role)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn.close().await.unwrap();
    }

    // This binary opens it: the schema moves to the newest version, the key moves into the
    // database, and every row is still there.
    let app = TestApp::start_with(Builder {
        existing: Some((dir, database_url)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        app.roster.store().schema_version().await.unwrap(),
        roster_store::SCHEMA_VERSION
    );
    assert_eq!(app.roster.keys().ids(), vec![v1_key.id()]);
    let cid = customer.id;
    let (s, c) = app.get(&format!("/v1/customers/{cid}")).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["billingProfile"]["email"], "billing@contoso.com");
    let (_, got) = app
        .get(&format!("/v1/customers/{cid}/users/{}", active.id))
        .await;
    assert_eq!(got["userPrincipalName"], "ada@contoso.onmicrosoft.com");
    assert_eq!(got["phoneNumber"], "+49 30 1234");
    assert_eq!(got["usageLocation"], "DE");
    assert_eq!(got["attributes"]["etag"], "\"3\"");
    let filter = urlencode(r#"{"Field":"UserState","Value":"Inactive","Operator":"equals"}"#);
    let (_, gone) = app
        .get(&format!("/v1/customers/{cid}/users?filter={filter}"))
        .await;
    assert_eq!(gone["items"][0]["id"], deleted.id.to_string());
    // The soft-deleted user restores as before (and the admin signed in with its old hash).
    let (s, _) = app
        .patch(
            &format!("/v1/customers/{cid}/users/{}", deleted.id),
            serde_json::json!({"state": "active"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let audit = app
        .roster
        .store()
        .read_job(move |db| {
            db.audit_records(
                partner,
                Timestamp::from_unix_millis(0),
                Timestamp::from_unix_millis(i64::MAX),
                100,
            )
        })
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|a| a.resource_id == active.id.to_string() && a.correlation_id == "c"));
}
on_both_backends!(a_database_of_the_first_schema_is_migrated_and_keeps_its_data);

/// Schema 10: the applications registered before it stay public clients (as they were used),
/// and the sign-in lockouts of schema 9 become the lockouts of every other source.
async fn schema_9_applications_stay_public_and_lockouts_move() {
    let (dir, database_url) = TestApp::fresh_data().await;
    let url = roster_service::startup::database_url(dir.path(), database_url.as_deref());
    let store = Store::open_at(&url, Some(9)).await.unwrap();
    store.close().await;
    let (tenant, user, application) = (
        PartnerId::new_random().to_string(),
        UserId::new_random().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        for (sql, binds) in [
            ("INSERT INTO tenants (id, kind, company_name, company_name_key, domain, country, billing, allow_delegated_access, created_at) \
              VALUES ($1, 'partner', 'Old', 'old', 'old.example', 'US', '{}', 0, 0)", vec![tenant.clone()]),
            ("INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, domain_type, state, force_change_password, security_stamp, version, created_at, updated_at) \
              VALUES ($1, $2, 'u@old.example', 'u@old.example', 'U', 'u', 'none', 'active', 0, 's', 1, 0, 0)", vec![user.clone(), tenant.clone()]),
            ("INSERT INTO sign_in_throttle (user_id, failures, lockouts, locked_until, recent_wrong) VALUES ($1, 4, 2, NULL, 'a,b')", vec![user.clone()]),
            ("INSERT INTO applications (id, partner_id, display_name, secret_hash, security_stamp, created_at) VALUES ($1, $2, 'Old app', 'h', 's', 0)", vec![application.clone(), tenant.clone()]),
        ] {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
    let store = Store::open(&url).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        roster_store::SCHEMA_VERSION
    );
    let (app_id, who) = (application.parse().unwrap(), user.clone());
    let (public, t) = store
        .write_job(move |db| {
            let public = db.application(app_id)?.unwrap().public_client;
            let t = db.lock_throttle(&who, roster_domain::lockout::OTHER_SOURCES)?;
            Ok::<_, roster_store::StoreError>((public, t))
        })
        .await
        .unwrap();
    assert!(public);
    assert_eq!(
        (t.failures, t.lockouts, t.recent_wrong.len()),
        (4, 2, 2),
        "{t:?}"
    );
}
on_both_backends!(schema_9_applications_stay_public_and_lockouts_move);
