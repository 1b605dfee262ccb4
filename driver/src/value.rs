//! SQLite values and the conversions between them and Rust types.
//!
//! [`Value`] is an owned SQLite value; [`ValueRef`] borrows text and blobs straight from a statement so decoding
//! copies them once. [`ToSql`] turns a Rust value into a `Value` for binding; [`FromSql`] reads a Rust value from a
//! `ValueRef`. Integer conversions are checked: a value out of the target's range is an error, never a wrap.
//! TEXT that is not UTF-8 has its own rules: see [`Value`].

use std::borrow::Cow;
use std::fmt;

/// The five storage classes of SQLite, owned.
///
/// # TEXT that is not UTF-8
///
/// SQLite stores TEXT as it is given (`CAST(x'ff' AS TEXT)`, or text written by another program), so a TEXT value
/// may hold bytes that are not UTF-8, which neither a `String` nor a `&str` can. The typed reads treat such a
/// value as rusqlite's do, and it never fails a whole query:
/// - as `Vec<u8>`, its bytes exactly ([`FromSql::from_sql_non_utf8_text`]);
/// - as `String` (or any type that reads text), an error of kind
///   [`TypeConversion`](crate::ErrorKind::TypeConversion) naming the column;
/// - as a [`Value`] (and in the owned [`Row`](crate::Row)s of `query` and streams), [`Value::Text`] with each
///   invalid sequence replaced by U+FFFD: lossy. A `Row` keeps the bytes too, so `row.get::<Vec<u8>>` still
///   returns them exactly;
/// - as a borrowed [`ValueRef`] of a running statement ([`RowRef::get_ref`](crate::RowRef::get_ref)), an error
///   of kind `TypeConversion`: a `ValueRef` cannot borrow text that is not UTF-8.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `NULL`.
    #[default]
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text (interior NUL bytes allowed). TEXT that SQLite holds as bytes that are not UTF-8 reads into it
    /// lossily, each invalid sequence as U+FFFD (see [`Value`](Value#text-that-is-not-utf-8)).
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A SQLite value that borrows its text or bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// `NULL`.
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text. TEXT that is not UTF-8 is never borrowed as one (see
    /// [`Value`](Value#text-that-is-not-utf-8)).
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// The storage class of a value, for error messages and schema work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// `NULL`.
    Null,
    /// `INTEGER`.
    Integer,
    /// `REAL`.
    Real,
    /// `TEXT`.
    Text,
    /// `BLOB`.
    Blob,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Null => "NULL",
            Type::Integer => "INTEGER",
            Type::Real => "REAL",
            Type::Text => "TEXT",
            Type::Blob => "BLOB",
        })
    }
}

impl Value {
    /// The value's storage class.
    pub fn data_type(&self) -> Type {
        self.as_ref().data_type()
    }

    /// Borrow the value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }

    /// Whether the value is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl ValueRef<'_> {
    /// The value's storage class.
    pub fn data_type(&self) -> Type {
        match self {
            ValueRef::Null => Type::Null,
            ValueRef::Integer(_) => Type::Integer,
            ValueRef::Real(_) => Type::Real,
            ValueRef::Text(_) => Type::Text,
            ValueRef::Blob(_) => Type::Blob,
        }
    }

    /// Copy into an owned [`Value`].
    pub fn to_owned(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl fmt::Display for Value {
    /// Text as it is, numbers as Rust prints them, `NULL` for null and blobs as `x'..'` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.pad("NULL"),
            Value::Integer(i) => f.pad(&i.to_string()),
            Value::Real(r) => f.pad(&r.to_string()),
            Value::Text(s) => f.pad(s),
            Value::Blob(b) => {
                let mut s = String::with_capacity(b.len() * 2 + 3);
                s.push_str("x'");
                for byte in b {
                    s.push_str(&format!("{byte:02x}"));
                }
                s.push('\'');
                f.pad(&s)
            }
        }
    }
}

/// Why a value could not be converted.
#[derive(Debug)]
#[non_exhaustive]
pub enum FromSqlError {
    /// The stored type cannot become the requested one.
    InvalidType,
    /// An integer does not fit the requested type.
    OutOfRange(i64),
    /// TEXT whose bytes are not valid UTF-8, which the requested type cannot hold.
    InvalidUtf8(std::str::Utf8Error),
    /// Any other reason.
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl fmt::Display for FromSqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromSqlError::InvalidType => f.write_str("invalid type"),
            FromSqlError::OutOfRange(i) => write!(f, "value {i} out of range"),
            FromSqlError::InvalidUtf8(e) => write!(f, "TEXT that is not valid UTF-8 ({e})"),
            FromSqlError::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FromSqlError {}

/// A Rust type that can be read from a SQLite value.
pub trait FromSql: Sized {
    /// Convert the borrowed value.
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError>;

