//! Schema migrations: one folder per backend, embedded in the binary, applied in order at
//! start, in one write job (one transaction: a migration that fails leaves the schema as it
//! was). A database whose schema is newer than this binary is refused, so that an old binary
//! never writes to a schema it does not understand. On PostgreSQL an advisory lock makes
//! servers that start together migrate one after another.

use crate::dialect::{self, Lock};
use crate::sql::SyncDb;
use crate::{Result, Store, StoreError};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = 11;

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS roster_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

/// Migrates to `target` (the newest version when `None`).
pub(crate) async fn run(store: &Store, target: Option<i64>) -> Result<()> {
    let target = target.unwrap_or(SCHEMA_VERSION);
    store.write_job(move |db| migrate(db, target)).await
}

fn migrate(db: &mut SyncDb<'_>, target: i64) -> Result<()> {
    dialect::lock_transaction(db, Lock::Migrations)?;
    db.sql.batch(LEDGER)?;
    let applied = version_on(db)?;
    if applied > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for (version, name, sql) in db.backend().migrations() {
        if *version <= applied || *version > target {
            continue;
        }
        db.sql.batch(sql)?;
        db.sql.execute(
            "INSERT INTO roster_migrations (version, name) VALUES ($1, $2)",
            &[(*version).into(), (*name).into()],
        )?;
        tracing::info!(version, name, "applied schema migration");
    }
    Ok(())
}

fn version_on(db: &mut SyncDb<'_>) -> Result<i64> {
    let row = db.query_one(
        "SELECT COALESCE(MAX(version), 0) AS v FROM roster_migrations",
        &[],
    )?;
    crate::rows::int(&row, "v")
}

impl Store {
    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<i64> {
        self.read_job(version_on).await
    }
}
