//! Sign-in (the token endpoint's password grant) and turning a bearer token into an Actor.

use std::net::IpAddr;

use roster_domain::authz::{Actor, Principal};
use roster_domain::lockout::{self, Reservation, Ticket};
use roster_domain::password::Password;
use roster_domain::{CustomerId, PartnerId, Upn, UserId};
use roster_store::credentials::Credentials;
use roster_store::sql::SyncDb;

use crate::passwords::Lane;
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
    /// An unknown application, a wrong client secret, or an application of another partner.
    #[error("The client id or client secret is incorrect.")]
    InvalidClient,
    /// A user name or password longer than any account can have: refused before any lookup
    /// or hashing.
    #[error("The user name is longer than 113 characters or the password longer than 256: no account has such a name or password.")]
    TooLong,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<roster_store::StoreError> for SignInError {
    fn from(e: roster_store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

/// The `idtyp` claim of an App-only token.
const APP_TOKEN: &str = "app";

/// An application that asks for a token together with a user (App+User).
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub id: &'a str,
    /// A public client sends none; when sent, it must be right.
    pub secret: Option<&'a str>,
}

/// Where a directory user belongs when it signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Home {
    /// A user of the partner's tenant with access to the partner's Roster account.
    Partner {
        partner: PartnerId,
        access: roster_domain::partner_user::Access,
    },
    /// A user of a customer tenant: it acts there by its directory roles.
    Customer {
        customer: CustomerId,
        partner: PartnerId,
    },
}

impl Home {
    pub(crate) fn partner(&self) -> PartnerId {
        match self {
            Self::Partner { partner, .. } | Self::Customer { partner, .. } => *partner,
        }
    }
}

/// Where `creds` may sign in: `None` for a partner-tenant user without account access.
pub(crate) fn home_of(db: &mut SyncDb<'_>, creds: &Credentials) -> Result<Option<Home>> {
    let access = db.account_access(creds.user)?;
    home_with(db, creds, access)
}

/// [`home_of`] when the user's account access has been read already.
fn home_with(
    db: &mut SyncDb<'_>,
    creds: &Credentials,
    access: Option<roster_domain::partner_user::Access>,
) -> Result<Option<Home>> {
    if let Some(access) = access {
        return Ok(creds
            .tenant
            .parse()
            .ok()
            .map(|partner| Home::Partner { partner, access }));
    }
    let Ok(customer) = creds.tenant.parse::<CustomerId>() else {
        return Ok(None);
    };
    Ok(db
        .partner_of_customer(customer)?
        .map(|partner| Home::Customer { customer, partner }))
}

/// How many of the networks a user signed in from are remembered as familiar.
const FAMILIAR_NETWORKS: u32 = 10;

/// An attempt at a user's password, counted before the password is checked (see
/// `roster_domain::lockout`).
pub(crate) struct Attempt {
    /// The lockout's subject: the user's id, or a keyed name of a user name with no account.
    subject: String,
    /// The lockout's source: a familiar network of the user, or every other source.
    source: String,
    /// The network the attempt came from, when known.
    network: Option<String>,
    fingerprint: String,
    /// `None`: locked, refuse without checking.
    pub(crate) ticket: Option<Ticket>,
}

impl Attempt {
    /// Whether the attempt comes from a network the account signed in from before: its
    /// password check may use the hashing queue's reserve.
    pub(crate) fn lane(&self) -> Lane {
        if self.source == lockout::OTHER_SOURCES {
            Lane::Shared
        } else {
            Lane::Familiar
        }
    }
}

impl Roster {
    /// Counts an attempt at `password` for `user` (the account `username` names; `None` when
    /// there is none) from `source`, atomically with reading the lock: one write transaction,
    /// the same for known and unknown accounts.
    pub(crate) async fn count_attempt(
        &self,
        username: &str,
        user: Option<UserId>,
        password: &Password,
        source: Option<IpAddr>,
    ) -> Result<Attempt> {
        let keys = self.keys();
        let key = keys.current();
        let subject = match user {
            Some(u) => u.to_string(),
            None => key.unknown_account_subject(username),
        };
        let fingerprint = key.wrong_password_fingerprint(&subject, password.expose());
        let network = source.map(lockout::network_of);
        let now = self.now();
        let (job_subject, job_network, job_fingerprint) =
            (subject.clone(), network.clone(), fingerprint.clone());
        let (bucket, ticket) = self
            .store()
            .write_job(move |db| -> Result<_> {
                let familiar = match &job_network {
                    Some(n) => db.is_familiar_network(&job_subject, n)?,
                    None => false,
                };
                let bucket = match (&job_network, familiar) {
                    (Some(n), true) => n.clone(),
                    _ => lockout::OTHER_SOURCES.to_string(),
                };
                let mut throttle = db.lock_throttle(&job_subject, &bucket)?;
                // Locked: nothing changes (the row exists already, with its lock).
                let ticket = match throttle.reserve(now, job_fingerprint) {
                    Reservation::Locked => None,
                    Reservation::Check(ticket) => {
                        db.save_throttle(&job_subject, &bucket, &throttle, now)?;
                        Some(ticket)
                    }
                };
                Ok((bucket, ticket))
            })
            .await?;
        Ok(Attempt {
            subject,
            source: bucket,
            network,
            fingerprint,
            ticket,
        })
    }