    /// Convert TEXT whose `bytes` are not valid UTF-8, which no [`ValueRef::Text`] can hold (see
    /// [`Value`](Value#text-that-is-not-utf-8)). The default refuses with [`FromSqlError::InvalidUtf8`];
    /// `Vec<u8>` takes the bytes, [`Value`] the text with U+FFFD for each invalid sequence, and `Option<T>` what
    /// `T` takes.
    #[cold]
    fn from_sql_non_utf8_text(bytes: &[u8]) -> Result<Self, FromSqlError> {
        match std::str::from_utf8(bytes) {
            Err(e) => Err(FromSqlError::InvalidUtf8(e)),
            // Called with valid UTF-8 after all: it is text, read as such.
            Ok(s) => Self::from_sql(ValueRef::Text(s)),
        }
    }
}

/// A Rust type that can be bound as a SQLite parameter.
pub trait ToSql {
    /// Convert to an owned value; an error (an out-of-range `u64`, say) is reported when the statement is bound.
    fn to_sql(&self) -> crate::Result<Value>;

    /// The value to bind where it is bound at once (a tuple row of `execute_many`): borrowed from `self` when it
    /// can be, so text and blobs are not copied on the way. The default converts with [`to_sql`](ToSql::to_sql).
    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        self.to_sql().map(SqlArg::Owned)
    }
}

/// A value about to be bound: borrowed from its source, or converted. See [`ToSql::to_sql_ref`].
#[derive(Debug, Clone, PartialEq)]
pub enum SqlArg<'a> {
    /// Borrowed from the source.
    Borrowed(ValueRef<'a>),
    /// Converted.
    Owned(Value),
}

impl SqlArg<'_> {
    /// The value.
    #[inline]
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            SqlArg::Borrowed(v) => *v,
            SqlArg::Owned(v) => v.as_ref(),
        }
    }
}

impl FromSql for Value {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        Ok(value.to_owned())
    }

    /// [`Value::Text`], lossily: each invalid sequence becomes U+FFFD.
    fn from_sql_non_utf8_text(bytes: &[u8]) -> Result<Self, FromSqlError> {
        Ok(Value::Text(String::from_utf8_lossy(bytes).into_owned()))
    }
}

impl FromSql for i64 {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Integer(i) => Ok(i),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

macro_rules! from_sql_int {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            #[inline]
            fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
                let i = i64::from_sql(value)?;
                <$t>::try_from(i).map_err(|_| FromSqlError::OutOfRange(i))
            }
        }
    )*};
}
from_sql_int!(i8, i16, i32, isize, u8, u16, u32, u64, usize, u128);

impl FromSql for i128 {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        i64::from_sql(value).map(i128::from)
    }
}

impl FromSql for f64 {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Real(r) => Ok(r),
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => Ok(i as f64),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl FromSql for f32 {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        #[allow(clippy::cast_possible_truncation)]
        f64::from_sql(value).map(|f| f as f32)
    }
}

impl FromSql for bool {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        i64::from_sql(value).map(|i| i != 0)
    }
}

impl FromSql for String {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Text(s) => Ok(s.to_owned()),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl FromSql for Vec<u8> {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            _ => Err(FromSqlError::InvalidType),
        }
    }

    /// The bytes, exactly.
    fn from_sql_non_utf8_text(bytes: &[u8]) -> Result<Self, FromSqlError> {
        Ok(bytes.to_vec())
    }
}

impl<T: FromSql> FromSql for Option<T> {
    #[inline]
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }

    fn from_sql_non_utf8_text(bytes: &[u8]) -> Result<Self, FromSqlError> {
        T::from_sql_non_utf8_text(bytes).map(Some)
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(self.clone())
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(self.as_ref()))
    }
}

impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(self.to_owned())
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(*self))
    }
}

macro_rules! to_sql_lossless {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            #[inline]
            fn to_sql(&self) -> crate::Result<Value> {
                Ok(Value::Integer(i64::from(*self)))
            }
        }
        impl From<$t> for Value {
            #[inline]
            fn from(v: $t) -> Value {
                Value::Integer(i64::from(v))
            }
        }
    )*};
}
to_sql_lossless!(i8, i16, i32, i64, u8, u16, u32, bool);

macro_rules! to_sql_checked {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            #[inline]
            fn to_sql(&self) -> crate::Result<Value> {
                i64::try_from(*self).map(Value::Integer).map_err(|_| {
                    crate::Error::new(
                        crate::ErrorKind::TypeConversion,
                        format!(
                            "{} value {} does not fit SQLite's 64-bit signed INTEGER ({} to {})",
                            stringify!($t), self, i64::MIN, i64::MAX
                        ),
                    )
                })
            }
        }
    )*};
}
to_sql_checked!(u64, usize, isize, i128, u128);

