//! Compilation: statements (plain data) become SQL for a dialect ([`Sqlite`] unless told otherwise, or
//! [`Postgres`]) and a list of parameter slots.
//!
//! The compiler writes SQL and numbers parameters; the [`Dialect`] answers what differs between databases.
//! Every literal becomes a placeholder (`?`, `$n`) whose value is kept aside, so the SQL depends only on the statement's shape: the
//! engine caches it by that shape (see [`cache`](crate::cache)). The same walk runs in a "collect" mode that
//! writes nothing and only gathers the literals, in the same order, for a statement whose SQL is cached.

mod cte;
mod ddl;
pub mod dialect;
mod dml;
mod expr;
mod from;
pub(crate) mod gather;
mod names;
mod postgres;
mod query;

use std::fmt;
use std::sync::Arc;

use asqlite::{Params, Value};

pub use self::ddl::{
    create_index_sql, create_index_sql_for, create_table_sql, create_table_sql_for, drop_table_sql, drop_table_sql_for,
};
pub use self::dialect::{Dialect, InsertOr, Sqlite};
pub use self::postgres::Postgres;
use crate::delete::Delete;
use crate::error::{Error, Result};
use crate::insert::Insert;
use crate::select::{Compound, Select};
use crate::text::{self, TextClause};
use crate::update::Update;

/// The deepest nesting of expressions and subqueries the compiler writes: SQLite's own limit on expression depth
/// (`SQLITE_MAX_EXPR_DEPTH`), past which it would refuse the SQL anyway. Deeper is a compile error, never a stack
/// overflow.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// Where a parameter's value comes from at execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The n-th literal of the statement.
    Literal(usize),
    /// A named parameter (`bindparam("name")`, `:name` in text, an insert's column).
    Named(Arc<str>),
    /// The n-th positional parameter (a `?` in text).
    Positional(usize),
}

/// The part of a compiled statement that depends only on its shape: what the engine caches.
#[derive(Debug)]
pub struct Shape {
    pub(crate) sql: Arc<str>,
    pub(crate) slots: Box<[Slot]>,
    /// How many positional parameters (`?` in text) the statement takes, so that a call checks its count
    /// without a walk over the slots.
    pub(crate) positional: usize,
    /// Whether the statement returns rows (a query, or DML with RETURNING).
    pub(crate) returns_rows: bool,
    /// Whether the statement only reads (a plain query).
    pub(crate) readonly: bool,
    /// Whether the statement's kind is unknown until SQLite prepares it (text).
    pub(crate) is_text: bool,
    /// The dialect it was written for.
    pub(crate) dialect: &'static dyn Dialect,
    /// Where each placeholder is in `sql` (its byte range), in slot order.
    pub(crate) placeholders: Placeholders,
    /// How a statement of this shape, found in the cache, gathers its literals.
    pub(crate) gather: gather::Gather,
    /// The Arrow fields of its result columns, worked out on the first run that asks (they follow from the shape:
    /// the tables' columns, labels, casts and joins), so a statement built again does not type its columns again.
    #[cfg(feature = "arrow")]
    pub(crate) arrow_fields: std::sync::OnceLock<Option<crate::arrow::ResultFields>>,
}

impl Shape {
    /// Check `params` against the statement's parameters: as many positional values as it takes (if any are
    /// given), and no name it does not have.
    pub(crate) fn check_params(&self, params: &Params) -> Result<()> {
        self.check_positional(params)?;
        self.check_names(params)
    }

