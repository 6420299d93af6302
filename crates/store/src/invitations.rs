//! Invitations of outside users (guests) to the partner account. A guest is a directory user
//! of the partner tenant (`is_guest`) that carries the address it was invited with; the
//! invitation holds only the SHA-256 of its link's token.

use roster_domain::invitation::{email_key, Invitation, InvitationState};
use roster_domain::InvitationId;
use roster_domain::{PartnerId, Timestamp, UserId};

use crate::credentials::Credentials;
use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::user_rows::UserRow;
use crate::Result;

/// A new guest directory user of a partner tenant (no password until it redeems).
#[derive(Clone, Debug)]
pub struct NewGuest {
    pub id: UserId,
    pub partner: PartnerId,
    pub upn: roster_domain::Upn,
    pub display_name: String,
    pub email: String,
    pub security_stamp: String,
}

const COLUMNS: &str =
    "id, partner_id, user_id, email, state, created_at, sent_at, expires_at, accepted_at";

fn invitation_from(row: &crate::sql::Row) -> Result<Invitation> {
    let state = rows::text(row, "state")?;
    Ok(Invitation {
        id: rows::invitation_id(row, "id")?,
        partner: rows::partner_id(row, "partner_id")?,
        user: rows::user_id(row, "user_id")?,
        email: rows::text(row, "email")?,
        state: InvitationState::parse(&state)
            .ok_or_else(|| corrupt("invitations.state", &state))?,
        created_at: rows::time(row, "created_at")?,
        sent_at: rows::time(row, "sent_at")?,
        expires_at: rows::time(row, "expires_at")?,
        accepted_at: rows::opt_time(row, "accepted_at")?,
    })
}

