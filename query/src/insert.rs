//! `INSERT`: values, several rows, from a select, `RETURNING`, `ON CONFLICT DO NOTHING / DO UPDATE`.
//!
//! The examples run on two tables: `owners` (1 Ann, 2 Bob, 3 Cy) and `cars` (1 Honda Civic 2012 of Ann, 2 Toyota
//! Prius 2020 of Bob, 3 Tesla Model 3 2019 of Ann, 4 Ford T 1920 of nobody), with `cars.owner_id` a foreign key to
//! `owners.id` (the setup is hidden; the first example of the crate docs shows one in full).
//!
//! ## RETURNING
//!
//! `returning` makes an INSERT, UPDATE or DELETE return the rows it wrote, as a query does.
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
//! let q = owners.insert().value("name", "Dee").returning((owners.c("id"), owners.c("name")));
//! assert_eq!(q.to_string(), "INSERT INTO owners (name) VALUES (?) RETURNING id, name");
//! let rows: Vec<(i64, String)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[(4, "Dee")]"#);
//! conn.commit().await?;
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Upserts
//!
//! `on_conflict_do_update` (with [`excluded`](crate::expr::excluded) for the row being inserted) and
//! `on_conflict_do_nothing`, SQLite's `INSERT ... ON CONFLICT`. An `INSERT ... SELECT` with ON CONFLICT gets a
//! `WHERE 1`, without which SQLite cannot parse it (SQLAlchemy leaves it out).
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
//! let q = insert(&owners)
//!     .value("id", 2)
//!     .value("name", "Robert")
//!     .on_conflict_do_update(["id"], [("name", excluded("name"))])
//!     .returning(owners.c("name"));
//! assert_eq!(
//!     q.to_string(),
//!     "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name RETURNING name"
//! );
//! assert_eq!(conn.execute(&q).await?.scalars::<String>()?, ["Robert"]);
//!
//! let q = insert(&owners).from_select(["name"], select(cars.c("make"))).on_conflict_do_nothing(["name"]);
//! assert_eq!(
//!     q.to_string(),
//!     "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE 1 ON CONFLICT (name) DO NOTHING"
//! );
//! conn.execute(&q).await?;
//! conn.execute(&q).await?; // every name is taken now: nothing more is inserted
//! conn.commit().await?;
//! assert_eq!(conn.scalar::<i64, _>(select(func.count()).select_from(&owners)).await?, 7);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use asqlite::Params;

use crate::expr::{Expr, IntoExpr};
use crate::schema::Table;
use crate::select::{IntoColumns, Query};

/// What an insert inserts.
#[derive(Debug, Clone, Hash)]
pub(crate) enum InsertSource {
    /// No values: the columns come from the parameter keys at execution, or `DEFAULT VALUES`.
    FromParams,
    /// One or more rows of `(column, value)`; every row has the same columns.
    Rows(Vec<Arc<str>>, Vec<Vec<Expr>>),
    /// `INSERT INTO t (cols) SELECT ...`.
    Select(Vec<Arc<str>>, Box<Query>),
    /// An error found while building (rows with different columns), reported when compiled.
    Invalid(String),
}

/// The target and action of `ON CONFLICT`.
#[derive(Debug, Clone, Hash)]
pub(crate) struct OnConflict {
    pub(crate) target: Vec<Arc<str>>,
    pub(crate) target_where: Option<Expr>,
    /// `None` = DO NOTHING.
    pub(crate) update: Option<Vec<(Arc<str>, Expr)>>,
    pub(crate) where_: Option<Expr>,
}

/// `INSERT OR <action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrAction {
    /// `OR REPLACE`.
    Replace,
    /// `OR IGNORE`.
    Ignore,
    /// `OR ABORT`.
    Abort,
    /// `OR FAIL`.
    Fail,
    /// `OR ROLLBACK`.
    Rollback,
}

/// An `INSERT` statement.
#[derive(Debug, Clone, Hash)]
pub struct Insert {
    pub(crate) table: Table,
    pub(crate) source: InsertSource,
    pub(crate) returning: Vec<Expr>,
    pub(crate) on_conflict: Option<OnConflict>,
    pub(crate) or: Option<OrAction>,
}

/// `INSERT INTO table`. Without values, the columns are the keys of the parameters it is executed with, so
/// `execute_many(insert(&cars), rows)` inserts each row.
pub fn insert(table: &Table) -> Insert {
    Insert {
        table: table.clone(),
        source: InsertSource::FromParams,
        returning: Vec::new(),
        on_conflict: None,
        or: None,
    }
}

impl Insert {
    /// Set one column's value (accumulates into a single row).
    #[must_use]
    pub fn value(mut self, column: &str, v: impl IntoExpr) -> Self {
        let v = v.into_expr();
        match &mut self.source {
            InsertSource::Rows(cols, rows) if rows.len() == 1 => match cols.iter().position(|c| &**c == column) {
                Some(i) => rows[0][i] = v,
                None => {
                    cols.push(Arc::from(column));
                    rows[0].push(v);
                }
            },
            InsertSource::FromParams => self.source = InsertSource::Rows(vec![Arc::from(column)], vec![vec![v]]),
            _ => {
                self.source =
                    InsertSource::Invalid("value() on an insert that already has several rows or a select".into())
            }
        }
        self
    }