    fn check_positional(&self, params: &Params) -> Result<()> {
        let given = params.positional_values().len();
        if given > 0 && given != self.positional {
            let wanted = self.positional;
            return Err(Error::params(format!(
                "the statement takes {wanted} positional parameter{}, {given} given",
                if wanted == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    fn check_names(&self, params: &Params) -> Result<()> {
        for name in params.names() {
            let bare = text::strip_param_prefix(name);
            if !self.slots.iter().any(|s| matches!(s, Slot::Named(n) if text::strip_param_prefix(n) == bare)) {
                return Err(Error::params(format!("the statement has no parameter named {bare:?}")));
            }
        }
        Ok(())
    }

    /// [`check_params`](Shape::check_params), and the values to bind in placeholder order (the statement's
    /// `literals` and the caller's `params`), in one walk: each named slot finds its value once, and the names are
    /// checked apart only when a name was left unused, or a value is missing (so that the error is the one the
    /// check gives first).
    pub(crate) fn check_and_bind(&self, literals: &[Value], params: &Params) -> Result<Params> {
        self.check_positional(params)?;
        let pairs = params.named_pairs();
        // Bit i: the i-th named value was bound (one past the 64th never counts, so it is checked apart).
        let mut used = 0u64;
        let mut out = Params::positional_with_capacity(self.slots.len());
        for slot in self.slots.iter() {
            let value = match slot {
                Slot::Named(n) => {
                    let bare = text::strip_param_prefix(n);
                    match pairs.iter().enumerate().find(|(_, (k, _))| text::strip_param_prefix(k) == bare) {
                        Some((i, (_, v))) => {
                            used |= 1u64.checked_shl(u32::try_from(i).unwrap_or(u32::MAX)).unwrap_or(0);
                            v.clone()
                        }
                        None => {
                            self.check_names(params)?;
                            return Err(missing_named(n));
                        }
                    }
                }
                slot => match slot_value(slot, literals, params) {
                    Ok(v) => v,
                    Err(e) => {
                        self.check_names(params)?;
                        return Err(e);
                    }
                },
            };
            out.push_value(value);
        }
        if usize::try_from(used.count_ones()).ok() != Some(pairs.len()) {
            self.check_names(params)?;
        }
        Ok(out)
    }

    /// The Arrow fields of the result of `stmt`, a statement of this shape (see `crate::arrow::result_fields`).
    #[cfg(feature = "arrow")]
    pub(crate) fn arrow_fields(&self, stmt: Stmt<'_>) -> Option<crate::arrow::ResultFields> {
        self.typed_by(stmt).then(|| self.arrow_fields.get().cloned().flatten()).flatten()
    }

    /// Work out the Arrow fields of `stmt`'s result (a statement of this shape) once, and say whether it has
    /// them: a compiled statement has lost its tables (the driver types its columns), as has a shape whose
    /// columns this layer cannot type. The fields are then read from the shape, without a copy per statement.
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn typed_by(&self, stmt: Stmt<'_>) -> bool {
        match stmt {
            Stmt::Compiled(_) => false,
            _ => self.arrow_fields.get_or_init(|| crate::arrow::result_fields(stmt)).is_some(),
        }
    }

    /// The Arrow fields worked out by [`typed_by`](Shape::typed_by).
    #[cfg(feature = "arrow")]
    pub(crate) fn known_arrow_fields(&self) -> Option<&[Option<asqlite::arrow::FieldRef>]> {
        self.arrow_fields.get().and_then(Option::as_deref)
    }
}

/// A compiled statement: SQL, parameter slots and the literal values of this instance.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) shape: Arc<Shape>,
    pub(crate) literals: Vec<Value>,
}

impl Compiled {
    /// The SQL.
    pub fn sql(&self) -> &str {
        &self.shape.sql
    }

    /// The parameter slots, in placeholder order.
    pub fn slots(&self) -> &[Slot] {
        &self.shape.slots
    }

    /// The literal values pulled out of the statement, in slot order of first use.
    pub fn literals(&self) -> &[Value] {
        &self.literals
    }

    /// Whether running it returns rows.
    pub fn returns_rows(&self) -> bool {
        self.shape.returns_rows
    }

    /// The dialect it was compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.shape.dialect
    }

    /// The positional values to bind, taking named and positional parameters from `params`.
    pub fn bind(&self, params: &Params) -> Result<Vec<Value>> {
        bind_slots(&self.shape.slots, &self.literals, params)
    }

    /// The SQL with literal values written in, for logs only: never execute this text.
    pub fn debug_sql(&self) -> String {
        let sql: &str = &self.shape.sql;
        let mut out = String::with_capacity(sql.len() + 16);
        let mut at = 0;
        for (&(start, end), slot) in self.shape.placeholders.iter().zip(self.shape.slots.iter()) {
            let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else { break };
            out.push_str(sql.get(at..start).unwrap_or_default());
            match slot {
                Slot::Literal(i) => out.push_str(&self.literals.get(*i).map_or_else(|| "?".to_owned(), literal_sql)),
                Slot::Named(n) => {
                    out.push(':');
                    out.push_str(n);
                }
                Slot::Positional(i) => out.push_str(&format!("?{}", i + 1)),
            }
            at = end;
        }
        out.push_str(sql.get(at..).unwrap_or_default());
        out
    }
}

impl fmt::Display for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shape.sql)
    }
}

