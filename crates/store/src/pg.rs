//! PostgreSQL through the synchronous `postgres` crate: a job runs on a thread of tokio's
//! blocking pool with a connection of its own, and each of its queries is sent and answered
//! on that thread (the client drives its socket where it is called), so a query costs no
//! hand-off between threads. Connections are pooled here: at most [`PG_CONNECTIONS`] at once,
//! prepared statements cached per connection, and a connection pinged before use only when
//! it sat idle long enough for a restart or the network to have cut it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

use crate::rows::Param;
use crate::sql::{Row, Sql, SyncDb, Value};
use crate::{Backend, Result, StoreError};

/// The connections a server keeps to PostgreSQL.
pub(crate) const PG_CONNECTIONS: usize = 16;

/// How long a connection may sit idle in the pool and still be handed out without a ping
/// first. A connection in steady use is not pinged at all; one a database restart or the
/// network cut while it sat unused is found out before a job gets it.
pub(crate) const PG_TRUSTED_IDLE: Duration = Duration::from_secs(10);

/// How long opening a connection may take before the job fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool of connections.
pub(crate) struct PgPool {
    config: postgres::Config,
    idle: Mutex<Vec<PgConn>>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool").finish_non_exhaustive()
    }
}

/// One connection and its prepared statements (by text and parameter types).
struct PgConn {
    client: Client,
    statements: HashMap<(String, Vec<Type>), Statement>,
    idle_since: Instant,
}

impl PgPool {
    /// A pool for `url`, with one connection opened to check that the database answers.
    pub(crate) async fn open(url: &str) -> Result<Arc<Self>> {
        let mut config: postgres::Config = url.parse()?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let pool = Arc::new(Self {
            config,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(tokio::sync::Semaphore::new(PG_CONNECTIONS)),
        });
        let first = pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = first.connect()?;
            first.check_in(conn);
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(|e| StoreError::Unsupported(format!("a database job failed: {e}")))??;
        Ok(pool)
    }

    /// Runs `f` on a connection of the pool, in a transaction when `write` (committed when
    /// `f` returns `Ok`, rolled back when it returns `Err`).
    pub(crate) async fn run<T, E, F>(self: &Arc<Self>, write: bool, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut SyncDb<'_>) -> Result<T, E> + Send + 'static,
    {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unsupported("the database pool is closed".into()))?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut conn = pool.check_out()?;
            let out = conn.job(write, f);
            if !conn.client.is_closed() {
                pool.check_in(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Unsupported(format!("a database job failed: {e}")))?
    }

    /// Connections running (or waiting to open for) a job now.
    pub(crate) fn in_use(&self) -> usize {
        PG_CONNECTIONS.saturating_sub(self.slots.available_permits())
    }

    /// Closes the idle connections; a job still running keeps its own until it ends.
    pub(crate) fn close(&self) {
        self.slots.close();
        let idle = std::mem::take(&mut *lock(&self.idle));
        close_off_runtime(idle);
    }

    fn connect(&self) -> Result<PgConn> {
        Ok(PgConn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
            idle_since: Instant::now(),
        })
    }

    /// An idle connection (the most recently used, whose pages and plans are warmest), or a
    /// new one.
    fn check_out(&self) -> Result<PgConn> {
        while let Some(mut conn) = lock(&self.idle).pop() {
            if conn.idle_since.elapsed() < PG_TRUSTED_IDLE
                || conn.client.is_valid(CONNECT_TIMEOUT).is_ok()
            {
                return Ok(conn);
            }
        }
        self.connect()
    }

    fn check_in(&self, mut conn: PgConn) {
        conn.idle_since = Instant::now();
        lock(&self.idle).push(conn);
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        close_off_runtime(std::mem::take(&mut *lock(&self.idle)));
    }
}

/// Closes connections on a thread of their own: a client says goodbye to the server by
/// blocking on its socket, which a thread that drives async tasks must not do.
fn close_off_runtime(conns: Vec<PgConn>) {
    if conns.is_empty() {
        return;
    }
    if tokio::runtime::Handle::try_current().is_err() {
        drop(conns);
        return;
    }
    let _ = std::thread::Builder::new()
        .name("roster-pg-close".into())
        .spawn(move || drop(conns));
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PgConn {
    fn job<T, E, F>(&mut self, write: bool, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(&mut SyncDb<'_>) -> Result<T, E>,
    {
        if !write {
            return f(&mut SyncDb { sql: self });
        }
        self.client
            .batch_execute("BEGIN")
            .map_err(StoreError::from)?;
        match f(&mut SyncDb { sql: self }) {
            Ok(v) => {
                self.client
                    .batch_execute("COMMIT")
                    .map_err(StoreError::from)?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The statement prepared for `sql` with the parameter types of `params`: each value
    /// is sent as what it is (text or a 64-bit integer), as the SQL is written for.
    fn statement(&mut self, sql: &str, params: &[Param]) -> Result<Statement> {
        let types: Vec<Type> = params
            .iter()
            .map(|p| match p {
                Param::Text(_) | Param::Null => Type::TEXT,
                Param::Int(_) | Param::NullInt => Type::INT8,
            })
            .collect();
        let key = (sql.to_string(), types);
        if let Some(s) = self.statements.get(&key) {
            return Ok(s.clone());
        }
        let statement = self.client.prepare_typed(sql, &key.1)?;
        self.statements.insert(key, statement.clone());
        Ok(statement)
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Text(t) => t.as_str().to_sql(ty, out),
            Param::Int(n) => n.to_sql(ty, out),
            Param::Null | Param::NullInt => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty) || <i64 as ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

fn values(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// One column of a row, as the schema's types map to [`Value`].
fn value(row: &postgres::Row, i: usize) -> Result<Value> {
    let column = &row.columns()[i];
    let ty = column.type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |b| Value::Int(b.into()))
    } else if <&str as postgres::types::FromSql>::accepts(ty) {
        row.try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text)
    } else {
        return Err(StoreError::Corrupt(format!(
            "column '{}' is of type {ty}, which the store does not read",
            column.name()
        )));
    })
}

impl Sql for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let statement = self.statement(sql, params)?;
        let rows = self.client.query(&statement, &values(params))?;
        let names: Arc<[String]> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        rows.iter()
            .map(|r| {
                let values = (0..names.len())
                    .map(|i| value(r, i))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Row::new(names.clone(), values))
            })
            .collect()
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let statement = self.statement(sql, params)?;
        Ok(self.client.execute(&statement, &values(params))?)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }
}