    /// Set the values of one row from named parameters: `.values(named_params! {"make" => "Kia"})`.
    #[must_use]
    pub fn values(self, row: Params) -> Self {
        self.rows([row])
    }

    /// Several rows in one `VALUES (...), (...)`; every row must name the same columns.
    #[must_use]
    pub fn rows(mut self, rows: impl IntoIterator<Item = Params>) -> Self {
        let mut cols: Option<Vec<Arc<str>>> = None;
        let mut out = Vec::new();
        for p in rows {
            if !p.is_named() && !p.is_empty() {
                self.source = InsertSource::Invalid("insert rows need named parameters (column => value)".into());
                return self;
            }
            let names: Vec<Arc<str>> =
                p.named_pairs().iter().map(|(k, _)| Arc::from(self.table.column_key(k))).collect();
            if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n) {
                self.source = InsertSource::Invalid(format!("column {dup:?} is given twice in one row"));
                return self;
            }
            match &cols {
                None => cols = Some(names.clone()),
                Some(c) if !same_keys(c, &names) => {
                    self.source = InsertSource::Invalid(format!(
                        "every row must have the same columns: {} vs {}",
                        join(c),
                        join(&names)
                    ));
                    return self;
                }
                Some(_) => {}
            }
            let order = cols.as_ref().map_or_else(Vec::new, Clone::clone);
            let row = order
                .iter()
                .map(|c| {
                    p.named_pairs()
                        .iter()
                        .find(|(k, _)| self.table.column_key(k) == &**c)
                        .map_or(Expr::Null, |(_, v)| v.clone().into_expr())
                })
                .collect();
            out.push(row);
        }
        self.source = match cols {
            Some(c) => InsertSource::Rows(c, out),
            None => InsertSource::FromParams,
        };
        self
    }

    /// `INSERT INTO t (columns) SELECT ...`.
    #[must_use]
    pub fn from_select<S: AsRef<str>>(mut self, columns: impl IntoIterator<Item = S>, query: impl Into<Query>) -> Self {
        self.source =
            InsertSource::Select(columns.into_iter().map(|c| Arc::from(c.as_ref())).collect(), Box::new(query.into()));
        self
    }

    /// `RETURNING columns`.
    #[must_use]
    pub fn returning(mut self, columns: impl IntoColumns) -> Self {
        self.returning.extend(columns.into_columns());
        self
    }

    /// `INSERT OR REPLACE` and friends.
    #[must_use]
    pub fn or(mut self, action: OrAction) -> Self {
        self.or = Some(action);
        self
    }

    /// `ON CONFLICT (target) DO NOTHING`; an empty target means any conflict.
    #[must_use]
    pub fn on_conflict_do_nothing<S: AsRef<str>>(mut self, target: impl IntoIterator<Item = S>) -> Self {
        self.on_conflict = Some(OnConflict {
            target: target.into_iter().map(|c| Arc::from(c.as_ref())).collect(),
            target_where: None,
            update: None,
            where_: None,
        });
        self
    }

    /// `ON CONFLICT (target) DO UPDATE SET col = value, ...`; use [`excluded`](crate::expr::excluded) for the
    /// row that was being inserted.
    #[must_use]
    pub fn on_conflict_do_update<S: AsRef<str>, C: AsRef<str>, E: IntoExpr>(
        mut self,
        target: impl IntoIterator<Item = S>,
        set: impl IntoIterator<Item = (C, E)>,
    ) -> Self {
        self.on_conflict = Some(OnConflict {
            target: target.into_iter().map(|c| Arc::from(c.as_ref())).collect(),
            target_where: None,
            update: Some(set.into_iter().map(|(c, e)| (Arc::from(c.as_ref()), e.into_expr())).collect()),
            where_: None,
        });
        self
    }

    /// The `WHERE` of `ON CONFLICT ... DO UPDATE SET ... WHERE cond` (ANDed when repeated).
    #[must_use]
    pub fn on_conflict_where(mut self, cond: impl IntoExpr) -> Self {
        if let Some(oc) = &mut self.on_conflict {
            let c = cond.into_expr();
            oc.where_ = Some(match oc.where_.take() {
                Some(w) => w & c,
                None => c,
            });
        } else {
            self.source = InsertSource::Invalid("on_conflict_where() without on_conflict_do_update()".into());
        }
        self
    }

    /// The index predicate of a conflict target on a partial index: `ON CONFLICT (col) WHERE cond`.
    #[must_use]
    pub fn on_conflict_target_where(mut self, cond: impl IntoExpr) -> Self {
        if let Some(oc) = &mut self.on_conflict {
            oc.target_where = Some(cond.into_expr());
        } else {
            self.source = InsertSource::Invalid("on_conflict_target_where() without an ON CONFLICT clause".into());
        }
        self
    }

    /// The target table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Whether the insert takes its columns from the parameters it is executed with.
    pub(crate) fn columns_from_params(&self) -> bool {
        matches!(self.source, InsertSource::FromParams)
    }
}

fn same_keys(a: &[Arc<str>], b: &[Arc<str>]) -> bool {
    a.len() == b.len() && a.iter().all(|k| b.contains(k))
}

fn join(v: &[Arc<str>]) -> String {
    let names: Vec<&str> = v.iter().map(|s| &**s).collect();
    format!("[{}]", names.join(", "))
}
