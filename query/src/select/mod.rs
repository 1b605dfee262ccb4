//! `SELECT`: columns, FROM and joins, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET, DISTINCT; subqueries,
//! CTEs and compound selects (`UNION`, `INTERSECT`, `EXCEPT`).

mod compound;
mod cte;
mod exists;

use std::sync::Arc;

pub use self::compound::{except_, intersect, union, union_all, Compound, Query, SetOp};
pub(crate) use self::cte::SubqueryInner;
pub use self::cte::{Cte, Subquery};
pub use self::exists::Exists;
use crate::expr::{Expr, IntoExpr, Source};
use crate::schema::{Alias, Table};

/// What a select list, GROUP BY or ORDER BY takes: a table (all its columns), an expression, or a list of them.
pub trait IntoColumns {
    /// Convert.
    fn into_columns(self) -> Vec<Expr>;
}

impl<T: IntoExpr> IntoColumns for T {
    fn into_columns(self) -> Vec<Expr> {
        vec![self.into_expr()]
    }
}

/// No columns: `over((), order)` (a window without PARTITION BY).
impl IntoColumns for () {
    fn into_columns(self) -> Vec<Expr> {
        Vec::new()
    }
}

impl IntoColumns for &Table {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}

impl IntoColumns for Table {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }
}

impl IntoColumns for &Alias {
    fn into_columns(self) -> Vec<Expr> {
        self.table.columns().iter().map(|c| self.c(c.name())).collect()
    }
}

impl IntoColumns for &Subquery {
    fn into_columns(self) -> Vec<Expr> {
        self.column_names().iter().map(|n| self.c(n)).collect()
    }
}

impl IntoColumns for &Cte {
    fn into_columns(self) -> Vec<Expr> {
        self.column_names().iter().map(|n| self.c(n)).collect()
    }
}

impl<E: IntoExpr, const N: usize> IntoColumns for [E; N] {
    fn into_columns(self) -> Vec<Expr> {
        self.into_iter().map(IntoExpr::into_expr).collect()
    }
}

impl<E: IntoExpr> IntoColumns for Vec<E> {
    fn into_columns(self) -> Vec<Expr> {
        self.into_iter().map(IntoExpr::into_expr).collect()
    }
}

macro_rules! tuple_columns {
    ($($n:ident),+) => {
        impl<$($n: IntoColumns),+> IntoColumns for ($($n,)+) {
            #[allow(non_snake_case)]
            fn into_columns(self) -> Vec<Expr> {
                let ($($n,)+) = self;
                let mut v = Vec::new();
                $( v.extend($n.into_columns()); )+
                v
            }
        }
    };
}
tuple_columns!(A, B);
tuple_columns!(A, B, C);
tuple_columns!(A, B, C, D);
tuple_columns!(A, B, C, D, E);
tuple_columns!(A, B, C, D, E, F);
tuple_columns!(A, B, C, D, E, F, G);
tuple_columns!(A, B, C, D, E, F, G, H);

/// What can stand in FROM or be joined: a table, an alias, a subquery, a CTE.
pub trait IntoSource {
    /// Convert.
    fn into_source(self) -> Source;
}

impl IntoSource for &Table {
    fn into_source(self) -> Source {
        Source::Table(self.clone())
    }
}
impl IntoSource for Table {
    fn into_source(self) -> Source {
        Source::Table(self)
    }
}
impl IntoSource for &Alias {
    fn into_source(self) -> Source {
        Source::Alias(self.clone())
    }
}
impl IntoSource for &Subquery {
    fn into_source(self) -> Source {
        Source::Subquery(self.clone())
    }
}
impl IntoSource for &Cte {
    fn into_source(self) -> Source {
        Source::Cte(self.clone())
    }
}

/// The kind of a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `JOIN`.
    Inner,
    /// `LEFT OUTER JOIN`.
    Left,
    /// `FULL OUTER JOIN`.
    Full,
}

/// A join of the statement's leftmost FROM to another source.
#[derive(Debug, Clone, Hash)]
pub struct Join {
    pub(crate) target: Source,
    pub(crate) on: Option<Expr>,
    pub(crate) kind: JoinKind,
}

/// A `SELECT` statement.
#[derive(Debug, Clone, Hash, Default)]
pub struct Select {
    pub(crate) columns: Vec<Expr>,
    pub(crate) from: Vec<Source>,
    pub(crate) joins: Vec<Join>,
    pub(crate) where_: Option<Expr>,
    pub(crate) group_by: Vec<Expr>,
    pub(crate) having: Option<Expr>,
    pub(crate) order_by: Vec<Expr>,
    pub(crate) limit: Option<Expr>,
    pub(crate) offset: Option<Expr>,
    pub(crate) distinct: bool,
}

/// `SELECT columns`: `select(&cars)`, `select(cars.c("make"))`, `select((cars.c("make"), func::count_star()))`.
///
/// FROM is worked out from the columns and the WHERE clause (as SQLAlchemy does) unless given with
/// [`Select::select_from`].
pub fn select(columns: impl IntoColumns) -> Select {
    Select { columns: columns.into_columns(), ..Select::default() }
}

fn conjoin(existing: Option<Expr>, cond: Expr) -> Option<Expr> {
    Some(match existing {
        None => cond,
        Some(e) => e & cond,
    })
}

impl Select {
    /// Add columns to the select list.
    #[must_use]
    pub fn add_columns(mut self, columns: impl IntoColumns) -> Self {
        self.columns.extend(columns.into_columns());
        self
    }

