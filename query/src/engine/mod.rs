//! The async [`Engine`] over an `asqlite::Pool`, and its connections. With the feature `postgres`, the same
//! engine runs on PostgreSQL behind the backend seam (see its module `postgres` for what differs there).
//!
//! `create_async_engine(url)` opens a pool (one writer and N readers under WAL, one connection in memory) and a
//! compiled-statement cache shared by every connection. [`Engine::connect`] gives a commit-as-you-go
//! [`AsyncConnection`]: reads run on the pool's readers until the first write, which begins a transaction on the
//! writer that everything then goes through until `commit()` / `rollback()`; dropping the connection rolls it
//! back. [`Engine::begin`] gives a connection with its transaction already begun, and
//! [`Engine::transaction`] runs a closure in one, committing on `Ok` and rolling back on `Err`.
//!
//! The examples run on two tables: `owners` (1 Ann, 2 Bob, 3 Cy) and `cars` (1 Honda Civic 2012 of Ann, 2 Toyota
//! Prius 2020 of Bob, 3 Tesla Model 3 2019 of Ann, 4 Ford T 1920 of nobody), with `cars.owner_id` a foreign key to
//! `owners.id` (the setup is hidden; the first example of the crate docs shows one in full).
//!
//! ## Streams
//!
//! `stream` yields the rows of a query one at a time, in bounded chunks: memory stays flat however many rows.
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
//! use futures::StreamExt;
//!
//! let mut rows = conn.stream(select(cars.c("make")).where_(cars.c("year").gt(2000)).order_by("year")).await?;
//! let mut makes = Vec::new();
//! while let Some(row) = rows.next().await {
//!     makes.push(row?.get::<String>("make")?);
//! }
//! assert_eq!(makes, ["Honda Civic", "Tesla Model 3", "Toyota Prius"]);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! ## Transactions and savepoints
//!
//! `begin()` gives a connection in a transaction (`BEGIN IMMEDIATE`): `commit()` keeps its writes, `rollback()` or
//! dropping it undoes them. `begin_nested()` opens a savepoint inside it, undone alone by its own `rollback()`.
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
//! let conn = engine.begin().await?;
//! conn.execute(cars.insert().value("make", "Kia").value("year", 2021)).await?;
//! let nested = conn.begin_nested().await?;
//! conn.execute(cars.delete().where_(cars.c("year").lt(2000))).await?;
//! nested.rollback().await?; // the delete is undone, the insert stays
//! conn.commit().await?;
//!
//! let conn = engine.begin().await?;
//! conn.execute(cars.delete()).await?;
//! drop(conn); // rolled back
//!
//! let conn = engine.connect().await?;
//! let n: i64 = conn.scalar(select(func.count()).select_from(&cars)).await?;
//! assert_eq!(n, 5);
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```

#[cfg(feature = "arrow")]
mod arrow;
mod connection;
mod many;
#[cfg(feature = "postgres")]
pub mod postgres;
mod savepoint;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use asqlite::Pool;

pub use self::connection::{AsyncConnection, ResultStream};
pub use self::savepoint::NestedTransaction;
use crate::cache::{CacheStats, StatementCache, DEFAULT_CAPACITY};
use crate::error::{Error, Result};
use crate::schema::MetaData;
use crate::url::EngineUrl;

/// The database an engine reaches: the seam between the engine's connections and a driver.
pub(crate) enum Backend {
    /// The asqlite pool.
    Sqlite(Pool),
    /// A pool of tokio-postgres connections.
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgBackend),
}

pub(crate) struct EngineInner {
    pub(crate) backend: Backend,
    pub(crate) cache: StatementCache,
    pub(crate) url: Option<EngineUrl>,
    pub(crate) disposed: AtomicBool,
}

/// An async engine: a pool of SQLite connections (or, with the feature `postgres`, of PostgreSQL connections) and
/// a cache of compiled statements. A cheap handle: `Clone + Send + Sync`.
///
/// An in-memory engine (`sqlite://`) has a single connection: while one of its connections holds a transaction,
/// the others wait for it to end (as with SQLAlchemy's single-connection pools).
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("url", &self.inner.url)
            .field("cache", &self.inner.cache.stats())
            .field("disposed", &self.inner.disposed.load(Ordering::Relaxed))
            .finish()
    }
}

