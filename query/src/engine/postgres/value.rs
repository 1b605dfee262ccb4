//! Values both ways between the driver's [`Value`] and PostgreSQL's types.
//!
//! A value is encoded for the type the server gave its parameter when it prepared the statement, so the values a
//! program binds on SQLite (an `i64`, a `bool` stored as 0/1, a date as SQLAlchemy's text, a UUID as 32 hex
//! digits, JSON as text, a decimal as text) bind unchanged here: integers and reals go in binary for the integer,
//! float and boolean types (checked for range), and everything else goes as text for the server to parse by the
//! parameter's type (`DATE`, `TIMESTAMP`, `UUID`, `JSONB`, `NUMERIC`, `TEXT`, ...).
//!
//! Reading gives what SQLite would have stored, so the same `FromSql` types read it (`chrono`, `time`, `uuid`,
//! `serde_json`, `rust_decimal` through their text forms):
//!
//! | PostgreSQL | [`Value`] |
//! |---|---|
//! | `SMALLINT`, `INTEGER`, `BIGINT`, `OID` | `Integer` |
//! | `REAL`, `DOUBLE PRECISION` | `Real` |
//! | `NUMERIC` | `Integer` when whole and in range, `Real` up to 15 significant digits, else exact `Text` (as SQLite's NUMERIC affinity keeps them) |
//! | `BOOLEAN` | `Integer` 0 or 1 |
//! | `TEXT`, `VARCHAR`, `CHAR(n)`, `NAME`, enums, `JSON`, `JSONB` | `Text` |
//! | `BYTEA` | `Blob` |
//! | `DATE`, `TIME`, `TIMESTAMP` | `Text` `YYYY-MM-DD`, `HH:MM:SS.ffffff`, `YYYY-MM-DD HH:MM:SS.ffffff` |
//! | `TIMESTAMPTZ`, `TIMETZ` | `Text` with an offset (`+00:00` for `TIMESTAMPTZ`) |
//! | `UUID` | `Text`, 32 lower-case hex digits |
//! | a domain | as its base type |
//!
//! Any other type (arrays, intervals, geometry, ...) is an error naming it: cast it in the query
//! (`cast(x, Text)`).

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::sync::Arc;

use asqlite::{ErrorKind, Row, Rows, Value};
use tokio_postgres::types::{to_sql_checked, Format, FromSql, IsNull, Kind, ToSql, Type};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A value bound to a parameter.
#[derive(Debug)]
pub(crate) struct Arg<'a>(pub(crate) &'a Value);

/// Whether `ty` is one that the binary encodings below write (else the value goes as text).
fn binary_number_type(ty: &Type) -> bool {
    [Type::INT2, Type::INT4, Type::INT8, Type::OID, Type::FLOAT4, Type::FLOAT8, Type::BOOL].contains(ty)
}

fn text_like(ty: &Type) -> bool {
    [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME, Type::UNKNOWN].contains(ty)
        || matches!(ty.kind(), Kind::Enum(_))
        || ty.name() == "citext"
}

fn range_error(v: &Value, ty: &Type) -> BoxError {
    format!("{v} is out of range for a PostgreSQL {ty} parameter").into()
}

impl Arg<'_> {
    /// Whether the value is sent in binary for `ty` (else as text, which the server parses).
    fn binary(&self, ty: &Type) -> bool {
        match self.0 {
            Value::Null => true,
            Value::Integer(_) => binary_number_type(ty),
            Value::Real(_) => [Type::FLOAT8, Type::BOOL].contains(ty),
            Value::Text(_) => false,
            Value::Blob(_) => true,
        }
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        if !self.binary(ty) {
            let text = match self.0 {
                Value::Integer(i) => i.to_string(),
                Value::Real(r) => r.to_string(),
                Value::Text(s) => {
                    out.extend_from_slice(s.as_bytes());
                    return Ok(IsNull::No);
                }
                Value::Null | Value::Blob(_) => unreachable_format(),
            };
            out.extend_from_slice(text.as_bytes());
            return Ok(IsNull::No);
        }
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => {
                let i = *i;
                if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(i).map_err(|_| range_error(self.0, ty))?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(i).map_err(|_| range_error(self.0, ty))?.to_sql(ty, out)
                } else if *ty == Type::OID {
                    u32::try_from(i).map_err(|_| range_error(self.0, ty))?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    // SQLite's truth: any integer but 0.
                    (i != 0).to_sql(ty, out)
                } else {
                    // FLOAT4 / FLOAT8: the nearest float, as SQLite would compare them.
                    #[allow(clippy::cast_precision_loss)]
                    let f = i as f64;
                    if *ty == Type::FLOAT8 {
                        f.to_sql(ty, out)
                    } else {
                        (f.to_string()).parse::<f32>()?.to_sql(ty, out)
                    }
                }
            }
            Value::Real(r) => {
                if *ty == Type::BOOL {
                    (*r != 0.0).to_sql(ty, out)
                } else {
                    r.to_sql(ty, out)
                }
            }
            Value::Blob(b) => {
                if *ty == Type::BYTEA || (*ty == Type::UUID && b.len() == 16) || text_like(ty) {
                    out.extend_from_slice(b);
                    Ok(IsNull::No)
                } else {
                    Err(format!("a BLOB cannot be bound to a PostgreSQL {ty} parameter").into())
                }
            }
            Value::Text(_) => unreachable_format(),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        if self.binary(ty) {
            Format::Binary
        } else {
            Format::Text
        }
    }

    to_sql_checked!();
}

