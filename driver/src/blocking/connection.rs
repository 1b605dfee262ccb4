//! The blocking connection.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::Duration;

use super::cache::{CacheKey, CacheStats, Cached, StatementCache};
use super::options::{path_to_cstring, OpenOptions};
use super::row::{Row, RowRef, Rows};
use super::statement::{Done, Statement};
use super::transaction::{Savepoint, Transaction, TransactionBehavior};
use super::txstate::TxCell;
use crate::ffi::{self, RawConnection};
use crate::params::{BindRow, Params};
use crate::value::{FromSql, ToSql, Value};
use crate::{Error, ErrorKind, Result};

/// A synchronous SQLite connection.
///
/// Every method that takes SQL text runs it through the connection's prepared-statement cache, so running the same
/// SQL again skips parsing. The connection is `Send` but not `Sync`: one thread uses it at a time, which is how the
/// async layer's worker threads own theirs.
///
/// ```
/// use asqlite::{blocking::Connection, params};
/// # fn main() -> asqlite::Result<()> {
/// let conn = Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")?;
/// conn.execute("INSERT INTO t (name) VALUES (?1)", params!["one"])?;
/// let name: String = conn.query_one("SELECT name FROM t WHERE id = ?1", params![1])?.get(0)?;
/// assert_eq!(name, "one");
/// # Ok(()) }
/// ```
pub struct Connection {
    // Declared before `raw` so cached statements are finalized before the connection closes.
    pub(crate) cache: RefCell<StatementCache>,
    pub(crate) raw: RawConnection,
    pub(crate) savepoint_depth: Cell<u32>,
    /// The transaction a handle holds here, checked around every statement (see [`super::txstate`]).
    pub(crate) tx: TxCell,
    /// Whether each run of a read-only statement measures its cost (steps, pages, bytes): only a pool's
    /// connections, which decide by it whether a read may run on a caller's thread, need it.
    pub(crate) measures_reads: Cell<bool>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("path", &self.raw.filename()).finish_non_exhaustive()
    }
}

/// Interrupts the statements of a connection from another thread. `Send + Sync`, and harmless after the
/// connection has closed.
#[derive(Clone, Debug)]
pub struct InterruptHandle(pub(crate) ffi::InterruptHandle);

impl InterruptHandle {
    /// Make the statement running now (if any) fail with [`ErrorKind::Interrupted`].
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

impl Connection {
    /// Open (creating if missing) the database file at `path`, read-write, with the default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Open a private in-memory database.
    pub fn open_in_memory() -> Result<Self> {
        Self::open_with(":memory:", &OpenOptions::default())
    }

