//! Server-wide settings kept in the database (key fingerprints, the first partner).

use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

impl SyncDb<'_> {
    pub fn setting(&mut self, key: &str) -> Result<Option<String>> {
        let row = self.query_opt(
            "SELECT value FROM settings WHERE key = $1",
            &[Param::from(key)],
        )?;
        Ok(match row {
            Some(r) => Some(crate::rows::text(&r, "value")?),
            None => None,
        })
    }

    /// Sets `key` only if it has no value yet; returns whether it was set.
    pub fn set_setting_once(&mut self, key: &str, value: &str) -> Result<bool> {
        let done = self.sql.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[Param::from(key), Param::from(value)],
        )?;
        Ok(done == 1)
    }
}
