//! How a column's Arrow type is chosen: from a field the caller gave, from the declared type, or from a value.

use std::fmt;

use arrow_schema::{DataType, Field, TimeUnit};

use super::{EXTENSION_KEY, JSON_EXTENSION};
use crate::ffi::Column as Cell;
use crate::{Error, ErrorKind, Result, ValueRef};

/// What a column's values become: the Arrow type, and for `Utf8` which values it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int64,
    Float64,
    /// TEXT only.
    Utf8,
    /// JSON text: TEXT, and numbers as their JSON text.
    Json,
    /// The [`Mixed::Utf8`](super::Mixed::Utf8) fallback: any value, as text.
    Text,
    Binary,
    Boolean,
    Date32,
    Timestamp,
    Time64,
    Null,
}

/// Why a column has its type, for error messages.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    Given,
    Declared(String),
    /// The first value that was not NULL, in this row.
    FirstValue(u64),
    /// Only NULLs in a stream's first batch.
    NullsInFirstBatch,
    Fallback,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Given => f.write_str("given in the ArrowOptions"),
            Origin::Declared(d) => write!(f, "from its declared type {d}"),
            Origin::FirstValue(row) => write!(f, "from its first value, in row {row}"),
            Origin::NullsInFirstBatch => f.write_str("the column held only NULLs in the stream's first batch"),
            Origin::Fallback => f.write_str("text, after a value of another type"),
        }
    }
}

/// The kind a declared type stands for (see the table in the module docs), or None to take it from the values.
pub(crate) fn from_decltype(decl: &str) -> Option<Kind> {
    let upper = decl.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim();
    let first = base.split_whitespace().next().unwrap_or("");
    let by_name = match first {
        "BOOLEAN" | "BOOL" => Some(Kind::Boolean),
        "DATE" => Some(Kind::Date32),
        "DATETIME" | "TIMESTAMP" => Some(Kind::Timestamp),
        "TIME" => Some(Kind::Time64),
        "JSON" => Some(Kind::Json),
        "NUMERIC" | "DECIMAL" => Some(Kind::Float64),
        _ => None,
    };
    if by_name.is_some() {
        return by_name;
    }
    // SQLite's affinity rules, in its order (https://sqlite.org/datatype3.html#determination_of_column_affinity).
    let has = |s: &str| base.contains(s);
    if has("INT") {
        Some(Kind::Int64)
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        Some(Kind::Utf8)
    } else if has("BLOB") {
        Some(Kind::Binary)
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        Some(Kind::Float64)
    } else {
        None
    }
}

/// The kind the first value that is not NULL gives a column.
pub(crate) fn from_value(cell: Cell<'_>) -> Kind {
    match cell {
        Cell::Value(ValueRef::Integer(_)) => Kind::Int64,
        Cell::Value(ValueRef::Real(_)) => Kind::Float64,
        Cell::Value(ValueRef::Blob(_)) => Kind::Binary,
        Cell::Value(ValueRef::Text(_)) | Cell::NonUtf8Text(_) => Kind::Utf8,
        Cell::Value(ValueRef::Null) => Kind::Null,
    }
}

/// The kind of a field the caller gave, or an error for a type this module does not build.
pub(crate) fn from_field(i: usize, field: &Field) -> Result<Kind> {
    Ok(match field.data_type() {
        DataType::Int64 => Kind::Int64,
        DataType::Float64 => Kind::Float64,
        DataType::Utf8 if field.metadata().get(EXTENSION_KEY).is_some_and(|n| n == JSON_EXTENSION) => Kind::Json,
        DataType::Utf8 => Kind::Utf8,
        DataType::Binary => Kind::Binary,
        DataType::Boolean => Kind::Boolean,
        DataType::Date32 => Kind::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, _) => Kind::Timestamp,
        DataType::Time64(TimeUnit::Microsecond) => Kind::Time64,
        DataType::Null => Kind::Null,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "column {i} (\"{}\"): Arrow type {other} is not supported; use Int64, Float64, Utf8, Binary, \
                     Boolean, Date32, Timestamp(Microsecond, _), Time64(Microsecond) or Null",
                    field.name()
                ),
            ))
        }
    })
}

/// The Arrow type of a kind (`tz` for a timestamp).
pub(crate) fn data_type(kind: Kind, tz: Option<&std::sync::Arc<str>>) -> DataType {
    match kind {
        Kind::Int64 => DataType::Int64,
        Kind::Float64 => DataType::Float64,
        Kind::Utf8 | Kind::Json | Kind::Text => DataType::Utf8,
        Kind::Binary => DataType::Binary,
        Kind::Boolean => DataType::Boolean,
        Kind::Date32 => DataType::Date32,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, tz.cloned()),
        Kind::Time64 => DataType::Time64(TimeUnit::Microsecond),
        Kind::Null => DataType::Null,
    }
}

/// A value as error messages show it: text quoted and cut at 64 characters, a blob by its length.
pub(crate) struct Shown<'a>(pub Cell<'a>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Cell::Value(ValueRef::Null) => f.write_str("NULL"),
            Cell::Value(ValueRef::Integer(i)) => write!(f, "INTEGER {i}"),
            Cell::Value(ValueRef::Real(r)) => write!(f, "REAL {r:?}"),
            Cell::Value(ValueRef::Text(s)) => match s.char_indices().nth(64) {
                Some((i, _)) => write!(f, "TEXT {:?}...", &s[..i]),
                None => write!(f, "TEXT {s:?}"),
            },
            Cell::Value(ValueRef::Blob(b)) => write!(f, "a BLOB of {} bytes", b.len()),
            Cell::NonUtf8Text(b) => write!(f, "TEXT that is not valid UTF-8 ({} bytes)", b.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_like_sqlite_affinity_with_sqlalchemy_names_first() {
        let cases = [
            ("INTEGER", Some(Kind::Int64)),
            ("int", Some(Kind::Int64)),
            ("BIGINT", Some(Kind::Int64)),
            ("UNSIGNED BIG INT", Some(Kind::Int64)),
            ("REAL", Some(Kind::Float64)),
            ("FLOAT", Some(Kind::Float64)),
            ("DOUBLE PRECISION", Some(Kind::Float64)),
            ("NUMERIC(10, 2)", Some(Kind::Float64)),
            ("TEXT", Some(Kind::Utf8)),
            ("VARCHAR(30)", Some(Kind::Utf8)),
            ("CHAR(32)", Some(Kind::Utf8)),
            ("CLOB", Some(Kind::Utf8)),
            ("BLOB", Some(Kind::Binary)),
            ("BOOLEAN", Some(Kind::Boolean)),
            ("DATE", Some(Kind::Date32)),
            ("DATETIME", Some(Kind::Timestamp)),
            ("TIMESTAMP", Some(Kind::Timestamp)),
            ("TIME", Some(Kind::Time64)),
            ("JSON", Some(Kind::Json)),
            ("", None),
            ("ANY", None),
            ("MONEY", None),
        ];
        for (decl, kind) in cases {
            assert_eq!(from_decltype(decl), kind, "{decl}");
        }
    }
}
