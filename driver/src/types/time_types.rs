//! `time`: `Date`, `Time`, `PrimitiveDateTime` and `OffsetDateTime` (feature `time`). The formats are in
//! [`datetime_text`](super::datetime_text) and the module docs of [`types`](super).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::datetime_text::{self as text, Hms, Stamp, Ymd, DATETIME_FORMAT, DATE_FORMAT, TIME_FORMAT};
use super::{bad_value, bad_value_because};
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};

fn ymd(d: Date) -> Ymd {
    Ymd { year: d.year(), month: u8::from(d.month()), day: d.day() }
}

fn hms(t: Time) -> Hms {
    Hms { hour: t.hour(), minute: t.minute(), second: t.second(), nano: t.nanosecond() }
}

fn to_date(d: Ymd) -> Option<Date> {
    Date::from_calendar_date(d.year, Month::try_from(d.month).ok()?, d.day).ok()
}

/// `time` has no leap seconds: second 60 does not convert.
fn to_time(t: Hms) -> Option<Time> {
    Time::from_hms_nano(t.hour, t.minute, t.second, t.nano).ok()
}

/// The date and time as written, and the offset (UTC when none was written).
fn to_offset_datetime(s: Stamp) -> Option<OffsetDateTime> {
    let local = PrimitiveDateTime::new(to_date(s.date)?, to_time(s.time)?);
    Some(local.assume_offset(UtcOffset::from_whole_seconds(s.offset.unwrap_or(0)).ok()?))
}

/// Read a date and time with its offset: text, or INTEGER Unix seconds (UTC).
fn read_stamp(value: ValueRef<'_>) -> Result<OffsetDateTime, FromSqlError> {
    const WHAT: &str = "a date and time";
    match value {
        ValueRef::Text(s) => {
            text::parse_stamp(s).and_then(to_offset_datetime).ok_or_else(|| bad_value(value, WHAT, DATETIME_FORMAT))
        }
        ValueRef::Integer(secs) => OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|_| bad_value_because(value, WHAT, DATETIME_FORMAT, &"Unix seconds out of range")),
        ValueRef::Real(_) => Err(bad_value_because(
            value,
            WHAT,
            DATETIME_FORMAT,
            &"a REAL is ambiguous: a Julian day or fractional Unix seconds; convert it with datetime() in SQL",
        )),
        _ => Err(FromSqlError::InvalidType),
    }
}

fn write(
    dt: PrimitiveDateTime,
    offset: Option<i32>,
    shown: &dyn std::fmt::Display,
    name: &str,
) -> crate::Result<Value> {
    text::check_year(dt.year(), shown, name)?;
    Ok(Value::Text(text::write_stamp(ymd(dt.date()), hms(dt.time()), offset)))
}

impl ToSql for Date {
    fn to_sql(&self) -> crate::Result<Value> {
        text::check_year(self.year(), self, "time::Date")?;
        let mut s = String::with_capacity(10);
        text::write_date(&mut s, ymd(*self));
        Ok(Value::Text(s))
    }
}

