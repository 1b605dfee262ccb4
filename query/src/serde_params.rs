//! Structs into parameters (`#[derive(Serialize)]`): each field becomes one named value.
//!
//! A field is bound by what its `Serialize` produces: integers as INTEGER (a `u64` or `i128` outside `i64` is an
//! error), floats as REAL, strings as TEXT, `bool` as 0/1, `None` and `()` as NULL, a unit enum variant as its name.
//! Bytes are a BLOB: a field that serializes as bytes (`serde_bytes`, `ByteBuf`) or as a sequence of `u8` (a
//! `Vec<u8>`, `[u8; N]`). An empty `Vec<u8>` cannot be told from any other empty list (serde says only "a sequence
//! of 0 elements"), so it binds as the JSON text `[]` like other empty lists, and reads back as an empty `Vec<u8>`;
//! mark byte fields `#[serde(with = "serde_bytes")]` to store an empty BLOB. Other lists, maps and nested structs are
//! JSON text, and so is a [`Json<T>`](crate::Json) field whatever `T` is (a `Json<String>` binds `"text"` with its
//! quotes). Types of the driver's features (dates, UUIDs, decimals) serialize through their own `Serialize`, in
//! their crate's text form (chrono writes `2012-05-17T09:30:00`, not SQLAlchemy's `2012-05-17 09:30:00.000000`):
//! bind such fields with `#[serde(with = "asqlite_query::serde_sql")]` to store exactly what `ToSql` stores.

use std::fmt;

use asqlite::{Params, Value};
use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

use crate::error::{Error, Result};

#[derive(Debug)]
pub(crate) struct SerError(pub(crate) String);

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError(msg.to_string())
    }
}

impl From<serde_json::Error> for SerError {
    fn from(e: serde_json::Error) -> Self {
        SerError(e.to_string())
    }
}

/// Named parameters from a struct or map that implements `Serialize`: field name → value (see the module docs).
pub fn to_params<T: Serialize + ?Sized>(v: &T) -> Result<Params> {
    let pairs = v.serialize(TopSer).map_err(|e| Error::Serde(e.0))?;
    Ok(Params::from(pairs))
}

/// The name of a newtype struct whose inner value is bound as JSON text.
fn is_json_newtype(name: &str) -> bool {
    #[cfg(feature = "serde_json")]
    {
        name == asqlite::types::JSON_NEWTYPE_NAME
    }
    #[cfg(not(feature = "serde_json"))]
    {
        let _ = name;
        false
    }
}

fn json_text<T: Serialize + ?Sized>(v: &T) -> Result<Value, SerError> {
    Ok(Value::Text(serde_json::to_string(v)?))
}

fn checked<T: TryInto<i64> + fmt::Display + Copy>(v: T) -> Result<Value, SerError> {
    v.try_into().map(Value::Integer).map_err(|_| SerError(format!("{v} does not fit SQLite's 64-bit signed INTEGER")))
}

// ---- The top level: a struct or a map of fields.

struct TopSer;

fn not_a_struct<T>() -> Result<T, SerError> {
    Err(SerError("parameters must serialize as a struct or a map".into()))
}

macro_rules! reject {
    ($err:ident; $($name:ident($($t:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $t),*) -> Result<Self::Ok, Self::Error> {
            $err()
        }
    )*};
}

