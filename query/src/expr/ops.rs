//! The methods and operators that build expressions: comparisons, `IN`, `LIKE`, `BETWEEN`, arithmetic, `& | !`.

use std::ops;
use std::sync::Arc;

use super::{cast, lit, not_, BinOp, Expr, IntoExpr};
use crate::select::Query;
use crate::types::SqlType;

fn bin(a: Expr, op: BinOp, b: Expr) -> Expr {
    Expr::Binary(Box::new(a), op, Box::new(b))
}

impl Expr {
    /// `self = v`; `NULL` renders `self IS NULL`.
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

    /// `self IN (a, b, ...)`, one parameter per item; an empty list is always false.
    pub fn in_<E: IntoExpr>(self, items: impl IntoIterator<Item = E>) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list: items.into_iter().map(IntoExpr::into_expr).collect(),
            negated: false,
        }
    }

    /// `self NOT IN (a, b, ...)`; an empty list is always true.
    pub fn not_in<E: IntoExpr>(self, items: impl IntoIterator<Item = E>) -> Expr {
        Expr::InList { expr: Box::new(self), list: items.into_iter().map(IntoExpr::into_expr).collect(), negated: true }
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

    /// The name a result column of this expression gets: a label, or a column's name.
    pub fn output_name(&self) -> Option<&str> {
        match self {
            Expr::Label(_, n) => Some(n),
            Expr::Column(c) => Some(&c.name),
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
arith!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div, Rem rem Rem);
