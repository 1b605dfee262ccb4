//! The methods and operators that build expressions: comparisons, `IN`, `LIKE`, `BETWEEN`, arithmetic, `& | !`.

use std::ops;
use std::sync::Arc;

use super::{cast, lit, not_, BinOp, Expr, Frame, IntoExpr, IntoInItem};
use crate::select::{IntoColumns, Query};
use crate::types::SqlType;

#[inline]
fn bin(a: Expr, op: BinOp, b: Expr) -> Expr {
    Expr::Binary(Box::new(a), op, Box::new(b))
}

impl Expr {
    /// `self = v`; `NULL` renders `self IS NULL`.
    #[inline]
    pub fn eq(self, v: impl IntoExpr) -> Expr {
        match v.into_expr() {
            Expr::Null => Expr::IsNull { expr: Box::new(self), negated: false },
            v => bin(self, BinOp::Eq, v),
        }
    }

    /// `self != v`; `NULL` renders `self IS NOT NULL`.
    pub fn ne(self, v: impl IntoExpr) -> Expr {
        match v.into_expr() {
            Expr::Null => Expr::IsNull { expr: Box::new(self), negated: true },
            v => bin(self, BinOp::Ne, v),
        }
    }

    /// `self < v`.
    pub fn lt(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Lt, v.into_expr())
    }

    /// `self <= v`.
    pub fn le(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Le, v.into_expr())
    }

    /// `self > v`.
    pub fn gt(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Gt, v.into_expr())
    }

    /// `self >= v`.
    pub fn ge(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Ge, v.into_expr())
    }

    /// `self IS v` (null-safe equality).
    pub fn is(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Is, v.into_expr())
    }

    /// `self IS NOT v`.
    pub fn is_not(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::IsNot, v.into_expr())
    }

    /// `self IS NULL`.
    pub fn is_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self), negated: false }
    }

    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull { expr: Box::new(self), negated: true }
    }

    /// `self IN (a, b, ...)`, one parameter per item; an empty list is always false. For a tuple,
    /// `tuple_((a, b)).in_([(1, 2), (3, 4)])`.
    pub fn in_<E: IntoInItem>(self, items: impl IntoIterator<Item = E>) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list: items.into_iter().map(IntoInItem::into_in_item).collect(),
            negated: false,
        }
    }

    /// `self NOT IN (a, b, ...)`; an empty list is always true.
    pub fn not_in<E: IntoInItem>(self, items: impl IntoIterator<Item = E>) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list: items.into_iter().map(IntoInItem::into_in_item).collect(),
            negated: true,
        }
    }

    /// Null-safe inequality, SQL's `IS DISTINCT FROM`: `self IS NOT v` on SQLite.
    pub fn is_distinct_from(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::IsNot, v.into_expr())
    }

    /// Null-safe equality, SQL's `IS NOT DISTINCT FROM`: `self IS v` on SQLite.
    pub fn is_not_distinct_from(self, v: impl IntoExpr) -> Expr {
        bin(self, BinOp::Is, v.into_expr())
    }

    /// `self REGEXP pattern`, as SQLAlchemy renders `regexp_match` on SQLite. SQLite turns it into a call of a
    /// user function `regexp(pattern, self)`, which it does not provide: a connection without one (loaded as an
    /// extension) fails with "no such function: REGEXP".
    pub fn regexp_match(self, pattern: impl IntoExpr) -> Expr {
        bin(self, BinOp::Regexp, pattern.into_expr())
    }

    /// `self NOT REGEXP pattern` (see [`regexp_match`](Expr::regexp_match)).
    pub fn not_regexp_match(self, pattern: impl IntoExpr) -> Expr {
        bin(self, BinOp::NotRegexp, pattern.into_expr())
    }

    /// `self COLLATE name` (`"nocase"`, `"binary"`, `"rtrim"`, or a collation the connection defines); a name
    /// with capitals is quoted, as SQLAlchemy writes it.
    pub fn collate(self, name: &str) -> Expr {
        Expr::Collate(Box::new(self), Arc::from(name))
    }

    /// A window function: `self OVER (PARTITION BY partition_by ORDER BY order_by)`, each given as a column, a
    /// list or tuple of them, or `()` for none: `func::row_number().over(cars.c("make"), cars.c("year").desc())`.
    pub fn over(self, partition_by: impl IntoColumns, order_by: impl IntoColumns) -> Expr {
        Expr::Over {
            func: Box::new(self),
            partition_by: partition_by.into_columns(),
            order_by: order_by.into_columns(),
            frame: None,
        }
    }

    /// The `ROWS BETWEEN start AND end` frame of a window made by [`over`](Expr::over), as SQLAlchemy's
    /// `rows=(start, end)`: `None` is unbounded, `0` the current row, `-n` n preceding, `n` n following.
    pub fn rows_between(self, start: Option<i64>, end: Option<i64>) -> Expr {
        self.with_frame(Frame { range: false, start, end })
    }

    /// The `RANGE BETWEEN start AND end` frame of a window (see [`rows_between`](Expr::rows_between)).
    pub fn range_between(self, start: Option<i64>, end: Option<i64>) -> Expr {
        self.with_frame(Frame { range: true, start, end })
    }

    fn with_frame(mut self, f: Frame) -> Expr {
        // Set in place: `Expr` has a `Drop`, so its fields cannot be moved out.
        if let Expr::Over { frame, .. } = &mut self {
            *frame = Some(f);
            return self;
        }
        Expr::Invalid("rows_between()/range_between() apply to a window made by over()".into())
    }

    /// An aggregate over the rows that meet `cond` only: `func::count_star().filter(cars.c("year").gt(2015))`,
    /// `count(*) FILTER (WHERE cars.year > ?)`.
    pub fn filter(self, cond: impl IntoExpr) -> Expr {
        Expr::Filter(Box::new(self), Box::new(cond.into_expr()))
    }

    /// `ANY (self)`, as the right side of a comparison: an error on SQLite (see [`any_`](crate::expr::any_)).
    pub fn any_(self) -> Expr {
        super::any_(self)
    }

    /// `ALL (self)`, as the right side of a comparison: an error on SQLite (see [`all_`](crate::expr::all_)).
    pub fn all_(self) -> Expr {
        super::all_(self)
    }

    /// `self IN (SELECT ...)`.
    pub fn in_query(self, query: impl Into<Query>) -> Expr {
        Expr::InQuery { expr: Box::new(self), query: Box::new(query.into()), negated: false }
    }

    /// `self NOT IN (SELECT ...)`.
    pub fn not_in_query(self, query: impl Into<Query>) -> Expr {
        Expr::InQuery { expr: Box::new(self), query: Box::new(query.into()), negated: true }
    }

    fn like_impl(self, pattern: Expr, negated: bool, ci: bool, escape: Option<char>) -> Expr {
        Expr::Like { expr: Box::new(self), pattern: Box::new(pattern), negated, case_insensitive: ci, escape }
    }

    /// `self LIKE pattern`.
    pub fn like(self, pattern: impl IntoExpr) -> Expr {
        self.like_impl(pattern.into_expr(), false, false, None)
    }

    /// `self NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl IntoExpr) -> Expr {
        self.like_impl(pattern.into_expr(), true, false, None)
    }

    /// Case-insensitive LIKE: `lower(self) LIKE lower(pattern)`.
    pub fn ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_impl(pattern.into_expr(), false, true, None)
    }

    /// `lower(self) NOT LIKE lower(pattern)`.
    pub fn not_ilike(self, pattern: impl IntoExpr) -> Expr {
        self.like_impl(pattern.into_expr(), true, true, None)
    }

    /// `self LIKE '%' || s || '%' ESCAPE '/'`, with `%`, `_` and `/` in `s` matched literally.
    pub fn contains(self, s: &str) -> Expr {
        self.like_impl(lit(format!("%{}%", escape_like(s))), false, false, Some('/'))
    }

    /// `self LIKE s || '%'`, with wildcards in `s` matched literally.
    pub fn startswith(self, s: &str) -> Expr {
        self.like_impl(lit(format!("{}%", escape_like(s))), false, false, Some('/'))
    }

    /// `self LIKE '%' || s`, with wildcards in `s` matched literally.
    pub fn endswith(self, s: &str) -> Expr {
        self.like_impl(lit(format!("%{}", escape_like(s))), false, false, Some('/'))
    }

    /// `self GLOB pattern`.
    pub fn glob(self, pattern: impl IntoExpr) -> Expr {
        bin(self, BinOp::Glob, pattern.into_expr())
    }

    /// `self BETWEEN low AND high`.
    pub fn between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
            negated: false,
        }
    }

    /// `self NOT BETWEEN low AND high`.
    pub fn not_between(self, low: impl IntoExpr, high: impl IntoExpr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
            negated: true,
        }
    }

    /// `self -> path`: the part of a JSON value at `path`, as JSON text (SQLite's `->`, for [`Json`] columns).
    ///
    /// `path` is a JSON path (`"$.tags[0]"`), an object key (`"make"`) or an array index (`0`), bound as a
    /// parameter like any value. A missing part is NULL. Chains read left to right: `doc.json_get("a").json_get(0)`.
    ///
    /// [`Json`]: crate::types::Json
    pub fn json_get(self, path: impl IntoExpr) -> Expr {
        bin(self, BinOp::JsonGet, path.into_expr())
    }

    /// `self ->> path`: the part of a JSON value at `path` as an SQL value (TEXT, INTEGER, REAL or NULL; an object
    /// or array as JSON text), as `json_extract` returns it: what to compare and sort by (SQLite's `->>`).
    pub fn json_get_value(self, path: impl IntoExpr) -> Expr {
        bin(self, BinOp::JsonGetValue, path.into_expr())
    }

    /// `self || other` (string concatenation).
    pub fn concat(self, other: impl IntoExpr) -> Expr {
        bin(self, BinOp::Concat, other.into_expr())
    }

    /// `self AS name` in a select list.
    pub fn label(self, name: &str) -> Expr {
        Expr::Label(Box::new(self), Arc::from(name))
    }

    /// `CAST(self AS ty)`.
    pub fn cast(self, ty: impl Into<SqlType>) -> Expr {
        cast(self, ty)
    }

    /// `self AND other`.
    pub fn and(self, other: impl IntoExpr) -> Expr {
        self & other.into_expr()
    }

    /// `self OR other`.
    pub fn or(self, other: impl IntoExpr) -> Expr {
        self | other.into_expr()
    }

    /// Ascending order, for `order_by`.
    pub fn asc(self) -> Expr {
        Expr::Ordered { expr: Box::new(self.unordered()), desc: Some(false), nulls: None }
    }

    /// Descending order, for `order_by`.
    pub fn desc(self) -> Expr {
        Expr::Ordered { expr: Box::new(self.unordered()), desc: Some(true), nulls: None }
    }

    /// `NULLS FIRST`.
    pub fn nulls_first(self) -> Expr {
        self.with_nulls(true)
    }

    /// `NULLS LAST`.
    pub fn nulls_last(self) -> Expr {
        self.with_nulls(false)
    }

    fn with_nulls(mut self, first: bool) -> Expr {
        if let Expr::Ordered { nulls, .. } = &mut self {
            *nulls = Some(first);
            return self;
        }
        Expr::Ordered { expr: Box::new(self), desc: None, nulls: Some(first) }
    }

    fn unordered(mut self) -> Expr {
        match &mut self {
            Expr::Ordered { expr, .. } => std::mem::replace(&mut **expr, Expr::Null),
            _ => self,
        }
    }

    /// The name a result column of this expression gets: a label, a column's name, or SQL text as written.
    pub fn output_name(&self) -> Option<&str> {
        match self {
            Expr::Label(_, n) => Some(n),
            Expr::Column(c) => Some(&c.name),
            // SQLite names the result column of SQL text (`literal_column`) by the text.
            Expr::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Escape `%`, `_` and the escape character `/` for a LIKE pattern that uses `ESCAPE '/'`.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '/') {
            out.push('/');
        }
        out.push(ch);
    }
    out
}

