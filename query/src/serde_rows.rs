//! Rows into your structs (`#[derive(Deserialize)]`) and structs into parameters (`#[derive(Serialize)]`).
//!
//! Decoding follows SQLAlchemy's storage on SQLite: 0/1 integers read as `bool`, and a text column read into a
//! map, list or struct is parsed as JSON (the `Json` column type). Encoding writes `bool` as 0/1, and nested
//! lists, maps and structs as JSON text.

use std::fmt;

use asqlite::{Params, Row, Value};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::error::{Error, Result};

#[derive(Debug)]
struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// Decode a row into `T` (a struct by column name, or a tuple by position).
pub fn from_row<T: DeserializeOwned>(row: &Row) -> Result<T> {
    T::deserialize(RowDe { columns: row.columns(), values: row.values() }).map_err(|e| Error::Serde(e.0))
}

struct RowDe<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl<'de> de::Deserializer<'de> for RowDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(RowMap { columns: self.columns.iter(), values: self.values.iter(), pending: None })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(ValueSeq(self.values.iter()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        map struct enum identifier ignored_any
    }
}

struct RowMap<'a> {
    columns: std::slice::Iter<'a, String>,
    values: std::slice::Iter<'a, Value>,
    pending: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for RowMap<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match (self.columns.next(), self.values.next()) {
            (Some(c), Some(v)) => {
                self.pending = Some(v);
                seed.deserialize(c.as_str().into_deserializer()).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        match self.pending.take() {
            Some(v) => seed.deserialize(ValueDe(v)),
            None => Err(DeError("value requested before key".into())),
        }
    }
}

struct ValueSeq<'a>(std::slice::Iter<'a, Value>);

impl<'de> de::SeqAccess<'de> for ValueSeq<'_> {
    type Error = DeError;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, DeError> {
        match self.0.next() {
            Some(v) => seed.deserialize(ValueDe(v)).map(Some),
            None => Ok(None),
        }
    }
}

struct ValueDe<'a>(&'a Value);

impl ValueDe<'_> {
    fn json<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Text(s) => {
                let v: serde_json::Value = serde_json::from_str(s).map_err(|e| DeError(format!("JSON column: {e}")))?;
                de::Deserializer::deserialize_any(v, visitor).map_err(|e| DeError(format!("JSON column: {e}")))
            }
            _ => de::Deserializer::deserialize_any(self, visitor),
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Real(r) => visitor.visit_f64(*r),
            Value::Text(s) => visitor.visit_str(s),
            Value::Blob(b) => visitor.visit_bytes(b),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Integer(i) => visitor.visit_bool(*i != 0),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.json(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.json(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.json(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.json(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.json(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Text(s) if !s.trim_start().starts_with('{') => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => self.json(visitor),
        }
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        identifier ignored_any
    }
}

/// Named parameters from a struct or map that implements `Serialize`: field name → value.
///
/// `bool` becomes 0/1, `None` NULL, nested lists, maps and structs JSON text.
pub fn to_params<T: serde::Serialize + ?Sized>(v: &T) -> Result<Params> {
    let json = serde_json::to_value(v).map_err(|e| Error::Serde(e.to_string()))?;
    let serde_json::Value::Object(map) = json else {
        return Err(Error::Serde("parameters must serialize as a struct or a map".into()));
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Integer(i64::from(b)),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::Integer(i),
                (None, _) if n.is_u64() => {
                    return Err(Error::Serde(format!("field {k:?}: {n} does not fit a 64-bit signed integer")))
                }
                (None, Some(f)) => Value::Real(f),
                (None, None) => return Err(Error::Serde(format!("field {k:?}: {n} is not a number SQLite stores"))),
            },
            serde_json::Value::String(s) => Value::Text(s),
            other => Value::Text(other.to_string()),
        };
        pairs.push((k, value));
    }
    Ok(Params::from(pairs))
}

/// One set of parameters for `execute_with` / `execute_many`: driver [`Params`] (from `named_params!`), or a
/// reference to anything that implements `Serialize` (a `#[derive(Serialize)]` struct, a map).
pub trait ParamSet {
    /// Convert.
    fn into_params(self) -> Result<Params>;
}

impl ParamSet for Params {
    fn into_params(self) -> Result<Params> {
        Ok(self)
    }
}

impl<T: serde::Serialize + ?Sized> ParamSet for &T {
    fn into_params(self) -> Result<Params> {
        to_params(self)
    }
}

impl ParamSet for () {
    fn into_params(self) -> Result<Params> {
        Ok(Params::none())
    }
}