impl ToSql for f64 {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Real(*self))
    }
}

impl ToSql for f32 {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Real(f64::from(*self)))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Real(f64::from(v))
    }
}

impl ToSql for str {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Text(self.to_owned()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Text(self)))
    }
}

impl ToSql for String {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Text(self.clone()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Text(self)))
    }
}

impl ToSql for Cow<'_, str> {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Text(self.clone().into_owned()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Text(self)))
    }
}

impl ToSql for [u8] {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Blob(self.to_vec()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Blob(self)))
    }
}

impl ToSql for Vec<u8> {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Blob(self.clone()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Blob(self)))
    }
}

impl<const N: usize> ToSql for [u8; N] {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Blob(self.to_vec()))
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        Ok(SqlArg::Borrowed(ValueRef::Blob(self)))
    }
}

impl<T: ToSql> ToSql for Option<T> {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        match self {
            None => Ok(Value::Null),
            Some(v) => v.to_sql(),
        }
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        match self {
            None => Ok(SqlArg::Borrowed(ValueRef::Null)),
            Some(v) => v.to_sql_ref(),
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        (**self).to_sql()
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        (**self).to_sql_ref()
    }
}

impl<T: ToSql + ?Sized> ToSql for Box<T> {
    #[inline]
    fn to_sql(&self) -> crate::Result<Value> {
        (**self).to_sql()
    }

    #[inline]
    fn to_sql_ref(&self) -> crate::Result<SqlArg<'_>> {
        (**self).to_sql_ref()
    }
}

impl ToSql for () {
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Null)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_checked_not_wrapped() {
        assert!(matches!(u8::from_sql(ValueRef::Integer(256)), Err(FromSqlError::OutOfRange(256))));
        assert!(matches!(i32::from_sql(ValueRef::Integer(i64::MAX)), Err(FromSqlError::OutOfRange(_))));
        assert!(matches!(u64::from_sql(ValueRef::Integer(-1)), Err(FromSqlError::OutOfRange(-1))));
        assert_eq!(u64::MAX.to_sql().unwrap_err().kind(), crate::ErrorKind::TypeConversion);
        assert_eq!((i64::MAX as u64).to_sql().unwrap(), Value::Integer(i64::MAX));
    }

    #[test]
    fn wide_integers_refuse_what_sqlite_cannot_hold() {
        assert_eq!(i128::from_sql(ValueRef::Integer(i64::MIN)).unwrap(), i128::from(i64::MIN));
        assert!(matches!(u128::from_sql(ValueRef::Integer(-5)), Err(FromSqlError::OutOfRange(-5))));
        assert_eq!(u128::from_sql(ValueRef::Integer(5)).unwrap(), 5);
        assert_eq!(i128::from(i64::MIN).to_sql().unwrap(), Value::Integer(i64::MIN));
        let e = (i128::from(i64::MAX) + 1).to_sql().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::TypeConversion);
        assert!(e.to_string().contains("i128 value 9223372036854775808 does not fit"), "{e}");
        let e = u64::MAX.to_sql().unwrap_err();
        assert!(e.to_string().contains("u64 value 18446744073709551615 does not fit"), "{e}");
    }

    #[test]
    fn strict_types() {
        assert!(matches!(i64::from_sql(ValueRef::Text("1")), Err(FromSqlError::InvalidType)));
        assert!(matches!(String::from_sql(ValueRef::Integer(1)), Err(FromSqlError::InvalidType)));
        assert_eq!(Option::<i64>::from_sql(ValueRef::Null).unwrap(), None);
        assert_eq!(f64::from_sql(ValueRef::Integer(3)).unwrap(), 3.0);
    }

    /// TEXT that is not UTF-8 reads as bytes into `Vec<u8>`, lossily into `Value`, and is an error for `String`.
    #[test]
    fn text_that_is_not_utf8_converts_per_type() {
        let bytes = [0xff, b'A'];
        assert_eq!(Vec::<u8>::from_sql_non_utf8_text(&bytes).unwrap(), bytes);
        assert_eq!(Option::<Vec<u8>>::from_sql_non_utf8_text(&bytes).unwrap(), Some(bytes.to_vec()));
        assert_eq!(Value::from_sql_non_utf8_text(&bytes).unwrap(), Value::Text("\u{FFFD}A".into()));
        assert!(matches!(String::from_sql_non_utf8_text(&bytes), Err(FromSqlError::InvalidUtf8(_))));
        assert!(matches!(i64::from_sql_non_utf8_text(&bytes), Err(FromSqlError::InvalidUtf8(_))));
    }

    #[test]
    fn display_blob_as_hex() {
        assert_eq!(Value::Blob(vec![0, 255]).to_string(), "x'00ff'");
        assert_eq!(format!("{:>5}", Value::Integer(42)), "   42");
    }
}
