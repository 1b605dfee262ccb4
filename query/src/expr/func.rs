//! SQL functions: `func::count(col)`, `func::sum(col)`, `func::call("julianday", [col])`.

use super::{Expr, IntoExpr};
use std::sync::Arc;

/// Any named function; the name must be a plain identifier (checked when compiled).
pub fn call<E: IntoExpr>(name: &str, args: impl IntoIterator<Item = E>) -> Expr {
    Expr::Func { name: Arc::from(name), args: args.into_iter().map(IntoExpr::into_expr).collect(), distinct: false }
}

fn one(name: &str, e: impl IntoExpr) -> Expr {
    Expr::Func { name: Arc::from(name), args: vec![e.into_expr()], distinct: false }
}

/// `count(*)`.
pub fn count_star() -> Expr {
    Expr::CountStar
}

/// `count(expr)`.
pub fn count(e: impl IntoExpr) -> Expr {
    one("count", e)
}

/// `count(DISTINCT expr)`.
pub fn count_distinct(e: impl IntoExpr) -> Expr {
    Expr::Func { name: Arc::from("count"), args: vec![e.into_expr()], distinct: true }
}

/// `sum(expr)`.
pub fn sum(e: impl IntoExpr) -> Expr {
    one("sum", e)
}

/// `avg(expr)`.
pub fn avg(e: impl IntoExpr) -> Expr {
    one("avg", e)
}

/// `min(expr)`.
pub fn min(e: impl IntoExpr) -> Expr {
    one("min", e)
}

/// `max(expr)`.
pub fn max(e: impl IntoExpr) -> Expr {
    one("max", e)
}

/// `coalesce(a, b, ...)`.
pub fn coalesce<E: IntoExpr>(args: impl IntoIterator<Item = E>) -> Expr {
    call("coalesce", args)
}

/// `lower(expr)`.
pub fn lower(e: impl IntoExpr) -> Expr {
    one("lower", e)
}

/// `upper(expr)`.
pub fn upper(e: impl IntoExpr) -> Expr {
    one("upper", e)
}

/// `length(expr)`.
pub fn length(e: impl IntoExpr) -> Expr {
    one("length", e)
}

/// `abs(expr)`.
pub fn abs(e: impl IntoExpr) -> Expr {
    one("abs", e)
}

/// `round(expr, digits)`.
pub fn round(e: impl IntoExpr, digits: i64) -> Expr {
    call("round", [e.into_expr(), digits.into_expr()])
}

/// `group_concat(expr, sep)`.
pub fn group_concat(e: impl IntoExpr, sep: &str) -> Expr {
    call("group_concat", [e.into_expr(), sep.into_expr()])
}

/// `json_extract(json, path)`: the SQL value at a JSON path (`"$.tags[0]"`); see also
/// [`Expr::json_get`] and [`Expr::json_get_value`].
pub fn json_extract(json: impl IntoExpr, path: impl IntoExpr) -> Expr {
    call("json_extract", [json.into_expr(), path.into_expr()])
}

/// `json_type(json, path)`: `'object'`, `'array'`, `'text'`, `'integer'`, `'real'`, `'true'`, `'false'` or `'null'`
/// (NULL where the path finds nothing).
pub fn json_type(json: impl IntoExpr, path: impl IntoExpr) -> Expr {
    call("json_type", [json.into_expr(), path.into_expr()])
}

/// `json_array_length(json)`: the length of a JSON array (0 for any other JSON value).
pub fn json_array_length(json: impl IntoExpr) -> Expr {
    one("json_array_length", json)
}

/// `CURRENT_TIMESTAMP` as SQLAlchemy's `func.now()` renders on SQLite.
pub fn now() -> Expr {
    Expr::Text(Arc::from("CURRENT_TIMESTAMP"))
}
