//! The synchronous query layer (issue 17): an operation's queries run together in one closure
//! on one database thread ([`Store::read_job`](crate::Store::read_job),
//! [`Store::write_job`](crate::Store::write_job)), through [`SyncDb`], whose methods are the
//! queries, written once for both backends.
//!
//! - SQLite: the closure runs on a thread of the [`Engine`](crate::engine::Engine), on a
//!   rusqlite connection with its prepared statements cached. The SQL's `$N` placeholders
//!   become SQLite's `?N` (the same numbers, so a placeholder may repeat or come out of
//!   order), and every statement's parameter count is checked against the values given.
//! - PostgreSQL: the closure runs on tokio's blocking pool, each query on the connection the
//!   job holds ([`crate::pg`]).
//!
//! Values are integers, text or NULL, as the schema stores them (ids as text, times as Unix
//! milliseconds, flags as 0/1).

use std::borrow::Cow;
use std::sync::Arc;

use crate::rows::{Columns, Param};
use crate::{Backend, Result, StoreError};

/// One value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One row of an answer, its columns by name.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(names: Arc<[String]>, values: Vec<Value>) -> Self {
        Self { names, values }
    }

    fn value(&self, col: &str) -> Result<&Value> {
        self.names
            .iter()
            .position(|n| n == col)
            .map(|i| &self.values[i])
            .ok_or_else(|| StoreError::Corrupt(format!("no column '{col}' in the answer")))
    }
}

impl Columns for Row {
    fn text_or_null(&self, col: &str) -> Result<Option<String>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(i) => Err(crate::rows::corrupt(col, &i.to_string())),
        }
    }
    fn int_or_null(&self, col: &str) -> Result<Option<i64>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            Value::Text(s) => Err(crate::rows::corrupt(col, s)),
        }
    }
}

/// A connection that runs statements, synchronously.
pub(crate) trait Sql {
    fn backend(&self) -> Backend;
    /// The rows a statement answers.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>>;
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;
    /// Runs statements separated by semicolons, without parameters (a migration).
    fn batch(&mut self, sql: &str) -> Result<()>;
}

/// The queries of an operation, on the connection its job holds (the new home of the
/// store's methods, module by module; [`crate::Db`] keeps the ones not moved yet).
pub struct SyncDb<'c> {
    pub(crate) sql: &'c mut dyn Sql,
}

impl SyncDb<'_> {
    pub fn backend(&self) -> Backend {
        self.sql.backend()
    }

    /// The one row a statement answers (an aggregate, a `RETURNING`).
    pub(crate) fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Corrupt(format!("no row answered: {sql}")))
    }

    /// The first row of an answer, if any.
    pub(crate) fn query_opt(&mut self, sql: &str, params: &[Param]) -> Result<Option<Row>> {
        Ok(self.sql.query(sql, params)?.into_iter().next())
    }
}

/// SQLite's numbered placeholders (`?N`) for the `$N` the SQL is written with; text in
/// quotes is left as it is.
pub(crate) fn sqlite_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (None, '\'' | '"') => quoted = Some(c),
            (Some(q), _) if c == q => quoted = None,
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A rusqlite connection of the engine.
pub(crate) struct SqliteSql<'c>(pub(crate) &'c rusqlite::Connection);

impl SqliteSql<'_> {
    fn prepare(&self, sql: &str, params: &[Param]) -> Result<rusqlite::CachedStatement<'_>> {
        let stmt = self.0.prepare_cached(&sqlite_placeholders(sql))?;
        let wanted = stmt.parameter_count();
        if wanted != params.len() {
            return Err(StoreError::Corrupt(format!(
                "the statement takes {wanted} parameters, {} were given: {sql}",
                params.len()
            )));
        }
        Ok(stmt)
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, params: &[Param]) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        match p {
            Param::Text(t) => stmt.raw_bind_parameter(i + 1, t)?,
            Param::Int(n) => stmt.raw_bind_parameter(i + 1, n)?,
            Param::Null | Param::NullInt => {
                stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?
            }
        }
    }
    Ok(())
}

