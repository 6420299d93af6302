//! Request bodies as real clients send them: camelCase or PascalCase (property names match
//! case-insensitively), explicit nulls, unknown and read-only properties ignored, and any
//! `Content-Type`. Every failure is a 400 (800002) that names the property, or a 413.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::Deserializer;
use serde_json::{Map, Number, Value};

use crate::error::ApiError;

/// Parses a request body into `T`: property names match `T`'s field names (nested ones
/// too) case-insensitively, so the names come from the types, with no list of them here.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_input(
            "The request body is empty: send a JSON object.",
            vec![],
        ));
    }
    let (value, repeated) = parse_value(bytes)?;
    if !value.is_object() {
        return Err(ApiError::bad_input(
            "The request body must be a JSON object.",
            vec![],
        ));
    }
    if let Some(raw) = repeated {
        let path = canonical_path::<T>(&raw);
        return Err(ApiError::bad_input(
            format!("{path} is given more than once (property names match case-insensitively): send each property once."),
            vec![path],
        ));
    }
    serde_path_to_error::deserialize(Canonical(value)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::bad_input(format!("{path}: {inner}."), vec![path])
    })
}

/// One step of a path into a JSON body.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// What stands where a property was named twice, in [`canonical_path`]'s probe.
const REPEATED: &str = "\u{0}roster: named twice";

/// The path of a property named twice, spelt as `T` names its fields: `T` is deserialized
/// from a probe that holds only that path, ending in a marker that fails where it is read, and
/// the path the failure reports is in `T`'s spelling. Array indexes are the body's own.
fn canonical_path<T: DeserializeOwned>(raw: &[Step]) -> String {
    let mut probe = Value::String(REPEATED.into());
    for step in raw.iter().rev() {
        probe = match step {
            Step::Key(k) => Value::Object(Map::from_iter([(k.clone(), probe)])),
            Step::Index(_) => Value::Array(vec![probe]),
        };
    }
    let named: Vec<String> = match serde_path_to_error::deserialize::<_, T>(Canonical(probe)) {
        Err(e) => e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                _ => None,
            })
            .collect(),
        Ok(_) => Vec::new(),
    };
    let mut keys = named.into_iter();
    let mut out = String::new();
    for step in raw {
        match step {
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&keys.next().unwrap_or_else(|| k.clone()));
            }
        }
    }
    out
}

/// Parses JSON text, and notes the first property named twice in one object: names match
/// case-insensitively, so `displayName` and `DisplayName` are the same property, and neither
/// spelling may silently win.
fn parse_value(bytes: &[u8]) -> Result<(Value, Option<Vec<Step>>), ApiError> {
    let repeated = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueNames {
        path: Vec::new(),
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(value) => Ok((value, None)),
        Err(_) if repeated.borrow().is_some() => Ok((Value::Object(Map::new()), repeated.take())),
        Err(e) => Err(ApiError::bad_input(
            format!("The request body is not valid JSON: {e}."),
            vec![],
        )),
    }
}

/// Builds a [`Value`] and notes the path of the first property named twice in one object.
struct UniqueNames<'a> {
    path: Vec<Step>,
    repeated: &'a RefCell<Option<Vec<Step>>>,
}

impl UniqueNames<'_> {
    fn child(&self, step: Step) -> Self {
        let mut path = self.path.clone();
        path.push(step);
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
        while let Some(item) = seq.next_element_seed(self.child(Step::Index(items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // Each name by its lower-case spelling, as it was first sent.
        let mut seen: HashMap<String, String> = HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let lower = key.to_lowercase();
            if let Some(first) = seen.get(&lower) {
                *self.repeated.borrow_mut() = Some(self.child(Step::Key(first.clone())).path);
                return Err(de::Error::custom("a property is given more than once"));
            }
            let value = map.next_value_seed(self.child(Step::Key(key.clone())))?;
            seen.insert(lower, key.clone());
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A JSON value that deserializes with its objects' property names matched
/// case-insensitively to the names of the fields of the struct they become.
struct Canonical(Value);

impl Canonical {
    fn refuse_marker(&self) -> Result<(), serde_json::Error> {
        match &self.0 {
            Value::String(s) if s == REPEATED => Err(de::Error::custom("named twice")),
            _ => Ok(()),
        }
    }
}

/// Deserializer methods that reach a scalar: the value's own, unless it is the marker.
macro_rules! scalars {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
                self.refuse_marker()?;
                self.0.$method(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Canonical {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        match self.0 {
            Value::Object(map) => visitor.visit_map(Properties::new(map, None)),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        match self.0 {
            Value::Object(map) => visitor.visit_map(Properties::new(map, Some(fields))),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        match self.0 {
            Value::Object(map) => visitor.visit_map(Properties::new(map, None)),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Canonical(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        self.0.deserialize_enum(name, variants, visitor)
    }

    /// Walked, not dropped: a property named twice inside an unknown property is refused too.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    scalars! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.refuse_marker()?;
        self.0.deserialize_unit_struct(name, visitor)
    }
}

/// An object's properties, each named as the struct's field it matches (case-insensitively).
struct Properties {
    entries: serde_json::map::IntoIter,
    fields: Option<&'static [&'static str]>,
    value: Option<Value>,
}

impl Properties {
    fn new(map: Map<String, Value>, fields: Option<&'static [&'static str]>) -> Self {
        Self {
            entries: map.into_iter(),
            fields,
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Properties {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let name = self
            .fields
            .and_then(|fields| fields.iter().find(|f| f.eq_ignore_ascii_case(&key)))
            .map_or(key, |f| (*f).to_string());
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self.value.take().unwrap_or(Value::Null);
        seed.deserialize(Canonical(value))
    }
}

/// An array's items.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.0.next() {
            Some(value) => seed.deserialize(Canonical(value)).map(Some),
            None => Ok(None),
        }
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
        assert_eq!(e.fault.data, vec![serde_json::json!("displayName")]);
        let e =
            parse::<CustomerUserRequest>(br#"{"passwordProfile": {"forceChangePassword": "yes"}}"#)
                .unwrap_err();
        assert_eq!(
            e.fault.data,
            vec![serde_json::json!("passwordProfile.forceChangePassword")]
        );
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
            assert_eq!(e.fault.data, vec![serde_json::json!(path)]);
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
            assert_eq!(e.fault.data, vec![serde_json::json!("passwordProfile")]);
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
