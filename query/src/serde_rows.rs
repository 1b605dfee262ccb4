//! Rows into your structs (`#[derive(Deserialize)]`); structs into parameters are in `serde_params`.
//!
//! Decoding follows SQLAlchemy's storage on SQLite: 0/1 integers read as `bool`, a text column read into a map,
//! list or struct is parsed as JSON (the `Json` column type), and so is any column read into a
//! [`Json<T>`](crate::Json) field. A BLOB reads into `Vec<u8>` (and `serde_bytes` types). Types of the driver's
//! features read through their own `Deserialize`, which may not take SQLite's text (chrono's `NaiveDateTime` wants
//! a `T`); read such fields with `#[serde(with = "asqlite_query::serde_sql")]`, which decodes with `FromSql`. An
//! error names the column.

use std::fmt;

use asqlite::{Row, Value};
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
    pending: Option<(&'a str, &'a Value)>,
}

impl<'de> de::MapAccess<'de> for RowMap<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match (self.columns.next(), self.values.next()) {
            (Some(c), Some(v)) => {
                self.pending = Some((c, v));
                seed.deserialize(c.as_str().into_deserializer()).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        match self.pending.take() {
            Some((column, v)) => seed.deserialize(ValueDe(v)).map_err(|e| DeError(format!("column {column:?}: {e}"))),
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

/// A field read as JSON whatever the column holds (a [`Json<T>`](crate::Json) field).
#[cfg(feature = "serde_json")]
fn json_newtype<'de, V: Visitor<'de>>(value: &Value, visitor: V) -> Result<V::Value, DeError> {
    use asqlite::FromSql;
    let json = serde_json::Value::from_sql(value.as_ref()).map_err(|e| DeError(e.to_string()))?;
    visitor.visit_newtype_struct(json).map_err(|e| DeError(format!("JSON column: {e}")))
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

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        #[cfg(feature = "serde_json")]
        if name == asqlite::types::JSON_NEWTYPE_NAME {
            return json_newtype(self.0, visitor);
        }
        let _ = name;
        visitor.visit_newtype_struct(self)
    }

    /// A BLOB is a sequence of its bytes (a `Vec<u8>` field); text is parsed as JSON.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Blob(b) => visitor.visit_seq(de::value::SeqDeserializer::new(b.iter().copied())),
            _ => self.json(visitor),
        }
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
