//! Per-connection state in a pool: which connection may hold it, and where the statements that use it run.
//!
//! SQLite keeps some state per connection: temp tables, views and triggers, attached databases, settings made with
//! `PRAGMA`, and the rowid and row count of the last write (`last_insert_rowid()`, `changes()`). A pool is one
//! writer and N readers, each its own connection, so such state set through the pool would land on whichever
//! connection ran the statement, and a read of it would work on one reader and fail (or answer differently) on the
//! next. The rule that keeps every answer the same wherever it runs:
//!
//! - **The writer holds the pool's per-connection state; a reader holds none.** Writes, closures and transactions
//!   already run on the writer, so temp objects, `ATTACH`/`DETACH` and write settings (`foreign_keys`,
//!   `recursive_triggers`, `synchronous`, ...) made through the pool live there.
//! - **A statement that uses that state runs on the writer.** A reader refuses, when it prepares a statement, to
//!   touch the temp schema, to attach or detach, to read or set a write setting, or to call `last_insert_rowid()`,
//!   `changes()` or `total_changes()` (the SQLite authorizer tells which a statement does); a table, view or schema
//!   it cannot find may exist on the writer alone. Either way the statement cannot be prepared on the reader, and
//!   a read sent to the readers ([`reader_must_forward`]) is passed to the writer, which answers it. Nothing on a
//!   reader is cached for such a statement, so a cheap read that runs on the caller's thread is never one of them,
//!   and the common path pays nothing: the classification happens once, when a statement is prepared.
//! - **Settings that govern reads too** (`case_sensitive_like`, `cache_size`, `busy_timeout`, `temp_store`, ...)
//!   cannot live on one connection without readers answering differently, so a pool refuses to set them after it
//!   opened, on any of its connections (through `execute`, `query`, `call`, `read` or a transaction alike), with an
//!   error pointing to [`PoolBuilder::pragma`](crate::PoolBuilder::pragma), which sets up every connection.
//!   Reading them is fine.
//! - `PRAGMA foreign_keys = ...` is silently ignored by SQLite inside a transaction; on any connection, running it
//!   there is an error that says so ([`ignored_in_transaction`]).
//!
//! A lone connection (an async [`Connection`](crate::Connection), an in-memory pool, a pool without readers, the
//! blocking layer) holds all of its state and refuses nothing but the ignored pragma.

use libsqlite3_sys as ffi;

use crate::blocking::Connection;
use crate::{Error, ErrorKind};

/// What a connection is to its pool, set once the pool has set the connection up ([`seal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The only connection of its handle: it holds all of its state.
    Lone,
    /// The writer of a pool with readers: it holds the pool's per-connection state.
    Writer,
    /// A reader of a pool: it holds none.
    Reader,
}

/// What a reader was asked for that lives on the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriterState {
    Temp,
    Attach,
    LastWrite,
    Pragma(&'static str),
}

/// Why a statement was refused when it was prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A reader was asked for state that lives on the writer.
    OnReader(WriterState),
    /// Setting this pragma would change one connection of a pool.
    Setting(&'static str),
}

/// What the authorizer makes of one action of a statement being prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    /// Allowed, and the statement sets `foreign_keys` (which SQLite ignores inside a transaction).
    SetsForeignKeys,
    Deny(Refusal),
}

/// Settings that govern only writes: they live on the writer, where every write runs, so a pool sets them there
/// and reads them there.
const WRITE_SETTINGS: &[&str] = &[
    "foreign_keys",
    "defer_foreign_keys",
    "recursive_triggers",
    "ignore_check_constraints",
    "query_only",
    "synchronous",
    "secure_delete",
    "wal_autocheckpoint",
    "journal_size_limit",
    "max_page_count",
    "legacy_alter_table",
    "count_changes",
    "fullfsync",
    "checkpoint_fullfsync",
    "writable_schema",
];

/// Settings that govern reads too: every connection of a pool must agree on them, so they are set when it opens.
const READ_SETTINGS: &[&str] = &[
    "analysis_limit",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "case_sensitive_like",
    "cell_size_check",
    "full_column_names",
    "locking_mode",
    "mmap_size",
    "read_uncommitted",
    "reverse_unordered_selects",
    "short_column_names",
    "temp_store",
    "threads",
    "trusted_schema",
];

/// The functions that report on the connection's last write.
const LAST_WRITE_FUNCTIONS: &[&str] = &["last_insert_rowid", "changes", "total_changes"];

fn find(list: &'static [&'static str], name: &str) -> Option<&'static str> {
    list.iter().copied().find(|n| n.eq_ignore_ascii_case(name))
}

