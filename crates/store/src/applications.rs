//! Applications registered by a partner: their secrets are stored only as hashes.

use roster_domain::application::Application;
use roster_domain::ApplicationId;
use roster_domain::PartnerId;

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

const COLUMNS: &str =
    "id, partner_id, display_name, secret_hash, security_stamp, created_by, created_at, public_client";

fn application(r: &crate::sql::Row) -> Result<Application> {
    Ok(Application {
        id: rows::application_id(r, "id")?,
        partner: rows::partner_id(r, "partner_id")?,
        display_name: rows::text(r, "display_name")?,
        secret_hash: rows::text(r, "secret_hash")?,
        security_stamp: rows::text(r, "security_stamp")?,
        created_by: rows::opt_user_id(r, "created_by")?,
        created_at: rows::time(r, "created_at")?,
        public_client: rows::int(r, "public_client")? != 0,
    })
}

impl SyncDb<'_> {
    pub fn insert_application(&mut self, a: &Application) -> Result<()> {
        self.sql.execute(
            &format!(
                "INSERT INTO applications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            &[
                Param::from(a.id.to_string()),
                Param::from(a.partner.to_string()),
                Param::from(&a.display_name),
                Param::from(&a.secret_hash),
                Param::from(&a.security_stamp),
                Param::from(a.created_by.map(|u| u.to_string())),
                Param::from(a.created_at.unix_millis()),
                Param::from(i64::from(a.public_client)),
            ],
        )?;
        Ok(())
    }

    /// The application with this client id, of any partner.
    pub fn application(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        let row = self.query_opt(
            &format!("SELECT {COLUMNS} FROM applications WHERE id = $1"),
            &[Param::from(id.to_string())],
        )?;
        row.as_ref().map(application).transpose()
    }

    /// A partner's applications, oldest first.
    pub fn applications_of(&mut self, partner: PartnerId) -> Result<Vec<Application>> {
        let found = self.sql.query(
            &format!(
                "SELECT {COLUMNS} FROM applications WHERE partner_id = $1 ORDER BY created_at, id"
            ),
            &[Param::from(partner.to_string())],
        )?;
        found.iter().map(application).collect()
    }

    /// Replaces an application's secret and stamp; false when it does not exist.
    pub fn set_application_secret(
        &mut self,
        partner: PartnerId,
        id: ApplicationId,
        secret_hash: &str,
        security_stamp: &str,
    ) -> Result<bool> {
        let done = self.sql.execute("UPDATE applications SET secret_hash = $1, security_stamp = $2 WHERE partner_id = $3 AND id = $4", &[Param::from(secret_hash), Param::from(security_stamp), Param::from(partner.to_string()), Param::from(id.to_string())])?;
        Ok(done == 1)
    }

    /// Deletes an application and the refresh tokens issued through it; false when it does
    /// not exist.
    pub fn delete_application(&mut self, partner: PartnerId, id: ApplicationId) -> Result<bool> {
        self.sql.execute(
            "DELETE FROM refresh_tokens WHERE application_id = $1",
            &[Param::from(id.to_string())],
        )?;
        let done = self.sql.execute(
            "DELETE FROM applications WHERE partner_id = $1 AND id = $2",
            &[
                Param::from(partner.to_string()),
                Param::from(id.to_string()),
            ],
        )?;
        Ok(done == 1)
    }
}
