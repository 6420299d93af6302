//! Security groups of the partner tenant: each carries account roles that its members hold.

use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, PartnerRole};
use roster_domain::partner_user::{parse_access, SecurityGroup};
use roster_domain::{text, GroupId, Invalid, UserId};
use roster_store::sql::SyncDb;
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
        let record = self.audit(Some(ctx), ctx.actor.partner, None, OperationType::CreateSecurityGroup, group.id, json!({"displayName": group.display_name, "roles": group.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()}));
        let row = group.clone();
        self.store()
            .write_job(move |db| -> Result<()> {
                match db.insert_group(&row) {
                    Err(StoreError::Conflict) => {
                        return Err(ServiceError::Conflict(format!(
                            "a group named '{}' exists already",
                            row.display_name
                        )))
                    }
                    other => other?,
                }
                db.insert_audit(&record)?;
                Ok(())
            })
            .await?;
        Ok(group)
    }

    pub async fn list_groups(&self, ctx: &Ctx) -> Result<Vec<SecurityGroup>> {
        self.may(ctx, Action::ViewAccountUsers)?;
        let partner = ctx.actor.partner;
        self.store()
            .read_job(move |db| -> Result<_> { Ok(db.groups(partner)?) })
            .await
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
        let group: GroupId = Self::id_of(group, "the security group")?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .write_job(move |db| roster.change_group_member_in(db, &ctx, group, user, add))
            .await
    }

    fn change_group_member_in(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        group: GroupId,
        user: UserId,
        add: bool,
    ) -> Result<()> {
        db.lock_partner_accounts(ctx.actor.partner)?;
        let g = db
            .group(ctx.actor.partner, group)?
            .ok_or(ServiceError::NotFound("the security group"))?;
        if g.roles.contains(&PartnerRole::GlobalAdmin) {
            self.may(ctx, Action::ManageGlobalAdmins)?;
        }
        let member = self.partner_user_in(db, ctx, user)?;
        let changed = if add {
            db.add_group_member(g.id, user)?
        } else {
            db.remove_group_member(g.id, user)?
        };
        if !add && !changed {
            return Err(ServiceError::NotFound("the user among the group's members"));
        }
        let member = self.partner_user_in(db, ctx, member.id)?;
        self.check_roles_invariants(db, ctx, &member)?;
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
        db.insert_audit(&record)?;
        Ok(())
    }
}
