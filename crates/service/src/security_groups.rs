//! Security groups of the partner tenant: each carries account roles that its members hold.

use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, PartnerRole};
use roster_domain::partner_user::{parse_access, SecurityGroup};
use roster_domain::{text, GroupId, Invalid, UserId};
use roster_store::StoreError;
use serde_json::json;

use crate::{Ctx, Result, Roster, ServiceError};

impl Roster {
    pub async fn create_group(
        &self,
        ctx: &Ctx,
        name: Option<&str>,
        description: Option<&str>,
        roles: Option<&[String]>,
    ) -> Result<SecurityGroup> {
        self.may(ctx, Action::ManageAccountUsers)?;
        let mut bad = Invalid::default();
        let display = bad.check("displayName", text::bounded(name.unwrap_or(""), 256, true));
        let description = bad
            .check("description", text::optional(description, 1024))
            .flatten();
        let roles = match parse_access(roles, None) {
            Ok(a) => a.map(|a| a.roles).unwrap_or_default(),
            Err(e) => {
                bad.0.extend(e.0);
                Vec::new()
            }
        };
        let Some(display) = display else {
            return Err(bad.into());
        };
        if !bad.is_empty() {
            return Err(bad.into());
        }
        if roles.contains(&PartnerRole::GlobalAdmin) {
            self.may(ctx, Action::ManageGlobalAdmins)?;
        }
        let group = SecurityGroup {
            id: GroupId::new_random(),
            partner: ctx.actor.partner,
            display_name: display,
            description,
            roles,
            created_at: self.now(),
        };
        let mut tx = self.store().write().await?;
        match tx.db().insert_group(&group).await {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict(format!(
                    "a group named '{}' exists already",
                    group.display_name
                )))
            }
            other => other?,
        }
        let record = self.audit(Some(ctx), ctx.actor.partner, None, OperationType::CreateSecurityGroup, group.id, json!({"displayName": group.display_name, "roles": group.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()}));
        tx.db().insert_audit(&record).await?;
        tx.commit().await?;
        Ok(group)
    }

    pub async fn list_groups(&self, ctx: &Ctx) -> Result<Vec<SecurityGroup>> {
        self.may(ctx, Action::ViewAccountUsers)?;
        let mut r = self.store().reader().await?;
        Ok(r.db().groups(ctx.actor.partner).await?)
    }

    pub async fn add_group_member(&self, ctx: &Ctx, group: &str, user: UserId) -> Result<()> {
        self.change_group_member(ctx, group, user, true).await
    }

    pub async fn remove_group_member(&self, ctx: &Ctx, group: &str, user: UserId) -> Result<()> {
        self.change_group_member(ctx, group, user, false).await
    }

    async fn change_group_member(
        &self,
        ctx: &Ctx,
        group: &str,
        user: UserId,
        add: bool,
    ) -> Result<()> {
        self.may(ctx, Action::ManageAccountUsers)?;
        let mut tx = self.store().write().await?;
        tx.db().lock_partner_accounts(ctx.actor.partner).await?;
        let g = tx
            .db()
            .group(ctx.actor.partner, Self::id_of(group, "the security group")?)
            .await?
            .ok_or(ServiceError::NotFound("the security group"))?;
        if g.roles.contains(&PartnerRole::GlobalAdmin) {
            self.may(ctx, Action::ManageGlobalAdmins)?;
        }
        let member = self.partner_user_in(&mut tx.db(), ctx, user).await?;
        let changed = if add {
            tx.db().add_group_member(g.id, user).await?
        } else {
            tx.db().remove_group_member(g.id, user).await?
        };
        if !add && !changed {
            return Err(ServiceError::NotFound("the user among the group's members"));
        }
        let member = self.partner_user_in(&mut tx.db(), ctx, member.id).await?;
        self.check_roles_invariants(&mut tx.db(), ctx, &member)
            .await?;
        let op = if add {
            OperationType::AddGroupMember
        } else {
            OperationType::RemoveGroupMember
        };
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            None,
            op,
            g.id,
            json!({"groupId": g.id, "userId": user.to_string()}),
        );
        tx.db().insert_audit(&record).await?;
        tx.commit().await?;
        Ok(())
    }
}
