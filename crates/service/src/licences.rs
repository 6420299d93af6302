//! Licences (rest-api.md operations 15–17, directory.md Licences): the product catalogue, the
//! seats a partner gives a customer, and the licences of users. A seat is checked and taken in
//! the transaction that assigns it, with the customer's seat row locked, so two assignments of
//! the last seat never both succeed.

use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, CustomerAction};
use roster_domain::customer_user::{CustomerUser, UserState};
use roster_domain::licence::{
    Assignment, LicenceUpdate, LicenceUpdateInput, LicenceView, LicenseGroup, Product, Seats,
    SubscribedSkuView, UpdateRefused,
};
use roster_domain::{CustomerId, Invalid, Upn, UserId};
use roster_store::sql::SyncDb;
use serde_json::json;

use crate::{Ctx, Result, Roster, ServiceError};

/// A user named by its id or by its user principal name (operations 16 and 17 take both).
#[derive(Clone, Debug)]
pub enum UserRef {
    Id(UserId),
    Upn(String),
}

impl UserRef {
    pub fn parse(raw: &str) -> Self {
        match raw.trim().parse() {
            Ok(id) => Self::Id(id),
            Err(_) => Self::Upn(raw.trim().to_string()),
        }
    }
}

/// A user of the customer by id (any state) or by UPN (active users).
fn find_user(db: &mut SyncDb<'_>, customer: CustomerId, who: &UserRef) -> Result<CustomerUser> {
    let found = match who {
        UserRef::Id(id) => db.customer_user(customer, *id)?,
        UserRef::Upn(raw) => match Upn::parse(raw) {
            Ok(upn) => db.customer_user_by_upn(customer, &upn)?,
            Err(_) => None,
        },
    };
    found.ok_or(ServiceError::UserNotFound)
}

fn in_groups(product: &Product, groups: &[LicenseGroup]) -> bool {
    groups.is_empty() || groups.contains(&product.license_group)
}

impl Roster {
    /// Every product of the catalogue (any signed-in caller).
    pub fn product_skus(&self, _ctx: &Ctx) -> Vec<Product> {
        self.catalogue().products().to_vec()
    }

    fn product(&self, sku: &str) -> Result<&Product> {
        self.catalogue()
            .get(sku)
            .ok_or(ServiceError::NotFound("the product SKU"))
    }

