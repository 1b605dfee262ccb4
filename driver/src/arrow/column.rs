//! One column of a batch being built: an Arrow builder fed straight from SQLite's column values, the column's field,
//! and why it has its type.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Time64MicrosecondType, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, NullArray};
use arrow_schema::{DataType, Field};

use super::kind::{self, Kind, Origin};
use crate::ffi::Column as Cell;
use crate::types::datetime_text::{self as text, Hms, Ymd};
use crate::ValueRef;

/// Why a value was not appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misfit {
    /// Its storage class does not go into the column's type.
    Type,
    /// NULL in a field given as not nullable.
    NotNullable,
    /// Text that is not a date, time or timestamp: the format expected.
    Format(&'static str),
    /// A number outside what the type holds.
    Range,
}

/// The values so far, in the builder of the column's type.
#[derive(Debug)]
enum Data {
    /// No type yet: only NULLs so far, this many.
    Undecided(usize),
    Null(usize),
    Int64(Int64Builder),
    Float64(Float64Builder),
    /// `Utf8`, `Json` and `Text` (which values each takes is the column's kind).
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Boolean(BooleanBuilder),
    Date32(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Time64(Time64MicrosecondBuilder),
}

/// A column being built.
#[derive(Debug)]
pub(crate) struct ColumnBuilder {
    name: String,
    kind: Kind,
    data: Data,
    pub(super) origin: Origin,
    nullable: bool,
    metadata: HashMap<String, String>,
    /// A timestamp column's time zone, as given.
    tz: Option<Arc<str>>,
    /// Numbers written as JSON or fallback text.
    scratch: String,
}

const DATE: &str = text::DATE_FORMAT;
const TIME: &str = text::TIME_FORMAT;
const STAMP: &str = text::DATETIME_FORMAT;

impl ColumnBuilder {
    /// A column whose type comes from `field`, if given, else from `decltype`, else from its values.
    pub fn new(i: usize, name: &str, field: Option<&Field>, decltype: Option<String>) -> crate::Result<Self> {
        let mut c = ColumnBuilder {
            name: name.to_owned(),
            kind: Kind::Null,
            data: Data::Undecided(0),
            origin: Origin::Given,
            nullable: true,
            metadata: HashMap::new(),
            tz: None,
            scratch: String::new(),
        };
        if let Some(f) = field {
            if !f.name().is_empty() {
                c.name = f.name().clone();
            }
            c.nullable = f.is_nullable();
            c.metadata = f.metadata().clone();
            if let DataType::Timestamp(_, tz) = f.data_type() {
                c.tz = tz.clone();
            }
            c.set_kind(kind::from_field(i, f)?);
        } else if let Some(k) = decltype.as_deref().and_then(kind::from_decltype) {
            c.origin = Origin::Declared(decltype.unwrap_or_default());
            c.set_kind(k);
        }
        if c.kind == Kind::Json {
            c.metadata.insert(super::EXTENSION_KEY.to_owned(), super::JSON_EXTENSION.to_owned());
        }
        Ok(c)
    }

    /// Give an undecided column its kind, with the NULLs it held so far.
    fn set_kind(&mut self, kind: Kind) {
        let nulls = match self.data {
            Data::Undecided(n) => n,
            _ => 0,
        };
        self.kind = kind;
        self.data = match kind {
            Kind::Int64 => Data::Int64(Int64Builder::new()),
            Kind::Float64 => Data::Float64(Float64Builder::new()),
            Kind::Utf8 | Kind::Json | Kind::Text => Data::Utf8(StringBuilder::new()),
            Kind::Binary => Data::Binary(BinaryBuilder::new()),
            Kind::Boolean => Data::Boolean(BooleanBuilder::new()),
            Kind::Date32 => Data::Date32(Date32Builder::new()),
            Kind::Timestamp => Data::Timestamp(TimestampMicrosecondBuilder::new().with_timezone_opt(self.tz.clone())),
            Kind::Time64 => Data::Time64(Time64MicrosecondBuilder::new()),
            Kind::Null => Data::Null(0),
        };
        self.append_nulls(nulls);
    }