/// Judge one authorizer action (`arg1`, `arg2` and `db` as SQLite passes them) for a connection of `role`.
pub(crate) fn judge(role: Role, action: i32, arg1: Option<&str>, arg2: Option<&str>, db: Option<&str>) -> Verdict {
    let reader = role == Role::Reader;
    let on_reader = |what| if reader { Verdict::Deny(Refusal::OnReader(what)) } else { Verdict::Allow };
    if reader && db.is_some_and(|d| d.eq_ignore_ascii_case("temp")) {
        return on_reader(WriterState::Temp);
    }
    match action {
        ffi::SQLITE_PRAGMA => pragma(role, arg1.unwrap_or(""), arg2.is_some()),
        ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => on_reader(WriterState::Attach),
        ffi::SQLITE_FUNCTION if arg2.and_then(|f| find(LAST_WRITE_FUNCTIONS, f)).is_some() => {
            on_reader(WriterState::LastWrite)
        }
        ffi::SQLITE_CREATE_TEMP_INDEX
        | ffi::SQLITE_CREATE_TEMP_TABLE
        | ffi::SQLITE_CREATE_TEMP_TRIGGER
        | ffi::SQLITE_CREATE_TEMP_VIEW
        | ffi::SQLITE_DROP_TEMP_INDEX
        | ffi::SQLITE_DROP_TEMP_TABLE
        | ffi::SQLITE_DROP_TEMP_TRIGGER
        | ffi::SQLITE_DROP_TEMP_VIEW => on_reader(WriterState::Temp),
        _ => Verdict::Allow,
    }
}

/// `PRAGMA name` (`set`: with a value).
fn pragma(role: Role, name: &str, set: bool) -> Verdict {
    if let Some(name) = find(WRITE_SETTINGS, name) {
        return match role {
            Role::Reader => Verdict::Deny(Refusal::OnReader(WriterState::Pragma(name))),
            _ if set && name == "foreign_keys" => Verdict::SetsForeignKeys,
            _ => Verdict::Allow,
        };
    }
    match find(READ_SETTINGS, name) {
        Some(name) if set && role != Role::Lone => Verdict::Deny(Refusal::Setting(name)),
        _ => Verdict::Allow,
    }
}

impl Refusal {
    /// The error a refused prepare of `sql` reports.
    #[cold]
    pub(crate) fn error(self, sql: &str) -> Error {
        let msg = match self {
            Refusal::OnReader(what) => {
                let what = match what {
                    WriterState::Temp => "the temp schema (temp tables, views and triggers)".to_owned(),
                    WriterState::Attach => "ATTACH and DETACH".to_owned(),
                    WriterState::LastWrite => "last_insert_rowid(), changes() and total_changes()".to_owned(),
                    WriterState::Pragma(name) => format!("PRAGMA {name}"),
                };
                format!(
                    "{what} cannot be used on a reader connection of a pool: per-connection state (temp objects, \
                     attached databases, write settings, the last write's rowid and changes) lives on the pool's \
                     writer, so that every reader answers alike; run it through the pool's execute, query or call, \
                     which take it to the writer"
                )
            }
            Refusal::Setting(name) => {
                let builder = if name == "busy_timeout" { "PoolBuilder::busy_timeout" } else { "PoolBuilder::pragma" };
                format!(
                    "PRAGMA {name} = ... would change only the one connection of the pool it runs on (a pool is a \
                     writer and several readers, each its own SQLite connection), so reads would answer differently \
                     depending on where they ran; set it for every connection when the pool opens, with {builder}"
                )
            }
        };
        Error::new(ErrorKind::Misuse, msg).with_sql(sql)
    }
}

/// The error of `PRAGMA foreign_keys = ...` run inside a transaction, where SQLite ignores it.
#[cold]
pub(crate) fn ignored_in_transaction(sql: &str) -> Error {
    Error::new(
        ErrorKind::Misuse,
        "PRAGMA foreign_keys has no effect inside a transaction (SQLite ignores it there); run it before the \
         transaction begins, or use PRAGMA defer_foreign_keys to check the keys at COMMIT",
    )
    .with_sql(sql)
}

/// Give a connection its role in a pool, once the pool has set it up. Statements cached during the setup were not
/// judged for the role, so they go.
pub(crate) fn seal(conn: &Connection, role: Role) {
    conn.flush_statement_cache();
    conn.raw.set_role(role);
}

/// The names of the temp tables and views on a pool's writer, shared with its readers.
///
/// A temp table or view shadows a table of the same name in the main schema: on the writer, `SELECT .. FROM t`
/// reads `temp.t`, while a reader, which has no temp schema, would read `main.t`. So the writer notes the names
/// after every job that prepared a statement creating or dropping one, and a reader refuses (passes to the writer)
/// a statement that reads a main table of such a name. A reader flushes its cached statements when the names
/// change, since they were prepared before.
#[derive(Debug, Default)]
pub(crate) struct TempNames {
    names: std::sync::RwLock<Vec<String>>,
    generation: std::sync::atomic::AtomicU64,
}

impl TempNames {
    /// Whether a temp table or view named `table` exists on the writer.
    pub fn shadows(&self, table: &str) -> bool {
        self.names.read().is_ok_and(|n| n.iter().any(|t| t.eq_ignore_ascii_case(table)))
    }