impl FromSql for Date {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Text(s) => {
                text::parse_date(s).and_then(to_date).ok_or_else(|| bad_value(value, "a date", DATE_FORMAT))
            }
            ValueRef::Integer(_) | ValueRef::Real(_) => Err(bad_value_because(
                value,
                "a date",
                DATE_FORMAT,
                &"a number is ambiguous for a date; convert it with date() in SQL",
            )),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl ToSql for Time {
    fn to_sql(&self) -> crate::Result<Value> {
        let mut s = String::with_capacity(15);
        text::write_time(&mut s, hms(*self));
        Ok(Value::Text(s))
    }
}

impl FromSql for Time {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Text(s) => {
                text::parse_time(s).and_then(to_time).ok_or_else(|| bad_value(value, "a time of day", TIME_FORMAT))
            }
            ValueRef::Integer(_) | ValueRef::Real(_) => Err(bad_value_because(
                value,
                "a time of day",
                TIME_FORMAT,
                &"a number is ambiguous for a time of day; convert it with time() in SQL",
            )),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl ToSql for PrimitiveDateTime {
    fn to_sql(&self) -> crate::Result<Value> {
        write(*self, None, self, "time::PrimitiveDateTime")
    }
}

impl FromSql for PrimitiveDateTime {
    /// Text with an offset is converted to UTC, as SQLite's `datetime()` converts it.
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        let dt = read_stamp(value)?;
        let utc = dt.checked_to_offset(UtcOffset::UTC).ok_or_else(|| {
            bad_value_because(value, "a date and time", DATETIME_FORMAT, &"out of range once converted to UTC")
        })?;
        Ok(PrimitiveDateTime::new(utc.date(), utc.time()))
    }
}

impl ToSql for OffsetDateTime {
    /// The local time and its offset: `YYYY-MM-DD HH:MM:SS.ffffff+HH:MM`.
    fn to_sql(&self) -> crate::Result<Value> {
        write(
            PrimitiveDateTime::new(self.date(), self.time()),
            Some(self.offset().whole_seconds()),
            self,
            "time::OffsetDateTime",
        )
    }
}

impl FromSql for OffsetDateTime {
    /// Text without an offset is UTC.
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        read_stamp(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn dt(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, nano: u32) -> PrimitiveDateTime {
        PrimitiveDateTime::new(
            Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d).unwrap(),
            Time::from_hms_nano(h, mi, s, nano).unwrap(),
        )
    }

    #[test]
    fn writes_sqlalchemy_storage_formats() {
        let v = dt(2020, 2, 29, 23, 59, 59, 123_456_000);
        assert_eq!(v.to_sql().unwrap(), Value::Text("2020-02-29 23:59:59.123456".into()));
        assert_eq!(v.date().to_sql().unwrap(), Value::Text("2020-02-29".into()));
        assert_eq!(v.time().to_sql().unwrap(), Value::Text("23:59:59.123456".into()));
        let off = v.assume_offset(UtcOffset::from_hms(-4, 0, 0).unwrap());
        assert_eq!(off.to_sql().unwrap(), Value::Text("2020-02-29 23:59:59.123456-04:00".into()));
        assert_eq!(v.assume_utc().to_sql().unwrap(), Value::Text("2020-02-29 23:59:59.123456+00:00".into()));
    }

    #[test]
    fn round_trips_and_reads_sqlite_forms() {
        let v = dt(2012, 5, 17, 9, 30, 0, 1);
        assert_eq!(PrimitiveDateTime::from_sql(v.to_sql().unwrap().as_ref()).unwrap(), v);
        let off = v.assume_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(OffsetDateTime::from_sql(off.to_sql().unwrap().as_ref()).unwrap(), off);
        let want = dt(2012, 5, 17, 9, 30, 0, 0);
        for s in ["2012-05-17T09:30:00", "2012-05-17 09:30", "2012-05-17 15:00:00+05:30"] {
            assert_eq!(PrimitiveDateTime::from_sql(ValueRef::Text(s)).unwrap(), want, "{s}");
        }
        assert_eq!(PrimitiveDateTime::from_sql(ValueRef::Integer(1_337_247_000)).unwrap(), want);
        assert_eq!(OffsetDateTime::from_sql(ValueRef::Text("2012-05-17 09:30")).unwrap(), want.assume_utc());
    }

    #[test]
    fn bad_input_is_an_error() {
        let e = Date::from_sql(ValueRef::Text("2012-02-30")).unwrap_err().to_string();
        assert!(e.contains("2012-02-30") && e.contains("YYYY-MM-DD"), "{e}");
        assert!(Time::from_sql(ValueRef::Text("23:59:60")).is_err(), "no leap seconds in time");
        assert!(OffsetDateTime::from_sql(ValueRef::Real(1.5)).is_err());
        assert!(PrimitiveDateTime::from_sql(ValueRef::Integer(i64::MIN)).is_err());
        let e = Date::from_calendar_date(-5, Month::May, 1).unwrap().to_sql().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeConversion);
    }
}
