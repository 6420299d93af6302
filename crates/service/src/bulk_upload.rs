//! Bulk upload of customer users (directory.md, "Bulk upload"): the whole file is checked
//! first, every problem reported together; then every user is created in one transaction,
//! each with a temporary password, or none is.

use futures_util::{StreamExt, TryStreamExt};
use rand::rngs::OsRng;
use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, CustomerAction};
use roster_domain::bulk_upload::{self, BulkFile, BulkProblem, BulkRow};
use roster_domain::country::CountryCode;
use roster_domain::customer_user::{CustomerUser, UserState};
use roster_domain::password::{self, Password, PersonalWords};
use roster_domain::{CustomerId, UserId};
use roster_store::sql::SyncDb;
use roster_store::StoreError;
use serde_json::json;

use crate::customer_users::{new_stamp, user_json};
use crate::{Ctx, Result, Roster, ServiceError};

/// The users an upload created, in the file's order, with their temporary passwords (shown
/// this once and never again).
#[derive(Debug)]
pub struct BulkUploaded {
    /// The file's separator, for a result file in kind.
    pub delimiter: u8,
    pub created: Vec<BulkCreated>,
}

#[derive(Debug)]
pub struct BulkCreated {
    /// The row as the file gave it.
    pub row: BulkRow,
    pub user: CustomerUser,
    pub password: Password,
}

