//! The text form of dates and times, shared by the `chrono` and `time` conversions: written as SQLAlchemy's SQLite
//! dialect writes it, read in that form and in the forms SQLite's own date and time functions produce.
//!
//! Written: `YYYY-MM-DD`, `HH:MM:SS.ffffff`, `YYYY-MM-DD HH:MM:SS.ffffff`, with nine fraction digits instead of six
//! when the value has nanoseconds (so nothing is lost, and text order stays time order), and `+HH:MM` after a
//! date and time that carries an offset. Read: the same, plus a `T` instead of the space, no seconds or no
//! fraction (SQLite's `datetime()`, `CURRENT_TIMESTAMP`, `time()`), a date alone for a date and time (midnight),
//! 1 to 9 fraction digits (more are cut), and `Z` or `±HH:MM` after a date and time.

use std::fmt::Write as _;

/// A calendar date as written, not yet checked against the calendar (the date crates check it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ymd {
    pub(crate) year: i32,
    pub(crate) month: u8,
    pub(crate) day: u8,
}

/// A time of day as written; `second` may be 60 (a leap second), `nano` is below 1e9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hms {
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    pub(crate) nano: u32,
}

/// A date and time as written, with the offset east of UTC in seconds when one was written (`Z` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) date: Ymd,
    pub(crate) time: Hms,
    pub(crate) offset: Option<i32>,
}

pub(crate) const DATE_FORMAT: &str = "YYYY-MM-DD";
pub(crate) const TIME_FORMAT: &str = "HH:MM:SS.ffffff (or HH:MM, HH:MM:SS, 1 to 9 fraction digits)";
pub(crate) const DATETIME_FORMAT: &str = "YYYY-MM-DD HH:MM:SS.ffffff (or with a T, without seconds or fraction, \
                                          a date alone, a Z or ±HH:MM offset), or an INTEGER of Unix seconds";

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn two(s: &[u8]) -> Option<u8> {
    if s.len() != 2 {
        return None;
    }
    digits(s).and_then(|n| u8::try_from(n).ok())
}

/// `YYYY-MM-DD`, exactly.
pub(crate) fn parse_date(s: &str) -> Option<Ymd> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])?).ok()?;
    Some(Ymd { year, month: two(&b[5..7])?, day: two(&b[8..10])? })
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (1 or more fraction digits; past nine they are cut).
pub(crate) fn parse_time(s: &str) -> Option<Hms> {
    let b = s.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (hour, minute) = (two(&b[..2])?, two(&b[3..5])?);
    let (mut second, mut nano) = (0, 0);
    let rest = &b[5..];
    if !rest.is_empty() {
        if rest.len() < 3 || rest[0] != b':' {
            return None;
        }
        second = two(&rest[1..3])?;
        let frac = &rest[3..];
        if !frac.is_empty() {
            let f = frac.strip_prefix(b".")?;
            digits(f)?;
            let kept = &f[..f.len().min(9)];
            // Pad to nine digits: ".5" is 500 ms.
            nano = digits(kept)? * 10u32.pow(9 - u32::try_from(kept.len()).ok()?);
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(Hms { hour, minute, second, nano })
}

/// A date and time (see the module docs); a date alone is midnight.
pub(crate) fn parse_stamp(s: &str) -> Option<Stamp> {
    let date = parse_date(s.get(..10)?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(Stamp { date, time: Hms { hour: 0, minute: 0, second: 0, nano: 0 }, offset: None });
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], Some(parse_offset(&rest[i..])?)),
        None => (rest, None),
    };
    Some(Stamp { date, time: parse_time(time)?, offset })
}

/// `Z`, `±HH:MM` or `±HH:MM:SS` (as Python writes an offset with seconds), in seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    if s.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let b = &b[1..];
    if !(b.len() == 5 || b.len() == 8) || b[2] != b':' || (b.len() == 8 && b[5] != b':') {
        return None;
    }
    let (h, m) = (i32::from(two(&b[..2])?), i32::from(two(&b[3..5])?));
    let sec = if b.len() == 8 { i32::from(two(&b[6..8])?) } else { 0 };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

/// Why a date cannot be written: SQLite's date text has four-digit years.
pub(crate) fn check_year(year: i32, shown: &dyn std::fmt::Display, type_name: &str) -> crate::Result<()> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(crate::Error::new(
            crate::ErrorKind::TypeConversion,
            format!(
                "{type_name} {shown} cannot be stored: its year {year} is outside 0000-9999, the years of \
                 SQLite's date text"
            ),
        ))
    }
}

