//! Refresh tokens (`grant_type=refresh_token`) and the password change of a user whose
//! password is temporary (`POST /v1/passwordchange`).

use roster_domain::audit::OperationType;
use roster_domain::password::{self, Password, PersonalWords};
use roster_domain::{Duration, Invalid, PartnerId, Timestamp, Upn};
use roster_store::credentials::Credentials;
use roster_store::refresh::RefreshToken;
use serde_json::json;

use roster_store::sql::SyncDb;

use crate::customer_users::new_stamp;
use crate::sign_in::{SignInError, TokenGrant};
use crate::{Result, Roster, ServiceError};

/// How long a refresh token may wait to be used.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_days(14);

impl Roster {
    /// A refresh token that begins a new family (one per sign-in).
    pub(crate) async fn start_refresh_family(
        &self,
        creds: &Credentials,
        application: Option<&str>,
        now: Timestamp,
    ) -> Result<String> {
        let (token, hash) = crate::secrets::new_secret();
        let row = RefreshToken {
            hash,
            family: uuid::Uuid::new_v4().to_string(),
            user: creds.user,
            security_stamp: creds.security_stamp.clone(),
            created_at: now,
            expires_at: now.plus(REFRESH_TOKEN_LIFETIME),
            replaced_at: None,
            revoked_at: None,
            application: application.map(str::to_string),
        };
        self.store()
            .write_job(move |db| -> Result<()> { Ok(db.insert_refresh_token(&row)?) })
            .await?;
        Ok(token)
    }

    /// Trades a refresh token for a new access token and a new refresh token. The old one
    /// stops working; using it again revokes its whole family (it was copied).
    pub async fn refresh(&self, token: &str) -> Result<TokenGrant, SignInError> {
        let now = self.now();
        let hash = crate::secrets::hash(token);
        let (next, next_hash) = crate::secrets::new_secret();
        let traded = self
            .store()
            .write_job(move |db| trade_refresh_token(db, &hash, next_hash, now))
            .await?;
        let Some((creds, application)) = traded else {
            return Err(SignInError::InvalidGrant);
        };
        let mut grant = self.issue_access_token(&creds, application.as_deref(), now);
        grant.refresh_token = Some(next);
        Ok(grant)
    }

    /// Sets a new password for the user who knows the current one: the way out of a
    /// temporary password. Every session of the user ends.
    pub async fn change_password(
        &self,
        username: &str,
        current: &Password,
        new: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<(), SignInError> {
        let refused = || {
            SignInError::Service(ServiceError::Invalid(Invalid::one(
            "currentPassword",
            "the user name or the current password is incorrect, or the account is temporarily locked after repeated failures",
        )))
        };
        self.admit_password_attempt(username, current, source)?;
        // Counted against the same lockout as sign-in, before the password is checked.
        let found = self.find_credentials(username).await?;
        let attempt = self
            .count_attempt(username, found.as_ref().map(|c| c.user), current, source)
            .await?;
        let (Some(creds), Some(_)) = (found, attempt.ticket) else {
            self.hasher().verify(current, None).await?;
            return Err(refused());
        };
        let (ok, _) = self
            .hasher()
            .verify(current, creds.password_hash.as_deref())
            .await?;
        if !ok {
            return Err(refused());
        }
        self.password_was_right(&attempt, creds.user, None).await?;
        // The same eligibility as sign-in: a partner user whose account access was removed
        // changes nothing (and learns nothing: the answer is a wrong password's).
        let job_creds = creds.clone();
        let home = self
            .store()
            .read_job(move |db| crate::sign_in::home_of(db, &job_creds))
            .await?;
        if home.is_none() {
            return Err(refused());
        }
        if new == current.expose() {
            return Err(ServiceError::Invalid(Invalid::one(
                "newPassword",
                "must differ from the current password",
            ))
            .into());
        }
        let upn = Upn::parse(username)
            .map_err(|m| ServiceError::Invalid(Invalid::one("userPrincipalName", m)))?;
        let user = creds.user;
        let names = self
            .store()
            .read_job(move |db| -> Result<_> { Ok(db.user_names(user)?) })
            .await?;
        let personal = PersonalWords {
            first_name: names.0.as_deref(),
            last_name: names.1.as_deref(),
            upn_alias: Some(upn.alias()),
        };
        let new = password::check(new, personal)
            .map_err(|m| ServiceError::Invalid(Invalid::one("newPassword", m)))?;
        let hash = self.hasher().hash(&new).await?;
        let roster = self.clone();
        let upn_text = upn.to_string();
        self.store()
            .write_job(move |db| -> Result<()> {
                db.set_password(creds.user, &hash, &new_stamp())?;
                db.set_force_change_password(creds.user, false)?;
                let partner = match creds.tenant.parse::<PartnerId>() {
                    Ok(p) if db.partner_country(p)?.is_some() => Some(p),
                    _ => match creds.tenant.parse() {
                        Ok(c) => db.partner_of_customer(c)?,
                        Err(_) => None,
                    },
                };
                if let Some(partner) = partner {
                    let record = roster.audit(
                        None,
                        partner,
                        None,
                        OperationType::ChangePassword,
                        creds.user.to_string(),
                        json!({"userPrincipalName": upn_text}),
                    );
                    db.insert_audit(&record)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }
}

/// The refresh grant's transaction: the stored token, and when it may be traded, the
/// credentials it stands for and its application, after marking it replaced by
/// `next_hash`. `None` refuses it; a token used twice revokes its whole family, which the
/// transaction keeps.
fn trade_refresh_token(
    db: &mut SyncDb<'_>,
    hash: &str,
    next_hash: String,
    now: Timestamp,
) -> Result<Option<(Credentials, Option<String>)>> {
    let Some(stored) = db.lock_refresh_token(hash)? else {
        return Ok(None);
    };
    if stored.revoked_at.is_some() {
        return Ok(None);
    }
    if stored.replaced_at.is_some() {
        db.revoke_refresh_family(&stored.family, now)?;
        tracing::warn!(user = %stored.user, "a used refresh token came back: its family is revoked");
        return Ok(None);
    }
    if stored.expires_at <= now {
        return Ok(None);
    }
    let creds = db.credentials_by_id(stored.user)?;
    let usable = match &creds {
        Some(c) => {
            c.active
                && c.security_stamp == stored.security_stamp
                && !c.force_change_password
                && crate::sign_in::home_of(db, c)?.is_some()
                && match &stored.application {
                    Some(app) => match app.parse() {
                        Ok(app) => db.application(app)?.is_some(),
                        Err(_) => false,
                    },
                    None => true,
                }
        }
        None => false,
    };
    let Some(creds) = creds.filter(|_| usable) else {
        db.revoke_refresh_family(&stored.family, now)?;
        return Ok(None);
    };
    db.mark_refresh_token_replaced(&stored.hash, now)?;
    db.insert_refresh_token(&RefreshToken {
        hash: next_hash,
        family: stored.family.clone(),
        user: stored.user,
        security_stamp: stored.security_stamp.clone(),
        created_at: now,
        expires_at: now.plus(REFRESH_TOKEN_LIFETIME),
        replaced_at: None,
        revoked_at: None,
        application: stored.application.clone(),
    })?;
    Ok(Some((creds, stored.application)))
}
