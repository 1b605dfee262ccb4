//! Everyday value types of other crates, each behind the cargo feature of the crate's name, stored the way
//! SQLAlchemy's SQLite dialect stores them, so a file written by Python reads back in Rust and the other way round.
//!
//! Each crate is re-exported here (`asqlite::types::chrono`, ...), so a program uses the version the driver was
//! built with. With a feature on, its types implement [`ToSql`](crate::ToSql) and [`FromSql`](crate::FromSql)
//! (and so work in `params!`, `Row::get`, and the query layer's columns):
//!
//! | Rust type | feature | SQLite storage (written) | also read from | query-layer column |
//! |---|---|---|---|---|
//! | `chrono::NaiveDate`, `time::Date` | `chrono`, `time` | TEXT `YYYY-MM-DD` | | `Date` |
//! | `chrono::NaiveTime`, `time::Time` | `chrono`, `time` | TEXT `HH:MM:SS.ffffff` | `HH:MM`, `HH:MM:SS`, 1-9 fraction digits | `Time` |
//! | `chrono::NaiveDateTime`, `time::PrimitiveDateTime` | `chrono`, `time` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff` | `T` separator, no seconds or fraction, a date alone, an offset (converted to UTC), INTEGER Unix seconds | `DateTime` |
//! | `chrono::DateTime<Utc>` | `chrono` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff`, in UTC, no offset | as above; text without an offset is UTC | `DateTime` |
//! | `chrono::DateTime<FixedOffset>`, `time::OffsetDateTime` | `chrono`, `time` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff+HH:MM`, local time and offset | as above; text without an offset is UTC | `DateTime` |
//! | `uuid::Uuid` | `uuid` | TEXT, 32 lower-case hex digits | hyphenated, braced or `urn:uuid:` text; a 16-byte BLOB | `Uuid` (`CHAR(32)`) |
//! | `serde_json::Value`, `Json<T>` | `serde_json` | TEXT, JSON | INTEGER and REAL (a `JSON` column's affinity turns the text `5` into a number), a BLOB of JSON text | `Json` |
//! | `rust_decimal::Decimal` | `rust_decimal` | TEXT, e.g. `19999.99` | INTEGER, REAL (by its shortest decimal form), TEXT with an exponent | `Numeric` |
//! | `i128`, `u128`, `u64` | none | INTEGER; a value outside `i64` is an error | | `Integer`, `BigInteger` |
//!
//! ## Dates and times
//!
//! SQLAlchemy writes `DateTime` as `YYYY-MM-DD HH:MM:SS.ffffff`, `Date` as `YYYY-MM-DD` and `Time` as
//! `HH:MM:SS.ffffff`; so does this module. A value with nanoseconds gets nine fraction digits instead of six
//! (nothing is lost; text order is still time order; Python and SQLite read the first six and three). Years must be
//! 0000 to 9999, the years SQLite's date text has: writing another is an error.
//!
//! Reading also takes what SQLite's own functions produce: a `T` instead of the space, no fraction
//! (`CURRENT_TIMESTAMP`, `datetime()`), no seconds, a date alone for a date and time (midnight), `Z` or `±HH:MM`
//! after the time. Unix time is accepted only where it is unambiguous: an INTEGER read as a date and time is Unix
//! seconds (what `unixepoch()` returns). A REAL is refused (a Julian day from `julianday()` and fractional Unix
//! seconds look alike), and so are numbers for a date or a time of day alone (days? seconds? `YYYYMMDD`?):
//! convert in SQL (`datetime(x, 'unixepoch')`) to read those.
//!
//! **Time zones.** SQLAlchemy's SQLite `DateTime` is naive: it drops an aware datetime's offset. Here:
//! - `DateTime<Utc>` is written as its UTC time without an offset, SQLite's own convention (`datetime('now')` is
//!   UTC): it sorts and compares with `CURRENT_TIMESTAMP` and with SQLAlchemy's naive UTC values.
//! - `DateTime<FixedOffset>` and `OffsetDateTime` keep their offset: local time then `+HH:MM` (`+00:00` at UTC),
//!   which SQLite's date functions convert to UTC and Python's `fromisoformat` (SQLAlchemy's reader) reads as an
//!   aware datetime. Text order is instant order only between values of one offset: store `DateTime<Utc>` in a
//!   column you sort or compare by.
//! - Reading text without an offset into an offset type gives UTC (`+00:00`); reading text with an offset into
//!   `NaiveDateTime`, `PrimitiveDateTime` or `DateTime<Utc>` converts it to UTC, as SQLite's `datetime()` does.
//!
//! ## UUIDs, JSON, decimals
//!
//! SQLAlchemy's `Uuid` on SQLite is `CHAR(32)` holding 32 hex digits, which is what is written. Declare such
//! columns with text affinity (`CHAR(32)`, `TEXT`; not `UUID`, whose NUMERIC affinity would turn an all-digit UUID
//! into a lossy REAL). BLOBs of 16 bytes (what rusqlite and sqlx write) are read too.
//!
//! JSON is written as compact JSON text (`Json` wraps any `Serialize`/`Deserialize` type; `serde_json::Value`
//! works as is). A SQL NULL reads as JSON `null` (use `Option<_>` to tell them apart).
//!
//! A `Decimal` is written as TEXT, which keeps every digit in a column of TEXT or no affinity. SQLAlchemy's
//! `Numeric` column is declared `NUMERIC`, whose affinity turns well-formed numeric text into INTEGER or REAL
//! (keeping 15 significant digits), and SQLAlchemy itself writes floats there; reading takes all three storage
//! classes, a REAL by its shortest round-trip decimal form (`19999.99`, not `19999.990000000002`).
//!
//! ## Errors
//!
//! A value that does not convert is an error of kind [`ErrorKind::TypeConversion`](crate::ErrorKind), never a
//! panic: reading names the column (by the row), the value and the expected format; writing names the value.

