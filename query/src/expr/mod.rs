//! Expressions: column references, literals (always bound), operators, functions, `CASE`, subqueries.
//!
//! Expressions are plain data; [`compile`](crate::compile) turns them into SQL. Literals are kept as values and
//! become `?` parameters, so a statement's shape (and its cached SQL) does not depend on them.

mod deep;
pub mod func;
mod ops;
mod typing;

/// SQLAlchemy's `func.count()` (and the other calls without arguments, see [`func::FunctionGenerator`]); the
/// module of the same name holds the functions with arguments, `func::count(x)`, `func::sum(x)`.
#[allow(non_upper_case_globals)]
pub const func: func::FunctionGenerator = func::FunctionGenerator;

pub use deep::DEBUG_DEPTH;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use asqlite::{ToSql, Value};

use crate::schema::{Alias, Table};
use crate::select::{Cte, Query, Subquery};
use crate::types::SqlType;

/// A literal value, bound as a parameter. It takes part in the statement's shape only by its storage class
/// (NULL, integer, real, text, blob): PostgreSQL's SQL for `doc -> 0` (an array index) and `doc -> 'a'` (a key)
/// differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal(pub Value);

impl Hash for Literal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(&self.0).hash(state);
    }
}

/// Where a column comes from: a table, an alias, a subquery or a CTE.
#[derive(Debug, Clone, Hash)]
pub enum Source {
    /// A table.
    Table(Table),
    /// An aliased table.
    Alias(Alias),
    /// A named subquery in FROM.
    Subquery(Subquery),
    /// A common table expression.
    Cte(Cte),
}

impl Source {
    /// The name the source is known by in the statement (the table name or the alias).
    pub fn name(&self) -> &str {
        match self {
            Source::Table(t) => t.name(),
            Source::Alias(a) => a.name(),
            Source::Subquery(s) => s.name(),
            Source::Cte(c) => c.name(),
        }
    }
}

/// A column of a source.
#[derive(Debug, Clone, Hash)]
pub struct ColumnRef {
    /// Its source.
    pub source: Source,
    /// Its name.
    pub name: Arc<str>,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Concat,
    Like,
    NotLike,
    Glob,
    Is,
    IsNot,
    BitAnd,
    BitOr,
    /// SQLite's `->`: the JSON of a part of a JSON value.
    JsonGet,
    /// SQLite's `->>`: the SQL value (TEXT, INTEGER, REAL or NULL) of a part of a JSON value.
    JsonGetValue,
    /// `a REGEXP b` (SQLAlchemy's `regexp_match`): SQLite calls a user function `regexp(b, a)`, which must exist.
    Regexp,
    NotRegexp,
}

impl BinOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "||",
            BinOp::Like => "LIKE",
            BinOp::NotLike => "NOT LIKE",
            BinOp::Glob => "GLOB",
            BinOp::Is => "IS",
            BinOp::IsNot => "IS NOT",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::JsonGet => "->",
            BinOp::JsonGetValue => "->>",
            BinOp::Regexp => "REGEXP",
            BinOp::NotRegexp => "NOT REGEXP",
        }
    }
}

