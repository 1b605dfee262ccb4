//! Fuzz entry points, shared by the fuzz targets in `fuzz/` and by the corpus replay tests.
//!
//! Each takes arbitrary bytes, builds input from them, and checks an invariant; a violated invariant panics, which
//! is what a fuzzer reports.

use asqlite::blocking::Connection;
use asqlite::{ErrorKind, Params, Value};

/// Reads structured input from fuzz bytes; runs out gracefully (zeros).
pub(crate) struct Bytes<'a>(pub(crate) &'a [u8]);

impl Bytes<'_> {
    pub(crate) fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    pub(crate) fn u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        let b = self.take(8);
        buf[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(buf)
    }

    fn value(&mut self) -> Value {
        match self.byte() % 5 {
            0 => Value::Null,
            1 => Value::Integer(i64::from_le_bytes(self.u64().to_le_bytes())),
            2 => Value::Real(f64::from_bits(self.u64())),
            3 => {
                let n = usize::from(self.byte());
                Value::Text(String::from_utf8_lossy(self.take(n)).into_owned())
            }
            _ => {
                let n = usize::from(self.byte());
                Value::Blob(self.take(n).to_vec())
            }
        }
    }
}

/// What SQLite hands back for a bound value: NaN is stored as NULL.
fn echoed(v: &Value) -> Value {
    match v {
        Value::Real(r) if r.is_nan() => Value::Null,
        other => other.clone(),
    }
}

/// SQL shapes with their placeholders. `echo` says which bound value each result column must equal (by position
/// in the statement's parameter list), where the statement just selects its parameters.
const TEMPLATES: &[(&str, &[usize])] = &[
    ("SELECT ?", &[0]),
    ("SELECT ?, ?", &[0, 1]),
    ("SELECT ?1, ?2, ?1", &[0, 1, 0]),
    ("SELECT :a, :b", &[0, 1]),
    ("SELECT @a, $b, :c", &[0, 1, 2]),
    ("SELECT ?3", &[2]),
    ("SELECT :a, ?", &[0, 1]),
    ("SELECT typeof(?1), length(?1)", &[]),
    ("SELECT ? || ?", &[]),
];

const NAMES: &[&str] = &["a", "b", "c", ":a", "@b", "$c", "zz", ":b", "", "?1"];

/// Bind fuzzed values, positionally or by (possibly wrong) names, to fuzzed SQL shapes. Invariants: nothing
/// panics; a failure is one of the parameter error kinds; a success echoes exactly the values bound.
pub fn bind_params(data: &[u8]) {
    thread_local! {
        static CONN: Connection = Connection::open_in_memory().expect("an in-memory database");
    }
    let mut input = Bytes(data);
    let (sql, echo) = TEMPLATES[usize::from(input.byte()) % TEMPLATES.len()];
    let named = input.byte() % 2 == 1;
    let count = usize::from(input.byte() % 5);
    let values: Vec<Value> = (0..count).map(|_| input.value()).collect();
    let names: Vec<&str> = (0..count).map(|_| NAMES[usize::from(input.byte()) % NAMES.len()]).collect();
    let params = if named {
        Params::named(names.iter().map(|n| n.to_string()).zip(values.iter().cloned()))
    } else {
        Params::positional(values.iter().cloned())
    };
    CONN.with(|conn| match conn.query(sql, params) {
        Ok(rows) => {
            let row = rows.first().expect("a SELECT without FROM returns one row");
            if named {
                // Each placeholder got the first value given under its bare name.
                let pairs: Vec<(&str, &Value)> = names.iter().map(|n| bare(n)).zip(&values).collect();
                let placeholders = sql.split([',', ' ']).filter(|p| p.starts_with([':', '@', '$']));
                for (col, placeholder) in placeholders.enumerate().take(echo.len()) {
                    let given = pairs.iter().find(|(n, _)| *n == bare(placeholder)).map(|(_, v)| *v);
                    let given = given.expect("a placeholder bound without a value");
                    assert_eq!(row.values()[col], echoed(given), "{sql}: column {col}");
                }
            } else {
                for (col, &i) in echo.iter().enumerate() {
                    assert_eq!(row.values()[col], echoed(&values[i]), "{sql}: column {col}");
                }
            }
        }
        // Concatenating a blob into text can make invalid UTF-8, which reads back as a clear conversion error.
        Err(e) if e.kind() == ErrorKind::TypeConversion && sql.contains("||") => {
            assert!(e.message().contains("UTF-8"), "{e}");
        }
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::ParameterCount | ErrorKind::ParameterName | ErrorKind::TooBig),
            "{sql}: unexpected error {e:?}"
        ),
    });
}

fn bare(name: &str) -> &str {
    name.strip_prefix([':', '@', '$']).unwrap_or(name)
}
