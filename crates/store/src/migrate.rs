//! Schema migrations: one folder per backend, embedded in the binary, applied in order at
//! start, each in its own transaction. A database whose schema is newer than this binary is
//! refused, so that an old binary never writes to a schema it does not understand.

use sqlx::{Executor, Row};

use crate::{Result, Store, StoreError};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = 1;

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS roster_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut tx = store.write().await?;
    tx.db().conn.execute(LEDGER).await?;
    tx.commit().await?;

    let applied = applied_version(store).await?;
    if applied > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for (version, name, sql) in store.backend().migrations() {
        if *version <= applied {
            continue;
        }
        let mut tx = store.write().await?;
        let db = tx.db();
        db.conn.execute(*sql).await?;
        sqlx::query("INSERT INTO roster_migrations (version, name) VALUES ($1, $2)")
            .bind(*version)
            .bind(*name)
            .execute(&mut *db.conn)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied schema migration");
    }
    Ok(())
}

pub(crate) async fn applied_version(store: &Store) -> Result<i64> {
    let mut r = store.reader().await?;
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM roster_migrations")
        .fetch_one(&mut *r.db().conn)
        .await?;
    Ok(row.try_get::<i64, _>("v")?)
}