/// An expression.
///
/// It may nest as deep as a program builds it: cloning and dropping work at any depth, hashing stops below
/// [`MAX_EXPR_DEPTH`](crate::compile::MAX_EXPR_DEPTH) levels and `Debug` below [`DEBUG_DEPTH`], and compiling an
/// expression nested deeper than `MAX_EXPR_DEPTH` is an error (SQLite refuses deeper expressions too).
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Expr {
    /// A column.
    Column(ColumnRef),
    /// A bound literal.
    Value(Literal),
    /// A bare Rust string (`"Honda"`, a `String`): where a value is expected it is a bound literal, like
    /// [`Expr::Value`]; in `order_by` / `group_by` it names a label or column of the statement (it becomes an
    /// [`Expr::Name`]); as a condition or a result column it is an error (SQL text is `text("...")`, a value in
    /// those places `lit("...")`), as SQLAlchemy refuses a bare string there.
    Str(Literal),
    /// A label or column of the statement named by a string in ORDER BY or GROUP BY (`order_by("year")`,
    /// `desc("total")`), resolved when compiled: a label of the select list, else a column of the select list or of
    /// its FROM; no such name is an error.
    Name(Arc<str>),
    /// A named parameter given at execution (`bindparam("name")`).
    BindParam(Arc<str>),
    /// `NULL`.
    Null,
    /// `a op b`.
    Binary(Box<Expr>, BinOp, Box<Expr>),
    /// `a LIKE b ESCAPE c` and friends, with an optional escape and case-insensitivity.
    Like { expr: Box<Expr>, pattern: Box<Expr>, negated: bool, case_insensitive: bool, escape: Option<char> },
    /// `a AND b AND ...`.
    And(Vec<Expr>),
    /// `a OR b OR ...`.
    Or(Vec<Expr>),
    /// `NOT a`.
    Not(Box<Expr>),
    /// `-a`.
    Neg(Box<Expr>),
    /// `a IS NULL` / `a IS NOT NULL`.
    IsNull { expr: Box<Expr>, negated: bool },
    /// `a IN (x, y)` / `a NOT IN (...)`; an empty list is an empty set (`IN` always false, `NOT IN` always true).
    InList { expr: Box<Expr>, list: Vec<Expr>, negated: bool },
    /// `a IN (SELECT ...)`.
    InQuery { expr: Box<Expr>, query: Box<Query>, negated: bool },
    /// `a BETWEEN x AND y`.
    Between { expr: Box<Expr>, low: Box<Expr>, high: Box<Expr>, negated: bool },
    /// `name(args)`, `count(DISTINCT x)`.
    Func { name: Arc<str>, args: Vec<Expr>, distinct: bool },
    /// `count(*)`.
    CountStar,
    /// `expr AS name`.
    Label(Box<Expr>, Arc<str>),
    /// `CAST(expr AS type)`.
    Cast(Box<Expr>, SqlType),
    /// `CASE [value] WHEN ... THEN ... ELSE ... END`.
    Case { value: Option<Box<Expr>>, whens: Vec<(Expr, Expr)>, else_: Option<Box<Expr>> },
    /// `EXISTS (SELECT ...)`.
    Exists(Box<Query>),
    /// `(SELECT ...)` used as a value.
    Scalar(Box<Query>),
    /// Trusted SQL text with `:name` parameters.
    Text(Arc<str>),
    /// `(a, b)`.
    Tuple(Vec<Expr>),
    /// `excluded.col` in an upsert.
    Excluded(Arc<str>),
    /// `*`.
    Star,
    /// An ordering: `expr ASC|DESC [NULLS FIRST|LAST]` (only valid in ORDER BY).
    Ordered { expr: Box<Expr>, desc: Option<bool>, nulls: Option<bool> },
    /// `expr COLLATE name`.
    Collate(Box<Expr>, Arc<str>),
    /// A window function: `func OVER (PARTITION BY ... ORDER BY ... [ROWS|RANGE BETWEEN ...])`.
    Over { func: Box<Expr>, partition_by: Vec<Expr>, order_by: Vec<Expr>, frame: Option<Frame> },
    /// An aggregate with a filter: `func FILTER (WHERE cond)`.
    Filter(Box<Expr>, Box<Expr>),
    /// `ANY (expr)` / `ALL (expr)`, the right side of a comparison (SQLAlchemy's `any_` / `all_`). SQLite has
    /// neither: compiling it for SQLite is an error that says what to write instead.
    Quantified { all: bool, expr: Box<Expr> },
    /// An expression that cannot compile (an unknown column, ...): compiling it reports the message.
    Invalid(String),
}

/// The frame of a window (`ROWS` or `RANGE BETWEEN start AND end`), given as SQLAlchemy gives it: `None` is
/// unbounded, `0` the current row, a negative number that many rows (or values) preceding, a positive one that
/// many following.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    pub(crate) range: bool,
    pub(crate) start: Option<i64>,
    pub(crate) end: Option<i64>,
}

/// Anything that can stand where an expression is expected: expressions, columns, literal values.
pub trait IntoExpr {
    /// Convert.
    fn into_expr(self) -> Expr;
}

impl IntoExpr for Expr {
    fn into_expr(self) -> Expr {
        self
    }
}

impl IntoExpr for &Expr {
    fn into_expr(self) -> Expr {
        self.clone()
    }
}

impl IntoExpr for Value {
    fn into_expr(self) -> Expr {
        match self {
            Value::Null => Expr::Null,
            v => Expr::Value(Literal(v)),
        }
    }
}

impl IntoExpr for &Value {
    fn into_expr(self) -> Expr {
        self.clone().into_expr()
    }
}

/// `None` is SQL `NULL`, so `col.eq(None)` renders `col IS NULL`.
impl IntoExpr for Option<Value> {
    fn into_expr(self) -> Expr {
        self.unwrap_or(Value::Null).into_expr()
    }
}

