//! Roster's operations. Each one takes the caller, asks the one authorize function,
//! validates, writes in one transaction together with its audit record, and returns domain
//! values. Every door (REST, CLI, portal, SDK) calls these and nothing else.

pub mod activity;
pub mod applications;
pub mod audit_log;
pub mod bootstrap;
pub mod bulk_upload;
pub mod clock;
pub mod customer_users;
pub mod customers;
pub mod directory_roles;
pub mod error;
pub mod files;
pub mod invitations;
pub mod keys;
pub mod licences;
pub mod limits;
pub mod mail;
pub mod maintenance;
pub mod paging;
pub mod partner_roles;
pub mod partner_users;
pub mod passwords;
pub mod portal_sessions;
pub mod refresh;
pub mod relationships;
pub mod requests;
pub mod secrets;
pub mod security_groups;
pub mod sign_in;
pub mod smtp;
pub mod startup;
pub mod tokens;

use std::sync::{Arc, Mutex, RwLock};

use roster_domain::audit::AuditRecord;
use roster_domain::audit::OperationType;
use roster_domain::authz::{self, Action, Actor, CustomerAccess, Denied};
use roster_domain::customer::Customer;
use roster_domain::{CustomerId, Duration, PartnerId, UserId};
use roster_store::sql::SyncDb;
use roster_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, ServiceError};
pub use passwords::{HashCost, Hasher};
pub use tokens::{KeyRing, SigningKey};

/// Settings the operations depend on.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a soft-deleted user can be restored before the purge removes it.
    pub soft_delete_retention: Duration,
    pub access_token_lifetime: Duration,
    pub hash_cost: HashCost,
    /// Where mail goes as `.eml` files (`<data-dir>/outbox`); `None`: no mail can be sent.
    pub outbox_dir: Option<std::path::PathBuf>,
    /// The SMTP server that the outbox is delivered to; `None`: mail stays in the outbox.
    pub smtp: Option<smtp::SmtpServer>,
    /// The sender of every message (the `From:` header and the SMTP envelope sender).
    pub mail_from: mail::Sender,
    /// When a message that could not be delivered is tried again.
    pub mail_retry: smtp::Retry,
    /// The address people reach Roster at: links in mail (invitation links) start with it,
    /// and it is the issuer of access tokens (see [`Settings::issuer`]).
    pub public_base_url: String,
    /// The operator's products, added to the shipped catalogue (replacing one of the same id).
    pub extra_catalogue: Option<roster_domain::licence::Catalogue>,
    /// A portal session unused this long is over.
    pub portal_session_idle: Duration,
    /// A portal session is over this long after its sign-in, however busy.
    pub portal_session_lifetime: Duration,
    /// How much may wait and how often one source or partner may ask.
    pub limits: limits::Limits,
}

impl Settings {
    /// The `iss` of the access tokens this server issues and the only one it accepts, and
    /// the `issuer` of its discovery document: the public URL without a trailing `/`.
    /// Servers sharing a database must have the same one to accept each other's tokens.
    pub fn issuer(&self) -> &str {
        self.public_base_url.trim_end_matches('/')
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            soft_delete_retention: Duration::from_days(30),
            access_token_lifetime: Duration::from_hours(1),
            hash_cost: HashCost::default(),
            outbox_dir: None,
            smtp: None,
            mail_from: mail::Sender::default(),
            mail_retry: smtp::Retry::default(),
            public_base_url: "http://127.0.0.1:8080".into(),
            extra_catalogue: None,
            portal_session_idle: Duration::from_hours(1),
            portal_session_lifetime: Duration::from_hours(12),
            limits: limits::Limits::default(),
        }
    }
}

