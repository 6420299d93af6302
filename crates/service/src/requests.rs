//! Idempotency by `MS-RequestId` (rest-api.md §7): the first request with a key runs, a
//! repeat of it gets the recorded response, a different request with the key is refused.

use std::time::Duration as StdDuration;

use roster_domain::Duration;
use roster_store::idempotency::{Claim, NewClaim};

use crate::{Result, Roster, ServiceError};

/// One request, as far as idempotency cares.
#[derive(Debug, Clone)]
pub struct RequestKey {
    /// Who called (the user id): keys are per caller.
    pub caller: String,
    pub request_id: String,
    pub method: String,
    pub path: String,
    /// A hash of the body (never the body: it may hold a password).
    pub body_hash: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RequestClaim {
    /// Run the operation, then `finish_request` or `abandon_request`.
    Owner,
    /// The same request ran before: answer with this.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
}

/// A claim older than this whose owner never answered is taken to be abandoned (its server
/// died mid-request) and may be taken over.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);
/// A repeat waits for the first request's answer: woken at once when it comes from this
/// server, and reading the key again after these waits (doubling from the first to the
/// longest) for an answer from another server.
const FIRST_POLL: StdDuration = StdDuration::from_millis(20);
const LONGEST_POLL: StdDuration = StdDuration::from_millis(500);
/// How long a repeat waits for the first request to finish before giving up.
const WAIT_AT_MOST: StdDuration = StdDuration::from_secs(30);

impl Roster {
    /// Claims `key` for this request, or tells what became of the request that claimed it
    /// first, waiting while that one runs. Waiting costs reads, not writes: a repeat writes
    /// only to claim a free key, to forget an expired one, or to take over an abandoned one.
    pub async fn claim_request(&self, key: &RequestKey) -> Result<RequestClaim> {
        let started = tokio::time::Instant::now();
        let mut poll = FIRST_POLL;
        let mut recorded = match self.write_claim(key).await? {
            Claim::Owner => return Ok(RequestClaim::Owner),
            Claim::Taken(r) => r,
        };
        loop {
            // A key is remembered for 24 hours, whether or not the purge has run since.
            let expired = self.now().minus(crate::maintenance::REQUEST_MEMORY);
            if recorded.created_at < expired {
                let k = key.clone();
                self.store()
                    .write_job(move |db| -> Result<()> {
                        db.forget_request_if_before(&k.caller, &k.request_id, expired)?;
                        Ok(())
                    })
                    .await?;
                match self.write_claim(key).await? {
                    Claim::Owner => return Ok(RequestClaim::Owner),
                    Claim::Taken(r) => recorded = r,
                }
                continue;
            }
            if recorded.method != key.method
                || recorded.path != key.path
                || recorded.body_hash != key.body_hash
            {
                return Ok(RequestClaim::Mismatch);
            }
            if let (Some(status), Some(body)) = (recorded.status, recorded.response) {
                return Ok(RequestClaim::Replay { status, body });
            }
            // The first request is still running: wait for its answer.
            let now = self.now();
            if recorded.created_at < now.minus(ABANDONED_AFTER) {
                let k = key.clone();
                let taken_over = self
                    .store()
                    .write_job(move |db| -> Result<_> {
                        Ok(db.take_over_request(
                            &k.caller,
                            &k.request_id,
                            now.minus(ABANDONED_AFTER),
                            now,
                        )?)
                    })
                    .await?;
                if taken_over {
                    return Ok(RequestClaim::Owner);
                }
            }
            if started.elapsed() > WAIT_AT_MOST {
                return Err(ServiceError::internal(
                    "an earlier request with this MS-RequestId is still running; retry later",
                ));
            }
            // Listen before reading again, so that an answer recorded in between still wakes us.
            let answered = self.inner.requests_answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            let mut again = self.recorded_request(key).await?;
            if again.as_ref().is_some_and(|r| r.status.is_none()) {
                let _ = tokio::time::timeout(poll, answered).await;
                poll = (poll * 2).min(LONGEST_POLL);
                again = self.recorded_request(key).await?;
            }
            recorded = match again {
                Some(r) => r,
                // Given up after a server error: the key is free again.
                None => match self.write_claim(key).await? {
                    Claim::Owner => return Ok(RequestClaim::Owner),
                    Claim::Taken(r) => r,
                },
            };
        }
    }

    async fn recorded_request(
        &self,
        key: &RequestKey,
    ) -> Result<Option<roster_store::idempotency::Recorded>> {
        let k = key.clone();
        self.store()
            .read_job(move |db| -> Result<_> { Ok(db.recorded_request(&k.caller, &k.request_id)?) })
            .await
    }

    /// Claims a free key (the primary key decides among concurrent claims), or reads the
    /// claim that holds it.
    async fn write_claim(&self, key: &RequestKey) -> Result<Claim> {
        let (k, now) = (key.clone(), self.now());
        self.store()
            .write_job(move |db| -> Result<_> {
                let claim = NewClaim {
                    caller: &k.caller,
                    request_id: &k.request_id,
                    method: &k.method,
                    path: &k.path,
                    body_hash: &k.body_hash,
                };
                Ok(db.claim_request(&claim, now)?)
            })
            .await
    }

    /// Records the owner's response for replay.
    pub async fn finish_request(&self, key: &RequestKey, status: u16, body: &str) -> Result<()> {
        let (k, body) = (key.clone(), body.to_string());
        self.store()
            .write_job(move |db| -> Result<()> {
                db.complete_request(&k.caller, &k.request_id, status, &body)?;
                Ok(())
            })
            .await?;
        self.inner.requests_answered.notify_waiters();
        Ok(())
    }

    /// Gives the key up: the operation failed without a change, so a retry may run it.
    pub async fn abandon_request(&self, key: &RequestKey) -> Result<()> {
        let k = key.clone();
        self.store()
            .write_job(move |db| -> Result<()> {
                db.release_request(&k.caller, &k.request_id)?;
                Ok(())
            })
            .await?;
        self.inner.requests_answered.notify_waiters();
        Ok(())
    }
}
