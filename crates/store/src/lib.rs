//! Roster's persistence: one store over SQLite (the embedded default) and PostgreSQL.
//!
//! The SQL is written once in the subset both dialects accept (`$1` placeholders, row-value
//! comparisons, `ON CONFLICT`, partial indexes); what differs lives in [`dialect`]. Ids are
//! stored as canonical GUID text, times as Unix milliseconds and flags as 0/1, so that the
//! same code reads both backends.
//!
//! An operation's queries run in one closure ([`Store::read_job`], [`Store::write_job`]) on a
//! [`sql::SyncDb`], on which the queries are methods: on SQLite on the threads of the
//! [`engine`] (rusqlite; no other connection to the file), on PostgreSQL on tokio's blocking
//! pool with a connection of [`pg`]'s own pool (the synchronous `postgres` crate).

mod dialect;
mod migrate;
mod pg;
mod rows;

pub mod activity;
pub mod applications;
pub mod audit;
pub mod bulk;
pub mod credentials;
pub mod customer_users;
pub mod customers;
pub mod directory_roles;
pub mod engine;
pub mod idempotency;
pub mod invitations;
pub mod keys;
pub mod licences;
pub mod partner_users;
pub mod refresh;
pub mod relationships;
pub mod sessions;
pub mod settings;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod user_rows;

pub use dialect::{redact_url, sqlite_url, Backend};
pub use migrate::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the operation that hit it knows which.
    #[error("a unique value is already taken")]
    Conflict,
    /// The database holds a schema newer than this binary understands.
    #[error("the database schema is version {found}, but this roster binary knows versions up to {known}: run a newer roster")]
    SchemaTooNew { found: i64, known: i64 },
    /// The operation does not exist for this backend.
    #[error("{0}")]
    Unsupported(String),
    /// Stored data that should be impossible (a bad id, an unknown enum value).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Postgres(#[source] postgres::Error),
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The SQLite engine's threads failed the job (a commit, a panic, a stop).
    #[error("database error: {0}")]
    Engine(#[source] engine::EngineError),
}

impl StoreError {
    /// Why the database cannot take work now, when that is what failed: a full disk, or a
    /// PostgreSQL server that cannot be reached, is restarting or cut the connection. Such a
    /// job changed nothing, and the same request can succeed later.
    pub fn unavailable(&self) -> Option<&'static str> {
        match self {
            StoreError::Sqlite(e) if engine::is_disk_full(e) => Some(DISK_FULL),
            StoreError::Engine(engine::EngineError::DiskFull(_)) => Some(DISK_FULL),
            StoreError::Postgres(e) => {
                let connection = match e.as_db_error() {
                    // No answer from the server at all: it is down, or the link is.
                    None => true,
                    // Connection exceptions, and the server shutting down or starting.
                    Some(db) => {
                        let code = db.code().code();
                        code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
                    }
                };
                connection.then_some(
                    "The database cannot be reached just now: try again in a few seconds.",
                )
            }
            _ => None,
        }
    }
}

const DISK_FULL: &str =
    "The server's disk is full, so nothing can be changed until space is freed; reading goes on.";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match engine::EngineError::from(e) {
            engine::EngineError::Conflict => Self::Conflict,
            engine::EngineError::Sqlite(e) => Self::Sqlite(e),
            other => Self::Engine(other),
        }
    }
}

impl From<engine::EngineError> for StoreError {
    fn from(e: engine::EngineError) -> Self {
        match e {
            engine::EngineError::Conflict => Self::Conflict,
            other => Self::Engine(other),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
            Self::Conflict
        } else {
            Self::Postgres(e)
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How busy the store is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// PostgreSQL: connections running a job now.
    pub in_use: Option<usize>,
    /// PostgreSQL: the most connections the pool opens.
    pub capacity: Option<usize>,
    /// SQLite: write jobs waiting for the writer.
    pub queued_writes: usize,
}

/// The database: on SQLite the engine's threads, on PostgreSQL a pool of connections.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// PostgreSQL: the connections every job takes one of.
    pg: Option<std::sync::Arc<pg::PgPool>>,
    /// Write transactions begun since the store was opened.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// SQLite: the threads that run [`Store::read_job`] and [`Store::write_job`].
    engine: Option<std::sync::Arc<engine::Engine>>,
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_at(url, None).await
    }

