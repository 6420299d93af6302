//! Support for tests that run against PostgreSQL: a fresh, empty database per test.

use crate::{Result, StoreError};

/// The PostgreSQL server for the tests (`ROSTER_TEST_POSTGRES_URL`), or `None`, said
/// visibly past the test harness's capture, when none is configured. Under CI the
/// PostgreSQL tests must never be skipped: there a missing URL fails the test.
pub fn postgres_for_tests() -> Option<String> {
    match std::env::var("ROSTER_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the PostgreSQL tests: set ROSTER_TEST_POSTGRES_URL"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED on PostgreSQL: ROSTER_TEST_POSTGRES_URL is unset (see README)"
            );
            None
        }
    }
}

/// Creates an empty database next to the one `admin_url` names, and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> Result<String> {
    let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
    let config: postgres::Config = admin_url.parse()?;
    let create = format!("CREATE DATABASE {name}");
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut admin = config.connect(postgres::NoTls)?;
        admin.batch_execute(&create)?;
        Ok(())
    })
    .await
    .map_err(|e| StoreError::Unsupported(format!("cannot create a test database: {e}")))??;
    with_database(admin_url, &name)
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).ok_or_else(|| {
        StoreError::Corrupt(format!("not a database URL: {}", crate::redact_url(url)))
    })?;
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "x").unwrap(),
            "postgres://u@h:5/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "x").unwrap(),
            "postgres://u@h:5/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }
}
