//! `UPDATE`: SET expressions, WHERE, `UPDATE ... FROM`, `RETURNING`.
//!
//! The examples run on two tables: `owners` (1 Ann, 2 Bob, 3 Cy) and `cars` (1 Honda Civic 2012 of Ann, 2 Toyota
//! Prius 2020 of Bob, 3 Tesla Model 3 2019 of Ann, 4 Ford T 1920 of nobody), with `cars.owner_id` a foreign key to
//! `owners.id` (the setup is hidden; the first example of the crate docs shows one in full).
//!
//! ## UPDATE and DELETE with RETURNING
//!
//! SET takes values or expressions of the row (`cars.c("year") + 1`); a condition on another table makes an
//! `UPDATE ... FROM`; `returning` gives the rows changed.
//!
//! ```
//! # use asqlite_query::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let engine = create_async_engine("sqlite://").await?;
//! # let meta = MetaData::new();
//! # let owners = Table::new("owners", &meta, [
//! #     Column::new("id", Integer).primary_key(),
//! #     Column::new("name", Text).unique(),
//! # ]);
//! # let cars = Table::new("cars", &meta, [
//! #     Column::new("car_id", Integer).primary_key(),
//! #     Column::new("make", Text),
//! #     Column::new("year", Integer),
//! #     Column::new("owner_id", Integer).foreign_key("owners.id"),
//! # ]);
//! # engine.create_all(&meta).await?;
//! # let conn = engine.connect().await?;
//! # conn.execute(text("INSERT INTO owners VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy')")).await?;
//! # conn.execute(text("INSERT INTO cars VALUES (1, 'Honda Civic', 2012, 1), (2, 'Toyota Prius', 2020, 2),
//! #                                         (3, 'Tesla Model 3', 2019, 1), (4, 'Ford T', 1920, NULL)")).await?;
//! # conn.commit().await?;
//! let q = update(&cars)
//!     .set("make", owners.c("name") + "'s " + cars.c("make"))
//!     .where_(cars.c("owner_id").eq(owners.c("id")) & owners.c("name").eq("Bob"))
//!     .returning(cars.c("make"));
//! assert_eq!(
//!     q.to_string(),
//!     "UPDATE cars SET make = owners.name || ? || cars.make FROM owners \
//!      WHERE cars.owner_id = owners.id AND owners.name = ? RETURNING make"
//! );
//! assert_eq!(conn.execute(&q).await?.scalars::<String>()?, ["Bob's Toyota Prius"]);
//!
//! let q = delete(&cars).where_(cars.c("owner_id").is_null()).returning((cars.c("car_id"), cars.c("make")));
//! assert_eq!(q.to_string(), "DELETE FROM cars WHERE cars.owner_id IS NULL RETURNING car_id, make");
//! let rows: Vec<(i64, String)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[(4, "Ford T")]"#);
//! conn.commit().await?;
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```

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