impl<T: IntoExpr> ops::BitAnd<T> for Expr {
    type Output = Expr;
    fn bitand(mut self, rhs: T) -> Expr {
        let rhs = rhs.into_expr();
        if let Expr::And(v) = &mut self {
            v.push(rhs);
            return self;
        }
        Expr::And(vec![self, rhs])
    }
}

impl<T: IntoExpr> ops::BitOr<T> for Expr {
    type Output = Expr;
    fn bitor(mut self, rhs: T) -> Expr {
        let rhs = rhs.into_expr();
        if let Expr::Or(v) = &mut self {
            v.push(rhs);
            return self;
        }
        Expr::Or(vec![self, rhs])
    }
}

impl ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        not_(self)
    }
}

impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Neg(Box::new(self))
    }
}

macro_rules! arith {
    ($($tr:ident $m:ident $op:ident),*) => {$(
        impl<T: IntoExpr> ops::$tr<T> for Expr {
            type Output = Expr;
            fn $m(self, rhs: T) -> Expr {
                bin(self, BinOp::$op, rhs.into_expr())
            }
        }
    )*};
}
arith!(Sub sub Sub, Mul mul Mul, Div div Div, Rem rem Rem);

/// `a + b`; on a string column (`Text`, `Varchar`) it is concatenation, `a || b`, as in SQLAlchemy, where the
/// operator follows the column's type (`cars.c("make") + " #"` is `cars.make || ?`, not a sum that SQLite makes 0).
impl<T: IntoExpr> ops::Add<T> for Expr {
    type Output = Expr;
    fn add(self, rhs: T) -> Expr {
        let rhs = rhs.into_expr();
        let op = if super::typing::concatenates(&self, &rhs) { BinOp::Concat } else { BinOp::Add };
        bin(self, op, rhs)
    }
}
