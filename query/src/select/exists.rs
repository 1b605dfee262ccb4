//! `exists()`: SQLAlchemy's `exists().where(...)`, an `EXISTS (SELECT * ...)` built without a column list.

use std::ops;

use super::{IntoSource, Select};
use crate::expr::{Expr, IntoExpr};

/// `EXISTS (SELECT * FROM ... WHERE ...)` being built: [`exists()`](crate::expr::exists) then `where_`, `join_on`,
/// `select_from`. Its FROM is worked out from the conditions, and a table of an enclosing query is correlated, as
/// for any subquery. It stands wherever a condition does (`where_`, `!`, `&`, `|`).
#[derive(Debug, Clone, Default)]
pub struct Exists(Select);

impl Exists {
    pub(crate) fn new() -> Self {
        Exists(Select { columns: vec![Expr::Star].into(), ..Select::default() })
    }

    /// Add a WHERE condition (several calls are ANDed).
    #[must_use]
    pub fn where_(self, cond: impl IntoExpr) -> Self {
        Exists(self.0.where_(cond))
    }

    /// `filter` is `where_`.
    #[must_use]
    pub fn filter(self, cond: impl IntoExpr) -> Self {
        self.where_(cond)
    }

    /// Add an explicit FROM source.
    #[must_use]
    pub fn select_from(self, source: impl IntoSource) -> Self {
        Exists(self.0.select_from(source))
    }

    /// `JOIN target ON on`.
    #[must_use]
    pub fn join_on(self, target: impl IntoSource, on: impl IntoExpr) -> Self {
        Exists(self.0.join_on(target, on))
    }

    /// `LEFT OUTER JOIN target ON on`.
    #[must_use]
    pub fn outerjoin_on(self, target: impl IntoSource, on: impl IntoExpr) -> Self {
        Exists(self.0.outerjoin_on(target, on))
    }
}

impl IntoExpr for Exists {
    fn into_expr(self) -> Expr {
        self.0.exists()
    }
}

impl ops::Not for Exists {
    type Output = Expr;
    fn not(self) -> Expr {
        !self.into_expr()
    }
}

impl<T: IntoExpr> ops::BitAnd<T> for Exists {
    type Output = Expr;
    fn bitand(self, rhs: T) -> Expr {
        self.into_expr() & rhs
    }
}

impl<T: IntoExpr> ops::BitOr<T> for Exists {
    type Output = Expr;
    fn bitor(self, rhs: T) -> Expr {
        self.into_expr() | rhs
    }
}
