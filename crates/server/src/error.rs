//! The API's errors: one body shape, and the one place where service errors become HTTP
//! statuses and Partner Center error codes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_service::ServiceError;

pub use roster_wire::ApiFault;

/// An error answer: a status and a Partner Center error body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub fault: ApiFault,
    /// Seconds for `Retry-After` (on 429 and 503).
    pub retry_after: Option<u64>,
}

pub mod codes {
    pub const INVALID_INPUT: u32 = 800002;
    pub const BAD_ID: u32 = 2000;
    pub const INVALID_PROPERTY: u32 = 3000;
    pub const UNAUTHORIZED: u32 = 800001;
    pub const FORBIDDEN: u32 = 900150;
    pub const TENANT_NOT_FOUND: u32 = 60003;
    pub const USER_NOT_FOUND: u32 = 60002;
    pub const NOT_FOUND: u32 = 1000;
    pub const METHOD_NOT_ALLOWED: u32 = 405;
    pub const UPN_TAKEN: u32 = 60004;
    pub const WRONG_STATE: u32 = 60005;
    pub const RESTORE_UPN_TAKEN: u32 = 60006;
    pub const REQUEST_ID_REUSED: u32 = 60007;
    pub const PRECONDITION_FAILED: u32 = 60008;
    pub const TOO_LARGE: u32 = 800004;
    pub const UNEXPECTED: u32 = 800003;
    pub const TIMEOUT: u32 = 408;
    pub const NO_LICENCES_LEFT: u32 = 60012;
    pub const MIXED_LICENCE_GROUPS: u32 = 60014;
    pub const UNAVAILABLE: u32 = 503;
    pub const THROTTLED: u32 = 429;
}