macro_rules! reject_compound {
    ($err:ident) => {
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Self::Error> {
            $err()
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Self::Error> {
            $err()
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            $err()
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            $err()
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Self::Error> {
            $err()
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            $err()
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            $err()
        }
    };
}

type Pairs = Vec<(String, Value)>;

impl Serializer for TopSer {
    type Ok = Pairs;
    type Error = SerError;
    type SerializeSeq = Impossible<Pairs, SerError>;
    type SerializeTuple = Impossible<Pairs, SerError>;
    type SerializeTupleStruct = Impossible<Pairs, SerError>;
    type SerializeTupleVariant = Impossible<Pairs, SerError>;
    type SerializeMap = FieldsSer;
    type SerializeStruct = FieldsSer;
    type SerializeStructVariant = Impossible<Pairs, SerError>;

    reject! { not_a_struct;
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_u8(u8), serialize_u16(u16), serialize_u32(u32), serialize_u64(u64), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_str(&str), serialize_bytes(&[u8]), serialize_none(),
        serialize_unit(), serialize_unit_struct(&'static str), serialize_unit_variant(&'static str, u32, &'static str),
    }
    reject_compound!(not_a_struct);

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<Pairs, SerError> {
        v.serialize(self)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<FieldsSer, SerError> {
        Ok(FieldsSer { pairs: Vec::with_capacity(len.unwrap_or(0)), key: None })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<FieldsSer, SerError> {
        Ok(FieldsSer { pairs: Vec::with_capacity(len), key: None })
    }
}

struct FieldsSer {
    pairs: Pairs,
    key: Option<String>,
}

impl FieldsSer {
    fn field<T: Serialize + ?Sized>(&mut self, key: String, v: &T) -> Result<(), SerError> {
        let value = v.serialize(FieldSer).map_err(|e| SerError(format!("field {key:?}: {e}")))?;
        self.pairs.push((key, value));
        Ok(())
    }
}

impl SerializeStruct for FieldsSer {
    type Ok = Pairs;
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), SerError> {
        self.field(key.to_owned(), v)
    }

    fn end(self) -> Result<Pairs, SerError> {
        Ok(self.pairs)
    }
}

impl SerializeMap for FieldsSer {
    type Ok = Pairs;
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        self.key = Some(match serde_json::to_value(key)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => return Err(SerError(format!("a parameter name must be a string, not {other}"))),
        });
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        let key = self.key.take().ok_or_else(|| SerError("a map value came before its key".into()))?;
        self.field(key, v)
    }

    fn end(self) -> Result<Pairs, SerError> {
        Ok(self.pairs)
    }
}

// ---- One field: one value.

struct FieldSer;

type JsonSer = serde_json::value::Serializer;

/// A compound field (other than a sequence), built as JSON and bound as its text.
struct JsonField<S>(S);

impl Serializer for FieldSer {
    type Ok = Value;
    type Error = SerError;
    type SerializeSeq = SeqField;
    type SerializeTuple = SeqField;
    type SerializeTupleStruct = SeqField;
    type SerializeTupleVariant = JsonField<<JsonSer as Serializer>::SerializeTupleVariant>;
    type SerializeMap = JsonField<<JsonSer as Serializer>::SerializeMap>;
    type SerializeStruct = JsonField<<JsonSer as Serializer>::SerializeStruct>;
    type SerializeStructVariant = JsonField<<JsonSer as Serializer>::SerializeStructVariant>;

    fn serialize_bool(self, v: bool) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, SerError> {
        Ok(Value::Integer(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, SerError> {
        checked(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, SerError> {
        Ok(Value::Integer(i64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, SerError> {
        checked(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, SerError> {
        checked(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, SerError> {
        Ok(Value::Real(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, SerError> {
        Ok(Value::Real(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, SerError> {
        Ok(Value::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerError> {
        Ok(Value::Text(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerError> {
        Ok(Value::Blob(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, SerError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value, SerError> {
        Ok(Value::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, v: &T) -> Result<Value, SerError> {
        if is_json_newtype(name) {
            json_text(v)
        } else {
            v.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value, SerError> {
        let json = serde_json::value::Serializer.serialize_newtype_variant(name, index, variant, v)?;
        Ok(Value::Text(json.to_string()))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqField, SerError> {
        Ok(SeqField::new(len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqField, SerError> {
        Ok(SeqField::new(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqField, SerError> {
        Ok(SeqField::new(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Ok(JsonField(serde_json::value::Serializer.serialize_tuple_variant(name, index, variant, len)?))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Ok(JsonField(serde_json::value::Serializer.serialize_map(len)?))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, SerError> {
        Ok(JsonField(serde_json::value::Serializer.serialize_struct(name, len)?))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Ok(JsonField(serde_json::value::Serializer.serialize_struct_variant(name, index, variant, len)?))
    }
}

macro_rules! json_compound {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for JsonField<<JsonSer as Serializer>::$tr> {
            type Ok = Value;
            type Error = SerError;

            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
                ser::$tr::$m(&mut self.0, v).map_err(SerError::from)
            }

            fn end(self) -> Result<Value, SerError> {
                Ok(Value::Text(ser::$tr::end(self.0)?.to_string()))
            }
        }
    )*};
}
json_compound!(SerializeTupleVariant::serialize_field);

macro_rules! json_named_compound {
    ($($tr:ident),*) => {$(
        impl ser::$tr for JsonField<<JsonSer as Serializer>::$tr> {
            type Ok = Value;
            type Error = SerError;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), SerError> {
                ser::$tr::serialize_field(&mut self.0, key, v).map_err(SerError::from)
            }

            fn end(self) -> Result<Value, SerError> {
                Ok(Value::Text(ser::$tr::end(self.0)?.to_string()))
            }
        }
    )*};
}
json_named_compound!(SerializeStruct, SerializeStructVariant);

impl SerializeMap for JsonField<<JsonSer as Serializer>::SerializeMap> {
    type Ok = Value;
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        self.0.serialize_key(key).map_err(SerError::from)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.0.serialize_value(v).map_err(SerError::from)
    }

    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Text(SerializeMap::end(self.0)?.to_string()))
    }
}

/// A sequence field: a BLOB while every element is a `u8`, else a JSON array (an empty one is `[]`).
struct SeqField {
    /// The bytes so far, while every element has been a `u8`.
    bytes: Option<Vec<u8>>,
    json: Vec<serde_json::Value>,
}

impl SeqField {
    fn new(len: usize) -> Self {
        SeqField { bytes: Some(Vec::with_capacity(len)), json: Vec::new() }
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        if let Some(bytes) = &mut self.bytes {
            if let Ok(b) = v.serialize(U8Probe) {
                bytes.push(b);
                return Ok(());
            }
            self.json = bytes.iter().map(|b| serde_json::Value::from(*b)).collect();
            self.bytes = None;
        }
        self.json.push(serde_json::to_value(v)?);
        Ok(())
    }

    fn finish(self) -> Value {
        match self.bytes {
            Some(b) if !b.is_empty() => Value::Blob(b),
            _ => Value::Text(serde_json::Value::Array(self.json).to_string()),
        }
    }
}

macro_rules! seq_field {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for SeqField {
            type Ok = Value;
            type Error = SerError;

            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
                self.element(v)
            }

            fn end(self) -> Result<Value, SerError> {
                Ok(self.finish())
            }
        }
    )*};
}
seq_field!(SerializeSeq::serialize_element, SerializeTuple::serialize_element, SerializeTupleStruct::serialize_field);

/// Succeeds only for a `u8`: tells a sequence of bytes from any other sequence.
struct U8Probe;

fn not_u8<T>() -> Result<T, SerError> {
    Err(SerError(String::new()))
}

impl Serializer for U8Probe {
    type Ok = u8;
    type Error = SerError;
    type SerializeSeq = Impossible<u8, SerError>;
    type SerializeTuple = Impossible<u8, SerError>;
    type SerializeTupleStruct = Impossible<u8, SerError>;
    type SerializeTupleVariant = Impossible<u8, SerError>;
    type SerializeMap = Impossible<u8, SerError>;
    type SerializeStruct = Impossible<u8, SerError>;
    type SerializeStructVariant = Impossible<u8, SerError>;

    fn serialize_u8(self, v: u8) -> Result<u8, SerError> {
        Ok(v)
    }

    reject! { not_u8;
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_u16(u16), serialize_u32(u32), serialize_u64(u64), serialize_f32(f32), serialize_f64(f64),
        serialize_char(char), serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str), serialize_unit_variant(&'static str, u32, &'static str),
    }
    reject_compound!(not_u8);

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<u8, SerError> {
        not_u8()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        not_u8()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, SerError> {
        not_u8()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn named(p: &Params) -> Vec<(String, Value)> {
        p.named_pairs().iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[derive(Serialize)]
    struct Row<'a> {
        id: i64,
        flag: bool,
        data: Vec<u8>,
        arr: [u8; 2],
        #[serde(with = "serde_bytes")]
        empty: &'a [u8],
        tags: Vec<String>,
        small: Vec<i64>,
        none: Option<i64>,
        nested: std::collections::BTreeMap<String, i64>,
    }

    #[test]
    fn bytes_are_blobs_and_lists_json() {
        let r = Row {
            id: 1,
            flag: true,
            data: vec![1, 2, 3],
            arr: [0, 255],
            empty: &[],
            tags: vec!["a".into()],
            small: vec![1, 2],
            none: None,
            nested: [("k".to_owned(), 1)].into(),
        };
        let got = named(&to_params(&r).unwrap());
        let want = [
            ("id", Value::Integer(1)),
            ("flag", Value::Integer(1)),
            ("data", Value::Blob(vec![1, 2, 3])),
            ("arr", Value::Blob(vec![0, 255])),
            ("empty", Value::Blob(vec![])),
            ("tags", Value::Text(r#"["a"]"#.into())),
            ("small", Value::Text("[1,2]".into())),
            ("none", Value::Null),
            ("nested", Value::Text(r#"{"k":1}"#.into())),
        ];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v)));
    }

    #[test]
    fn out_of_range_and_non_structs_are_errors() {
        #[derive(Serialize)]
        struct Big {
            n: u64,
        }
        let e = to_params(&Big { n: u64::MAX }).unwrap_err().to_string();
        assert!(e.contains("field \"n\"") && e.contains("18446744073709551615"), "{e}");
        assert!(to_params(&5).is_err());
        assert!(to_params(&vec![1, 2]).is_err());
    }
}
