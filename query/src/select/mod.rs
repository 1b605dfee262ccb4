//! `SELECT`: columns, FROM and joins, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET, DISTINCT; subqueries,
//! CTEs and compound selects (`UNION`, `INTERSECT`, `EXCEPT`).
//!
//! The examples run on two tables: `owners` (1 Ann, 2 Bob, 3 Cy) and `cars` (1 Honda Civic 2012 of Ann, 2 Toyota
//! Prius 2020 of Bob, 3 Tesla Model 3 2019 of Ann, 4 Ford T 1920 of nobody), with `cars.owner_id` a foreign key to
//! `owners.id` (the setup is hidden; the first example of the crate docs shows one in full).
//!
//! ## Joins and outer joins
//!
//! `join` follows the foreign key between the tables; `join_on` / `outerjoin_on` take the ON condition. A LEFT OUTER
//! JOIN keeps the rows without a match (their joined columns are NULL, which `count(x)` does not count).
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
//! let q = select((cars.c("make"), owners.c("name"))).join(&owners).where_(cars.c("year").gt(2015)).order_by("make");
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT cars.make, owners.name FROM cars JOIN owners ON cars.owner_id = owners.id \
//!      WHERE cars.year > ? ORDER BY cars.make"
//! );
//! let rows: Vec<(String, String)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[("Tesla Model 3", "Ann"), ("Toyota Prius", "Bob")]"#);
//!
//! let q = select((owners.c("name"), func::count(cars.c("car_id")).label("n")))
//!     .outerjoin_on(&cars, cars.c("owner_id").eq(owners.c("id")))
//!     .group_by(owners.c("name"))
//!     .order_by("name");
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT owners.name, count(cars.car_id) AS n FROM owners LEFT OUTER JOIN cars ON cars.owner_id = owners.id \
//!      GROUP BY owners.name ORDER BY owners.name"
//! );
//! let rows: Vec<(String, i64)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[("Ann", 2), ("Bob", 1), ("Cy", 0)]"#);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Aliases
//!
//! A table joined to itself needs an alias (`cars AS a`); naming the same table twice without one is an error.
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
//! let (a, b) = (cars.alias("a"), cars.alias("b"));
//! let q = select((a.c("make"), b.c("make")))
//!     .select_from(&a)
//!     .join_on(&b, a.c("owner_id").eq(b.c("owner_id")) & a.c("car_id").lt(b.c("car_id")));
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT a.make, b.make FROM cars AS a JOIN cars AS b ON a.owner_id = b.owner_id AND a.car_id < b.car_id"
//! );
//! let rows: Vec<(String, String)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[("Honda Civic", "Tesla Model 3")]"#);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Subqueries
//!
//! A select becomes a named subquery in FROM (`subquery`), a value (`scalar_subquery`, correlated to the enclosing
//! query's tables as in SQLAlchemy), a set (`in_query`) or a condition (`exists()`).
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
//! let per_owner = select((cars.c("owner_id"), func::count_star().label("n"))).group_by("owner_id").subquery("per_owner");
//! let q = select((owners.c("name"), per_owner.c("n")))
//!     .join_on(&per_owner, per_owner.c("owner_id").eq(owners.c("id")))
//!     .order_by(desc(per_owner.c("n")));
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id, count(*) AS n FROM cars \
//!      GROUP BY cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id ORDER BY per_owner.n DESC"
//! );
//! let rows: Vec<(String, i64)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[("Ann", 2), ("Bob", 1)]"#);
//!
//! let newest = select(func::max(cars.c("year"))).where_(cars.c("owner_id").eq(owners.c("id"))).scalar_subquery();
//! let q = select((owners.c("name"), newest.label("newest")))
//!     .where_(exists().where_(cars.c("owner_id").eq(owners.c("id"))))
//!     .order_by("name");
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT owners.name, (SELECT max(cars.year) FROM cars WHERE cars.owner_id = owners.id) AS newest FROM owners \
//!      WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) ORDER BY owners.name"
//! );
//! let rows: Vec<(String, i64)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(format!("{rows:?}"), r#"[("Ann", 2019), ("Bob", 2020)]"#);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## CTEs
//!
//! `cte` names a select in a `WITH`; `cte_recursive` starts a recursive one, whose recursive part (`union_all`)
//! selects from the CTE itself.
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
//! let recent = select((cars.c("car_id"), cars.c("make"))).where_(cars.c("year").gt(2015)).cte("recent");
//! let q = select(recent.c("make")).order_by(recent.c("car_id"));
//! assert_eq!(
//!     q.to_string(),
//!     "WITH recent AS (SELECT cars.car_id, cars.make FROM cars WHERE cars.year > ?) SELECT recent.make FROM recent \
//!      ORDER BY recent.car_id"
//! );
//! assert_eq!(conn.execute(&q).await?.scalars::<String>()?, ["Toyota Prius", "Tesla Model 3"]);
//!
//! let base = select(lit(2012).label("y")).cte_recursive("years");
//! let years = base.union_all(select(base.c("y") + 1).where_(base.c("y").lt(2020)));
//! let q = select((years.c("y"), func::count(cars.c("car_id")).label("n")))
//!     .outerjoin_on(&cars, cars.c("year").eq(years.c("y")))
//!     .where_(years.c("y").ge(2018))
//!     .group_by(years.c("y"))
//!     .order_by("y");
//! assert_eq!(
//!     q.to_string(),
//!     "WITH RECURSIVE years AS (SELECT ? AS y UNION ALL SELECT years.y + ? FROM years WHERE years.y < ?) \
//!      SELECT years.y, count(cars.car_id) AS n FROM years LEFT OUTER JOIN cars ON cars.year = years.y \
//!      WHERE years.y >= ? GROUP BY years.y ORDER BY years.y"
//! );
//! let rows: Vec<(i64, i64)> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(rows, [(2018, 0), (2019, 1), (2020, 1)]);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Set operations
//!
//! `union`, `union_all`, `intersect` and `except_` combine selects with the same number of columns; the ORDER BY and
//! LIMIT of the whole go on the compound and name result columns of its first select.
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
//! let owning = select(cars.c("owner_id")).where_(cars.c("owner_id").is_not_null());
//! let q = union(owning.clone(), select(owners.c("id"))).order_by(desc("owner_id")).limit(2);
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
//!      ORDER BY cars.owner_id DESC LIMIT ?"
//! );
//! assert_eq!(conn.execute(&q).await?.scalars::<i64>()?, [3, 2]);
//!
//! let q = except_(select(owners.c("id")), owning.clone());
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT owners.id FROM owners EXCEPT SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL"
//! );
//! assert_eq!(conn.execute(&q).await?.scalars::<i64>()?, [3]);
//! let q = intersect(select(owners.c("id")), owning).order_by("id");
//! assert_eq!(conn.execute(&q).await?.scalars::<i64>()?, [1, 2]);
//! assert_eq!(conn.execute(union_all(select(owners.c("id")), select(owners.c("id")))).await?.len(), 6);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```

