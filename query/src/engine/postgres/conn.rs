//! [`PgConn`]: an [`AsyncConnection`]'s state on a PostgreSQL engine, and its statements.
//!
//! The state is one enum behind the connection's lock: no transaction (reads take any pooled connection), a
//! transaction on a leased connection, or that lease lent out to a `run_sync` closure. A [`Lease`] dropped while
//! its transaction is open (the connection dropped, a future cancelled) queues a `ROLLBACK` on its connection
//! before the pool gets it back, so the next user never finds a transaction open.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use asqlite::{ErrorKind, Params, Value};
use deadpool_postgres::{ClientWrapper, Object};
use futures::lock::{Mutex as AsyncMutex, MutexGuard};
use futures::{FutureExt, StreamExt};
use tokio_postgres::types::ToSql;

use super::error::from_pg;
use super::sync::PgSync;
use super::value::{arg_refs, args, columns, row, rows};
use super::PgBackend;
use crate::compile::{Compiled, Shape};
use crate::engine::connection::ResultStream;
use crate::engine::{AsyncConnection, Backend, Engine};
use crate::error::{Error, Result};
use crate::result::QueryResult;
use crate::schema::lock;
use crate::sync_conn::SyncConnection;

/// Rows per pipeline of `execute_many`: one round trip each.
const PIPELINE: usize = 1024;

/// The savepoint `execute_many` runs in, so that a failing row undoes its batch and nothing else.
const MANY: &str = "asqlite_execute_many";

/// A pooled connection lent to a transaction.
struct Lease {
    client: Object,
    /// Whether a transaction may be open on it (set before `BEGIN` is sent, cleared once it has ended).
    open: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.open {
            // tokio-postgres sends a request when its future is first polled, and drops the reply of a future
            // dropped meanwhile: the ROLLBACK is on the wire ahead of anything the connection's next user sends.
            let _ = self.client.batch_execute("ROLLBACK").now_or_never();
        }
    }
}

// One per connection: the lease need not be boxed.
#[allow(clippy::large_enum_variant)]
enum PgState {
    /// No transaction: reads run on any pooled connection.
    Idle,
    /// A transaction on a leased connection.
    Tx(Lease),
    /// The lease is with a `run_sync` closure (whose future was dropped, if this is seen).
    Away,
}

/// A connection's state on a PostgreSQL engine.
pub(crate) struct PgConn {
    state: AsyncMutex<PgState>,
}

/// Clears the connection's `in_tx` when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Queues an undo (`ROLLBACK TO` a savepoint) to run before the connection's next statement, unless disarmed:
/// for a future dropped half-way.
struct UndoOnDrop<'a> {
    pending: &'a Mutex<Vec<(u64, String)>>,
    generation: u64,
    sql: Option<String>,
}

impl Drop for UndoOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(sql) = self.sql.take() {
            lock(self.pending).push((self.generation, sql));
        }
    }
}

#[cold]
fn lost() -> Error {
    Error::Driver(asqlite::Error::new(
        ErrorKind::TransactionAborted,
        "the transaction was rolled back: a run_sync future was dropped while its closure ran; roll back to go on",
    ))
}

#[cold]
fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    Error::Driver(asqlite::Error::new(
        ErrorKind::Panicked,
        format!("the run_sync closure panicked ({msg}); its transaction was rolled back"),
    ))
}

