//! Everything that differs between SQLite and PostgreSQL, in one place.

use std::path::Path;

use crate::{Result, StoreError};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Corrupt(format!(
                "unsupported database URL '{}': use sqlite://PATH or postgres://...",
                redact_url(url)
            )))
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
    /// The migration folder of this backend.
    pub(crate) fn migrations(self) -> &'static [(i64, &'static str, &'static str)] {
        match self {
            Self::Sqlite => &[
                (
                    1,
                    "initial",
                    include_str!("../migrations/sqlite/0001_initial.sql"),
                ),
                (
                    2,
                    "signing_keys",
                    include_str!("../migrations/sqlite/0002_signing_keys.sql"),
                ),
                (
                    3,
                    "account_access",
                    include_str!("../migrations/sqlite/0003_account_access.sql"),
                ),
                (
                    4,
                    "invitations",
                    include_str!("../migrations/sqlite/0004_invitations.sql"),
                ),
                (
                    5,
                    "tokens",
                    include_str!("../migrations/sqlite/0005_tokens.sql"),
                ),
                (
                    6,
                    "activity",
                    include_str!("../migrations/sqlite/0006_activity.sql"),
                ),
                (
                    7,
                    "delegated_access",
                    include_str!("../migrations/sqlite/0007_delegated_access.sql"),
                ),
                (
                    8,
                    "applications_and_directory_roles",
                    include_str!("../migrations/sqlite/0008_applications_and_directory_roles.sql"),
                ),
                (
                    9,
                    "licences",
                    include_str!("../migrations/sqlite/0009_licences.sql"),
                ),
                (
                    10,
                    "sign_in_sources_and_public_clients",
                    include_str!(
                        "../migrations/sqlite/0010_sign_in_sources_and_public_clients.sql"
                    ),
                ),
                (
                    11,
                    "portal_sessions",
                    include_str!("../migrations/sqlite/0011_portal_sessions.sql"),
                ),
            ],
            Self::Postgres => &[
                (
                    1,
                    "initial",
                    include_str!("../migrations/postgres/0001_initial.sql"),
                ),
                (
                    2,
                    "signing_keys",
                    include_str!("../migrations/postgres/0002_signing_keys.sql"),
                ),
                (
                    3,
                    "account_access",
                    include_str!("../migrations/postgres/0003_account_access.sql"),
                ),
                (
                    4,
                    "invitations",
                    include_str!("../migrations/postgres/0004_invitations.sql"),
                ),
                (
                    5,
                    "tokens",
                    include_str!("../migrations/postgres/0005_tokens.sql"),
                ),
                (
                    6,
                    "activity",
                    include_str!("../migrations/postgres/0006_activity.sql"),
                ),
                (
                    7,
                    "delegated_access",
                    include_str!("../migrations/postgres/0007_delegated_access.sql"),
                ),
                (
                    8,
                    "applications_and_directory_roles",
                    include_str!(
                        "../migrations/postgres/0008_applications_and_directory_roles.sql"
                    ),
                ),
                (
                    9,
                    "licences",
                    include_str!("../migrations/postgres/0009_licences.sql"),
                ),
                (
                    10,
                    "sign_in_sources_and_public_clients",
                    include_str!(
                        "../migrations/postgres/0010_sign_in_sources_and_public_clients.sql"
                    ),
                ),
                (
                    11,
                    "portal_sessions",
                    include_str!("../migrations/postgres/0011_portal_sessions.sql"),
                ),
            ],
        }
    }
}

/// The SQLite URL for a database file, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The file a `sqlite:` URL names.
pub(crate) fn sqlite_path(url: &str) -> std::path::PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    std::path::PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// An aggregate that joins the values of `expr` with spaces (NULL when there are none).
pub(crate) fn join_with_spaces(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, ' ')"),
        Backend::Postgres => format!("string_agg({expr}, ' ')"),
    }
}

/// The most bind parameters one multi-row `INSERT` of a bulk load gets. PostgreSQL takes
/// up to 65,535 and many rows per statement save round trips. SQLite takes up to 32,766,
/// but binding costs it time quadratic in a statement's parameters (it finds the name of
/// each `$n` by a linear scan); docs/BENCHMARKS.md has the loading rates at both sizes.
pub(crate) fn bulk_parameters(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 600,
        Backend::Postgres => 20_000,
    }
}

/// The clause that locks the selected rows until the transaction ends. SQLite needs none:
/// its writers are serialised already.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// Advisory locks that coordinate several servers on one PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lock {
    /// Held while migrating.
    Migrations,
    /// Held by the purge, for one transaction.
    Purge,
}

impl Lock {
    /// A constant key per lock ("ROSTER" in ASCII, and a number).
    fn key(self) -> i64 {
        let base: i64 = 0x524F_5354_4552 << 8;
        match self {
            Lock::Migrations => base + 1,
            Lock::Purge => base + 2,
        }
    }
}

/// Waits for a transaction-level lock. SQLite needs none: its one writer runs one job at a
/// time.
pub(crate) fn lock_transaction(db: &mut crate::sql::SyncDb<'_>, lock: Lock) -> Result<()> {
    if db.backend() == Backend::Postgres {
        db.query_one(
            "SELECT CAST(1 AS BIGINT) AS locked FROM (SELECT pg_advisory_xact_lock($1)) l",
            &[lock.key().into()],
        )?;
    }
    Ok(())
}

/// Takes a transaction-level lock if it is free; `false` when another server holds it.
pub(crate) fn try_lock_transaction(db: &mut crate::sql::SyncDb<'_>, lock: Lock) -> Result<bool> {
    match db.backend() {
        Backend::Sqlite => Ok(true),
        Backend::Postgres => {
            let row = db.query_one(
                "SELECT CAST(pg_try_advisory_xact_lock($1) AS INTEGER) AS locked",
                &[lock.key().into()],
            )?;
            Ok(crate::rows::int(&row, "locked")? == 1)
        }
    }
}

/// A URL with any password replaced, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://roster:s3cret@db:5432/roster"),
            "postgres://roster:***@db:5432/roster"
        );
        assert_eq!(redact_url("postgres://db/roster"), "postgres://db/roster");
        assert_eq!(redact_url("sqlite:///x.db"), "sqlite:///x.db");
    }
}
