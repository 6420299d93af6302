//! Opening a data directory: the database, the signing key, and the first-start bootstrap.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use rand::RngCore;
use roster_service::bootstrap::Bootstrapped;
use roster_service::{Clock, Roster, Settings, SigningKey};
use roster_store::Store;

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
                &self.database_url.as_deref().map(roster_store::redact_url),
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
pub const KEY_FILE: &str = "signing.key";
const KEY_SETTING: &str = "signing_key_id";

/// Creates what is missing and refuses what does not fit together.
pub async fn open(options: Options) -> anyhow::Result<Opened> {
    std::fs::create_dir_all(&options.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            options.data_dir.display()
        )
    })?;
    let url = match &options.database_url {
        Some(url) => url.clone(),
        None => {
            let dir = options
                .data_dir
                .canonicalize()
                .unwrap_or_else(|_| options.data_dir.clone());
            roster_store::sqlite_url(&dir.join(DATABASE_FILE))
        }
    };
    let store = Store::open(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            roster_store::redact_url(&url)
        )
    })?;
    let key = signing_key(&options.data_dir, &store).await?;
    let roster = Roster::new(store, options.clock, key, options.settings)?;
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

/// Loads the signing key from the data directory, making one on the first start. A database
/// that was set up with another key (or whose key file is gone) is refused: tokens and
/// continuation tokens signed before would silently stop working, and worse, a wrong key
/// hints at a data directory paired with the wrong database.
async fn signing_key(dir: &Path, store: &Store) -> anyhow::Result<SigningKey> {
    let path = dir.join(KEY_FILE);
    let recorded = {
        let mut r = store.reader().await?;
        r.db().setting(KEY_SETTING).await?
    };
    let secret = match std::fs::read_to_string(&path) {
        Ok(text) => decode_hex(text.trim())
            .filter(|b| b.len() == SigningKey::SECRET_LEN)
            .with_context(|| {
                format!(
                    "{} is damaged: it must hold 64 hexadecimal digits",
                    path.display()
                )
            })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(id) = &recorded {
                bail!(
                    "the database was set up with signing key {id}, but {} does not exist. Restore signing.key \
                     from a backup of this data directory, or start with the --data-dir and --database-url that belong together",
                    path.display()
                );
            }
            let mut secret = vec![0u8; SigningKey::SECRET_LEN];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            write_secret(&path, &crate::hex(&secret))?;
            secret
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let key = SigningKey::from_secret(&secret);
    match recorded {
        Some(id) if id != key.id() => bail!(
            "{} holds signing key {}, but the database was set up with signing key {id}. Put back the signing.key \
             that belongs to this database, or point --database-url at the database of this data directory",
            path.display(),
            key.id()
        ),
        Some(_) => {}
        None => {
            let mut tx = store.write().await?;
            let fresh = tx.db().set_setting_once(KEY_SETTING, key.id()).await?;
            tx.commit().await?;
            if !fresh {
                let mut r = store.reader().await?;
                let now = r.db().setting(KEY_SETTING).await?;
                if now.as_deref() != Some(key.id()) {
                    bail!("another server set up this database with a different signing key at the same time");
                }
            }
        }
    }
    Ok(key)
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A database URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    roster_store::redact_url(url)
}
