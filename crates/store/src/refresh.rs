//! Refresh tokens: only their SHA-256 hashes are stored.

use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// A stored refresh token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub hash: String,
    pub family: String,
    pub user: UserId,
    /// The user's security stamp when the family began: a password reset ends the family.
    pub security_stamp: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub replaced_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The application the family was issued through (App+User), if any.
    pub application: Option<String>,
}

impl SyncDb<'_> {
    pub fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<()> {
        self.sql.execute("INSERT INTO refresh_tokens (hash, family, user_id, security_stamp, created_at, expires_at, replaced_at, revoked_at, application_id) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)", &[Param::from(&t.hash), Param::from(&t.family), Param::from(t.user.to_string()), Param::from(&t.security_stamp), Param::from(t.created_at.unix_millis()), Param::from(t.expires_at.unix_millis()), Param::from(t.application.as_deref())])?;
        Ok(())
    }

    /// The token with this hash, locked until the transaction ends (so that two uses race
    /// to one winner).
    pub fn lock_refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>> {
        let sql = format!(
            "SELECT hash, family, user_id, security_stamp, created_at, expires_at, replaced_at, revoked_at, application_id \
             FROM refresh_tokens WHERE hash = $1{}",
            crate::dialect::for_update(self.backend())
        );
        let row = self.query_opt(&sql, &[Param::from(hash)])?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(RefreshToken {
            hash: rows::text(&r, "hash")?,
            family: rows::text(&r, "family")?,
            user: rows::user_id(&r, "user_id")?,
            security_stamp: rows::text(&r, "security_stamp")?,
            created_at: rows::time(&r, "created_at")?,
            expires_at: rows::time(&r, "expires_at")?,
            replaced_at: rows::opt_time(&r, "replaced_at")?,
            revoked_at: rows::opt_time(&r, "revoked_at")?,
            application: rows::opt_text(&r, "application_id")?,
        }))
    }

    /// Marks a token used: it was replaced by a new one.
    pub fn mark_refresh_token_replaced(&mut self, hash: &str, now: Timestamp) -> Result<bool> {
        let done = self.sql.execute("UPDATE refresh_tokens SET replaced_at = $1 WHERE hash = $2 AND replaced_at IS NULL AND revoked_at IS NULL", &[Param::from(now.unix_millis()), Param::from(hash)])?;
        Ok(done == 1)
    }

    /// Revokes every token of a family.
    pub fn revoke_refresh_family(&mut self, family: &str, now: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
            &[Param::from(now.unix_millis()), Param::from(family)],
        )?;
        Ok(done)
    }

    /// Forgets tokens that expired before `before`.
    pub fn forget_refresh_tokens_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM refresh_tokens WHERE expires_at < $1",
            &[Param::from(before.unix_millis())],
        )?;
        Ok(done)
    }
}

impl SyncDb<'_> {
    /// A user's first and last name (for the password policy).
    pub fn user_names(&mut self, user: UserId) -> Result<(Option<String>, Option<String>)> {
        let row = self.query_opt(
            "SELECT first_name, last_name FROM users WHERE id = $1",
            &[Param::from(user.to_string())],
        )?;
        match row {
            Some(r) => Ok((
                rows::opt_text(&r, "first_name")?,
                rows::opt_text(&r, "last_name")?,
            )),
            None => Ok((None, None)),
        }
    }
}
