//! Column types, stored the way SQLAlchemy stores them on SQLite.
//!
//! | type | DDL | stored as | Rust values (driver feature) |
//! |---|---|---|---|
//! | [`Integer`], [`BigInteger`], [`SmallInteger`] | `INTEGER`, `BIGINT`, `SMALLINT` | integer | `i64`, `i32`, ..., `u64` and `i128` (checked) |
//! | [`Float`] | `FLOAT` | real | `f64`, `f32` |
//! | [`Numeric`] | `NUMERIC` | decimal text, which the column's NUMERIC affinity keeps as an integer or real (15 digits) | `rust_decimal::Decimal` (`rust_decimal`), `f64` |
//! | [`Text`], [`Varchar`] | `TEXT`, `VARCHAR(n)` | text | `String`, `&str` |
//! | [`Blob`] | `BLOB` | blob | `Vec<u8>`, `&[u8]` |
//! | [`Boolean`] | `BOOLEAN` | integer 0 or 1 | `bool` |
//! | [`Date`] | `DATE` | text `YYYY-MM-DD` | `chrono::NaiveDate` (`chrono`), `time::Date` (`time`) |
//! | [`Time`] | `TIME` | text `HH:MM:SS.ffffff` | `chrono::NaiveTime`, `time::Time` |
//! | [`DateTime`] | `DATETIME` | text `YYYY-MM-DD HH:MM:SS.ffffff` | `chrono::NaiveDateTime`, `DateTime<Utc>`, `DateTime<FixedOffset>`, `time::PrimitiveDateTime`, `OffsetDateTime` |
//! | [`Uuid`] | `CHAR(32)` | text, 32 hex digits | `uuid::Uuid` (`uuid`) |
//! | [`Json`] | `JSON` | JSON text | `serde_json::Value`, `asqlite_query::Json<T>` (`serde_json`) |
//!
//! Each type is a unit value (`Column::new("year", Integer)`) that converts into [`SqlType`]. The Rust values
//! bind (`named_params!`, `lit`, comparisons) and decode (`row.get::<NaiveDateTime>("made_at")`) through the
//! driver's `ToSql`/`FromSql`, with the driver's features, which this crate forwards under the same names and
//! whose crates it re-exports here (`asqlite_query::types::chrono`, ...). The formats, what else is read (SQLite's
//! own date and time text, Unix seconds) and how time zones are stored are in the driver's `asqlite::types`.
//!
//! ```
//! # #[cfg(not(feature = "chrono"))] fn main() {}
//! # #[cfg(feature = "chrono")]
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use asqlite_query::prelude::*;
//! use asqlite_query::types::chrono::NaiveDate;
//!
//! let meta = MetaData::new();
//! let cars = Table::new("cars", &meta, [Column::new("car_id", Integer).primary_key(), Column::new("sold", Date)]);
//! let conn = asqlite::blocking::Connection::open_in_memory()?;
//! meta.create_all(&conn)?;
//! let day = NaiveDate::from_ymd_opt(2012, 5, 17).unwrap();
//! let c = cars.insert().values(named_params! {"sold" => day}).compile()?;
//! conn.execute(c.sql(), c.bind(&Params::none())?)?;
//! let c = select(&cars).where_(cars.c("sold").ge(day)).compile()?;
//! let row = conn.query_one(c.sql(), c.bind(&Params::none())?)?;
//! assert_eq!(row.get::<NaiveDate>("sold")?, day);
//! # Ok(()) }
//! ```

#[cfg(feature = "chrono")]
pub use asqlite::types::chrono;
#[cfg(feature = "rust_decimal")]
pub use asqlite::types::rust_decimal;
#[cfg(feature = "serde_json")]
pub use asqlite::types::serde_json;
#[cfg(feature = "time")]
pub use asqlite::types::time;
#[cfg(feature = "uuid")]
pub use asqlite::types::uuid;

use std::fmt;

