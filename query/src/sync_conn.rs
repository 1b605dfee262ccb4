//! [`SyncConnection`]: the synchronous connection that DDL, reflection and `run_sync` closures run on, whichever
//! database the engine is on.
//!
//! On SQLite it is the driver's `asqlite::blocking::Connection` (the closure runs on the pool's writer thread). On
//! PostgreSQL (feature `postgres`) it is a connection whose calls block the closure's own thread, a blocking
//! thread of the runtime, until the server answers; the runtime's worker threads are never blocked. So
//! `conn.run_sync(move |c| meta.create_all(c))` runs unchanged on both, and so do closures that run statements:
//!
//! ```
//! use asqlite_query::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let engine = create_async_engine("sqlite://").await?;
//! let meta = MetaData::new();
//! let cars = Table::new("cars", &meta, [Column::new("car_id", Integer).primary_key(), Column::new("make", Text)]);
//! let conn = engine.begin().await?;
//! let t = cars.clone();
//! let n: i64 = conn
//!     .run_sync(move |c| {
//!         meta.create_all(c)?;
//!         c.execute_stmt(t.insert().value("make", "Honda Civic"))?;
//!         c.execute_stmt(select(func::count_star()).select_from(&t))?.scalar()
//!     })
//!     .await?;
//! assert_eq!(n, 1);
//! # Ok(()) }
//! ```

use asqlite::{blocking, params, Params, Rows, Value};

use crate::compile::{compile_stmt, Dialect, Executable, SQLITE};
use crate::error::Result;
use crate::result::QueryResult;
use crate::schema::{MetaData, Table};
use crate::serde_params::ParamSet;

/// A synchronous connection: SQLite's `asqlite::blocking::Connection`, or a PostgreSQL connection that blocks
/// its thread (inside `run_sync`). DDL ([`MetaData::create_all`], [`Table::create`]) and reflection
/// ([`MetaData::reflect`]) take any of them.
///
/// Raw SQL given to it is the database's own: `?1` / `:name` on SQLite, `$1` on PostgreSQL. Statements built with
/// this crate run on either through [`execute_stmt`](trait.SyncConnection.html#method.execute_stmt).
pub trait SyncConnection {
    /// The dialect statements are compiled for on this connection.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Run SQL text of one or more statements, without parameters.
    fn execute_batch(&self, sql: &str) -> Result<()>;

    /// Run one statement with positional values; the number of rows it changed.
    fn execute_values(&self, sql: &str, values: Vec<Value>) -> Result<u64>;

    /// Run one query with positional values; its rows.
    fn query_values(&self, sql: &str, values: Vec<Value>) -> Result<Rows>;

    /// Whether a table of this name exists (in the main database; in the current schema on PostgreSQL).
    fn has_table(&self, name: &str) -> Result<bool>;

    /// The names of the user's tables, sorted.
    fn table_names(&self) -> Result<Vec<String>>;

    /// Read one table's columns, keys and indexes into `meta`.
    fn reflect_table(&self, meta: &MetaData, name: &str) -> Result<Table>;

    /// The driver's blocking SQLite connection, when this is one (for its whole API inside `run_sync`).
    fn as_sqlite(&mut self) -> Option<&mut blocking::Connection> {
        None
    }
}

impl dyn SyncConnection + '_ {
    /// Run a statement built with this crate (or `text(...)`), compiled for this connection's dialect.
    pub fn execute_stmt<S: Executable>(&self, stmt: S) -> Result<QueryResult> {
        self.execute_stmt_with(stmt, Params::none())
    }

    /// Run a statement with parameters for its `bindparam`s / `:name`s (or the row of an insert without values).
    pub fn execute_stmt_with<S: Executable, P: ParamSet>(&self, stmt: S, params: P) -> Result<QueryResult> {
        let params = params.into_params()?;
        let keys: Option<Vec<std::sync::Arc<str>>> = match stmt.as_stmt() {
            crate::compile::Stmt::Insert(i) if i.columns_from_params() => {
                Some(params.names().map(|n| std::sync::Arc::from(i.table().column_key(n))).collect())
            }
            _ => None,
        };
        let compiled = compile_stmt(stmt.as_stmt(), keys.as_deref(), self.dialect())?;
        let values = compiled.bind(&params)?;
        if compiled.returns_rows() {
            QueryResult::from_rows(&self.query_values(compiled.sql(), values)?)
        } else {
            let n = self.execute_values(compiled.sql(), values)?;
            Ok(QueryResult::from_done(n, 0))
        }
    }
}

impl SyncConnection for blocking::Connection {
    fn dialect(&self) -> &'static dyn Dialect {
        &SQLITE
    }

    fn execute_batch(&self, sql: &str) -> Result<()> {
        Ok(blocking::Connection::execute_batch(self, sql)?)
    }

    fn execute_values(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        Ok(self.execute(sql, values)?.rows_affected())
    }

    fn query_values(&self, sql: &str, values: Vec<Value>) -> Result<Rows> {
        Ok(self.query(sql, values)?)
    }

    fn has_table(&self, name: &str) -> Result<bool> {
        Ok(self.query_opt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", params![name])?.is_some())
    }

    fn table_names(&self) -> Result<Vec<String>> {
        Ok(self.query_map(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
            params![],
            |r| r.get::<String>(0),
        )?)
    }

    fn reflect_table(&self, meta: &MetaData, name: &str) -> Result<Table> {
        crate::reflect::reflect_sqlite_table(meta, self, name)
    }

    fn as_sqlite(&mut self) -> Option<&mut blocking::Connection> {
        Some(self)
    }
}
