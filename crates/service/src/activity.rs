//! The activity history of partner account users: every request they make (method, path,
//! status, time), kept 30 days. Requests are recorded off the request path, in batches: a
//! history line may be lost in a crash, a change never is (changes have their audit records).
//!
//! A batch gathers the lines of up to [`WINDOW`] before it is written. Every commit makes
//! each SQLite reader connection drop its whole page cache on its next read (write-ahead log
//! mode), so writing the history as it came, in a commit every few milliseconds under load,
//! had every read request fetch every page it touches from the file again
//! (docs/BENCHMARKS.md). Whoever reads the history flushes it first
//! ([`Roster::flush_activity`]); the server flushes it when it stops.

use roster_domain::activity::Activity;
use roster_domain::authz::Action;
use roster_domain::{Duration, Timestamp, UserId};
use roster_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::paging::{self, ListRequest};
use crate::{Ctx, Page, Result, Roster, ServiceError};

/// How long the history is kept.
pub const HISTORY_KEPT: Duration = Duration::from_days(30);
const BATCH: usize = 500;
const QUEUE: usize = 10_000;
/// How long a batch gathers lines before it is written (unless it is full or flushed).
pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

enum Msg {
    Record(Activity),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub(crate) struct ActivitySink {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("activity message")
    }
}

impl ActivitySink {
    /// Starts the writer; it ends when every sink is dropped.
    pub(crate) fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx));
        Self { tx }
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Msg>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut waiting = Vec::new();
        let until = tokio::time::Instant::now() + WINDOW;
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Msg::Record(a) => batch.push(a),
                Msg::Flush(done) => waiting.push(done),
            }
            if batch.len() >= BATCH {
                break;
            }
            next = if waiting.is_empty() {
                // Gather until the window closes (or every sink is gone: write and end).
                tokio::time::timeout_at(until, rx.recv())
                    .await
                    .ok()
                    .flatten()
            } else {
                // Someone waits: take only what is queued already.
                rx.try_recv().ok()
            };
        }
        let lines = batch.len();
        if lines > 0 {
            if let Err(e) = write(&store, batch).await {
                tracing::warn!(error = %e, lines, "could not record activity");
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

async fn write(store: &Store, batch: Vec<Activity>) -> Result<()> {
    store
        .write_job(move |db| -> Result<()> {
            for a in &batch {
                db.insert_activity(a)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct SealedHistory {
    list: String,
    scope: String,
    size: u32,
    at: i64,
    id: String,
}

impl Roster {
    /// Notes a request of a partner user (never blocks the request).
    pub fn record_activity(&self, user: UserId, method: &str, path: &str, status: u16) {
        let line = Activity {
            id: uuid::Uuid::new_v4().to_string(),
            user,
            at: self.now(),
            method: method.to_string(),
            path: path.chars().take(512).collect(),
            status,
        };
        if self.activity().tx.try_send(Msg::Record(line)).is_err() {
            tracing::warn!("the activity queue is full: a history line was dropped");
        }
    }

    /// Waits until every request noted so far is written.
    pub async fn flush_activity(&self) {
        let (done, wait) = oneshot::channel();
        if self.activity().tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// A user's requests of the last 30 days, newest first (Global admin).
    pub async fn user_activity(
        &self,
        ctx: &Ctx,
        user: UserId,
        request: ListRequest<u32>,
    ) -> Result<Page<Activity>> {
        self.allow(ctx, Action::ViewUserHistory)?;
        let partner = ctx.actor.partner;
        self.store()
            .read_job(move |db| {
                db.partner_user(partner, user)?
                    .ok_or(ServiceError::UserNotFound)
            })
            .await?;
        self.flush_activity().await;
        let scope = user.to_string();
        let (size, after) = match request {
            ListRequest::First(size) => (size, None),
            ListRequest::Next(token) => {
                let key = self
                    .key_for(&token)
                    .await
                    .ok_or_else(paging::invalid_token)?;
                let s: SealedHistory = key.open(&token).ok_or_else(paging::invalid_token)?;
                if s.list != "activity" || s.scope != scope {
                    return Err(paging::invalid_token().into());
                }
                (s.size, Some((s.at, s.id)))
            }
        };
        let since = self.now().minus(HISTORY_KEPT);
        let mut items = self
            .store()
            .read_job(move |db| -> Result<_> { Ok(db.list_activity(user, since, after, size)?) })
            .await?;
        let continuation = if items.len() > size as usize {
            items.truncate(size as usize);
            items.last().map(|last| {
                self.keys().current().seal(&SealedHistory {
                    list: "activity".into(),
                    scope: scope.clone(),
                    size,
                    at: last.at.unix_millis(),
                    id: last.id.clone(),
                })
            })
        } else {
            None
        };
        Ok(Page {
            items,
            continuation,
        })
    }

    /// When a partner user last made a request (within the kept history).
    pub async fn last_activity(&self, user: UserId) -> Result<Option<Timestamp>> {
        self.store()
            .read_job(move |db| -> Result<_> { Ok(db.last_activity(user)?) })
            .await
    }
}