/// Whether SQL text only reads, by its first word (PostgreSQL does not say before running it). `WITH` and
/// `EXPLAIN` may write (`WITH d AS (DELETE ...)`, `EXPLAIN ANALYZE`), so they count as writes.
fn reads_only(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    ["select", "values", "show", "table"].iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Whether SQL text holds more than one statement: a `;` with more SQL after it, outside quotes, dollar quotes
/// and comments.
fn several_statements(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut ended = false;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                // $tag$ ... $tag$
                let tag_end = b[i + 1..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
                if let Some(n) = tag_end.filter(|n| b.get(i + 1 + n) == Some(&b'$')) {
                    let tag = &sql[i..i + n + 2];
                    match sql[i + n + 2..].find(tag) {
                        Some(at) => i += n + 2 + at + tag.len() - 1,
                        None => return ended,
                    }
                }
            }
            b';' => ended = true,
            c if c.is_ascii_whitespace() => {}
            _ if ended => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn backend(c: &AsyncConnection) -> Result<&PgBackend> {
    c.engine().postgres()
}

/// Run one statement on a client: rows if it has result columns, else the count of rows it changed. Text of
/// several statements (no parameters) runs as a batch.
async fn run_on(client: &ClientWrapper, sql: &str, values: &[Value]) -> Result<QueryResult> {
    if values.is_empty() && several_statements(sql) {
        // A prepared statement holds one statement; a script of several (no parameters) runs as a batch.
        batch(client, sql).await?;
        return Ok(QueryResult::from_done(0, 0));
    }
    let stmt = client.prepare_cached(sql).await.map_err(|e| from_pg(e, Some(sql)))?;
    let a = args(values);
    if stmt.columns().is_empty() {
        let n = client.execute(&stmt, &arg_refs(&a)).await.map_err(|e| from_pg(e, Some(sql)))?;
        Ok(QueryResult::from_done(n, 0))
    } else {
        let got = client.query(&stmt, &arg_refs(&a)).await.map_err(|e| from_pg(e, Some(sql)))?;
        Ok(QueryResult::from_rows(&rows(&columns(&stmt), &got)?)?)
    }
}

async fn batch(client: &ClientWrapper, sql: &str) -> Result<()> {
    client.batch_execute(sql).await.map_err(|e| from_pg(e, Some(sql)))
}

impl PgConn {
    /// The state of a new connection of `engine`, if it is a PostgreSQL engine.
    pub(crate) fn for_engine(engine: &Engine) -> Option<PgConn> {
        match &engine.inner.backend {
            Backend::Postgres(_) => Some(PgConn { state: AsyncMutex::new(PgState::Idle) }),
            Backend::Sqlite(_) => None,
        }
    }

    /// Lock the state, failing if the engine was disposed, and run queued savepoint rollbacks.
    async fn lock(&self, c: &AsyncConnection) -> Result<MutexGuard<'_, PgState>> {
        c.engine().check_open()?;
        let guard = self.state.lock().await;
        let pending = std::mem::take(&mut *lock(&c.inner.pending));
        if let PgState::Tx(lease) = &*guard {
            let current = c.inner.generation.load(Ordering::Acquire);
            for (_, sql) in pending.into_iter().filter(|(g, _)| *g == current) {
                batch(&lease.client, &sql).await?;
            }
        }
        Ok(guard)
    }

    async fn ensure_tx<'g>(&self, c: &AsyncConnection, guard: &'g mut MutexGuard<'_, PgState>) -> Result<&'g Lease> {
        match &**guard {
            PgState::Tx(_) => {}
            PgState::Away => return Err(lost()),
            PgState::Idle => {
                let client = backend(c)?.get().await?;
                // Marked open before BEGIN is sent: dropped from here on, the lease rolls back.
                let lease = Lease { client, open: true };
                batch(&lease.client, "BEGIN").await?;
                **guard = PgState::Tx(lease);
                c.inner.in_tx.store(true, Ordering::Release);
            }
        }
        match &**guard {
            PgState::Tx(lease) => Ok(lease),
            _ => Err(Error::Closed("the transaction could not begin".into())),
        }
    }

    pub(crate) async fn begin(&self, c: &AsyncConnection) -> Result<()> {
        let mut guard = self.lock(c).await?;
        if !matches!(*guard, PgState::Idle) {
            return Err(Error::Closed("a transaction is already open on this connection".into()));
        }
        self.ensure_tx(c, &mut guard).await.map(|_| ())
    }

    /// Commit or roll back. A transaction that an error aborted cannot commit: PostgreSQL would answer `COMMIT`
    /// with a silent rollback, so `SELECT 1` goes first in the same message and fails there (25P02) instead.
    pub(crate) async fn end(&self, c: &AsyncConnection, commit: bool) -> Result<()> {
        let mut guard = self.lock(c).await?;
        let state = std::mem::replace(&mut *guard, PgState::Idle);
        if !matches!(state, PgState::Idle) {
            c.inner.generation.fetch_add(1, Ordering::AcqRel);
        }
        let _clear = ClearOnDrop(&c.inner.in_tx);
        match state {
            PgState::Idle => Ok(()),
            PgState::Away if commit => Err(lost()),
            PgState::Away => Ok(()),
            PgState::Tx(mut lease) => {
                let r = if commit {
                    match batch(&lease.client, "SELECT 1; COMMIT").await {
                        Err(e) if e.driver_kind() == Some(ErrorKind::TransactionAborted) => {
                            batch(&lease.client, "ROLLBACK").await?;
                            Err(Error::Driver(asqlite::Error::new(
                                ErrorKind::TransactionAborted,
                                "the transaction cannot commit: a statement in it failed, which aborted it on \
                                 PostgreSQL; it has been rolled back",
                            )))
                        }
                        r => r,
                    }
                } else {
                    batch(&lease.client, "ROLLBACK").await
                };
                // Ended either way: a failed COMMIT rolls back; a failed ROLLBACK is a broken connection.
                lease.open = false;
                r
            }
        }
    }

    pub(crate) async fn run(&self, c: &AsyncConnection, shape: &Shape, values: Params) -> Result<QueryResult> {
        let readonly = shape.readonly || (shape.is_text && reads_only(&shape.sql));
        let values = values.positional_values();
        if readonly && !c.in_transaction() {
            c.engine().check_open()?;
            let client = backend(c)?.get().await?;
            return run_on(&client, &shape.sql, values).await;
        }
        let mut guard = self.lock(c).await?;
        if readonly && matches!(*guard, PgState::Idle) {
            let client = backend(c)?.get().await?;
            return run_on(&client, &shape.sql, values).await;
        }
        let lease = self.ensure_tx(c, &mut guard).await?;
        run_on(&lease.client, &shape.sql, values).await
    }

    /// Every parameter set through one prepared statement, pipelined ([`PIPELINE`] rows a round trip) inside a
    /// savepoint: all or nothing, and the transaction stays usable when a row fails.
    pub(crate) async fn execute_many(
        &self,
        c: &AsyncConnection,
        compiled: &Compiled,
        sets: &[Params],
    ) -> Result<QueryResult> {
        let values: Vec<Vec<Value>> = sets.iter().map(|p| compiled.bind(p)).collect::<Result<_>>()?;
        let sql = compiled.sql();
        let mut guard = self.lock(c).await?;
        let lease = self.ensure_tx(c, &mut guard).await?;
        let client = &lease.client;
        let stmt = client.prepare_cached(sql).await.map_err(|e| from_pg(e, Some(sql)))?;
        if !stmt.columns().is_empty() {
            return Err(Error::compile("execute_many cannot return rows: run RETURNING statements with execute"));
        }
        let arg_sets: Vec<_> = values.iter().map(|v| args(v)).collect();
        let refs: Vec<Vec<&(dyn ToSql + Sync)>> = arg_sets.iter().map(|a| arg_refs(a)).collect();
        let mut undo = UndoOnDrop {
            pending: &c.inner.pending,
            generation: c.inner.generation.load(Ordering::Acquire),
            sql: Some(format!("ROLLBACK TO SAVEPOINT {MANY}; RELEASE SAVEPOINT {MANY}")),
        };
        let mut total = 0u64;
        let run = async {
            for (i, chunk) in refs.chunks(PIPELINE).enumerate() {
                // Each execute is sent when first polled, in order: the savepoint, then every row of the chunk.
                let rows = futures::future::try_join_all(chunk.iter().map(|r| client.execute(&stmt, r)));
                let counts = if i == 0 {
                    let savepoint = format!("SAVEPOINT {MANY}");
                    let (sp, counts) = futures::future::join(client.batch_execute(&savepoint), rows).await;
                    sp?;
                    counts?
                } else {
                    rows.await?
                };
                total += counts.iter().sum::<u64>();
            }
            client.batch_execute(&format!("RELEASE SAVEPOINT {MANY}")).await
        };
        let r = run.await;
        match r {
            Ok(()) => {
                undo.sql = None;
                Ok(QueryResult::from_done(total, 0))
            }
            Err(e) => {
                if let Some(undo_sql) = undo.sql.take() {
                    // Back to before the batch (the savepoint itself may not exist if it failed: ignore that).
                    let _ = client.batch_execute(&undo_sql).await;
                }
                Err(from_pg(e, Some(sql)))
            }
        }
    }

    pub(crate) async fn stream(&self, c: &AsyncConnection, shape: &Shape, values: Params) -> Result<ResultStream> {
        let sql: &str = &shape.sql;
        let values = values.positional_values();
        let guard = self.lock(c).await?;
        // Outside a transaction the stream keeps its pooled connection until it is dropped.
        let held = match &*guard {
            PgState::Tx(_) => None,
            PgState::Away => return Err(lost()),
            PgState::Idle => Some(backend(c)?.get().await?),
        };
        let client: &ClientWrapper = match (&held, &*guard) {
            (Some(held), _) => held,
            (None, PgState::Tx(lease)) => &lease.client,
            (None, _) => return Err(lost()),
        };
        let stmt = client.prepare_cached(sql).await.map_err(|e| from_pg(e, Some(sql)))?;
        let cols = columns(&stmt);
        let a = args(values);
        let raw = client.query_raw(&stmt, a.iter()).await.map_err(|e| from_pg(e, Some(sql)))?;
        drop(a);
        drop(guard);
        let keep = held;
        let sql: std::sync::Arc<str> = std::sync::Arc::clone(&shape.sql);
        let s = raw.map(move |r| {
            let _connection = &keep;
            match r {
                Ok(r) => Ok(row(&cols, &r)?),
                Err(e) => Err(from_pg(e, Some(&sql))),
            }
        });
        Ok(ResultStream::boxed(Box::pin(s)))
    }

    pub(crate) async fn run_sync<F, T, E>(&self, c: &AsyncConnection, f: F) -> Result<T>
    where
        F: FnOnce(&mut dyn SyncConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<Error> + Send + 'static,
    {
        let mut guard = self.lock(c).await?;
        self.ensure_tx(c, &mut guard).await?;
        let PgState::Tx(lease) = std::mem::replace(&mut *guard, PgState::Away) else {
            return Err(lost());
        };
        let handle = tokio::runtime::Handle::current();
        // A blocking thread, never a worker of the runtime: the closure's calls wait for the server there.
        let task = tokio::task::spawn_blocking(move || {
            let out = {
                let mut sync = PgSync::new(&lease.client, handle);
                catch_unwind(AssertUnwindSafe(|| f(&mut sync)))
            };
            (lease, out)
        });
        let (mut lease, out) = task.await.map_err(|e| Error::Closed(format!("run_sync did not finish: {e}")))?;
        match out {
            Ok(r) => {
                *guard = PgState::Tx(lease);
                r.map_err(Into::into)
            }
            Err(payload) => {
                // As on SQLite: a panic rolls the transaction back.
                c.inner.generation.fetch_add(1, Ordering::AcqRel);
                let _clear = ClearOnDrop(&c.inner.in_tx);
                let _ = batch(&lease.client, "ROLLBACK").await;
                lease.open = false;
                Err(panicked(&*payload))
            }
        }
    }

    /// Run a savepoint's SQL: opening one (`finish` is `None`, beginning the transaction if needed), or ending the
    /// one named in `finish`, which belongs to the transaction of that generation.
    pub(crate) async fn savepoint(&self, c: &AsyncConnection, sql: &str, finish: Option<(u64, &str)>) -> Result<()> {
        let mut guard = self.lock(c).await?;
        match finish {
            None => batch(&self.ensure_tx(c, &mut guard).await?.client, sql).await,
            Some((generation, name)) => match &*guard {
                PgState::Tx(lease) if c.inner.generation.load(Ordering::Acquire) == generation => {
                    batch(&lease.client, sql).await
                }
                _ => Err(Error::Closed(format!("the transaction of savepoint {name} has ended"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reads_only;

    #[test]
    fn scripts_of_several_statements_are_told() {
        use super::several_statements as several;
        assert!(!several("SELECT 1"));
        assert!(!several("SELECT 1;  -- done\n"));
        assert!(!several("SELECT ';x'"));
        assert!(!several("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"));
        assert!(several("DROP TABLE a; CREATE TABLE a (x int)"));
        assert!(several("SELECT $1; SELECT 2"));
    }

    #[test]
    fn reads_are_told_by_their_first_word() {
        assert!(reads_only("SELECT 1"));
        assert!(reads_only("  -- note\n /* x */ select * from t"));
        assert!(reads_only("VALUES (1)"));
        for sql in
            ["INSERT INTO t VALUES (1)", "WITH d AS (DELETE FROM t RETURNING *) SELECT 1", "EXPLAIN ANALYZE x", ""]
        {
            assert!(!reads_only(sql), "{sql}");
        }
    }
}
