//! Compound selects: `UNION`, `UNION ALL`, `INTERSECT`, `EXCEPT`, and [`Query`] (a select or a compound).

use std::sync::Arc;

use super::{Cte, IntoColumns, Select, Subquery, SubqueryInner};
use crate::expr::{Expr, IntoExpr};

/// A set operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// `UNION`.
    Union,
    /// `UNION ALL`.
    UnionAll,
    /// `INTERSECT`.
    Intersect,
    /// `EXCEPT`.
    Except,
}

impl SetOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// A compound select: `a UNION b EXCEPT c ...`, with its own ORDER BY / LIMIT / OFFSET.
#[derive(Debug, Clone, Hash)]
pub struct Compound {
    pub(crate) first: Box<Query>,
    pub(crate) rest: Vec<(SetOp, Query)>,
    pub(crate) order_by: Vec<Expr>,
    pub(crate) limit: Option<Expr>,
    pub(crate) offset: Option<Expr>,
}

impl Compound {
    pub(crate) fn new(first: Query, op: SetOp, other: Query) -> Self {
        Compound { first: Box::new(first), rest: vec![(op, other)], order_by: Vec::new(), limit: None, offset: None }
    }

    fn push(mut self, op: SetOp, q: Query) -> Self {
        self.rest.push((op, q));
        self
    }

    /// `... UNION other`.
    pub fn union(self, other: impl Into<Query>) -> Self {
        self.push(SetOp::Union, other.into())
    }

    /// `... UNION ALL other`.
    pub fn union_all(self, other: impl Into<Query>) -> Self {
        self.push(SetOp::UnionAll, other.into())
    }

    /// `... INTERSECT other`.
    pub fn intersect(self, other: impl Into<Query>) -> Self {
        self.push(SetOp::Intersect, other.into())
    }

    /// `... EXCEPT other`.
    pub fn except_(self, other: impl Into<Query>) -> Self {
        self.push(SetOp::Except, other.into())
    }

    /// `ORDER BY` of the whole compound, by result column: columns or labels of the first select, or their names
    /// (`order_by("make")`).
    #[must_use]
    pub fn order_by(mut self, columns: impl IntoColumns) -> Self {
        self.order_by.extend(columns.into_columns().into_iter().map(crate::expr::by_name));
        self
    }

    /// `LIMIT n`.
    #[must_use]
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n.into_expr());
        self
    }

    /// `OFFSET n`.
    #[must_use]
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n.into_expr());
        self
    }

    /// As a named subquery.
    pub fn subquery(self, name: &str) -> Subquery {
        Subquery(Arc::new(SubqueryInner { name: Arc::from(name), query: Query::Compound(Box::new(self)) }))
    }

    /// `EXISTS (this)`.
    pub fn exists(self) -> Expr {
        Expr::Exists(Box::new(Query::Compound(Box::new(self))))
    }

    /// As a CTE.
    pub fn cte(self, name: &str) -> Cte {
        Cte::make(name, Query::Compound(Box::new(self)), false)
    }
}

/// `UNION` of queries.
pub fn union(a: impl Into<Query>, b: impl Into<Query>) -> Compound {
    Compound::new(a.into(), SetOp::Union, b.into())
}

/// `UNION ALL` of queries.
pub fn union_all(a: impl Into<Query>, b: impl Into<Query>) -> Compound {
    Compound::new(a.into(), SetOp::UnionAll, b.into())
}

/// `INTERSECT` of queries.
pub fn intersect(a: impl Into<Query>, b: impl Into<Query>) -> Compound {
    Compound::new(a.into(), SetOp::Intersect, b.into())
}

/// `EXCEPT` of queries.
pub fn except_(a: impl Into<Query>, b: impl Into<Query>) -> Compound {
    Compound::new(a.into(), SetOp::Except, b.into())
}

/// A query: a select or a compound select.
#[derive(Debug, Clone, Hash)]
pub enum Query {
    /// A select.
    Select(Box<Select>),
    /// A compound select.
    Compound(Box<Compound>),
}

impl Query {
    /// The result column names of the query (of its first select for compounds).
    pub fn column_names(&self) -> Vec<String> {
        match self {
            Query::Select(s) => s.column_names(),
            Query::Compound(c) => c.first.column_names(),
        }
    }

    /// The number of result columns, when known before running (not with `*`).
    pub(crate) fn width(&self) -> Option<usize> {
        match self {
            Query::Select(s) => (!s.columns.iter().any(|c| matches!(c, Expr::Star))).then_some(s.columns.len()),
            Query::Compound(c) => c.first.width(),
        }
    }
}

impl From<Select> for Query {
    fn from(s: Select) -> Query {
        Query::Select(Box::new(s))
    }
}
impl From<&Select> for Query {
    fn from(s: &Select) -> Query {
        Query::Select(Box::new(s.clone()))
    }
}
impl From<Compound> for Query {
    fn from(c: Compound) -> Query {
        Query::Compound(Box::new(c))
    }
}
impl From<&Compound> for Query {
    fn from(c: &Compound) -> Query {
        Query::Compound(Box::new(c.clone()))
    }
}
