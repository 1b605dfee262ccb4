//! Results as Arrow record batches (feature `arrow`): [`AsyncConnection::execute_arrow`](crate::AsyncConnection::execute_arrow)
//! and [`QueryResult::to_arrow`](crate::QueryResult::to_arrow), typed by the tables' columns.
//!
//! This module re-exports the driver's [`asqlite::arrow`] (the `arrow-array` crate, the everyday `arrow-schema`
//! types, [`ArrowOptions`], [`Mixed`]), so a program uses the version the driver was built with.
//!
//! A column of a table gets its Arrow type from its [`SqlType`], and is nullable as the column is (a primary key
//! is not), unless an outer join can make it NULL:
//!
//! | column type | Arrow type |
//! |---|---|
//! | `Integer`, `BigInteger`, `SmallInteger` | `Int64` |
//! | `Float`, `Numeric` | `Float64` |
//! | `Text`, `Varchar(n)`, `Uuid` (32 hex digits) | `Utf8` |
//! | `Json` | `Utf8` with the extension name `arrow.json` |
//! | `Blob` | `Binary` |
//! | `Boolean` | `Boolean` |
//! | `Date` | `Date32` |
//! | `DateTime` | `Timestamp(Microsecond, None)` |
//! | `Time` | `Time64(Microsecond)` |
//!
//! A label keeps its expression's type, `CAST(.. AS type)` has the type's, `count(..)` is a non-null `Int64`,
//! and a column of a subquery or CTE has the type of the column it selects. Other expressions, `*`, columns of
//! another declared type and `text(...)` statements are typed by the driver (by declared type, else by value: see
//! [`asqlite::arrow`](asqlite::arrow#types)). In a compound select the first select's types apply, all nullable.

use std::collections::HashMap;
use std::sync::Arc;

pub use asqlite::arrow::*;

use crate::compile::Stmt;
use crate::expr::{Expr, Source};
use crate::select::{JoinKind, Query, Select};
use crate::types::SqlType;

/// The Arrow type of a column type, or None for one the driver types (`Other`, `Null`). A JSON column is `Utf8`
/// with the `arrow.json` extension name in its field's metadata (see [`field_for`]).
pub fn data_type(ty: &SqlType) -> Option<DataType> {
    Some(match ty {
        SqlType::Integer | SqlType::BigInteger | SqlType::SmallInteger => DataType::Int64,
        SqlType::Float | SqlType::Numeric => DataType::Float64,
        SqlType::Text | SqlType::Varchar(_) | SqlType::Uuid | SqlType::Json => DataType::Utf8,
        SqlType::Blob => DataType::Binary,
        SqlType::Boolean => DataType::Boolean,
        SqlType::Date => DataType::Date32,
        SqlType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
        SqlType::Time => DataType::Time64(TimeUnit::Microsecond),
        _ => return None,
    })
}

/// The Arrow field of a column of type `ty` named `name`, or None for a type the driver types.
pub fn field_for(name: &str, ty: &SqlType, nullable: bool) -> Option<Field> {
    let field = Field::new(name, data_type(ty)?, nullable);
    Some(match ty {
        SqlType::Json => {
            field.with_metadata(HashMap::from([("ARROW:extension:name".to_owned(), JSON_EXTENSION.to_owned())]))
        }
        _ => field,
    })
}

/// The fields of a statement's result columns (None where the driver types the column).
pub(crate) type ResultFields = Arc<[Option<FieldRef>]>;

/// The fields of a statement's result columns, nameless (the driver keeps SQLite's names), None where the driver
/// should type the column; None for the whole statement if its columns cannot be counted here (`*`, `text`).
pub(crate) fn result_fields(stmt: Stmt<'_>) -> Option<ResultFields> {
    let fields = match stmt {
        Stmt::Select(s) => select_fields(s, false)?,
        Stmt::Compound(c) => query_fields(&c.first, true)?,
        Stmt::Insert(i) => exprs_fields(&i.returning, false)?,
        Stmt::Update(u) => exprs_fields(&u.returning, false)?,
        Stmt::Delete(d) => exprs_fields(&d.returning, false)?,
        Stmt::Text(_) | Stmt::Compiled(_) => return None,
    };
    Some(fields.into_iter().map(|f| f.map(Arc::new)).collect())
}

fn query_fields(q: &Query, nullable: bool) -> Option<Vec<Option<Field>>> {
    match q {
        Query::Select(s) => select_fields(s, nullable),
        Query::Compound(c) => query_fields(&c.first, true),
    }
}