macro_rules! into_expr_via_to_sql {
    ($($t:ty),*) => {$(
        impl IntoExpr for $t {
            fn into_expr(self) -> Expr {
                lit(self)
            }
        }
    )*};
}
into_expr_via_to_sql!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64, bool);
into_expr_via_to_sql!(&[u8], i128, u128);
#[cfg(feature = "chrono")]
into_expr_via_to_sql!(
    crate::types::chrono::NaiveDate,
    crate::types::chrono::NaiveTime,
    crate::types::chrono::NaiveDateTime,
    crate::types::chrono::DateTime<crate::types::chrono::Utc>,
    crate::types::chrono::DateTime<crate::types::chrono::FixedOffset>
);
#[cfg(feature = "time")]
into_expr_via_to_sql!(
    crate::types::time::Date,
    crate::types::time::Time,
    crate::types::time::PrimitiveDateTime,
    crate::types::time::OffsetDateTime
);
#[cfg(feature = "uuid")]
into_expr_via_to_sql!(crate::types::uuid::Uuid);
#[cfg(feature = "rust_decimal")]
into_expr_via_to_sql!(crate::types::rust_decimal::Decimal);

/// A JSON value bound as JSON text (as [`json`]).
#[cfg(feature = "serde_json")]
impl<T: serde::Serialize> IntoExpr for asqlite::types::Json<T> {
    fn into_expr(self) -> Expr {
        lit(self)
    }
}

/// A bare string is a value where a value is expected (`c("make").eq("Kia")`), a name in ORDER BY and GROUP BY,
/// and an error as a condition or a result column: see [`Expr::Str`].
impl IntoExpr for &str {
    fn into_expr(self) -> Expr {
        Expr::Str(Literal(Value::Text(self.to_owned())))
    }
}

/// As `&str`.
impl IntoExpr for String {
    fn into_expr(self) -> Expr {
        Expr::Str(Literal(Value::Text(self)))
    }
}

/// As `&str`.
impl IntoExpr for &String {
    fn into_expr(self) -> Expr {
        self.as_str().into_expr()
    }
}

impl IntoExpr for serde_json::Value {
    fn into_expr(self) -> Expr {
        Expr::Value(Literal(Value::Text(self.to_string())))
    }
}

impl IntoExpr for crate::select::Select {
    fn into_expr(self) -> Expr {
        Expr::Scalar(Box::new(Query::Select(Box::new(self))))
    }
}

impl IntoExpr for &crate::select::Select {
    fn into_expr(self) -> Expr {
        self.clone().into_expr()
    }
}

impl IntoExpr for crate::text::TextClause {
    fn into_expr(self) -> Expr {
        Expr::Text(self.sql)
    }
}

/// A literal value, bound as a parameter: `lit(5)`, `lit("x")`, `lit(None::<i64>)`.
///
/// A value that cannot convert (a `u64` above `i64::MAX`) gives an expression that fails to compile.
pub fn lit<T: ToSql>(v: T) -> Expr {
    match v.to_sql() {
        Ok(Value::Null) => Expr::Null,
        Ok(v) => Expr::Value(Literal(v)),
        Err(e) => Expr::Invalid(e.to_string()),
    }
}

/// SQL text standing as a column or value, written as given (SQLAlchemy's `literal_column`): `literal_column("1")`,
/// `literal_column("cars.year")`. Its result column is named by the text. Trusted SQL only, like [`text`](crate::text::text);
/// `:name` in it is a bind parameter.
pub fn literal_column(sql: &str) -> Expr {
    Expr::Text(Arc::from(sql))
}

/// Descending order: `desc(cars.c("year"))`, or a label or column by name, `desc("total")`.
pub fn desc(e: impl IntoExpr) -> Expr {
    e.into_expr().desc()
}

/// Ascending order: `asc(cars.c("year"))`, `asc("make")`.
pub fn asc(e: impl IntoExpr) -> Expr {
    e.into_expr().asc()
}

/// `e NULLS FIRST` in ORDER BY (after `desc`/`asc`, or alone).
pub fn nulls_first(e: impl IntoExpr) -> Expr {
    e.into_expr().nulls_first()
}

/// `e NULLS LAST` in ORDER BY.
pub fn nulls_last(e: impl IntoExpr) -> Expr {
    e.into_expr().nulls_last()
}

