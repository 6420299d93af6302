//! The partner account: which directory users may use it, with which roles or custom
//! permissions, and the security groups that carry roles too.

use std::collections::BTreeMap;

use std::collections::HashMap;

use roster_domain::authz::{Area, CustomPermissions, Level, PartnerRole};
use roster_domain::customer_user::UserState;
use roster_domain::partner_user::{Access, PartnerUser, SecurityGroup};
use roster_domain::GroupId;
use roster_domain::{PartnerId, Timestamp, Upn, UserId};

use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::user_rows::UserRow;
use crate::Result;

fn custom_from_json(text: &str) -> Result<CustomPermissions> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|_| corrupt("custom_permissions", text))?;
    let mut out = BTreeMap::new();
    for (area, level) in map {
        let area = Area::parse(&area).ok_or_else(|| corrupt("custom_permissions area", &area))?;
        let level =
            Level::parse(&level).ok_or_else(|| corrupt("custom_permissions level", &level))?;
        out.insert(area, level);
    }
    Ok(CustomPermissions(out))
}

/// What [`Db::signed_in`] finds.
#[derive(Debug)]
pub struct SignedIn {
    pub credentials: crate::credentials::Credentials,
    /// The user's own account access (its roles, or its custom permissions).
    pub access: Option<Access>,
    /// The roles its security groups carry, in their natural order, without repeats.
    pub group_roles: Vec<PartnerRole>,
    /// Whether it belongs to any security group.
    pub in_security_groups: bool,
}

