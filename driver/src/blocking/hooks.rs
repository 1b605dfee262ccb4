//! Hooks on a blocking connection: data changes, commits, rollbacks, the WAL, progress and the authorizer.
//!
//! SQLite keeps one of each per connection, and the driver uses some itself: the authorizer (per-connection state
//! in a pool), the progress handler (statement deadlines, the budget of inline reads) and the data hooks (a pool's
//! [change feed](crate::Pool::changes)). The hooks set here are *chained* with the driver's, never in place of them
//! (see `ffi/hooks.rs`): the driver's authorizer decides first and an action it refuses never reaches yours; the
//! progress handler calls the driver's deadline check and yours each at its own interval; the driver's change feed
//! and your update, commit, rollback and WAL hooks all see every event.
//!
//! Hooks run on the connection's thread, in the middle of a statement, and get no handle to the connection:
//! SQLite forbids them to use it. A panic in one is caught (an authorizer that panics denies, a progress handler
//! that panics interrupts, the others are skipped). The re-entrancy rule of [functions](super::functions) holds
//! here too: a hook must not wait for its own connection (such calls fail with
//! [`ErrorKind::Misuse`](crate::ErrorKind::Misuse)).

use std::ffi::c_int;

use super::Connection;
use crate::changes::Operation;
use crate::ffi::feed::{Feed, PublishFn};
use crate::ffi::hooks::DEFAULT_WAL_AUTOCHECKPOINT;
use crate::Result;

/// An authorizer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    /// Allow the action.
    Allow,
    /// Allow the statement, but read the column as NULL (for a read) or skip the action (`SQLITE_IGNORE`).
    Ignore,
    /// Refuse the statement: it fails to prepare with a "not authorized" error.
    Deny,
}

/// What a statement being compiled wants to do, as SQLite reports it to an authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthAction<'a> {
    /// Read a column.
    Read {
        /// The table.
        table: &'a str,
        /// The column.
        column: &'a str,
    },
    /// Insert into a table.
    Insert {
        /// The table.
        table: &'a str,
    },
    /// Update a column.
    Update {
        /// The table.
        table: &'a str,
        /// The column.
        column: &'a str,
    },
    /// Delete from a table.
    Delete {
        /// The table.
        table: &'a str,
    },
    /// A `SELECT`.
    Select,
    /// Call a function.
    Function {
        /// The function's name.
        name: &'a str,
    },
    /// A `PRAGMA`.
    Pragma {
        /// The pragma.
        name: &'a str,
        /// Its value, when one is set.
        value: Option<&'a str>,
    },
    /// `BEGIN`, `COMMIT` or `ROLLBACK`.
    Transaction {
        /// The operation.
        operation: &'a str,
    },
    /// `SAVEPOINT`, `RELEASE` or `ROLLBACK TO`.
    Savepoint {
        /// `BEGIN`, `RELEASE` or `ROLLBACK`.
        operation: &'a str,
        /// The savepoint.
        name: &'a str,
    },
    /// `ATTACH`.
    Attach {
        /// The file.
        filename: &'a str,
    },
    /// `DETACH`.
    Detach {
        /// The schema.
        name: &'a str,
    },
    /// `CREATE TABLE` (also `CREATE TEMP TABLE`).
    CreateTable {
        /// The table.
        table: &'a str,
    },
    /// `DROP TABLE` (also `DROP TEMP TABLE`).
    DropTable {
        /// The table.
        table: &'a str,
    },
    /// Any other action: SQLite's action code and its two arguments.
    Other {
        /// `SQLITE_CREATE_INDEX`, `SQLITE_ALTER_TABLE`, ...
        code: i32,
        /// The first argument.
        arg1: Option<&'a str>,
        /// The second argument.
        arg2: Option<&'a str>,
    },
}

