//! `rust_decimal::Decimal` (feature `rust_decimal`): written as TEXT, so no digit is lost; read from INTEGER, REAL
//! or TEXT, since a `NUMERIC` column's affinity (and SQLAlchemy, which writes floats) leaves numbers there.

use rust_decimal::Decimal;

use super::{bad_value, bad_value_because};
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};

const DECIMAL_FORMAT: &str = "a decimal number such as 19999.99 or 1.5e3, of at most 28 digits";

impl ToSql for Decimal {
    /// Every digit and the scale, as text: `19999.99`, `-0.50`.
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Text(self.to_string()))
    }
}

impl FromSql for Decimal {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Integer(i) => Ok(Decimal::from(i)),
            // The shortest decimal that reads back as the same double: 19999.99, not 19999.990000000002.
            ValueRef::Real(r) if r.is_finite() => Decimal::from_str_exact(&r.to_string())
                .map_err(|e| bad_value_because(value, "a decimal", DECIMAL_FORMAT, &e)),
            ValueRef::Real(_) => Err(bad_value(value, "a decimal", DECIMAL_FORMAT)),
            ValueRef::Text(s) => {
                let parsed =
                    if s.contains(['e', 'E']) { Decimal::from_scientific(s) } else { Decimal::from_str_exact(s) };
                parsed.map_err(|e| bad_value_because(value, "a decimal", DECIMAL_FORMAT, &e))
            }
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn written_as_text_read_from_every_class() {
        assert_eq!(dec("-0.50").to_sql().unwrap(), Value::Text("-0.50".into()));
        let big = dec("1234567890123456789.123456789");
        assert_eq!(Decimal::from_sql(big.to_sql().unwrap().as_ref()).unwrap(), big);
        assert_eq!(Decimal::from_sql(ValueRef::Real(19_999.99)).unwrap(), dec("19999.99"));
        assert_eq!(Decimal::from_sql(ValueRef::Real(0.1 + 0.2)).unwrap(), dec("0.30000000000000004"));
        assert_eq!(Decimal::from_sql(ValueRef::Integer(-7)).unwrap(), dec("-7"));
        assert_eq!(Decimal::from_sql(ValueRef::Text("1.5e3")).unwrap(), dec("1500"));
        assert_eq!(Decimal::from_sql(ValueRef::Text("-0.50")).unwrap().to_string(), "-0.50");
    }

    #[test]
    fn bad_decimal_names_value_and_format() {
        let e = Decimal::from_sql(ValueRef::Text("12,5")).unwrap_err().to_string();
        assert!(e.contains("\"12,5\"") && e.contains("decimal number"), "{e}");
        assert!(Decimal::from_sql(ValueRef::Text("1e400")).is_err());
        assert!(Decimal::from_sql(ValueRef::Real(f64::INFINITY)).is_err());
        assert!(Decimal::from_sql(ValueRef::Real(1e300)).is_err());
        assert!(Decimal::from_sql(ValueRef::Text("123456789012345678901234567890")).is_err());
        assert!(matches!(Decimal::from_sql(ValueRef::Blob(b"1")), Err(FromSqlError::InvalidType)));
    }
}
