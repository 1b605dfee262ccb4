//! Named subqueries in FROM and common table expressions (`WITH`, `WITH RECURSIVE`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::{Query, SetOp};
use crate::expr::{Expr, Source};
use crate::schema::column_expr;

#[derive(Debug)]
pub(crate) struct SubqueryInner {
    pub(crate) name: Arc<str>,
    pub(crate) query: Query,
}

/// A named subquery in FROM: `(SELECT ...) AS name`.
#[derive(Debug, Clone)]
pub struct Subquery(pub(crate) Arc<SubqueryInner>);

impl Hash for Subquery {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
        self.0.query.hash(state);
    }
}

impl Subquery {
    /// The subquery's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Its result column names.
    pub fn column_names(&self) -> Vec<String> {
        self.0.query.column_names()
    }

    /// The column `name` of the subquery.
    pub fn c(&self, name: &str) -> Expr {
        let names = self.column_names();
        // An unnamed result column ("") cannot be referred to by name.
        let found = names.iter().find(|n| !n.is_empty() && n.as_str() == name).map(String::as_str);
        column_expr(Source::Subquery(self.clone()), found, name, &self.0.name)
    }
}

#[derive(Debug)]
pub(crate) struct CteInner {
    pub(crate) name: Arc<str>,
    pub(crate) query: Query,
    pub(crate) recursive: bool,
    /// The recursive parts, added by `union_all` / `union`.
    pub(crate) parts: Vec<(SetOp, Query)>,
}

/// A common table expression: `WITH name AS (...)`, recursive too.
#[derive(Debug, Clone)]
pub struct Cte(pub(crate) Arc<CteInner>);

impl Hash for Cte {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // A recursive part refers to an earlier version of its own CTE (without the parts), so this terminates.
        self.0.name.hash(state);
        self.0.recursive.hash(state);
        self.0.query.hash(state);
        self.0.parts.len().hash(state);
        for (op, q) in &self.0.parts {
            op.hash(state);
            q.hash(state);
        }
    }
}

impl Cte {
    pub(crate) fn make(name: &str, query: Query, recursive: bool) -> Cte {
        Cte(Arc::new(CteInner { name: Arc::from(name), query, recursive, parts: Vec::new() }))
    }

    /// The CTE's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether it is `WITH RECURSIVE`.
    pub fn is_recursive(&self) -> bool {
        self.0.recursive
    }

    /// Its column names (those of its first select).
    pub fn column_names(&self) -> Vec<String> {
        self.0.query.column_names()
    }

    /// The column `name` of the CTE.
    pub fn c(&self, name: &str) -> Expr {
        let names = self.column_names();
        // An unnamed result column ("") cannot be referred to by name.
        let found = names.iter().find(|n| !n.is_empty() && n.as_str() == name).map(String::as_str);
        column_expr(Source::Cte(self.clone()), found, name, &self.0.name)
    }

    fn with_part(&self, op: SetOp, q: Query) -> Cte {
        let mut parts: Vec<(SetOp, Query)> = self.0.parts.clone();
        parts.push((op, q));
        Cte(Arc::new(CteInner {
            name: self.0.name.clone(),
            query: self.0.query.clone(),
            recursive: self.0.recursive,
            parts,
        }))
    }

    /// The CTE with `UNION ALL recursive_part` added (the recursive step refers to `self`'s columns).
    pub fn union_all(&self, part: impl Into<Query>) -> Cte {
        self.with_part(SetOp::UnionAll, part.into())
    }

    /// The CTE with `UNION part` added.
    pub fn union(&self, part: impl Into<Query>) -> Cte {
        self.with_part(SetOp::Union, part.into())
    }
}