/// One authorizer call: the action, and where it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthContext<'a> {
    /// What the statement wants to do.
    pub action: AuthAction<'a>,
    /// SQLite's action code (`SQLITE_READ`, ...).
    pub code: i32,
    /// The database (`main`, `temp`, an attached name), where it applies.
    pub database: Option<&'a str>,
    /// The trigger or view the action comes from, if it is not the statement itself.
    pub accessor: Option<&'a str>,
}

fn action<'a>(code: c_int, a: Option<&'a str>, b: Option<&'a str>) -> AuthAction<'a> {
    use libsqlite3_sys as f;
    let s = |x: Option<&'a str>| x.unwrap_or("");
    match code {
        f::SQLITE_READ => AuthAction::Read { table: s(a), column: s(b) },
        f::SQLITE_INSERT => AuthAction::Insert { table: s(a) },
        f::SQLITE_UPDATE => AuthAction::Update { table: s(a), column: s(b) },
        f::SQLITE_DELETE => AuthAction::Delete { table: s(a) },
        f::SQLITE_SELECT => AuthAction::Select,
        f::SQLITE_FUNCTION => AuthAction::Function { name: s(b) },
        f::SQLITE_PRAGMA => AuthAction::Pragma { name: s(a), value: b },
        f::SQLITE_TRANSACTION => AuthAction::Transaction { operation: s(a) },
        f::SQLITE_SAVEPOINT => AuthAction::Savepoint { operation: s(a), name: s(b) },
        f::SQLITE_ATTACH => AuthAction::Attach { filename: s(a) },
        f::SQLITE_DETACH => AuthAction::Detach { name: s(a) },
        f::SQLITE_CREATE_TABLE | f::SQLITE_CREATE_TEMP_TABLE => AuthAction::CreateTable { table: s(a) },
        f::SQLITE_DROP_TABLE | f::SQLITE_DROP_TEMP_TABLE => AuthAction::DropTable { table: s(a) },
        code => AuthAction::Other { code, arg1: a, arg2: b },
    }
}

impl Connection {
    /// Call `hook` for every row inserted, updated or deleted (not for `WITHOUT ROWID` tables, nor for rows a
    /// `REPLACE` deletes or a truncating `DELETE` clears, as SQLite documents), with the operation, the database,
    /// the table and the rowid. `None` removes it. The hook runs before the transaction commits, and also for work
    /// later rolled back: for committed changes only, use a pool's [`changes`](crate::Pool::changes).
    pub fn update_hook<F>(&self, hook: Option<F>)
    where
        F: FnMut(Operation, &str, &str, i64) + Send + 'static,
    {
        self.raw.set_update_hook(hook.map(|f| Box::new(f) as _));
    }

    /// Call `hook` when a transaction is about to commit; returning `true` turns the commit into a rollback.
    /// `None` removes it.
    pub fn commit_hook<F>(&self, hook: Option<F>)
    where
        F: FnMut() -> bool + Send + 'static,
    {
        self.raw.set_commit_hook(hook.map(|f| Box::new(f) as _));
    }

    /// Call `hook` when a transaction rolls back (not for `ROLLBACK TO` a savepoint). `None` removes it.
    pub fn rollback_hook<F>(&self, hook: Option<F>)
    where
        F: FnMut() + Send + 'static,
    {
        self.raw.set_rollback_hook(hook.map(|f| Box::new(f) as _));
    }

    /// In WAL mode, call `hook` after each commit, with the database name and the pages now in the WAL. SQLite's
    /// automatic checkpoint is itself a WAL hook: it keeps running (at the threshold in force, changed with
    /// [`set_wal_autocheckpoint`](Self::set_wal_autocheckpoint); `PRAGMA wal_autocheckpoint = N` is refused while
    /// the hook is set, and reads as 0). `None` removes it.
    pub fn wal_hook<F>(&self, hook: Option<F>)
    where
        F: FnMut(&str, u32) + Send + 'static,
    {
        let threshold = self.wal_threshold();
        self.raw.set_wal_hook(hook.map(|f| Box::new(f) as _), threshold);
    }

