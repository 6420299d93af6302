//! Opening a data directory, the one way in to the store for the binary: the server's start
//! (the database, the signing key, the first-start bootstrap) and the administrator's
//! commands (migrate, back up, list and rotate the signing keys).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use roster_domain::Timestamp;
use roster_store::Store;

use crate::bootstrap::Bootstrapped;
use crate::{keys, Clock, KeyRing, Roster, Settings, SigningKey};

/// The newest schema version this binary knows.
pub use roster_store::SCHEMA_VERSION;

/// What a server needs to open its data.
#[derive(Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    /// Default: SQLite in the data directory.
    pub database_url: Option<String>,
    pub partner_domain: String,
    pub bootstrap_password: Option<String>,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("partner_domain", &self.partner_domain)
            .field(
                "bootstrap_password",
                &self.bootstrap_password.as_ref().map(|_| "<redacted>"),
            )
            .field("settings", &self.settings)
            .finish()
    }
}

pub struct Opened {
    pub roster: Roster,
    pub bootstrapped: Bootstrapped,
}

pub const DATABASE_FILE: &str = "roster.db";
/// Where the first schema kept the signing key; now only read, to import it.
pub const KEY_FILE: &str = "signing.key";

/// The database URL: the one given, or SQLite in the data directory.
pub fn database_url(data_dir: &Path, given: Option<&str>) -> String {
    match given {
        Some(url) => url.to_string(),
        None => {
            let dir = data_dir
                .canonicalize()
                .unwrap_or_else(|_| data_dir.to_path_buf());
            roster_store::sqlite_url(&dir.join(DATABASE_FILE))
        }
    }
}

/// Creates what is missing and refuses what does not fit together.
pub async fn open(options: Options) -> anyhow::Result<Opened> {
    create_data_dir(&options.data_dir)?;
    if options.database_url.is_none() {
        create_private_database(&options.data_dir.join(DATABASE_FILE))?;
    }
    let url = database_url(&options.data_dir, options.database_url.as_deref());
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    let keys = signing_keys(&options.data_dir, &store, options.clock.as_ref()).await?;
    let mut settings = options.settings;
    if settings.outbox_dir.is_none() {
        // Mail is written as .eml files into the data directory's outbox.
        settings.outbox_dir = Some(options.data_dir.join("outbox"));
    }
    let roster = Roster::new(store, options.clock, keys, settings)?;
    let bootstrapped = roster
        .bootstrap(
            &options.partner_domain,
            options.bootstrap_password.as_deref(),
        )
        .await
        .context("cannot create the partner and its administrator")?;
    Ok(Opened {
        roster,
        bootstrapped,
    })
}

