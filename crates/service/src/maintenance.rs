//! Background work: the purge of expired soft-deleted users and of old idempotency records.

use roster_domain::audit::OperationType;
use roster_domain::Duration;
use serde_json::json;

use roster_store::sql::SyncDb;

use crate::{Result, Roster};

/// How long a sign-in lockout that locks nothing is remembered after its last attempt.
const THROTTLE_MEMORY: Duration = Duration::from_days(1);

/// Users purged per transaction, so that the purge never holds the database for long.
const PURGE_BATCH: u32 = 200;
/// How long an `MS-RequestId` is remembered (rest-api.md §7).
pub const REQUEST_MEMORY: Duration = Duration::from_hours(24);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub users_purged: u64,
    pub requests_forgotten: u64,
    pub keys_retired: u64,
}

impl Roster {
    /// Purges users soft-deleted longer ago than the retention, and forgets old request ids.
    pub async fn run_maintenance(&self) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport::default();
        loop {
            let now = self.now();
            let cutoff = now.minus(self.settings().soft_delete_retention);
            let roster = self.clone();
            // One batch a job; `None` when another server is purging right now.
            let purged = self
                .store()
                .write_job(move |db| roster.purge_batch(db, cutoff))
                .await?;
            let Some((expired, purged)) = purged else {
                break;
            };
            report.users_purged += purged;
            if expired < PURGE_BATCH as usize {
                break;
            }
        }
        let before = self.now().minus(REQUEST_MEMORY);
        report.requests_forgotten = self
            .store()
            .write_job(move |db| -> Result<_> { Ok(db.forget_requests_before(before)?) })
            .await?;
        let now = self.now();
        let activity_before = now.minus(crate::activity::HISTORY_KEPT);
        let idle = now.minus(self.settings().portal_session_idle);
        let life = now.minus(self.settings().portal_session_lifetime);
        self.store()
            .write_job(move |db| -> Result<()> {
                db.forget_activity_before(activity_before)?;
                db.forget_refresh_tokens_before(now)?;
                db.purge_portal_sessions(idle, life)?;
                // Lockouts of a day's quiet that lock nothing any more: failures are forgotten
                // after a quiet day, and so are the keyed names of unknown user names that
                // were tried.
                db.forget_sign_in_throttles_before(now.minus(THROTTLE_MEMORY), now)?;
                Ok(())
            })
            .await?;
        report.keys_retired = self.retire_replaced_keys().await?;
        // Pick up a key that the operator or another server made since.
        self.reload_keys().await?;
        Ok(report)
    }

    /// One purge batch in its transaction: how many users were due and how many it purged,
    /// or `None` when another server holds the purge lock.
    fn purge_batch(
        &self,
        db: &mut SyncDb<'_>,
        cutoff: roster_domain::Timestamp,
    ) -> Result<Option<(usize, u64)>> {
        // Of several servers on one database, one purges at a time.
        if !db.try_lock_purge()? {
            return Ok(None);
        }
        let expired = db.users_deleted_before(cutoff, PURGE_BATCH)?;
        let mut purged = 0;
        let mut partners = std::collections::HashMap::new();
        for user in &expired {
            if !db.purge_user(user.id)? {
                continue;
            }
            let partner = match partners.get(&user.customer) {
                Some(p) => *p,
                None => {
                    let p = db.partner_of_customer(user.customer)?;
                    partners.insert(user.customer, p);
                    p
                }
            };
            if let Some(partner) = partner {
                let record = self.audit(
                    None,
                    partner,
                    Some(user.customer),
                    OperationType::PurgeCustomerUser,
                    user.id.to_string(),
                    json!({"userPrincipalName": user.upn.as_str(), "softDeletionTime": user.soft_deleted_at.map(|t| t.to_rfc3339())}),
                );
                db.insert_audit(&record)?;
            }
            purged += 1;
        }
        Ok(Some((expired.len(), purged)))
    }
}
