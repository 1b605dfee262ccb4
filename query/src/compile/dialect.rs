//! What differs between SQL dialects; the compiler asks the dialect and writes the rest itself.

use std::fmt::Debug;

use crate::types::SqlType;

/// The parts of SQL output that vary by database. Every method has the ANSI answer as its default, so a dialect
/// overrides only what differs.
pub trait Dialect: Debug + Send + Sync {
    /// The dialect's name.
    fn name(&self) -> &'static str;

    /// Whether `word` is a reserved word that must be quoted as an identifier.
    fn is_reserved(&self, word: &str) -> bool;

    /// Whether an identifier needs quotes: anything but a lower-case plain name that is not reserved (as
    /// SQLAlchemy decides, so that mixed-case names keep their case).
    fn needs_quotes(&self, ident: &str) -> bool {
        let mut chars = ident.chars();
        let plain = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
        !plain || self.is_reserved(ident)
    }

    /// Write an identifier, quoted with `"` when needed, with quotes inside doubled.
    fn write_identifier(&self, ident: &str, out: &mut String) {
        if self.needs_quotes(ident) {
            out.push('"');
            for ch in ident.chars() {
                if ch == '"' {
                    out.push('"');
                }
                out.push(ch);
            }
            out.push('"');
        } else {
            out.push_str(ident);
        }
    }

    /// Write a positional parameter placeholder.
    fn write_placeholder(&self, out: &mut String) {
        out.push('?');
    }

    /// The `LIMIT` to write when only an `OFFSET` is given (`None`: write no LIMIT).
    fn limit_for_offset_only(&self) -> Option<&'static str> {
        None
    }

    /// Whether `RETURNING` is supported.
    fn supports_returning(&self) -> bool {
        true
    }

    /// Whether `UPDATE ... FROM` is supported.
    fn supports_update_from(&self) -> bool {
        true
    }

    /// Whether `ANY (...)` / `ALL (...)` comparisons are supported.
    fn supports_any_all(&self) -> bool {
        true
    }

    /// The type name `CAST(x AS ...)` writes for `ty`.
    fn cast_type(&self, ty: &SqlType) -> String {
        ty.ddl()
    }
}

/// SQLite (3.35 or newer for `RETURNING`; 3.33 for `UPDATE ... FROM`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

/// SQLite's keywords (`sqlite3_keyword_name`), which must be quoted as identifiers.
const SQLITE_KEYWORDS: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn is_reserved(&self, word: &str) -> bool {
        SQLITE_KEYWORDS.binary_search(&word).is_ok()
    }

    fn limit_for_offset_only(&self) -> Option<&'static str> {
        Some("-1")
    }

    fn supports_any_all(&self) -> bool {
        false
    }

    /// Dates, datetimes, times and JSON are stored as text, so a cast to them is a cast to `TEXT`: SQLite reads a
    /// type name by its affinity, and `DATE`, `DATETIME`, `TIME` and `JSON` have NUMERIC affinity, which would turn
    /// `'2012-06-01'` into 2012, `'12:30:00'` into 12 and a JSON object into 0 (SQLAlchemy writes
    /// `CAST(x AS DATE)` and gets those).
    fn cast_type(&self, ty: &SqlType) -> String {
        match ty {
            SqlType::Date | SqlType::DateTime | SqlType::Time | SqlType::Json => "TEXT".to_owned(),
            ty => ty.ddl(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_sorted_and_quoting() {
        assert!(SQLITE_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        let q = |s: &str| {
            let mut out = String::new();
            Sqlite.write_identifier(s, &mut out);
            out
        };
        assert_eq!(q("cars"), "cars");
        assert_eq!(q("order"), "\"order\"");
        assert_eq!(q("Make"), "\"Make\"");
        assert_eq!(q("a\"b"), "\"a\"\"b\"");
        assert_eq!(q("x; DROP TABLE cars"), "\"x; DROP TABLE cars\"");
    }
}