    /// The attempt's password was right: it takes its count back (and the failures before
    /// it), its network becomes familiar, and a hash of old parameters is replaced.
    pub(crate) async fn password_was_right(
        &self,
        attempt: &Attempt,
        user: UserId,
        new_hash: Option<(String, String)>,
    ) -> Result<()> {
        let Some(ticket) = attempt.ticket else {
            return Ok(());
        };
        let now = self.now();
        let (subject, source, fingerprint, network) = (
            attempt.subject.clone(),
            attempt.source.clone(),
            attempt.fingerprint.clone(),
            attempt.network.clone(),
        );
        self.store()
            .write_job(move |db| -> Result<()> {
                let mut throttle = db.lock_throttle(&subject, &source)?;
                throttle.succeed(now, ticket, &fingerprint);
                db.save_throttle(&subject, &source, &throttle, now)?;
                if let Some(network) = &network {
                    db.remember_sign_in_network(user, network, now, FAMILIAR_NETWORKS)?;
                }
                if let Some((old, new)) = new_hash {
                    db.upgrade_password_hash(user, &old, &new)?;
                }
                Ok(())
            })
            .await
    }

    /// The password grant: a user alone, or with `client` (App+User), from `source` (the
    /// client's address, when known: the lockout keeps familiar networks apart).
    pub async fn sign_in_with_password(
        &self,
        username: &str,
        password: &Password,
        client: Option<Client<'_>>,
        source: Option<IpAddr>,
    ) -> Result<TokenGrant, SignInError> {
        let application = match client {
            Some(c) => Some(self.check_client(c.id, c.secret).await?),
            None => None,
        };
        let (creds, home) = self.check_password(username, password, source).await?;
        if let Some(app) = &application {
            if app.partner != home.partner() {
                return Err(SignInError::InvalidClient);
            }
        }
        if creds.force_change_password {
            return Err(SignInError::PasswordChangeRequired);
        }
        let now = self.now();
        let app_id = application.map(|a| a.id.to_string());
        let mut grant = self.issue_access_token(&creds, app_id.as_deref(), now);
        grant.refresh_token = Some(
            self.start_refresh_family(&creds, app_id.as_deref(), now)
                .await?,
        );
        Ok(grant)
    }