/// `binary` and `to_sql` agree on which values go as text; never reached.
#[cold]
fn unreachable_format() -> ! {
    unreachable!("a value's format and its encoding disagree")
}

/// Each value as a parameter.
pub(crate) fn args(values: &[Value]) -> Vec<Arg<'_>> {
    values.iter().map(Arg).collect()
}

/// The parameters as tokio-postgres takes them.
pub(crate) fn arg_refs<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// A column value read from PostgreSQL.
pub(crate) struct Cell(pub(crate) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn utf8(raw: &[u8]) -> Result<Value, BoxError> {
    Ok(Value::Text(std::str::from_utf8(raw)?.to_owned()))
}

fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    if let Kind::Domain(base) = ty.kind() {
        return decode(base, raw);
    }
    Ok(if *ty == Type::INT8 {
        Value::Integer(i64::from_sql(ty, raw)?)
    } else if *ty == Type::INT4 {
        Value::Integer(i32::from_sql(ty, raw)?.into())
    } else if *ty == Type::INT2 {
        Value::Integer(i16::from_sql(ty, raw)?.into())
    } else if *ty == Type::OID {
        Value::Integer(u32::from_sql(ty, raw)?.into())
    } else if *ty == Type::FLOAT8 {
        Value::Real(f64::from_sql(ty, raw)?)
    } else if *ty == Type::FLOAT4 {
        Value::Real(f32::from_sql(ty, raw)?.into())
    } else if *ty == Type::BOOL {
        Value::Integer(bool::from_sql(ty, raw)?.into())
    } else if *ty == Type::NUMERIC {
        numeric_value(numeric_text(raw)?)
    } else if text_like(ty) || *ty == Type::JSON {
        utf8(raw)?
    } else if *ty == Type::JSONB {
        match raw.split_first() {
            Some((1, json)) => utf8(json)?,
            _ => return Err("unsupported JSONB version".into()),
        }
    } else if *ty == Type::CHAR {
        utf8(raw)?
    } else if *ty == Type::BYTEA {
        Value::Blob(raw.to_vec())
    } else if *ty == Type::UUID {
        let mut s = String::with_capacity(32);
        for b in raw {
            let _ = write!(s, "{b:02x}");
        }
        Value::Text(s)
    } else if *ty == Type::DATE {
        Value::Text(date_text(i32::from_sql(ty, raw)?))
    } else if *ty == Type::TIME {
        Value::Text(time_text(i64::from_sql(ty, raw)?))
    } else if *ty == Type::TIMESTAMP {
        Value::Text(timestamp_text(i64::from_sql(ty, raw)?, ""))
    } else if *ty == Type::TIMESTAMPTZ {
        Value::Text(timestamp_text(i64::from_sql(ty, raw)?, "+00:00"))
    } else if *ty == Type::TIMETZ {
        let (time, zone) = raw.split_at_checked(8).ok_or("a TIMETZ of the wrong length")?;
        let micros = i64::from_sql(&Type::INT8, time)?;
        // The zone is seconds west of UTC.
        let west = i32::from_sql(&Type::INT4, zone)?;
        let east = -i64::from(west);
        let sign = if east < 0 { '-' } else { '+' };
        let (h, m) = (east.abs() / 3600, east.abs() % 3600 / 60);
        Value::Text(format!("{}{sign}{h:02}:{m:02}", time_text(micros)))
    } else if *ty == Type::VOID {
        Value::Null
    } else {
        return Err(format!(
            "PostgreSQL's type {ty} has no SQLite counterpart to read it as: cast it in the query (cast(x, Text))"
        )
        .into());
    })
}

/// Days since 1970-01-01 as a (year, month, day) of the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// PostgreSQL counts dates and timestamps from 2000-01-01: 10957 days after 1970-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => {
            let (y, m, d) = civil_from_days(i64::from(d) + PG_EPOCH_DAYS);
            format!("{y:04}-{m:02}-{d:02}")
        }
    }
}

