//! Handlers: each turns the wire into a service call and the result back into the wire.

pub mod customers;
pub mod health;
pub mod token;
pub mod users;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use roster_domain::listing::{TextMatch, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use roster_domain::{CustomerId, UserId};
use roster_service::{Ctx, ServiceError};

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

pub fn customer_id(raw: &str) -> Result<CustomerId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_ID,
            "Tenant Id must be a GUID.",
            vec![],
        )
    })
}

pub fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BAD_ID,
            "User Id must be a GUID.",
            vec![],
        )
    })
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

    /// `size`: 0 or absent means the default page; at most 500.
    pub fn page_size(&self) -> Result<u32, ApiError> {
        match self.get("size").map(str::trim) {
            None | Some("") => Ok(DEFAULT_PAGE_SIZE),
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
