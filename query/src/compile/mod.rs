//! Compilation: statements (plain data) become SQLite SQL and a list of parameter slots.
//!
//! The [`Compiler`] writes SQL and numbers parameters; the [`Dialect`] answers what differs between databases.
//! Every literal becomes a `?` whose value is kept aside, so the SQL depends only on the statement's shape: the
//! engine caches it by that shape (see [`cache`](crate::cache)). The same walk runs in a "collect" mode that
//! writes nothing and only gathers the literals, in the same order, for a statement whose SQL is cached.

mod ddl;
pub mod dialect;
mod dml;
mod query;

use std::fmt;
use std::sync::Arc;

use asqlite::{Params, Value};

pub use self::ddl::{create_index_sql, create_table_sql, drop_table_sql};
pub use self::dialect::{Dialect, Sqlite};
use crate::delete::Delete;
use crate::error::{Error, Result};
use crate::expr::{BinOp, Expr, Source};
use crate::insert::Insert;
use crate::select::{Compound, Select};
use crate::text::{self, TextClause};
use crate::update::Update;

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
    /// Whether the statement returns rows (a query, or DML with RETURNING).
    pub(crate) returns_rows: bool,
    /// Whether the statement only reads (a plain query).
    pub(crate) readonly: bool,
    /// Whether the statement's kind is unknown until SQLite prepares it (text).
    pub(crate) is_text: bool,
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

    /// The positional values to bind, taking named and positional parameters from `params`.
    pub fn bind(&self, params: &Params) -> Result<Vec<Value>> {
        bind_slots(&self.shape.slots, &self.literals, params)
    }

    /// The SQL with literal values written in, for logs only: never execute this text.
    pub fn debug_sql(&self) -> String {
        let mut out = String::with_capacity(self.shape.sql.len() + 16);
        let mut slots = self.shape.slots.iter();
        for piece in text::parse(&self.shape.sql).unwrap_or_default() {
            match piece {
                text::Piece::Sql(s) => out.push_str(s),
                text::Piece::Named(n) => {
                    out.push(':');
                    out.push_str(n);
                }
                text::Piece::Positional => match slots.next() {
                    Some(Slot::Literal(i)) => {
                        out.push_str(&self.literals.get(*i).map_or_else(|| "?".to_owned(), literal_sql));
                    }
                    Some(Slot::Named(n)) => {
                        out.push(':');
                        out.push_str(n);
                    }
                    Some(Slot::Positional(i)) => out.push_str(&format!("?{}", i + 1)),
                    None => out.push('?'),
                },
            }
        }
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
    slots
        .iter()
        .map(|s| match s {
            Slot::Literal(i) => {
                literals.get(*i).cloned().ok_or_else(|| Error::compile(format!("literal {i} missing (internal)")))
            }
            Slot::Named(n) => {
                params.get_named(n).cloned().ok_or_else(|| Error::params(format!("no value given for parameter {n:?}")))
            }
            Slot::Positional(i) => params
                .positional_values()
                .get(*i)
                .cloned()
                .ok_or_else(|| Error::params(format!("no value given for positional parameter {}", i + 1))),
        })
        .collect()
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
        compile_stmt(self.as_stmt(), None)
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

/// Compile a statement. `insert_keys` names the columns of an insert that takes them from its parameters.
pub(crate) fn compile_stmt(stmt: Stmt<'_>, insert_keys: Option<&[Arc<str>]>) -> Result<Compiled> {
    if let Stmt::Compiled(c) = stmt {
        return Ok(c.clone());
    }
    let mut c = Compiler::new(true);
    let kind = c.statement(stmt, insert_keys)?;
    let shape = Shape {
        sql: Arc::from(c.out),
        slots: c.slots.into_boxed_slice(),
        returns_rows: kind.returns_rows,
        readonly: kind.readonly,
        is_text: kind.is_text,
    };
    Ok(Compiled { shape: Arc::new(shape), literals: c.literals })
}

/// Gather a statement's literals in slot order without writing SQL (for a statement whose shape is cached).
pub(crate) fn collect_literals(stmt: Stmt<'_>, insert_keys: Option<&[Arc<str>]>) -> Result<Vec<Value>> {
    let mut c = Compiler::new(false);
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
}

/// Writes SQL and parameter slots.
pub(crate) struct Compiler {
    pub(crate) out: String,
    pub(crate) emit: bool,
    pub(crate) slots: Vec<Slot>,
    pub(crate) literals: Vec<Value>,
    pub(crate) dialect: &'static dyn Dialect,
    /// FROM names of the enclosing selects, innermost last, for correlation.
    pub(crate) scopes: Vec<Vec<String>>,
    /// CTEs met so far: name, rendered body, slots, names of the CTEs it uses.
    pub(crate) ctes: Vec<query::CteEntry>,
    /// The CTEs whose bodies are being rendered.
    pub(crate) rendering_ctes: Vec<String>,
    pub(crate) recursive: bool,
    /// Columns of this source render unqualified (RETURNING, ON CONFLICT targets).
    pub(crate) unqualified: Option<String>,
    pub(crate) positional: usize,
}

static SQLITE: Sqlite = Sqlite;

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(v) if v.len() > 1 => 1,
        Expr::And(v) if v.len() > 1 => 2,
        Expr::Not(_) => 3,
        Expr::Binary(_, op, _) => match op {
            BinOp::Eq | BinOp::Ne | BinOp::Is | BinOp::IsNot | BinOp::Like | BinOp::NotLike | BinOp::Glob => 4,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 5,
            BinOp::BitAnd | BinOp::BitOr => 6,
            BinOp::Add | BinOp::Sub => 7,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 8,
            BinOp::Concat => 9,
        },
        Expr::Like { .. } | Expr::IsNull { .. } | Expr::InList { .. } | Expr::InQuery { .. } | Expr::Between { .. } => {
            4
        }
        Expr::Neg(_) => 10,
        Expr::Text(_) => 0,
        _ => 11,
    }
}

