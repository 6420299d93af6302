//! "Permissions" (directory roles) and "Licenses" on "Add user" and "Edit": the choices a
//! form offers, and the changes a form asks for, made through the role-member and
//! licence-update operations. A user is created (or edited) first; its roles and licences
//! are then given one operation at a time, and any that could not be given is said by name
//! beside what was done.

use roster_domain::authz::{self, Action, CustomerAccess, CustomerAction, DirectoryRole};
use roster_domain::licence::{AssignInput, LicenceUpdateInput};
use roster_domain::{CustomerId, UserId};
use roster_service::licences::UserRef;
use roster_service::{Ctx, ServiceError};

use crate::errors::{sentence, PageError};
use crate::Portal;

pub(crate) struct RoleChoice {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) checked: bool,
}

pub(crate) struct SkuChoice {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) available: i64,
    pub(crate) total: i64,
    pub(crate) checked: bool,
}

/// What a form may offer: only what the caller may give.
pub(crate) struct Grants {
    pub(crate) roles: Vec<RoleChoice>,
    pub(crate) skus: Vec<SkuChoice>,
    pub(crate) may_roles: bool,
    pub(crate) may_licences: bool,
}

impl Grants {
    /// The choices, with those of `user` (or `chosen`, a form sent back) ticked.
    pub(crate) async fn load(
        portal: &Portal,
        ctx: &Ctx,
        customer: CustomerId,
        access: &CustomerAccess,
        ticked: Ticked<'_>,
    ) -> Result<Self, PageError> {
        let may = |a| authz::authorize(&ctx.actor, Action::InCustomer(a), access).is_ok();
        let may_roles = may(CustomerAction::ManageRoleMembers);
        let may_licences = may(CustomerAction::ManageLicences);
        let (roles_of, skus_of): (Vec<String>, Vec<String>) = match ticked {
            Ticked::Chosen { roles, skus } => (roles.to_vec(), skus.to_vec()),
            Ticked::Held(user) => held(portal, ctx, customer, user).await?,
            Ticked::Nothing => (Vec::new(), Vec::new()),
        };
        let roles = if may_roles {
            DirectoryRole::ALL
                .iter()
                .map(|r| RoleChoice {
                    id: r.id(),
                    name: r.name(),
                    checked: roles_of.iter().any(|id| id == r.id()),
                })
                .collect()
        } else {
            Vec::new()
        };
        let skus = if may_licences {
            portal
                .roster
                .subscribed_skus(ctx, customer, &[])
                .await?
                .into_iter()
                .map(|s| SkuChoice {
                    available: s.available(),
                    total: s.seats.total,
                    checked: skus_of.contains(&s.product.id),
                    id: s.product.id,
                    name: s.product.name,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            roles,
            skus,
            may_roles,
            may_licences,
        })
    }
}

/// Which choices a form shows ticked.
pub(crate) enum Ticked<'a> {
    Nothing,
    /// What the user holds now.
    Held(UserId),
    /// What a form sent (shown again with its problems).
    Chosen {
        roles: &'a [String],
        skus: &'a [String],
    },
}

/// The role ids and SKU ids a user holds.
async fn held(
    portal: &Portal,
    ctx: &Ctx,
    customer: CustomerId,
    user: UserId,
) -> Result<(Vec<String>, Vec<String>), PageError> {
    let roles = portal
        .roster
        .user_directory_roles(ctx, customer, user)
        .await?
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    let skus = portal
        .roster
        .user_licences(ctx, customer, &UserRef::Id(user), &[])
        .await?
        .into_iter()
        .map(|l| l.product.id)
        .collect();
    Ok((roles, skus))
}

/// The role and SKU ids a form ticked.
pub(crate) fn chosen(form: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    (
        crate::form::values(form, "role"),
        crate::form::values(form, "sku"),
    )
}

/// Gives `user` the roles and licences ticked and takes away those unticked (the form only
/// showed what the caller may change, so nothing else is touched). Answers a sentence for
/// each change that could not be made; an internal error stops.
pub(crate) async fn apply(
    portal: &Portal,
    ctx: &Ctx,
    customer: CustomerId,
    user: UserId,
    grants: &Grants,
    roles: &[String],
    skus: &[String],
) -> Result<Vec<String>, PageError> {
    let mut problems = Vec::new();
    let (held_roles, held_skus) = held(portal, ctx, customer, user).await?;
    let mut note = |what: String, e: ServiceError| -> Result<(), PageError> {
        match e {
            ServiceError::Internal(_) => Err(e.into()),
            other => {
                problems.push(format!("{what}: {}", sentence(&other)));
                Ok(())
            }
        }
    };
    if grants.may_roles {
        for role in &grants.roles {
            let want = roles.iter().any(|r| r == role.id);
            let has = held_roles.iter().any(|r| r == role.id);
            let done = match (want, has) {
                (true, false) => portal
                    .roster
                    .add_role_member(ctx, customer, role.id, user)
                    .await
                    .map(|_| ()),
                (false, true) => {
                    portal
                        .roster
                        .remove_role_member(ctx, customer, role.id, user)
                        .await
                }
                _ => Ok(()),
            };
            if let Err(e) = done {
                note(format!("{} was not changed", role.name), e)?;
            }
        }
    }
    if grants.may_licences {
        // One update per product: products of two licence groups cannot share one.
        for sku in &grants.skus {
            let want = skus.contains(&sku.id);
            let has = held_skus.contains(&sku.id);
            let input = match (want, has) {
                (true, false) => LicenceUpdateInput {
                    assign: Some(vec![AssignInput {
                        sku_id: Some(sku.id.clone()),
                        excluded_plans: None,
                    }]),
                    remove: None,
                },
                (false, true) => LicenceUpdateInput {
                    assign: None,
                    remove: Some(vec![sku.id.clone()]),
                },
                _ => continue,
            };
            if let Err(e) = portal
                .roster
                .update_licences(ctx, customer, &UserRef::Id(user), &input)
                .await
            {
                let what = if want {
                    format!("The license {} was not assigned", sku.name)
                } else {
                    format!("The license {} was not removed", sku.name)
                };
                note(what, e)?;
            }
        }
    }
    Ok(problems)
}
