//! What a page shows when an operation is refused or fails: the service's own sentence,
//! never a stack of codes; an internal error shows an id to give the operator, and its
//! causes go to the log only.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_service::ServiceError;

#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl PageError {
    pub(crate) fn new(
        status: StatusCode,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", message)
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("{what} was not found, or you have no access to it."),
        )
    }
}

/// The sentence a person reads for a service error.
pub(crate) fn sentence(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid(invalid) => invalid
            .0
            .iter()
            .map(|f| format!("{}: {}", label_of(&f.field), f.message))
            .collect::<Vec<_>>()
            .join("; "),
        ServiceError::UpnTaken(upn) => {
            format!("The username {upn} is already used by another active user of this customer.")
        }
        ServiceError::RestoreUpnConflict(upn) => format!(
            "This user can't be restored: its username {upn} is now used by another active user. Give that user another username, or delete it, then restore this one."
        ),
        ServiceError::NotActive => "This user is deleted: restore it first.".into(),
        ServiceError::Forbidden(m) | ServiceError::Conflict(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The label a field has on the portal's forms, for a message about it.
pub(crate) fn label_of(field: &str) -> &str {
    match field {
        "firstName" => "First name",
        "lastName" => "Last name",
        "displayName" => "Display name",
        "userPrincipalName" => "Username",
        "usageLocation" => "Location",
        "companyName" => "Company name",
        "domain" => "Domain",
        "country" => "Country",
        "newPassword" => "New password",
        "currentPassword" => "Current password",
        "password" => "Password",
        other => other,
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::CustomerNotFound => Self::not_found("The customer"),
            ServiceError::UserNotFound => Self::not_found("The user"),
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Unauthorized(_) => Self::new(
                StatusCode::UNAUTHORIZED,
                "Signed out",
                "Your session has ended. Sign in again.",
            ),
            ServiceError::Forbidden(m) => Self::forbidden(m),
            ServiceError::Internal(cause) => {
                let id = uuid::Uuid::new_v4();
                tracing::error!(error_id = %id, error = %cause, "a portal page failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    format!("Roster could not finish this. Nothing was changed unless the page says so. If it happens again, give your administrator this id: {id}."),
                )
            }
            ServiceError::RateLimited(after) => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                format!(
                    "Too many requests came in a short time. Wait {} seconds, then try again.",
                    after.seconds()
                ),
            ),
            ServiceError::Unavailable { reason, .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                format!("{reason} Nothing was changed."),
            ),
            ServiceError::PreconditionFailed => Self::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                "Someone changed this since you opened it. Open it again to see the change.",
            ),
            other => {
                let message = sentence(&other);
                Self::new(StatusCode::BAD_REQUEST, "Not done", message)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = ErrorPage {
            title: &self.title,
            message: &self.message,
        }
        .render()
        .unwrap_or_else(|_| self.message.clone());
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    }
}