const MAX_DESCRIPTION: usize = 1024;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: u32,
        description: impl Into<String>,
        data: Vec<String>,
    ) -> Self {
        let mut description: String = description.into();
        if description.chars().count() > MAX_DESCRIPTION {
            description = description
                .chars()
                .take(MAX_DESCRIPTION - 1)
                .collect::<String>()
                + "…";
        }
        Self {
            status,
            fault: ApiFault {
                code,
                description,
                data: data.into_iter().map(serde_json::Value::String).collect(),
                source: "Roster".into(),
            },
            retry_after: None,
        }
    }

    /// 429: too many requests; the body is Partner Center's throttling shape
    /// (`{"statusCode": 429, "message": …}`), not the error shape (rest-api.md).
    pub fn throttled(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::THROTTLED,
            format!("Rate limit is exceeded. Try again in {retry_after} seconds."),
            vec![],
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 503: the server cannot take the request now; nothing was changed.
    pub fn unavailable(description: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            description,
            vec![],
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn bad_input(description: impl Into<String>, data: Vec<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_INPUT,
            description,
            data,
        )
    }

    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_PROPERTY,
            description,
            vec![field.to_string()],
        )
    }

    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            description,
            vec![],
        )
    }

    pub fn unexpected(correlation_id: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::UNEXPECTED,
            format!(
                "An unexpected error occurred; it was logged with correlation id {correlation_id}."
            ),
            vec![],
        )
    }

    /// The error for a bare status that some layer produced without a body.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::new(status, codes::NOT_FOUND, "No resource exists at this path.", vec![]),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                codes::METHOD_NOT_ALLOWED,
                "This method is not allowed on this path; see /openapi.json for the methods each path takes.",
                vec![],
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                codes::TOO_LARGE,
                "The request body is larger than this path takes: 1 MiB, or 16 KiB where no access token is needed (sign-in, the password change, redeeming an invitation).",
                vec![],
            ),
            StatusCode::REQUEST_TIMEOUT => Self::new(
                status,
                codes::TIMEOUT,
                "The request took too long to arrive or to complete; send it again.",
                vec![],
            ),
            StatusCode::TOO_MANY_REQUESTS => Self::throttled(1),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(
                "The server is too busy to take this request now: try again in a moment.",
                1,
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::bad_input("Send the body as application/json.", vec![]),
            s if s.is_client_error() => Self::bad_input(
                s.canonical_reason().unwrap_or("The request was refused."),
                vec![],
            ),
            _ => Self::unexpected("(none)"),
        }
    }

    /// The one mapping from service errors to the wire.
    pub fn from_service(e: ServiceError, correlation_id: &str) -> Self {
        use StatusCode as S;
        match e {
            ServiceError::Invalid(bad) => {
                let description = bad.to_string();
                Self::new(
                    S::BAD_REQUEST,
                    codes::INVALID_PROPERTY,
                    description,
                    bad.fields(),
                )
            }
            ServiceError::BulkRefused(problems) => {
                let first: Vec<String> = problems
                    .iter()
                    .take(3)
                    .map(|p| {
                        let at = match (p.row, &p.column) {
                            (Some(r), Some(c)) => format!("row {r}, {c}: "),
                            (Some(r), None) => format!("row {r}: "),
                            (None, Some(c)) if c == "usageLocation" => String::new(),
                            (None, Some(c)) => format!("{c}: "),
                            (None, None) => String::new(),
                        };
                        format!("{at}{}", p.message)
                    })
                    .collect();
                let more = problems.len().saturating_sub(first.len());
                let description = format!(
                    "The file was refused and nothing was created: {}{}",
                    first.join("; "),
                    if more > 0 {
                        format!("; and {more} more (every problem is in data)")
                    } else {
                        String::new()
                    }
                );
                let mut e = Self::new(S::BAD_REQUEST, codes::INVALID_PROPERTY, description, vec![]);
                e.fault.data = problems
                    .iter()
                    .map(|p| serde_json::json!({"row": p.row, "column": p.column, "message": p.message}))
                    .collect();
                e
            }
            ServiceError::UpnsTaken(taken) => Self::new(
                S::CONFLICT,
                codes::UPN_TAKEN,
                format!(
                    "Other requests took these user names meanwhile: {}. Nothing was created: upload the file again without them.",
                    taken.join(", ")
                ),
                taken,
            ),
            ServiceError::CustomerNotFound => Self::new(
                S::NOT_FOUND,
                codes::TENANT_NOT_FOUND,
                "The customer was not found.",
                vec![],
            ),
            ServiceError::UserNotFound => Self::new(
                S::NOT_FOUND,
                codes::USER_NOT_FOUND,
                "The user was not found in this customer.",
                vec![],
            ),
            ServiceError::NotFound(what) => Self::new(
                S::NOT_FOUND,
                codes::NOT_FOUND,
                format!("{what} was not found."),
                vec![],
            ),
            ServiceError::Forbidden(message) => {
                Self::new(S::FORBIDDEN, codes::FORBIDDEN, message, vec![])
            }
            e @ ServiceError::UpnTaken(_) => Self::new(
                S::CONFLICT,
                codes::UPN_TAKEN,
                e.to_string(),
                vec!["userPrincipalName".into()],
            ),
            e @ ServiceError::DomainTaken(_) => Self::new(
                S::CONFLICT,
                codes::INVALID_PROPERTY,
                e.to_string(),
                vec!["domain".into()],
            ),
            e @ ServiceError::NotActive => {
                Self::new(S::CONFLICT, codes::WRONG_STATE, e.to_string(), vec![])
            }
            ServiceError::Conflict(message) => {
                Self::new(S::CONFLICT, codes::WRONG_STATE, message, vec![])
            }
            e @ ServiceError::RestoreUpnConflict(_) => Self::new(
                S::CONFLICT,
                codes::RESTORE_UPN_TAKEN,
                e.to_string(),
                vec!["userPrincipalName".into()],
            ),
            e @ ServiceError::PreconditionFailed => Self::new(
                S::PRECONDITION_FAILED,
                codes::PRECONDITION_FAILED,
                e.to_string(),
                vec![],
            ),
            e @ ServiceError::NoLicencesLeft(_) => Self::new(
                S::BAD_REQUEST,
                codes::NO_LICENCES_LEFT,
                e.to_string(),
                vec!["licensesToAssign".into()],
            ),
            e @ ServiceError::MixedLicenceGroups => Self::new(
                S::BAD_REQUEST,
                codes::MIXED_LICENCE_GROUPS,
                e.to_string(),
                vec!["licensesToAssign".into(), "licensesToRemove".into()],
            ),
            ServiceError::Unauthorized(message) => Self::unauthorized(message),
            ServiceError::RateLimited(after) => Self::throttled(after.seconds()),
            ServiceError::Unavailable {
                reason,
                retry_after,
            } => {
                tracing::warn!(correlation_id, %reason, "answered 503");
                Self::unavailable(reason, retry_after.seconds())
            }
            ServiceError::Internal(cause) => {
                // The whole chain of causes (the database's own message, the I/O error).
                let mut chain = cause.to_string();
                let mut next = cause.source();
                while let Some(e) = next {
                    chain.push_str(": ");
                    chain.push_str(&e.to_string());
                    next = e.source();
                }
                tracing::error!(correlation_id, error = %chain, "unexpected error");
                Self::unexpected(correlation_id)
            }
        }
    }
}

/// Marks a response whose body is already in the API's error shape.
#[derive(Clone, Copy, Debug)]
pub struct FaultBody;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.status == StatusCode::TOO_MANY_REQUESTS {
            serde_json::to_vec(&serde_json::json!({
                "statusCode": 429,
                "message": self.fault.description,
            }))
        } else {
            serde_json::to_vec(&self.fault)
        }
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        if let Some(after) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::wire::JSON_UTF8),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(FaultBody);
        response
    }
}