/// A term of ORDER BY or GROUP BY: a bare string there names a label or column ([`Expr::Name`]), as in SQLAlchemy.
pub(crate) fn by_name(mut e: Expr) -> Expr {
    // In place: `Expr` has a `Drop`, so its fields cannot be moved out.
    let mut term = &mut e;
    while let Expr::Ordered { expr, .. } = term {
        term = &mut **expr;
    }
    if let Expr::Str(Literal(Value::Text(s))) = term {
        *term = Expr::Name(Arc::from(std::mem::take(s)));
    }
    e
}

/// SQL `NULL`.
pub fn null() -> Expr {
    Expr::Null
}

/// A named parameter bound at execution: `execute_with(stmt, named_params! {"m" => 5})`.
pub fn bindparam(name: &str) -> Expr {
    Expr::BindParam(param_name(crate::text::strip_param_prefix(name)))
}

/// How many parameter names a thread keeps for [`bindparam`] to share.
const PARAM_NAMES: usize = 32;

thread_local! {
    /// The parameter names this thread's `bindparam`s used last, shared: a statement built anew for every query
    /// names the same parameters every time, and sharing the name costs less than allocating it.
    static NAMES: std::cell::RefCell<Vec<Arc<str>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `name` as a shared string: one the thread used lately, else a new one (remembered in place of the oldest).
fn param_name(name: &str) -> Arc<str> {
    NAMES.with(|names| {
        let Ok(mut names) = names.try_borrow_mut() else { return Arc::from(name) };
        if let Some(n) = names.iter().find(|n| same_str(n, name)) {
            return Arc::clone(n);
        }
        let n: Arc<str> = Arc::from(name);
        if names.len() >= PARAM_NAMES {
            names.remove(0);
        }
        names.push(Arc::clone(&n));
        n
    })
}

/// Whether two strings are equal. A name up to 16 bytes (most column and parameter names) is compared as two words
/// read in place, without the `memcmp` call that costs as much as the rest of looking the name up.
#[inline]
pub(crate) fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = crate::cache::tail_word;
    match n {
        0..=8 => word(a) == word(b),
        9..=16 => word(&a[..8]) == word(&b[..8]) && word(&a[n - 8..]) == word(&b[n - 8..]),
        _ => a == b,
    }
}

/// `excluded.name`: the row an upsert tried to insert.
pub fn excluded(name: &str) -> Expr {
    Expr::Excluded(Arc::from(name))
}

/// A literal JSON value stored as JSON text.
pub fn json<T: serde::Serialize>(v: &T) -> Expr {
    match serde_json::to_string(v) {
        Ok(s) => Expr::Value(Literal(Value::Text(s))),
        Err(e) => Expr::Invalid(format!("cannot serialize JSON: {e}")),
    }
}

/// All of the conditions (`a AND b`); empty is `true`.
pub fn and_<E: IntoExpr>(conds: impl IntoIterator<Item = E>) -> Expr {
    Expr::And(conds.into_iter().map(IntoExpr::into_expr).collect())
}

/// Any of the conditions (`a OR b`); empty is `false`.
pub fn or_<E: IntoExpr>(conds: impl IntoIterator<Item = E>) -> Expr {
    Expr::Or(conds.into_iter().map(IntoExpr::into_expr).collect())
}

/// `NOT cond`.
pub fn not_(cond: impl IntoExpr) -> Expr {
    Expr::Not(Box::new(cond.into_expr()))
}

/// `EXISTS (SELECT * ...)` built with `where_`, as SQLAlchemy's `exists().where(...)`:
/// `exists().where_(cars.c("owner_id").eq(owners.c("id")))`. For the EXISTS of a select you built, use
/// [`Select::exists`](crate::select::Select::exists).
pub fn exists() -> crate::select::Exists {
    crate::select::Exists::new()
}

/// A tuple `(a, b)`, for row-value comparisons and `IN`.
pub fn tuple<E: IntoExpr>(items: impl IntoIterator<Item = E>) -> Expr {
    Expr::Tuple(items.into_iter().map(IntoExpr::into_expr).collect())
}

/// A tuple of expressions of any types, SQLAlchemy's `tuple_`: `tuple_((cars.c("owner_id"), cars.c("year")))`,
/// compared with `in_([(1, 2019), (2, 2020)])` or `eq(tuple_((1, 2019)))`.
pub fn tuple_(items: impl crate::select::IntoColumns) -> Expr {
    Expr::Tuple(items.into_columns())
}

/// `expr COLLATE name`: `collate(cars.c("make"), "nocase")`. A name with capitals is quoted (`"NOCASE"`), as
/// SQLAlchemy writes it; SQLite matches collation names in any case.
pub fn collate(expr: impl IntoExpr, name: &str) -> Expr {
    expr.into_expr().collate(name)
}

