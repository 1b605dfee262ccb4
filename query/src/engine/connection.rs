//! [`AsyncConnection`]: statements on an engine, commit-as-you-go, and nested savepoints.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use asqlite::{FromSql, PackedRows, PackedStream, Params, Row, RowStream, Transaction};
use futures::lock::{Mutex as AsyncMutex, MutexGuard};
use futures::stream::{Map, Stream, StreamExt};

use super::many::{Packer, CHUNK};
use super::Engine;
use crate::compile::{Compiled, Executable, Shape, Stmt};
use crate::error::{Error, Result};
use crate::result::QueryResult;
use crate::schema::lock;
use crate::serde_params::ParamSet;
use crate::sync_conn::SyncConnection;

/// A statement compiled and bound for [`AsyncConnection::execute_with`], with its result's Arrow types.
struct Prepared {
    shape: Arc<Shape>,
    values: Params,
    /// Whether the shape has the Arrow fields of the result (feature `arrow`): the result then keeps the shape.
    typed: bool,
}

/// The rows of a streamed query: a `futures::Stream` of `Result<Row>` of this crate.
pub struct ResultStream {
    inner: StreamInner,
}

/// The driver's row stream, its errors made this crate's.
type SqliteRows = Map<RowStream, fn(asqlite::Result<Row>) -> Result<Row>>;

// The SQLite variant is the large one and the common one: boxing it would cost every SQLite stream an allocation.
#[allow(clippy::large_enum_variant)]
enum StreamInner {
    Sqlite(SqliteRows),
    #[cfg(feature = "postgres")]
    Postgres(Pin<Box<dyn Stream<Item = Result<Row>> + Send>>),
}

impl ResultStream {
    #[cfg(feature = "postgres")]
    pub(crate) fn boxed(s: Pin<Box<dyn Stream<Item = Result<Row>> + Send>>) -> Self {
        ResultStream { inner: StreamInner::Postgres(s) }
    }
}

impl Stream for ResultStream {
    type Item = Result<Row>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.get_mut().inner {
            StreamInner::Sqlite(s) => s.poll_next_unpin(cx),
            #[cfg(feature = "postgres")]
            StreamInner::Postgres(s) => s.as_mut().poll_next(cx),
        }
    }
}

impl std::fmt::Debug for ResultStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResultStream")
    }
}

fn map_row(r: asqlite::Result<Row>) -> Result<Row> {
    r.map_err(Error::from)
}

pub(crate) struct ConnInner {
    pub(super) engine: Engine,
    pub(super) tx: AsyncMutex<Option<Transaction>>,
    pub(super) in_tx: AtomicBool,
    /// Counts the transactions this connection ended: a savepoint belongs to the transaction it opened in.
    pub(super) generation: AtomicU64,
    /// Numbers savepoints so that every name is used once per connection.
    pub(super) savepoints: AtomicU64,
    /// Savepoint rollbacks queued by dropped [`NestedTransaction`]s (with their transaction's generation), run
    /// before the next statement.
    pub(super) pending: Mutex<Vec<(u64, String)>>,
    /// The connection's state on a PostgreSQL engine (which has no asqlite transaction).
    #[cfg(feature = "postgres")]
    pub(super) pg: Option<super::postgres::PgConn>,
}

/// A connection of an [`Engine`]: SQLAlchemy's `AsyncConnection`.
///
/// Commit-as-you-go: reads run on the pool's readers until the first write (or `run_sync`, or
/// `begin_nested`), which begins a transaction on the writer; from then on every statement runs in it, until
/// [`commit`](AsyncConnection::commit) or [`rollback`](AsyncConnection::rollback). Dropping the last handle
/// rolls an open transaction back. A cheap handle: clones share the connection and its transaction.
///
/// Per-connection state lives on the pool's writer (see the driver's docs on it): outside a transaction, a read
/// that uses a temp table, an attached database, `last_insert_rowid()`/`changes()` or a write setting such as
/// `PRAGMA foreign_keys` runs on the writer, not a reader, and `text("PRAGMA foreign_keys = OFF")` takes effect
/// for the writes that follow (on every connection of the engine, as the pool has one writer). Inside a
/// transaction that pragma is an error, since SQLite would ignore it; a setting that governs reads
/// (`case_sensitive_like`, `cache_size`, ...) is an error anywhere, as it belongs in the pool's setup.
#[derive(Clone)]
pub struct AsyncConnection {
    pub(super) inner: Arc<ConnInner>,
}

