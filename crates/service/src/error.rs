//! The one error type of the service layer. The server maps each variant to an HTTP status
//! and a Partner Center error code in exactly one place.

use roster_domain::Invalid;
use roster_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("the customer was not found")]
    CustomerNotFound,
    #[error("the user was not found in this customer")]
    UserNotFound,
    #[error("{0} was not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("the userPrincipalName '{0}' is already used by another active user of this tenant")]
    UpnTaken(String),
    #[error("the domain '{0}' already belongs to a tenant")]
    DomainTaken(String),
    #[error("the user is deleted: restore it first (PATCH with \"state\": \"active\")")]
    NotActive,
    #[error("the user can't be restored: its userPrincipalName '{0}' is now used by another active user; give a new userPrincipalName in the restore body")]
    RestoreUpnConflict(String),
    /// The change would break a rule of the account (the last Global admin, a taken name).
    #[error("{0}")]
    Conflict(String),
    /// A bulk upload's file (or its usage location) has these problems; nothing was created.
    #[error("the file has {} problem(s); nothing was created", .0.len())]
    BulkRefused(Vec<roster_domain::bulk_upload::BulkProblem>),
    /// Other requests took these user names while a bulk upload was under way; nothing was
    /// created.
    #[error("other requests took these user names meanwhile: {}; nothing was created: upload the file again without them", .0.join(", "))]
    UpnsTaken(Vec<String>),
    #[error("the resource has changed since it was read (If-Match does not match the current etag); read it again and retry")]
    PreconditionFailed,
    #[error("{0}")]
    Unauthorized(&'static str),
    /// No seat of this SKU is free (400 60012).
    #[error("there are no licences of {0} left in this customer: give it more seats (PUT /v1/customers/{{cid}}/subscribedskus/{{skuId}}) or free some")]
    NoLicencesLeft(String),
    /// One request mixed SKUs of two licence groups (400 60014).
    #[error("a licence update may hold SKUs of one licence group only (group1 or group2): send two requests")]
    MixedLicenceGroups,
    /// Too many requests of this caller or source: try again after this long (429).
    #[error("too many requests: try again in {} seconds", .0.seconds())]
    RateLimited(crate::limits::RetryAfter),
    /// The server is too busy (its queues are full) or its database cannot be reached: try
    /// again after this long (503). Nothing was changed.
    #[error("{reason}")]
    Unavailable {
        reason: String,
        retry_after: crate::limits::RetryAfter,
    },
    /// What should not happen: a bug, or the database or the disk failing. Its causes are
    /// kept (the server logs the whole chain); the client sees only a correlation id.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// How long a caller is told to wait when the database cannot take work.
const DATABASE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        if let Some(reason) = e.unavailable() {
            tracing::warn!(error = %e, "the database cannot take work now");
            return Self::Unavailable {
                reason: reason.into(),
                retry_after: crate::limits::RetryAfter(DATABASE_RETRY),
            };
        }
        // A conflict the operation did not expect is still an internal error; operations
        // that can conflict map `StoreError::Conflict` themselves.
        Self::Internal(Box::new(e))
    }
}

impl ServiceError {
    /// An internal error that says what went wrong.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }
}

impl From<Invalid> for ServiceError {
    fn from(e: Invalid) -> Self {
        Self::Invalid(e)
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
