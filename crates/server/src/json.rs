//! Request bodies as real clients send them: camelCase or PascalCase (property names match
//! case-insensitively), explicit nulls, unknown and read-only properties ignored, and any
//! `Content-Type`. Every failure is a 400 (800002) that names the property, or a 413.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::OpenApi;

use crate::error::ApiError;

/// The property names of every schema the API publishes, by their lower-case spelling: the
/// OpenAPI document is the one list of names, so a new property needs no second list here.
static CANONICAL: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let doc = crate::openapi::ApiDoc::openapi();
    let mut names = HashMap::new();
    if let Some(components) = doc.components {
        for schema in components.schemas.values() {
            collect_names(schema, &mut names);
        }
    }
    names
});

fn collect_names(schema: &RefOr<Schema>, names: &mut HashMap<String, String>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            for (name, property) in &object.properties {
                names
                    .entry(name.to_lowercase())
                    .or_insert_with(|| name.clone());
                collect_names(property, names);
            }
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &array.items {
                collect_names(items, names);
            }
        }
        Schema::OneOf(one) => one.items.iter().for_each(|s| collect_names(s, names)),
        Schema::AllOf(all) => all.items.iter().for_each(|s| collect_names(s, names)),
        Schema::AnyOf(any) => any.items.iter().for_each(|s| collect_names(s, names)),
        _ => {}
    }
}

/// Rewrites every object key to its canonical spelling, recursively.
pub fn canonicalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, v) in map {
                let name = CANONICAL.get(&key.to_lowercase()).cloned().unwrap_or(key);
                // Of two spellings of one property, the first one sent wins.
                if !out.contains_key(&name) {
                    out.insert(name, canonicalize(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize).collect()),
        other => other,
    }
}

/// Parses a request body into `T`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_input(
            "The request body is empty: send a JSON object.",
            vec![],
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_input(format!("The request body is not valid JSON: {e}."), vec![])
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_input(
            "The request body must be a JSON object.",
            vec![],
        ));
    }
    serde_path_to_error::deserialize(canonicalize(value)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::bad_input(format!("{path}: {inner}."), vec![path])
    })
}

/// The extractor for JSON bodies.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        parse(&bytes).map(Body)
    }
}

/// The raw body, with the size limit and body time-out turned into API errors.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            ApiError::for_status(StatusCode::REQUEST_TIMEOUT)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::CustomerUserRequest;

    #[test]
    fn pascal_case_with_nulls_and_read_only_properties() {
        let body = br#"{"UsageLocation":"US","Id":null,"UserPrincipalName":"a@b.com","FirstName":null,
            "DisplayName":"A","PasswordProfile":{"ForceChangePassword":true,"Password":"x"},
            "LastDirectorySyncTime":null,"UserDomainType":"none","State":"active","SoftDeletionTime":null,
            "Attributes":{"ObjectType":"CustomerUser"}}"#;
        let r: CustomerUserRequest = parse(body).unwrap();
        assert_eq!(r.usage_location.as_deref(), Some("US"));
        assert_eq!(r.user_principal_name.as_deref(), Some("a@b.com"));
        assert_eq!(r.first_name, None);
        assert_eq!(r.state.as_deref(), Some("active"));
        let p = r.password_profile.unwrap();
        assert_eq!(p.force_change_password, Some(true));
        assert_eq!(p.password.as_deref(), Some("x"));
    }

    #[test]
    fn any_casing() {
        let r: CustomerUserRequest =
            parse(br#"{"DISPLAYNAME":"A","userprincipalname":"a@b.com"}"#).unwrap();
        assert_eq!(r.display_name.as_deref(), Some("A"));
        assert_eq!(r.user_principal_name.as_deref(), Some("a@b.com"));
    }

    #[test]
    fn errors_name_the_property() {
        let e = parse::<CustomerUserRequest>(br#"{"displayName": 5}"#).unwrap_err();
        assert_eq!(e.fault.code, 800002);
        assert_eq!(e.fault.data, vec!["displayName"]);
        let e =
            parse::<CustomerUserRequest>(br#"{"passwordProfile": {"forceChangePassword": "yes"}}"#)
                .unwrap_err();
        assert_eq!(e.fault.data, vec!["passwordProfile.forceChangePassword"]);
        for bad in [&b""[..], b"  ", b"[]", b"\"x\"", b"{", b"null", b"{\"a\":}"] {
            assert_eq!(
                parse::<CustomerUserRequest>(bad).unwrap_err().fault.code,
                800002
            );
        }
    }
}
