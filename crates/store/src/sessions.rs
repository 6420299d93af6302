//! The web portal's sessions: only the SHA-256 hashes of their ids are stored.

use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::{Db, Result};

/// A stored portal session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalSession {
    pub hash: String,
    pub user: UserId,
    /// The user's security stamp at sign-in: when the user's changes, the session is over.
    pub security_stamp: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl Db<'_> {
    pub async fn insert_portal_session(&mut self, s: &PortalSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO portal_sessions (hash, user_id, security_stamp, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.hash)
        .bind(s.user.to_string())
        .bind(&s.security_stamp)
        .bind(s.created_at.unix_millis())
        .bind(s.last_seen_at.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    pub async fn portal_session(&mut self, hash: &str) -> Result<Option<PortalSession>> {
        let row = sqlx::query(
            "SELECT hash, user_id, security_stamp, created_at, last_seen_at \
             FROM portal_sessions WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(&mut *self.conn)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(PortalSession {
            hash: rows::text(&r, "hash")?,
            user: rows::user_id(&r, "user_id")?,
            security_stamp: rows::text(&r, "security_stamp")?,
            created_at: rows::time(&r, "created_at")?,
            last_seen_at: rows::time(&r, "last_seen_at")?,
        }))
    }

    /// Notes that the session was used at `now` (never moving its time back).
    pub async fn touch_portal_session(&mut self, hash: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE portal_sessions SET last_seen_at = $1 WHERE hash = $2 AND last_seen_at < $1",
        )
        .bind(now.unix_millis())
        .bind(hash)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    /// Ends one session; true when there was one.
    pub async fn delete_portal_session(&mut self, hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM portal_sessions WHERE hash = $1")
            .bind(hash)
            .execute(&mut *self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets the sessions last used before `idle_since` or begun before `begun_since`.
    pub async fn purge_portal_sessions(
        &mut self,
        idle_since: Timestamp,
        begun_since: Timestamp,
    ) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM portal_sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_since.unix_millis())
                .bind(begun_since.unix_millis())
                .execute(&mut *self.conn)
                .await?;
        Ok(done.rows_affected())
    }
}

impl Db<'_> {
    /// The user name and display name of a user, for the portal's "signed in as".
    pub async fn user_identity(&mut self, user: UserId) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT upn, display_name FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        match row {
            Some(r) => Ok(Some((
                rows::text(&r, "upn")?,
                rows::text(&r, "display_name")?,
            ))),
            None => Ok(None),
        }
    }
}