/// Roles by their stored names, in their natural order, without repeats.
fn roles_named<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Vec<PartnerRole>> {
    let mut roles: Vec<PartnerRole> = names
        .into_iter()
        .map(|s| PartnerRole::parse(s.as_ref()).ok_or_else(|| corrupt("role", s.as_ref())))
        .collect::<Result<_>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Roles stored one per row and joined with spaces by the query.
fn roles_from_words(joined: Option<String>) -> Result<Vec<PartnerRole>> {
    roles_named(joined.unwrap_or_default().split_whitespace())
}

/// The `role` column of each row, as roles.
pub(crate) fn roles_from(rows: &[crate::sql::Row]) -> Result<Vec<PartnerRole>> {
    let names = rows
        .iter()
        .map(|r| rows::text(r, "role"))
        .collect::<Result<Vec<_>>>()?;
    roles_named(names)
}

const PARTNER_USER_COLUMNS: &str = "u.id, u.tenant_id, u.upn, u.display_name, u.first_name, u.last_name, u.state, \
     u.is_guest, u.is_directory_global_admin, u.version, u.created_at, a.user_id AS access_user, a.custom_permissions";

/// A new directory user of a partner tenant.
#[derive(Clone)]
pub struct NewDirectoryUser {
    pub id: UserId,
    pub partner: PartnerId,
    pub upn: Upn,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: String,
    pub force_change_password: bool,
    pub security_stamp: String,
    pub is_directory_global_admin: bool,
    pub password_recovery_email: Option<String>,
}

/// A user of a partner's own tenant, with its account roles.
#[derive(Clone, Debug)]
pub struct NewPartnerUser {
    pub id: UserId,
    pub partner: PartnerId,
    pub upn: Upn,
    pub display_name: String,
    pub password_hash: String,
    pub security_stamp: String,
    pub roles: Vec<PartnerRole>,
}

impl SyncDb<'_> {
    /// Inserts a directory user of a partner tenant (without account access).
    pub fn insert_partner_directory_user(
        &mut self,
        u: &NewDirectoryUser,
        now: Timestamp,
    ) -> Result<()> {
        self.insert_user_row(&UserRow {
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            password_hash: Some(&u.password_hash),
            force_change_password: u.force_change_password,
            password_recovery_email: u.password_recovery_email.as_deref(),
            is_directory_global_admin: u.is_directory_global_admin,
            ..UserRow::partner(
                u.id,
                u.partner.to_string(),
                &u.upn,
                &u.display_name,
                &u.security_stamp,
                now,
            )
        })
    }

    /// Sets whether the user must change its password before it may sign in.
    pub fn set_force_change_password(&mut self, user: UserId, force: bool) -> Result<()> {
        self.sql.execute(
            "UPDATE users SET force_change_password = $1 WHERE id = $2",
            &[Param::from(i64::from(force)), Param::from(user.to_string())],
        )?;
        Ok(())
    }

    /// The rows of `sql` for these users, `{ids}` in it standing for their ids.
    fn rows_of_users(&mut self, sql: &str, ids: &[String]) -> Result<Vec<crate::sql::Row>> {
        let mut params = rows::Params::default();
        let sql = sql.replace("{ids}", &params.add_all(ids.iter().cloned()));
        self.sql.query(&sql, params.values())
    }

    /// Partner users from their rows, with their roles, groups and last activity: three
    /// queries for the whole page, whatever its size.
    fn complete(&mut self, found: &[crate::sql::Row]) -> Result<Vec<PartnerUser>> {
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids = found
            .iter()
            .map(|r| rows::text(r, "id"))
            .collect::<Result<Vec<_>>>()?;
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        for r in self.rows_of_users(
            "SELECT user_id, role FROM partner_roles WHERE user_id IN ({ids})",
            &ids,
        )? {
            let user = rows::text(&r, "user_id")?;
            roles.entry(user).or_default().push(rows::text(&r, "role")?);
        }
        let mut groups: HashMap<String, Vec<GroupId>> = HashMap::new();
        for r in self
            .rows_of_users(
                "SELECT user_id, group_id FROM group_members WHERE user_id IN ({ids}) ORDER BY group_id",
                &ids,
            )?
        {
            let user = rows::text(&r, "user_id")?;
            groups.entry(user).or_default().push(rows::group_id(&r, "group_id")?);
        }
        let mut last: HashMap<String, Timestamp> = HashMap::new();
        for r in self.rows_of_users(
            "SELECT user_id, MAX(at) AS at FROM activity WHERE user_id IN ({ids}) GROUP BY user_id",
            &ids,
        )? {
            if let Some(at) = rows::opt_time(&r, "at")? {
                last.insert(rows::text(&r, "user_id")?, at);
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for row in found {
            let key = rows::text(row, "id")?;
            let upn = rows::text(row, "upn")?;
            let state = rows::text(row, "state")?;
            let access = match rows::opt_text(row, "access_user")? {
                None => None,
                Some(_) => Some(Access {
                    roles: roles_named(roles.remove(&key).unwrap_or_default())?,
                    custom: rows::opt_text(row, "custom_permissions")?
                        .map(|t| custom_from_json(&t))
                        .transpose()?,
                }),
            };
            out.push(PartnerUser {
                id: rows::user_id(row, "id")?,
                partner: rows::partner_id(row, "tenant_id")?,
                upn: Upn::parse(&upn).map_err(|_| corrupt("users.upn", &upn))?,
                display_name: rows::text(row, "display_name")?,
                first_name: rows::opt_text(row, "first_name")?,
                last_name: rows::opt_text(row, "last_name")?,
                state: UserState::parse(&state).ok_or_else(|| corrupt("users.state", &state))?,
                is_guest: rows::flag(row, "is_guest")?,
                is_directory_global_admin: rows::flag(row, "is_directory_global_admin")?,
                access,
                groups: groups.remove(&key).unwrap_or_default(),
                last_activity: last.remove(&key),
                version: rows::int(row, "version")?,
                created_at: rows::time(row, "created_at")?,
            });
        }
        Ok(out)
    }

    /// A directory user of the partner tenant, with its access (if any) and groups.
    pub fn partner_user(&mut self, partner: PartnerId, id: UserId) -> Result<Option<PartnerUser>> {
        let sql = format!(
            "SELECT {PARTNER_USER_COLUMNS} FROM users u LEFT JOIN account_access a ON a.user_id = u.id \
             WHERE u.id = $1 AND u.tenant_id = $2"
        );
        let row = self.query_opt(
            &sql,
            &[
                Param::from(id.to_string()),
                Param::from(partner.to_string()),
            ],
        )?;
        match row {
            Some(r) => Ok(self.complete(&[r])?.pop()),
            None => Ok(None),
        }
    }

    /// One page (plus one row) of the partner's users that have account access, by UPN;
    /// `role` keeps those holding it (themselves or through a group), `search` (folded) those
    /// whose user name or display name contains it.
    #[allow(clippy::too_many_arguments)]
    pub fn list_partner_users(
        &mut self,
        partner: PartnerId,
        role: Option<PartnerRole>,
        search: Option<&str>,
        state: UserState,
        after: Option<&roster_domain::listing::After>,
        size: u32,
    ) -> Result<Vec<PartnerUser>> {
        let mut params = rows::Params::default();
        let mut sql = format!(
            "SELECT {PARTNER_USER_COLUMNS} FROM users u JOIN account_access a ON a.user_id = u.id \
             WHERE u.tenant_id = {} AND u.state = {}",
            params.add(partner.to_string()),
            params.add(state.as_str().to_string())
        );
        if let Some(role) = role {
            let n = params.add(role.as_str().to_string());
            sql.push_str(&format!(
                " AND (EXISTS (SELECT 1 FROM partner_roles r WHERE r.user_id = u.id AND r.role = {n}) \
                 OR EXISTS (SELECT 1 FROM group_members m JOIN group_roles g ON g.group_id = m.group_id \
                 WHERE m.user_id = u.id AND g.role = {n}))"
            ));
        }
        if let Some(text) = search.filter(|t| !t.is_empty()) {
            let n = params.add(format!("%{}%", rows::like_escape(text)));
            sql.push_str(&format!(
                " AND (u.upn_key LIKE {n} ESCAPE '\\' OR u.display_name_key LIKE {n} ESCAPE '\\')"
            ));
        }
        if let Some(a) = after {
            sql.push_str(&format!(
                " AND (u.upn_key, u.id) > ({}, {})",
                params.add(a.key.clone()),
                params.add(a.id.clone())
            ));
        }
        sql.push_str(&format!(
            " ORDER BY u.upn_key, u.id LIMIT {}",
            params.add(i64::from(size) + 1)
        ));
        let found = self.sql.query(&sql, params.values())?;
        self.complete(&found)
    }

    /// The partner tenant's active directory users without account access, by UPN, at most
    /// `limit` (the portal's "Add existing users").
    pub fn directory_users_without_access(
        &mut self,
        partner: PartnerId,
        limit: u32,
    ) -> Result<Vec<PartnerUser>> {
        let sql = format!(
            "SELECT {PARTNER_USER_COLUMNS} FROM users u LEFT JOIN account_access a ON a.user_id = u.id \
             WHERE u.tenant_id = $1 AND u.state = 'active' AND a.user_id IS NULL \
             ORDER BY u.upn_key, u.id LIMIT $2"
        );
        let found = self.sql.query(
            &sql,
            &[
                Param::from(partner.to_string()),
                Param::from(i64::from(limit)),
            ],
        )?;
        self.complete(&found)
    }

    /// Everything authenticating a request needs to know of a user, in one query (this runs
    /// on every request): its credentials, its account access, and the roles its security
    /// groups give it. `None` when there is no such user.
    pub fn signed_in(&mut self, user: UserId) -> Result<Option<SignedIn>> {
        let sql = format!(
            "SELECT u.id, u.tenant_id, u.state, u.password_hash, u.force_change_password, u.security_stamp, \
             a.user_id AS access_user, a.custom_permissions, \
             (SELECT {} FROM partner_roles r WHERE r.user_id = u.id) AS roles, \
             (SELECT {} FROM group_members m JOIN group_roles g ON g.group_id = m.group_id \
              WHERE m.user_id = u.id) AS group_roles, \
             (SELECT COUNT(*) FROM group_members m WHERE m.user_id = u.id) AS memberships \
             FROM users u LEFT JOIN account_access a ON a.user_id = u.id WHERE u.id = $1",
            crate::dialect::join_with_spaces(self.backend(), "r.role"),
            crate::dialect::join_with_spaces(self.backend(), "g.role"),
        );
        let Some(row) = self.query_opt(&sql, &[Param::from(user.to_string())])? else {
            return Ok(None);
        };
        let access = match rows::opt_text(&row, "access_user")? {
            None => None,
            Some(_) => Some(Access {
                roles: roles_from_words(rows::opt_text(&row, "roles")?)?,
                custom: rows::opt_text(&row, "custom_permissions")?
                    .map(|t| custom_from_json(&t))
                    .transpose()?,
            }),
        };
        Ok(Some(SignedIn {
            credentials: crate::credentials::credentials_from(&row)?,
            access,
            group_roles: roles_from_words(rows::opt_text(&row, "group_roles")?)?,
            in_security_groups: rows::int(&row, "memberships")? > 0,
        }))
    }

    /// The account access of a user: `None` without access.
    pub fn account_access(&mut self, user: UserId) -> Result<Option<Access>> {
        let row = self.query_opt(
            "SELECT custom_permissions FROM account_access WHERE user_id = $1",
            &[Param::from(user.to_string())],
        )?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Access {
            roles: self.partner_roles(user)?,
            custom: rows::opt_text(&row, "custom_permissions")?
                .map(|t| custom_from_json(&t))
                .transpose()?,
        }))
    }

    /// The roles the user has through its security groups.
    pub fn group_roles_of(&mut self, user: UserId) -> Result<Vec<PartnerRole>> {
        let found = self.sql.query("SELECT g.role AS role FROM group_members m JOIN group_roles g ON g.group_id = m.group_id WHERE m.user_id = $1", &[Param::from(user.to_string())])?;
        roles_from(&found)
    }

    /// Gives (or replaces) account access: exactly these roles, or these custom permissions.
    pub fn set_access(&mut self, user: UserId, access: &Access, now: Timestamp) -> Result<()> {
        self.sql.execute("INSERT INTO account_access (user_id, custom_permissions, granted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET custom_permissions = excluded.custom_permissions", &[Param::from(user.to_string()), Param::from(access.custom.as_ref().map(CustomPermissions::to_json)), Param::from(now.unix_millis())])?;
        self.sql.execute(
            "DELETE FROM partner_roles WHERE user_id = $1",
            &[Param::from(user.to_string())],
        )?;
        for role in &access.roles {
            self.sql.execute(
                "INSERT INTO partner_roles (user_id, role) VALUES ($1, $2)",
                &[Param::from(user.to_string()), Param::from(role.as_str())],
            )?;
        }
        Ok(())
    }

    /// Ends a user's account access (the directory user stays).
    pub fn remove_access(&mut self, user: UserId) -> Result<bool> {
        self.sql.execute(
            "DELETE FROM partner_roles WHERE user_id = $1",
            &[Param::from(user.to_string())],
        )?;
        let done = self.sql.execute(
            "DELETE FROM account_access WHERE user_id = $1",
            &[Param::from(user.to_string())],
        )?;
        Ok(done == 1)
    }

    /// How many active users of the partner hold Global admin with account access, by their
    /// own role or through a group.
    pub fn global_admin_count(&mut self, partner: PartnerId) -> Result<i64> {
        let row = self.query_one("SELECT COUNT(*) AS n FROM users u JOIN account_access a ON a.user_id = u.id \
             WHERE u.tenant_id = $1 AND u.state = 'active' AND ( \
               EXISTS (SELECT 1 FROM partner_roles r WHERE r.user_id = u.id AND r.role = 'global_admin') \
               OR EXISTS (SELECT 1 FROM group_members m JOIN group_roles g ON g.group_id = m.group_id \
                          WHERE m.user_id = u.id AND g.role = 'global_admin'))", &[Param::from(partner.to_string())])?;
        rows::int(&row, "n")
    }

    /// Replaces a partner user's names and UPN (directory properties), bumping its version.
    pub fn update_partner_user(
        &mut self,
        u: &PartnerUser,
        expected_version: i64,
        now: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute("UPDATE users SET upn = $1, upn_key = $2, display_name = $3, display_name_key = $4, first_name = $5, \
             last_name = $6, version = $7, updated_at = $8 WHERE id = $9 AND tenant_id = $10 AND version = $11", &[Param::from(u.upn.as_str()), Param::from(u.upn.key()), Param::from(&u.display_name), Param::from(roster_domain::listing::sort_key(&u.display_name)), Param::from(u.first_name.clone()), Param::from(u.last_name.clone()), Param::from(u.version), Param::from(now.unix_millis()), Param::from(u.id.to_string()), Param::from(u.partner.to_string()), Param::from(expected_version)])?;
        Ok(done == 1)
    }

    /// Changes a user's security stamp: every token it holds stops working.
    pub fn revoke_sessions(&mut self, user: UserId, new_stamp: &str) -> Result<()> {
        self.sql.execute(
            "UPDATE users SET security_stamp = $1 WHERE id = $2",
            &[Param::from(new_stamp), Param::from(user.to_string())],
        )?;
        Ok(())
    }

    // ------------------------------------------------------------------ groups

    pub fn insert_group(&mut self, g: &SecurityGroup) -> Result<()> {
        self.sql.execute("INSERT INTO security_groups (id, partner_id, display_name, display_name_key, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)", &[Param::from(g.id.to_string()), Param::from(g.partner.to_string()), Param::from(&g.display_name), Param::from(roster_domain::listing::sort_key(&g.display_name)), Param::from(g.description.clone()), Param::from(g.created_at.unix_millis())])?;
        for role in &g.roles {
            self.sql.execute(
                "INSERT INTO group_roles (group_id, role) VALUES ($1, $2)",
                &[Param::from(g.id.to_string()), Param::from(role.as_str())],
            )?;
        }
        Ok(())
    }

    fn group_from(&mut self, row: &crate::sql::Row) -> Result<SecurityGroup> {
        let id = rows::group_id(row, "id")?;
        let roles = self.sql.query(
            "SELECT role FROM group_roles WHERE group_id = $1",
            &[Param::from(id.to_string())],
        )?;
        Ok(SecurityGroup {
            roles: roles_from(&roles)?,
            id,
            partner: rows::partner_id(row, "partner_id")?,
            display_name: rows::text(row, "display_name")?,
            description: rows::opt_text(row, "description")?,
            created_at: rows::time(row, "created_at")?,
        })
    }

    pub fn groups(&mut self, partner: PartnerId) -> Result<Vec<SecurityGroup>> {
        let found = self.sql.query(
            "SELECT id, partner_id, display_name, description, created_at FROM security_groups \
             WHERE partner_id = $1 ORDER BY display_name_key, id",
            &[Param::from(partner.to_string())],
        )?;
        let mut out = Vec::with_capacity(found.len());
        for r in &found {
            out.push(self.group_from(r)?);
        }
        Ok(out)
    }

    pub fn group(&mut self, partner: PartnerId, id: GroupId) -> Result<Option<SecurityGroup>> {
        let row = self.query_opt("SELECT id, partner_id, display_name, description, created_at FROM security_groups WHERE id = $1 AND partner_id = $2", &[Param::from(id.to_string()), Param::from(partner.to_string())])?;
        match row {
            Some(r) => Ok(Some(self.group_from(&r)?)),
            None => Ok(None),
        }
    }

    /// Adds a member; returns whether it was new.
    pub fn add_group_member(&mut self, group: GroupId, user: UserId) -> Result<bool> {
        let done = self.sql.execute("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT (group_id, user_id) DO NOTHING", &[Param::from(group.to_string()), Param::from(user.to_string())])?;
        Ok(done == 1)
    }

    /// Removes a member; returns whether it was one.
    pub fn remove_group_member(&mut self, group: GroupId, user: UserId) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[
                Param::from(group.to_string()),
                Param::from(user.to_string()),
            ],
        )?;
        Ok(done == 1)
    }

    pub fn insert_partner_user(&mut self, u: &NewPartnerUser, now: Timestamp) -> Result<()> {
        self.insert_user_row(&UserRow {
            password_hash: Some(&u.password_hash),
            ..UserRow::partner(
                u.id,
                u.partner.to_string(),
                &u.upn,
                &u.display_name,
                &u.security_stamp,
                now,
            )
        })?;
        let access = roster_domain::partner_user::Access {
            roles: u.roles.clone(),
            custom: None,
        };
        self.set_access(u.id, &access, now)
    }

    pub fn partner_roles(&mut self, user: UserId) -> Result<Vec<PartnerRole>> {
        let rows = self.sql.query(
            "SELECT role FROM partner_roles WHERE user_id = $1",
            &[Param::from(user.to_string())],
        )?;
        crate::partner_users::roles_from(&rows)
    }
}
