//! Members of a tenant's directory roles. Rows of soft-deleted users stay (hidden by the
//! user's state) so that a restore brings the roles back.

use roster_domain::authz::RoleMember;
use roster_domain::{Timestamp, Upn, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

impl SyncDb<'_> {
    /// A new version (etag) for a user whose roles changed: an edit that read the user
    /// before (and judged its tier then) fails its versioned write and reads again.
    fn bump_version(&mut self, user: UserId, now: Timestamp) -> Result<()> {
        self.sql.execute(
            "UPDATE users SET version = version + 1, updated_at = $1 WHERE id = $2",
            &[
                Param::from(now.unix_millis()),
                Param::from(user.to_string()),
            ],
        )?;
        Ok(())
    }

    /// Makes `user` a member of `role_id`; false when it was one already.
    pub fn add_role_member(
        &mut self,
        tenant: &str,
        role_id: &str,
        user: UserId,
        now: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute("INSERT INTO directory_role_members (tenant_id, role_id, user_id, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, role_id) DO NOTHING", &[Param::from(tenant), Param::from(role_id), Param::from(user.to_string()), Param::from(now.unix_millis())])?;
        let added = done == 1;
        if added {
            self.bump_version(user, now)?;
        }
        Ok(added)
    }

    /// Ends a membership; false when there was none.
    pub fn remove_role_member(
        &mut self,
        role_id: &str,
        user: UserId,
        now: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM directory_role_members WHERE role_id = $1 AND user_id = $2",
            &[Param::from(role_id), Param::from(user.to_string())],
        )?;
        let removed = done == 1;
        if removed {
            self.bump_version(user, now)?;
        }
        Ok(removed)
    }

    /// The ids of the directory roles `user` holds (whatever its state).
    pub fn role_ids_of(&mut self, user: UserId) -> Result<Vec<String>> {
        let found = self.sql.query(
            "SELECT role_id FROM directory_role_members WHERE user_id = $1 ORDER BY role_id",
            &[Param::from(user.to_string())],
        )?;
        found.iter().map(|r| rows::text(r, "role_id")).collect()
    }

    /// The active members of a role in a tenant, by user id, after `after`, at most `limit`.
    pub fn role_members(
        &mut self,
        tenant: &str,
        role_id: &str,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<RoleMember>> {
        let found = self.sql.query(
            "SELECT u.id AS id, u.upn AS upn, u.display_name AS display_name \
             FROM directory_role_members m JOIN users u ON u.id = m.user_id \
             WHERE m.tenant_id = $1 AND m.role_id = $2 AND u.state = 'active' AND m.user_id > $3 \
             ORDER BY m.user_id LIMIT $4",
            &[
                Param::from(tenant),
                Param::from(role_id),
                Param::from(after.map_or_else(String::new, |u| u.to_string())),
                Param::from(i64::from(limit)),
            ],
        )?;
        found
            .iter()
            .map(|r| {
                let upn = rows::text(r, "upn")?;
                Ok(RoleMember {
                    user: rows::user_id(r, "id")?,
                    upn: Upn::parse(&upn).map_err(|_| rows::corrupt("upn", &upn))?,
                    display_name: rows::text(r, "display_name")?,
                })
            })
            .collect()
    }
}
