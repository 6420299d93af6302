//! The customer-user lifecycle: create, read, list, edit, reset password, delete, restore.

use rand::rngs::OsRng;
use roster_domain::audit::OperationType;
use roster_domain::authz::{self, Action, CustomerAction};
use roster_domain::customer_user::{
    patch_kind, CustomerUser, NewCustomerUser, PasswordEcho, PatchKind, PatchRefused, UserChanges,
    UserInput, UserState,
};
use roster_domain::listing::{sort_key, After, SortDirection, UserListQuery, UserSortField};
use roster_domain::password::{Password, PasswordChoice, PersonalWords};
use roster_domain::{CustomerId, UserId};
use roster_store::sql::SyncDb;
use roster_store::StoreError;
use serde_json::json;

use crate::paging::{self, ListRequest};
use crate::{Ctx, Cursor, Page, Result, Roster, ServiceError, Window};

/// A new user and its password, which is shown this once and never again.
#[derive(Debug)]
pub struct CreatedUser {
    pub user: CustomerUser,
    pub password: Password,
}

/// The user after a PATCH, and the password profile to echo when the PATCH carried one.
#[derive(Debug)]
pub struct UpdatedUser {
    pub user: CustomerUser,
    pub password_profile: Option<PasswordEcho>,
}

pub(crate) fn user_json(u: &CustomerUser) -> serde_json::Value {
    json!({
        "id": u.id.to_string(),
        "userPrincipalName": u.upn.as_str(),
        "displayName": u.display_name,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "usageLocation": u.usage_location.map(|c| c.as_str().to_string()),
        "immutableId": u.immutable_id,
        "phoneNumber": u.phone_number,
        "state": u.state.as_str(),
    })
}

fn check(ctx: &Ctx, access: &authz::CustomerAccess, op: CustomerAction) -> Result<()> {
    authz::authorize(&ctx.actor, Action::InCustomer(op), access).map_err(crate::denied)
}

fn etag_matches(if_match: Option<&str>, user: &CustomerUser) -> bool {
    match if_match {
        None => true,
        Some(header) => header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == user.etag()),
    }
}