impl Roster {
    /// Creates a user for every row of a CSV file (`First name,Last name,Display name,Email,
    /// Status update`), all in `usage_location`, or none: a file with any problem (its format,
    /// a row, an address an active user holds, the usage location) is refused with all of its
    /// problems; addresses another request took meanwhile refuse it too, by name.
    pub async fn bulk_upload_customer_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        file: &[u8],
        usage_location: Option<&str>,
    ) -> Result<BulkUploaded> {
        let (file, location) = self
            .check_bulk_upload(ctx, customer, file, usage_location)
            .await?;
        self.create_bulk(ctx, customer, file, location).await
    }

    /// Checks an upload as [`Roster::bulk_upload_customer_users`] would and creates
    /// nothing: the number of users it would create, or every problem (the portal's
    /// "Validate"). The same rights as the upload itself.
    pub async fn validate_bulk_upload(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        file: &[u8],
        usage_location: Option<&str>,
    ) -> Result<usize> {
        let (file, _) = self
            .check_bulk_upload(ctx, customer, file, usage_location)
            .await?;
        Ok(file.rows.len())
    }

    async fn check_bulk_upload(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        file: &[u8],
        usage_location: Option<&str>,
    ) -> Result<(BulkFile, CountryCode)> {
        let action = Action::InCustomer(CustomerAction::BulkUpload);
        let domains = self
            .read_in_customer(ctx, customer, action, move |db, _| {
                Ok(db.tenant_domains(&customer.to_string())?)
            })
            .await?;
        let mut problems = Vec::new();
        let location = match usage_location.map(str::trim).filter(|l| !l.is_empty()) {
            None => {
                problems.push(location_problem(
                    "is required: give the country all the users are in, as its ISO 3166 two-letter code (usageLocation=US)".into(),
                ));
                None
            }
            Some(raw) => match CountryCode::parse(raw) {
                Ok(c) => Some(c),
                Err(message) => {
                    problems.push(location_problem(message));
                    None
                }
            },
        };
        let file = match bulk_upload::parse_all(file, &domains) {
            Ok((f, found)) => {
                problems.extend(found);
                Some(f)
            }
            Err(found) => {
                problems.extend(found);
                None
            }
        };
        // The rows that are valid so far: their addresses must not be active users' either.
        if let Some(f) = &file {
            let keys: Vec<String> = f.rows.iter().map(|row| row.upn.key()).collect();
            let held = self
                .store()
                .read_job(move |db| -> Result<_> { Ok(db.active_upn_keys(customer, &keys)?) })
                .await?;
            for row in f.rows.iter().filter(|row| held.contains(&row.upn.key())) {
                problems.push(BulkProblem::at(
                    row.row,
                    Some(bulk_upload::COLUMNS[3]),
                    format!("'{}' is the user name of an active user of this customer already: give another address, or remove the row", row.upn),
                ));
            }
        }
        let (Some(file), Some(location), true) = (file, location, problems.is_empty()) else {
            problems.sort_by_key(|p| p.row.unwrap_or(0));
            return Err(ServiceError::BulkRefused(problems));
        };
        Ok((file, location))
    }

    /// Whether the caller may see the upload's template for this customer: whoever may read
    /// its users (the template names no one).
    pub async fn bulk_upload_template(&self, ctx: &Ctx, customer: CustomerId) -> Result<()> {
        self.read_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ReadUsers),
            |_, _| Ok(()),
        )
        .await
    }

    /// Generates and hashes the passwords (on every hashing thread at once, before the
    /// transaction), then creates every user in one transaction.
    async fn create_bulk(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        file: BulkFile,
        location: CountryCode,
    ) -> Result<BulkUploaded> {
        let passwords: Vec<Password> = file
            .rows
            .iter()
            .map(|row| {
                password::generate_temporary(
                    &mut OsRng,
                    PersonalWords {
                        first_name: row.first_name.as_deref(),
                        last_name: row.last_name.as_deref(),
                        upn_alias: Some(row.upn.alias()),
                    },
                )
            })
            .collect();
        // As many at once as there are hashing threads: the file takes no more of the hashing
        // queue than that, and sign-ins are not queued behind a hundred of its hashes.
        let hasher = self.hasher().clone();
        let hashes: Vec<String> = futures_util::stream::iter(passwords.clone())
            .map(move |p| {
                let hasher = hasher.clone();
                async move { hasher.hash(&p).await }
            })
            .buffered(self.hasher().threads())
            .try_collect()
            .await?;
        let now = self.now();
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .write_job(move |db| {
                roster.insert_bulk(db, &ctx, customer, file, location, passwords, hashes, now)
            })
            .await
    }

    /// The transaction of an upload: every user and its audit record, and the upload's, or
    /// nothing.
    #[allow(clippy::too_many_arguments)]
    fn insert_bulk(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        file: BulkFile,
        location: CountryCode,
        passwords: Vec<Password>,
        hashes: Vec<String>,
        now: roster_domain::Timestamp,
    ) -> Result<BulkUploaded> {
        // Another request may have taken an address since the check: then nothing is made.
        let keys: Vec<String> = file.rows.iter().map(|row| row.upn.key()).collect();
        let held = db.active_upn_keys(customer, &keys)?;
        if !held.is_empty() {
            return Err(taken(&file, &held));
        }
        let mut created = Vec::with_capacity(file.rows.len());
        for ((row, password), hash) in file.rows.into_iter().zip(passwords).zip(hashes) {
            let user = CustomerUser {
                id: UserId::new_random(),
                customer,
                upn: row.upn.clone(),
                display_name: row.display_name.clone(),
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                usage_location: Some(location),
                immutable_id: None,
                phone_number: None,
                domain_type: row.domain_type,
                state: UserState::Active,
                soft_deleted_at: None,
                force_change_password: true,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            match db.insert_customer_user(&user, &hash, &new_stamp()) {
                // Another server took it between the check and the insert.
                Err(StoreError::Conflict) => {
                    return Err(ServiceError::UpnsTaken(vec![user.upn.to_string()]))
                }
                other => other?,
            }
            let record = self.audit(
                Some(ctx),
                ctx.actor.partner,
                Some(customer),
                OperationType::CreateCustomerUser,
                user.id,
                user_json(&user),
            );
            db.insert_audit(&record)?;
            created.push(BulkCreated {
                row,
                user,
                password,
            });
        }
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::BulkUploadCustomerUsers,
            customer,
            json!({
                "rows": created.len(),
                "usageLocation": location.as_str(),
                "userIds": created.iter().map(|c| c.user.id.to_string()).collect::<Vec<_>>(),
            }),
        );
        db.insert_audit(&record)?;
        Ok(BulkUploaded {
            delimiter: file.delimiter,
            created,
        })
    }
}

fn location_problem(message: String) -> BulkProblem {
    BulkProblem {
        row: None,
        column: Some("usageLocation".into()),
        message: format!("usageLocation {message}"),
    }
}

/// The refusal when other requests took some of the file's addresses meanwhile.
fn taken(file: &BulkFile, held: &[String]) -> ServiceError {
    ServiceError::UpnsTaken(
        file.rows
            .iter()
            .filter(|row| held.contains(&row.upn.key()))
            .map(|row| row.upn.to_string())
            .collect(),
    )
}