impl SyncDb<'_> {
    /// Inserts a guest directory user: no password, so it cannot sign in before it redeems.
    pub fn insert_guest(&mut self, g: &NewGuest, now: Timestamp) -> Result<()> {
        self.insert_user_row(&UserRow {
            is_guest: true,
            guest_email: Some(&g.email),
            ..UserRow::partner(
                g.id,
                g.partner.to_string(),
                &g.upn,
                &g.display_name,
                &g.security_stamp,
                now,
            )
        })
    }

    /// Whether the partner has an active guest with this address.
    pub fn guest_email_taken(&mut self, partner: PartnerId, email: &str) -> Result<bool> {
        let row = self.query_one("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND guest_email_key = $2 AND state = 'active'", &[Param::from(partner.to_string()), Param::from(email_key(email))])?;
        Ok(rows::int(&row, "n")? > 0)
    }

    pub fn insert_invitation(&mut self, i: &Invitation, token_hash: &str) -> Result<()> {
        self.sql.execute("INSERT INTO invitations (id, partner_id, user_id, email, token_hash, state, created_at, sent_at, expires_at, accepted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)", &[Param::from(i.id.to_string()), Param::from(i.partner.to_string()), Param::from(i.user.to_string()), Param::from(&i.email), Param::from(token_hash), Param::from(i.state.as_str()), Param::from(i.created_at.unix_millis()), Param::from(i.sent_at.unix_millis()), Param::from(i.expires_at.unix_millis())])?;
        Ok(())
    }

    /// The partner's invitations, newest first.
    pub fn invitations(&mut self, partner: PartnerId) -> Result<Vec<Invitation>> {
        let found = self.sql.query(
            &format!(
            "SELECT {COLUMNS} FROM invitations WHERE partner_id = $1 ORDER BY created_at DESC, id"
        ),
            &[Param::from(partner.to_string())],
        )?;
        found.iter().map(invitation_from).collect()
    }

    pub fn invitation(
        &mut self,
        partner: PartnerId,
        id: InvitationId,
    ) -> Result<Option<Invitation>> {
        let row = self.query_opt(
            &format!("SELECT {COLUMNS} FROM invitations WHERE id = $1 AND partner_id = $2"),
            &[
                Param::from(id.to_string()),
                Param::from(partner.to_string()),
            ],
        )?;
        row.as_ref().map(invitation_from).transpose()
    }

    /// The invitation whose link carries the token with this hash.
    pub fn invitation_by_token(&mut self, token_hash: &str) -> Result<Option<Invitation>> {
        let row = self.query_opt(
            &format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"),
            &[Param::from(token_hash)],
        )?;
        row.as_ref().map(invitation_from).transpose()
    }

    /// A new link for a pending invitation: the old token stops working.
    pub fn renew_invitation(
        &mut self,
        id: InvitationId,
        token_hash: &str,
        sent_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute("UPDATE invitations SET token_hash = $1, sent_at = $2, expires_at = $3 WHERE id = $4 AND state = 'pending'", &[Param::from(token_hash), Param::from(sent_at.unix_millis()), Param::from(expires_at.unix_millis()), Param::from(id.to_string())])?;
        Ok(done == 1)
    }

    /// Marks a pending invitation accepted; `false` when it was not pending any more (the
    /// link is single-use).
    pub fn accept_invitation(&mut self, id: InvitationId, now: Timestamp) -> Result<bool> {
        let done = self.sql.execute("UPDATE invitations SET state = 'accepted', accepted_at = $1 WHERE id = $2 AND state = 'pending'", &[Param::from(now.unix_millis()), Param::from(id.to_string())])?;
        Ok(done == 1)
    }

    /// Sets a guest's password (and, when given, its display name) on redeeming.
    pub fn activate_guest(
        &mut self,
        user: UserId,
        password_hash: &str,
        security_stamp: &str,
        display_name: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.sql.execute("UPDATE users SET password_hash = $1, security_stamp = $2, force_change_password = 0, \
             display_name = COALESCE($3, display_name), display_name_key = COALESCE($4, display_name_key), \
             version = version + 1, updated_at = $5 WHERE id = $6 AND is_guest = 1", &[Param::from(password_hash), Param::from(security_stamp), Param::from(display_name.map(str::to_string)), Param::from(display_name.map(roster_domain::listing::sort_key)), Param::from(now.unix_millis()), Param::from(user.to_string())])?;
        Ok(())
    }

    /// Removes a guest that never redeemed its invitation (with the invitation, its access
    /// and its group memberships).
    pub fn delete_pending_guest(&mut self, partner: PartnerId, user: UserId) -> Result<bool> {
        let done = self.sql.execute("DELETE FROM users WHERE id = $1 AND tenant_id = $2 AND is_guest = 1 AND password_hash IS NULL", &[Param::from(user.to_string()), Param::from(partner.to_string())])?;
        Ok(done == 1)
    }

    /// Deletes an invitation record (the guest stays).
    pub fn delete_invitation(&mut self, id: InvitationId) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM invitations WHERE id = $1",
            &[Param::from(id.to_string())],
        )?;
        Ok(done == 1)
    }

    /// The active guests that redeemed an invitation with this address (in any partner).
    pub fn credentials_by_guest_email(&mut self, email: &str) -> Result<Vec<Credentials>> {
        let found = self.sql.query("SELECT id, tenant_id, state, password_hash, force_change_password, security_stamp FROM users \
             WHERE guest_email_key = $1 AND state = 'active' AND is_guest = 1 AND password_hash IS NOT NULL", &[Param::from(email_key(email))])?;
        found
            .iter()
            .map(|row| {
                Ok(Credentials {
                    user: rows::user_id(row, "id")?,
                    tenant: rows::text(row, "tenant_id")?,
                    active: rows::text(row, "state")? == "active",
                    password_hash: rows::opt_text(row, "password_hash")?,
                    force_change_password: rows::flag(row, "force_change_password")?,
                    security_stamp: rows::text(row, "security_stamp")?,
                })
            })
            .collect()
    }
}
