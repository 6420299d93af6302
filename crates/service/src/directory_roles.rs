//! Directory roles of a customer tenant (rest-api.md operations 10–14): the fixed catalogue,
//! a user's roles, and role members. A user's roles decide what it may do when it signs in
//! and how privileged it is as a target (its tier).

use roster_domain::audit::OperationType;
use roster_domain::authz::RoleMember;
use roster_domain::authz::{self, Action, CustomerAction, DirectoryRole, Tier};
use roster_domain::customer_user::UserState;
use roster_domain::{CustomerId, UserId};
use roster_store::sql::SyncDb;
use serde_json::json;

use crate::paging::{self, ListRequest};
use crate::{Ctx, Page, Result, Roster, ServiceError};

/// The directory roles a user holds (whatever its state).
pub(crate) fn roles_of_user(db: &mut SyncDb<'_>, user: UserId) -> Result<Vec<DirectoryRole>> {
    Ok(db
        .role_ids_of(user)?
        .iter()
        .filter_map(|id| DirectoryRole::by_id(id))
        .collect())
}

/// How privileged a user is as the target of an operation (access.md, Tiers).
pub(crate) fn tier_of_user(db: &mut SyncDb<'_>, user: UserId) -> Result<Tier> {
    Ok(authz::tier_of(&roles_of_user(db, user)?))
}

fn role_by_id(id: &str) -> Result<DirectoryRole> {
    DirectoryRole::by_id(id).ok_or(ServiceError::NotFound("the directory role"))
}

impl Roster {
    /// The audit record of a membership change.
    fn member_record(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        operation: OperationType,
        role: DirectoryRole,
        user: &roster_domain::customer_user::CustomerUser,
    ) -> roster_domain::audit::AuditRecord {
        self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            operation,
            role.id().to_string(),
            json!({
                "roleId": role.id(),
                "roleName": role.name(),
                "id": user.id.to_string(),
                "userPrincipalName": user.upn.as_str(),
            }),
        )
    }

    /// The active user whose membership a caller changes, once the caller may.
    fn member_target(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        user: UserId,
    ) -> Result<roster_domain::customer_user::CustomerUser> {
        self.customer_for(
            db,
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ManageRoleMembers),
        )?;
        db.customer_user(customer, user)?
            .filter(|u| u.state == UserState::Active)
            .ok_or(ServiceError::UserNotFound)
    }

    /// The fixed catalogue of directory roles, as a customer offers it.
    pub async fn directory_roles(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
    ) -> Result<Vec<DirectoryRole>> {
        self.read_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ReadUsers),
            |_, _| Ok(DirectoryRole::ALL.to_vec()),
        )
        .await
    }

    /// The directory roles of one user of the customer.
    pub async fn user_directory_roles(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        user: UserId,
    ) -> Result<Vec<DirectoryRole>> {
        self.read_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ReadUsers),
            move |db, _| {
                db.customer_user(customer, user)?
                    .ok_or(ServiceError::UserNotFound)?;
                let mut roles = roles_of_user(db, user)?;
                roles.sort();
                Ok(roles)
            },
        )
        .await
    }

    /// The active members of a role, by user id, a page at a time (`First(size)`).
    pub async fn role_members(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        role_id: &str,
        request: ListRequest<u32>,
    ) -> Result<Page<RoleMember>> {
        let role = role_by_id(role_id)?;
        let scope = format!("{customer}/{}", role.id());
        let (size, after) = match request {
            ListRequest::First(size) => (size, None),
            ListRequest::Next(token) => {
                let key = self
                    .key_for(&token)
                    .await
                    .ok_or_else(paging::invalid_token)?;
                let (size, last) = paging::open_ids(&key, "role_members", &scope, &token)?;
                let last: UserId = last.parse().map_err(|_| paging::invalid_token())?;
                (size, Some(last))
            }
        };
        let mut items = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| {
                    Ok(db.role_members(&customer.to_string(), role.id(), after, size + 1)?)
                },
            )
            .await?;
        let continuation = if items.len() > size as usize {
            items.truncate(size as usize);
            items.last().map(|m| {
                paging::seal_ids(
                    self.keys().current(),
                    "role_members",
                    &scope,
                    size,
                    &m.user.to_string(),
                )
            })
        } else {
            None
        };
        Ok(Page {
            items,
            continuation,
        })
    }

    /// Makes an active user of the customer a member of a role. Adding a member that holds
    /// the role already changes nothing and answers as the first time did.
    pub async fn add_role_member(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        role_id: &str,
        user: UserId,
    ) -> Result<RoleMember> {
        let role = role_by_id(role_id)?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        let target = self
            .store()
            .write_job(move |db| -> Result<_> {
                let target = roster.member_target(db, &ctx, customer, user)?;
                let now = roster.now();
                if db.add_role_member(&customer.to_string(), role.id(), user, now)? {
                    let record = roster.member_record(
                        &ctx,
                        customer,
                        OperationType::AddUserMember,
                        role,
                        &target,
                    );
                    db.insert_audit(&record)?;
                }
                Ok(target)
            })
            .await?;
        Ok(RoleMember {
            user,
            upn: target.upn,
            display_name: target.display_name,
        })
    }

    /// Ends a user's membership of a role: not found when the user is not a member.
    pub async fn remove_role_member(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        role_id: &str,
        user: UserId,
    ) -> Result<()> {
        let role = role_by_id(role_id)?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .write_job(move |db| -> Result<()> {
                let target = roster.member_target(db, &ctx, customer, user)?;
                if !db.remove_role_member(role.id(), user, roster.now())? {
                    return Err(ServiceError::NotFound("the user's membership of this role"));
                }
                let record = roster.member_record(
                    &ctx,
                    customer,
                    OperationType::RemoveUserMember,
                    role,
                    &target,
                );
                db.insert_audit(&record)?;
                Ok(())
            })
            .await
    }
}
