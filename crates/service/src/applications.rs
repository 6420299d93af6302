//! Applications: registered by a partner Global admin, each with a client id and a secret
//! shown once (stored as a hash). An application alone gets App-only tokens
//! (`grant_type=client_credentials`); with a user, App+User tokens (the password grant with
//! `client_id`).

use roster_domain::application::Application;
use roster_domain::audit::OperationType;
use roster_domain::authz::Action;
use roster_domain::{text, ApplicationId, Invalid};
use serde_json::json;

use crate::customer_users::new_stamp;
use crate::{Ctx, Result, Roster, ServiceError};

/// The longest display name of an application.
pub const MAX_NAME: usize = 256;

/// An application and its secret, which is shown this once and never again.
#[derive(Debug)]
pub struct WithSecret {
    pub application: Application,
    pub secret: String,
}

fn display_name(name: Option<&str>) -> Result<String, Invalid> {
    text::bounded(name.unwrap_or(""), MAX_NAME, true).map_err(|m| Invalid::one("displayName", m))
}

impl Roster {
    /// Registers an application of the caller's partner: confidential (it must send its
    /// secret with a user's sign-in) unless `public_client` (a script or a desktop tool that
    /// cannot keep a secret signs users in with its client id alone).
    pub async fn register_application(
        &self,
        ctx: &Ctx,
        name: Option<&str>,
        public_client: bool,
    ) -> Result<WithSecret> {
        self.allow(ctx, Action::ManageApplications)?;
        let display_name = display_name(name)?;
        let (secret, secret_hash) = crate::secrets::new_secret();
        let application = Application {
            id: ApplicationId::new_random(),
            partner: ctx.actor.partner,
            display_name,
            secret_hash,
            security_stamp: new_stamp(),
            created_by: Some(ctx.actor.user),
            created_at: self.now(),
            public_client,
        };
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            None,
            OperationType::RegisterApplication,
            application.id,
            json!({"clientId": application.id, "displayName": application.display_name, "publicClient": public_client}),
        );
        let row = application.clone();
        self.store()
            .write_job(move |db| -> Result<()> {
                db.insert_application(&row)?;
                db.insert_audit(&record)?;
                Ok(())
            })
            .await?;
        Ok(WithSecret {
            application,
            secret,
        })
    }

    /// The partner's applications, oldest first (never their secrets).
    pub async fn list_applications(&self, ctx: &Ctx) -> Result<Vec<Application>> {
        self.allow(ctx, Action::ManageApplications)?;
        let partner = ctx.actor.partner;
        self.store()
            .read_job(move |db| Ok(db.applications_of(partner)?))
            .await
    }

    /// A new secret for an application: the old one stops working at once, and so do the
    /// App-only tokens issued with it.
    pub async fn reset_application_secret(&self, ctx: &Ctx, id: &str) -> Result<WithSecret> {
        self.allow(ctx, Action::ManageApplications)?;
        let id: ApplicationId = Self::id_of(id, "the application")?;
        let (secret, secret_hash) = crate::secrets::new_secret();
        let stamp = new_stamp();
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            None,
            OperationType::ResetApplicationSecret,
            id,
            json!({"clientId": id}),
        );
        let partner = ctx.actor.partner;
        let application = self
            .store()
            .write_job(move |db| -> Result<_> {
                if !db.set_application_secret(partner, id, &secret_hash, &stamp)? {
                    return Err(ServiceError::NotFound("the application"));
                }
                let application = db
                    .application(id)?
                    .ok_or(ServiceError::NotFound("the application"))?;
                db.insert_audit(&record)?;
                Ok(application)
            })
            .await?;
        Ok(WithSecret {
            application,
            secret,
        })
    }

    /// Deletes an application: every token issued to it, App-only or App+User, and every
    /// refresh token issued through it, stops working at once.
    pub async fn delete_application(&self, ctx: &Ctx, id: &str) -> Result<()> {
        self.allow(ctx, Action::ManageApplications)?;
        let id: ApplicationId = Self::id_of(id, "the application")?;
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            None,
            OperationType::DeleteApplication,
            id,
            json!({"clientId": id}),
        );
        let partner = ctx.actor.partner;
        self.store()
            .write_job(move |db| -> Result<()> {
                if !db.delete_application(partner, id)? {
                    return Err(ServiceError::NotFound("the application"));
                }
                db.insert_audit(&record)?;
                Ok(())
            })
            .await
    }
}
