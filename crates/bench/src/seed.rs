//! Seeding: customers and their users straight into the database through the store's bulk
//! load (`roster_store::bulk`), not through the API: a million users through the API would
//! cost a million Argon2id hashes (about ten hours on two cores). Every seeded user gets the
//! same hash, computed once, of [`SEED_PASSWORD`].

use std::time::Instant;

use anyhow::Context;
use roster_domain::country::CountryCode;
use roster_domain::customer::{BillingProfile, Customer};
use roster_domain::customer_user::{CustomerUser, UserDomainType, UserState};
use roster_domain::{CustomerId, DomainName, PartnerId, Upn, UserId};
use roster_service::{Clock, SystemClock};
use roster_store::bulk::BulkUser;
use roster_store::Store;

use crate::progress::Progress;

/// The password of every seeded user.
pub const SEED_PASSWORD: &str = "Seeded-User-Pa55word!";

/// About this many users go into one transaction: few commits, and a write-ahead log that
/// stays far smaller than the database.
const USERS_PER_TRANSACTION: usize = 50_000;

/// A customer the workloads can address.
#[derive(Clone, Debug)]
pub struct SeedCustomer {
    pub id: CustomerId,
    pub domain: String,
}

/// A user the workloads can address: its customer (an index into the customers) and id.
#[derive(Clone, Copy, Debug)]
pub struct SeedUser {
    pub customer: u32,
    pub id: UserId,
}

/// What the workloads run against.
#[derive(Debug, Default)]
pub struct Population {
    pub customers: Vec<SeedCustomer>,
    pub users: Vec<SeedUser>,
}

/// Loads `customers` × `per_customer` users for `partner`; `run` makes the domains unique
/// to this run, so that a database can be seeded twice.
pub async fn seed(
    store: &Store,
    partner: PartnerId,
    customers: usize,
    per_customer: usize,
    password_hash: &str,
    run: &str,
) -> anyhow::Result<(Population, f64)> {
    let started = Instant::now();
    let total = customers * per_customer;
    let mut progress = Progress::new("seeding");
    let mut population = Population {
        customers: Vec::with_capacity(customers),
        users: Vec::with_capacity(total),
    };
    let per_transaction = (USERS_PER_TRANSACTION / per_customer.max(1)).max(1);
    let us = CountryCode::parse("US").map_err(anyhow::Error::msg)?;
    let gb = CountryCode::parse("GB").map_err(anyhow::Error::msg)?;
    let mut first = 0;
    while first < customers {
        let last = (first + per_transaction).min(customers);
        let now = SystemClock.now();
        let batch: Vec<Customer> = (first..last)
            .map(|i| {
                let domain = DomainName::parse(&format!("bench-{run}-c{i:05}.onmicrosoft.com"))
                    .map_err(anyhow::Error::msg)?;
                Ok(Customer {
                    id: CustomerId::new_random(),
                    partner,
                    company_name: format!("Bench Customer {i:05}"),
                    domain,
                    country: us,
                    billing: BillingProfile::default(),
                    allow_delegated_access: true,
                    created_at: now,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let mut users = Vec::with_capacity(batch.len() * per_customer);
        for (k, c) in batch.iter().enumerate() {
            let index = u32::try_from(first + k).context("too many customers")?;
            for j in 0..per_customer {
                let upn =
                    Upn::parse(&format!("user{j:06}@{}", c.domain)).map_err(anyhow::Error::msg)?;
                let user = CustomerUser {
                    id: UserId::new_random(),
                    customer: c.id,
                    upn,
                    display_name: format!("Bench User {j:06}"),
                    first_name: Some("Bench".into()),
                    last_name: Some(format!("User {j:06}")),
                    usage_location: Some(if j % 2 == 0 { us } else { gb }),
                    immutable_id: None,
                    phone_number: None,
                    domain_type: UserDomainType::None,
                    state: UserState::Active,
                    soft_deleted_at: None,
                    force_change_password: false,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                population.users.push(SeedUser {
                    customer: index,
                    id: user.id,
                });
                users.push((user, uuid::Uuid::new_v4().simple().to_string()));
            }
        }
        let (rows, hash) = (batch.clone(), password_hash.to_string());
        store
            .write_job(move |db| {
                db.insert_customers_bulk(&rows)?;
                let users: Vec<BulkUser<'_>> = users
                    .into_iter()
                    .map(|(user, security_stamp)| BulkUser {
                        user,
                        password_hash: &hash,
                        security_stamp,
                    })
                    .collect();
                db.insert_customer_users_bulk(&users)
            })
            .await
            .context("cannot insert the customers and their users")?;
        population
            .customers
            .extend(batch.into_iter().map(|c| SeedCustomer {
                id: c.id,
                domain: c.domain.to_string(),
            }));
        first = last;
        progress.show(
            population.users.len() as f64 / total.max(1) as f64,
            &format!(
                "{} of {} users, {:.1} s",
                population.users.len(),
                total,
                started.elapsed().as_secs_f64()
            ),
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.done(&format!("{total} users in {seconds:.1} s"));
    Ok((population, seconds))
}