/// Build the positional values for `slots`.
pub(crate) fn bind_slots(slots: &[Slot], literals: &[Value], params: &Params) -> Result<Vec<Value>> {
    slots.iter().map(|s| slot_value(s, literals, params)).collect()
}

/// The value for one slot: a gathered literal, or the caller's parameter.
fn slot_value(slot: &Slot, literals: &[Value], params: &Params) -> Result<Value> {
    slot_value_ref(slot, literals, params).cloned()
}

/// [`slot_value`], borrowed.
pub(crate) fn slot_value_ref<'a>(slot: &Slot, literals: &'a [Value], params: &'a Params) -> Result<&'a Value> {
    match slot {
        Slot::Literal(i) => literals.get(*i).ok_or_else(|| Error::compile(format!("literal {i} missing (internal)"))),
        Slot::Named(n) => params.get_named(n).ok_or_else(|| missing_named(n)),
        Slot::Positional(i) => params
            .positional_values()
            .get(*i)
            .ok_or_else(|| Error::params(format!("no value given for positional parameter {}", i + 1))),
    }
}

#[cold]
fn missing_named(name: &str) -> Error {
    Error::params(format!("no value given for parameter {name:?}"))
}

/// A value as an SQL literal: only for DDL defaults and log output, never for statements that run with data.
pub fn literal_sql(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) if r.is_finite() => format!("{r:?}"),
        Value::Real(_) => "NULL".to_owned(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Blob(b) => {
            let mut s = String::from("X'");
            for byte in b {
                s.push_str(&format!("{byte:02X}"));
            }
            s.push('\'');
            s
        }
    }
}

/// A statement the engine can run, borrowed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Stmt<'a> {
    /// A select.
    Select(&'a Select),
    /// A compound select.
    Compound(&'a Compound),
    /// An insert.
    Insert(&'a Insert),
    /// An update.
    Update(&'a Update),
    /// A delete.
    Delete(&'a Delete),
    /// SQL text.
    Text(&'a TextClause),
    /// An already compiled statement.
    Compiled(&'a Compiled),
}

/// Anything `execute` takes: statements by value or by reference, compiled statements, `text(...)`.
pub trait Executable: Send + Sync {
    /// Borrow as a statement.
    fn as_stmt(&self) -> Stmt<'_>;

    /// Compile to SQLite SQL (without the engine's cache).
    fn compile(&self) -> Result<Compiled> {
        compile_stmt(self.as_stmt(), None, &SQLITE)
    }

    /// Compile to the SQL of `dialect` (without the engine's cache): `stmt.compile_for(&Postgres)`. A statement
    /// compiled for another dialect is an error.
    fn compile_for(&self, dialect: &'static dyn Dialect) -> Result<Compiled> {
        compile_stmt(self.as_stmt(), None, dialect)
    }
}

impl<T: Executable + ?Sized> Executable for &T {
    fn as_stmt(&self) -> Stmt<'_> {
        (**self).as_stmt()
    }
}

macro_rules! executable {
    ($($t:ident),*) => {$(
        impl Executable for $t {
            fn as_stmt(&self) -> Stmt<'_> {
                Stmt::$t(self)
            }
        }

        impl fmt::Display for $t {
            /// The SQL (parameters shown as `?`); an uncompilable statement shows its error.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.compile() {
                    Ok(c) => f.write_str(c.sql()),
                    Err(e) => write!(f, "<{e}>"),
                }
            }
        }
    )*};
}
executable!(Select, Compound, Insert, Update, Delete);

impl Executable for TextClause {
    fn as_stmt(&self) -> Stmt<'_> {
        Stmt::Text(self)
    }
}

impl Executable for Compiled {
    fn as_stmt(&self) -> Stmt<'_> {
        Stmt::Compiled(self)
    }
}

impl fmt::Display for TextClause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// Compile a statement for `dialect`. `insert_keys` names the columns of an insert that takes them from its
/// parameters. A statement already compiled must have been compiled for `dialect`.
pub(crate) fn compile_stmt(
    stmt: Stmt<'_>,
    insert_keys: Option<&[Arc<str>]>,
    dialect: &'static dyn Dialect,
) -> Result<Compiled> {
    if let Stmt::Compiled(c) = stmt {
        check_dialect(c, dialect)?;
        return Ok(c.clone());
    }
    compile_shape(stmt, insert_keys, dialect, false)
}