impl std::fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncConnection").field("in_transaction", &self.in_transaction()).finish()
    }
}

thread_local! {
    /// The connection (its `ConnInner`'s address) whose [`AsyncConnection::run_sync`] closure runs on this thread now.
    static RUNNING_SYNC: Cell<usize> = const { Cell::new(0) };
}

/// Marks the thread as running a `run_sync` closure of one connection while it lives.
struct RunningSync(usize);

impl RunningSync {
    fn enter(conn: usize) -> Self {
        RunningSync(RUNNING_SYNC.with(|c| c.replace(conn)))
    }
}

impl Drop for RunningSync {
    fn drop(&mut self) {
        RUNNING_SYNC.with(|c| c.set(self.0));
    }
}

/// Clears `in_tx` when dropped: at the end of [`AsyncConnection::end`], or when its future is dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

enum TextOutcome {
    Rows(PackedRows),
    Done(u64, i64),
}

/// What became of `text()` offered as a read outside a transaction.
enum TextRead {
    Rows(PackedRows),
    /// It writes: it runs in a transaction.
    Writes,
    /// A reader could not prepare it: the writer may.
    NotHere,
}

impl AsyncConnection {
    pub(crate) fn new(engine: Engine) -> Self {
        AsyncConnection {
            inner: Arc::new(ConnInner {
                tx: AsyncMutex::new(None),
                in_tx: AtomicBool::new(false),
                generation: AtomicU64::new(0),
                savepoints: AtomicU64::new(0),
                pending: Mutex::new(Vec::new()),
                #[cfg(feature = "postgres")]
                pg: super::postgres::PgConn::for_engine(&engine),
                engine,
            }),
        }
    }

    /// The PostgreSQL side of this connection, on a PostgreSQL engine.
    #[cfg(feature = "postgres")]
    pub(super) fn pg(&self) -> Option<&super::postgres::PgConn> {
        self.inner.pg.as_ref()
    }

