//! `chrono`: `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>` and `DateTime<FixedOffset>` (feature
//! `chrono`). The formats are in [`datetime_text`](super::datetime_text) and the module docs of [`types`](super).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};

use super::datetime_text::{self as text, Hms, Stamp, Ymd, DATETIME_FORMAT, DATE_FORMAT, TIME_FORMAT};
use super::{bad_value, bad_value_because};
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};

fn ymd(d: NaiveDate) -> Ymd {
    // Month and day come from the calendar: 1-12 and 1-31.
    Ymd { year: d.year(), month: u8::try_from(d.month()).unwrap_or(0), day: u8::try_from(d.day()).unwrap_or(0) }
}

fn hms(t: NaiveTime) -> Hms {
    // chrono keeps a leap second as second 59 with 1e9 or more nanoseconds; it is written as second 60.
    let (leap, nano) =
        if t.nanosecond() >= 1_000_000_000 { (1, t.nanosecond() - 1_000_000_000) } else { (0, t.nanosecond()) };
    let two = |n: u32| u8::try_from(n).unwrap_or(0);
    Hms { hour: two(t.hour()), minute: two(t.minute()), second: two(t.second() + leap), nano }
}

fn to_date(d: Ymd) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year, u32::from(d.month), u32::from(d.day))
}

fn to_time(t: Hms) -> Option<NaiveTime> {
    let (h, m) = (u32::from(t.hour), u32::from(t.minute));
    if t.second == 60 {
        NaiveTime::from_hms_nano_opt(h, m, 59, 1_000_000_000 + t.nano)
    } else {
        NaiveTime::from_hms_nano_opt(h, m, u32::from(t.second), t.nano)
    }
}

/// The UTC date and time of a stamp (its offset subtracted), and the offset.
fn to_utc(s: Stamp) -> Option<(NaiveDateTime, i32)> {
    let local = NaiveDateTime::new(to_date(s.date)?, to_time(s.time)?);
    let offset = s.offset.unwrap_or(0);
    Some((local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)))?, offset))
}

/// Read a date and time as UTC and its offset (0 when none was written): text, or INTEGER Unix seconds.
fn read_stamp(value: ValueRef<'_>, what: &str) -> Result<(NaiveDateTime, i32), FromSqlError> {
    match value {
        ValueRef::Text(s) => {
            text::parse_stamp(s).and_then(to_utc).ok_or_else(|| bad_value(value, what, DATETIME_FORMAT))
        }
        ValueRef::Integer(secs) => DateTime::from_timestamp(secs, 0)
            .map(|d| (d.naive_utc(), 0))
            .ok_or_else(|| bad_value_because(value, what, DATETIME_FORMAT, &"Unix seconds out of range")),
        ValueRef::Real(_) => Err(bad_value_because(
            value,
            what,
            DATETIME_FORMAT,
            &"a REAL is ambiguous: a Julian day or fractional Unix seconds; convert it with datetime() in SQL",
        )),
        _ => Err(FromSqlError::InvalidType),
    }
}

fn write_naive(
    dt: &NaiveDateTime,
    offset: Option<i32>,
    shown: &dyn std::fmt::Display,
    name: &str,
) -> crate::Result<Value> {
    text::check_year(dt.year(), shown, name)?;
    Ok(Value::Text(text::write_stamp(ymd(dt.date()), hms(dt.time()), offset)))
}

impl ToSql for NaiveDate {
    fn to_sql(&self) -> crate::Result<Value> {
        text::check_year(self.year(), self, "chrono::NaiveDate")?;
        let mut s = String::with_capacity(10);
        text::write_date(&mut s, ymd(*self));
        Ok(Value::Text(s))
    }
}

impl FromSql for NaiveDate {
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

impl ToSql for NaiveTime {
    fn to_sql(&self) -> crate::Result<Value> {
        let mut s = String::with_capacity(15);
        text::write_time(&mut s, hms(*self));
        Ok(Value::Text(s))
    }
}

impl FromSql for NaiveTime {
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

impl ToSql for NaiveDateTime {
    fn to_sql(&self) -> crate::Result<Value> {
        write_naive(self, None, self, "chrono::NaiveDateTime")
    }
}

impl FromSql for NaiveDateTime {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        read_stamp(value, "a date and time").map(|(utc, _)| utc)
    }
}

impl ToSql for DateTime<Utc> {
    /// The UTC time without an offset, as SQLite's own functions write it.
    fn to_sql(&self) -> crate::Result<Value> {
        write_naive(&self.naive_utc(), None, self, "chrono::DateTime<Utc>")
    }
}

impl FromSql for DateTime<Utc> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        read_stamp(value, "a date and time").map(|(utc, _)| utc.and_utc())
    }
}

impl ToSql for DateTime<FixedOffset> {
    /// The local time and its offset: `YYYY-MM-DD HH:MM:SS.ffffff+HH:MM`.
    fn to_sql(&self) -> crate::Result<Value> {
        write_naive(&self.naive_local(), Some(self.offset().local_minus_utc()), self, "chrono::DateTime<FixedOffset>")
    }
}