    /// Opens the database at `url` and migrates it to schema `version` (the newest when
    /// `None`). An older version is for upgrade tests.
    pub async fn open_at(url: &str, version: Option<i64>) -> Result<Self> {
        let backend = Backend::of_url(url)?;
        let mut store = Self {
            backend,
            pg: None,
            writes: Default::default(),
            engine: None,
        };
        match backend {
            Backend::Sqlite => {
                let path = dialect::sqlite_path(url);
                // About a reader a core: a job runs to its end without waiting on anything.
                let threads =
                    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
                store.engine = Some(std::sync::Arc::new(
                    tokio::task::spawn_blocking(move || engine::Engine::open(&path, threads))
                        .await
                        .map_err(|e| {
                            StoreError::Unsupported(format!(
                                "cannot start the database threads: {e}"
                            ))
                        })??,
                ));
            }
            Backend::Postgres => store.pg = Some(pg::PgPool::open(url).await?),
        }
        migrate::run(&store, version).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f`'s queries together, on a reader's connection: on SQLite a thread of the
    /// engine, on PostgreSQL a thread of tokio's blocking pool. `f` must not wait on
    /// anything but the database. Its error is the caller's own (anything a [`StoreError`]
    /// converts into).
    pub async fn read_job<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut sql::SyncDb<'_>) -> Result<T, E> + Send + 'static,
    {
        if let Some(engine) = &self.engine {
            return engine
                .read(move |conn| {
                    f(&mut sql::SyncDb {
                        sql: &mut sql::SqliteSql(conn),
                    })
                    .map_err(JobError::Job)
                })
                .await
                .map_err(JobError::into_caller);
        }
        self.pool()?.run(false, f).await
    }

    /// Runs `f`'s queries in one transaction, committed when it returns `Ok`, rolled back
    /// when it returns `Err` (on SQLite: a savepoint of a transaction shared with the jobs
    /// waiting beside it, answered once that transaction committed).
    pub async fn write_job<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut sql::SyncDb<'_>) -> Result<T, E> + Send + 'static,
    {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(engine) = &self.engine {
            return engine
                .write(move |conn| {
                    f(&mut sql::SyncDb {
                        sql: &mut sql::SqliteSql(conn),
                    })
                    .map_err(JobError::Job)
                })
                .await
                .map_err(JobError::into_caller);
        }
        self.pool()?.run(true, f).await
    }

    /// How many write transactions this process has begun on the store (on SQLite they all
    /// queue for its one writer).
    pub fn write_transactions(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How busy the database's connections are now (for `/metrics`).
    pub fn pool_stats(&self) -> PoolStats {
        match (&self.engine, &self.pg) {
            (Some(engine), _) => PoolStats {
                in_use: None,
                capacity: None,
                queued_writes: engine.queued_writes(),
            },
            (None, Some(pg)) => PoolStats {
                in_use: Some(pg.in_use()),
                capacity: Some(pg::PG_CONNECTIONS),
                queued_writes: 0,
            },
            (None, None) => PoolStats::default(),
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        self.read_job(|db| db.query_one("SELECT 1 AS one", &[]))
            .await
            .is_ok()
    }

    /// Writes a consistent copy of a SQLite database to `path` (which must not exist), while
    /// the database stays in use. PostgreSQL is backed up with its own tools (pg_dump).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "roster backup copies SQLite databases; back up PostgreSQL with pg_dump (see docs/OPERATIONS.md)".into(),
            ));
        }
        // On a reader thread of the engine (it takes long, and must not hold up a thread that
        // serves requests): the copy is one read transaction, which writers go on beside.
        let target = path.to_string_lossy().into_owned();
        let engine = self
            .engine
            .as_ref()
            .ok_or_else(|| StoreError::Unsupported("the SQLite engine is not running".into()))?;
        engine
            .read_on_thread(move |conn| {
                sql::SyncDb {
                    sql: &mut sql::SqliteSql(conn),
                }
                .sql
                .execute("VACUUM INTO $1", &[target.into()])
            })
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(pool) = &self.pg {
            pool.close();
        }
    }

    fn pool(&self) -> Result<&std::sync::Arc<pg::PgPool>> {
        self.pg
            .as_ref()
            .ok_or_else(|| StoreError::Unsupported("no PostgreSQL pool".into()))
    }
}

/// A job's own error, or the engine's.
enum JobError<E> {
    Job(E),
    Engine(engine::EngineError),
}

impl<E> From<engine::EngineError> for JobError<E> {
    fn from(e: engine::EngineError) -> Self {
        Self::Engine(e)
    }
}

impl<E: From<StoreError>> JobError<E> {
    fn into_caller(self) -> E {
        match self {
            Self::Job(e) => e,
            Self::Engine(e) => StoreError::from(e).into(),
        }
    }
}

impl sql::SyncDb<'_> {
    /// Takes the purge lock until this transaction ends; `false` when another server is
    /// purging right now (PostgreSQL). On SQLite there is only one server.
    pub fn try_lock_purge(&mut self) -> Result<bool> {
        dialect::try_lock_transaction(self, dialect::Lock::Purge)
    }
}