    /// Bumped whenever the names change.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The writer's temp tables and views are now `names`.
    fn set(&self, mut names: Vec<String>) {
        names.sort_unstable();
        let Ok(mut current) = self.names.write() else { return };
        if *current != names {
            *current = names;
            self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

/// Whether an authorizer action creates or drops a temp table or view.
pub(crate) fn changes_temp_names(action: i32) -> bool {
    matches!(
        action,
        ffi::SQLITE_CREATE_TEMP_TABLE
            | ffi::SQLITE_CREATE_TEMP_VIEW
            | ffi::SQLITE_DROP_TEMP_TABLE
            | ffi::SQLITE_DROP_TEMP_VIEW
            | ffi::SQLITE_ALTER_TABLE
    )
}

/// After a job on a pool's writer: if it prepared a statement creating or dropping a temp table or view, note the
/// temp names as they are now. (A name noted for a temp table a rollback then took away only sends reads of the
/// main table to the writer, which answers them alike.)
pub(crate) fn writer_job_done(conn: &Connection) {
    if !conn.raw.take_temp_ddl() {
        return;
    }
    let Some(shared) = conn.raw.temp_names() else { return };
    let sql = "SELECT name FROM temp.sqlite_schema WHERE type IN ('table', 'view')";
    match conn.query_map(sql, (), |r| r.get::<String>(0)) {
        Ok(names) => shared.set(names),
        // Unreadable (the writer is closing): keep a name the job may have added, to stay on the safe side.
        Err(_) => conn.raw.note_temp_ddl_again(),
    }
}

/// Before a reader uses its cached statements: if the writer's temp names changed since they were prepared, drop
/// them, so that the next prepare sees the new names.
pub(crate) fn reader_refresh(conn: &Connection) {
    let Some(now) = conn.raw.temp_generation() else { return };
    if conn.raw.replace_temp_seen(now) != now {
        conn.flush_statement_cache();
    }
}

/// Whether a reader must pass the statement `sql` to the writer: it writes, or it cannot be prepared here (it uses
/// state that lives on the writer, or a table or schema this reader cannot find, which the writer may have; if the
/// writer cannot prepare it either, its error is the answer).
pub(crate) fn reader_must_forward(conn: &Connection, sql: &str) -> bool {
    if let Some(readonly) = conn.cache.borrow_mut().peek_readonly(sql) {
        return !readonly;
    }
    conn.prepare_cached(sql).map_or(true, |s| !s.readonly())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_refuses_what_lives_on_the_writer_and_the_writer_refuses_read_settings() {
        use Role::{Lone, Reader, Writer};
        let deny = |r| Verdict::Deny(Refusal::OnReader(r));
        let read = |role, db: &str| judge(role, ffi::SQLITE_READ, Some("t"), Some("x"), Some(db));
        assert_eq!(read(Reader, "main"), Verdict::Allow);
        assert_eq!(read(Reader, "temp"), deny(WriterState::Temp));
        assert_eq!(read(Writer, "temp"), Verdict::Allow);
        assert_eq!(judge(Reader, ffi::SQLITE_ATTACH, Some("f.db"), None, None), deny(WriterState::Attach));
        assert_eq!(judge(Writer, ffi::SQLITE_ATTACH, Some("f.db"), None, None), Verdict::Allow);
        let func = |role, f| judge(role, ffi::SQLITE_FUNCTION, None, Some(f), None);
        assert_eq!(func(Reader, "last_insert_rowid"), deny(WriterState::LastWrite));
        assert_eq!(func(Reader, "CHANGES"), deny(WriterState::LastWrite));
        assert_eq!(func(Reader, "lower"), Verdict::Allow);
        assert_eq!(func(Writer, "changes"), Verdict::Allow);
        let pragma = |role, name, value| judge(role, ffi::SQLITE_PRAGMA, Some(name), value, None);
        assert_eq!(pragma(Reader, "foreign_keys", None), deny(WriterState::Pragma("foreign_keys")));
        assert_eq!(pragma(Writer, "Foreign_Keys", Some("off")), Verdict::SetsForeignKeys);
        assert_eq!(pragma(Lone, "foreign_keys", Some("off")), Verdict::SetsForeignKeys);
        assert_eq!(pragma(Writer, "foreign_keys", None), Verdict::Allow);
        assert_eq!(pragma(Writer, "cache_size", Some("10")), Verdict::Deny(Refusal::Setting("cache_size")));
        assert_eq!(pragma(Reader, "cache_size", Some("10")), Verdict::Deny(Refusal::Setting("cache_size")));
        assert_eq!(pragma(Reader, "cache_size", None), Verdict::Allow);
        assert_eq!(pragma(Lone, "cache_size", Some("10")), Verdict::Allow);
        assert_eq!(pragma(Reader, "table_info", Some("cars")), Verdict::Allow);
        assert_eq!(pragma(Writer, "user_version", Some("3")), Verdict::Allow);
        for (action, arg) in [(ffi::SQLITE_CREATE_TEMP_TABLE, "t"), (ffi::SQLITE_DROP_TEMP_VIEW, "v")] {
            assert_eq!(judge(Reader, action, Some(arg), None, None), deny(WriterState::Temp));
            assert_eq!(judge(Writer, action, Some(arg), None, None), Verdict::Allow);
        }
    }
}
