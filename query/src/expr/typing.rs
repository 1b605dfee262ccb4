//! The types operators follow: `+` on a string column concatenates (`||`), as SQLAlchemy's String type makes it,
//! instead of adding (which SQLite does by turning the text into 0).
//!
//! An operand is text (a `Text`/`Varchar` column, a string value, a text function or cast), of another known type
//! (a number column, a number value), or of no known type (NULL, a bind parameter, `text()`, an unknown
//! function). As in SQLAlchemy, a text operand concatenates with text or with an untyped operand, and an untyped
//! left operand defers to a text right one; text and a number add (`cars.c("make") + 1` is `cars.make + ?`).

use asqlite::Value;

use super::{BinOp, ColumnRef, Expr, Literal, Source};
use crate::select::Query;
use crate::types::SqlType;

/// What an operand's type is, as far as operators care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Other,
    Unknown,
}

fn of_type(ty: &SqlType) -> Kind {
    match ty {
        SqlType::Text | SqlType::Varchar(_) => Kind::Text,
        SqlType::Other(_) | SqlType::Null => Kind::Unknown,
        _ => Kind::Other,
    }
}

/// Functions that return text whatever their arguments.
const TEXT_FUNCTIONS: &[&str] = &[
    "char",
    "concat",
    "concat_ws",
    "date",
    "datetime",
    "format",
    "group_concat",
    "hex",
    "lower",
    "ltrim",
    "printf",
    "quote",
    "replace",
    "rtrim",
    "soundex",
    "strftime",
    "string_agg",
    "substr",
    "substring",
    "time",
    "trim",
    "typeof",
    "upper",
];

/// Functions whose result has the type of their first argument.
const FIRST_ARG_FUNCTIONS: &[&str] = &["coalesce", "ifnull", "max", "min", "nullif"];

/// The kind of `e`. A loop, not recursion: the operand it looks through (the left of `a + b`, a label's
/// expression, ...) may nest as deep as a program builds it (`x + 1 + 1 + ...`), deeper than the compiler goes.
fn kind(e: &Expr) -> Kind {
    let mut e = e;
    loop {
        e = match e {
            Expr::Column(ColumnRef { source, name }) => return column_kind(source, name),
            Expr::Value(Literal(Value::Text(_))) | Expr::Str(_) => return Kind::Text,
            Expr::Value(_) => return Kind::Other,
            Expr::Binary(_, BinOp::Concat, _) => return Kind::Text,
            Expr::Binary(a, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem, _) => a,
            // A part of a JSON value may be of any type.
            Expr::Binary(_, BinOp::JsonGet | BinOp::JsonGetValue, _) => return Kind::Unknown,
            Expr::Neg(x)
            | Expr::Label(x, _)
            | Expr::Ordered { expr: x, .. }
            | Expr::Collate(x, _)
            | Expr::Filter(x, _)
            | Expr::Over { func: x, .. } => x,
            Expr::Func { name, args, .. } => {
                let lower = name.to_ascii_lowercase();
                if TEXT_FUNCTIONS.contains(&lower.as_str()) {
                    return Kind::Text;
                } else if FIRST_ARG_FUNCTIONS.contains(&lower.as_str()) {
                    match args.first() {
                        Some(a) => a,
                        None => return Kind::Unknown,
                    }
                } else {
                    return Kind::Unknown;
                }
            }
            Expr::Cast(_, ty) => return of_type(ty),
            Expr::Case { whens, else_, .. } => match whens.first().map(|(_, then)| then).or(else_.as_deref()) {
                Some(x) => x,
                None => return Kind::Unknown,
            },
            Expr::Scalar(q) => return query_column_kind(q, None),
            Expr::Null | Expr::BindParam(_) | Expr::Text(_) | Expr::Excluded(_) | Expr::Name(_) | Expr::Invalid(_) => {
                return Kind::Unknown
            }
            _ => return Kind::Other,
        };
    }
}

fn column_kind(source: &Source, name: &str) -> Kind {
    match source {
        Source::Table(t) => t.column(name).map_or(Kind::Unknown, |c| of_type(c.sql_type())),
        Source::Alias(a) => a.table().column(name).map_or(Kind::Unknown, |c| of_type(c.sql_type())),
        Source::Subquery(sq) => query_column_kind(&sq.0.query, Some(name)),
        Source::Cte(c) => query_column_kind(&c.0.query, Some(name)),
    }
}

/// The kind of a query's result column `name` (its first column for `None`).
fn query_column_kind(q: &Query, name: Option<&str>) -> Kind {
    let mut q = q;
    let columns = loop {
        match q {
            Query::Select(s) => break &s.columns,
            Query::Compound(c) => q = &c.first,
        }
    };
    let found = match name {
        None => columns.first(),
        Some(n) => columns.iter().find(|c| c.output_name() == Some(n)),
    };
    found.map_or(Kind::Unknown, kind)
}

/// Whether `left + right` concatenates: the left is text and the right text or untyped, or the left untyped and the
/// right text.
pub(crate) fn concatenates(left: &Expr, right: &Expr) -> bool {
    matches!((kind(left), kind(right)), (Kind::Text, Kind::Text | Kind::Unknown) | (Kind::Unknown, Kind::Text))
}
