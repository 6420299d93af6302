//! Background work: the purge of expired soft-deleted users and of old idempotency records.

use roster_domain::audit::OperationType;
use roster_domain::Duration;
use serde_json::json;

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
            let mut tx = self.store().write().await?;
            // Of several servers on one database, one purges at a time.
            if !tx.db().try_lock_purge().await? {
                break;
            }
            let expired = tx.db().users_deleted_before(cutoff, PURGE_BATCH).await?;
            if expired.is_empty() {
                break;
            }
            let mut partners = std::collections::HashMap::new();
            for user in &expired {
                if !tx.db().purge_user(user.id).await? {
                    continue;
                }
                let partner = match partners.get(&user.customer) {
                    Some(p) => *p,
                    None => {
                        let p = tx.db().partner_of_customer(user.customer).await?;
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
                    tx.db().insert_audit(&record).await?;
                }
                report.users_purged += 1;
            }
            tx.commit().await?;
            if expired.len() < PURGE_BATCH as usize {
                break;
            }
        }
        let mut tx = self.store().write().await?;
        report.requests_forgotten = tx
            .db()
            .forget_requests_before(self.now().minus(REQUEST_MEMORY))
            .await?;
        tx.commit().await?;
        let mut tx = self.store().write().await?;
        tx.db()
            .forget_activity_before(self.now().minus(crate::activity::HISTORY_KEPT))
            .await?;
        tx.db().forget_refresh_tokens_before(self.now()).await?;
        tx.db()
            .purge_portal_sessions(
                self.now().minus(self.settings().portal_session_idle),
                self.now().minus(self.settings().portal_session_lifetime),
            )
            .await?;
        // Lockouts of a day's quiet that lock nothing any more: failures are forgotten after
        // a quiet day, and so are the keyed names of unknown user names that were tried.
        tx.db()
            .forget_sign_in_throttles_before(self.now().minus(THROTTLE_MEMORY), self.now())
            .await?;
        tx.commit().await?;
        report.keys_retired = self.retire_replaced_keys().await?;
        // Pick up a key that the operator or another server made since.
        self.reload_keys().await?;
        Ok(report)
    }
}
