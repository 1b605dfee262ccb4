//! What differs between SQL dialects; the compiler asks the dialect and writes the rest itself.
//!
//! [`Sqlite`] and [`Postgres`](super::Postgres) differ only where the databases do: placeholders (`?`, `$n`),
//! reserved words, DDL type names and integer keys, `ILIKE`, null-safe comparison, `REGEXP`, SQLite's
//! `INSERT OR ...`, how an empty `IN` list and a constant condition are spelled, and what a cast to a date means.
//! Everything else (`RETURNING`, `ON CONFLICT`, `LIMIT`/`OFFSET`, windows, CTEs, JSON arrows) is written once by the
//! compiler for both.

use std::fmt::Debug;

use crate::error::{Error, Result};
use crate::expr::BinOp;
use crate::insert::OrAction;
use crate::types::SqlType;

/// What `INSERT OR <action>` becomes in a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOr {
    /// Written after `INSERT ` (SQLite's `OR REPLACE `).
    Prefix(&'static str),
    /// Written after the values, where no `ON CONFLICT` is given (PostgreSQL's ` ON CONFLICT DO NOTHING`).
    Suffix(&'static str),
    /// Nothing to write: the database does this anyway.
    Nothing,
}

/// The parts of SQL output that vary by database. Every method has the ANSI answer as its default (or, where
/// ANSI has none, the answer the two dialects share), so a dialect overrides only what differs.
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

    /// Write the placeholder of the `n`-th parameter (from 1) of the statement: `?` by default.
    fn write_placeholder(&self, n: usize, out: &mut String) {
        let _ = n;
        out.push('?');
    }

    /// The type name a column of type `ty` is declared with in `CREATE TABLE`.
    fn ddl_type(&self, ty: &SqlType) -> String {
        ty.ddl()
    }

    /// The declaration of a table's one integer primary key column of type `ty`, which the database numbers
    /// itself when an insert leaves it out; `None` to declare it as any column (SQLite numbers an `INTEGER`
    /// primary key, its rowid, anyway).
    fn ddl_integer_key(&self, ty: &SqlType) -> Option<String> {
        let _ = ty;
        None
    }

    /// The SQL of a column's server default `sql` (as given, or the literal of a value) for a column of type `ty`.
    fn ddl_default(&self, ty: &SqlType, sql: &str) -> String {
        let _ = ty;
        sql.to_owned()
    }

    /// The SQL of a binary operator. `IS` / `IS NOT` compare any two values, NULLs included, on every dialect.
    fn binary_operator(&self, op: BinOp) -> Result<&'static str> {
        Ok(op.sql())
    }

    /// How tightly a binary operator binds (higher binds tighter): SQLite's levels by default (`||`, `->`,
    /// `->>` above `*`; `<` above `=`). The scale: `OR` 1, `AND` 2, `NOT` 3, `=` 4, unary minus 10.
    fn binary_precedence(&self, op: BinOp) -> u8 {
        super::expr::sqlite_binary_precedence(op)
    }

    /// The type an integer right of `->` / `->>` is cast to, where the database would otherwise read a parameter
    /// there as an object key (text) rather than an array index; `None` where no cast is needed.
    fn json_index_type(&self) -> Option<&'static str> {
        None
    }

    /// Whether `ILIKE` exists; without it a case-insensitive `LIKE` compares `lower()` of both sides.
    fn has_ilike(&self) -> bool {
        false
    }

    /// Write a condition that is always true or always false, as `and_([])` / `or_([])` are.
    fn write_bool(&self, value: bool, out: &mut String) {
        out.push_str(if value { "true" } else { "false" });
    }

    /// Write an `IN` against an empty list, after its left operand of `arity` values: always false, and
    /// `NOT IN` always true, whatever the operand (NULL too).
    fn write_empty_in(&self, negated: bool, arity: usize, out: &mut String) {
        // A subquery of no rows, whose columns take the operand's types.
        out.push_str(if negated { " NOT IN (SELECT " } else { " IN (SELECT " });
        for i in 0..arity {
            out.push_str(if i == 0 { "NULL" } else { ", NULL" });
        }
        out.push_str(" WHERE 1 != 1)");
    }

    /// What `INSERT OR <action>` is written as; an error where the database has no such thing.
    fn insert_or(&self, action: OrAction) -> Result<InsertOr> {
        Err(Error::compile(format!(
            "INSERT OR {} is SQLite's and has no equivalent on {}: use on_conflict_do_nothing() or \
             on_conflict_do_update()",
            or_action_sql(action),
            self.name()
        )))
    }

    /// Whether an `IN` list of tuples is written `IN (VALUES (..), (..))` (SQLite, which has no list of row
    /// values) rather than `IN ((..), (..))`.
    fn tuple_in_values(&self) -> bool {
        false
    }

    /// Whether a term of a compound select's ORDER BY that names a column of the first select is written
    /// qualified as there (SQLite matches it so) rather than as the result column's name (which PostgreSQL needs).
    fn compound_order_by_qualified(&self) -> bool {
        false
    }

    /// Whether `INSERT ... SELECT ... ON CONFLICT` needs a `WHERE` in its SELECT to parse (SQLite's parser).
    fn insert_select_needs_where(&self) -> bool {
        false
    }

    /// Whether `INSERT ... DEFAULT VALUES` may have an `ON CONFLICT` clause.
    fn default_values_on_conflict(&self) -> bool {
        true
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

    /// The type name `CAST(x AS ...)` writes for `ty`: the one its columns are declared with.
    fn cast_type(&self, ty: &SqlType) -> String {
        self.ddl_type(ty)
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

    /// Not `true` / `false`: a column named "true" would take that word's place; and not `1` / `0`: an integer
    /// constant in GROUP BY or ORDER BY is a column number to SQLite.
    fn write_bool(&self, value: bool, out: &mut String) {
        out.push_str(if value { "1 = 1" } else { "1 != 1" });
    }

    /// As SQLAlchemy writes it for SQLite. Not `IN ()`: SQLite folds that to a constant, and `IN () AND x` to the
    /// integer 0, which GROUP BY and ORDER BY read as a column number.
    fn write_empty_in(&self, negated: bool, arity: usize, out: &mut String) {
        out.push_str(if negated { " NOT IN (SELECT 1" } else { " IN (SELECT 1" });
        for _ in 1..arity {
            out.push_str(", 1");
        }
        out.push_str(" FROM (SELECT 1) WHERE 1 != 1)");
    }

    fn insert_or(&self, action: OrAction) -> Result<InsertOr> {
        Ok(InsertOr::Prefix(match action {
            OrAction::Replace => "OR REPLACE ",
            OrAction::Ignore => "OR IGNORE ",
            OrAction::Abort => "OR ABORT ",
            OrAction::Fail => "OR FAIL ",
            OrAction::Rollback => "OR ROLLBACK ",
        }))
    }

    /// `INSERT ... SELECT ... ON CONFLICT` is ambiguous to SQLite's parser unless the SELECT has a WHERE.
    fn insert_select_needs_where(&self) -> bool {
        true
    }

    fn tuple_in_values(&self) -> bool {
        true
    }

    fn compound_order_by_qualified(&self) -> bool {
        true
    }

    fn default_values_on_conflict(&self) -> bool {
        false
    }

    /// Dates, datetimes, times and JSON are stored as text, so a cast to them is a cast to `TEXT`: SQLite reads a
    /// type name by its affinity, and `DATE`, `DATETIME`, `TIME` and `JSON` have NUMERIC affinity, which would turn
    /// `'2012-06-01'` into 2012, `'12:30:00'` into 12 and a JSON object into 0 (SQLAlchemy writes
    /// `CAST(x AS DATE)` and gets those).
    fn cast_type(&self, ty: &SqlType) -> String {
        match ty {
            SqlType::Date | SqlType::DateTime | SqlType::Time | SqlType::Json => "TEXT".to_owned(),
            ty => self.ddl_type(ty),
        }
    }
}

/// The SQL word of an `INSERT OR` action.
pub(crate) fn or_action_sql(action: OrAction) -> &'static str {
    match action {
        OrAction::Replace => "REPLACE",
        OrAction::Ignore => "IGNORE",
        OrAction::Abort => "ABORT",
        OrAction::Fail => "FAIL",
        OrAction::Rollback => "ROLLBACK",
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
