//! The partner account's users: list, create, give access, edit, reset passwords, remove
//! access. Their roles are in `partner_roles`, their security groups in `security_groups`.

use std::collections::BTreeMap;

use rand::rngs::OsRng;
use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, PartnerRole};
use roster_domain::customer_user::UserState;
use roster_domain::listing::{After, DEFAULT_PAGE_SIZE};
use roster_domain::partner_user::{
    parse_access, Access, NewPartnerUser, NewPartnerUserInput, PartnerUser, PartnerUserChanges,
    PartnerUserPatch, SecurityGroup,
};
use roster_domain::password::{Password, PersonalWords};
use roster_domain::{GroupId, Invalid, Upn, UserId};
use roster_store::sql::SyncDb;
use roster_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::customer_users::new_stamp;
use crate::paging::{self, ListRequest};
use crate::{Ctx, Page, Result, Roster, ServiceError};

/// A partner user and, after a create or a reset, its password (shown this once).
#[derive(Debug)]
pub struct PartnerUserWithPassword {
    pub user: PartnerUser,
    pub password: Option<(Password, bool)>,
}

/// Which users a list holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerUserQuery {
    pub role: Option<PartnerRole>,
    /// Users whose user name or display name contains this (case-insensitively).
    pub search: Option<String>,
    pub state: UserState,
    pub size: u32,
}

