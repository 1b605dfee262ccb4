//! `#[serde(with = "asqlite_query::serde_sql")]`: a struct field bound and read exactly as the driver's
//! [`ToSql`]/[`FromSql`] bind and read it, whatever its own `Serialize`/`Deserialize` do.
//!
//! Serde sees a chrono `NaiveDateTime` as the string `2012-05-17T09:30:00`, and chrono's `Deserialize` refuses
//! SQLAlchemy's `2012-05-17 09:30:00.000000`; a `Uuid` serializes hyphenated, not as SQLAlchemy's 32 hex digits.
//! Marking such fields with this module stores them in the driver's formats (the table is in `asqlite::types`)
//! and reads them with `FromSql`, so everything it accepts (SQLite's own date text, Unix seconds, ...) reads too:
//!
//! ```
//! # #[cfg(not(all(feature = "chrono", feature = "uuid")))] fn main() {}
//! # #[cfg(all(feature = "chrono", feature = "uuid"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use asqlite_query::types::{chrono::NaiveDateTime, uuid::Uuid};
//! use asqlite_query::{from_row, to_params};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Doc {
//!     #[serde(with = "asqlite_query::serde_sql")]
//!     id: Uuid,
//!     #[serde(with = "asqlite_query::serde_sql")]
//!     made_at: Option<NaiveDateTime>,
//! }
//!
//! let made = NaiveDateTime::parse_from_str("2012-05-17 09:30", "%Y-%m-%d %H:%M").unwrap();
//! let doc = Doc { id: Uuid::from_u128(1), made_at: Some(made) };
//! let p = to_params(&doc)?;
//! assert_eq!(p.get_named("made_at"), Some(&asqlite::Value::Text("2012-05-17 09:30:00.000000".into())));
//! assert_eq!(p.get_named("id"), Some(&asqlite::Value::Text("00000000000000000000000000000001".into())));
//!
//! let conn = asqlite::blocking::Connection::open_in_memory()?;
//! let row = conn.query_one("SELECT ?1 AS id, '2012-05-17T09:30' AS made_at", asqlite::params![doc.id])?;
//! assert_eq!(from_row::<Doc>(&row)?, doc);
//! # Ok(()) }
//! ```
//!
//! In other serde formats the field is its SQLite value: a string, a number, bytes or null.

use std::fmt;

use asqlite::{FromSql, ToSql, Value};
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{self, Serializer};

/// Serialize `v` as the SQLite value its [`ToSql`] gives.
pub fn serialize<T: ToSql, S: Serializer>(v: &T, serializer: S) -> Result<S::Ok, S::Error> {
    match v.to_sql().map_err(ser::Error::custom)? {
        Value::Null => serializer.serialize_none(),
        Value::Integer(i) => serializer.serialize_i64(i),
        Value::Real(r) => serializer.serialize_f64(r),
        Value::Text(s) => serializer.serialize_str(&s),
        Value::Blob(b) => serializer.serialize_bytes(&b),
    }
}

/// Deserialize an SQLite value (a string, number, bytes or null) and convert it with [`FromSql`].
pub fn deserialize<'de, T: FromSql, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    let v = deserializer.deserialize_any(ValueVisitor)?;
    T::from_sql(v.as_ref()).map_err(de::Error::custom)
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SQLite value: a string, a number, bytes or null")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Integer(i64::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Integer).map_err(|_| E::custom(format!("{v} does not fit a 64-bit INTEGER")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Real(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Blob(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Blob(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}