#[cfg(feature = "chrono")]
pub use ::chrono;
#[cfg(feature = "rust_decimal")]
pub use ::rust_decimal;
#[cfg(feature = "serde_json")]
pub use ::serde_json;
#[cfg(feature = "time")]
pub use ::time;
#[cfg(feature = "uuid")]
pub use ::uuid;

#[cfg(feature = "chrono")]
mod chrono_types;
// Also read by the `arrow` feature's Date32, Timestamp and Time64 columns (the same accepted text).
#[cfg(any(feature = "chrono", feature = "time", feature = "arrow"))]
#[cfg_attr(not(any(feature = "chrono", feature = "time")), allow(dead_code))]
pub(crate) mod datetime_text;
#[cfg(feature = "rust_decimal")]
mod decimal;
#[cfg(feature = "serde_json")]
mod json;
#[cfg(feature = "time")]
mod time_types;
#[cfg(feature = "uuid")]
mod uuid_type;

#[cfg(feature = "serde_json")]
pub use json::{Json, JSON_NEWTYPE_NAME};

#[cfg(any(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "serde_json",
    feature = "rust_decimal"
))]
pub(crate) use convert::*;

#[cfg(any(feature = "chrono", feature = "time", feature = "uuid", feature = "serde_json", feature = "rust_decimal"))]
mod convert {
    use std::fmt;

    use crate::value::{FromSqlError, ValueRef};

    /// A value shown in an error message: text quoted and cut at 64 characters, a blob by its length.
    pub(crate) struct Shown<'a>(pub(crate) ValueRef<'a>);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                ValueRef::Null => f.write_str("NULL"),
                ValueRef::Integer(i) => write!(f, "INTEGER {i}"),
                ValueRef::Real(r) => write!(f, "REAL {r}"),
                ValueRef::Text(s) => match s.char_indices().nth(64) {
                    Some((i, _)) => write!(f, "TEXT {:?}...", &s[..i]),
                    None => write!(f, "TEXT {s:?}"),
                },
                ValueRef::Blob(b) => write!(f, "a BLOB of {} bytes", b.len()),
            }
        }
    }

    /// `value` is not a `what`: the error names the value and the format expected.
    #[cfg(any(feature = "chrono", feature = "time", feature = "rust_decimal"))]
    #[cold]
    pub(crate) fn bad_value(value: ValueRef<'_>, what: &str, expected: &str) -> FromSqlError {
        FromSqlError::Other(format!("{} is not {what}: expected {expected}", Shown(value)).into())
    }

    /// As [`bad_value`], with the reason the parser gave.
    #[cold]
    pub(crate) fn bad_value_because(
        value: ValueRef<'_>,
        what: &str,
        expected: &str,
        why: &dyn fmt::Display,
    ) -> FromSqlError {
        FromSqlError::Other(format!("{} is not {what} ({why}): expected {expected}", Shown(value)).into())
    }
}