/// Compile a statement (not a compiled one); with `plan`, also work out how a cached statement of its shape
/// gathers its literals (see [`gather`]).
pub(crate) fn compile_shape(
    stmt: Stmt<'_>,
    insert_keys: Option<&[Arc<str>]>,
    dialect: &'static dyn Dialect,
    plan: bool,
) -> Result<Compiled> {
    let mut c = Compiler::new(true, dialect);
    let kind = c.statement(stmt, insert_keys)?;
    if c.empty_ident {
        return Err(empty_name());
    }
    let (sql, placeholders) = number_placeholders(&c.out, c.slots.len(), dialect)?;
    let positional = c.slots.iter().filter_map(|s| if let Slot::Positional(i) = s { Some(i + 1) } else { None }).max();
    let shape = Shape {
        sql: Arc::from(sql),
        slots: c.slots.into_boxed_slice(),
        positional: positional.unwrap_or(0),
        returns_rows: kind.returns_rows,
        readonly: kind.readonly,
        is_text: kind.is_text,
        dialect,
        placeholders,
        gather: if plan { gather::plan(stmt, &c.literal_addrs) } else { gather::Gather::Compiler },
        #[cfg(feature = "arrow")]
        arrow_fields: std::sync::OnceLock::new(),
    };
    Ok(Compiled { shape: Arc::new(shape), literals: c.literals })
}

/// The byte range of each placeholder in a statement's SQL.
type Placeholders = Box<[(u32, u32)]>;

/// A compiled statement runs only where it was compiled for: `?` means nothing to PostgreSQL, nor `$1` to SQLite.
pub(crate) fn check_dialect(c: &Compiled, dialect: &dyn Dialect) -> Result<()> {
    if c.shape.dialect.name() == dialect.name() {
        Ok(())
    } else {
        Err(Error::compile(format!(
            "this statement was compiled for {} and cannot run on {}: pass the statement itself (or compile it with \
             compile_for)",
            c.shape.dialect.name(),
            dialect.name()
        )))
    }
}

/// The compiler marks each placeholder with a NUL while it writes (CTEs are written after the statement that uses
/// them, then moved in front, so numbers are known only at the end): replace the marks with the dialect's
/// placeholders, numbered in slot order. A NUL of the statement's own (in a name or in `text()`) would cut the SQL
/// short where SQLite reads it: there are then more NULs than slots, which is an error.
fn number_placeholders(marked: &str, slots: usize, dialect: &dyn Dialect) -> Result<(String, Placeholders)> {
    if marked.bytes().filter(|b| *b == 0).count() != slots {
        return Err(nul_in_sql());
    }
    let mut sql = String::with_capacity(marked.len() + slots * 2);
    let mut places = Vec::with_capacity(slots);
    for (n, piece) in marked.split('\0').enumerate() {
        if n > 0 {
            let start = sql.len();
            dialect.write_placeholder(n, &mut sql);
            let range = (u32::try_from(start), u32::try_from(sql.len()));
            let (Ok(start), Ok(end)) = range else {
                return Err(Error::compile("the statement is longer than 4 GiB"));
            };
            places.push((start, end));
        }
        sql.push_str(piece);
    }
    Ok((sql, places.into_boxed_slice()))
}

/// SQLite reads SQL text up to its first NUL, so a NUL in an identifier (or in `text()`) would cut the statement
/// short: refuse it. Values never reach the SQL, so they may hold NULs.
pub(crate) fn check_no_nul(sql: &str) -> Result<()> {
    if sql.contains('\0') {
        return Err(nul_in_sql());
    }
    Ok(())
}

#[cold]
fn nul_in_sql() -> Error {
    Error::compile("a NUL character cannot appear in SQL text: a table, column or label name (or text()) holds one")
}

#[cold]
fn too_deep() -> Error {
    Error::compile(format!(
        "the statement nests expressions (or subqueries) deeper than {MAX_EXPR_DEPTH} levels, SQLite's limit \
         (SQLITE_MAX_EXPR_DEPTH)"
    ))
}

#[cold]
pub(crate) fn empty_name() -> Error {
    Error::compile("a table, column, alias or label name cannot be empty")
}

