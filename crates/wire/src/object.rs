//! Nested objects as real clients mean them.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// For `#[serde(default, deserialize_with = "crate::object")]` on a nested object
/// property: only a JSON object (or null) is accepted. Serde otherwise also takes a struct
/// from an array of its fields in order (`["a.com", "A"]`), which no client means.
pub fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<ObjectOf<T>>::deserialize(deserializer).map(|o| o.map(|ObjectOf(t)| t))
}

struct ObjectOf<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(ObjectOnly(deserializer)).map(ObjectOf)
    }
}

/// A deserializer whose structs come from JSON objects only.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, MapOnly(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A struct visitor that takes a map and nothing else, and says "an object" when refusing
/// (never the Rust type's name).
struct MapOnly<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for MapOnly<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(map)
    }
}

/// For `#[serde(default, deserialize_with = "crate::object::whole_number")]` on an integer
/// property: a whole number, also when a client's JSON writes it with a fraction of zero
/// (`5.0`, as JSON Schema and JavaScript count it); `5.5` and numbers beyond `i64` are refused.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<Whole>::deserialize(deserializer).map(|w| w.map(|Whole(n)| n))
}

struct Whole(i64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeVisitor)
    }
}

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Whole, E> {
        Ok(Whole(n))
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Whole, E> {
        i64::try_from(n)
            .map(Whole)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
    }
    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Whole, E> {
        // i64::MAX is not exactly an f64: the bounds are the nearest f64 inside the range.
        if n.fract() == 0.0 && (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&n) {
            Ok(Whole(n as i64))
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
        }
    }
}

#[cfg(test)]
mod whole_number_tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Units {
        #[serde(default, deserialize_with = "whole_number")]
        n: Option<i64>,
    }

    fn parse(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Units>(json)
            .map(|u| u.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn takes_whole_numbers_however_written() {
        assert_eq!(parse(r#"{"n": 5}"#), Ok(Some(5)));
        assert_eq!(parse(r#"{"n": -5}"#), Ok(Some(-5)));
        assert_eq!(parse(r#"{"n": 5.0}"#), Ok(Some(5)));
        assert_eq!(parse(r#"{"n": -1027.0}"#), Ok(Some(-1027)));
        assert_eq!(parse(r#"{"n": 1e3}"#), Ok(Some(1000)));
        assert_eq!(parse(r#"{"n": null}"#), Ok(None));
        assert_eq!(parse(r#"{}"#), Ok(None));
    }

    #[test]
    fn refuses_fractions_and_numbers_beyond_i64() {
        for json in [
            r#"{"n": 5.5}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": 18446744073709551615}"#,
            r#"{"n": "5"}"#,
            r#"{"n": true}"#,
        ] {
            assert!(parse(json).is_err(), "{json}");
        }
    }
}
