//! Refresh tokens: only their SHA-256 hashes are stored.

use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::{Db, Result};

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

impl Db<'_> {
    pub async fn insert_refresh_token(&mut self, t: &RefreshToken) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (hash, family, user_id, security_stamp, created_at, expires_at, replaced_at, revoked_at, application_id) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)",
        )
        .bind(&t.hash)
        .bind(&t.family)
        .bind(t.user.to_string())
        .bind(&t.security_stamp)
        .bind(t.created_at.unix_millis())
        .bind(t.expires_at.unix_millis())
        .bind(t.application.as_deref())
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    /// The token with this hash, locked until the transaction ends (so that two uses race
    /// to one winner).
    pub async fn lock_refresh_token(&mut self, hash: &str) -> Result<Option<RefreshToken>> {
        let sql = format!(
            "SELECT hash, family, user_id, security_stamp, created_at, expires_at, replaced_at, revoked_at, application_id \
             FROM refresh_tokens WHERE hash = $1{}",
            crate::dialect::for_update(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(hash)
            .fetch_optional(&mut *self.conn)
            .await?;
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
    pub async fn mark_refresh_token_replaced(
        &mut self,
        hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE refresh_tokens SET replaced_at = $1 WHERE hash = $2 AND replaced_at IS NULL AND revoked_at IS NULL")
            .bind(now.unix_millis())
            .bind(hash)
            .execute(&mut *self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every token of a family.
    pub async fn revoke_refresh_family(&mut self, family: &str, now: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
        )
        .bind(now.unix_millis())
        .bind(family)
        .execute(&mut *self.conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets tokens that expired before `before`.
    pub async fn forget_refresh_tokens_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(before.unix_millis())
            .execute(&mut *self.conn)
            .await?;
        Ok(done.rows_affected())
    }
}

impl Db<'_> {
    /// A user's first and last name (for the password policy).
    pub async fn user_names(&mut self, user: UserId) -> Result<(Option<String>, Option<String>)> {
        let row = sqlx::query("SELECT first_name, last_name FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        match row {
            Some(r) => Ok((
                rows::opt_text(&r, "first_name")?,
                rows::opt_text(&r, "last_name")?,
            )),
            None => Ok((None, None)),
        }
    }
}
