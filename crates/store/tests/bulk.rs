//! The bulk load writes rows that the ordinary reads find, page and check as any other:
//! on SQLite always, on PostgreSQL when `ROSTER_TEST_POSTGRES_URL` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_domain::country::CountryCode;
use roster_domain::customer::{BillingProfile, Customer, DomainKind};
use roster_domain::customer_user::{CustomerUser, UserDomainType, UserState};
use roster_domain::listing::{
    After, CustomerListQuery, SortDirection, UserListQuery, UserSortField,
};
use roster_domain::{CustomerId, DomainName, PartnerId, Timestamp, Upn, UserId};
use roster_store::bulk::BulkUser;
use roster_store::customers::NewPartner;
use roster_store::{Store, StoreError};

const CUSTOMERS: usize = 3;
const USERS_PER_CUSTOMER: usize = 1_200;
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Tz0wLqR7dxPBrvXUaWQ3n6a6kWb0ZbLcXk0oQqY3hY";

fn customer(partner: PartnerId, i: usize, now: Timestamp) -> Customer {
    Customer {
        id: CustomerId::new_random(),
        partner,
        company_name: format!("Bulk Customer {i}"),
        domain: DomainName::parse(&format!("bulk{i}.onmicrosoft.com")).unwrap(),
        country: CountryCode::parse("US").unwrap(),
        billing: BillingProfile::default(),
        allow_delegated_access: true,
        created_at: now,
    }
}

fn user(c: &Customer, j: usize, now: Timestamp) -> CustomerUser {
    CustomerUser {
        id: UserId::new_random(),
        customer: c.id,
        // Mixed case: the keys must be folded as the ordinary insert folds them.
        upn: Upn::parse(&format!("User{j:05}@{}", c.domain)).unwrap(),
        display_name: format!("User {j:05}"),
        first_name: Some("Bulk".into()),
        last_name: Some(format!("{j:05}")),
        usage_location: Some(CountryCode::parse("GB").unwrap()),
        immutable_id: None,
        phone_number: None,
        domain_type: UserDomainType::None,
        state: UserState::Active,
        soft_deleted_at: None,
        force_change_password: false,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

async fn seeds_and_lists(url: &str) {
    let store = Store::open(url).await.unwrap();
    let now = Timestamp::from_unix_millis(1_700_000_000_000);
    let partner = PartnerId::new_random();
    store
        .write_job(move |db| {
            db.insert_partner(
                &NewPartner {
                    id: partner,
                    company_name: "partner.local".into(),
                    domain: DomainName::parse("partner.local").unwrap(),
                    country: CountryCode::parse("US").unwrap(),
                },
                now,
            )
        })
        .await
        .unwrap();

    let customers: Vec<Customer> = (0..CUSTOMERS).map(|i| customer(partner, i, now)).collect();
    let users: Vec<BulkUser<'static>> = customers
        .iter()
        .flat_map(|c| (0..USERS_PER_CUSTOMER).map(move |j| (c, j)))
        .map(|(c, j)| BulkUser {
            user: user(c, j, now),
            password_hash: HASH,
            security_stamp: format!("stamp{j}"),
        })
        .collect();
    let (rows, bulk) = (customers.clone(), users.clone());
    store
        .write_job(move |db| {
            db.insert_customers_bulk(&rows)?;
            db.insert_customer_users_bulk(&bulk)
        })
        .await
        .unwrap();

    let (customers2, users2) = (customers.clone(), users.clone());
    store
        .read_job(move |db| -> roster_store::Result<()> {
            let (customers, users) = (customers2, users2);
            let listed = db
                .list_customers(
                    partner,
                    &CustomerListQuery {
                        search: None,
                        size: 100,
                    },
                    None,
                )
                .unwrap();
            assert_eq!(listed, customers);
            for c in &customers {
                let domains = db.tenant_domains(&c.id.to_string()).unwrap();
                assert_eq!(domains.len(), 1);
                assert_eq!(domains[0].name, c.domain);
                assert_eq!(domains[0].kind, DomainKind::Initial);
            }

            // Every user of every customer, page by page in UPN order, exactly as loaded.
            for (i, c) in customers.iter().enumerate() {
                let query = UserListQuery {
                    state: UserState::Active,
                    search: None,
                    sort: UserSortField::UserPrincipalName,
                    direction: SortDirection::Ascending,
                    size: 100,
                };
                let mut after: Option<After> = None;
                let mut seen = Vec::new();
                loop {
                    let mut page = db
                        .list_customer_users(c.id, &query, after.as_ref())
                        .unwrap();
                    let more = page.len() > 100;
                    page.truncate(100);
                    after = page.last().map(|u| After {
                        key: u.upn.key(),
                        id: u.id.to_string(),
                    });
                    seen.extend(page);
                    if !more {
                        break;
                    }
                }
                let expected: Vec<&CustomerUser> = users
                    [i * USERS_PER_CUSTOMER..(i + 1) * USERS_PER_CUSTOMER]
                    .iter()
                    .map(|b| &b.user)
                    .collect();
                assert_eq!(seen.iter().collect::<Vec<_>>(), expected);
            }

            // The credentials are the ones given, and the UPN is found by its folded key.
            let sample = &users[USERS_PER_CUSTOMER + 7];
            let by_upn = db
                .customer_user_by_upn(sample.user.customer, &sample.user.upn)
                .unwrap()
                .unwrap();
            assert_eq!(by_upn, sample.user);
            let creds = db
                .credentials_by_upn(&sample.user.customer.to_string(), &sample.user.upn.key())
                .unwrap()
                .unwrap();
            assert_eq!(creds.password_hash.as_deref(), Some(HASH));
            assert_eq!(creds.security_stamp, "stamp7");
            Ok(())
        })
        .await
        .unwrap();

    // The uniqueness rules hold for bulk rows as for single ones.
    let mut again = user(&customers[0], 3, now);
    again.upn = Upn::parse(&format!("USER00003@{}", customers[0].domain)).unwrap();
    let err = store
        .write_job(move |db| db.insert_customer_user(&again, HASH, "s"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    let err = store
        .write_job(move |db| db.insert_customers_bulk(&[customer(partner, 1, now)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    assert!(store.database_bytes().await.unwrap() > 0);
    store.close().await;
}

#[tokio::test]
async fn bulk_rows_list_like_any_other_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    seeds_and_lists(&roster_store::sqlite_url(&dir.path().join("bulk.db"))).await;
}

#[tokio::test]
async fn bulk_rows_list_like_any_other_on_postgres() {
    let Some(admin) = roster_store::testing::postgres_for_tests() else {
        return;
    };
    let url = roster_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    seeds_and_lists(&url).await;
}