impl Roster {
    pub async fn create_customer_user(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        input: &UserInput,
    ) -> Result<CreatedUser> {
        let domains = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::CreateUser),
                move |db, _| Ok(db.tenant_domains(&customer.to_string())?),
            )
            .await?;
        let new = NewCustomerUser::validate(input, &domains)?;
        let password = new.password.clone().into_password(
            PersonalWords {
                first_name: new.first_name.as_deref(),
                last_name: new.last_name.as_deref(),
                upn_alias: Some(new.upn.alias()),
            },
            &mut OsRng,
        );
        let hash = self.hasher().hash(&password).await?;
        let now = self.now();
        let user = CustomerUser {
            id: UserId::new_random(),
            customer,
            upn: new.upn,
            display_name: new.display_name,
            first_name: new.first_name,
            last_name: new.last_name,
            usage_location: new.usage_location,
            immutable_id: new.immutable_id,
            phone_number: new.phone_number,
            domain_type: new.domain_type,
            state: UserState::Active,
            soft_deleted_at: None,
            force_change_password: new.force_change_password,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::CreateCustomerUser,
            user.id.to_string(),
            user_json(&user),
        );
        let row = user.clone();
        self.store()
            .write_job(move |db| -> Result<()> {
                let taken = || ServiceError::UpnTaken(row.upn.to_string());
                if db.upn_taken(&customer.to_string(), &row.upn, None)? {
                    return Err(taken());
                }
                match db.insert_customer_user(&row, &hash, &new_stamp()) {
                    Err(StoreError::Conflict) => return Err(taken()),
                    other => other?,
                }
                db.insert_audit(&record)?;
                Ok(())
            })
            .await?;
        Ok(CreatedUser { user, password })
    }

    /// A user by id, active or soft-deleted.
    pub async fn get_customer_user(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
    ) -> Result<CustomerUser> {
        self.read_in_customer(
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ReadUsers),
            move |db, _| {
                db.customer_user(customer, id)?
                    .ok_or(ServiceError::UserNotFound)
            },
        )
        .await
    }

    /// How many of a customer's users are in `state` (the portal's "Deleted users (N)").
    pub async fn count_customer_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        state: roster_domain::customer_user::UserState,
    ) -> Result<u64> {
        let n = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| Ok(db.count_customer_users(customer, state)?),
            )
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub async fn list_customer_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        request: ListRequest<UserListQuery>,
    ) -> Result<Page<CustomerUser>> {
        let scope = customer.to_string();
        let (query, after) = match request {
            ListRequest::First(q) => (q, None),
            ListRequest::Next(token) => {
                let (q, a) = paging::open_users(
                    &self
                        .key_for(&token)
                        .await
                        .ok_or_else(paging::invalid_token)?,
                    &scope,
                    &token,
                )?;
                (q, Some(a))
            }
        };
        let q = query.clone();
        let mut items = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| Ok(db.list_customer_users(customer, &q, after.as_ref())?),
            )
            .await?;
        let continuation = if items.len() > query.size as usize {
            items.truncate(query.size as usize);
            items.last().map(|last| {
                let key = match query.sort {
                    UserSortField::UserPrincipalName => last.upn.key(),
                    UserSortField::DisplayName => sort_key(&last.display_name),
                };
                paging::seal_users(
                    self.keys().current(),
                    &scope,
                    &query,
                    After {
                        key,
                        id: last.id.to_string(),
                    },
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

    /// How many users a list of a customer holds (its state and search), for a door that
    /// offers to act on "all N matching".
    pub async fn count_matching_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        query: &UserListQuery,
    ) -> Result<u64> {
        let query = query.clone();
        let n = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| Ok(db.count_matching_users(customer, &query)?),
            )
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A page of a customer's users for a door that pages both ways (the portal's first,
    /// previous, next and last page): keyset paging from `cursor`, or from the start (or the
    /// end, with `from_end`) without one. One query per page however deep.
    pub async fn browse_customer_users(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        query: &UserListQuery,
        cursor: Option<&Cursor>,
        from_end: bool,
    ) -> Result<Window<CustomerUser>> {
        let backward = cursor.map_or(from_end, |c| c.backward);
        let mut q = query.clone();
        if backward {
            q.direction = match q.direction {
                SortDirection::Ascending => SortDirection::Descending,
                SortDirection::Descending => SortDirection::Ascending,
            };
        }
        let after = cursor.map(|c| c.after.clone());
        let q2 = q.clone();
        let mut items = self
            .read_in_customer(
                ctx,
                customer,
                Action::InCustomer(CustomerAction::ReadUsers),
                move |db, _| Ok(db.list_customer_users(customer, &q2, after.as_ref())?),
            )
            .await?;
        let more = items.len() > q.size as usize;
        items.truncate(q.size as usize);
        if backward {
            items.reverse();
        }
        let key_of = |u: &CustomerUser| After {
            key: match query.sort {
                UserSortField::UserPrincipalName => u.upn.key(),
                UserSortField::DisplayName => sort_key(&u.display_name),
            },
            id: u.id.to_string(),
        };
        Ok(Window {
            first: items.first().map(key_of),
            last: items.last().map(key_of),
            more_before: if backward { more } else { cursor.is_some() },
            more_after: if backward { cursor.is_some() } else { more },
            items,
        })
    }

    /// What a PATCH does, decided on what `db` holds now: the caller's rights in the
    /// customer, the user (locked until the transaction ends when `lock`), its tier and the
    /// customer's domains.
    #[allow(clippy::too_many_arguments)]
    fn plan_patch(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        input: &UserInput,
        if_match: Option<&str>,
        lock: bool,
    ) -> Result<PatchPlan> {
        let (access, user) = self.user_to_change(db, ctx, customer, id, lock)?;
        let user = user.ok_or(ServiceError::UserNotFound)?;
        let domains = db.tenant_domains(&customer.to_string())?;
        let target = crate::directory_roles::tier_of_user(db, user.id)?;
        if !etag_matches(if_match, &user) {
            return Err(ServiceError::PreconditionFailed);
        }
        let kind = patch_kind(user.state, input.state.as_deref()).map_err(|e| match e {
            PatchRefused::Invalid(bad) => ServiceError::Invalid(bad),
            PatchRefused::NotActive => ServiceError::NotActive,
        })?;
        let changes = UserChanges::validate(&user, input, &domains)?;
        let flag_changes = changes
            .force_change_password
            .is_some_and(|f| f != user.force_change_password);
        if kind == PatchKind::Restore {
            check(ctx, &access, CustomerAction::RestoreUser { target })?;
        }
        if changes.upn.is_some() {
            check(ctx, &access, CustomerAction::ChangeUpn { target })?;
        }
        if changes.password.is_some() || flag_changes {
            check(ctx, &access, CustomerAction::ResetPassword { target })?;
        }
        if changes.edits_properties() {
            let only_location = changes.usage_location.is_some()
                && !UserChanges {
                    usage_location: None,
                    ..changes.clone()
                }
                .edits_properties();
            let op = if only_location {
                CustomerAction::EditUsageLocation { target }
            } else {
                CustomerAction::EditUser { target }
            };
            check(ctx, &access, op)?;
        }
        let echo = input.password_profile_given.then(|| PasswordEcho {
            password: match &changes.password {
                Some(PasswordChoice::Given(p)) => Some(p.clone()),
                _ => None,
            },
            force_change_password: changes
                .force_change_password
                .unwrap_or(user.force_change_password),
        });
        Ok(PatchPlan {
            user,
            kind,
            changes,
            flag_changes,
            echo,
        })
    }

    /// PATCH: edit, reset the password, or restore (rest-api.md §6, PATCH semantics).
    ///
    /// Decided twice: first on a reader, so that refusals and no-ops never wait for the
    /// writer and a new password is hashed outside the transaction; then again inside the
    /// transaction on the user as it is now (locked on PostgreSQL), so that concurrent edits
    /// are applied one after the other and none is lost. With `If-Match`, an edit that
    /// another one overtook answers 412.
    pub async fn update_customer_user(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        input: &UserInput,
        if_match: Option<&str>,
    ) -> Result<UpdatedUser> {
        let (roster, job_ctx, job_input) = (self.clone(), ctx.clone(), input.clone());
        let job_if_match = if_match.map(str::to_string);
        let first = self
            .store()
            .read_job(move |db| {
                roster.plan_patch(
                    db,
                    &job_ctx,
                    customer,
                    id,
                    &job_input,
                    job_if_match.as_deref(),
                    false,
                )
            })
            .await?;
        if !first.writes() {
            return Ok(UpdatedUser {
                user: first.user,
                password_profile: first.echo,
            });
        }
        // The same input gives the same password in both plans.
        let hash = match &first.changes.password {
            Some(PasswordChoice::Given(p)) => Some(self.hasher().hash(p).await?),
            _ => None,
        };
        drop(first);
        let (roster, ctx, input) = (self.clone(), ctx.clone(), input.clone());
        let if_match = if_match.map(str::to_string);
        self.store()
            .write_job(move |db| {
                roster.apply_patch(db, &ctx, customer, id, &input, if_match.as_deref(), hash)
            })
            .await
    }

    /// The write half of [`Roster::update_customer_user`], in its transaction.
    #[allow(clippy::too_many_arguments)]
    fn apply_patch(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        input: &UserInput,
        if_match: Option<&str>,
        hash: Option<String>,
    ) -> Result<UpdatedUser> {
        let plan = self.plan_patch(db, ctx, customer, id, input, if_match, true)?;
        if !plan.writes() {
            // Another edit made this one a no-op meanwhile.
            return Ok(UpdatedUser {
                user: plan.user,
                password_profile: plan.echo,
            });
        }
        let PatchPlan {
            user,
            kind,
            changes,
            flag_changes,
            echo,
        } = plan;
        let now = self.now();
        let mut new = user.clone();
        if kind == PatchKind::Restore {
            new.state = UserState::Active;
            new.soft_deleted_at = None;
        }
        changes.apply_to(&mut new);
        new.version = user.version + 1;
        new.updated_at = now;
        let scope = customer.to_string();
        if db.upn_taken(&scope, &new.upn, Some(id))? {
            return Err(if changes.upn.is_none() {
                ServiceError::RestoreUpnConflict(new.upn.to_string())
            } else {
                ServiceError::UpnTaken(new.upn.to_string())
            });
        }
        match db.update_customer_user(&new, user.version) {
            Ok(true) => {}
            // The user was read in this transaction, locked: only a writer outside Roster's
            // transactions can get here.
            Ok(false) => return Err(changed_meanwhile(if_match)),
            // Another server took the UPN between our check and our write.
            Err(StoreError::Conflict) if kind == PatchKind::Restore && changes.upn.is_none() => {
                return Err(ServiceError::RestoreUpnConflict(new.upn.to_string()))
            }
            Err(StoreError::Conflict) => return Err(ServiceError::UpnTaken(new.upn.to_string())),
            Err(e) => return Err(e.into()),
        }
        match &hash {
            Some(hash) => db.set_password(id, hash, &new_stamp())?,
            // A user who must now change its password keeps no session until it has.
            None if flag_changes && new.force_change_password => {
                db.revoke_sessions(id, &new_stamp())?
            }
            None => {}
        }
        let not_restored = if kind == PatchKind::Restore {
            self.reclaim_licences(db, customer, id)?
        } else {
            Vec::new()
        };
        let mut records = Vec::new();
        let mut record = |op: OperationType, value: serde_json::Value| {
            records.push(self.audit(
                Some(ctx),
                ctx.actor.partner,
                Some(customer),
                op,
                id.to_string(),
                value,
            ));
        };
        if kind == PatchKind::Restore {
            let mut value = user_json(&new);
            // Licences whose seats were taken meanwhile do not come back.
            value["licensesNotRestored"] = json!(not_restored);
            record(OperationType::RestoreCustomerUser, value);
        }
        if let Some((upn, _)) = &changes.upn {
            record(
                OperationType::UpdateCustomerUserPrincipalName,
                json!({"userPrincipalName": upn.as_str(), "previousUserPrincipalName": user.upn.as_str()}),
            );
        }
        if changes.edits_properties() {
            record(OperationType::UpdateCustomerUser, user_json(&new));
        }
        if changes.password.is_some() || flag_changes {
            record(
                OperationType::ResetCustomerUserPassword,
                json!({"passwordChanged": changes.password.is_some(), "forceChangePassword": new.force_change_password}),
            );
        }
        for r in &records {
            db.insert_audit(r)?;
        }
        Ok(UpdatedUser {
            user: new,
            password_profile: echo,
        })
    }

    /// "Reset password": a new temporary password generated here (never by a door), set
    /// through the same PATCH as a password the caller sends, with its rights, audit record
    /// and the end of the user's sessions. `force_change_password` defaults to true: the
    /// user picks its own at the next sign-in. Answers the user and the password, shown once.
    pub async fn reset_customer_user_password(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        force_change_password: Option<bool>,
    ) -> Result<(CustomerUser, Password)> {
        let user = self.get_customer_user(ctx, customer, id).await?;
        if user.state != UserState::Active {
            return Err(ServiceError::NotActive);
        }
        let password = PasswordChoice::Generate.into_password(
            PersonalWords {
                first_name: user.first_name.as_deref(),
                last_name: user.last_name.as_deref(),
                upn_alias: Some(user.upn.alias()),
            },
            &mut OsRng,
        );
        let input = UserInput {
            password: Some(password.expose().to_string()),
            force_change_password: Some(force_change_password.unwrap_or(true)),
            password_profile_given: true,
            ..UserInput::default()
        };
        let updated = self
            .update_customer_user(ctx, customer, id, &input, None)
            .await?;
        Ok((updated.user, password))
    }

    /// Soft delete: the user becomes inactive and can be restored until the purge; its
    /// sessions end (a restore does not bring them back). Decided on a reader, then again on
    /// the user as the transaction reads it (locked on PostgreSQL), as a PATCH is.
    pub async fn delete_customer_user(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        if_match: Option<&str>,
    ) -> Result<()> {
        let (roster, job_ctx) = (self.clone(), ctx.clone());
        let job_if_match = if_match.map(str::to_string);
        self.store()
            .read_job(move |db| {
                roster.plan_delete(db, &job_ctx, customer, id, job_if_match.as_deref(), false)
            })
            .await?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        let if_match = if_match.map(str::to_string);
        self.store()
            .write_job(move |db| roster.apply_delete(db, &ctx, customer, id, if_match.as_deref()))
            .await
    }

    /// The write half of [`Roster::delete_customer_user`], in its transaction.
    fn apply_delete(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        if_match: Option<&str>,
    ) -> Result<()> {
        let user = self.plan_delete(db, ctx, customer, id, if_match, true)?;
        let now = self.now();
        let mut new = user.clone();
        new.state = UserState::Inactive;
        new.soft_deleted_at = Some(now);
        new.version = user.version + 1;
        new.updated_at = now;
        if !db.update_customer_user(&new, user.version)? {
            return Err(changed_meanwhile(if_match));
        }
        db.revoke_sessions(id, &new_stamp())?;
        // Its licences free their seats (and come back on restore where seats are free).
        db.release_user_licences(id, now)?;
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::DeleteCustomerUser,
            id.to_string(),
            user_json(&new),
        );
        db.insert_audit(&record)?;
        Ok(())
    }

    /// The caller's access to `customer` (which it must at least read the users of) and the
    /// user `id` in it, locked until the transaction ends when `lock`.
    fn user_to_change(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        lock: bool,
    ) -> Result<(authz::CustomerAccess, Option<CustomerUser>)> {
        let (_, access) = self.customer_access_for(
            db,
            ctx,
            customer,
            Action::InCustomer(CustomerAction::ReadUsers),
        )?;
        let user = if lock {
            db.customer_user_for_update(customer, id)?
        } else {
            db.customer_user(customer, id)?
        };
        Ok((access, user))
    }

    /// The active user a DELETE may soft-delete, as `db` reads it now.
    fn plan_delete(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: UserId,
        if_match: Option<&str>,
        lock: bool,
    ) -> Result<CustomerUser> {
        let (access, user) = self.user_to_change(db, ctx, customer, id, lock)?;
        let user = user
            .filter(|u| u.state == UserState::Active)
            .ok_or(ServiceError::UserNotFound)?;
        let target = crate::directory_roles::tier_of_user(db, id)?;
        check(ctx, &access, CustomerAction::DeleteUser { target })?;
        if !etag_matches(if_match, &user) {
            return Err(ServiceError::PreconditionFailed);
        }
        Ok(user)
    }
}

/// What a PATCH of a customer user does (see [`Roster::update_customer_user`]).
struct PatchPlan {
    /// The user as it was read.
    user: CustomerUser,
    kind: PatchKind,
    changes: UserChanges,
    /// `forceChangePassword` changes.
    flag_changes: bool,
    echo: Option<PasswordEcho>,
}

impl PatchPlan {
    fn writes(&self) -> bool {
        self.kind == PatchKind::Restore
            || self.changes.upn.is_some()
            || self.changes.password.is_some()
            || self.flag_changes
            || self.changes.edits_properties()
    }
}

/// A versioned write that found another version although the user was read, locked, in the
/// same transaction.
fn changed_meanwhile(if_match: Option<&str>) -> ServiceError {
    match if_match {
        Some(_) => ServiceError::PreconditionFailed,
        None => ServiceError::Conflict(
            "the user changed while this request was being applied: read it again and retry".into(),
        ),
    }
}

/// A new random security stamp; changing it ends every session of the user.
pub(crate) fn new_stamp() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