/// Gather a statement's literals in slot order without writing SQL (for a statement whose shape is cached).
pub(crate) fn collect_literals(
    stmt: Stmt<'_>,
    insert_keys: Option<&[Arc<str>]>,
    dialect: &'static dyn Dialect,
) -> Result<Vec<Value>> {
    let mut c = Compiler::new(false, dialect);
    c.statement(stmt, insert_keys)?;
    Ok(c.literals)
}

pub(crate) struct StmtKind {
    pub(crate) returns_rows: bool,
    pub(crate) readonly: bool,
    pub(crate) is_text: bool,
}

/// Expression contexts that change how a few nodes render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Plain,
    SelectList,
    OrderBy,
    GroupBy,
    /// The ORDER BY of a window (`over`): orderings are allowed, the select list's labels are not.
    Window,
}

/// Writes SQL and parameter slots.
pub(crate) struct Compiler {
    pub(crate) out: String,
    pub(crate) emit: bool,
    pub(crate) slots: Vec<Slot>,
    pub(crate) literals: Vec<Value>,
    /// The address of each literal's value in the statement (to map the compiler's order onto a walk's).
    pub(crate) literal_addrs: Vec<usize>,
    pub(crate) dialect: &'static dyn Dialect,
    /// FROM names of the enclosing selects, innermost last, for correlation.
    pub(crate) scopes: Vec<Vec<String>>,
    /// How many of `scopes` (outermost first) are out of reach: SQLite resolves a select's GROUP BY and ORDER BY,
    /// and every subquery in them at any depth, against that select's FROM only, never an enclosing query's.
    pub(crate) hidden_scopes: usize,
    /// CTEs met so far: name, rendered body, slots, names of the CTEs it uses.
    pub(crate) ctes: Vec<cte::CteEntry>,
    /// The CTEs whose bodies are being rendered.
    pub(crate) rendering_ctes: Vec<String>,
    pub(crate) recursive: bool,
    /// Columns of this source render unqualified (RETURNING, ON CONFLICT targets).
    pub(crate) unqualified: Option<String>,
    pub(crate) positional: usize,
    /// The labels of the select list being written, which ORDER BY and GROUP BY may name.
    pub(crate) labels: Vec<Arc<str>>,
    /// The target table while writing `ON CONFLICT DO UPDATE`, where `excluded.col` is valid.
    pub(crate) upsert: Option<crate::schema::Table>,
    /// Set when an empty name was written: SQLite does not resolve `""` reliably (`AS ""` is no alias at all).
    pub(crate) empty_ident: bool,
    /// How many expressions and selects enclose the one being written (see [`MAX_EXPR_DEPTH`]).
    pub(crate) depth: usize,
}

pub(crate) static SQLITE: Sqlite = Sqlite;

impl Compiler {
    pub(crate) fn new(emit: bool, dialect: &'static dyn Dialect) -> Self {
        Compiler {
            out: String::new(),
            emit,
            slots: Vec::new(),
            literals: Vec::new(),
            literal_addrs: Vec::new(),
            dialect,
            scopes: Vec::new(),
            hidden_scopes: 0,
            ctes: Vec::new(),
            rendering_ctes: Vec::new(),
            recursive: false,
            unqualified: None,
            positional: 0,
            labels: Vec::new(),
            upsert: None,
            empty_ident: false,
            depth: 0,
        }
    }