    /// The engine this connection belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.inner.in_tx.load(Ordering::Acquire)
    }

    /// Lock the connection's state, failing if the engine was disposed, and run queued savepoint rollbacks.
    pub(super) async fn state(&self) -> Result<MutexGuard<'_, Option<Transaction>>> {
        self.inner.engine.check_open()?;
        if RUNNING_SYNC.with(Cell::get) == Arc::as_ptr(&self.inner) as usize {
            // A `run_sync` closure of this connection blocks on it again: it holds the lock this would wait for.
            return Err(Error::Driver(asqlite::Error::new(
                asqlite::ErrorKind::Misuse,
                "a call on a connection was made from inside its own run_sync closure, which holds the connection \
                 until it returns, so it would wait for itself forever; use the blocking connection the closure is \
                 given",
            )));
        }
        let guard = self.inner.tx.lock().await;
        let pending = std::mem::take(&mut *lock(&self.inner.pending));
        if let Some(tx) = guard.as_ref() {
            let current = self.inner.generation.load(Ordering::Acquire);
            // A savepoint of a transaction that has ended went with it.
            for (_, sql) in pending.into_iter().filter(|(g, _)| *g == current) {
                tx.execute_batch(&sql).await?;
            }
        }
        Ok(guard)
    }

    pub(super) async fn ensure_tx<'g>(
        &self,
        guard: &'g mut MutexGuard<'_, Option<Transaction>>,
    ) -> Result<&'g Transaction> {
        if guard.is_none() {
            let tx = self.inner.engine.sqlite()?.begin().await?;
            **guard = Some(tx);
            self.inner.in_tx.store(true, Ordering::Release);
        }
        match guard.as_ref() {
            Some(tx) => Ok(tx),
            None => Err(Error::Closed("the transaction could not begin".into())),
        }
    }

    /// Begin a transaction now (`BEGIN IMMEDIATE`); an error if one is open.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the transaction began, it stays open on this connection.
    pub async fn begin(&self) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            return pg.begin(self).await;
        }
        let mut guard = self.state().await?;
        if guard.is_some() {
            return Err(Error::Closed("a transaction is already open on this connection".into()));
        }
        self.ensure_tx(&mut guard).await?;
        Ok(())
    }

    async fn end(&self, commit: bool) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            return pg.end(self, commit).await;
        }
        let mut guard = self.state().await?;
        if guard.is_some() {
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
        }
        // Cleared once the transaction has ended (committed, or rolled back however the end went), so a read
        // that skips the lock (see `run`) never runs outside a transaction whose writes are not yet committed; and
        // cleared too if this future is dropped once the transaction is taken (it is then ended on the worker, and
        // none is left open here). Dropped before the lock is released.
        let _clear = ClearOnDrop(&self.inner.in_tx);
        let out = match guard.take() {
            Some(tx) if commit => tx.commit().await,
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        };
        Ok(out?)
    }

    /// Commit the open transaction (if any). The connection stays usable; the next write begins a new one.
    ///
    /// # Cancel safety
    ///
    /// Dropped before the commit is taken, the transaction rolls back; after, it may or may not have committed.
    pub async fn commit(&self) -> Result<()> {
        self.end(true).await
    }

    /// Roll back the open transaction (if any).
    ///
    /// # Cancel safety
    ///
    /// The transaction is rolled back whether or not the future completes.
    pub async fn rollback(&self) -> Result<()> {
        self.end(false).await
    }

    /// Compile through the engine's cache and check the parameters against the statement.
    pub(super) fn prepare<'s>(&self, stmt: Stmt<'s>, params: &Params) -> Result<Cow<'s, Compiled>> {
        let compiled = self.compile(stmt, params)?;
        compiled.shape.check_params(params)?;
        Ok(compiled)
    }

    /// Compile through the engine's cache and bind the parameters, checked against the statement.
    pub(super) fn prepare_bound(&self, stmt: Stmt<'_>, params: &Params) -> Result<(Arc<Shape>, Params)> {
        let compiled = self.compile(stmt, params)?;
        let values = compiled.shape.check_and_bind(&compiled.literals, params)?;
        let shape = match compiled {
            Cow::Borrowed(c) => Arc::clone(&c.shape),
            Cow::Owned(c) => c.shape,
        };
        Ok((shape, values))
    }

    /// Compile through the engine's cache (an insert without values takes its columns from `params`).
    fn compile<'s>(&self, stmt: Stmt<'s>, params: &Params) -> Result<Cow<'s, Compiled>> {
        if let Some(e) = params.error() {
            return Err(Error::Params(e.to_string()));
        }
        let keys: Option<Vec<Arc<str>>> = match stmt {
            Stmt::Insert(i) if i.columns_from_params() => {
                if !params.is_empty() && !params.is_named() {
                    return Err(Error::params("an insert without values takes named parameters (column => value)"));
                }
                Some(params.names().map(|n| Arc::from(i.table().column_key(n))).collect())
            }
            _ => None,
        };
        self.inner.engine.inner.cache.compile(stmt, keys.as_deref())
    }

    /// Run a statement: a `select`, `insert`, `update`, `delete` (by value or by reference), a compiled statement
    /// or `text(...)`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before the statement starts, it does not run; dropped while it runs, it is interrupted. A
    /// transaction it began stays open on the connection.
    ///
    /// The statement is compiled (or found in the engine's cache, which counts the hit then) when this is called,
    /// not when the future is first polled, and dropped: the future keeps the compiled statement only (a borrowed
    /// statement stays borrowed as long as the future lives, as its type names it). Errors of compiling and
    /// binding come out of the future all the same.
    #[inline(always)]
    pub fn execute<S: Executable>(&self, stmt: S) -> impl Future<Output = Result<QueryResult>> + Send + '_ {
        self.execute_with(stmt, Params::none())
    }

    /// Run a statement with parameters for its `bindparam`s / `:name`s (or, for an insert without values, the
    /// row to insert): `named_params!` or a reference to a `Serialize` struct.
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](AsyncConnection::execute).
    #[inline(always)]
    pub fn execute_with<S: Executable, P: ParamSet>(
        &self,
        stmt: S,
        params: P,
    ) -> impl Future<Output = Result<QueryResult>> + Send + '_ {
        // Compiled now, so that the future does not carry the statement (a select is a few hundred bytes, moved
        // with the future) and drops what it built before it starts.
        self.run_prepared(self.prepare_call(stmt, params))
    }

    /// Compile and bind a statement for `execute_with`, and drop it.
    ///
    /// Inlined into the caller with `execute_with` (always, as either is too large for the compiler to choose to):
    /// the caller then builds the future, some 900 bytes, where it keeps it. Returned from a call, it was copied
    /// out twice (`memcpy`, about 270 instructions a statement).
    #[inline(always)]
    fn prepare_call<S: Executable, P: ParamSet>(&self, stmt: S, params: P) -> Result<Prepared> {
        let params = params.into_params()?;
        let (shape, values) = self.prepare_bound(stmt.as_stmt(), &params)?;
        // The types of the result's columns, for `QueryResult::to_arrow`.
        #[cfg(feature = "arrow")]
        let typed = shape.typed_by(stmt.as_stmt());
        #[cfg(not(feature = "arrow"))]
        let typed = false;
        Ok(Prepared { shape, values, typed })
    }

    async fn run_prepared(&self, prepared: Result<Prepared>) -> Result<QueryResult> {
        let Prepared { shape, values, typed } = prepared?;
        let rows = if self.reads_on_readers(&shape) {
            // The common case, kept out of `run`: this future then holds the driver's query and little else,
            // where `run`'s (text, transactions) is several times its size, moved and set up on every call.
            self.inner.engine.check_open()?;
            self.inner.engine.sqlite()?.query_packed(&shape.sql, values).await?
        } else {
            let result = Box::pin(self.run(&shape, values)).await?;
            #[cfg(feature = "arrow")]
            let result = result.with_arrow_shape(typed.then_some(shape));
            #[cfg(not(feature = "arrow"))]
            let _ = typed;
            return Ok(result);
        };
        #[cfg(not(feature = "arrow"))]
        let _ = typed;
        Ok(QueryResult {
            rows,
            rows_affected: 0,
            last_insert_rowid: 0,
            #[cfg(feature = "arrow")]
            arrow_shape: typed.then_some(shape),
        })
    }

    /// Whether a statement of `shape` runs on the pool's readers as it is: a read, outside a transaction (savepoint
    /// rollbacks queued meanwhile belong to ended transactions and are dropped at the next locked call), on SQLite.
    fn reads_on_readers(&self, shape: &Shape) -> bool {
        #[cfg(feature = "postgres")]
        if self.pg().is_some() {
            return false;
        }
        shape.readonly && !self.inner.in_tx.load(Ordering::Acquire)
    }

    async fn run(&self, shape: &Shape, values: Params) -> Result<QueryResult> {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            return pg.run(self, shape, values).await;
        }
        let sql: &str = &shape.sql;
        let mut guard = self.state().await?;
        if guard.is_none() {
            let pool = self.inner.engine.sqlite()?;
            if shape.readonly {
                return Ok(QueryResult::from_packed(pool.query_packed(sql, values).await?));
            }
            if shape.is_text {
                // A read runs on a reader; one a reader cannot prepare (it uses a temp table, an attached database,
                // a write setting or the last write's rowid, which live on the writer, or it names a table the
                // reader cannot find) runs on the writer, still outside a transaction. A write begins one.
                let (s, v) = (shape.sql.clone(), values.clone());
                let mut read = pool
                    .read(move |c| match c.prepare_cached(&s) {
                        Ok(mut st) if st.readonly() => st.query_packed(v).map(TextRead::Rows),
                        Ok(_) => Ok(TextRead::Writes),
                        Err(_) => Ok(TextRead::NotHere),
                    })
                    .await?;
                if matches!(read, TextRead::NotHere) {
                    let (s, v) = (shape.sql.clone(), values.clone());
                    read = pool
                        .call(move |c| {
                            let mut st = c.prepare_cached(&s)?;
                            if st.readonly() {
                                st.query_packed(v).map(TextRead::Rows)
                            } else {
                                Ok(TextRead::Writes)
                            }
                        })
                        .await?;
                }
                if let TextRead::Rows(rows) = read {
                    return Ok(QueryResult::from_packed(rows));
                }
            }
        }
        let tx = self.ensure_tx(&mut guard).await?;
        if shape.is_text {
            let s = shape.sql.clone();
            let out = tx
                .call(move |c| {
                    let mut st = c.prepare_cached(&s)?;
                    if st.columns().is_empty() {
                        let d = st.execute(values)?;
                        Ok(TextOutcome::Done(d.rows_affected(), d.last_insert_rowid()))
                    } else {
                        st.query_packed(values).map(TextOutcome::Rows)
                    }
                })
                .await?;
            return Ok(match out {
                TextOutcome::Rows(r) => QueryResult::from_packed(r),
                TextOutcome::Done(n, id) => QueryResult::from_done(n, id),
            });
        }
        if shape.returns_rows {
            Ok(QueryResult::from_packed(tx.query_packed(sql, values).await?))
        } else {
            let d = tx.execute(sql, values).await?;
            Ok(QueryResult::from_done(d.rows_affected(), d.last_insert_rowid()))
        }
    }

    /// Run a statement once per parameter set, compiled once and run as one job on the writer, all or nothing.
    /// Every set must have the same keys (an insert without values takes its columns from them). A batch of more
    /// than 1024 sets streams to the writer in chunks: it inserts one while the next is packed, and a set that
    /// fails its check after that rolls back every set.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, nothing runs; dropped while it runs, it is interrupted and its rows rolled back.
    pub async fn execute_many<S, I>(&self, stmt: S, sets: I) -> Result<QueryResult>
    where
        S: Executable,
        I: IntoIterator,
        I::Item: ParamSet,
    {
        let mut sets = sets.into_iter().map(ParamSet::into_params);
        let Some(first) = sets.next().transpose()? else {
            return Ok(QueryResult::from_done(0, 0));
        };
        #[cfg(feature = "postgres")]
        if self.pg().is_some() {
            let sets: Vec<Params> = std::iter::once(Ok(first)).chain(sets).collect::<Result<_>>()?;
            return self.execute_many_sets(stmt, &sets).await;
        }
        // Each set is checked and its values packed as it comes (nothing per row crosses to the worker, or is freed
        // there). A batch that fits in one chunk is checked whole before anything runs; a larger one streams to the
        // writer, which inserts each chunk while the next is packed, and a set that fails its check later rolls back
        // every set (the writer's job ends without its last chunk).
        let compiled = self.prepare(stmt.as_stmt(), &first)?;
        if compiled.returns_rows() {
            return Err(Error::compile("execute_many cannot return rows: run RETURNING statements with execute"));
        }
        let mut packer = Packer::new(&compiled, first)?;
        let mut more = true;
        while more && packer.len() < CHUNK {
            match sets.next() {
                Some(p) => packer.push(p?)?,
                None => more = false,
            }
        }
        let mut guard = self.state().await?;
        let tx = self.ensure_tx(&mut guard).await?;
        if !more {
            let n = tx.execute_many_packed(compiled.sql(), packer.take()).await?;
            return Ok(QueryResult::from_done(n, 0));
        }
        let (stream, receiver) = PackedStream::channel();
        let mut run = std::pin::pin!(tx.execute_many_streamed(compiled.sql(), receiver));
        // Polled once, the job is sent: the writer starts on the first chunk while the rest is packed.
        let mut ended = None;
        futures::future::poll_fn(|cx| {
            if let Poll::Ready(r) = run.as_mut().poll(cx) {
                ended = Some(r);
            }
            Poll::Ready(())
        })
        .await;
        let mut sending = stream.send(packer.take());
        let checked = sets.try_for_each(|p| {
            packer.push(p?)?;
            if packer.len() >= CHUNK {
                let chunk = packer.take();
                // Once the job has ended (it failed), the rest is only checked.
                sending = sending && stream.send(chunk);
            }
            Ok::<(), Error>(())
        });
        if let Err(e) = checked {
            // Without its end, the job rolls back every set.
            drop(stream);
            if ended.is_none() {
                let _ = run.await;
            }
            return Err(e);
        }
        stream.send(packer.take());
        stream.finish();
        let n = match ended {
            Some(r) => r?,
            None => run.await?,
        };
        Ok(QueryResult::from_done(n, 0))
    }

    /// `execute_many` on PostgreSQL: the sets checked, then run by the backend.
    #[cfg(feature = "postgres")]
    async fn execute_many_sets<S: Executable>(&self, stmt: S, sets: &[Params]) -> Result<QueryResult> {
        let Some(first) = sets.first() else {
            return Ok(QueryResult::from_done(0, 0));
        };
        let mut first_keys = None;
        for (i, p) in sets.iter().enumerate().skip(1) {
            super::many::check_keys(first, p, i, &mut first_keys)?;
        }
        let compiled = self.prepare(stmt.as_stmt(), first)?;
        if compiled.returns_rows() {
            return Err(Error::compile("execute_many cannot return rows: run RETURNING statements with execute"));
        }
        if let Some(e) = sets.iter().find_map(Params::error) {
            return Err(Error::Params(e.to_string()));
        }
        match self.pg() {
            Some(pg) => pg.execute_many(self, &compiled, sets).await,
            None => Err(Error::Closed("not a PostgreSQL connection".into())),
        }
    }

    /// The first column of the first row as `T` (no rows reads as NULL, so use `Option<T>` when there may be
    /// none).
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](AsyncConnection::execute).
    pub async fn scalar<T: FromSql, S: Executable>(&self, stmt: S) -> Result<T> {
        self.execute(stmt).await?.scalar()
    }

    /// [`scalar`](AsyncConnection::scalar) with parameters.
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](AsyncConnection::execute).
    pub async fn scalar_with<T: FromSql, S: Executable, P: ParamSet>(&self, stmt: S, params: P) -> Result<T> {
        self.execute_with(stmt, params).await?.scalar()
    }

    /// Stream the rows of a query, in bounded chunks (memory stays flat however many rows).
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream stops the query.
    pub async fn stream<S: Executable>(&self, stmt: S) -> Result<ResultStream> {
        self.stream_with(stmt, Params::none()).await
    }

    /// [`stream`](AsyncConnection::stream) with parameters.
    ///
    /// # Cancel safety
    ///
    /// As [`stream`](AsyncConnection::stream).
    pub async fn stream_with<S: Executable, P: ParamSet>(&self, stmt: S, params: P) -> Result<ResultStream> {
        let params = params.into_params()?;
        let (shape, values) = self.prepare_bound(stmt.as_stmt(), &params)?;
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            return pg.stream(self, &shape, values).await;
        }
        let guard = self.state().await?;
        let f: fn(asqlite::Result<Row>) -> Result<Row> = map_row;
        let s = match guard.as_ref() {
            Some(tx) => tx.stream(&shape.sql, values),
            None => self.inner.engine.sqlite()?.stream(&shape.sql, values),
        };
        Ok(ResultStream { inner: StreamInner::Sqlite(s.map(f)) })
    }

    /// Run a closure with a synchronous connection, inside this connection's transaction (begun if needed):
    /// `conn.run_sync(move |c| meta.create_all(c))`. On SQLite the closure runs on the writer with the driver's
    /// blocking connection (`c.as_sqlite()` gives it whole); on PostgreSQL it runs on a blocking thread of the
    /// runtime, each call waiting for the server (see [`SyncConnection`]).
    /// The closure holds this connection until it returns: a call on it from inside the closure
    /// (`block_on(conn.execute(..))`) fails with the driver's [`ErrorKind::Misuse`](asqlite::ErrorKind::Misuse)
    /// instead of waiting for itself; use `c`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, `f` does not run; dropped while it runs, its running statement is interrupted
    /// on SQLite; on PostgreSQL the closure runs to its end and the transaction is then rolled back.
    pub async fn run_sync<F, T, E>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut dyn SyncConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            return pg.run_sync(self, f).await;
        }
        let mut guard = self.state().await?;
        let tx = self.ensure_tx(&mut guard).await?;
        let me = Arc::as_ptr(&self.inner) as usize;
        let r = tx
            .call(move |c| {
                let _running = RunningSync::enter(me);
                Ok(f(c))
            })
            .await?;
        r.map_err(Into::into)
    }

    /// Close the connection: roll back an open transaction.
    ///
    /// # Cancel safety
    ///
    /// As [`rollback`](AsyncConnection::rollback).
    pub async fn close(&self) -> Result<()> {
        self.rollback().await
    }
}