mod compound;
mod cte;
mod exists;
mod list;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub use self::compound::{except_, intersect, union, union_all, Compound, Query, SetOp};
pub(crate) use self::cte::SubqueryInner;
pub use self::cte::{Cte, Subquery};
pub use self::exists::Exists;
pub use self::list::SelectList;
use crate::expr::{Expr, IntoExpr, Source};
use crate::schema::{Alias, Table};

/// What a select list, GROUP BY or ORDER BY takes: a table (all its columns), an expression, or a list of them.
pub trait IntoColumns {
    /// Convert.
    fn into_columns(self) -> Vec<Expr>;

    /// Convert into a select list: a table stays a table (see `SelectList`), the rest become expressions.
    #[doc(hidden)]
    fn into_select_list(self) -> SelectList
    where
        Self: Sized,
    {
        SelectList::from(self.into_columns())
    }
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

    fn into_select_list(self) -> SelectList {
        SelectList::table(self.clone())
    }
}

impl IntoColumns for Table {
    fn into_columns(self) -> Vec<Expr> {
        self.all_columns()
    }

    fn into_select_list(self) -> SelectList {
        SelectList::table(self)
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
#[derive(Clone, Default)]
pub struct Select {
    pub(crate) columns: SelectList,
    pub(crate) where_: Option<Expr>,
    /// FROM, joins, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET and DISTINCT, boxed together, `None` while all are
    /// empty: most selects have none of them, and a select is moved whole by every builder call (read them with
    /// [`Select::clauses`]).
    pub(crate) clauses: Option<Box<Clauses>>,
}

/// The clauses of a select other than its columns and WHERE (see [`Select::clauses`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Clauses {
    pub(crate) from: Vec<Source>,
    pub(crate) joins: Vec<Join>,
    pub(crate) group_by: Vec<Expr>,
    pub(crate) having: Option<Expr>,
    pub(crate) order_by: Vec<Expr>,
    pub(crate) limit: Option<Expr>,
    pub(crate) offset: Option<Expr>,
    pub(crate) distinct: bool,
}

/// The clauses of a select that has none.
pub(crate) static NO_CLAUSES: Clauses = Clauses {
    from: Vec::new(),
    joins: Vec::new(),
    group_by: Vec::new(),
    having: None,
    order_by: Vec::new(),
    limit: None,
    offset: None,
    distinct: false,
};

/// The fields as they were before the clauses were boxed, so a `Debug` of a select reads as it always did.
impl fmt::Debug for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.clauses();
        f.debug_struct("Select")
            .field("columns", &self.columns)
            .field("from", &c.from)
            .field("joins", &c.joins)
            .field("where_", &self.where_)
            .field("group_by", &c.group_by)
            .field("having", &c.having)
            .field("order_by", &c.order_by)
            .field("limit", &c.limit)
            .field("offset", &c.offset)
            .field("distinct", &c.distinct)
            .finish()
    }
}