    /// Go one level deeper (the caller comes back up with `self.depth -= 1`); past [`MAX_EXPR_DEPTH`] an error.
    #[inline]
    pub(crate) fn descend(&mut self) -> Result<()> {
        if self.depth >= MAX_EXPR_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    /// Whether the innermost scope with a source named `name` is out of reach (see `hidden_scopes`).
    pub(crate) fn out_of_reach(&self, name: &str) -> bool {
        self.scopes.iter().rposition(|sc| sc.iter().any(|n| n == name)).is_some_and(|i| i < self.hidden_scopes)
    }

    pub(crate) fn out_of_reach_error(name: &str) -> Error {
        Error::compile(format!(
            "a subquery in a GROUP BY or ORDER BY cannot name {name:?} of a query enclosing that GROUP BY or ORDER \
             BY's select on SQLite, which resolves GROUP BY and ORDER BY against that select's FROM only"
        ))
    }

    #[inline]
    pub(crate) fn w(&mut self, s: &str) {
        if self.emit {
            self.out.push_str(s);
        }
    }

    pub(crate) fn ident(&mut self, name: &str) {
        self.empty_ident |= name.is_empty();
        if self.emit {
            self.dialect.write_identifier(name, &mut self.out);
        }
    }

    /// A placeholder: a NUL mark, numbered once the statement is whole (see `number_placeholders`).
    pub(crate) fn slot(&mut self, slot: Slot) {
        if self.emit {
            self.out.push('\0');
        }
        self.slots.push(slot);
    }

    pub(crate) fn literal(&mut self, v: &Value) {
        let i = self.literals.len();
        self.literals.push(v.clone());
        self.literal_addrs.push(std::ptr::from_ref(v) as usize);
        self.slot(Slot::Literal(i));
    }

    fn statement(&mut self, stmt: Stmt<'_>, insert_keys: Option<&[Arc<str>]>) -> Result<StmtKind> {
        let mut kind = StmtKind { returns_rows: false, readonly: false, is_text: false };
        match stmt {
            Stmt::Select(s) => {
                self.select(s, false, false)?;
                kind.returns_rows = true;
                kind.readonly = true;
            }
            Stmt::Compound(c) => {
                self.compound(c, false)?;
                kind.returns_rows = true;
                kind.readonly = true;
            }
            Stmt::Insert(i) => kind.returns_rows = self.insert(i, insert_keys)?,
            Stmt::Update(u) => kind.returns_rows = self.update(u)?,
            Stmt::Delete(d) => kind.returns_rows = self.delete(d)?,
            Stmt::Text(t) => {
                self.text(&t.sql)?;
                kind.is_text = true;
            }
            Stmt::Compiled(_) => return Err(Error::compile("a compiled statement cannot be compiled again")),
        }
        self.prepend_ctes()?;
        Ok(kind)
    }

    pub(crate) fn text(&mut self, sql: &str) -> Result<()> {
        let pieces = text::parse(sql).map_err(Error::compile)?;
        for p in pieces {
            match p {
                text::Piece::Sql(s) => self.w(s),
                text::Piece::Named(n) => self.slot(Slot::Named(Arc::from(n))),
                text::Piece::Positional => {
                    let i = self.positional;
                    self.positional += 1;
                    self.slot(Slot::Positional(i));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use asqlite::named_params;

    use super::*;
    use crate::prelude::*;

    /// Binding checks the names in the same walk: a name used twice, names given with a prefix or twice bind as
    /// looking each one up would, and an unknown name is reported before a missing one, as the check reports it.
    #[test]
    fn binding_in_one_walk_gives_the_values_and_errors_of_check_then_bind() {
        let meta = MetaData::new();
        let t = Table::new("t", &meta, [Column::new("a", Integer), Column::new("b", Integer)]);
        let q = select(&t).where_(t.c("a").eq(bindparam("x")) | t.c("b").eq(bindparam("x")) | t.c("b").gt(3));
        let c = q.compile().unwrap();
        let bound = |p: Params| c.shape.check_and_bind(&c.literals, &p).map(|v| v.positional_values().to_vec());
        let ints = |v: &[i64]| v.iter().map(|&i| Value::Integer(i)).collect::<Vec<_>>();
        assert_eq!(bound(named_params! {"x" => 1}).unwrap(), ints(&[1, 1, 3]));
        assert_eq!(bound(named_params! {":x" => 2}).unwrap(), ints(&[2, 2, 3]));
        assert_eq!(bound(named_params! {"x" => 4, "x" => 5}).unwrap(), ints(&[4, 4, 3]));
        let err = |p: Params| bound(p).unwrap_err().to_string();
        assert_eq!(err(named_params! {"y" => 1}), "bad parameters: the statement has no parameter named \"y\"");
        assert_eq!(err(named_params! {"x" => 1, "y" => 1}), err(named_params! {"y" => 1}));
        assert_eq!(err(Params::none()), "bad parameters: no value given for parameter \"x\"");
        let many: Vec<(String, i64)> = (0..70).map(|i| (format!("x{i}"), i)).collect();
        let mut p = Params::none();
        for (k, v) in &many {
            p.push_named(k.clone(), v);
        }
        assert_eq!(err(p), "bad parameters: the statement has no parameter named \"x0\"");
    }
}
