//! SQL functions: `func::count(col)`, `func::sum(col)`, `func::call("julianday", [col])`, window functions
//! (`func::row_number().over(..)`), and SQLAlchemy's spelling of calls without arguments, `func.count()`
//! (the value [`func`](const@crate::expr::func), a [`FunctionGenerator`]).

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

fn none(name: &str) -> Expr {
    Expr::Func { name: Arc::from(name), args: Vec::new(), distinct: false }
}

/// `random()`.
pub fn random() -> Expr {
    none("random")
}

/// `total(expr)`: SQLite's sum that is 0.0, not NULL, over no rows.
pub fn total(e: impl IntoExpr) -> Expr {
    one("total", e)
}

/// `nullif(a, b)`.
pub fn nullif(a: impl IntoExpr, b: impl IntoExpr) -> Expr {
    call("nullif", [a.into_expr(), b.into_expr()])
}

/// `row_number()`, a window function: `func::row_number().over((), cars.c("year"))`.
pub fn row_number() -> Expr {
    none("row_number")
}

/// `rank()`, a window function.
pub fn rank() -> Expr {
    none("rank")
}

/// `dense_rank()`, a window function.
pub fn dense_rank() -> Expr {
    none("dense_rank")
}

/// `percent_rank()`, a window function.
pub fn percent_rank() -> Expr {
    none("percent_rank")
}

/// `cume_dist()`, a window function.
pub fn cume_dist() -> Expr {
    none("cume_dist")
}

/// `ntile(n)`, a window function.
pub fn ntile(n: i64) -> Expr {
    one("ntile", n)
}

/// `lag(expr)`, a window function: the value `expr` had on the previous row.
pub fn lag(e: impl IntoExpr) -> Expr {
    one("lag", e)
}

/// `lead(expr)`, a window function: the value `expr` has on the next row.
pub fn lead(e: impl IntoExpr) -> Expr {
    one("lead", e)
}

/// `first_value(expr)`, a window function.
pub fn first_value(e: impl IntoExpr) -> Expr {
    one("first_value", e)
}

/// `last_value(expr)`, a window function.
pub fn last_value(e: impl IntoExpr) -> Expr {
    one("last_value", e)
}

/// SQLAlchemy's `func` for the calls without arguments, so that `func.count()` reads as it does in Python:
/// `select(func.count()).select_from(&cars)` is `SELECT count(*) FROM cars`. Calls with arguments are the
/// functions of this module, `func::count(x)`, `func::sum(x)`, `func::call("name", [args])`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FunctionGenerator;

impl FunctionGenerator {
    /// `count(*)`.
    pub fn count(&self) -> Expr {
        count_star()
    }

    /// `CURRENT_TIMESTAMP`, as SQLAlchemy's `func.now()` renders on SQLite.
    pub fn now(&self) -> Expr {
        now()
    }

    /// `random()`.
    pub fn random(&self) -> Expr {
        random()
    }

    /// `row_number()`.
    pub fn row_number(&self) -> Expr {
        row_number()
    }

    /// `rank()`.
    pub fn rank(&self) -> Expr {
        rank()
    }

    /// `dense_rank()`.
    pub fn dense_rank(&self) -> Expr {
        dense_rank()
    }

    /// `percent_rank()`.
    pub fn percent_rank(&self) -> Expr {
        percent_rank()
    }

    /// `cume_dist()`.
    pub fn cume_dist(&self) -> Expr {
        cume_dist()
    }
}