    /// Checkpoint the WAL automatically once it holds `pages` pages (0: never), as `PRAGMA wal_autocheckpoint`
    /// does; works whether or not a WAL hook is set.
    pub fn set_wal_autocheckpoint(&self, pages: u32) -> Result<()> {
        self.raw.set_wal_autocheckpoint(pages)
    }

    /// Hand this connection's automatic checkpoints to a thread of their own (named `name`), with a connection
    /// that `opts` opens on `path` (see the `ffi::checkpoint` module): a pool's writer does, so that no write waits
    /// for a checkpoint. The threshold stays the one in force.
    pub(crate) fn checkpoint_in_background(
        &self,
        name: String,
        count: std::sync::Arc<std::sync::atomic::AtomicU64>,
        opts: super::OpenOptions,
        path: std::path::PathBuf,
    ) -> Result<()> {
        let threshold = self.wal_threshold();
        let body = move |requests: crossbeam_channel::Receiver<()>| {
            let Ok(conn) = opts.open(&path) else { return };
            while requests.recv().is_ok() {
                conn.raw.checkpoint_passive();
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let checkpointer = crate::ffi::checkpoint::Checkpointer::start(name, body).map_err(|e| {
            crate::Error::new(crate::ErrorKind::Io, format!("could not start a checkpointer thread: {e}"))
        })?;
        self.raw.set_checkpointer(Some(checkpointer), threshold);
        Ok(())
    }

    /// The automatic-checkpoint threshold to keep when our WAL hook takes over (None: ours is in place already).
    fn wal_threshold(&self) -> Option<u32> {
        if self.raw.wal_hooked() {
            return None;
        }
        // A pool's reader may not read write settings; its threshold never matters (readers do not commit).
        let pages = self.pragma_query_value::<i64>("wal_autocheckpoint").ok();
        Some(pages.and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_WAL_AUTOCHECKPOINT))
    }

    /// Call `handler` about every `n_ops` virtual-machine steps of a running statement; returning `true`
    /// interrupts the statement ([`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted)). `None` removes it.
    /// It shares SQLite's one progress handler with the driver's deadline checks, each at its own interval.
    pub fn progress_handler<F>(&self, n_ops: u32, handler: Option<F>)
    where
        F: FnMut() -> bool + Send + 'static,
    {
        self.raw.set_user_progress(n_ops, handler.map(|f| Box::new(f) as _));
    }

    /// Consult `hook` for each action of every statement compiled from now on, after the driver's own authorizer
    /// (which a pool uses to keep per-connection state on its writer): what the driver refuses is refused without
    /// asking `hook`; what it allows, `hook` may still deny or ignore. Statements in the cache were compiled
    /// before, so the cache is flushed. The driver's own statements (`BEGIN`, `PRAGMA`, ...) are put to `hook`
    /// too: denying them makes the driver's calls fail. `None` removes it.
    pub fn authorizer<F>(&self, hook: Option<F>)
    where
        F: FnMut(AuthContext<'_>) -> Authorization + Send + 'static,
    {
        let hook = hook.map(|mut f| {
            Box::new(move |code: c_int, a: Option<&str>, b: Option<&str>, db: Option<&str>, acc: Option<&str>| {
                let ctx = AuthContext { action: action(code, a, b), code, database: db, accessor: acc };
                match f(ctx) {
                    Authorization::Allow => libsqlite3_sys::SQLITE_OK,
                    Authorization::Ignore => libsqlite3_sys::SQLITE_IGNORE,
                    Authorization::Deny => libsqlite3_sys::SQLITE_DENY,
                }
            }) as _
        });
        self.raw.set_user_authorizer(hook);
        self.flush_statement_cache();
    }

    /// Start the driver's change feed on this connection: committed changes go to `publish`.
    pub(crate) fn start_change_feed(&self, publish: PublishFn) -> Result<()> {
        let mode: String = self.pragma_query_value("journal_mode")?;
        let threshold = self.wal_threshold();
        self.raw.set_feed(Some(Feed::new(publish, mode.eq_ignore_ascii_case("wal"))), threshold);
        Ok(())
    }
}