    /// The customer's seats, in the licence groups asked for (every group when empty).
    pub async fn subscribed_skus(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        groups: &[LicenseGroup],
    ) -> Result<Vec<SubscribedSkuView>> {
        let held = self
            .read_in_customer(ctx, customer, Action::ViewSeats, move |db, _| {
                Ok(db.subscribed_skus(customer)?)
            })
            .await?;
        let mut out = Vec::new();
        for s in held {
            // A product the operator took out of the catalogue is not shown.
            if let Some(product) = self.catalogue().get(&s.sku_id) {
                if in_groups(product, groups) {
                    out.push(SubscribedSkuView {
                        product: product.clone(),
                        seats: s.seats,
                        consumed: s.consumed,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Sets the customer's seats of a product. Refused when fewer seats than licences in use
    /// would remain.
    pub async fn set_seats(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        sku: &str,
        seats: Result<Seats, Invalid>,
    ) -> Result<SubscribedSkuView> {
        let product = self.product(sku)?.clone();
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.write_in_customer(&ctx.clone(), customer, Action::ManageSeats, move |db, _| {
        let seats = seats?;
        let now = roster.now();
        let consumed = match db.lock_subscribed_sku(customer, &product.id)? {
            Some(current) => current.consumed,
            None => 0,
        };
        if seats.total < consumed {
            return Err(Invalid::one(
                "totalUnits",
                format!(
                    "{consumed} licences of {} are assigned: totalUnits can't be below that (remove licences first)",
                    product.sku_part_number
                ),
            )
            .into());
        }
        db
            .put_subscribed_sku(customer, &product.id, seats, now)?;
        let record = roster.audit(
            Some(&ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::UpdateCustomerSubscribedSku,
            product.id.clone(),
            json!({
                "skuId": product.id,
                "skuPartNumber": product.sku_part_number,
                "totalUnits": seats.total,
                "suspendedUnits": seats.suspended,
                "warningUnits": seats.warning,
            }),
        );
        db.insert_audit(&record)?;
        Ok(SubscribedSkuView {
            product,
            seats,
            consumed,
        })
        })
        .await
    }

    /// The names of the products each of these users of a customer holds licences of, in one
    /// query (a page of a users table), by user.
    pub async fn licence_names_of_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        users: &[UserId],
    ) -> Result<std::collections::HashMap<UserId, Vec<String>>> {
        let users = users.to_vec();
        let held = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| Ok(db.licence_skus_of_users(customer, &users)?),
            )
            .await?;
        let mut out: std::collections::HashMap<UserId, Vec<String>> = Default::default();
        for (user, sku) in held {
            if let Some(product) = self.catalogue().get(&sku) {
                out.entry(user).or_default().push(product.name.clone());
            }
        }
        Ok(out)
    }

    /// The licences a user holds, in the licence groups asked for (every group when empty).
    /// A soft-deleted user holds none until it is restored.
    pub async fn user_licences(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        who: &UserRef,
        groups: &[LicenseGroup],
    ) -> Result<Vec<LicenceView>> {
        let who = who.clone();
        let held = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| {
                    let user = find_user(db, customer, &who)?;
                    Ok(db.user_licences(user.id)?)
                },
            )
            .await?;
        let mut out = Vec::new();
        for l in held {
            if l.released_at.is_some() {
                continue;
            }
            if let Some(product) = self.catalogue().get(&l.sku_id) {
                if in_groups(product, groups) {
                    out.push(LicenceView {
                        product: product.clone(),
                        excluded_plans: l.excluded_plans,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Assigns and removes licences of one user in one step: all of it or nothing. Removals
    /// come first, so a request may swap one product for another on the last seat.
    pub async fn update_licences(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        who: &UserRef,
        input: &LicenceUpdateInput,
    ) -> Result<LicenceUpdate> {
        // Rights first, then the request: a caller that may not act learns nothing from it.
        self.read_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ManageLicences),
            |_, _| Ok(()),
        )
        .await?;
        let mut update = LicenceUpdate::validate(input, self.catalogue()).map_err(|e| match e {
            UpdateRefused::Invalid(bad) => ServiceError::Invalid(bad),
            UpdateRefused::MixedGroups => ServiceError::MixedLicenceGroups,
        })?;
        // One lock order for every request: no two requests wait for each other.
        update.assign.sort_by(|a, b| a.sku_id.cmp(&b.sku_id));
        let (roster, job_ctx, who) = (self.clone(), ctx.clone(), who.clone());
        let job_update = update.clone();
        self.write_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ManageLicences),
            move |db, _| roster.apply_licences(db, &job_ctx, customer, &who, &job_update),
        )
        .await?;
        Ok(update)
    }

    /// The write half of [`Roster::update_licences`], in its transaction.
    fn apply_licences(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        who: &UserRef,
        update: &LicenceUpdate,
    ) -> Result<()> {
        let user = find_user(db, customer, who)?;
        if user.state != UserState::Active {
            return Err(ServiceError::NotActive);
        }
        if !update.assign.is_empty() && user.usage_location.is_none() {
            return Err(Invalid::one(
                "usageLocation",
                "the user has no usageLocation: set it (PATCH the user) before assigning licences",
            )
            .into());
        }
        let held: Vec<String> = db
            .user_licences(user.id)?
            .into_iter()
            .filter(|l| l.released_at.is_none())
            .map(|l| l.sku_id)
            .collect();
        let mut bad = Invalid::default();
        for sku in &update.remove {
            if !held.contains(sku) {
                bad.push(
                    "licensesToRemove",
                    format!("the user has no licence of {sku} to remove"),
                );
            }
        }
        if !bad.is_empty() {
            return Err(bad.into());
        }
        for sku in &update.remove {
            db.delete_user_licence(user.id, sku)?;
        }
        let now = self.now();
        for Assignment {
            sku_id,
            excluded_plans,
        } in &update.assign
        {
            if !held.contains(sku_id) {
                let free = match db.lock_subscribed_sku(customer, sku_id)? {
                    Some(s) => s.seats.total - s.consumed,
                    None => 0,
                };
                if free <= 0 {
                    return Err(ServiceError::NoLicencesLeft(sku_id.clone()));
                }
            }
            db.put_user_licence(user.id, customer, sku_id, excluded_plans, now)?;
        }
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::UpdateCustomerUserLicenses,
            user.id.to_string(),
            json!({
                "CustomerUserId": user.id.to_string(),
                "LicensesToAssign": update.assign.iter().map(|a| json!({"SkuId": a.sku_id, "ExcludedPlans": a.excluded_plans})).collect::<Vec<_>>(),
                "LicensesToRemove": update.remove,
                "LicenseWarnings": [],
            }),
        );
        db.insert_audit(&record)?;
        Ok(())
    }

    /// A restored user's licences: each takes a seat again where one is free; the others
    /// are dropped. Returns the SKUs dropped. Runs in the restore's transaction.
    pub(crate) fn reclaim_licences(
        &self,
        db: &mut SyncDb<'_>,
        customer: CustomerId,
        user: UserId,
    ) -> Result<Vec<String>> {
        let mut released: Vec<String> = db
            .user_licences(user)?
            .into_iter()
            .filter(|l| l.released_at.is_some())
            .map(|l| l.sku_id)
            .collect();
        released.sort();
        let mut dropped = Vec::new();
        for sku in released {
            let free = match db.lock_subscribed_sku(customer, &sku)? {
                Some(s) => s.seats.total - s.consumed,
                None => 0,
            };
            if free > 0 {
                db.reclaim_user_licence(user, &sku)?;
            } else {
                db.delete_user_licence(user, &sku)?;
                dropped.push(sku);
            }
        }
        Ok(dropped)
    }
}