pub(crate) fn write_date(out: &mut String, d: Ymd) {
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

/// `HH:MM:SS.ffffff`, or nine fraction digits when the time has nanoseconds.
pub(crate) fn write_time(out: &mut String, t: Hms) {
    let _ = write!(out, "{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
    if t.nano % 1000 == 0 {
        let _ = write!(out, ".{:06}", t.nano / 1000);
    } else {
        let _ = write!(out, ".{:09}", t.nano);
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`, then `+HH:MM` when an offset is given.
pub(crate) fn write_stamp(d: Ymd, t: Hms, offset: Option<i32>) -> String {
    let mut out = String::with_capacity(32);
    write_date(&mut out, d);
    out.push(' ');
    write_time(&mut out, t);
    if let Some(off) = offset {
        out.push(if off < 0 { '-' } else { '+' });
        let a = off.unsigned_abs();
        let _ = write!(out, "{:02}:{:02}", a / 3600, a / 60 % 60);
        if a % 60 != 0 {
            let _ = write!(out, ":{:02}", a % 60);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIDNIGHT: Hms = Hms { hour: 0, minute: 0, second: 0, nano: 0 };

    #[test]
    fn sqlalchemy_and_sqlite_forms_parse() {
        let d = Ymd { year: 2012, month: 5, day: 17 };
        let t = Hms { hour: 9, minute: 30, second: 0, nano: 0 };
        for s in ["2012-05-17 09:30:00.000000", "2012-05-17T09:30:00", "2012-05-17 09:30", "2012-05-17T09:30:00.0"] {
            assert_eq!(parse_stamp(s), Some(Stamp { date: d, time: t, offset: None }), "{s}");
        }
        assert_eq!(parse_stamp("2012-05-17"), Some(Stamp { date: d, time: MIDNIGHT, offset: None }));
        assert_eq!(parse_stamp("2012-05-17 09:30:00Z").unwrap().offset, Some(0));
        assert_eq!(parse_stamp("2012-05-17 09:30:00.5+05:30").unwrap().offset, Some(19_800));
        assert_eq!(parse_stamp("2012-05-17 09:30:00.5+05:30").unwrap().time.nano, 500_000_000);
        assert_eq!(parse_stamp("2012-05-17 09:30-04:00").unwrap().offset, Some(-14_400));
        assert_eq!(parse_time("00:00:00.000001").unwrap().nano, 1_000);
        assert_eq!(parse_time("00:00:00.1234567891").unwrap().nano, 123_456_789);
        assert_eq!(parse_date("0000-01-01").unwrap().year, 0);
    }

    #[test]
    fn malformed_text_does_not_parse() {
        for s in [
            "",
            "2012-5-17",
            "2012-05-17 ",
            "2012-05-17X09:30",
            "2012-05-17 9:30",
            "2012-05-17 09:30:0",
            "2012-05-17 24:00",
            "2012-05-17 09:60",
            "2012-05-17 09:30:00.",
            "2012-05-17 09:30:00.5x",
            "2012-05-17 09:30+5",
            "2012-05-17 09:30+05:60",
            "+2012-05-17",
            "２０１２-05-17",
            "2012-05-17 09:30:00 +05:00",
        ] {
            assert_eq!(parse_stamp(s), None, "{s:?}");
        }
        assert_eq!(parse_time("09:30:00Z"), None);
        assert_eq!(parse_date("2012-05-17 00:00"), None);
    }

    #[test]
    fn writes_sqlalchemy_form_and_keeps_nanoseconds() {
        let d = Ymd { year: 2020, month: 2, day: 29 };
        let t = Hms { hour: 23, minute: 59, second: 59, nano: 123_456_000 };
        assert_eq!(write_stamp(d, t, None), "2020-02-29 23:59:59.123456");
        assert_eq!(write_stamp(d, Hms { nano: 1, ..t }, None), "2020-02-29 23:59:59.000000001");
        assert_eq!(write_stamp(d, MIDNIGHT, Some(-19_800)), "2020-02-29 00:00:00.000000-05:30");
        assert_eq!(write_stamp(d, MIDNIGHT, Some(0)), "2020-02-29 00:00:00.000000+00:00");
        assert_eq!(write_stamp(d, MIDNIGHT, Some(3_661)), "2020-02-29 00:00:00.000000+01:01:01");
        assert_eq!(parse_stamp("2020-02-29 00:00:00.000000+01:01:01").unwrap().offset, Some(3_661));
    }
}
