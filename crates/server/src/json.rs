//! Request bodies as real clients send them: camelCase or PascalCase (property names match
//! case-insensitively), explicit nulls, unknown and read-only properties ignored, and any
//! `Content-Type`. Every failure is a 400 (800002) that names the property, or a 413.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Number, Value};
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
                // `parse_value` refused a property named twice; this only guards the invariant.
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
    let value = parse_value(bytes)?;
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

/// Parses JSON text, refusing an object that names one property twice: names match
/// case-insensitively, so `displayName` and `DisplayName` are the same property, and neither
/// spelling may silently win.
fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let repeated = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueNames {
        path: String::new(),
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| match repeated.take() {
        Some(path) => ApiError::bad_input(
            format!("{path} is given more than once (property names match case-insensitively): send each property once."),
            vec![path],
        ),
        None => ApiError::bad_input(format!("The request body is not valid JSON: {e}."), vec![]),
    })
}

/// Builds a [`Value`] and notes the path of the first property named twice in one object.
struct UniqueNames<'a> {
    path: String,
    repeated: &'a RefCell<Option<String>>,
}

impl UniqueNames<'_> {
    fn child(&self, segment: &str) -> Self {
        let path = if self.path.is_empty() || segment.starts_with('[') {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        UniqueNames {
            path,
            repeated: self.repeated,
        }
    }
}

impl<'de> DeserializeSeed<'de> for UniqueNames<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueNames<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // Each name by its lower-case spelling, as the canonical or the first spelling sent.
        let mut seen: HashMap<String, String> = HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let lower = key.to_lowercase();
            if let Some(name) = seen.get(&lower) {
                *self.repeated.borrow_mut() = Some(self.child(name).path);
                return Err(de::Error::custom("a property is given more than once"));
            }
            let name = CANONICAL
                .get(&lower)
                .cloned()
                .unwrap_or_else(|| key.clone());
            let value = map.next_value_seed(self.child(&name))?;
            seen.insert(lower, name);
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
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

/// The raw body, with the size limit, the body time-out and a broken body (such as bad
/// chunked encoding) turned into API errors.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        } else if timed_out(&rejection) {
            ApiError::for_status(StatusCode::REQUEST_TIMEOUT)
        } else {
            // Not a 408: clients retry those as they are, and this body would fail again.
            ApiError::bad_input(
                "The request body could not be read (its chunked encoding is broken): send the body again, well-formed.",
                vec![],
            )
        }
    })
}

fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        next = e.source();
    }
    false
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
        for bad in [
            &b""[..],
            b"  ",
            b"[]",
            b"\"x\"",
            b"{",
            b"null",
            b"{\"a\":}",
            b"{} {}",
        ] {
            assert_eq!(
                parse::<CustomerUserRequest>(bad).unwrap_err().fault.code,
                800002
            );
        }
    }

    #[test]
    fn a_property_given_twice_is_refused() {
        for (body, path) in [
            (
                &br#"{"displayName":"A","displayName":"B"}"#[..],
                "displayName",
            ),
            (br#"{"displayName":"A","DisplayName":"B"}"#, "displayName"),
            (br#"{"x":1,"X":2}"#, "x"),
            (
                br#"{"PasswordProfile":{"password":"a","PASSWORD":"b"}}"#,
                "passwordProfile.password",
            ),
            (br#"{"a":[{"b":1},{"b":1,"B":2}]}"#, "a[1].b"),
        ] {
            let e = parse::<CustomerUserRequest>(body).unwrap_err();
            assert_eq!(e.fault.code, 800002);
            assert_eq!(e.fault.data, vec![path]);
        }
        // The same name in different objects is fine.
        let r: CustomerUserRequest =
            parse(br#"{"passwordProfile":{"password":"x"},"x":{"password":1}}"#).unwrap();
        assert_eq!(r.password_profile.unwrap().password.as_deref(), Some("x"));
    }

    #[test]
    fn nested_objects_come_from_objects_only() {
        for body in [
            &br#"{"passwordProfile": ["Abcdef12!x", true]}"#[..],
            br#"{"passwordProfile": []}"#,
            br#"{"passwordProfile": "x"}"#,
            br#"{"passwordProfile": 5}"#,
        ] {
            let e = parse::<CustomerUserRequest>(body).unwrap_err();
            assert_eq!(e.fault.code, 800002);
            assert_eq!(e.fault.data, vec!["passwordProfile"]);
            assert!(
                e.fault.description.contains("expected an object"),
                "{}",
                e.fault.description
            );
            assert!(
                !e.fault.description.contains("Request"),
                "{}",
                e.fault.description
            );
        }
        let r: CustomerUserRequest = parse(br#"{"passwordProfile": null}"#).unwrap();
        assert!(r.password_profile.is_none());
        let r: CustomerUserRequest = parse(br#"{"displayName": "A"}"#).unwrap();
        assert!(r.password_profile.is_none());
    }
}
