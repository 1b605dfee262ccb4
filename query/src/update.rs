//! `UPDATE`: SET expressions, WHERE, `UPDATE ... FROM`, `RETURNING`.

use std::sync::Arc;

use crate::expr::{Expr, IntoExpr, Source};
use crate::schema::Table;
use crate::select::{IntoColumns, IntoSource};

/// An `UPDATE` statement.
#[derive(Debug, Clone, Hash)]
pub struct Update {
    pub(crate) table: Table,
    pub(crate) set: Vec<(Arc<str>, Expr)>,
    pub(crate) from: Vec<Source>,
    pub(crate) where_: Option<Expr>,
    pub(crate) returning: Vec<Expr>,
}

/// `UPDATE table`.
pub fn update(table: &Table) -> Update {
    Update { table: table.clone(), set: Vec::new(), from: Vec::new(), where_: None, returning: Vec::new() }
}

impl Update {
    /// `SET column = value` (a value or any expression, e.g. `cars.c("mileage") + 100`).
    #[must_use]
    pub fn set(mut self, column: &str, v: impl IntoExpr) -> Self {
        let v = v.into_expr();
        match self.set.iter_mut().find(|(c, _)| &**c == column) {
            Some(slot) => slot.1 = v,
            None => self.set.push((Arc::from(column), v)),
        }
        self
    }

    /// `SET` from named parameters: `.values(named_params! {"make" => "Kia"})`.
    #[must_use]
    pub fn values(mut self, params: asqlite::Params) -> Self {
        for (k, v) in params.named_pairs() {
            let column = self.table.column_key(k).to_owned();
            self = self.set(&column, v.clone());
        }
        self
    }

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

    /// `UPDATE ... FROM source` (other tables named in WHERE or SET are added on their own).
    #[must_use]
    pub fn from(mut self, source: impl IntoSource) -> Self {
        self.from.push(source.into_source());
        self
    }

    /// `RETURNING columns`.
    #[must_use]
    pub fn returning(mut self, columns: impl IntoColumns) -> Self {
        self.returning.extend(columns.into_columns());
        self
    }
}
