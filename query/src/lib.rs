//! # asqlite-query
//!
//! A query layer in the spirit of SQLAlchemy Core, for async SQLite: schema metadata ([`MetaData`], [`Table`],
//! [`Column`]), expressions, `select` / `insert` / `update` / `delete` compiled to SQLite SQL with bound
//! parameters, a cache of compiled statements by shape, and an async engine over `asqlite::Pool`.
//!
//! The same statements compile for PostgreSQL ([`compile::Postgres`], `stmt.compile_for(&Postgres)`), and with the
//! feature `postgres` the same [`Engine`] runs them there: `create_async_engine("postgresql://user:pass@host/db")`
//! (see [`engine::postgres`](crate::engine)).
//!
//! ```
//! use asqlite_query::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let meta = MetaData::new();
//! let cars = Table::new("cars", &meta, [
//!     Column::new("car_id", Integer).primary_key(),
//!     Column::new("make", Text),
//!     Column::new("year", Integer),
//!     Column::new("mileage", Integer),
//! ]);
//! let q = select(&cars).where_(cars.c("mileage").gt(6000)).order_by(cars.c("year").desc());
//! assert_eq!(
//!     q.to_string(),
//!     "SELECT cars.car_id, cars.make, cars.year, cars.mileage FROM cars WHERE cars.mileage > ? ORDER BY cars.year DESC"
//! );
//!
//! // DDL and statements also run on the driver's blocking connection.
//! let conn = asqlite::blocking::Connection::open_in_memory()?;
//! meta.create_all(&conn)?;
//! let ins = cars.insert().values(named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000});
//! let compiled = ins.compile()?;
//! conn.execute(compiled.sql(), compiled.bind(&Params::none())?)?;
//! let compiled = q.compile()?;
//! let rows = conn.query(compiled.sql(), compiled.bind(&Params::none())?)?;
//! assert_eq!(rows.first().unwrap().get::<String>("make")?, "Honda Civic");
//! # Ok(()) }
//! ```
//!
//! The async engine runs the same statements on a pool, with commit-as-you-go connections and transactions:
//!
//! ```
//! use asqlite_query::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let engine = create_async_engine("sqlite://").await?; // in memory; "sqlite:///app.db" for a file
//! let meta = MetaData::new();
//! let cars = Table::new("cars", &meta, [
//!     Column::new("car_id", Integer).primary_key(),
//!     Column::new("make", Text),
//!     Column::new("mileage", Integer),
//! ]);
//! engine.create_all(&meta).await?;
//!
//! let conn = engine.begin().await?;
//! conn.execute_many(cars.insert(), vec![
//!     named_params! {"make" => "Honda Civic", "mileage" => 20_000},
//!     named_params! {"make" => "Tesla Model 3", "mileage" => 5_000},
//! ]).await?;
//! conn.commit().await?;
//!
//! #[derive(serde::Deserialize)]
//! struct Car { make: String, mileage: i64 }
//! let conn = engine.connect().await?;
//! let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
//! let found: Vec<Car> = r.deserialize()?;
//! assert_eq!((found[0].make.as_str(), found[0].mileage), ("Honda Civic", 20_000));
//! let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await?;
//! assert_eq!(n, 2);
//! engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! Each family of statements has a runnable example in the docs of its module: joins, outer joins, aliases,
//! subqueries, CTEs and set operations in [`select`](mod@select); RETURNING and upserts in [`insert`](mod@insert);
//! UPDATE ... FROM and DELETE with RETURNING in [`update`](mod@update); streams, transactions and savepoints in
//! [`engine`]. A string in `order_by` / `group_by` names a label or column (`order_by(desc("total"))`), and a
//! string where SQL is meant (a WHERE condition) is an error pointing to [`text`](text::text), never a bound value.
//!
//! ## Rows and structs
//!
//! Structs go in as parameters (`#[derive(Serialize)]`: each field a column) and come out of results
//! (`#[derive(Deserialize)]`: by column name; tuples by position), stored as SQLAlchemy stores them: a `bool` as 0
//! or 1, a list, map or nested struct as JSON text.
//!
//! ```
//! use asqlite_query::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Car {
//!     make: String,
//!     year: i64,
//!     electric: bool,
//!     tags: Vec<String>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let engine = create_async_engine("sqlite://").await?;
//! let meta = MetaData::new();
//! let cars = Table::new("cars", &meta, [
//!     Column::new("car_id", Integer).primary_key(),
//!     Column::new("make", Text),
//!     Column::new("year", Integer),
//!     Column::new("electric", Boolean),
//!     Column::new("tags", Json),
//! ]);
//! engine.create_all(&meta).await?;
//!
//! let fleet = vec![
//!     Car { make: "Honda Civic".into(), year: 2012, electric: false, tags: vec![] },
//!     Car { make: "Tesla Model 3".into(), year: 2019, electric: true, tags: vec!["ev".into(), "fast".into()] },
//! ];
//! let conn = engine.begin().await?;
//! conn.execute_many(cars.insert(), &fleet).await?; // one compiled INSERT, one row per struct
//! conn.commit().await?;
//!
//! let q = select((cars.c("make"), cars.c("year"), cars.c("electric"), cars.c("tags"))).order_by("year");
//! let back: Vec<Car> = conn.execute(&q).await?.deserialize()?;
//! assert_eq!(back, fleet);
//! let stored: (i64, String) = conn
//!     .execute(select((cars.c("electric"), cars.c("tags"))).where_(cars.c("make").eq("Tesla Model 3")))
//!     .await?
//!     .deserialize()?
//!     .remove(0);
//! assert_eq!(stored, (1, r#"["ev","fast"]"#.to_owned()));
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Types: Rust, SQLite, SQLAlchemy
//!
//! | column type | DDL | SQLite stores | SQLAlchemy type | Rust values (`ToSql` / `FromSql`, serde) |
//! |---|---|---|---|---|
//! | [`Integer`](types::Integer), [`BigInteger`](types::BigInteger), [`SmallInteger`](types::SmallInteger) | `INTEGER`, `BIGINT`, `SMALLINT` | integer | `Integer`, `BigInteger`, `SmallInteger` | `i64`, `i32`, `i16`, `i8`, `u8`..`u32`, `u64`/`usize` up to `i64::MAX` |
//! | [`Float`](types::Float), [`Numeric`](types::Numeric) | `FLOAT`, `NUMERIC` | real | `Float`, `Numeric` | `f64`, `f32`; `rust_decimal::Decimal` for `Numeric` (feature `rust_decimal`) |
//! | [`Text`](types::Text), [`Varchar`](types::Varchar) | `TEXT`, `VARCHAR(n)` | text | `Text`/`String`, `String(n)` | `String`, `&str` |
//! | [`Blob`](types::Blob) | `BLOB` | blob | `LargeBinary` | `Vec<u8>`, `&[u8]` |
//! | [`Boolean`](types::Boolean) | `BOOLEAN` | integer 0 or 1 | `Boolean` | `bool` |
//! | [`Date`](types::Date) | `DATE` | text `YYYY-MM-DD` | `Date` | `String` ([`types::date_text`]); `chrono::NaiveDate`, `time::Date` (features `chrono`, `time`) |
//! | [`Time`](types::Time) | `TIME` | text `HH:MM:SS.ffffff` | `Time` | `String`; `chrono::NaiveTime`, `time::Time` |
//! | [`DateTime`](types::DateTime) | `DATETIME` | text `YYYY-MM-DD HH:MM:SS.ffffff` | `DateTime` | `String` ([`types::datetime_text`], [`types::parse_datetime_text`]); `chrono::NaiveDateTime`, `time::PrimitiveDateTime`, ... |
//! | [`Uuid`](types::Uuid) | `CHAR(32)` | text, 32 hex digits | `Uuid` | `String`; `uuid::Uuid` (feature `uuid`) |
//! | [`Json`](types::Json) | `JSON` | JSON text | `JSON` | `serde_json::Value`, [`json`](expr::json)`(&v)`; serde fields that are lists, maps or structs |
//! | any | | NULL | `None` | `Option<T>`, [`null()`](expr::null) |
//!
//! Any value can be read as a [`Value`](asqlite::Value). `cast(x, ty)` writes `CAST(x AS <DDL>)`, except that a
//! cast to `Date`, `DateTime`, `Time` or `Json` is a cast to `TEXT` (what they are stored as: SQLite would read
//! `DATE` as NUMERIC and turn `'2012-06-01'` into 2012).
//!
//! ## Value types
//!
//! The features `chrono`, `time`, `uuid`, `serde_json` and `rust_decimal` turn on the driver's features of the
//! same names: columns of type [`DateTime`](types::DateTime), [`Date`](types::Date), [`Time`](types::Time),
//! [`Uuid`](types::Uuid), [`Json`](types::Json) and [`Numeric`](types::Numeric) then bind those crates' values
//! (in `named_params!`, `lit`, comparisons) and decode them (`row.get::<NaiveDateTime>("made_at")`), stored as
//! SQLAlchemy stores them; see [`types`] for the table. JSON columns have SQLite's operators:
//! [`Expr::json_get`](expr::Expr::json_get) (`->`), [`Expr::json_get_value`](expr::Expr::json_get_value) (`->>`)
//! and [`func::json_extract`](expr::func::json_extract). In serde structs, a `Vec<u8>` field is a BLOB both ways, a
//! `Json<T>` field is JSON text, and [`serde_sql`] stores a date, UUID or decimal field exactly as `ToSql` does.
//!
//! ## Engine URLs and connection setup
//!
//! `create_async_engine` takes SQLAlchemy's URLs and options (see [`url`]): `?mode=ro`, `?timeout=5`,
//! `?foreign_keys=off` (the bundled SQLite turns them on), `?journal_mode=delete` (WAL by default; the rollback
//! modes have no reader connections), and `uri=true` for a SQLite URI path (`sqlite:///file:app.db?mode=ro&uri=true`).
//! An option it does not know is an error that lists the ones it does. For pragmas and `on_connect` hooks on every
//! connection, open the pool with `asqlite::Pool::builder()` and wrap it with [`Engine::from_pool`].
//!
//! ## Migrations
//!
//! [`migrate::Migrator`] holds versioned migrations (SQL text or closures on the blocking connection, written in
//! code, embedded, or read from a directory of `NNNN_name.sql` files) and [`Engine::migrate`] applies the pending
//! ones, each in its own transaction, recording version, name, checksum and time; it refuses an edited applied
//! migration, a database newer than the program, and gaps or duplicates, and two processes migrating at once apply
//! each migration once:
//!
//! ```
//! use asqlite_query::migrate::{Migration, Migrator};
//! # use asqlite_query::prelude::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), asqlite_query::Error> {
//! let engine = create_async_engine("sqlite://?foreign_keys=off").await?;
//! let m = Migrator::new([Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)")]);
//! engine.migrate(&m).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod cache;
pub mod compile;
mod ddl;
pub mod delete;
pub mod engine;
mod error;
pub mod expr;
pub mod insert;
pub mod migrate;
pub mod prelude;
mod reflect;
pub mod result;
pub mod schema;
pub mod select;
mod serde_params;
mod serde_rows;
pub mod serde_sql;
mod sync_conn;
pub mod text;
pub mod types;
pub mod update;
pub mod url;

/// A value bound as JSON text and read by parsing it: the driver's `asqlite::types::Json` (feature `serde_json`).
/// Not to be confused with [`types::Json`], the column type.
#[cfg(feature = "serde_json")]
pub use asqlite::types::Json;
pub use cache::{CacheStats, StatementCache};
pub use compile::{Compiled, Executable, Slot};
pub use ddl::has_table;
pub use engine::{create_async_engine, AsyncConnection, Engine, NestedTransaction};
pub use error::{Error, Result};
pub use result::QueryResult;
pub use schema::{Alias, Column, Constraint, ForeignKey, Index, MetaData, ReferentialAction, Table};
pub use serde_params::{to_params, ParamSet};
pub use serde_rows::{from_row, from_row_ref};
pub use sync_conn::SyncConnection;