/// The shape words, field by field in the select's clause order (the same words whether the clauses are boxed or
/// not there at all: a select without any hashes as one with empty ones).
impl Hash for Select {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let Clauses { from, joins, group_by, having, order_by, limit, offset, distinct } = self.clauses();
        self.columns.hash(state);
        from.hash(state);
        joins.hash(state);
        self.where_.hash(state);
        group_by.hash(state);
        having.hash(state);
        order_by.hash(state);
        limit.hash(state);
        offset.hash(state);
        distinct.hash(state);
    }
}

/// `SELECT columns`: `select(&cars)`, `select(cars.c("make"))`, `select((cars.c("make"), func::count_star()))`.
///
/// FROM is worked out from the columns and the WHERE clause (as SQLAlchemy does) unless given with
/// [`Select::select_from`].
#[inline]
pub fn select(columns: impl IntoColumns) -> Select {
    Select { columns: columns.into_select_list(), ..Select::default() }
}

#[inline(never)]
fn conjoin(existing: Option<Expr>, cond: Expr) -> Option<Expr> {
    Some(match existing {
        None => cond,
        Some(e) => e & cond,
    })
}

impl Select {
    /// FROM, the joins, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET and DISTINCT (empty ones when it has none).
    #[inline]
    pub(crate) fn clauses(&self) -> &Clauses {
        self.clauses.as_deref().unwrap_or(&NO_CLAUSES)
    }

    fn clauses_mut(&mut self) -> &mut Clauses {
        self.clauses.get_or_insert_with(Box::default)
    }

    /// Add columns to the select list.
    #[must_use]
    pub fn add_columns(mut self, columns: impl IntoColumns) -> Self {
        self.columns.to_mut().extend(columns.into_columns());
        self
    }

    /// Add a WHERE condition (several calls are ANDed).
    #[must_use]
    #[inline]
    pub fn where_(mut self, cond: impl IntoExpr) -> Self {
        let cond = cond.into_expr();
        // The first condition is stored as it is (no `None` to drop first); later ones are ANDed out of line.
        if self.where_.is_none() {
            self.where_ = Some(cond);
        } else {
            self.where_ = conjoin(self.where_.take(), cond);
        }
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
        self.clauses_mut().from.push(source.into_source());
        self
    }

    fn join_impl(mut self, target: Source, on: Option<Expr>, kind: JoinKind) -> Self {
        self.clauses_mut().joins.push(Join { target, on, kind });
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
        self.clauses_mut().group_by.extend(columns.into_columns().into_iter().map(crate::expr::by_name));
        self
    }

    /// Add a HAVING condition (several calls are ANDed).
    #[must_use]
    pub fn having(mut self, cond: impl IntoExpr) -> Self {
        let clauses = self.clauses_mut();
        clauses.having = conjoin(clauses.having.take(), cond.into_expr());
        self
    }

    /// `ORDER BY`: expressions, or `.desc()` / `.asc()` / `.nulls_last()` orderings. A string names a label or a
    /// column of the statement, as in SQLAlchemy: `order_by("year")`, `order_by(desc("total"))` (a name that is
    /// neither is a compile error, never a bound value).
    #[must_use]
    pub fn order_by(mut self, columns: impl IntoColumns) -> Self {
        self.clauses_mut().order_by.extend(columns.into_columns().into_iter().map(crate::expr::by_name));
        self
    }

    /// `LIMIT n` (bound).
    #[must_use]
    pub fn limit(mut self, n: i64) -> Self {
        self.clauses_mut().limit = Some(n.into_expr());
        self
    }

    /// `OFFSET n` (bound; without a limit SQLite needs `LIMIT -1`, which is added).
    #[must_use]
    pub fn offset(mut self, n: i64) -> Self {
        self.clauses_mut().offset = Some(n.into_expr());
        self
    }

    /// `SELECT DISTINCT`.
    #[must_use]
    pub fn distinct(mut self) -> Self {
        self.clauses_mut().distinct = true;
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
