//! The first start: one partner tenant and its first account user.

use rand::rngs::OsRng;
use roster_domain::audit::OperationType;
use roster_domain::authz::PartnerRole;
use roster_domain::country::CountryCode;
use roster_domain::password::{Password, PasswordChoice, PersonalWords};
use roster_domain::{DomainName, Invalid, PartnerId, Upn, UserId};
use roster_store::customers::NewPartner;
use roster_store::partner_users::NewPartnerUser;
use serde_json::json;

use crate::customer_users::new_stamp;
use crate::{Result, Roster};

pub const ADMIN_ALIAS: &str = "admin";

#[derive(Debug)]
pub enum Bootstrapped {
    /// This start created the partner and its admin. `generated_password` is set when no
    /// password was given: it must be shown to the operator this once.
    Created {
        partner: PartnerId,
        admin_upn: String,
        generated_password: Option<Password>,
    },
    /// The database was set up by an earlier start; nothing was changed.
    AlreadyDone,
}

impl Roster {
    /// Creates the partner tenant on `domain` and `admin@domain` with Global admin and Admin
    /// agent, unless an earlier start did. Never changes an existing admin.
    pub async fn bootstrap(
        &self,
        domain: &str,
        admin_password: Option<&str>,
    ) -> Result<Bootstrapped> {
        let mut bad = Invalid::default();
        let domain = bad.check("ROSTER_PARTNER_DOMAIN", DomainName::parse(domain));
        let Some(domain) = domain else {
            return Err(bad.into());
        };
        let upn = Upn::parse(&format!("{ADMIN_ALIAS}@{domain}"))
            .map_err(|m| Invalid::one("ROSTER_PARTNER_DOMAIN", m))?;
        let personal = PersonalWords {
            upn_alias: Some(ADMIN_ALIAS),
            ..Default::default()
        };
        let done = self
            .store()
            .read_job(|db| -> Result<_> { Ok(db.first_partner()?.is_some()) })
            .await?;
        if done {
            return Ok(Bootstrapped::AlreadyDone);
        }
        let choice = PasswordChoice::of(admin_password, personal)
            .map_err(|m| Invalid::one("ROSTER_BOOTSTRAP_ADMIN_PASSWORD", m))?;
        let generated = choice.is_generated();
        let password = choice.into_password(personal, &mut OsRng);
        let hash = self.hasher().hash(&password).await?;
        let now = self.now();
        let partner = PartnerId::new_random();
        let admin = NewPartnerUser {
            id: UserId::new_random(),
            partner,
            upn: upn.clone(),
            display_name: "Administrator".into(),
            password_hash: hash,
            security_stamp: new_stamp(),
            roles: vec![PartnerRole::GlobalAdmin, PartnerRole::AdminAgent],
        };
        let new_partner = NewPartner {
            id: partner,
            company_name: domain.to_string(),
            domain: domain.clone(),
            country: CountryCode::parse("US").map_err(|m| Invalid::one("country", m))?,
        };
        let partner_record = self.audit(
            None,
            partner,
            None,
            OperationType::CreatePartner,
            partner.to_string(),
            json!({"domain": domain.as_str()}),
        );
        let admin_record = self.audit(
            None,
            partner,
            None,
            OperationType::CreatePartnerUser,
            admin.id.to_string(),
            json!({"userPrincipalName": upn.as_str(), "roles": ["global_admin", "admin_agent"]}),
        );
        let claimed = self
            .store()
            .write_job(move |db| -> Result<bool> {
                // Of two servers starting at once on one database, one claims the bootstrap.
                if !db.set_setting_once("bootstrapped_partner", &partner.to_string())? {
                    return Ok(false);
                }
                db.insert_partner(&new_partner, now)?;
                db.insert_partner_user(&admin, now)?;
                db.insert_audit(&partner_record)?;
                db.insert_audit(&admin_record)?;
                Ok(true)
            })
            .await?;
        if !claimed {
            return Ok(Bootstrapped::AlreadyDone);
        }
        Ok(Bootstrapped::Created {
            partner,
            admin_upn: upn.to_string(),
            generated_password: generated.then_some(password),
        })
    }
}