/// Creates the data directory, readable by its owner only: it holds the signing secrets,
/// password hashes and invitation links. An existing one keeps its mode, with a warning when
/// others may read it.
pub fn create_data_dir(dir: &Path) -> anyhow::Result<()> {
    crate::files::create_private_dir(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    warn_if_open(dir);
    Ok(())
}

/// Creates the SQLite database file empty and readable by its owner only when it does not
/// exist yet (SQLite gives its write-ahead log and shared-memory files the same mode).
fn create_private_database(path: &Path) -> anyhow::Result<()> {
    match crate::files::write_private_file(path, b"") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_open(path);
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

fn warn_if_open(path: &Path) {
    if let Some(mode) = crate::files::open_to_others(path) {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "others than its owner may read {}: it holds Roster's signing secrets and password hashes; chmod it to 700 (a directory) or 600 (a file)",
            path.display()
        );
    }
}

/// The signing keys, which live in the database so that every server on it shares them.
/// The first start makes one. A `signing.key` file in the data directory (where Roster's
/// first schema kept the key) is imported into a database that has no key yet, and refused
/// when it is not one of the database's keys: that data directory belongs to another
/// database. A database that holds data but no key at all is refused too: tokens signed
/// before would silently stop working.
async fn signing_keys(dir: &Path, store: &Store, clock: &dyn Clock) -> anyhow::Result<KeyRing> {
    let path = dir.join(KEY_FILE);
    let file = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = SigningKey::from_hex(&text).with_context(|| {
                format!(
                    "{} is damaged: it must hold 64 hexadecimal digits",
                    path.display()
                )
            })?;
            Some((key, text.trim().to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    match (keys::load(store).await?, file) {
        (Some(ring), Some((key, _))) if ring.get(key.id()).is_none() => bail!(
            "{} holds signing key {}, but the database's keys are {}. This data directory belongs to another \
             database: point --database-url at its database, or start with an empty --data-dir",
            path.display(),
            key.id(),
            ring.ids().join(", ")
        ),
        (Some(ring), _) => Ok(ring),
        (None, Some((_, secret))) => {
            keys::add(store, &secret, clock.now()).await?;
            tracing::info!(file = %path.display(), "imported the signing key into the database");
            keys::load(store).await?.context("the signing key was not stored")
        }
        (None, None) => {
            let has_data = store
                .read_job(|db| -> roster_store::Result<_> { Ok(db.first_partner()?.is_some()) })
                .await?;
            if has_data {
                bail!(
                    "the database holds data but no signing key. Restore the database (or its signing_keys table) \
                     from a backup; or, to sign everyone out and go on, run `roster keys rotate --revoke-old` \
                     with the same --database-url"
                );
            }
            let (_, secret) = SigningKey::generate();
            keys::add(store, &secret, clock.now()).await?;
            keys::load(store).await?.context("the signing key was not stored")
        }
    }
}

/// A database URL with its password replaced, for messages.
pub use roster_store::redact_url;

/// Brings the database of a data directory (or at the URL `given`) to the newest schema,
/// creating a SQLite database that is not there yet; answers the URL (redacted) and the
/// schema version it is at now.
pub async fn migrate(data_dir: &Path, given: Option<&str>) -> anyhow::Result<(String, i64)> {
    if given.is_none() {
        create_data_dir(data_dir)?;
        create_private_database(&data_dir.join(DATABASE_FILE))?;
    }
    let url = database_url(data_dir, given);
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot migrate the database {}", redact_url(&url)))?;
    let version = store.schema_version().await?;
    store.close().await;
    Ok((redact_url(&url), version))
}

/// An existing database, opened (and migrated) for an administrator's command.
pub struct Database(Store);

/// A signing key as `roster keys list` shows it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: String,
    pub created_at: Timestamp,
}

impl Database {
    /// Opens the database of a data directory (or at the URL `given`); refuses to make a new
    /// SQLite file.
    pub async fn open(data_dir: &Path, given: Option<&str>) -> anyhow::Result<Self> {
        if given.is_none() {
            let file = data_dir.join(DATABASE_FILE);
            anyhow::ensure!(
                file.exists(),
                "there is no database at {}: give --data-dir or --database-url",
                file.display()
            );
        }
        let url = database_url(data_dir, given);
        let store = Store::open(&url)
            .await
            .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
        Ok(Self(store))
    }

    /// Writes a consistent copy of a SQLite database to `to` (which must not exist), readable
    /// by its owner only, while the database stays in use.
    pub async fn backup_to(&self, to: &Path) -> anyhow::Result<()> {
        anyhow::ensure!(
            !to.exists(),
            "{} exists already: choose a new file",
            to.display()
        );
        // A backup holds the signing secrets and password hashes. SQLite writes a backup into
        // an empty file as well as into a new one.
        crate::files::write_private_file(to, b"")
            .with_context(|| format!("cannot create {}", to.display()))?;
        if let Err(e) = self.0.backup_to(to).await {
            let _ = std::fs::remove_file(to);
            return Err(e).with_context(|| format!("cannot back up to {}", to.display()));
        }
        Ok(())
    }

    /// The signing keys, the one that signs first.
    pub async fn signing_keys(&self) -> anyhow::Result<Vec<KeyInfo>> {
        let stored = self
            .0
            .read_job(|db| -> roster_store::Result<_> { db.signing_keys() })
            .await?;
        Ok(stored
            .into_iter()
            .map(|k| KeyInfo {
                id: k.id,
                created_at: k.created_at,
            })
            .collect())
    }

    /// A new signing key (see [`keys::rotate`]).
    pub async fn rotate_keys(
        &self,
        clock: &dyn Clock,
        revoke_old: bool,
    ) -> anyhow::Result<keys::Rotated> {
        Ok(keys::rotate(&self.0, clock, revoke_old).await?)
    }

    pub async fn close(self) {
        self.0.close().await;
    }
}