    fn append_nulls(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        match &mut self.data {
            Data::Undecided(c) | Data::Null(c) => *c += n,
            Data::Int64(b) => b.append_nulls(n),
            Data::Float64(b) => b.append_nulls(n),
            Data::Utf8(b) => b.append_nulls(n),
            Data::Binary(b) => b.append_nulls(n),
            Data::Boolean(b) => b.append_nulls(n),
            Data::Date32(b) => b.append_nulls(n),
            Data::Timestamp(b) => b.append_nulls(n),
            Data::Time64(b) => b.append_nulls(n),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn data_type(&self) -> DataType {
        kind::data_type(self.kind, self.tz.as_ref())
    }

    /// Whether the column still waits for a value to give it a type.
    pub fn is_undecided(&self) -> bool {
        matches!(self.data, Data::Undecided(_))
    }

    /// Append one value, or say why it does not fit (nothing is appended then).
    #[inline]
    pub fn push(&mut self, cell: Cell<'_>) -> Result<(), Misfit> {
        let v = match cell {
            Cell::Value(v) => v,
            Cell::NonUtf8Text(bytes) => return self.push_non_utf8(bytes),
        };
        match (&mut self.data, v) {
            (Data::Int64(b), ValueRef::Integer(i)) => b.append_value(i),
            (Data::Float64(b), ValueRef::Real(f)) => b.append_value(f),
            // Widening, exact up to 2^53 (what SQLite's REAL affinity does to an integer).
            #[allow(clippy::cast_precision_loss)]
            (Data::Float64(b), ValueRef::Integer(i)) => b.append_value(i as f64),
            (Data::Utf8(b), ValueRef::Text(s)) => b.append_value(s),
            (Data::Binary(b), ValueRef::Blob(x)) => b.append_value(x),
            (Data::Binary(b), ValueRef::Text(s)) => b.append_value(s.as_bytes()),
            (Data::Boolean(b), ValueRef::Integer(i)) => b.append_value(i != 0),
            (Data::Date32(b), ValueRef::Text(s)) => b.append_value(date32(s).ok_or(Misfit::Format(DATE))?),
            (Data::Timestamp(b), ValueRef::Text(s)) => {
                b.append_value(timestamp_us(s).ok_or(Misfit::Format(STAMP))?);
            }
            (Data::Timestamp(b), ValueRef::Integer(secs)) => {
                b.append_value(secs.checked_mul(1_000_000).ok_or(Misfit::Range)?);
            }
            (Data::Time64(b), ValueRef::Text(s)) => b.append_value(time64_us(s).ok_or(Misfit::Format(TIME))?),
            (_, ValueRef::Null) => return self.push_null(),
            (Data::Undecided(nulls), v) => {
                // Types come from values only in the first batch, so its row is the result's.
                self.origin = Origin::FirstValue(u64::try_from(*nulls).unwrap_or(0));
                self.set_kind(kind::from_value(Cell::Value(v)));
                return self.push(cell);
            }
            (Data::Utf8(_), v) => return self.push_as_text(v),
            _ => return Err(Misfit::Type),
        }
        Ok(())
    }

    #[inline]
    fn push_null(&mut self) -> Result<(), Misfit> {
        if !self.nullable {
            return Err(Misfit::NotNullable);
        }
        match &mut self.data {
            Data::Undecided(n) | Data::Null(n) => *n += 1,
            Data::Int64(b) => b.append_null(),
            Data::Float64(b) => b.append_null(),
            Data::Utf8(b) => b.append_null(),
            Data::Binary(b) => b.append_null(),
            Data::Boolean(b) => b.append_null(),
            Data::Date32(b) => b.append_null(),
            Data::Timestamp(b) => b.append_null(),
            Data::Time64(b) => b.append_null(),
        }
        Ok(())
    }

    /// A value other than TEXT in a `Utf8` column: a number in a JSON column, anything in a fallback one.
    #[cold]
    fn push_as_text(&mut self, v: ValueRef<'_>) -> Result<(), Misfit> {
        let Data::Utf8(b) = &mut self.data else { return Err(Misfit::Type) };
        self.scratch.clear();
        match (self.kind, v) {
            (Kind::Json | Kind::Text, ValueRef::Integer(i)) => {
                let _ = write!(self.scratch, "{i}");
            }
            (Kind::Json, ValueRef::Real(f)) => json_number(&mut self.scratch, f),
            (Kind::Text, ValueRef::Real(f)) => {
                let _ = write!(self.scratch, "{f:?}");
            }
            (Kind::Text, ValueRef::Blob(x)) => hex(&mut self.scratch, x),
            _ => return Err(Misfit::Type),
        }
        b.append_value(&self.scratch);
        Ok(())
    }

    #[cold]
    fn push_non_utf8(&mut self, bytes: &[u8]) -> Result<(), Misfit> {
        match &mut self.data {
            Data::Binary(b) => b.append_value(bytes),
            Data::Utf8(b) if self.kind == Kind::Text => b.append_value(String::from_utf8_lossy(bytes)),
            Data::Undecided(nulls) => {
                self.origin = Origin::FirstValue(u64::try_from(*nulls).unwrap_or(0));
                self.set_kind(Kind::Utf8);
                return Err(Misfit::Type);
            }
            _ => return Err(Misfit::Type),
        }
        Ok(())
    }

    /// Turn the column into fallback text: the values so far written as text (see [`Mixed::Utf8`](super::Mixed)).
    #[cold]
    pub fn fall_back_to_text(&mut self, len: usize) {
        let so_far = self.finish_array(len);
        let mut b = StringBuilder::new();
        for i in 0..so_far.len() {
            if so_far.is_null(i) {
                b.append_null();
            } else {
                b.append_value(value_text(&so_far, i));
            }
        }
        self.kind = Kind::Text;
        self.origin = Origin::Fallback;
        self.data = Data::Utf8(b);
        self.metadata.remove(super::EXTENSION_KEY);
    }

    /// The values so far as an array of `len` values (the builder is emptied; a column given a value of a row
    /// that was then abandoned has one more, which is cut off).
    pub fn finish_array(&mut self, len: usize) -> ArrayRef {
        let array: ArrayRef = match &mut self.data {
            Data::Undecided(n) | Data::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            Data::Int64(b) => Arc::new(b.finish()),
            Data::Float64(b) => Arc::new(b.finish()),
            Data::Utf8(b) => Arc::new(b.finish()),
            Data::Binary(b) => Arc::new(b.finish()),
            Data::Boolean(b) => Arc::new(b.finish()),
            Data::Date32(b) => Arc::new(b.finish()),
            Data::Timestamp(b) => Arc::new(b.finish()),
            Data::Time64(b) => Arc::new(b.finish()),
        };
        if array.len() > len {
            array.slice(0, len)
        } else {
            array
        }
    }

    /// The column's field.
    pub fn field(&self) -> Field {
        Field::new(self.name.clone(), self.data_type(), self.nullable).with_metadata(self.metadata.clone())
    }

    /// Fix an undecided column's type as `Null` (a stream's first batch has gone out).
    pub fn fix_null(&mut self) {
        if self.is_undecided() {
            self.kind = Kind::Null;
            self.origin = Origin::NullsInFirstBatch;
            self.data = Data::Null(0);
        }
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn date32(s: &str) -> Option<i32> {
    i32::try_from(days(text::parse_date(s)?)?).ok()
}

/// A date and time as microseconds since 1970-01-01 00:00:00 UTC (an offset is converted to UTC).
fn timestamp_us(s: &str) -> Option<i64> {
    let st = text::parse_stamp(s)?;
    let secs = days(st.date)? * 86_400 + seconds_of_day(st.time) - i64::from(st.offset.unwrap_or(0));
    secs.checked_mul(1_000_000)?.checked_add(i64::from(st.time.nano / 1000))
}

/// A time of day as microseconds since midnight.
fn time64_us(s: &str) -> Option<i64> {
    let t = text::parse_time(s)?;
    Some(seconds_of_day(t) * 1_000_000 + i64::from(t.nano / 1000))
}

fn seconds_of_day(t: Hms) -> i64 {
    i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
}

/// Days from 1970-01-01 to a valid calendar date (Howard Hinnant's `days_from_civil`).
fn days(d: Ymd) -> Option<i64> {
    let (y, m, day) = (i64::from(d.year), i64::from(d.month), i64::from(d.day));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// A REAL as JSON: its shortest round-trip form; infinities as SQLite's JSON functions write them.
fn json_number(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("null");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "9e999" } else { "-9e999" });
    } else {
        let _ = write!(out, "{f:?}");
    }
}

fn hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
}

/// Value `i` of an array built here, as the fallback writes it.
fn value_text(a: &ArrayRef, i: usize) -> String {
    let mut s = String::new();
    match a.data_type() {
        DataType::Int64 => {
            let _ = write!(s, "{}", a.as_primitive::<arrow_array::types::Int64Type>().value(i));
        }
        DataType::Float64 => {
            let _ = write!(s, "{:?}", a.as_primitive::<arrow_array::types::Float64Type>().value(i));
        }
        DataType::Utf8 => s.push_str(a.as_string::<i32>().value(i)),
        DataType::Binary => hex(&mut s, a.as_binary::<i32>().value(i)),
        DataType::Boolean => s.push_str(if a.as_boolean().value(i) { "true" } else { "false" }),
        DataType::Date32 => {
            if let Some(d) = a.as_primitive::<Date32Type>().value_as_date(i) {
                let _ = write!(s, "{d}");
            }
        }
        DataType::Timestamp(..) => {
            if let Some(t) = a.as_primitive::<TimestampMicrosecondType>().value_as_datetime(i) {
                let _ = write!(s, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f"));
            }
        }
        DataType::Time64(_) => {
            if let Some(t) = a.as_primitive::<Time64MicrosecondType>().value_as_time(i) {
                let _ = write!(s, "{}", t.format("%H:%M:%S%.6f"));
            }
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_parse_into_arrow_units() {
        assert_eq!(date32("1970-01-01"), Some(0));
        assert_eq!(date32("2000-03-01"), Some(11_017));
        assert_eq!(date32("1969-12-31"), Some(-1));
        assert_eq!(date32("0000-01-01"), Some(-719_528));
        assert_eq!(date32("2023-02-29"), None);
        assert_eq!(date32("2024-02-29"), Some(19_782));
        assert_eq!(timestamp_us("1970-01-01 00:00:01.5"), Some(1_500_000));
        assert_eq!(timestamp_us("2012-05-17 09:30:00.000001"), Some(1_337_247_000_000_001));
        assert_eq!(timestamp_us("2012-05-17T09:30"), Some(1_337_247_000_000_000));
        assert_eq!(timestamp_us("2012-05-17 11:30:00+02:00"), Some(1_337_247_000_000_000));
        assert_eq!(timestamp_us("2012-05-17"), Some(1_337_212_800_000_000));
        assert_eq!(timestamp_us("2012-05-17 09:30:00.123456789"), Some(1_337_247_000_123_456));
        assert_eq!(timestamp_us("yesterday"), None);
        assert_eq!(time64_us("09:30:00.25"), Some(34_200_250_000));
        assert_eq!(time64_us("9:30"), None);
    }
}
