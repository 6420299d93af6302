//! The wire types (the `roster-wire` crate, shared with the SDK), and how the server sends
//! them: JSON with Partner Center's content type.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use roster_wire::*;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON response with Partner Center's content type.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}