impl FromSql for DateTime<FixedOffset> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        let (utc, offset) = read_stamp(value, "a date and time")?;
        let tz = FixedOffset::east_opt(offset)
            .ok_or_else(|| bad_value_because(value, "a date and time", DATETIME_FORMAT, &"offset out of range"))?;
        Ok(DateTime::from_naive_utc_and_offset(utc, tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn text(v: Value) -> String {
        match v {
            Value::Text(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn writes_sqlalchemy_storage_formats() {
        assert_eq!(text(dt("2012-05-17 09:30:00").to_sql().unwrap()), "2012-05-17 09:30:00.000000");
        assert_eq!(text(dt("2020-02-29 23:59:59.123456").to_sql().unwrap()), "2020-02-29 23:59:59.123456");
        assert_eq!(text(NaiveDate::from_ymd_opt(2012, 5, 17).unwrap().to_sql().unwrap()), "2012-05-17");
        assert_eq!(text(NaiveTime::from_hms_micro_opt(0, 0, 0, 1).unwrap().to_sql().unwrap()), "00:00:00.000001");
        let utc = dt("2012-05-17 09:30:00").and_utc();
        assert_eq!(text(utc.to_sql().unwrap()), "2012-05-17 09:30:00.000000");
        let ist = utc.with_timezone(&FixedOffset::east_opt(19_800).unwrap());
        assert_eq!(text(ist.to_sql().unwrap()), "2012-05-17 15:00:00.000000+05:30");
    }

    #[test]
    fn round_trips_exactly() {
        let values = [dt("2020-02-29 23:59:59.123456789"), dt("0000-01-01 00:00:00"), dt("9999-12-31 23:59:59.999999")];
        for v in values {
            let stored = v.to_sql().unwrap();
            assert_eq!(NaiveDateTime::from_sql(stored.as_ref()).unwrap(), v);
        }
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        let stored = leap.to_sql().unwrap();
        assert_eq!(stored, Value::Text("23:59:60.500000".into()));
        assert_eq!(NaiveTime::from_sql(stored.as_ref()).unwrap(), leap);
        let odd = DateTime::<FixedOffset>::from_naive_utc_and_offset(
            dt("2012-05-17 09:30:00"),
            FixedOffset::west_opt(9_000).unwrap(),
        );
        assert_eq!(DateTime::<FixedOffset>::from_sql(odd.to_sql().unwrap().as_ref()).unwrap(), odd);
    }

    #[test]
    fn reads_sqlite_function_output() {
        let want = dt("2012-05-17 09:30:00");
        for s in ["2012-05-17 09:30:00", "2012-05-17T09:30:00", "2012-05-17 09:30", "2012-05-17T09:30:00.000Z"] {
            assert_eq!(NaiveDateTime::from_sql(ValueRef::Text(s)).unwrap(), want, "{s}");
        }
        // unixepoch('2012-05-17 09:30:00')
        assert_eq!(NaiveDateTime::from_sql(ValueRef::Integer(1_337_247_000)).unwrap(), want);
        assert_eq!(DateTime::<Utc>::from_sql(ValueRef::Integer(1_337_247_000)).unwrap(), want.and_utc());
        // An offset converts to UTC, as SQLite's datetime() does.
        assert_eq!(NaiveDateTime::from_sql(ValueRef::Text("2012-05-17 15:00:00+05:30")).unwrap(), want);
        let fixed = DateTime::<FixedOffset>::from_sql(ValueRef::Text("2012-05-17 15:00:00+05:30")).unwrap();
        assert_eq!((fixed.naive_utc(), fixed.offset().local_minus_utc()), (want, 19_800));
        let naive_as_fixed = DateTime::<FixedOffset>::from_sql(ValueRef::Text("2012-05-17 09:30")).unwrap();
        assert_eq!(naive_as_fixed.offset().local_minus_utc(), 0);
        assert_eq!(NaiveDate::from_sql(ValueRef::Text("2012-05-17")).unwrap(), want.date());
        assert_eq!(NaiveTime::from_sql(ValueRef::Text("09:30")).unwrap(), want.time());
    }

    #[test]
    fn bad_input_names_value_and_format() {
        let e = NaiveDateTime::from_sql(ValueRef::Text("2012-13-01 00:00:00")).unwrap_err().to_string();
        assert!(e.contains("\"2012-13-01 00:00:00\"") && e.contains("YYYY-MM-DD HH:MM:SS.ffffff"), "{e}");
        let e = NaiveDate::from_sql(ValueRef::Text("2023-02-29")).unwrap_err().to_string();
        assert!(e.contains("2023-02-29") && e.contains("YYYY-MM-DD"), "{e}");
        let e = NaiveDateTime::from_sql(ValueRef::Real(2_456_064.9)).unwrap_err().to_string();
        assert!(e.contains("Julian day"), "{e}");
        assert!(NaiveDate::from_sql(ValueRef::Integer(20_120_517)).is_err());
        assert!(NaiveTime::from_sql(ValueRef::Text("25:00")).is_err());
        assert!(matches!(NaiveDate::from_sql(ValueRef::Blob(b"x")), Err(FromSqlError::InvalidType)));
        assert!(NaiveDateTime::from_sql(ValueRef::Integer(i64::MAX)).is_err());
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
        let e = far.to_sql().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeConversion);
        assert!(e.to_string().contains("10000"), "{e}");
        assert!(NaiveDate::from_ymd_opt(-1, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().to_sql().is_err());
    }
}