/// Open an engine from a URL: `sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite://` (in memory), also
/// spelled `sqlite+aiosqlite://...`, with options such as `?mode=ro`, `?foreign_keys=off&journal_mode=wal` or
/// `uri=true` (see [`crate::url`]). With the feature `postgres`, `postgresql://user:pass@host:port/db` (also
/// `postgres://`, `postgresql+asyncpg://`) opens the same engine on PostgreSQL (see the `postgres` module, with that feature).
///
/// # Cancel safety
///
/// Dropping the future before it resolves closes whatever it had opened.
pub async fn create_async_engine(url: &str) -> Result<Engine> {
    if is_postgres_url(url) {
        #[cfg(feature = "postgres")]
        return postgres::create_engine(url).await;
        #[cfg(not(feature = "postgres"))]
        return Err(Error::Url(format!(
            "{:?}: PostgreSQL engines need asqlite-query's `postgres` feature",
            redact_url(url)
        )));
    }
    let parsed = EngineUrl::parse(url)?;
    let mut builder = Pool::builder()
        .read_only(parsed.read_only)
        .create(parsed.create)
        .uri(parsed.uri)
        .process_exclusive(parsed.process_exclusive);
    if let Some(n) = parsed.readers {
        builder = builder.readers(n);
    }
    if let Some(on) = parsed.foreign_keys {
        builder = builder.foreign_keys(on);
    }
    if let Some(mode) = parsed.journal_mode {
        builder = builder.journal_mode(mode);
    }
    if let Some(t) = parsed.busy_timeout {
        builder = builder.busy_timeout(t);
    }
    let pool = match &parsed.path {
        Some(p) => builder.open(p).await?,
        None => builder.open(":memory:").await?,
    };
    let cache = StatementCache::new(parsed.cache_size.unwrap_or(DEFAULT_CAPACITY));
    Ok(Engine {
        inner: Arc::new(EngineInner {
            backend: Backend::Sqlite(pool),
            cache,
            url: Some(parsed),
            disposed: AtomicBool::new(false),
        }),
    })
}

/// Whether a URL names PostgreSQL: `postgresql://`, `postgres://`, or either with a driver (`+asyncpg`).
pub(crate) fn is_postgres_url(url: &str) -> bool {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    let dialect = scheme.split_once('+').map_or(scheme, |(d, _)| d);
    dialect.eq_ignore_ascii_case("postgresql") || dialect.eq_ignore_ascii_case("postgres")
}

