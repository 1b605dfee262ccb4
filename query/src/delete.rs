//! `DELETE`: WHERE and `RETURNING`.

use crate::expr::{Expr, IntoExpr};
use crate::schema::Table;
use crate::select::IntoColumns;

/// A `DELETE` statement.
#[derive(Debug, Clone, Hash)]
pub struct Delete {
    pub(crate) table: Table,
    pub(crate) where_: Option<Expr>,
    pub(crate) returning: Vec<Expr>,
}

/// `DELETE FROM table`.
pub fn delete(table: &Table) -> Delete {
    Delete { table: table.clone(), where_: None, returning: Vec::new() }
}

impl Delete {
    /// Add a WHERE condition (ANDed).
    #[must_use]
    pub fn where_(mut self, cond: impl IntoExpr) -> Self {
        let c = cond.into_expr();
        self.where_ = Some(match self.where_.take() {
            Some(w) => w & c,
            None => c,
        });
        self
    }

    /// `RETURNING columns`.
    #[must_use]
    pub fn returning(mut self, columns: impl IntoColumns) -> Self {
        self.returning.extend(columns.into_columns());
        self
    }
}