    /// Open with explicit [`OpenOptions`].
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        let cpath = path_to_cstring(path, options.uri)?;
        let memory = super::options::is_memory(path, options.uri);
        // A memory database has no file to lock. A pool's reader opens through the VFS under the lock its writer
        // took; anything else takes the lock itself, so is checked for what that needs.
        let exclusive = options.process_exclusive && !memory;
        let takes_lock = exclusive && !(options.in_pool && options.read_only);
        if takes_lock && options.read_only {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "process_exclusive needs a read-write connection: SQLite takes the process's lock through a file \
                 handle open for writing (a pool's readers share the lock its writer takes)",
            ));
        }
        // A URI's parameters win over the open's VFS and flags: a clearer error before the open, where they can be
        // read (SQLite's own answer after the open is the one that counts).
        if takes_lock {
            if let Some(option) = super::options::uri_undoes_process_exclusive(path, options.uri) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "process_exclusive cannot hold with the URI's {option}: SQLite would open the file without \
                         the process's lock"
                    ),
                ));
            }
        }
        let raw = RawConnection::open(&cpath, options.flags(false, exclusive))
            .map_err(|e| e.context(format_args!("cannot open {}", path.display())))?;
        raw.set_busy_timeout(options.busy_timeout)?;
        let conn = Connection {
            cache: RefCell::new(StatementCache::new(options.cache_capacity)),
            raw,
            savepoint_depth: Cell::new(0),
            measures_reads: Cell::new(false),
            tx: TxCell::default(),
        };
        if takes_lock {
            if let Some(why) = conn.raw.process_lock_refusal() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("process_exclusive cannot hold for {}: {why}", path.display()),
                ));
            }
            // The process's lock, taken by this first read (SQLite takes it with a connection's first lock), before
            // anything else of this process opens the file: a pool reader's read-only handle cannot take it.
            conn.pragma_query_value::<i64>("schema_version").map_err(|e| {
                if e.kind() == ErrorKind::Busy {
                    e.context(format_args!(
                        "process_exclusive: another process has {} open, and the lock is for one process",
                        path.display()
                    ))
                } else {
                    e
                }
            })?;
        }
        options.configure(&conn, path)?;
        if exclusive && !options.in_pool {
            let mode: String = conn.pragma_query_value("journal_mode")?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "process_exclusive needs WAL mode, and {} is in {mode} mode: outside WAL a connection of this \
                         process opened without the option can replace the process's lock with its own and drop it \
                         (open with OpenOptions::journal_mode(JournalMode::Wal))",
                        path.display()
                    ),
                ));
            }
        }
        Ok(conn)
    }

    /// Prepare one statement, outside the cache.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        let raw = self.prepare_one(sql, false)?;
        Ok(Statement::new(self, Box::new(Cached::new(raw)), None))
    }

    /// Prepare one statement through the cache: the second prepare of the same SQL is a lookup. The statement
    /// returns to the cache when dropped.
    #[inline]
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        let hit = self.cache.borrow_mut().take(sql);
        match hit {
            Some((key, cached)) => Ok(Statement::new(self, cached, Some(key))),
            None => self.prepare_miss(sql),
        }
    }

    #[inline(never)]
    fn prepare_miss(&self, sql: &str) -> Result<Statement<'_>> {
        let raw = self.prepare_one(sql, true)?;
        Ok(Statement::new(self, Box::new(Cached::new(raw)), Some(CacheKey::New(sql.into()))))
    }

    /// Prepare exactly one statement: empty SQL and trailing statements are errors.
    fn prepare_one(&self, sql: &str, persistent: bool) -> Result<ffi::RawStatement> {
        let (stmt, used) = self.raw.prepare(sql, persistent)?;
        let Some(stmt) = stmt else {
            return Err(Error::new(ErrorKind::InvalidInput, "the SQL holds no statement").with_sql(sql));
        };
        let rest = &sql[used..];
        if !rest.trim().is_empty() && self.raw.prepare(rest, false)?.0.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the SQL holds more than one statement; use execute_batch to run several",
            )
            .with_sql(sql));
        }
        Ok(stmt)
    }

    /// Whether `sql` (one statement) would write to the database, by `sqlite3_stmt_readonly`; the statement is
    /// prepared into the cache if it is not there. SQL that does not prepare counts as not writing.
    pub fn statement_writes(&self, sql: &str) -> bool {
        if let Some(readonly) = self.cache.borrow_mut().peek_readonly(sql) {
            return !readonly;
        }
        self.prepare_cached(sql).is_ok_and(|s| !s.readonly())
    }

    /// The virtual-machine steps of the last run of `sql` if it is cached, read-only and not in use; None
    /// otherwise. Nothing is prepared and no hit is counted.
    pub(crate) fn cached_read_cost(&self, sql: &str) -> Option<u32> {
        // An application's progress handler or authorizer is user code that any statement may call.
        if self.raw.has_user_hooks_on_reads() {
            return None;
        }
        match self.cache.borrow_mut().peek_cost(sql)? {
            (true, steps) => Some(steps),
            (false, _) => None,
        }
    }

    /// Run one statement; returns what it did.
    #[inline]
    pub fn execute(&self, sql: &str, params: impl BindRow) -> Result<Done> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Run every statement in `sql` (separated by `;`), without parameters. Rows are discarded.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.run_batch(sql, true)
    }

    /// Undo work with `sql` (`ROLLBACK`, `ROLLBACK TO ...`): it runs even when the job was cancelled, which is
    /// what it cleans up after, and outside the transaction checks.
    pub(crate) fn execute_cleanup(&self, sql: &str) -> Result<()> {
        self.run_batch(sql, false)
    }

    fn run_batch(&self, sql: &str, checked: bool) -> Result<()> {
        let mut offset = 0;
        while offset < sql.len() {
            if checked && self.raw.cancel_requested() {
                return Err(super::statement::cancelled(sql));
            }
            let rest = &sql[offset..];
            let (stmt, used) = self.raw.prepare(rest, false).map_err(|e| e.rebase(sql, offset))?;
            if let Some(stmt) = stmt {
                if checked {
                    self.tx.before(&self.raw).map_err(|e| e.with_sql(sql))?;
                }
                if stmt.ignored_in_transaction() && !self.raw.is_autocommit() {
                    return Err(crate::conn_state::ignored_in_transaction(rest).rebase(sql, offset));
                }
                let result = (|| {
                    while stmt.step()? {}
                    Ok(())
                })();
                stmt.reset();
                let result = if checked { self.tx.after(&self.raw, result) } else { result };
                result.map_err(|e: Error| e.rebase(sql, offset))?;
            }
            if used == 0 {
                break;
            }
            offset += used;
        }
        Ok(())
    }

    /// Run one statement once per parameter set, all or nothing: inside a transaction (or a savepoint, if one is
    /// open). Returns the total rows affected.
    pub fn execute_many<I>(&self, sql: &str, param_sets: I) -> Result<u64>
    where
        I: IntoIterator,
        I::Item: BindRow,
    {
        self.atomically(|| self.prepare_cached(sql)?.execute_rows(param_sets))
    }

    /// [`execute_many`](Self::execute_many) of packed sets that arrive in chunks while it runs (a caller packing
    /// the next chunk as this one is inserted). `None` ends them; a closed channel without it (the caller failed a
    /// check, panicked or was dropped) rolls back every set.
    pub(crate) fn execute_many_chunks(
        &self,
        sql: &str,
        chunks: &crossbeam_channel::Receiver<Option<crate::PackedParams>>,
    ) -> Result<u64> {
        self.atomically(|| {
            let mut stmt = self.prepare_cached(sql)?;
            let mut total = 0;
            loop {
                match chunks.recv() {
                    Ok(Some(chunk)) => total += stmt.execute_rows(chunk.sets())?,
                    Ok(None) => return Ok(total),
                    Err(_) => {
                        return Err(crate::Error::new(
                            crate::ErrorKind::Cancelled,
                            "the parameter sets stopped before their end: nothing was inserted",
                        ))
                    }
                }
            }
        })
    }

    /// Run `f` inside a transaction (or a savepoint when one is open); commit on `Ok`, roll back on `Err`.
    pub(crate) fn atomically<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        if self.raw.is_autocommit() {
            self.execute_batch("BEGIN IMMEDIATE")?;
            match f().and_then(|v| self.execute_batch("COMMIT").map(|()| v)) {
                Ok(v) => Ok(v),
                Err(e) => {
                    if !self.raw.is_autocommit() {
                        let _ = self.execute_cleanup("ROLLBACK");
                    }
                    Err(e)
                }
            }
        } else {
            self.execute_batch("SAVEPOINT asqlite_atomic")?;
            match f() {
                Ok(v) => {
                    self.execute_batch("RELEASE asqlite_atomic")?;
                    Ok(v)
                }
                Err(e) => {
                    // Unless SQLite rolled back the whole transaction already (then the savepoint went with it).
                    if !self.raw.is_autocommit() {
                        let _ = self.execute_cleanup("ROLLBACK TO asqlite_atomic; RELEASE asqlite_atomic");
                    }
                    Err(e)
                }
            }
        }
    }

    /// Run a query and collect every row.
    pub fn query(&self, sql: &str, params: impl BindRow) -> Result<Rows> {
        self.prepare_cached(sql)?.query(params)
    }

    /// Run a query that returns one row, and return it: an error of kind [`ErrorKind::NoRows`] if it returns
    /// none, and of kind [`ErrorKind::TooManyRows`] if it returns more, as tokio-postgres' `query_one` does
    /// (rusqlite's `query_row` and sqlx's `fetch_one` take the first row and ignore the rest: that is
    /// [`query_row`](Self::query_row) here). Checking for a second row costs one more step. A statement that writes
    /// (`INSERT ... RETURNING`) has made its changes whichever error it returns.
    #[inline]
    pub fn query_one(&self, sql: &str, params: impl BindRow) -> Result<Row> {
        self.prepare_cached(sql)?.query_one(params)
    }

    /// Run a query that returns at most one row, and return it if there is one: an error of kind
    /// [`ErrorKind::TooManyRows`] if it returns more (as tokio-postgres' `query_opt`).
    pub fn query_opt(&self, sql: &str, params: impl BindRow) -> Result<Option<Row>> {
        self.prepare_cached(sql)?.query_opt(params)
    }

    /// [`query`](Self::query), [`query_one`](Self::query_one) and [`query_opt`](Self::query_opt) with borrowed
    /// parameters, left as they were for a second try.
    pub(crate) fn query_with(&self, sql: &str, params: &mut Params) -> Result<Rows> {
        self.prepare_cached(sql)?.query_with(params)
    }

    /// Run a query and collect its rows, packed (see [`PackedRows`](crate::PackedRows)): the compact form of a
    /// result that is kept.
    pub fn query_packed(&self, sql: &str, params: impl BindRow) -> Result<crate::PackedRows> {
        self.prepare_cached(sql)?.query_packed(params)
    }

    pub(crate) fn query_packed_with(&self, sql: &str, params: &mut Params) -> Result<crate::PackedRows> {
        self.prepare_cached(sql)?.query_packed_with(params)
    }

    pub(crate) fn query_one_with(&self, sql: &str, params: &mut Params) -> Result<Row> {
        self.prepare_cached(sql)?.query_one_with(params)
    }

    pub(crate) fn query_opt_with(&self, sql: &str, params: &mut Params) -> Result<Option<Row>> {
        self.prepare_cached(sql)?.query_opt_with(params)
    }

    /// The first row, if any, copied into `cells`, ignoring the rest (`query_row` run inline).
    pub(crate) fn query_first_into(
        &self,
        sql: &str,
        params: &mut Params,
        into: &mut crate::worker::inline::RowBuffer,
    ) -> Result<bool> {
        self.prepare_cached(sql)?.query_first_into(params, into)
    }

    /// Run a query and decode each row with `f`, straight from SQLite's buffers.
    pub fn query_map<T, F>(&self, sql: &str, params: impl BindRow, f: F) -> Result<Vec<T>>
    where
        F: FnMut(&RowRef<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_map(params, f)
    }

    /// Run a query and decode its first row with `f`, or fail with [`ErrorKind::NoRows`]; further rows are not
    /// read (as rusqlite's `query_row`; [`query_one`](Self::query_one) refuses them).
    pub fn query_row<T>(&self, sql: &str, params: impl BindRow, f: impl FnOnce(&RowRef<'_>) -> Result<T>) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Begin a deferred transaction.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        Transaction::begin(self, TransactionBehavior::Deferred)
    }

    /// Begin a transaction with the given locking behaviour.
    pub fn transaction_with_behavior(&mut self, behavior: TransactionBehavior) -> Result<Transaction<'_>> {
        Transaction::begin(self, behavior)
    }

    /// Open a savepoint (which starts a transaction if none is open).
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self)
    }

    /// Read a pragma's value: `conn.pragma_query_value::<String>("journal_mode")`.
    pub fn pragma_query_value<T: FromSql>(&self, name: &str) -> Result<T> {
        check_pragma_name(name)?;
        self.query_one(&format!("PRAGMA {name}"), ())?.get(0)
    }

    /// Read a pragma as rows, with an optional argument: `conn.pragma("table_info", Some("cars"))`.
    pub fn pragma(&self, name: &str, arg: Option<&str>) -> Result<Rows> {
        check_pragma_name(name)?;
        match arg {
            Some(a) => self.query(&format!("PRAGMA {name}({})", quote_literal(&Value::Text(a.to_owned()))), ()),
            None => self.query(&format!("PRAGMA {name}"), ()),
        }
    }

    /// Set a pragma: `conn.pragma_update("synchronous", "NORMAL")`. Rows it returns are discarded.
    pub fn pragma_update(&self, name: &str, value: impl ToSql) -> Result<()> {
        self.pragma_update_and_check::<Value>(name, value).map(drop).or_else(|e| {
            if e.kind() == ErrorKind::NoRows {
                Ok(())
            } else {
                Err(e)
            }
        })
    }

    /// Set a pragma and read back the value it reports: `journal_mode` answers with the mode in force.
    pub fn pragma_update_and_check<T: FromSql>(&self, name: &str, value: impl ToSql) -> Result<T> {
        check_pragma_name(name)?;
        let sql = format!("PRAGMA {name} = {}", quote_literal(&value.to_sql()?));
        let mut stmt = self.prepare(&sql)?;
        stmt.query_row((), |r| r.get(0))
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    pub fn changes(&self) -> u64 {
        self.raw.changes()
    }

    /// The rowid of the most recent successful INSERT.
    pub fn last_insert_rowid(&self) -> i64 {
        self.raw.last_insert_rowid()
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        self.raw.is_autocommit()
    }

    /// Whether the main database is read-only.
    pub fn is_readonly(&self) -> bool {
        self.raw.is_readonly()
    }

    /// The file of the main database (`None` or empty for an in-memory one).
    pub fn path(&self) -> Option<String> {
        self.raw.filename().filter(|s| !s.is_empty())
    }

    /// The busy timeout in force (what `PRAGMA busy_timeout` reports).
    pub fn busy_timeout(&self) -> Duration {
        self.raw.busy_timeout()
    }

    /// Change the busy timeout.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.raw.set_busy_timeout(timeout)
    }

    /// Set the longest string or blob, in bytes, this connection accepts (SQLite's default is 1,000,000,000);
    /// returns the previous limit. Longer values fail with [`ErrorKind::TooBig`].
    pub fn set_length_limit(&self, bytes: usize) -> usize {
        let n = i32::try_from(bytes).unwrap_or(i32::MAX);
        usize::try_from(self.raw.set_length_limit(n)).unwrap_or(0)
    }

    /// Whether the database file was deleted or renamed since the connection opened it. Writes made after that
    /// would be lost when the connection closes; the async writer refuses them.
    pub fn file_has_moved(&self) -> bool {
        self.raw.has_moved()
    }

    /// A handle that interrupts this connection's running statement from another thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.raw.interrupt_handle())
    }

    /// Hits, misses and size of the statement cache.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.borrow().stats()
    }

    /// Change the statement cache's capacity (0 turns it off), evicting as needed.
    pub fn set_statement_cache_capacity(&self, capacity: usize) {
        self.cache.borrow_mut().set_capacity(capacity);
    }

    /// Finalize every cached statement.
    pub fn flush_statement_cache(&self) {
        self.cache.borrow_mut().clear();
    }
}

/// A pragma name is an identifier, optionally qualified by a schema: anything else could smuggle SQL in.
pub(crate) fn check_pragma_name(name: &str) -> Result<()> {
    let ident = |s: &str| {
        let mut cs = s.chars();
        cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let ok = match name.split_once('.') {
        Some((schema, pragma)) => ident(schema) && ident(pragma),
        None => ident(name),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidInput, format!("{name:?} is not a pragma name")))
    }
}

/// A value as an SQL literal, for the few places SQLite accepts no parameter (pragmas).
pub(crate) fn quote_literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) if r.is_finite() => format!("{r:?}"),
        Value::Real(_) => "NULL".to_owned(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Blob(_) => v.to_string(),
    }
}