impl Default for PartnerUserQuery {
    fn default() -> Self {
        Self {
            role: None,
            search: None,
            state: UserState::Active,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SealedUsers {
    list: String,
    scope: String,
    role: Option<String>,
    #[serde(default)]
    search: Option<String>,
    state: String,
    size: u32,
    key: String,
    id: String,
}

/// The refusal for a change that would leave the account without a Global admin.
fn last_global_admin() -> ServiceError {
    ServiceError::Conflict(
        "at least one active Global admin must remain: give the role to someone else first".into(),
    )
}

fn user_json(u: &PartnerUser) -> serde_json::Value {
    json!({
        "id": u.id.to_string(),
        "userPrincipalName": u.upn.as_str(),
        "displayName": u.display_name,
        "roles": u.access.as_ref().map(|a| a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
        "customPermissions": u.access.as_ref().and_then(|a| a.custom.as_ref()).map(|c| c.to_json()),
        "groups": u.groups,
    })
}

/// Whether a user with this account access, in groups carrying `group_roles`, is a Global
/// admin. Without account access a user cannot sign in, so its groups give it nothing.
pub(crate) fn holds_global_admin(access: Option<&Access>, group_roles: &[PartnerRole]) -> bool {
    access.is_some_and(|a| {
        a.roles.contains(&PartnerRole::GlobalAdmin)
            || group_roles.contains(&PartnerRole::GlobalAdmin)
    })
}

impl Roster {
    pub(crate) fn may(&self, ctx: &Ctx, action: Action) -> Result<()> {
        self.allow(ctx, action)
    }

    /// A partner user's UPN must be on one of the partner's own domains.
    fn check_partner_domain(&self, db: &mut SyncDb<'_>, ctx: &Ctx, upn: &Upn) -> Result<()> {
        let tenant = db.tenant_of_domain(&upn.domain())?;
        if tenant.as_deref() == Some(ctx.actor.partner.to_string().as_str()) {
            return Ok(());
        }
        Err(Invalid::one(
            "userPrincipalName",
            format!(
                "the domain '{}' is not a domain of the partner's tenant",
                upn.domain()
            ),
        )
        .into())
    }

    /// [`Roster::partner_user_in`] in a read job of its own.
    pub(crate) async fn read_partner_user(&self, ctx: &Ctx, id: UserId) -> Result<PartnerUser> {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .read_job(move |db| roster.partner_user_in(db, &ctx, id))
            .await
    }

    pub(crate) fn partner_user_in(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        id: UserId,
    ) -> Result<PartnerUser> {
        db.partner_user(ctx.actor.partner, id)?
            .ok_or(ServiceError::UserNotFound)
    }

    pub(crate) fn ensure_groups(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        groups: &[String],
    ) -> Result<Vec<SecurityGroup>> {
        let mut found = Vec::new();
        for g in groups {
            let group = match g.trim().parse() {
                Ok(id) => db.group(ctx.actor.partner, id)?,
                Err(_) => None,
            };
            match group {
                Some(group) => found.push(group),
                None => {
                    return Err(Invalid::one(
                        "groups",
                        format!("'{g}' is not a security group of this partner"),
                    )
                    .into())
                }
            }
        }
        Ok(found)
    }

    /// The partner's account users (`members_of`: `None`), or the members of one role (a
    /// list of its own: a continuation token of one role's members is refused on another's).
    pub async fn list_partner_users(
        &self,
        ctx: &Ctx,
        members_of: Option<PartnerRole>,
        request: ListRequest<PartnerUserQuery>,
    ) -> Result<Page<PartnerUser>> {
        self.may(ctx, Action::ViewAccountUsers)?;
        let scope = ctx.actor.partner.to_string();
        let list = match members_of {
            None => "partner_users",
            Some(_) => "partner_role_members",
        };
        let (query, after) = match request {
            ListRequest::First(q) => (
                PartnerUserQuery {
                    role: members_of.or(q.role),
                    search: q
                        .search
                        .map(|t| roster_domain::listing::sort_key(t.trim()))
                        .filter(|t| !t.is_empty()),
                    ..q
                },
                None,
            ),
            ListRequest::Next(token) => {
                let key = self
                    .key_for(&token)
                    .await
                    .ok_or_else(paging::invalid_token)?;
                let s: SealedUsers = key.open(&token).ok_or_else(paging::invalid_token)?;
                if s.list != list || s.scope != scope {
                    return Err(paging::invalid_token().into());
                }
                let role = match s.role {
                    None => None,
                    Some(r) => Some(PartnerRole::parse(&r).ok_or_else(paging::invalid_token)?),
                };
                if members_of.is_some() && role != members_of {
                    return Err(paging::invalid_token().into());
                }
                let state = UserState::parse(&s.state).ok_or_else(paging::invalid_token)?;
                (
                    PartnerUserQuery {
                        role,
                        search: s.search,
                        state,
                        size: s.size,
                    },
                    Some(After {
                        key: s.key,
                        id: s.id,
                    }),
                )
            }
        };

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .read_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let mut items = db.list_partner_users(
                    ctx.actor.partner,
                    query.role,
                    query.search.as_deref(),
                    query.state,
                    after.as_ref(),
                    query.size,
                )?;
                let continuation = if items.len() > query.size as usize {
                    items.truncate(query.size as usize);
                    items.last().map(|last| {
                        roster.keys().current().seal(&SealedUsers {
                            list: list.into(),
                            scope: scope.clone(),
                            role: query.role.map(|r| r.as_str().to_string()),
                            search: query.search.clone(),
                            state: query.state.as_str().into(),
                            size: query.size,
                            key: last.upn.key(),
                            id: last.id.to_string(),
                        })
                    })
                } else {
                    None
                };
                Ok(Page {
                    items,
                    continuation,
                })
            })
            .await
    }

    /// The partner tenant's directory users that have no access to the account yet, the
    /// first `limit` by user name: whom "Add existing users" offers.
    pub async fn directory_users_without_access(
        &self,
        ctx: &Ctx,
        limit: u32,
    ) -> Result<Vec<PartnerUser>> {
        self.may(ctx, Action::ManageAccountUsers)?;
        let partner = ctx.actor.partner;
        self.store()
            .read_job(move |db| -> Result<_> {
                Ok(db.directory_users_without_access(partner, limit)?)
            })
            .await
    }

    pub async fn get_partner_user(&self, ctx: &Ctx, id: UserId) -> Result<PartnerUser> {
        if id != ctx.actor.user {
            self.may(ctx, Action::ViewAccountUsers)?;
        }

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .read_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                roster.partner_user_in(db, ctx, id)
            })
            .await
    }

