//! The `users` table holds every directory user, of partner and customer tenants alike: one
//! insert for all of them.

use roster_domain::{Timestamp, Upn, UserId};

use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// A row of `users` as it is first written; what a kind of user does not have is `None`
/// or `false`.
pub(crate) struct UserRow<'a> {
    pub id: UserId,
    /// The tenant: a customer's or a partner's id.
    pub tenant: String,
    pub upn: &'a Upn,
    pub display_name: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub usage_location: Option<&'a str>,
    pub immutable_id: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub domain_type: &'a str,
    pub state: &'a str,
    pub soft_deleted_at: Option<Timestamp>,
    /// `None` for a guest, who has no password until it redeems its invitation.
    pub password_hash: Option<&'a str>,
    pub force_change_password: bool,
    pub security_stamp: &'a str,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub is_guest: bool,
    pub guest_email: Option<&'a str>,
    pub password_recovery_email: Option<&'a str>,
    pub is_directory_global_admin: bool,
}

impl SyncDb<'_> {
    /// Inserts a directory user. `Conflict` when its UPN (or, for a guest, its address) is
    /// taken by an active user of its tenant.
    pub(crate) fn insert_user_row(&mut self, u: &UserRow<'_>) -> Result<()> {
        self.sql.execute("INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, first_name, last_name, \
             usage_location, immutable_id, phone_number, domain_type, state, soft_deleted_at, password_hash, \
             force_change_password, security_stamp, version, created_at, updated_at, is_guest, guest_email, \
             guest_email_key, password_recovery_email, is_directory_global_admin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25)", &[Param::from(u.id.to_string()), Param::from(u.tenant.clone()), Param::from(u.upn.as_str()), Param::from(u.upn.key()), Param::from(u.display_name), Param::from(roster_domain::listing::sort_key(u.display_name)), Param::from(u.first_name), Param::from(u.last_name), Param::from(u.usage_location), Param::from(u.immutable_id), Param::from(u.phone_number), Param::from(u.domain_type), Param::from(u.state), Param::from(u.soft_deleted_at.map(Timestamp::unix_millis)), Param::from(u.password_hash), Param::from(i64::from(u.force_change_password)), Param::from(u.security_stamp), Param::from(u.version), Param::from(u.created_at.unix_millis()), Param::from(u.updated_at.unix_millis()), Param::from(i64::from(u.is_guest)), Param::from(u.guest_email), Param::from(u.guest_email.map(roster_domain::invitation::email_key)), Param::from(u.password_recovery_email), Param::from(i64::from(u.is_directory_global_admin))])?;
        Ok(())
    }
}

impl<'a> UserRow<'a> {
    /// An active user of a partner's own tenant, with a password, as the bootstrap, a create
    /// and an invitation make them.
    pub(crate) fn partner(
        id: UserId,
        tenant: String,
        upn: &'a Upn,
        display_name: &'a str,
        security_stamp: &'a str,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            tenant,
            upn,
            display_name,
            first_name: None,
            last_name: None,
            usage_location: None,
            immutable_id: None,
            phone_number: None,
            domain_type: "none",
            state: "active",
            soft_deleted_at: None,
            password_hash: None,
            force_change_password: false,
            security_stamp,
            version: 1,
            created_at: now,
            updated_at: now,
            is_guest: false,
            guest_email: None,
            password_recovery_email: None,
            is_directory_global_admin: false,
        }
    }
}