/// The type of a column or of a `CAST`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// `INTEGER`: 64-bit integers. An `INTEGER PRIMARY KEY` is the rowid.
    Integer,
    /// `BIGINT`.
    BigInteger,
    /// `SMALLINT`.
    SmallInteger,
    /// `FLOAT`.
    Float,
    /// `NUMERIC`.
    Numeric,
    /// `TEXT`.
    Text,
    /// `VARCHAR(n)`; SQLite does not enforce the length.
    Varchar(u32),
    /// `BLOB`.
    Blob,
    /// `BOOLEAN`, stored as 0 or 1.
    Boolean,
    /// `DATE`, stored as ISO text `YYYY-MM-DD`.
    Date,
    /// `DATETIME`, stored as ISO text `YYYY-MM-DD HH:MM:SS.ffffff`.
    DateTime,
    /// `TIME`, stored as ISO text `HH:MM:SS.ffffff`.
    Time,
    /// SQLAlchemy's `Uuid`: `CHAR(32)`, 32 hex digits.
    Uuid,
    /// `JSON`, stored as JSON text.
    Json,
    /// Any other declared type, kept as written (from reflection).
    Other(String),
    /// No declared type.
    Null,
}

impl SqlType {
    /// The type's name in DDL.
    pub fn ddl(&self) -> String {
        match self {
            SqlType::Integer => "INTEGER".into(),
            SqlType::BigInteger => "BIGINT".into(),
            SqlType::SmallInteger => "SMALLINT".into(),
            SqlType::Float => "FLOAT".into(),
            SqlType::Numeric => "NUMERIC".into(),
            SqlType::Text => "TEXT".into(),
            SqlType::Varchar(n) => format!("VARCHAR({n})"),
            SqlType::Blob => "BLOB".into(),
            SqlType::Boolean => "BOOLEAN".into(),
            SqlType::Date => "DATE".into(),
            SqlType::DateTime => "DATETIME".into(),
            SqlType::Time => "TIME".into(),
            SqlType::Uuid => "CHAR(32)".into(),
            SqlType::Json => "JSON".into(),
            SqlType::Other(s) => s.clone(),
            SqlType::Null => String::new(),
        }
    }

    /// The type a declared SQL type name stands for, as reflection reads it.
    pub fn from_declared(decl: &str) -> SqlType {
        let upper = decl.trim().to_ascii_uppercase();
        let base = upper.split('(').next().unwrap_or("").trim();
        match base {
            "" => SqlType::Null,
            "INTEGER" | "INT" => SqlType::Integer,
            "BIGINT" => SqlType::BigInteger,
            "SMALLINT" => SqlType::SmallInteger,
            "FLOAT" | "REAL" | "DOUBLE" | "DOUBLE PRECISION" => SqlType::Float,
            "NUMERIC" | "DECIMAL" => SqlType::Numeric,
            "TEXT" | "CLOB" => SqlType::Text,
            "VARCHAR" | "CHAR" | "NVARCHAR" | "NCHAR" | "CHARACTER" => {
                let n = upper.split_once('(').and_then(|(_, r)| r.trim_end_matches(')').trim().parse::<u32>().ok());
                match n {
                    Some(n) => SqlType::Varchar(n),
                    None => SqlType::Text,
                }
            }
            "BLOB" => SqlType::Blob,
            "BOOLEAN" | "BOOL" => SqlType::Boolean,
            "DATE" => SqlType::Date,
            "DATETIME" | "TIMESTAMP" => SqlType::DateTime,
            "TIME" => SqlType::Time,
            "JSON" => SqlType::Json,
            _ => SqlType::Other(decl.trim().to_owned()),
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ddl())
    }
}

macro_rules! unit_types {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl From<$name> for SqlType {
            fn from(_: $name) -> SqlType {
                SqlType::$name
            }
        }
    )*};
}