    /// Creates a directory user of the partner tenant and gives it access (Global admin only).
    pub async fn create_partner_user(
        &self,
        ctx: &Ctx,
        input: &NewPartnerUserInput,
    ) -> Result<PartnerUserWithPassword> {
        self.may(ctx, Action::CreateDirectoryUsers)?;
        let new = NewPartnerUser::validate(input)?;
        if holds_global_admin(Some(&new.access), &[]) {
            self.may(ctx, Action::ManageGlobalAdmins)?;
        }
        {
            let (roster, job_ctx, upn) = (self.clone(), ctx.clone(), new.upn.clone());
            self.store()
                .read_job(move |db| roster.check_partner_domain(db, &job_ctx, &upn))
                .await?;
        }
        let force = new.force_change_password;
        let password = new
            .password
            .clone()
            .into_password(new.personal_words(), &mut OsRng);
        let hash = self.hasher().hash(&password).await?;
        let now = self.now();
        let id = UserId::new_random();

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let groups = roster.ensure_groups(db, ctx, &new.groups)?;
                if db.upn_taken(&ctx.actor.partner.to_string(), &new.upn, None)? {
                    return Err(ServiceError::UpnTaken(new.upn.to_string()));
                }
                match db.insert_partner_directory_user(
                    &roster_store::partner_users::NewDirectoryUser {
                        id,
                        partner: ctx.actor.partner,
                        upn: new.upn.clone(),
                        display_name: new.display_name.clone(),
                        first_name: new.first_name.clone(),
                        last_name: new.last_name.clone(),
                        password_hash: hash,
                        force_change_password: force,
                        security_stamp: new_stamp(),
                        is_directory_global_admin: new.is_directory_global_admin,
                        password_recovery_email: new.password_recovery_email.clone(),
                    },
                    now,
                ) {
                    Err(StoreError::Conflict) => {
                        return Err(ServiceError::UpnTaken(new.upn.to_string()))
                    }
                    other => other?,
                }
                db.set_access(id, &new.access, now)?;
                for g in &groups {
                    db.add_group_member(g.id, id)?;
                }
                let user = roster.partner_user_in(db, ctx, id)?;
                roster.check_roles_invariants(db, ctx, &user)?;
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    None,
                    OperationType::CreatePartnerUser,
                    id.to_string(),
                    user_json(&user),
                );
                db.insert_audit(&record)?;
                Ok(PartnerUserWithPassword {
                    user,
                    password: Some((password, force)),
                })
            })
            .await
    }

    /// Guests may not hold Global admin (directly or through a group); one active Global
    /// admin must remain.
    pub(crate) fn check_roles_invariants(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        user: &PartnerUser,
    ) -> Result<()> {
        if user.is_guest {
            let mut roles = user
                .access
                .as_ref()
                .map(|a| a.roles.clone())
                .unwrap_or_default();
            roles.extend(db.group_roles_of(user.id)?);
            if user.access.is_some() && roles.contains(&PartnerRole::GlobalAdmin) {
                return Err(Invalid::one(
                    "roles",
                    "a guest (an invited outside user) may not hold Global admin",
                )
                .into());
            }
        }
        if db.global_admin_count(ctx.actor.partner)? < 1 {
            return Err(last_global_admin());
        }
        Ok(())
    }

    /// Gives existing directory users of the partner tenant the same roles or custom
    /// permissions, in one step.
    pub async fn grant_access(
        &self,
        ctx: &Ctx,
        user_ids: &[UserId],
        roles: Option<&[String]>,
        custom: Option<&BTreeMap<String, String>>,
    ) -> Result<Vec<PartnerUser>> {
        self.may(ctx, Action::ManageAccountUsers)?;
        if user_ids.is_empty() {
            return Err(Invalid::one("userIds", "give at least one user id").into());
        }
        let access = parse_access(roles, custom)?
            .ok_or_else(|| Invalid::one("roles", "give roles or customPermissions"))?;
        let now = self.now();

        let roster = self.clone();
        let job_ctx = ctx.clone();
        let job_user_ids = user_ids.to_vec();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let user_ids = job_user_ids.as_slice();
                db.lock_partner_accounts(ctx.actor.partner)?;
                let mut out = Vec::new();
                for id in user_ids {
                    let before = roster.partner_user_in(db, ctx, *id)?;
                    if before.state != UserState::Active {
                        return Err(ServiceError::NotActive);
                    }
                    let group_roles = db.group_roles_of(*id)?;
                    if holds_global_admin(before.access.as_ref(), &group_roles)
                        != holds_global_admin(Some(&access), &group_roles)
                    {
                        roster.may(ctx, Action::ManageGlobalAdmins)?;
                    }
                    db.set_access(*id, &access, now)?;
                    let user = roster.partner_user_in(db, ctx, *id)?;
                    roster.check_roles_invariants(db, ctx, &user)?;
                    let record = roster.audit(
                        Some(ctx),
                        ctx.actor.partner,
                        None,
                        OperationType::GrantPartnerUserAccess,
                        id.to_string(),
                        user_json(&user),
                    );
                    db.insert_audit(&record)?;
                    out.push(user);
                }
                Ok(out)
            })
            .await
    }

    /// Edits names, UPN and groups (directory properties), roles or custom permissions
    /// (account access), or resets the password (Global admin only). Every PATCH, whatever it
    /// carries, is an edit of an account user and is authorized as one before anything is
    /// read; one that changes nothing answers the user and writes nothing.
    pub async fn update_partner_user(
        &self,
        ctx: &Ctx,
        id: UserId,
        patch: &PartnerUserPatch,
    ) -> Result<PartnerUserWithPassword> {
        self.may(ctx, Action::ManageAccountUsers)?;
        if patch.reset_password {
            self.may(ctx, Action::ResetPartnerPasswords)?;
        }
        // A new password is checked against the names it will sit beside, and hashed before
        // the transaction (never inside it).
        let new_password = if patch.reset_password {
            let before = self.read_partner_user(ctx, id).await?;
            let changes = PartnerUserChanges::validate(&before, patch)?;
            match changes.password {
                Some((choice, force)) => {
                    let user = &changes.user;
                    let password = choice.into_password(
                        PersonalWords {
                            first_name: user.first_name.as_deref(),
                            last_name: user.last_name.as_deref(),
                            upn_alias: Some(user.upn.alias()),
                        },
                        &mut OsRng,
                    );
                    let hash = self.hasher().hash(&password).await?;
                    Some((password, force, hash))
                }
                None => None,
            }
        } else {
            None
        };
        let now = self.now();

        let roster = self.clone();
        let job_ctx = ctx.clone();
        let job_patch = patch.clone();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let patch = &job_patch;
                db.lock_partner_accounts(ctx.actor.partner)?;
                let before = roster.partner_user_in(db, ctx, id)?;
                let PartnerUserChanges {
                    user: after,
                    access: new_access,
                    ..
                } = PartnerUserChanges::validate(&before, patch)?;
                let groups = match &patch.groups {
                    Some(g) => Some(roster.ensure_groups(db, ctx, g)?),
                    None => None,
                };
                let directory_change = after.upn != before.upn
                    || after.display_name != before.display_name
                    || after.first_name != before.first_name
                    || after.last_name != before.last_name;
                let groups_change = groups.as_ref().is_some_and(|groups| {
                    let mut new: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
                    let mut old: Vec<GroupId> = before.groups.clone();
                    new.sort_unstable();
                    new.dedup();
                    old.sort_unstable();
                    new != old
                });
                let access_change = new_access
                    .as_ref()
                    .is_some_and(|a| Some(a) != before.access.as_ref());
                if !directory_change && !groups_change && !access_change && new_password.is_none() {
                    return Ok(PartnerUserWithPassword {
                        user: before,
                        password: None,
                    });
                }
                // Global admin, held directly or through a group, is granted, removed and edited by
                // Global admins only (a renamed Global admin signs in under the new name).
                let group_roles = db.group_roles_of(id)?;
                let was_global_admin = holds_global_admin(before.access.as_ref(), &group_roles);
                let after_group_roles: Vec<PartnerRole> = match &groups {
                    Some(groups) => groups
                        .iter()
                        .flat_map(|g| g.roles.iter().copied())
                        .collect(),
                    None => group_roles,
                };
                let is_global_admin = holds_global_admin(
                    new_access.as_ref().or(before.access.as_ref()),
                    &after_group_roles,
                );
                if was_global_admin != is_global_admin || (was_global_admin && directory_change) {
                    roster.may(ctx, Action::ManageGlobalAdmins)?;
                }
                if after.upn.key() != before.upn.key() {
                    roster.check_partner_domain(db, ctx, &after.upn)?;
                }
                if directory_change {
                    if db.upn_taken(&ctx.actor.partner.to_string(), &after.upn, Some(id))? {
                        return Err(ServiceError::UpnTaken(after.upn.to_string()));
                    }
                    let mut after = after;
                    after.version = before.version + 1;
                    match db.update_partner_user(&after, before.version, now) {
                        Ok(true) => {}
                        Ok(false) => return Err(ServiceError::PreconditionFailed),
                        Err(StoreError::Conflict) => {
                            return Err(ServiceError::UpnTaken(after.upn.to_string()))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                if let (Some(groups), true) = (&groups, groups_change) {
                    for old in &before.groups {
                        db.remove_group_member(*old, id)?;
                    }
                    for g in groups {
                        db.add_group_member(g.id, id)?;
                    }
                }
                if let (Some(access), true) = (&new_access, access_change) {
                    db.set_access(id, access, now)?;
                }
                if let Some((_, force, hash)) = &new_password {
                    db.set_password(id, hash, &new_stamp())?;
                    db.set_force_change_password(id, *force)?;
                }
                let user = roster.partner_user_in(db, ctx, id)?;
                roster.check_roles_invariants(db, ctx, &user)?;
                let op = if new_password.is_some()
                    && !directory_change
                    && !groups_change
                    && !access_change
                {
                    OperationType::ResetPartnerUserPassword
                } else {
                    OperationType::UpdatePartnerUser
                };
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    None,
                    op,
                    id.to_string(),
                    user_json(&user),
                );
                db.insert_audit(&record)?;
                Ok(PartnerUserWithPassword {
                    user,
                    password: new_password.map(|(p, force, _)| (p, force)),
                })
            })
            .await
    }

    /// Ends a user's access to the account and its sessions; the directory user stays.
    pub async fn remove_partner_user_access(&self, ctx: &Ctx, id: UserId) -> Result<()> {
        self.may(ctx, Action::ManageAccountUsers)?;

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                db.lock_partner_accounts(ctx.actor.partner)?;
                let before = roster.partner_user_in(db, ctx, id)?;
                if before.access.is_none() {
                    return Err(ServiceError::UserNotFound);
                }
                // Without account access a user cannot sign in, so this removes Global admin held
                // through a group as well as Global admin held directly.
                let group_roles = db.group_roles_of(id)?;
                if holds_global_admin(before.access.as_ref(), &group_roles) {
                    roster.may(ctx, Action::ManageGlobalAdmins)?;
                }
                db.remove_access(id)?;
                db.revoke_sessions(id, &new_stamp())?;
                if db.global_admin_count(ctx.actor.partner)? < 1 {
                    return Err(last_global_admin());
                }
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    None,
                    OperationType::RemovePartnerUserAccess,
                    id.to_string(),
                    json!({"id": id.to_string()}),
                );
                db.insert_audit(&record)?;
                Ok(())
            })
            .await
    }
}