impl Compiler {
    pub(crate) fn new(emit: bool) -> Self {
        Compiler {
            out: String::new(),
            emit,
            slots: Vec::new(),
            literals: Vec::new(),
            dialect: &SQLITE,
            scopes: Vec::new(),
            ctes: Vec::new(),
            rendering_ctes: Vec::new(),
            recursive: false,
            unqualified: None,
            positional: 0,
        }
    }

    #[inline]
    pub(crate) fn w(&mut self, s: &str) {
        if self.emit {
            self.out.push_str(s);
        }
    }

    pub(crate) fn ident(&mut self, name: &str) {
        if self.emit {
            self.dialect.write_identifier(name, &mut self.out);
        }
    }

    pub(crate) fn slot(&mut self, slot: Slot) {
        if self.emit {
            self.dialect.write_placeholder(&mut self.out);
        }
        self.slots.push(slot);
    }

    pub(crate) fn literal(&mut self, v: &Value) {
        let i = self.literals.len();
        self.literals.push(v.clone());
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

    pub(crate) fn column(&mut self, source: &Source, name: &str) {
        if self.unqualified.as_deref() != Some(source.name()) {
            self.ident(source.name());
            self.w(".");
        }
        self.ident(name);
    }

    fn child(&mut self, e: &Expr, parent: u8, right: bool) -> Result<()> {
        let p = precedence(e);
        if p < parent || (right && p == parent && p >= 4) {
            self.w("(");
            self.expr(e, Ctx::Plain)?;
            self.w(")");
            Ok(())
        } else {
            self.expr(e, Ctx::Plain)
        }
    }

    fn list(&mut self, items: &[Expr], ctx: Ctx) -> Result<()> {
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.expr(e, ctx)?;
        }
        Ok(())
    }

