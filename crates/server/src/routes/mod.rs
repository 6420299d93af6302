//! Handlers: each turns the wire into a service call and the result back into the wire.

pub mod applications;
pub mod audit;
pub mod bulk_upload;
pub mod customer_users;
pub mod customers;
pub mod directory_roles;
pub mod health;
pub mod invitations;
pub mod licences;
pub mod partner_users;
pub mod relationships;
pub mod token;
pub mod well_known;

use std::collections::HashMap;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use roster_domain::listing::{TextMatch, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use roster_domain::{CustomerId, UserId};
use roster_service::{Ctx, ServiceError};
use serde::de::DeserializeOwned;

use crate::error::{codes, ApiError};

/// Maps a service error to the wire with the request's correlation id.
pub trait OrApi<T> {
    fn or_api(self, ctx: &Ctx) -> Result<T, ApiError>;
}

impl<T> OrApi<T> for Result<T, ServiceError> {
    fn or_api(self, ctx: &Ctx) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::from_service(e, &ctx.correlation_id))
    }
}

/// The authenticated caller, put in place by the auth layer.
pub struct Caller(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                ApiError::unauthorized("Send an access token as Authorization: Bearer <token>.")
            })
    }
}

fn bad_id(description: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_ID, description, vec![])
}

pub fn customer_id(raw: &str) -> Result<CustomerId, ApiError> {
    raw.parse().map_err(|_| bad_id("Tenant Id must be a GUID."))
}

pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| bad_id("User Id must be a GUID."))
}

/// The path's parameters (`{customerId}`, `{userId}`) as text, for [`customer_id`] and [`user_id`] to
/// check. A parameter whose percent-encoding is not even UTF-8 (`%FF`) is not a GUID either,
/// and gets the same answer (code 2000) instead of axum's bare 400.
pub struct PathIds<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathIds<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(ids)) => Ok(PathIds(ids)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => match e.into_kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => Err(bad_id(match key.as_str() {
                    "userId" => "User Id must be a GUID.",
                    _ => "Tenant Id must be a GUID.",
                })),
                kind => {
                    tracing::error!(error = %kind, "path parameters do not fit the handler");
                    Err(ApiError::unexpected("(path)"))
                }
            },
            Err(rejection) => Err(ApiError::for_status(rejection.status())),
        }
    }
}

/// Query parameters by lower-case name (names match case-insensitively; the first of
/// repeated names wins).
pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_input("The query string is malformed.", vec![]))?;
        let mut map = HashMap::new();
        for (k, v) in pairs {
            map.entry(k.to_lowercase()).or_insert(v);
        }
        Ok(Params(map))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_lowercase()).map(String::as_str)
    }

    /// `size`: 0 or absent means the default page; at most 500. Given empty, it is refused as
    /// any other text is (the document says a whole number).
    pub fn page_size(&self) -> Result<u32, ApiError> {
        match self.get("size").map(str::trim) {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(raw) => match raw.parse::<u32>() {
                Ok(0) => Ok(DEFAULT_PAGE_SIZE),
                Ok(n) if n <= MAX_PAGE_SIZE => Ok(n),
                _ => Err(ApiError::invalid(
                    "size",
                    format!("size: '{raw}' is not a page size: give a whole number from 0 to {MAX_PAGE_SIZE} (0 means the default of {DEFAULT_PAGE_SIZE})"),
                )),
            },
        }
    }

    /// The continuation token of a `seekOperation=Next` request, from the
    /// `MS-ContinuationToken` header or the `continuationToken` parameter.
    pub fn continuation(
        &self,
        parts_headers: &axum::http::HeaderMap,
    ) -> Result<Option<String>, ApiError> {
        let header = parts_headers
            .get("ms-continuationtoken")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let token = header
            .or_else(|| self.get("continuationToken").map(str::to_string))
            .filter(|t| !t.is_empty());
        match self.get("seekOperation") {
            None => Ok(token),
            Some(op) if op.eq_ignore_ascii_case("next") => match token {
                Some(t) => Ok(Some(t)),
                None => Err(ApiError::invalid(
                    "MS-ContinuationToken",
                    "seekOperation=Next needs the continuation token of the previous page in the MS-ContinuationToken header",
                )),
            },
            Some(op) if op.eq_ignore_ascii_case("first") => Ok(None),
            Some(op) => Err(ApiError::invalid(
                "seekOperation",
                format!("seekOperation: '{op}' is not supported: use Next with a continuation token"),
            )),
        }
    }
}

/// A `filter` query parameter: `{"Field": F, "Value": V, "Operator": OP}`, keys in any case.
pub struct Filter {
    pub field: String,
    pub value: String,
    pub operator: String,
}

impl Filter {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::invalid(
                "filter",
                "filter: give URL-encoded JSON such as {\"Field\":\"UserState\",\"Value\":\"Inactive\",\"Operator\":\"equals\"}",
            )
        };
        let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| bad())?;
        let object = value.as_object().ok_or_else(bad)?;
        let get = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
        };
        Ok(Self {
            field: get("Field").ok_or_else(bad)?,
            value: get("Value").ok_or_else(bad)?,
            operator: get("Operator").ok_or_else(bad)?,
        })
    }

    pub fn text_match(&self) -> Option<TextMatch> {
        match self.operator.to_ascii_lowercase().as_str() {
            "starts_with" | "startswith" => Some(TextMatch::StartsWith),
            "substring" => Some(TextMatch::Substring),
            _ => None,
        }
    }
}