/// The service: cheap to clone, shared by every door.
#[derive(Clone, Debug)]
pub struct Roster {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    hasher: Hasher,
    keys: RwLock<Arc<KeyRing>>,
    activity: activity::ActivitySink,
    /// When the keys were last read again because a token named an unknown key.
    keys_reloaded: Mutex<Option<tokio::time::Instant>>,
    /// Access tokens whose signature was checked already.
    verified: tokens::VerifiedTokens,
    /// The SMTP delivery task of the outbox, when SMTP is configured; it ends with the service.
    courier: Option<smtp::Courier>,
    /// The products customers can have seats of.
    catalogue: roster_domain::licence::Catalogue,
    settings: Settings,
    /// Woken whenever a request with an `MS-RequestId` records its answer or gives its key
    /// up, so that its repeats waiting on this server answer at once.
    requests_answered: tokio::sync::Notify,
    /// The rate limits of this server.
    rates: limits::Rates,
}

/// The address of the client at the other end of a request's connection (a request
/// extension that every door's HTTP server sets): sign-in keeps its lockouts per account and
/// source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Who is calling and under which request: what every operation receives first.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub actor: Actor,
    pub request_id: String,
    pub correlation_id: String,
}

impl Roster {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        keys: KeyRing,
        settings: Settings,
    ) -> Result<Self> {
        let hasher = Hasher::with_queue(settings.hash_cost, settings.limits.hash_queue)?;
        let mut catalogue =
            roster_domain::licence::Catalogue::shipped().map_err(ServiceError::internal)?;
        if let Some(extra) = settings.extra_catalogue.clone() {
            catalogue = catalogue.extended_with(extra);
        }
        let activity = activity::ActivitySink::spawn(store.clone());
        let courier = match (&settings.smtp, &settings.outbox_dir) {
            (None, _) => None,
            (Some(server), Some(outbox)) => Some(
                smtp::Courier::spawn(
                    outbox.clone(),
                    server,
                    settings.mail_from.address().clone(),
                    settings.mail_retry,
                )
                .map_err(ServiceError::internal)?,
            ),
            (Some(_), None) => {
                return Err(ServiceError::internal(
                    "SMTP delivery needs an outbox directory",
                ))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                clock,
                hasher,
                keys: RwLock::new(Arc::new(keys)),
                activity,
                keys_reloaded: Mutex::new(None),
                verified: tokens::VerifiedTokens::default(),
                courier,
                catalogue,
                requests_answered: tokio::sync::Notify::new(),
                rates: limits::Rates::new(&settings.limits),
                settings,
            }),
        })
    }

    /// Mail was written into the outbox (and its transaction committed): deliver it now.
    pub(crate) fn mail_written(&self) {
        if let Some(courier) = &self.inner.courier {
            courier.wake();
        }
    }

    pub fn catalogue(&self) -> &roster_domain::licence::Catalogue {
        &self.inner.catalogue
    }

    pub(crate) fn activity(&self) -> &activity::ActivitySink {
        &self.inner.activity
    }

    /// The store, for tests and the benchmark's seeding; the doors call operations.
    #[doc(hidden)]
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Closes the database's connections (after the last request).
    pub async fn close(&self) {
        self.inner.store.close().await;
    }
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }
    /// The time by the injected clock (a door shows days left, ages; never reads its own).
    pub fn now(&self) -> roster_domain::Timestamp {
        self.inner.clock.now()
    }
    /// The signing keys as last read.
    pub fn keys(&self) -> Arc<KeyRing> {
        match self.inner.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) fn replace_keys(&self, ring: KeyRing) {
        match self.inner.keys.write() {
            Ok(mut k) => *k = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
    }

    /// The key that signed `token`. An unknown key may be one that another server just made:
    /// the keys are read again, at most once a second, before giving up.
    pub(crate) async fn key_for(&self, token: &str) -> Option<SigningKey> {
        let kid = tokens::key_id_of(token)?;
        if let Some(key) = self.keys().get(&kid) {
            return Some(key.clone());
        }
        let due = {
            let mut last = self
                .inner
                .keys_reloaded
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let now = tokio::time::Instant::now();
            let due =
                last.is_none_or(|t| now.duration_since(t) >= std::time::Duration::from_secs(1));
            if due {
                *last = Some(now);
            }
            due
        };
        if due {
            if let Err(e) = self.reload_keys().await {
                tracing::warn!(error = %e, "could not read the signing keys");
            }
        }
        self.keys().get(&kid).cloned()
    }
    pub(crate) fn verified_tokens(&self) -> &tokens::VerifiedTokens {
        &self.inner.verified
    }

    pub(crate) fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    pub(crate) fn rates(&self) -> &limits::Rates {
        &self.inner.rates
    }

    /// Messages in the outbox not yet delivered (all of them when no SMTP server is set);
    /// `None` without an outbox.
    pub fn outbox_backlog(&self) -> Option<usize> {
        let dir = self.settings().outbox_dir.as_ref()?;
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            // No mail was written yet.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(0),
            Err(_) => return None,
        };
        Some(
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count(),
        )
    }

    /// Hashes waiting for a hashing thread now.
    pub fn hash_queue_depth(&self) -> usize {
        self.inner.hasher.queued()
    }

    /// The id in a path: one that is not even an id of its kind names nothing here.
    pub(crate) fn id_of<T: std::str::FromStr>(raw: &str, what: &'static str) -> Result<T> {
        raw.trim().parse().map_err(|_| ServiceError::NotFound(what))
    }

    /// True when the database answers.
    pub async fn ready(&self) -> bool {
        self.inner.store.ping().await
    }

    /// The audit record of one change, stamped with the request's ids and the current time.
    pub(crate) fn audit(
        &self,
        ctx: Option<&Ctx>,
        partner: PartnerId,
        customer: Option<CustomerId>,
        operation: OperationType,
        resource_id: impl std::fmt::Display,
        new_value: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            id: uuid::Uuid::new_v4().to_string(),
            created_at: self.now(),
            partner,
            customer,
            actor: ctx
                .filter(|c| c.actor.principal != authz::Principal::Application)
                .map(|c| c.actor.user),
            application: ctx.and_then(|c| c.actor.application),
            operation,
            resource_type: operation.resource_type().to_string(),
            resource_id: resource_id.to_string(),
            new_value: new_value.to_string(),
            correlation_id: ctx.map_or_else(String::new, |c| c.correlation_id.clone()),
            request_id: ctx.map_or_else(String::new, |c| c.request_id.clone()),
        }
    }

    /// Runs `f` in one read job, after loading the customer and checking `action` on it
    /// ([`Roster::customer_for`]) in the same job.
    pub(crate) async fn read_in_customer<T, F>(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        action: Action,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SyncDb<'_>, Customer) -> Result<T> + Send + 'static,
    {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .read_job(move |db| {
                let c = roster.customer_for(db, &ctx, customer, action)?;
                f(db, c)
            })
            .await
    }

    /// [`Roster::read_in_customer`] for a change: one write job, the check included.
    pub(crate) async fn write_in_customer<T, F>(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        action: Action,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SyncDb<'_>, Customer) -> Result<T> + Send + 'static,
    {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .write_job(move |db| {
                let c = roster.customer_for(db, &ctx, customer, action)?;
                f(db, c)
            })
            .await
    }

    /// Loads a customer of the caller's partner and checks `action` on it. A customer the
    /// caller may not see is reported as not found, never as forbidden.
    pub(crate) fn customer_for(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        id: CustomerId,
        action: Action,
    ) -> Result<Customer> {
        Ok(self.customer_access_for(db, ctx, id, action)?.0)
    }

    /// [`Roster::customer_for`], with the caller's access to the customer, for operations
    /// that check further actions on it.
    pub(crate) fn customer_access_for(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        id: CustomerId,
        action: Action,
    ) -> Result<(Customer, CustomerAccess)> {
        let customer = db
            .customer(ctx.actor.partner, id)?
            .ok_or(ServiceError::CustomerNotFound)?;
        let access = self.access_to(db, ctx, &customer)?;
        authz::authorize(&ctx.actor, action, &access).map_err(denied)?;
        Ok((customer, access))
    }

    /// The caller's delegated access to a customer: legacy access as the customer allows it,
    /// and the union of the directory roles assigned to the caller's security groups on the
    /// customer's active relationships (`None` when no such assignment applies: access.md
    /// rule 1, granular wins over legacy).
    pub(crate) fn access_to(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: &Customer,
    ) -> Result<CustomerAccess> {
        let granular = self
            .granular_roles(db, ctx, Some(customer.id))?
            .into_iter()
            .next()
            .map(|(_, roles)| roles);
        Ok(CustomerAccess {
            customer: Some(customer.id),
            legacy_allowed: customer.allow_delegated_access,
            granular_roles: granular,
        })
    }

    /// Per customer, the directory roles the caller holds there through active relationships
    /// (one customer when `customer` is given), by customer id.
    pub(crate) fn granular_roles(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: Option<CustomerId>,
    ) -> Result<std::collections::BTreeMap<CustomerId, Vec<authz::DirectoryRole>>> {
        let now = self.now();
        let mut out: std::collections::BTreeMap<CustomerId, Vec<authz::DirectoryRole>> =
            std::collections::BTreeMap::new();
        if !ctx.actor.in_security_groups {
            return Ok(out);
        }
        for (relationship, roles) in
            db.granted_to_user(ctx.actor.partner, ctx.actor.user, customer)?
        {
            if relationship.status_at(now)
                == roster_domain::relationship::RelationshipStatus::Active
            {
                out.entry(relationship.customer).or_default().extend(roles);
            }
        }
        for roles in out.values_mut() {
            roles.sort();
            roles.dedup();
        }
        Ok(out)
    }

    /// The caller's delegated access to a customer, for a door that shows only what the
    /// caller may do there (`authz::authorize` with it); the operations still decide. A
    /// customer the caller cannot see is not found.
    pub async fn customer_access(&self, ctx: &Ctx, id: CustomerId) -> Result<CustomerAccess> {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .read_job(move |db| {
                let action = Action::InCustomer(authz::CustomerAction::ReadUsers);
                Ok(roster.customer_access_for(db, &ctx, id, action)?.1)
            })
            .await
    }

    /// Whether the caller may take a partner-level action (for a door that shows only
    /// what the caller may do; the operations still decide).
    pub fn permits(&self, ctx: &Ctx, action: Action) -> bool {
        self.allow(ctx, action).is_ok()
    }

    /// Checks a partner-level action.
    pub(crate) fn allow(&self, ctx: &Ctx, action: Action) -> Result<()> {
        authz::authorize(&ctx.actor, action, &CustomerAccess::default()).map_err(denied)
    }
}

/// The error for a refused authorization.
pub(crate) fn denied(d: Denied) -> ServiceError {
    match d {
        Denied::Hidden => ServiceError::CustomerNotFound,
        Denied::Forbidden => forbidden(),
        Denied::NeedsUser => ServiceError::Forbidden(
            "This operation requires App+User credentials: sign in as a user (grant_type=password with client_id), not as the application alone.".into(),
        ),
    }
}

pub(crate) fn forbidden() -> ServiceError {
    ServiceError::Forbidden(
        "The supplied role does not have the rights to perform the requested operation.".into(),
    )
}

/// A page of a list and the token that continues it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub continuation: Option<String>,
}

/// Where a page of a two-way list starts: strictly after `after` in the list's order, or,
/// going `backward`, strictly before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub after: roster_domain::listing::After,
    pub backward: bool,
}

/// A page of a two-way list, with where it begins and ends and whether there is more on
/// either side.
#[derive(Clone, Debug)]
pub struct Window<T> {
    pub items: Vec<T>,
    pub first: Option<roster_domain::listing::After>,
    pub last: Option<roster_domain::listing::After>,
    pub more_before: bool,
    pub more_after: bool,
}

/// A fresh id for a user (also used by tests that need an unknown one).
pub fn new_user_id() -> UserId {
    UserId::new_random()
}