fn time_text(micros: i64) -> String {
    let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    format!("{:02}:{:02}:{:02}.{frac:06}", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn timestamp_text(micros: i64, zone: &str) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        m => {
            let (days, in_day) = (m.div_euclid(86_400_000_000), m.rem_euclid(86_400_000_000));
            let (y, mo, d) = civil_from_days(days + PG_EPOCH_DAYS);
            format!("{y:04}-{mo:02}-{d:02} {}{zone}", time_text(in_day))
        }
    }
}

/// A `NUMERIC` in its exact decimal text, from the binary form: digit count, weight (of the first base-10000
/// digit), sign, display scale, then the base-10000 digits.
fn numeric_text(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<i64, BoxError> {
        let b = raw.get(i * 2..i * 2 + 2).ok_or("a NUMERIC of the wrong length")?;
        Ok(i64::from(i16::from_be_bytes([b[0], b[1]])))
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? & 0xFFFF, word(3)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digit = |i: i64| -> Result<i64, BoxError> {
        if (0..ndigits).contains(&i) {
            word(usize::try_from(i + 4)?)
        } else {
            Ok(0)
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i)?;
            let _ = if i == 0 { write!(s, "{d}") } else { write!(s, "{d:04}") };
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        for k in 0..(dscale + 3) / 4 {
            let _ = write!(frac, "{:04}", digit(weight + 1 + k)?);
        }
        frac.truncate(usize::try_from(dscale)?);
        s.push('.');
        s.push_str(&frac);
    }
    Ok(s)
}

/// A decimal as SQLite's NUMERIC affinity keeps it: an integer when it is one, a real when its 15 significant
/// digits hold it, else the exact text.
fn numeric_value(text: String) -> Value {
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.bytes().all(|b| b == b'0') {
        if let Ok(i) = whole.parse::<i64>() {
            return Value::Integer(i);
        }
    }
    let significant = text.bytes().filter(u8::is_ascii_digit).skip_while(|b| *b == b'0').count();
    let trailing = frac.bytes().rev().take_while(|b| *b == b'0').count();
    match text.parse::<f64>() {
        Ok(f) if significant.saturating_sub(trailing) <= 15 && f.is_finite() => Value::Real(f),
        _ => Value::Text(text),
    }
}

/// The rows of a result, each value read as above.
pub(crate) fn rows(columns: &Arc<[String]>, pg: &[tokio_postgres::Row]) -> asqlite::Result<Rows> {
    let rows = pg.iter().map(|r| row(columns, r)).collect::<asqlite::Result<Vec<_>>>()?;
    Ok(Rows::new(Arc::clone(columns), rows))
}

/// One row.
pub(crate) fn row(columns: &Arc<[String]>, r: &tokio_postgres::Row) -> asqlite::Result<Row> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..r.len() {
        let cell: Cell = r.try_get(i).map_err(|e| {
            let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
            let name = columns.get(i).map_or("", String::as_str);
            asqlite::Error::new(ErrorKind::TypeConversion, format!("column {i} (\"{name}\"): {why}"))
        })?;
        values.push(cell.0);
    }
    Row::new(Arc::clone(columns), values)
}

/// The column names of a prepared statement.
pub(crate) fn columns(stmt: &tokio_postgres::Statement) -> Arc<[String]> {
    stmt.columns().iter().map(|c| c.name().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_from_2000() {
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-1), "1999-12-31");
        assert_eq!(date_text(4535), "2012-06-01");
        assert_eq!(timestamp_text(-1, ""), "1999-12-31 23:59:59.999999");
        assert_eq!(timestamp_text(86_400_000_000 + 3_723_000_004, "+00:00"), "2000-01-02 01:02:03.000004+00:00");
        assert_eq!(time_text(45_296_500_000), "12:34:56.500000");
    }

    #[test]
    fn numerics_keep_their_digits() {
        // 19999.99: 3 digits (1, 9999, 9900), weight 1, positive, scale 2.
        let raw: Vec<u8> = [3u16, 1, 0, 2, 1, 9999, 9900].iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(numeric_text(&raw).unwrap(), "19999.99");
        // 0.0005: 1 digit (5), weight -1, scale 4.
        let raw: Vec<u8> = [1u16, 0xFFFF, 0, 4, 5].iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(numeric_text(&raw).unwrap(), "0.0005");
        assert_eq!(numeric_value("12.000".into()), Value::Integer(12));
        assert_eq!(numeric_value("19999.99".into()), Value::Real(19999.99));
        assert_eq!(numeric_value("1234567890.1234567890".into()), Value::Text("1234567890.1234567890".into()));
        assert_eq!(numeric_value("99999999999999999999".into()), Value::Text("99999999999999999999".into()));
    }
}