unit_types! {
    /// `INTEGER` (see [`SqlType::Integer`]).
    Integer,
    /// `BIGINT`.
    BigInteger,
    /// `SMALLINT`.
    SmallInteger,
    /// `FLOAT`.
    Float,
    /// `NUMERIC`: decimals (`rust_decimal::Decimal`), which its affinity stores as integers or reals.
    Numeric,
    /// `TEXT` (SQLAlchemy's `String` without a length).
    Text,
    /// `BLOB` (SQLAlchemy's `LargeBinary`).
    Blob,
    /// `BOOLEAN`, stored as 0/1.
    Boolean,
    /// `DATE`, stored as `YYYY-MM-DD` text.
    Date,
    /// `DATETIME`, stored as `YYYY-MM-DD HH:MM:SS.ffffff` text.
    DateTime,
    /// `TIME`, stored as `HH:MM:SS.ffffff` text.
    Time,
    /// SQLAlchemy's `Uuid` on SQLite: `CHAR(32)` (text affinity), 32 hex digits.
    Uuid,
    /// `JSON`, stored as JSON text.
    Json,
}

/// `VARCHAR(n)` (SQLAlchemy's `String(n)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Varchar(pub u32);

impl From<Varchar> for SqlType {
    fn from(v: Varchar) -> SqlType {
        SqlType::Varchar(v.0)
    }
}

/// Format a date as SQLAlchemy stores it on SQLite: `YYYY-MM-DD`.
///
/// Returns `None` for an impossible date.
pub fn date_text(year: i32, month: u32, day: u32) -> Option<String> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// Format a date and time as SQLAlchemy stores it on SQLite: `YYYY-MM-DD HH:MM:SS.ffffff`.
///
/// Returns `None` for an impossible date or time.
pub fn datetime_text(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micro: u32,
) -> Option<String> {
    let date = date_text(year, month, day)?;
    if hour > 23 || minute > 59 || second > 59 || micro > 999_999 {
        return None;
    }
    Some(format!("{date} {hour:02}:{minute:02}:{second:02}.{micro:06}"))
}

/// Parse SQLAlchemy's SQLite datetime text (`YYYY-MM-DD HH:MM:SS[.ffffff]`, also with a `T`) into
/// `(year, month, day, hour, minute, second, microsecond)`.
pub fn parse_datetime_text(s: &str) -> Option<(i32, u32, u32, u32, u32, u32, u32)> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    date_text(year, month, day)?;
    let (mut h, mut mi, mut sec, mut us) = (0, 0, 0, 0);
    if let Some(t) = time {
        let (hms, frac) = t.split_once('.').map_or((t, None), |(a, b)| (a, Some(b)));
        let mut p = hms.splitn(3, ':');
        h = p.next()?.parse().ok()?;
        mi = p.next()?.parse().ok()?;
        sec = p.next().map_or(Some(0), |x| x.parse().ok())?;
        if let Some(frac) = frac {
            if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            us = format!("{frac:0<6}").parse().ok()?;
        }
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
    }
    Some((year, month, day, h, mi, sec, us))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip_like_sqlalchemy() {
        let s = datetime_text(2024, 2, 29, 13, 5, 9, 42).unwrap();
        assert_eq!(s, "2024-02-29 13:05:09.000042");
        assert_eq!(parse_datetime_text(&s), Some((2024, 2, 29, 13, 5, 9, 42)));
        assert_eq!(parse_datetime_text("2024-01-02"), Some((2024, 1, 2, 0, 0, 0, 0)));
        assert_eq!(parse_datetime_text("2024-01-02T03:04:05.5"), Some((2024, 1, 2, 3, 4, 5, 500_000)));
        assert!(datetime_text(2023, 2, 29, 0, 0, 0, 0).is_none());
        assert!(parse_datetime_text("not a date").is_none());
    }

    #[test]
    fn declared_types_map_back() {
        assert_eq!(SqlType::from_declared("varchar(30)"), SqlType::Varchar(30));
        assert_eq!(SqlType::from_declared("INTEGER"), SqlType::Integer);
        assert_eq!(SqlType::from_declared("weird"), SqlType::Other("weird".into()));
        assert_eq!(SqlType::from(Varchar(5)).ddl(), "VARCHAR(5)");
        assert_eq!(SqlType::from(Uuid).ddl(), "CHAR(32)");
        assert_eq!(SqlType::from_declared("time"), SqlType::Time);
    }
}
