//! The partner roles (a fixed catalogue) and their members: a role member is a partner user
//! that holds the role, itself (a change of its account access) or through a group.

use roster_domain::authz::{Action, PartnerRole};
use roster_domain::partner_user::{PartnerUser, PartnerUserPatch};
use roster_domain::{Invalid, UserId};

use crate::{Ctx, Result, Roster, ServiceError};

impl Roster {
    /// The partner roles (the catalogue).
    pub fn partner_roles(&self, ctx: &Ctx) -> Result<Vec<PartnerRole>> {
        self.may(ctx, Action::ViewAccountUsers)?;
        Ok(PartnerRole::ALL.to_vec())
    }

    /// Gives a user one more role (giving it access when it had none).
    pub async fn add_partner_role_member(
        &self,
        ctx: &Ctx,
        role: PartnerRole,
        id: UserId,
    ) -> Result<PartnerUser> {
        self.may(ctx, Action::ManageAccountUsers)?;
        let before = self.read_partner_user(ctx, id).await?;
        let mut access = before.access.clone().unwrap_or_default();
        if access.custom.is_some() {
            return Err(Invalid::one("roles", "this user has custom permissions: replace them with roles through PATCH /v1/users/{id}").into());
        }
        if !access.roles.contains(&role) {
            access.roles.push(role);
        }
        let names: Vec<String> = access
            .roles
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
        self.update_partner_user(
            ctx,
            id,
            &PartnerUserPatch {
                roles: Some(names),
                ..Default::default()
            },
        )
        .await
        .map(|u| u.user)
    }

    /// Takes a role from a user.
    pub async fn remove_partner_role_member(
        &self,
        ctx: &Ctx,
        role: PartnerRole,
        id: UserId,
    ) -> Result<()> {
        self.may(ctx, Action::ManageAccountUsers)?;
        let before = self.read_partner_user(ctx, id).await?;
        let Some(mut access) = before.access.clone().filter(|a| a.roles.contains(&role)) else {
            return Err(ServiceError::NotFound("the user among the role's members"));
        };
        access.roles.retain(|r| *r != role);
        let names: Vec<String> = access
            .roles
            .iter()
            .map(|r| r.as_str().to_string())
            .collect();
        self.update_partner_user(
            ctx,
            id,
            &PartnerUserPatch {
                roles: Some(names),
                ..Default::default()
            },
        )
        .await?;
        Ok(())
    }
}