    /// The user that `username` and `password` sign in as, and where it belongs: the
    /// attempt counted against the lockout before the password is checked, one answer for
    /// every refusal. Every way of signing in with a password (the token endpoint, the
    /// portal) goes through here.
    pub(crate) async fn check_password(
        &self,
        username: &str,
        password: &Password,
        source: Option<IpAddr>,
    ) -> Result<(Credentials, Home), SignInError> {
        self.admit_password_attempt(username, password, source)?;
        let found = self.find_for_sign_in(username).await?;
        let attempt = self
            .count_attempt(username, found.as_ref().map(|c| c.user), password, source)
            .await?;
        if attempt.ticket.is_none() {
            metrics::counter!("roster_sign_in_locked_total").increment(1);
        }
        let (Some(creds), Some(_)) = (found, attempt.ticket) else {
            // Unknown or locked: the same effort as for a real account.
            self.hasher().verify(password, None).await?;
            metrics::counter!("roster_sign_in_failures_total").increment(1);
            return Err(SignInError::InvalidGrant);
        };
        let lane = attempt.lane();
        let (ok, rehash) = self
            .hasher()
            .verify_in(lane, password, creds.password_hash.as_deref())
            .await?;
        if !ok {
            // Counted already.
            metrics::counter!("roster_sign_in_failures_total").increment(1);
            return Err(SignInError::InvalidGrant);
        }
        // A new hash at today's cost when there is room for it; the next sign-in otherwise.
        let new_hash = match (rehash, creds.password_hash.as_deref()) {
            (true, Some(old)) => match self.hasher().hash_in(lane, password).await {
                Ok(new) => Some((old.to_string(), new)),
                Err(ServiceError::Unavailable { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            _ => None,
        };
        self.password_was_right(&attempt, creds.user, new_hash)
            .await?;
        let job_creds = creds.clone();
        let home = self
            .store()
            .read_job(move |db| home_of(db, &job_creds))
            .await?;
        match home {
            Some(home) => Ok((creds, home)),
            // A partner directory user without access to the Roster account.
            None => Err(SignInError::InvalidGrant),
        }
    }

    /// What every attempt at a password passes before any lookup or hashing: a user name and
    /// password of possible lengths, and the source address's rate of attempts.
    pub(crate) fn admit_password_attempt(
        &self,
        username: &str,
        password: &Password,
        source: Option<IpAddr>,
    ) -> Result<(), SignInError> {
        if username.chars().count() > Upn::MAX_LEN
            || password.expose().chars().count() > roster_domain::password::MAX_LEN
        {
            return Err(SignInError::TooLong);
        }
        if let Some(source) = source {
            self.rates()
                .sign_in
                .check(&source)
                .map_err(ServiceError::RateLimited)?;
        }
        Ok(())
    }

    /// The active directory user (partner or customer) that signs in with `username`.
    pub(crate) async fn find_credentials(&self, username: &str) -> Result<Option<Credentials>> {
        self.find_for_sign_in(username).await
    }

    async fn find_for_sign_in(&self, username: &str) -> Result<Option<Credentials>> {
        let Ok(upn) = Upn::parse(username) else {
            return Ok(None);
        };
        let username = username.to_string();
        self.store()
            .read_job(move |db| -> Result<_> {
                if let Some(tenant) = db.tenant_of_domain(&upn.domain())? {
                    if let Some(found) = db.credentials_by_upn(&tenant, &upn.key())? {
                        return Ok(Some(found));
                    }
                }
                // A guest (an invited outside user) signs in with the address it was invited
                // with; when two partners invited the same address, only the guest's #EXT#
                // UPN says which.
                let mut guests = db.credentials_by_guest_email(&username)?;
                Ok(if guests.len() == 1 {
                    guests.pop()
                } else {
                    None
                })
            })
            .await
    }

    /// An access token for a user, alone or through an application (App+User).
    pub(crate) fn issue_access_token(
        &self,
        creds: &Credentials,
        application: Option<&str>,
        now: roster_domain::Timestamp,
    ) -> TokenGrant {
        self.sign_access_token(
            AccessClaims {
                iss: self.settings().issuer().into(),
                sub: creds.user.to_string(),
                tid: creds.tenant.clone(),
                iat: 0,
                exp: 0,
                sst: creds.security_stamp.clone(),
                azp: application.map(str::to_string),
                idtyp: None,
            },
            now,
        )
    }

    fn sign_access_token(
        &self,
        mut claims: AccessClaims,
        now: roster_domain::Timestamp,
    ) -> TokenGrant {
        let lifetime = self.settings().access_token_lifetime;
        claims.iat = now.unix_seconds();
        claims.exp = now.plus(lifetime).unix_seconds();
        TokenGrant {
            access_token: self.keys().current().sign_jwt(&claims),
            expires_in: lifetime.millis() / 1000,
            refresh_token: None,
        }
    }

    /// The client credentials grant: an application alone (App-only). No refresh token: the
    /// application signs in again with its secret.
    pub async fn sign_in_as_application(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<TokenGrant, SignInError> {
        let app = self.check_client(client_id, Some(client_secret)).await?;
        Ok(self.sign_access_token(
            AccessClaims {
                iss: self.settings().issuer().into(),
                sub: app.id.to_string(),
                tid: app.partner.to_string(),
                iat: 0,
                exp: 0,
                sst: app.security_stamp,
                azp: Some(app.id.to_string()),
                idtyp: Some(APP_TOKEN.into()),
            },
            self.now(),
        ))
    }

    /// The application with this client id, when the secret (if sent) is its secret.
    async fn check_client(
        &self,
        id: &str,
        secret: Option<&str>,
    ) -> Result<roster_domain::application::Application, SignInError> {
        let app = match id.trim().parse() {
            Ok(id) => {
                self.store()
                    .read_job(move |db| -> Result<_> { Ok(db.application(id)?) })
                    .await?
            }
            Err(_) => None,
        };
        let expected = app
            .as_ref()
            .map_or_else(|| "0".repeat(64), |a| a.secret_hash.clone());
        // A confidential client must send its secret; a public one may send none, but a
        // secret it sends must be right.
        let secret_ok = match secret {
            Some(s) => crate::secrets::same_hash(&crate::secrets::hash(s), &expected),
            None => app.as_ref().is_some_and(|a| a.public_client),
        };
        match app {
            Some(app) if secret_ok => Ok(app),
            _ => Err(SignInError::InvalidClient),
        }
    }

    /// The caller behind a bearer token: a valid signature, not expired, and the principal
    /// still there as it was when the token was issued: a user still active, with the same
    /// security stamp and still allowed in; an application not deleted and with the same
    /// secret.
    pub async fn authenticate(&self, bearer: &str) -> Result<Actor> {
        let unauthorized = || {
            ServiceError::Unauthorized("the access token is missing, malformed, expired or revoked")
        };
        let key = self.key_for(bearer).await.ok_or_else(unauthorized)?;
        let claims: AccessClaims = self
            .verified_tokens()
            .verify(&key, bearer)
            .ok_or_else(unauthorized)?;
        if claims.iss != self.settings().issuer() {
            // Signed with our keys, so issued by a server on this database, but under another
            // public URL: a misconfigured server (or this one's public URL changed).
            tracing::warn!(
                token_issuer = %claims.iss,
                issuer = %self.settings().issuer(),
                "refused an access token of another issuer: give every server on this database the same public_url"
            );
            return Err(unauthorized());
        }
        if claims.exp <= self.now().unix_seconds() {
            return Err(unauthorized());
        }
        let app_only = claims.idtyp.as_deref() == Some(APP_TOKEN);
        let application_id = match &claims.azp {
            Some(id) => Some(id.parse().map_err(|_| unauthorized())?),
            None if app_only => return Err(unauthorized()),
            None => None,
        };
        // One job: the application the token names (it must still exist) and the user.
        let roster = self.clone();
        self.store()
            .read_job(move |db| roster.actor_of_token(db, &claims, app_only, application_id))
            .await
    }

    /// The actor a verified, unexpired token stands for, as the database has it now.
    fn actor_of_token(
        &self,
        db: &mut SyncDb<'_>,
        claims: &AccessClaims,
        app_only: bool,
        application_id: Option<roster_domain::ApplicationId>,
    ) -> Result<Actor> {
        let unauthorized = || {
            ServiceError::Unauthorized("the access token is missing, malformed, expired or revoked")
        };
        let application = match application_id {
            Some(id) => Some(db.application(id)?.ok_or_else(unauthorized)?),
            None => None,
        };
        if let Some(app) = application.clone().filter(|_| app_only) {
            // App-only: the same application of the same partner, with the same secret.
            if app.partner.to_string() != claims.tid || app.security_stamp != claims.sst {
                return Err(unauthorized());
            }
            return Ok(Actor {
                partner: app.partner,
                user: UserId::from_uuid(app.id.as_uuid()),
                roles: Vec::new(),
                custom: None,
                principal: Principal::Application,
                application: Some(app.id),
                in_security_groups: false,
            });
        }
        let user: UserId = claims.sub.parse().map_err(|_| unauthorized())?;
        self.user_actor(db, user, &claims.sst, Some(&claims.tid), application)?
            .ok_or_else(unauthorized)
    }

    /// The actor of a signed-in user (by a token or a portal session): `None` unless the
    /// user is still active, has the security stamp it had at sign-in (in `tenant`, when
    /// given), may still sign in, and belongs to the partner of `application`, when given.
    pub(crate) fn user_actor(
        &self,
        db: &mut SyncDb<'_>,
        user: UserId,
        stamp: &str,
        tenant: Option<&str>,
        application: Option<roster_domain::application::Application>,
    ) -> Result<Option<Actor>> {
        // One query for the user, its account access and its groups' roles.
        let Some(found) = db.signed_in(user)? else {
            return Ok(None);
        };
        let creds = &found.credentials;
        if !creds.active
            || creds.security_stamp != stamp
            || tenant.is_some_and(|t| creds.tenant != t)
        {
            return Ok(None);
        }
        let Some(home) = home_with(db, creds, found.access)? else {
            return Ok(None);
        };
        if application
            .as_ref()
            .is_some_and(|a| a.partner != home.partner())
        {
            return Ok(None);
        }
        let application = application.map(|a| a.id);
        Ok(Some(match home {
            Home::Customer { customer, partner } => Actor {
                partner,
                user,
                roles: Vec::new(),
                custom: None,
                principal: Principal::CustomerUser {
                    customer,
                    roles: crate::directory_roles::roles_of_user(db, user)?,
                },
                application,
                in_security_groups: false,
            },
            Home::Partner { partner, access } => {
                let mut roles = access.roles;
                roles.extend(found.group_roles);
                roles.sort();
                roles.dedup();
                Actor {
                    partner,
                    user,
                    roles,
                    custom: access.custom,
                    principal: Principal::PartnerUser,
                    application,
                    in_security_groups: found.in_security_groups,
                }
            }
        }))
    }
}
