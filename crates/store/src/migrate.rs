//! Schema migrations: one folder per backend, embedded in the binary, applied in order at
//! start, each in its own transaction. A database whose schema is newer than this binary is
//! refused, so that an old binary never writes to a schema it does not understand. On
//! PostgreSQL an advisory lock makes servers that start together migrate one after another.

use sqlx::{AnyConnection, Connection, Executor, Row};

use crate::dialect::{self, Lock};
use crate::{Backend, Result, Store, StoreError};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = 11;

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS roster_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

/// Migrates to `target` (the newest version when `None`).
pub(crate) async fn run(store: &Store, target: Option<i64>) -> Result<()> {
    let backend = store.backend();
    let mut conn = store.writers.acquire().await?;
    dialect::lock_session(backend, &mut conn, Lock::Migrations).await?;
    let result = migrate(backend, &mut conn, target.unwrap_or(SCHEMA_VERSION)).await;
    dialect::unlock_session(backend, &mut conn, Lock::Migrations).await?;
    result
}

async fn migrate(backend: Backend, conn: &mut AnyConnection, target: i64) -> Result<()> {
    conn.execute(LEDGER).await?;
    let applied = version_on(conn).await?;
    if applied > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for (version, name, sql) in backend.migrations() {
        if *version <= applied || *version > target {
            continue;
        }
        let mut tx = conn.begin().await?;
        tx.execute(*sql).await?;
        sqlx::query("INSERT INTO roster_migrations (version, name) VALUES ($1, $2)")
            .bind(*version)
            .bind(*name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied schema migration");
    }
    Ok(())
}

async fn version_on(conn: &mut AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM roster_migrations")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("v")?)
}

impl Store {
    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<i64> {
        self.read_job(|db| {
            let row = db.query_one(
                "SELECT COALESCE(MAX(version), 0) AS v FROM roster_migrations",
                &[],
            )?;
            crate::rows::int(&row, "v")
        })
        .await
    }
}
