//! Credentials and sign-in state of every directory user (partner and customer tenants):
//! password hashes, the sign-in lockouts and the networks users signed in from.

use roster_domain::lockout::Throttle;
use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// What sign-in needs to know about a user; the only place a password hash is read.
#[derive(Clone)]
pub struct Credentials {
    pub user: UserId,
    pub tenant: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub force_change_password: bool,
    pub security_stamp: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("tenant", &self.tenant)
            .field("active", &self.active)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

pub(crate) fn credentials_from(row: &crate::sql::Row) -> Result<Credentials> {
    Ok(Credentials {
        user: rows::user_id(row, "id")?,
        tenant: rows::text(row, "tenant_id")?,
        active: rows::text(row, "state")? == "active",
        password_hash: rows::opt_text(row, "password_hash")?,
        force_change_password: rows::flag(row, "force_change_password")?,
        security_stamp: rows::text(row, "security_stamp")?,
    })
}

impl SyncDb<'_> {
    /// Replaces a user's password hash and security stamp (which ends its sessions).
    pub fn set_password(&mut self, user: UserId, hash: &str, security_stamp: &str) -> Result<()> {
        self.sql.execute(
            "UPDATE users SET password_hash = $1, security_stamp = $2 WHERE id = $3",
            &[
                Param::from(hash),
                Param::from(security_stamp),
                Param::from(user.to_string()),
            ],
        )?;
        Ok(())
    }

    /// Replaces a hash made with old parameters; the stamp stays (sessions live on).
    pub fn upgrade_password_hash(
        &mut self,
        user: UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<()> {
        self.sql.execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            &[
                Param::from(new_hash),
                Param::from(user.to_string()),
                Param::from(old_hash),
            ],
        )?;
        Ok(())
    }

    /// The active user of `tenant` with this UPN, for sign-in.
    pub fn credentials_by_upn(
        &mut self,
        tenant: &str,
        upn_key: &str,
    ) -> Result<Option<Credentials>> {
        let row = self.query_opt(
            "SELECT id, tenant_id, state, password_hash, force_change_password, security_stamp \
             FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'",
            &[Param::from(tenant), Param::from(upn_key)],
        )?;
        row.as_ref().map(credentials_from).transpose()
    }

    pub fn credentials_by_id(&mut self, user: UserId) -> Result<Option<Credentials>> {
        let row = self.query_opt("SELECT id, tenant_id, state, password_hash, force_change_password, security_stamp FROM users WHERE id = $1", &[Param::from(user.to_string())])?;
        row.as_ref().map(credentials_from).transpose()
    }

    /// The sign-in lockout of `subject` (a user id, or a keyed name of an unknown user name)
    /// from `source`, locked until the transaction ends, so that concurrent attempts on
    /// several servers are counted one after the other.
    pub fn lock_throttle(&mut self, subject: &str, source: &str) -> Result<Throttle> {
        self.sql.execute("INSERT INTO sign_in_throttles (subject, source, failures, lockouts, locked_until, recent_wrong, attempts, updated_at) \
             VALUES ($1, $2, 0, 0, NULL, '', 0, 0) ON CONFLICT (subject, source) DO NOTHING", &[Param::from(subject), Param::from(source)])?;
        let sql = format!(
            "SELECT failures, lockouts, locked_until, recent_wrong, attempts FROM sign_in_throttles \
             WHERE subject = $1 AND source = $2{}",
            crate::dialect::for_update(self.backend())
        );
        let row = self.query_one(&sql, &[Param::from(subject), Param::from(source)])?;
        let recent = rows::text(&row, "recent_wrong")?;
        Ok(Throttle {
            failures: u32::try_from(rows::int(&row, "failures")?).unwrap_or(0),
            lockouts: u32::try_from(rows::int(&row, "lockouts")?).unwrap_or(0),
            locked_until: rows::opt_time(&row, "locked_until")?,
            recent_wrong: if recent.is_empty() {
                Vec::new()
            } else {
                recent.split(',').map(str::to_string).collect()
            },
            attempts: u64::try_from(rows::int(&row, "attempts")?).unwrap_or(0),
        })
    }

    pub fn save_throttle(
        &mut self,
        subject: &str,
        source: &str,
        t: &Throttle,
        now: Timestamp,
    ) -> Result<()> {
        self.sql.execute("UPDATE sign_in_throttles SET failures = $1, lockouts = $2, locked_until = $3, recent_wrong = $4, \
             attempts = $5, updated_at = $6 WHERE subject = $7 AND source = $8", &[Param::from(i64::from(t.failures)), Param::from(i64::from(t.lockouts)), Param::from(t.locked_until.map(Timestamp::unix_millis)), Param::from(t.recent_wrong.join(",")), Param::from(i64::try_from(t.attempts).unwrap_or(i64::MAX)), Param::from(now.unix_millis()), Param::from(subject), Param::from(source)])?;
        Ok(())
    }

    /// Forgets lockouts that nobody touched since `cutoff` and that lock nothing any more.
    pub fn forget_sign_in_throttles_before(
        &mut self,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        let done = self.sql.execute("DELETE FROM sign_in_throttles WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2)", &[Param::from(cutoff.unix_millis()), Param::from(now.unix_millis())])?;
        Ok(done)
    }

    /// Whether `user` signed in successfully from `network` before (one of the few most
    /// recent networks it did).
    pub fn is_familiar_network(&mut self, user: &str, network: &str) -> Result<bool> {
        let row = self.query_opt(
            "SELECT 1 AS one FROM sign_in_networks WHERE user_id = $1 AND network = $2",
            &[Param::from(user), Param::from(network)],
        )?;
        Ok(row.is_some())
    }

    /// Remembers that `user` signed in from `network`, keeping the `keep` most recent.
    pub fn remember_sign_in_network(
        &mut self,
        user: UserId,
        network: &str,
        now: Timestamp,
        keep: u32,
    ) -> Result<()> {
        self.sql.execute(
            "INSERT INTO sign_in_networks (user_id, network, last_success) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, network) DO UPDATE SET last_success = excluded.last_success",
            &[
                Param::from(user.to_string()),
                Param::from(network),
                Param::from(now.unix_millis()),
            ],
        )?;
        self.sql.execute("DELETE FROM sign_in_networks WHERE user_id = $1 AND network NOT IN \
             (SELECT network FROM sign_in_networks WHERE user_id = $1 ORDER BY last_success DESC, network LIMIT $2)", &[Param::from(user.to_string()), Param::from(i64::from(keep))])?;
        Ok(())
    }
}
