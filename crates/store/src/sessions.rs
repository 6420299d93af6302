//! The web portal's sessions: only the SHA-256 hashes of their ids are stored.

use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

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

impl SyncDb<'_> {
    pub fn insert_portal_session(&mut self, s: &PortalSession) -> Result<()> {
        self.sql.execute("INSERT INTO portal_sessions (hash, user_id, security_stamp, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5)", &[Param::from(&s.hash), Param::from(s.user.to_string()), Param::from(&s.security_stamp), Param::from(s.created_at.unix_millis()), Param::from(s.last_seen_at.unix_millis())])?;
        Ok(())
    }

    pub fn portal_session(&mut self, hash: &str) -> Result<Option<PortalSession>> {
        let row = self.query_opt(
            "SELECT hash, user_id, security_stamp, created_at, last_seen_at \
             FROM portal_sessions WHERE hash = $1",
            &[Param::from(hash)],
        )?;
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
    pub fn touch_portal_session(&mut self, hash: &str, now: Timestamp) -> Result<()> {
        self.sql.execute(
            "UPDATE portal_sessions SET last_seen_at = $1 WHERE hash = $2 AND last_seen_at < $1",
            &[Param::from(now.unix_millis()), Param::from(hash)],
        )?;
        Ok(())
    }

    /// Ends one session; true when there was one.
    pub fn delete_portal_session(&mut self, hash: &str) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM portal_sessions WHERE hash = $1",
            &[Param::from(hash)],
        )?;
        Ok(done == 1)
    }

    /// Forgets the sessions last used before `idle_since` or begun before `begun_since`.
    pub fn purge_portal_sessions(
        &mut self,
        idle_since: Timestamp,
        begun_since: Timestamp,
    ) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM portal_sessions WHERE last_seen_at < $1 OR created_at < $2",
            &[
                Param::from(idle_since.unix_millis()),
                Param::from(begun_since.unix_millis()),
            ],
        )?;
        Ok(done)
    }
}

impl SyncDb<'_> {
    /// The user name and display name of a user, for the portal's "signed in as".
    pub fn user_identity(&mut self, user: UserId) -> Result<Option<(String, String)>> {
        let row = self.query_opt(
            "SELECT upn, display_name FROM users WHERE id = $1",
            &[Param::from(user.to_string())],
        )?;
        match row {
            Some(r) => Ok(Some((
                rows::text(&r, "upn")?,
                rows::text(&r, "display_name")?,
            ))),
            None => Ok(None),
        }
    }
}