/// A URL with its password replaced by `***`, for error messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Engine {
    /// An engine over a pool you opened yourself.
    pub fn from_pool(pool: Pool) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                backend: Backend::Sqlite(pool),
                cache: StatementCache::default(),
                url: None,
                disposed: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.inner.disposed.load(Ordering::Acquire) {
            Err(Error::Closed("the engine has been disposed".into()))
        } else {
            Ok(())
        }
    }

    /// A commit-as-you-go connection: reads run on the pool's readers; the first write begins a transaction,
    /// which `commit()` commits and dropping the connection rolls back.
    ///
    /// # Cancel safety
    ///
    /// Nothing is held until it resolves.
    pub async fn connect(&self) -> Result<AsyncConnection> {
        self.check_open()?;
        Ok(AsyncConnection::new(self.clone()))
    }

    /// A connection whose transaction has begun (`BEGIN IMMEDIATE` on the writer). Commit it with `commit()`;
    /// dropped without, it rolls back.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the transaction began, it is rolled back.
    pub async fn begin(&self) -> Result<AsyncConnection> {
        self.check_open()?;
        let conn = AsyncConnection::new(self.clone());
        conn.begin().await?;
        Ok(conn)
    }

    /// Run `f` in a transaction: commit if it returns `Ok`, roll back if it returns `Err` (or panics, or is
    /// dropped).
    ///
    /// ```
    /// # use asqlite_query::prelude::*;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), asqlite_query::Error> {
    /// let engine = create_async_engine("sqlite://").await?;
    /// let n: i64 = engine
    ///     .transaction(|conn| async move {
    ///         conn.execute(text("CREATE TABLE t (x INTEGER)")).await?;
    ///         conn.execute(text("INSERT INTO t VALUES (1), (2)")).await?;
    ///         conn.scalar(text("SELECT count(*) FROM t")).await
    ///     })
    ///     .await?;
    /// assert_eq!(n, 2);
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropped before it finishes, the transaction rolls back.
    pub async fn transaction<F, Fut, T, E>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(AsyncConnection) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        let conn = self.begin().await?;
        match f(conn.clone()).await {
            Ok(v) => {
                conn.commit().await?;
                Ok(v)
            }
            Err(e) => {
                // The closure's error wins over a failed rollback.
                let _ = conn.rollback().await;
                Err(e)
            }
        }
    }

    /// Create every missing table of `meta`, in a transaction.
    ///
    /// # Cancel safety
    ///
    /// As [`transaction`](Engine::transaction).
    pub async fn create_all(&self, meta: &MetaData) -> Result<()> {
        let m = meta.clone();
        self.transaction(|c| async move { c.run_sync(move |conn| m.create_all(conn)).await }).await
    }

    /// Drop every existing table of `meta`, in a transaction.
    ///
    /// # Cancel safety
    ///
    /// As [`transaction`](Engine::transaction).
    pub async fn drop_all(&self, meta: &MetaData) -> Result<()> {
        let m = meta.clone();
        self.transaction(|c| async move { c.run_sync(move |conn| m.drop_all(conn)).await }).await
    }

    /// `CREATE TABLE` for one table (and its indexes) unless it exists; returns whether it was created.
    ///
    /// # Cancel safety
    ///
    /// As [`transaction`](Engine::transaction).
    pub async fn create_table(&self, table: &crate::schema::Table) -> Result<bool> {
        let t = table.clone();
        self.transaction(|c| async move { c.run_sync(move |conn| t.create_if_missing(conn)).await }).await
    }

    /// `DROP TABLE` for one table if it exists; returns whether it was dropped.
    ///
    /// # Cancel safety
    ///
    /// As [`transaction`](Engine::transaction).
    pub async fn drop_table(&self, table: &crate::schema::Table) -> Result<bool> {
        let t = table.clone();
        self.transaction(|c| async move { c.run_sync(move |conn| t.drop_if_exists(conn)).await }).await
    }

    /// Read every table of the database into `meta`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing but the reflection.
    pub async fn reflect(&self, meta: &MetaData) -> Result<()> {
        self.check_open()?;
        let m = meta.clone();
        match &self.inner.backend {
            Backend::Sqlite(pool) => pool.read(move |c| Ok(m.reflect(c))).await?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.reflect(m).await,
        }
    }

    /// Close the pool. Every later use of this engine, its clones and their connections is an error.
    ///
    /// Like the driver's `Pool::close`, it waits for open transactions to end: a connection from
    /// [`begin`](Self::begin) still alive must be committed, rolled back or dropped first (awaiting `dispose` while
    /// holding one, in the same task, never returns).
    ///
    /// # Cancel safety
    ///
    /// Once polled, the engine is disposed whether or not the future completes.
    pub async fn dispose(&self) -> Result<()> {
        self.inner.disposed.store(true, Ordering::Release);
        match &self.inner.backend {
            Backend::Sqlite(pool) => pool.close().await?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg.close(),
        }
        Ok(())
    }

    /// Whether [`dispose`](Engine::dispose) was called.
    pub fn is_disposed(&self) -> bool {
        self.inner.disposed.load(Ordering::Acquire)
    }

    /// Hits and misses of the compiled-statement cache.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// The driver's pool (its own statistics include the prepared-statement cache).
    ///
    /// # Panics
    ///
    /// On an engine of another database than SQLite (feature `postgres`): see [`sqlite_pool`](Engine::sqlite_pool).
    pub fn pool(&self) -> &Pool {
        match self.sqlite_pool() {
            Some(pool) => pool,
            None => panic!("Engine::pool(): this engine is on {}, not SQLite", self.dialect().name()),
        }
    }

    /// The driver's pool, if the engine is on SQLite.
    pub fn sqlite_pool(&self) -> Option<&Pool> {
        match &self.inner.backend {
            Backend::Sqlite(pool) => Some(pool),
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => None,
        }
    }

    /// The pool of a SQLite engine; an error on another (never reached: those calls go to their backend first).
    pub(crate) fn sqlite(&self) -> Result<&Pool> {
        self.sqlite_pool().ok_or_else(|| Error::Closed("internal error: a SQLite call reached another backend".into()))
    }

    /// The dialect the engine compiles statements for.
    pub fn dialect(&self) -> &'static dyn crate::compile::Dialect {
        self.inner.cache.dialect()
    }

    /// The URL the engine was made from, if any.
    pub fn url(&self) -> Option<&EngineUrl> {
        self.inner.url.as_ref()
    }
}
