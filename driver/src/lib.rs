//! # asqlite
//!
//! Async SQLite for Rust, built on the SQLite C library.
//!
//! ```
//! use asqlite::{blocking::Connection, params, named_params};
//!
//! # fn main() -> asqlite::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.db");
//! let conn = Connection::open(&path)?; // created if missing
//! conn.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER)")?;
//! let n = conn.execute_many(
//!     "INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)",
//!     vec![params!["Honda Civic", 2012, 20_000], params!["Toyota Prius", 2020, 10_000]],
//! )?;
//! assert_eq!(n, 2);
//! let rows = conn.query("SELECT * FROM cars WHERE mileage > :m", named_params! {":m" => 15_000})?;
//! assert_eq!(rows.columns(), ["car_id", "make", "year", "mileage"]);
//! let make: String = rows.iter().next().unwrap().get("make")?;
//! assert_eq!(make, "Honda Civic");
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod blocking;
mod client;
mod connection;
mod error;
mod ffi;
mod params;
mod pool;
mod stream;
mod transaction;
mod value;
mod worker;

pub use blocking::{Done, Row, RowRef, Rows, TransactionBehavior};
pub use connection::Connection;
pub use error::{Error, ErrorKind, Result};
pub use ffi::sqlite_version;
pub use params::Params;
pub use pool::{Pool, PoolBuilder, PoolStats, Synchronous};
pub use stream::RowStream;
pub use transaction::{Savepoint, Transaction};
pub use value::{FromSql, FromSqlError, ToSql, Type, Value, ValueRef};
