//! `uuid::Uuid` (feature `uuid`): written as SQLAlchemy's `Uuid` stores it on SQLite, 32 lower-case hex digits.

use uuid::Uuid;

use super::bad_value_because;
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};

const UUID_FORMAT: &str = "32 hex digits, a hyphenated, braced or urn:uuid: UUID, or a 16-byte BLOB";

impl ToSql for Uuid {
    fn to_sql(&self) -> crate::Result<Value> {
        Ok(Value::Text(self.simple().to_string()))
    }
}

impl FromSql for Uuid {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Text(s) => Uuid::try_parse(s).map_err(|e| bad_value_because(value, "a UUID", UUID_FORMAT, &e)),
            ValueRef::Blob(b) => Uuid::from_slice(b).map_err(|e| bad_value_because(value, "a UUID", UUID_FORMAT, &e)),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_as_32_hex_digits_and_read_in_every_form() {
        let u = Uuid::parse_str("12345678-1234-5678-1234-567812345678").unwrap();
        assert_eq!(u.to_sql().unwrap(), Value::Text("12345678123456781234567812345678".into()));
        for s in [
            "12345678123456781234567812345678",
            "12345678-1234-5678-1234-567812345678",
            "{12345678-1234-5678-1234-567812345678}",
            "urn:uuid:12345678-1234-5678-1234-567812345678",
        ] {
            assert_eq!(Uuid::from_sql(ValueRef::Text(s)).unwrap(), u, "{s}");
        }
        assert_eq!(Uuid::from_sql(ValueRef::Blob(u.as_bytes())).unwrap(), u);
    }

    #[test]
    fn bad_uuid_names_value_and_format() {
        let e = Uuid::from_sql(ValueRef::Text("not-a-uuid")).unwrap_err().to_string();
        assert!(e.contains("\"not-a-uuid\"") && e.contains("32 hex digits"), "{e}");
        let e = Uuid::from_sql(ValueRef::Blob(&[1, 2, 3])).unwrap_err().to_string();
        assert!(e.contains("BLOB of 3 bytes"), "{e}");
        assert!(matches!(Uuid::from_sql(ValueRef::Integer(1)), Err(FromSqlError::InvalidType)));
    }
}
