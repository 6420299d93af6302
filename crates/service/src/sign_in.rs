//! Sign-in (the token endpoint's password grant) and turning a bearer token into an Actor.

use roster_domain::authz::Actor;
use roster_domain::password::Password;
use roster_domain::{PartnerId, Upn, UserId};
use roster_store::users::Credentials;

use crate::tokens::AccessClaims;
use crate::{Result, Roster, ServiceError};

/// An access token and its lifetime in seconds.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    /// A refresh token (shown once; rotated on use), when the grant issues one.
    pub refresh_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong user name or password, unknown account, no account access, or locked out: one
    /// answer for all, so that sign-in never reveals whether an account exists.
    #[error("The user name or password is incorrect, or the account is temporarily locked after repeated failures.")]
    InvalidGrant,
    /// The password is temporary: set a new one before signing in.
    #[error("The password must be changed before signing in.")]
    PasswordChangeRequired,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<roster_store::StoreError> for SignInError {
    fn from(e: roster_store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

const ISSUER: &str = "roster";

impl Roster {
    pub async fn sign_in_with_password(
        &self,
        username: &str,
        password: &Password,
    ) -> Result<TokenGrant, SignInError> {
        let found = self.find_for_sign_in(username).await?;
        let Some(creds) = found else {
            // Spend the same effort as for a real account.
            self.hasher().verify(password, None).await?;
            return Err(SignInError::InvalidGrant);
        };
        let now = self.now();
        let mut throttle = {
            let mut r = self.store().reader().await?;
            r.db().throttle(creds.user).await?
        };
        if throttle.is_locked(now) {
            self.hasher().verify(password, None).await?;
            return Err(SignInError::InvalidGrant);
        }
        let (ok, rehash) = self
            .hasher()
            .verify(password, creds.password_hash.as_deref())
            .await?;
        if !ok {
            let fingerprint = self
                .keys()
                .current()
                .wrong_password_fingerprint(&creds.user.to_string(), password.expose());
            let mut tx = self.store().write().await?;
            // Re-read inside the transaction so that concurrent failures all count.
            let mut current = tx.db().lock_throttle(creds.user).await?;
            current.record_failure(now, fingerprint);
            tx.db().save_throttle(creds.user, &current).await?;
            tx.commit().await?;
            return Err(SignInError::InvalidGrant);
        }
        let access = {
            let mut r = self.store().reader().await?;
            r.db().account_access(creds.user).await?
        };
        if access.is_none() {
            // A directory user without access to the Roster account.
            return Err(SignInError::InvalidGrant);
        }
        if creds.force_change_password {
            return Err(SignInError::PasswordChangeRequired);
        }
        if throttle != Default::default() || rehash {
            let new_hash = match (rehash, creds.password_hash.as_deref()) {
                (true, Some(old)) => Some((old.to_string(), self.hasher().hash(password).await?)),
                _ => None,
            };
            let mut tx = self.store().write().await?;
            throttle.record_success();
            tx.db().save_throttle(creds.user, &throttle).await?;
            if let Some((old, new)) = new_hash {
                tx.db()
                    .upgrade_password_hash(creds.user, &old, &new)
                    .await?;
            }
            tx.commit().await?;
        }
        let mut grant = self.issue_access_token(&creds, now);
        grant.refresh_token = Some(self.start_refresh_family(&creds, now).await?);
        Ok(grant)
    }

    /// The active directory user (partner or customer) that signs in with `username`.
    pub(crate) async fn find_credentials(&self, username: &str) -> Result<Option<Credentials>> {
        self.find_for_sign_in(username).await
    }

    async fn find_for_sign_in(&self, username: &str) -> Result<Option<Credentials>> {
        let Ok(upn) = Upn::parse(username) else {
            return Ok(None);
        };
        let mut r = self.store().reader().await?;
        if let Some(tenant) = r.db().tenant_of_domain(&upn.domain()).await? {
            if let Some(found) = r.db().credentials_by_upn(&tenant, &upn.key()).await? {
                return Ok(Some(found));
            }
        }
        // A guest (an invited outside user) signs in with the address it was invited with;
        // when two partners invited the same address, only the guest's #EXT# UPN says which.
        let mut guests = r.db().credentials_by_guest_email(username).await?;
        Ok(if guests.len() == 1 {
            guests.pop()
        } else {
            None
        })
    }

    pub(crate) fn issue_access_token(
        &self,
        creds: &Credentials,
        now: roster_domain::Timestamp,
    ) -> TokenGrant {
        let lifetime = self.settings().access_token_lifetime;
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: creds.user.to_string(),
            tid: creds.tenant.clone(),
            iat: now.unix_seconds(),
            exp: now.plus(lifetime).unix_seconds(),
            sst: creds.security_stamp.clone(),
        };
        TokenGrant {
            access_token: self.keys().current().sign_jwt(&claims),
            expires_in: lifetime.millis() / 1000,
            refresh_token: None,
        }
    }

    /// The caller behind a bearer token: a valid signature, not expired, and the user still
    /// active, with account access and the same security stamp as when the token was issued.
    pub async fn authenticate(&self, bearer: &str) -> Result<Actor> {
        let unauthorized = || {
            ServiceError::Unauthorized("the access token is missing, malformed, expired or revoked")
        };
        let key = self.key_for(bearer).await.ok_or_else(unauthorized)?;
        let claims: AccessClaims = key.verify_jwt(bearer).ok_or_else(unauthorized)?;
        if claims.iss != ISSUER || claims.exp <= self.now().unix_seconds() {
            return Err(unauthorized());
        }
        let user: UserId = claims.sub.parse().map_err(|_| unauthorized())?;
        let partner: PartnerId = claims.tid.parse().map_err(|_| unauthorized())?;
        let mut r = self.store().reader().await?;
        let creds = r
            .db()
            .credentials_by_id(user)
            .await?
            .ok_or_else(unauthorized)?;
        if !creds.active || creds.security_stamp != claims.sst || creds.tenant != claims.tid {
            return Err(unauthorized());
        }
        let access = r
            .db()
            .account_access(user)
            .await?
            .ok_or_else(unauthorized)?;
        let mut roles = access.roles;
        roles.extend(r.db().group_roles_of(user).await?);
        roles.sort();
        roles.dedup();
        Ok(Actor {
            partner,
            user,
            roles,
            custom: access.custom,
        })
    }
}