    pub(crate) fn expr(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        let prec = precedence(e);
        match e {
            Expr::Column(c) => self.column(&c.source, &c.name),
            Expr::Value(l) => self.literal(&l.0),
            Expr::BindParam(n) => self.slot(Slot::Named(n.clone())),
            Expr::Null => self.w("NULL"),
            Expr::Binary(a, op, b) => {
                self.child(a, prec, false)?;
                self.w(" ");
                self.w(op.sql());
                self.w(" ");
                self.child(b, prec, true)?;
            }
            Expr::Like { expr, pattern, negated, case_insensitive, escape } => {
                if *case_insensitive {
                    self.w("lower(");
                    self.expr(expr, Ctx::Plain)?;
                    self.w(")");
                } else {
                    self.child(expr, prec, false)?;
                }
                self.w(if *negated { " NOT LIKE " } else { " LIKE " });
                if *case_insensitive {
                    self.w("lower(");
                    self.expr(pattern, Ctx::Plain)?;
                    self.w(")");
                } else {
                    self.child(pattern, prec, true)?;
                }
                if let Some(c) = escape {
                    self.w(" ESCAPE ");
                    let lit = literal_sql(&Value::Text(c.to_string()));
                    self.w(&lit);
                }
            }
            Expr::And(items) | Expr::Or(items) => {
                let and = matches!(e, Expr::And(_));
                match items.len() {
                    0 => self.w(if and { "1" } else { "0" }),
                    1 => self.expr(&items[0], Ctx::Plain)?,
                    _ => {
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                self.w(if and { " AND " } else { " OR " });
                            }
                            self.child(item, prec, false)?;
                        }
                    }
                }
            }
            Expr::Not(inner) => {
                self.w("NOT ");
                self.child(inner, 11, false)?;
            }
            Expr::Neg(inner) => {
                self.w("-");
                self.child(inner, prec, false)?;
            }
            Expr::IsNull { expr, negated } => {
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList { expr, list, negated } => self.in_list(expr, list, *negated, prec)?,
            Expr::InQuery { expr, query, negated } => {
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " NOT IN (" } else { " IN (" });
                self.query(query, true)?;
                self.w(")");
            }
            Expr::Between { expr, low, high, negated } => {
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " NOT BETWEEN " } else { " BETWEEN " });
                self.child(low, prec + 1, false)?;
                self.w(" AND ");
                self.child(high, prec + 1, false)?;
            }
            Expr::Func { name, args, distinct } => {
                if !is_plain_name(name) {
                    return Err(Error::compile(format!("{name:?} is not a function name")));
                }
                self.w(name);
                self.w(if *distinct { "(DISTINCT " } else { "(" });
                self.list(args, Ctx::Plain)?;
                self.w(")");
            }
            Expr::CountStar => self.w("count(*)"),
            Expr::Label(inner, name) => match ctx {
                Ctx::SelectList => {
                    self.expr(inner, Ctx::Plain)?;
                    self.w(" AS ");
                    self.ident(name);
                }
                Ctx::OrderBy => self.ident(name),
                Ctx::Plain => self.expr(inner, Ctx::Plain)?,
            },
            Expr::Cast(inner, ty) => {
                self.w("CAST(");
                self.expr(inner, Ctx::Plain)?;
                self.w(" AS ");
                let ddl = ty.ddl();
                if !ddl.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '(' | ')' | ',' | '_')) {
                    return Err(Error::compile(format!("{ddl:?} is not a type name")));
                }
                self.w(&ddl);
                self.w(")");
            }
            Expr::Case { value, whens, else_ } => {
                if whens.is_empty() {
                    return Err(Error::compile("CASE needs at least one WHEN"));
                }
                self.w("CASE");
                if let Some(v) = value {
                    self.w(" ");
                    self.expr(v, Ctx::Plain)?;
                }
                for (c, r) in whens {
                    self.w(" WHEN ");
                    self.expr(c, Ctx::Plain)?;
                    self.w(" THEN ");
                    self.expr(r, Ctx::Plain)?;
                }
                if let Some(el) = else_ {
                    self.w(" ELSE ");
                    self.expr(el, Ctx::Plain)?;
                }
                self.w(" END");
            }
            Expr::Exists(q) => {
                self.w("EXISTS (");
                self.query(q, true)?;
                self.w(")");
            }
            Expr::Scalar(q) => {
                self.w("(");
                self.query(q, true)?;
                self.w(")");
            }
            Expr::Text(sql) => {
                let sql = sql.clone();
                self.text(&sql)?;
            }
            Expr::Tuple(items) => {
                self.w("(");
                self.list(items, Ctx::Plain)?;
                self.w(")");
            }
            Expr::Excluded(name) => {
                self.w("excluded.");
                self.ident(name);
            }
            Expr::Star => self.w("*"),
            Expr::Ordered { expr, desc, nulls } => {
                if ctx != Ctx::OrderBy {
                    return Err(Error::compile("asc()/desc()/nulls_first()/nulls_last() belong in ORDER BY"));
                }
                self.expr(expr, Ctx::OrderBy)?;
                match desc {
                    Some(true) => self.w(" DESC"),
                    Some(false) => self.w(" ASC"),
                    None => {}
                }
                match nulls {
                    Some(true) => self.w(" NULLS FIRST"),
                    Some(false) => self.w(" NULLS LAST"),
                    None => {}
                }
            }
            Expr::Invalid(msg) => return Err(Error::compile(msg.clone())),
        }
        Ok(())
    }

    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool, prec: u8) -> Result<()> {
        let tuple = matches!(expr, Expr::Tuple(_));
        if list.is_empty() && (tuple || !self.dialect.supports_empty_in()) {
            // Still visit the expression for its literals, then write a constant.
            let emit = std::mem::replace(&mut self.emit, false);
            let r = self.expr(expr, Ctx::Plain);
            self.emit = emit;
            r?;
            self.w(if negated { "1" } else { "0" });
            return Ok(());
        }
        self.child(expr, prec + 1, false)?;
        self.w(if negated { " NOT IN (" } else { " IN (" });
        if tuple {
            self.w("VALUES ");
        }
        self.list(list, Ctx::Plain)?;
        self.w(")");
        Ok(())
    }
}

/// Whether a name is a plain identifier (letters, digits, `_`; not starting with a digit).
pub(crate) fn is_plain_name(name: &str) -> bool {
    let mut cs = name.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
