//! JSON (feature `serde_json`): `serde_json::Value`, and [`Json<T>`] for any `Serialize`/`Deserialize` type,
//! written as compact JSON text, as SQLAlchemy's `JSON` type stores it on SQLite.

use std::ops::{Deref, DerefMut};

use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::bad_value_because;
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};
use crate::{Error, ErrorKind};

/// The name [`Json`] gives itself as a serde newtype struct, so that a format that knows it (the query layer's
/// rows and parameters) can store the inner value as JSON text; every other format sees the inner value.
#[doc(hidden)]
pub const JSON_NEWTYPE_NAME: &str = "asqlite::types::Json";

const JSON_FORMAT: &str = "JSON text";

/// A value stored as JSON text: `params![Json(&body)]`, `row.get::<Json<Doc>>("body")?.0`.
///
/// Writing serializes `T` with `serde_json`; reading parses the stored JSON into `T`. A SQL NULL reads as JSON
/// `null` (so `Json<Option<T>>` reads it as `None`), and a number (which a `JSON` column's NUMERIC affinity makes
/// of the text `5`) as that number. A BLOB is read as JSON text; SQLite's binary JSONB is not: select `json(col)`.
///
/// With serde, `Json<T>` is transparent (it serializes as `T`), except in the query layer's rows and parameters,
/// where a `Json<T>` field is bound as JSON text and read by parsing the column's JSON, whatever `T` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(v: T) -> Self {
        Json(v)
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

fn to_json_text<T: Serialize + ?Sized>(v: &T) -> crate::Result<Value> {
    serde_json::to_string(v).map(Value::Text).map_err(|e| {
        Error::new(
            ErrorKind::TypeConversion,
            format!("a {} value cannot be written as JSON: {e}", std::any::type_name::<T>()),
        )
    })
}

/// The JSON a stored value holds: text (or a BLOB of text) parsed, a number as a number, NULL as `null`.
fn from_stored<T: DeserializeOwned>(value: ValueRef<'_>) -> Result<T, FromSqlError> {
    let what = "JSON";
    let fail = |e: serde_json::Error| bad_value_because(value, what, JSON_FORMAT, &e);
    match value {
        ValueRef::Text(s) => serde_json::from_str(s).map_err(fail),
        ValueRef::Blob(b) => serde_json::from_slice(b).map_err(|e| {
            bad_value_because(value, what, JSON_FORMAT, &format_args!("{e}; for SQLite's JSONB, select json(column)"))
        }),
        ValueRef::Integer(i) => T::deserialize(serde_json::Value::from(i)).map_err(fail),
        ValueRef::Real(r) => match serde_json::Number::from_f64(r) {
            Some(n) => T::deserialize(serde_json::Value::Number(n)).map_err(fail),
            None => Err(bad_value_because(value, what, JSON_FORMAT, &"not a finite number")),
        },
        ValueRef::Null => T::deserialize(serde_json::Value::Null).map_err(fail),
    }
}

impl<T: Serialize> ToSql for Json<T> {
    fn to_sql(&self) -> crate::Result<Value> {
        to_json_text(&self.0)
    }
}

impl<T: DeserializeOwned> FromSql for Json<T> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        from_stored(value).map(Json)
    }
}

impl ToSql for serde_json::Value {
    fn to_sql(&self) -> crate::Result<Value> {
        to_json_text(self)
    }
}

impl FromSql for serde_json::Value {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        from_stored(value)
    }
}

impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(JSON_NEWTYPE_NAME, &self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Json<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Json<T>, D::Error> {
                T::deserialize(d).map(Json)
            }
        }

        deserializer.deserialize_newtype_struct(JSON_NEWTYPE_NAME, V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        make: String,
        tags: Vec<String>,
    }

    #[test]
    fn json_text_round_trips() {
        let doc = Doc { make: "Honda Civic".into(), tags: vec!["used".into()] };
        let stored = Json(&doc).to_sql().unwrap();
        assert_eq!(stored, Value::Text(r#"{"make":"Honda Civic","tags":["used"]}"#.into()));
        assert_eq!(Json::<Doc>::from_sql(stored.as_ref()).unwrap().0, doc);
        // As SQLAlchemy writes it (json.dumps: spaces, ASCII escapes).
        let v = serde_json::Value::from_sql(ValueRef::Text(r#"[1, 2.5, null, "\u00fc"]"#)).unwrap();
        assert_eq!(v, serde_json::json!([1, 2.5, null, "ü"]));
        assert_eq!(serde_json::json!("a").to_sql().unwrap(), Value::Text("\"a\"".into()));
    }

    #[test]
    fn numbers_and_null_read_as_json() {
        assert_eq!(serde_json::Value::from_sql(ValueRef::Integer(5)).unwrap(), serde_json::json!(5));
        assert_eq!(serde_json::Value::from_sql(ValueRef::Real(2.5)).unwrap(), serde_json::json!(2.5));
        assert_eq!(serde_json::Value::from_sql(ValueRef::Null).unwrap(), serde_json::Value::Null);
        assert_eq!(Json::<Option<i64>>::from_sql(ValueRef::Null).unwrap().0, None);
        assert_eq!(Option::<serde_json::Value>::from_sql(ValueRef::Null).unwrap(), None);
        assert_eq!(serde_json::Value::from_sql(ValueRef::Blob(b"[1]")).unwrap(), serde_json::json!([1]));
    }

    #[test]
    fn bad_json_names_value_and_format() {
        let e = serde_json::Value::from_sql(ValueRef::Text("{bad")).unwrap_err().to_string();
        assert!(e.contains("\"{bad\"") && e.contains("JSON text"), "{e}");
        let e = Json::<Doc>::from_sql(ValueRef::Text("[1]")).unwrap_err().to_string();
        assert!(e.contains("\"[1]\"") && e.contains("invalid type"), "{e}");
        let e = serde_json::Value::from_sql(ValueRef::Blob(&[0x8c, 1])).unwrap_err().to_string();
        assert!(e.contains("json(column)"), "{e}");
        let e = Json(f64::NAN).to_sql();
        assert_eq!(e.unwrap(), Value::Text("null".into()), "serde_json writes NaN as null");
    }

    #[test]
    fn serde_sees_the_inner_value() {
        let s = serde_json::to_string(&Json(Doc { make: "Kia".into(), tags: vec![] })).unwrap();
        assert_eq!(s, r#"{"make":"Kia","tags":[]}"#);
        let back: Json<Doc> = serde_json::from_str(&s).unwrap();
        assert_eq!(back.0.make, "Kia");
    }
}
