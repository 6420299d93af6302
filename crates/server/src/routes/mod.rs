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
        Ok(Params::from_pairs(pairs))
    }
}

impl Params {
    /// The parameters of a query string's pairs: the first of each name, in any case.
    fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut map = HashMap::new();
        for (k, v) in pairs {
            map.entry(k.to_lowercase()).or_insert(v);
        }
        Params(map)
    }

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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// `name` with each ASCII letter upper-cased where `upper` says so.
    fn cased(name: &str, upper: &[bool]) -> String {
        name.chars()
            .zip(upper.iter().chain(std::iter::repeat(&false)))
            .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
            .collect()
    }

    fn json(s: &str) -> String {
        serde_json::to_string(s).unwrap_or_default()
    }

    /// A JSON value that is not a string.
    fn not_a_string() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("[]".to_string()),
            Just("{\"Value\":\"x\"}".to_string()),
            Just("[\"x\"]".to_string()),
        ]
    }

    fn refused_as_the_filter(e: &ApiError) -> Result<(), TestCaseError> {
        prop_assert_eq!(e.status, StatusCode::BAD_REQUEST);
        prop_assert_eq!(&e.fault.data, &vec![serde_json::json!("filter")]);
        Ok(())
    }

    proptest! {
        /// `Field`, `Value` and `Operator`, keys in any case and any order, among other keys
        /// and with any white space, parse to the values given, whatever their text.
        #[test]
        fn filters_parse_with_keys_in_any_case_and_order(
            field in any::<String>(),
            value in any::<String>(),
            operator in any::<String>(),
            upper in proptest::collection::vec(any::<bool>(), 8),
            others in proptest::collection::vec(("[a-z]{1,8}", any::<String>()), 0..3),
            order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle(),
            space in "[ \t\r\n]{0,2}",
        ) {
            let mut entries = vec![
                format!("{}:{}", json(&cased("field", &upper)), json(&field)),
                format!("{}:{}", json(&cased("value", &upper)), json(&value)),
                format!("{}:{}", json(&cased("operator", &upper)), json(&operator)),
            ];
            for (k, v) in &others {
                if !["field", "value", "operator"].contains(&k.as_str()) {
                    entries.push(format!("{}:{}", json(k), json(v)));
                }
            }
            let shuffled: Vec<&String> = order.iter().filter_map(|i| entries.get(*i)).collect();
            let text = format!(
                "{space}{{{space}{}{space}}}{space}",
                shuffled.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(&format!("{space},{space}"))
            );
            let f = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
            prop_assert_eq!(f.field, field);
            prop_assert_eq!(f.value, value);
            prop_assert_eq!(f.operator, operator);
        }

        /// A filter without one of the three keys, or with one that is not a string, is
        /// refused as the `filter` parameter.
        #[test]
        fn a_filter_missing_a_key_or_a_string_is_refused(
            field in any::<String>(),
            value in any::<String>(),
            which in 0..3usize,
            drop in any::<bool>(),
            other in not_a_string(),
        ) {
            let mut entries = vec![
                ("Field", json(&field)),
                ("Value", json(&value)),
                ("Operator", json("equals")),
            ];
            if drop {
                entries.remove(which);
            } else {
                entries[which].1 = other;
            }
            let text = format!(
                "{{{}}}",
                entries.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")
            );
            let e = Filter::parse(&text).err().ok_or_else(|| TestCaseError::fail(format!("{text} was taken")))?;
            refused_as_the_filter(&e)?;
        }

        /// Whatever the text, parsing answers; it takes only a JSON object, and refuses
        /// everything else as the `filter` parameter.
        #[test]
        fn arbitrary_text_never_panics_the_filter(
            text in prop_oneof![
                any::<String>(),
                "[{}\\[\\]\":, a-zA-Z0-9\\\\]{0,40}",
                "\\[{0,200}",
            ],
        ) {
            match Filter::parse(&text) {
                Ok(_) => prop_assert!(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).is_ok()),
                Err(e) => refused_as_the_filter(&e)?,
            }
        }

        /// `starts_with`, `startswith` and `substring` in any case are the two matches; any
        /// other operator is none.
        #[test]
        fn operators_in_any_case(
            name in prop_oneof![Just("starts_with".to_string()), Just("startswith".to_string()), Just("substring".to_string()), "[a-z_]{0,12}"],
            upper in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let f = Filter { field: String::new(), value: String::new(), operator: cased(&name, &upper) };
            let want = match name.as_str() {
                "starts_with" | "startswith" => Some(TextMatch::StartsWith),
                "substring" => Some(TextMatch::Substring),
                _ => None,
            };
            prop_assert_eq!(f.text_match(), want);
        }

        /// A page size of 1 to 500 (padded, under any casing of `size`) is taken, 0 is the
        /// default, more is refused as `size`.
        #[test]
        fn page_sizes_from_0_to_500(
            n in prop_oneof![0..=600u64, any::<u64>()],
            upper in proptest::collection::vec(any::<bool>(), 4),
            before in "[ ]{0,2}",
            after in "[ ]{0,2}",
        ) {
            let p = Params::from_pairs([(cased("size", &upper), format!("{before}{n}{after}"))]);
            match n {
                0 => prop_assert_eq!(p.page_size().ok(), Some(DEFAULT_PAGE_SIZE)),
                1..=500 => prop_assert_eq!(p.page_size().ok(), Some(n as u32)),
                _ => {
                    let e = p.page_size().err().ok_or_else(|| TestCaseError::fail(format!("{n} taken")))?;
                    prop_assert_eq!(&e.fault.data, &vec![serde_json::json!("size")]);
                }
            }
        }

        /// Whatever `size` says, the answer is a page of 1 to 500 or a refusal of `size`.
        #[test]
        fn arbitrary_page_sizes_never_panic(raw in any::<String>()) {
            let p = Params::from_pairs([("size".to_string(), raw)]);
            match p.page_size() {
                Ok(n) => prop_assert!((1..=MAX_PAGE_SIZE).contains(&n)),
                Err(e) => prop_assert_eq!(&e.fault.data, &vec![serde_json::json!("size")]),
            }
        }

        /// The continuation token: the header's (trimmed) before the parameter's, the first
        /// of repeated parameters in any case, and `seekOperation` Next (needing one), First
        /// (none) or absent (whatever was given); another operation is refused.
        #[test]
        fn continuation_tokens_from_the_header_or_the_query(
            header in proptest::option::of("[ ]{0,2}[A-Za-z0-9._-]{0,20}[ ]{0,2}"),
            params in proptest::collection::vec(
                (
                    prop_oneof![Just("continuationToken"), Just("seekOperation"), Just("size")],
                    proptest::collection::vec(any::<bool>(), 17),
                    prop_oneof![
                        "[A-Za-z0-9._-]{0,20}",
                        Just("next".to_string()),
                        Just("first".to_string()),
                        any::<String>(),
                    ],
                ),
                0..5,
            ),
        ) {
            let pairs: Vec<(String, String)> =
                params.iter().map(|(k, up, v)| (cased(k, up), v.clone())).collect();
            // The query string as a client sends it, read back as axum reads it.
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            let read: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
            prop_assert_eq!(&read, &pairs);
            let p = Params::from_pairs(read);
            let mut headers = axum::http::HeaderMap::new();
            if let Some(h) = &header {
                headers.insert("MS-ContinuationToken", h.parse().map_err(|_| TestCaseError::reject("header"))?);
            }
            let first = |name: &str| {
                pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
            };
            let token = header
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .or(first("continuationToken"))
                .filter(|t| !t.is_empty());
            let got = p.continuation(&headers);
            match first("seekOperation") {
                None => prop_assert_eq!(got.ok(), Some(token.map(str::to_string))),
                Some(op) if op.eq_ignore_ascii_case("next") => match token {
                    Some(t) => prop_assert_eq!(got.ok(), Some(Some(t.to_string()))),
                    None => prop_assert!(got.is_err()),
                },
                Some(op) if op.eq_ignore_ascii_case("first") => prop_assert_eq!(got.ok(), Some(None)),
                Some(_) => prop_assert!(got.is_err()),
            }
        }
    }
}
