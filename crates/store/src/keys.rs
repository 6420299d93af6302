//! The token-signing keys, shared by every server on the database.

use roster_domain::Timestamp;

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// A signing secret. `Debug` shows only its public id.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key's public id (it names the key in tokens; it reveals nothing of the secret).
    pub id: String,
    /// The secret, as hexadecimal digits.
    pub secret: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl SyncDb<'_> {
    /// Every key, newest first: the first one signs, all of them verify.
    pub fn signing_keys(&mut self) -> Result<Vec<StoredKey>> {
        let rows = self.sql.query(
            "SELECT id, secret, created_at FROM signing_keys ORDER BY created_at DESC, id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    id: rows::text(r, "id")?,
                    secret: rows::text(r, "secret")?,
                    created_at: rows::time(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Adds a key (a no-op if a key with its id exists).
    pub fn insert_signing_key(&mut self, key: &StoredKey) -> Result<()> {
        self.sql.execute("INSERT INTO signing_keys (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", &[Param::from(&key.id), Param::from(&key.secret), Param::from(key.created_at.unix_millis())])?;
        Ok(())
    }

    /// Removes every key but `keep`. Returns how many went.
    pub fn delete_signing_keys_except(&mut self, keep: &str) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM signing_keys WHERE id <> $1",
            &[Param::from(keep)],
        )?;
        Ok(done)
    }

    /// Removes keys that a newer key replaced before `before`. Returns how many went.
    pub fn delete_signing_keys_replaced_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM signing_keys WHERE created_at < \
             (SELECT MAX(created_at) FROM signing_keys WHERE created_at < $1)",
            &[Param::from(before.unix_millis())],
        )?;
        Ok(done)
    }
}
