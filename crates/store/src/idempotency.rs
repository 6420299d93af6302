//! The idempotency ledger behind `MS-RequestId` (rest-api.md §7).
//!
//! A request claims its key by inserting a row without a response; the primary key makes
//! exactly one of several concurrent requests the owner. The owner runs the operation and
//! stores the response; the others wait for it and replay it.

use roster_domain::Timestamp;

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// A recorded request: what it was, and its response once it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body_hash: String,
    /// `None` while the owner is still working.
    pub status: Option<u16>,
    pub response: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key and must run the operation.
    Owner,
    /// Another request holds the key.
    Taken(Recorded),
}

pub struct NewClaim<'a> {
    pub caller: &'a str,
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub body_hash: &'a str,
}

impl SyncDb<'_> {
    pub fn claim_request(&mut self, c: &NewClaim<'_>, now: Timestamp) -> Result<Claim> {
        let done = self.sql.execute("INSERT INTO idempotency (caller, request_id, method, path, body_hash, status, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6) ON CONFLICT (caller, request_id) DO NOTHING", &[Param::from(c.caller), Param::from(c.request_id), Param::from(c.method), Param::from(c.path), Param::from(c.body_hash), Param::from(now.unix_millis())])?;
        if done == 1 {
            return Ok(Claim::Owner);
        }
        match self.recorded_request(c.caller, c.request_id)? {
            Some(r) => Ok(Claim::Taken(r)),
            // Released between our insert and our read: try once more.
            None => self.claim_request(c, now),
        }
    }

    pub fn recorded_request(&mut self, caller: &str, request_id: &str) -> Result<Option<Recorded>> {
        let row = self.query_opt("SELECT method, path, body_hash, status, response, created_at FROM idempotency WHERE caller = $1 AND request_id = $2", &[Param::from(caller), Param::from(request_id)])?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Recorded {
            method: rows::text(&row, "method")?,
            path: rows::text(&row, "path")?,
            body_hash: rows::text(&row, "body_hash")?,
            status: rows::opt_int(&row, "status")?.and_then(|s| u16::try_from(s).ok()),
            response: rows::opt_text(&row, "response")?,
            created_at: rows::time(&row, "created_at")?,
        }))
    }

    /// Stores the owner's response.
    pub fn complete_request(
        &mut self,
        caller: &str,
        request_id: &str,
        status: u16,
        response: &str,
    ) -> Result<()> {
        self.sql.execute("UPDATE idempotency SET status = $1, response = $2 WHERE caller = $3 AND request_id = $4", &[Param::from(i64::from(status)), Param::from(response), Param::from(caller), Param::from(request_id)])?;
        Ok(())
    }

    /// Gives the key up (the operation failed without changing anything; a retry may run it).
    pub fn release_request(&mut self, caller: &str, request_id: &str) -> Result<()> {
        self.sql.execute(
            "DELETE FROM idempotency WHERE caller = $1 AND request_id = $2 AND status IS NULL",
            &[Param::from(caller), Param::from(request_id)],
        )?;
        Ok(())
    }

    /// Takes over a claim whose owner vanished (a crash) without answering.
    pub fn take_over_request(
        &mut self,
        caller: &str,
        request_id: &str,
        claimed_before: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute("UPDATE idempotency SET created_at = $1 WHERE caller = $2 AND request_id = $3 AND status IS NULL AND created_at < $4", &[Param::from(now.unix_millis()), Param::from(caller), Param::from(request_id), Param::from(claimed_before.unix_millis())])?;
        Ok(done == 1)
    }

    /// Forgets one record if it is older than `before`. Returns whether it did.
    pub fn forget_request_if_before(
        &mut self,
        caller: &str,
        request_id: &str,
        before: Timestamp,
    ) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM idempotency WHERE caller = $1 AND request_id = $2 AND created_at < $3",
            &[
                Param::from(caller),
                Param::from(request_id),
                Param::from(before.unix_millis()),
            ],
        )?;
        Ok(done == 1)
    }

    /// Forgets records older than `before`. Returns how many.
    pub fn forget_requests_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM idempotency WHERE created_at < $1",
            &[Param::from(before.unix_millis())],
        )?;
        Ok(done)
    }
}