fn select_fields(s: &Select, nullable: bool) -> Option<Vec<Option<Field>>> {
    let outer = s.clauses().joins.iter().any(|j| j.kind != JoinKind::Inner);
    exprs_fields(&s.columns, nullable || outer)
}

fn exprs_fields(exprs: &[Expr], nullable: bool) -> Option<Vec<Option<Field>>> {
    exprs
        .iter()
        .map(|e| match e {
            Expr::Star => None,
            e => Some(expr_field(e).map(|f| if nullable { f.with_nullable(true) } else { f })),
        })
        .collect()
}

/// The field of one result expression, if this layer knows its type.
fn expr_field(e: &Expr) -> Option<Field> {
    match e {
        Expr::Column(c) => {
            let column = |t: &crate::schema::Table| {
                t.column(&c.name).and_then(|col| field_for("", col.sql_type(), col.is_nullable()))
            };
            match &c.source {
                Source::Table(t) => column(t),
                Source::Alias(a) => column(&a.table),
                Source::Subquery(sq) => named_field(&sq.0.query, &c.name),
                Source::Cte(cte) => named_field(&cte.0.query, &c.name),
            }
        }
        Expr::Label(inner, _) => expr_field(inner),
        Expr::Cast(_, ty) => field_for("", ty, true),
        Expr::CountStar => Some(Field::new("", DataType::Int64, false)),
        Expr::Func { name, .. } if name.eq_ignore_ascii_case("count") => Some(Field::new("", DataType::Int64, false)),
        _ => None,
    }
}

/// The field of the result column `name` of a subquery or CTE.
fn named_field(q: &Query, name: &str) -> Option<Field> {
    let (select, nullable) = match q {
        Query::Select(s) => (s.as_ref(), false),
        Query::Compound(c) => match c.first.as_ref() {
            Query::Select(s) => (s.as_ref(), true),
            Query::Compound(_) => return None,
        },
    };
    let outer = select.clauses().joins.iter().any(|j| j.kind != JoinKind::Inner);
    let e = select.columns.iter().find(|e| e.output_name() == Some(name))?;
    expr_field(e).map(|f| if nullable || outer { f.with_nullable(true) } else { f })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn types(stmt: Stmt<'_>) -> Vec<Option<(DataType, bool)>> {
        result_fields(stmt)
            .unwrap()
            .iter()
            .map(|f| f.as_ref().map(|f| (f.data_type().clone(), f.is_nullable())))
            .collect()
    }

    #[test]
    fn fields_follow_the_tables_columns_labels_casts_and_outer_joins() {
        let meta = MetaData::new();
        let cars = Table::new(
            "cars",
            &meta,
            [
                Column::new("car_id", Integer).primary_key(),
                Column::new("make", Text).nullable(false),
                Column::new("made", DateTime),
                Column::new("doc", crate::types::Json),
            ],
        );
        let owners =
            Table::new("owners", &meta, [Column::new("id", Integer).primary_key(), Column::new("car", Integer)]);
        let s = select((cars.c("car_id"), cars.c("make").label("m"), cars.c("made"), cars.c("doc")));
        assert_eq!(
            types(Stmt::Select(&s)),
            [
                Some((DataType::Int64, false)),
                Some((DataType::Utf8, false)),
                Some((DataType::Timestamp(TimeUnit::Microsecond, None), true)),
                Some((DataType::Utf8, true)),
            ]
        );
        let f = result_fields(Stmt::Select(&s)).unwrap();
        assert_eq!(f[3].as_ref().unwrap().metadata()["ARROW:extension:name"], "arrow.json");
        let s = select((cars.c("car_id"), owners.c("id"), func::count_star(), cast(cars.c("make"), Integer)))
            .select_from(&cars)
            .outerjoin_on(&owners, owners.c("car").eq(cars.c("car_id")))
            .group_by(cars.c("car_id"));
        assert_eq!(
            types(Stmt::Select(&s)),
            [
                Some((DataType::Int64, true)),
                Some((DataType::Int64, true)),
                Some((DataType::Int64, true)),
                Some((DataType::Int64, true)),
            ]
        );
        let s = select((cars.c("make"), func::max(cars.c("car_id"))));
        assert_eq!(types(Stmt::Select(&s)), [Some((DataType::Utf8, false)), None]);
    }
}