impl Sql for SqliteSql<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let mut stmt = self.prepare(sql, params)?;
        bind(&mut stmt, params)?;
        let names: Arc<[String]> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let width = names.len();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Real(f) => {
                        return Err(crate::rows::corrupt(&names[i], &f.to_string()))
                    }
                    rusqlite::types::ValueRef::Blob(_) => {
                        return Err(crate::rows::corrupt(&names[i], "a blob"))
                    }
                });
            }
            out.push(Row {
                names: names.clone(),
                values,
            });
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let mut stmt = self.prepare(sql, params)?;
        bind(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.execute_batch(sql)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rows;
    use crate::Store;

    async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(&crate::sqlite_url(&dir.path().join("roster.db")))
            .await
            .unwrap();
        let mut all = vec![(sqlite, Some(dir))];
        if let Some(admin) = crate::testing::postgres_for_tests() {
            let url = crate::testing::fresh_postgres_database(&admin)
                .await
                .unwrap();
            all.push((Store::open(&url).await.unwrap(), None));
        }
        all
    }

    fn setting(db: &mut SyncDb<'_>, key: &str) -> Result<Option<String>> {
        match db.query_opt("SELECT value FROM settings WHERE key = $1", &[key.into()])? {
            Some(r) => rows::opt_text(&r, "value"),
            None => Ok(None),
        }
    }

    fn set(db: &mut SyncDb<'_>, key: &str, value: &str) -> Result<u64> {
        db.sql.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2)",
            &[key.into(), value.into()],
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_commits_whole_or_not_at_all_on_both_backends() {
        for (store, _dir) in stores().await {
            let b = store.backend();
            let n = store.write_job(|db| set(db, "a", "1")).await.unwrap();
            assert_eq!(n, 1, "{b:?}");
            let got = store.read_job(|db| setting(db, "a")).await.unwrap();
            assert_eq!(got.as_deref(), Some("1"), "{b:?}");
            // A job that fails after its writes leaves nothing.
            let failed = store
                .write_job(|db| {
                    set(db, "b", "2")?;
                    Err::<(), _>(StoreError::Corrupt("refused".into()))
                })
                .await;
            assert!(matches!(failed, Err(StoreError::Corrupt(_))), "{b:?}");
            assert_eq!(store.read_job(|db| setting(db, "b")).await.unwrap(), None);
            // A unique value taken is a conflict.
            let taken = store.write_job(|db| set(db, "a", "again")).await;
            assert!(
                matches!(taken, Err(StoreError::Conflict)),
                "{b:?}: {taken:?}"
            );
            // Placeholders repeat and come in any order; NULL and integers round-trip.
            let row = store
                .read_job(|db| {
                    db.query_opt(
                        "SELECT $2 AS two, $1 AS one, $2 AS again, $3 AS absent",
                        &[7i64.into(), "x".into(), Param::Null],
                    )
                })
                .await
                .unwrap()
                .unwrap();
            assert_eq!(rows::int(&row, "one").unwrap(), 7, "{b:?}");
            assert_eq!(rows::text(&row, "two").unwrap(), "x");
            assert_eq!(rows::text(&row, "again").unwrap(), "x");
            assert_eq!(rows::opt_text(&row, "absent").unwrap(), None);
            // Values short of the statement's placeholders are refused.
            let short = store
                .read_job(|db| db.query_opt("SELECT $1 AS a, $2 AS b", &[1i64.into()]))
                .await;
            assert!(short.is_err(), "{b:?}");
        }
    }

    #[test]
    fn placeholders_keep_their_numbers_and_leave_quoted_text() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $2 AND c = $1 OR d = $2"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 OR d = ?2"
        );
        assert_eq!(
            sqlite_placeholders("SELECT '$1', \"$2\", $3, 'it''s $4' FROM t"),
            "SELECT '$1', \"$2\", ?3, 'it''s $4' FROM t"
        );
        assert_eq!(sqlite_placeholders("SELECT $ || $x"), "SELECT $ || $x");
        assert!(matches!(sqlite_placeholders("SELECT 1"), Cow::Borrowed(_)));
    }
}