    /// Add a WHERE condition (several calls are ANDed).
    #[must_use]
    pub fn where_(mut self, cond: impl IntoExpr) -> Self {
        self.where_ = conjoin(self.where_.take(), cond.into_expr());
        self
    }

    /// `filter` is `where_`.
    #[must_use]
    pub fn filter(self, cond: impl IntoExpr) -> Self {
        self.where_(cond)
    }

    /// Add an explicit FROM source.
    #[must_use]
    pub fn select_from(mut self, source: impl IntoSource) -> Self {
        self.from.push(source.into_source());
        self
    }

    fn join_impl(mut self, target: Source, on: Option<Expr>, kind: JoinKind) -> Self {
        self.joins.push(Join { target, on, kind });
        self
    }

    /// `JOIN target ON <the foreign key between them>`.
    #[must_use]
    pub fn join(self, target: impl IntoSource) -> Self {
        self.join_impl(target.into_source(), None, JoinKind::Inner)
    }

    /// `JOIN target ON on`.
    #[must_use]
    pub fn join_on(self, target: impl IntoSource, on: impl IntoExpr) -> Self {
        self.join_impl(target.into_source(), Some(on.into_expr()), JoinKind::Inner)
    }

    /// `LEFT OUTER JOIN target ON <the foreign key>`.
    #[must_use]
    pub fn outerjoin(self, target: impl IntoSource) -> Self {
        self.join_impl(target.into_source(), None, JoinKind::Left)
    }

    /// `LEFT OUTER JOIN target ON on`.
    #[must_use]
    pub fn outerjoin_on(self, target: impl IntoSource, on: impl IntoExpr) -> Self {
        self.join_impl(target.into_source(), Some(on.into_expr()), JoinKind::Left)
    }

    /// `FULL OUTER JOIN target ON on`.
    #[must_use]
    pub fn full_join_on(self, target: impl IntoSource, on: impl IntoExpr) -> Self {
        self.join_impl(target.into_source(), Some(on.into_expr()), JoinKind::Full)
    }

    /// `GROUP BY`: expressions, or a label or column of the statement by name (`group_by("make")`).
    #[must_use]
    pub fn group_by(mut self, columns: impl IntoColumns) -> Self {
        self.group_by.extend(columns.into_columns().into_iter().map(crate::expr::by_name));
        self
    }

    /// Add a HAVING condition (several calls are ANDed).
    #[must_use]
    pub fn having(mut self, cond: impl IntoExpr) -> Self {
        self.having = conjoin(self.having.take(), cond.into_expr());
        self
    }

    /// `ORDER BY`: expressions, or `.desc()` / `.asc()` / `.nulls_last()` orderings. A string names a label or a
    /// column of the statement, as in SQLAlchemy: `order_by("year")`, `order_by(desc("total"))` (a name that is
    /// neither is a compile error, never a bound value).
    #[must_use]
    pub fn order_by(mut self, columns: impl IntoColumns) -> Self {
        self.order_by.extend(columns.into_columns().into_iter().map(crate::expr::by_name));
        self
    }

    /// `LIMIT n` (bound).
    #[must_use]
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n.into_expr());
        self
    }

    /// `OFFSET n` (bound; without a limit SQLite needs `LIMIT -1`, which is added).
    #[must_use]
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n.into_expr());
        self
    }

    /// `SELECT DISTINCT`.
    #[must_use]
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// This select as a named subquery for FROM: `sq.c("name")` are its columns.
    pub fn subquery(self, name: &str) -> Subquery {
        Subquery(Arc::new(SubqueryInner { name: Arc::from(name), query: Query::Select(Box::new(self)) }))
    }

    /// This select as a scalar subquery: `(SELECT ...)` used as a value.
    pub fn scalar_subquery(self) -> Expr {
        self.into_expr()
    }

    /// This select as a common table expression (`WITH name AS (...)`).
    pub fn cte(self, name: &str) -> Cte {
        Cte::make(name, Query::Select(Box::new(self)), false)
    }

    /// A recursive CTE; add its recursive part with [`Cte::union_all`] or [`Cte::union`].
    pub fn cte_recursive(self, name: &str) -> Cte {
        Cte::make(name, Query::Select(Box::new(self)), true)
    }

    /// `EXISTS (this)`.
    pub fn exists(self) -> Expr {
        Expr::Exists(Box::new(Query::Select(Box::new(self))))
    }

    /// The names of the result columns that have one (labels and plain columns).
    pub fn column_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match c {
                Expr::Star => Vec::new(),
                e => vec![e.output_name().unwrap_or("").to_owned()],
            })
            .collect()
    }

    /// `self UNION other`.
    pub fn union(self, other: impl Into<Query>) -> Compound {
        Compound::new(self.into(), SetOp::Union, other.into())
    }

    /// `self UNION ALL other`.
    pub fn union_all(self, other: impl Into<Query>) -> Compound {
        Compound::new(self.into(), SetOp::UnionAll, other.into())
    }

    /// `self INTERSECT other`.
    pub fn intersect(self, other: impl Into<Query>) -> Compound {
        Compound::new(self.into(), SetOp::Intersect, other.into())
    }

    /// `self EXCEPT other`.
    pub fn except_(self, other: impl Into<Query>) -> Compound {
        Compound::new(self.into(), SetOp::Except, other.into())
    }
}
