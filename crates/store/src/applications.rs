//! Applications registered by a partner: their secrets are stored only as hashes.

use roster_domain::application::Application;
use roster_domain::ApplicationId;
use roster_domain::PartnerId;

use crate::rows;
use crate::{Db, Result};

const COLUMNS: &str =
    "id, partner_id, display_name, secret_hash, security_stamp, created_by, created_at, public_client";

fn application(r: &sqlx::any::AnyRow) -> Result<Application> {
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

impl Db<'_> {
    pub async fn insert_application(&mut self, a: &Application) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO applications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(a.id.to_string())
        .bind(a.partner.to_string())
        .bind(&a.display_name)
        .bind(&a.secret_hash)
        .bind(&a.security_stamp)
        .bind(a.created_by.map(|u| u.to_string()))
        .bind(a.created_at.unix_millis())
        .bind(i64::from(a.public_client))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    /// The application with this client id, of any partner.
    pub async fn application(&mut self, id: ApplicationId) -> Result<Option<Application>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM applications WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(application).transpose()
    }

    /// A partner's applications, oldest first.
    pub async fn applications_of(&mut self, partner: PartnerId) -> Result<Vec<Application>> {
        let found = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM applications WHERE partner_id = $1 ORDER BY created_at, id"
        ))
        .bind(partner.to_string())
        .fetch_all(&mut *self.conn)
        .await?;
        found.iter().map(application).collect()
    }

    /// Replaces an application's secret and stamp; false when it does not exist.
    pub async fn set_application_secret(
        &mut self,
        partner: PartnerId,
        id: ApplicationId,
        secret_hash: &str,
        security_stamp: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE applications SET secret_hash = $1, security_stamp = $2 WHERE partner_id = $3 AND id = $4",
        )
        .bind(secret_hash)
        .bind(security_stamp)
        .bind(partner.to_string())
        .bind(id.to_string())
        .execute(&mut *self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes an application and the refresh tokens issued through it; false when it does
    /// not exist.
    pub async fn delete_application(
        &mut self,
        partner: PartnerId,
        id: ApplicationId,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM refresh_tokens WHERE application_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.conn)
            .await?;
        let done = sqlx::query("DELETE FROM applications WHERE partner_id = $1 AND id = $2")
            .bind(partner.to_string())
            .bind(id.to_string())
            .execute(&mut *self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