/// `ANY (expr)` for the right side of a comparison. SQLite has no `ANY`: compiling it is an error that says what to
/// write instead (`in_query`).
pub fn any_(expr: impl IntoExpr) -> Expr {
    Expr::Quantified { all: false, expr: Box::new(expr.into_expr()) }
}

/// `ALL (expr)` for the right side of a comparison. SQLite has no `ALL`: compiling it is an error that says what to
/// write instead (`not_in_query`).
pub fn all_(expr: impl IntoExpr) -> Expr {
    Expr::Quantified { all: true, expr: Box::new(expr.into_expr()) }
}

/// An item of an `IN` list: a value or expression, or a Rust tuple of them (a row value, for
/// `tuple_((a, b)).in_([(1, 2), (3, 4)])`).
pub trait IntoInItem {
    /// Convert.
    fn into_in_item(self) -> Expr;
}

impl<T: IntoExpr> IntoInItem for T {
    fn into_in_item(self) -> Expr {
        self.into_expr()
    }
}

macro_rules! in_item_tuples {
    ($(($($t:ident . $i:tt),+)),+ $(,)?) => {$(
        impl<$($t: IntoExpr),+> IntoInItem for ($($t,)+) {
            fn into_in_item(self) -> Expr {
                Expr::Tuple(vec![$(self.$i.into_expr()),+])
            }
        }
    )+};
}
in_item_tuples!(
    (A.0, B.1),
    (A.0, B.1, C.2),
    (A.0, B.1, C.2, D.3),
    (A.0, B.1, C.2, D.3, E.4),
    (A.0, B.1, C.2, D.3, E.4, F.5)
);

/// `CAST(expr AS type)`.
pub fn cast(expr: impl IntoExpr, ty: impl Into<SqlType>) -> Expr {
    Expr::Cast(Box::new(expr.into_expr()), ty.into())
}

/// `CASE WHEN cond THEN value ... END`; add `.else_(v)` with [`Case::else_`].
pub fn case<C: IntoExpr, V: IntoExpr>(whens: impl IntoIterator<Item = (C, V)>) -> Case {
    Case { value: None, whens: whens.into_iter().map(|(c, v)| (c.into_expr(), v.into_expr())).collect(), else_: None }
}

/// A `CASE` expression being built.
#[derive(Debug, Clone)]
pub struct Case {
    value: Option<Expr>,
    whens: Vec<(Expr, Expr)>,
    else_: Option<Expr>,
}

impl Case {
    /// The simple form, `CASE value WHEN x THEN ...`: `whens` then hold values to compare with.
    #[must_use]
    pub fn value(mut self, v: impl IntoExpr) -> Self {
        self.value = Some(v.into_expr());
        self
    }

    /// Add a `WHEN cond THEN value`.
    #[must_use]
    pub fn when(mut self, cond: impl IntoExpr, then: impl IntoExpr) -> Self {
        self.whens.push((cond.into_expr(), then.into_expr()));
        self
    }

    /// The `ELSE` value.
    pub fn else_(mut self, v: impl IntoExpr) -> Expr {
        self.else_ = Some(v.into_expr());
        self.into_expr()
    }

    /// Finish without an `ELSE`.
    pub fn end(self) -> Expr {
        self.into_expr()
    }
}

impl IntoExpr for Case {
    fn into_expr(self) -> Expr {
        Expr::Case { value: self.value.map(Box::new), whens: self.whens, else_: self.else_.map(Box::new) }
    }
}

#[cfg(test)]
mod tests {
    use super::same_str;

    /// Names compared as words: equal only when every byte and the length are equal, at every length the word
    /// reads cover (one word, two overlapping words) and past them.
    #[test]
    fn same_str_is_byte_equality_at_every_length() {
        let base: String = ('a'..='z').collect();
        for n in 0..=base.len() {
            let a = &base[..n];
            let copy = String::from(a);
            assert!(same_str(a, &copy), "{a:?}");
            for at in 0..n {
                let mut b = a.as_bytes().to_vec();
                b[at] = b'_';
                let b = String::from_utf8(b).unwrap_or_default();
                assert!(!same_str(a, &b), "{a:?} and {b:?}");
            }
            if n < base.len() {
                assert!(!same_str(a, &base[..=n]), "{a:?} and one byte more");
                assert!(!same_str(&format!("{a}\0"), &base[..=n]), "a zero byte is a byte");
            }
        }
    }
}
