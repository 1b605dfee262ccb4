//! Connection setup: what a pool does to each connection it opens before the connection serves its first call.
//!
//! In order, on every connection (the writer and each reader, or a lone connection):
//!
//! 1. the writer (a writable file, not an in-memory database) switches to the [`JournalMode`] and sets
//!    [`Synchronous`];
//! 2. `PRAGMA foreign_keys` is set ON or OFF, always: the bundled SQLite is built with foreign keys on by default
//!    (`SQLITE_DEFAULT_FOREIGN_KEYS=1`), so only an explicit OFF turns them off;
//! 3. the pragmas given to [`PoolBuilder::pragma`](crate::PoolBuilder::pragma), in the order given; a pragma that
//!    writes the database file (`page_size`, `auto_vacuum`, `user_version`, ...) runs on the writer only, since the
//!    readers are opened read-only and see the file the writer changed;
//! 4. the `on_connect` hooks, in the order given; an error or a panic in one fails the open, naming the
//!    connection.
//!
//! Only then does the connection get its role in the pool (`conn_state::seal`), which restricts what a reader may
//! run, and its statement cache is emptied.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blocking::Connection;
use crate::value::{ToSql, Value};
use crate::{Error, ErrorKind, Result};

/// SQLite's journal mode (`PRAGMA journal_mode`), set by the writer when a pool or connection opens.
///
/// [`Wal`](JournalMode::Wal), the default, lets the pool's readers read while the writer writes. The other modes
/// are rollback journals: a reader holds a shared lock on the whole file while it reads, which keeps the writer
/// from committing, and the other way round. So a pool in a rollback mode has no readers (its writer serves the
/// reads), and asking for readers in one is an error; see [`PoolBuilder::journal_mode`](crate::PoolBuilder::journal_mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum JournalMode {
    /// `WAL`: a write-ahead log; readers and the writer do not block each other.
    #[default]
    Wal,
    /// `DELETE`: a rollback journal deleted at the end of each transaction (SQLite's own default).
    Delete,
    /// `TRUNCATE`: a rollback journal truncated to zero bytes at the end of each transaction.
    Truncate,
    /// `PERSIST`: a rollback journal whose header is zeroed at the end of each transaction.
    Persist,
    /// `MEMORY`: the rollback journal lives in memory; a crash in the middle of a transaction may corrupt the file.
    Memory,
    /// `OFF`: no journal; `ROLLBACK` (and so a dropped transaction) leaves the database undefined, and a crash in a
    /// transaction may corrupt it.
    Off,
}

impl JournalMode {
    /// Every mode, in SQLite's documentation order.
    pub const ALL: [JournalMode; 6] = [
        JournalMode::Delete,
        JournalMode::Truncate,
        JournalMode::Persist,
        JournalMode::Memory,
        JournalMode::Wal,
        JournalMode::Off,
    ];

    /// The mode as SQLite spells it, upper-case: `"WAL"`, `"DELETE"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            JournalMode::Wal => "WAL",
            JournalMode::Delete => "DELETE",
            JournalMode::Truncate => "TRUNCATE",
            JournalMode::Persist => "PERSIST",
            JournalMode::Memory => "MEMORY",
            JournalMode::Off => "OFF",
        }
    }

    /// Whether this is WAL (readers and the writer do not block each other).
    pub fn is_wal(self) -> bool {
        self == JournalMode::Wal
    }
}

impl fmt::Display for JournalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JournalMode {
    type Err = Error;

    /// Parse a mode name, in any case: `wal`, `delete`, `truncate`, `persist`, `memory`, `off`.
    fn from_str(s: &str) -> Result<Self> {
        JournalMode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("unknown journal mode {s:?}: expected one of wal, delete, truncate, persist, memory, off"),
            )
        })
    }
}

/// How `synchronous` is set on the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// `OFF`: no syncs; a power loss can corrupt the database.
    Off,
    /// `NORMAL`: in WAL mode, durable against application crashes; a power loss may lose the last commits. The
    /// default in WAL mode.
    Normal,
    /// `FULL`: sync at every commit. The default in the rollback-journal modes, where `NORMAL` can corrupt the
    /// file on a power loss at the wrong moment.
    Full,
}

impl Synchronous {
    fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// A hook run on every connection when it opens.
pub(crate) type OnConnect = Arc<dyn Fn(&mut Connection) -> Result<()> + Send + Sync + 'static>;

/// Which connection of a handle is being set up, as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// The one connection of an async `Connection` or an in-memory pool.
    Lone,
    Writer,
    Reader(usize),
}

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Which::Lone => f.write_str("the connection"),
            Which::Writer => f.write_str("the writer"),
            Which::Reader(n) => write!(f, "reader {n}"),
        }
    }
}

/// Where a pragma given to the builder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// On every connection.
    Every,
    /// On the writer only: it writes the database file, which the (read-only) readers then see.
    Writer,
}

/// Pragmas that write the database file (or act on it) rather than set up the connection: the writer runs them.
const FILE_PRAGMAS: &[&str] = &[
    "application_id",
    "auto_vacuum",
    "encoding",
    "incremental_vacuum",
    "optimize",
    "page_size",
    "schema_version",
    "user_version",
    "wal_checkpoint",
];

/// One `pragma(name, value)` of the builder: the value converted when it was given (a conversion error is
/// reported when the pool opens).
#[derive(Debug, Clone)]
pub(crate) struct Pragma {
    name: String,
    value: std::result::Result<Value, String>,
}

impl Pragma {
    pub(crate) fn new(name: String, value: &impl ToSql) -> Self {
        Pragma { value: value.to_sql().map_err(|e| e.to_string()), name }
    }

    /// The pragma's own name, without a schema prefix.
    fn base(&self) -> &str {
        self.name.rsplit_once('.').map_or(&self.name, |(_, n)| n)
    }

    fn scope(&self) -> Scope {
        if FILE_PRAGMAS.iter().any(|p| p.eq_ignore_ascii_case(self.base())) {
            Scope::Writer
        } else {
            Scope::Every
        }
    }

    /// Refuse what cannot work before any connection opens: a bad name, a value that did not convert, a pragma
    /// the builder has a method for, or one that would lock the readers out.
    fn check(&self, readers: usize) -> Result<()> {
        crate::blocking::check_pragma_name(&self.name)?;
        let bad = |why: String| Err(Error::new(ErrorKind::InvalidInput, format!("PRAGMA {}: {why}", self.name)));
        let value = match &self.value {
            Ok(Value::Blob(_)) => return bad("a pragma's value cannot be a blob".into()),
            Ok(v) => v,
            Err(e) => return bad(format!("the value does not convert: {e}")),
        };
        let base = self.base();
        if base.eq_ignore_ascii_case("journal_mode") {
            return bad("set the journal mode with journal_mode(JournalMode::...), which adapts the readers".into());
        }
        let exclusive = matches!(value, Value::Text(t) if t.eq_ignore_ascii_case("exclusive"));
        if base.eq_ignore_ascii_case("locking_mode") && exclusive && readers > 0 {
            return bad(format!(
                "locking_mode = EXCLUSIVE on the writer would lock out the pool's {readers} readers; open the pool \
                 with readers(0) to use it"
            ));
        }
        Ok(())
    }

    fn apply(&self, conn: &Connection) -> Result<()> {
        let value = self.value.clone().map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
        conn.pragma_update(&self.name, value).map_err(|e| e.context(format_args!("PRAGMA {}", self.name)))
    }
}

/// The setup a builder applies to every connection it opens.
#[derive(Clone, Default)]
pub(crate) struct Setup {
    /// Set explicitly, or the default (WAL).
    pub(crate) journal_mode: Option<JournalMode>,
    /// Set explicitly, or the default for the journal mode.
    pub(crate) synchronous: Option<Synchronous>,
    pub(crate) foreign_keys: Option<bool>,
    pub(crate) pragmas: Vec<Pragma>,
    pub(crate) on_connect: Vec<OnConnect>,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("journal_mode", &self.journal_mode())
            .field("synchronous", &self.synchronous())
            .field("foreign_keys", &self.foreign_keys())
            .field("pragmas", &self.pragmas.iter().map(|p| &p.name).collect::<Vec<_>>())
            .field("on_connect", &self.on_connect.len())
            .finish()
    }
}

impl Setup {
    pub(crate) fn journal_mode(&self) -> JournalMode {
        self.journal_mode.unwrap_or_default()
    }

    pub(crate) fn synchronous(&self) -> Synchronous {
        self.synchronous.unwrap_or(if self.journal_mode().is_wal() { Synchronous::Normal } else { Synchronous::Full })
    }

    pub(crate) fn foreign_keys(&self) -> bool {
        self.foreign_keys.unwrap_or(true)
    }

    /// Check the settings before any thread starts, for a handle with `readers` reader connections.
    pub(crate) fn check(&self, readers: usize) -> Result<()> {
        self.pragmas.iter().try_for_each(|p| p.check(readers))
    }

    /// Set up `conn`, `which` connection of its handle (`path` names the database in errors). `writable`: the
    /// handle writes (not opened read-only); `memory`: an in-memory database.
    pub(crate) fn apply(
        &self,
        conn: &mut Connection,
        which: Which,
        path: &std::path::Path,
        writable: bool,
        memory: bool,
    ) -> Result<()> {
        self.apply_steps(conn, which, path, writable, memory)
            .map_err(|e| e.context(format_args!("cannot set up {which} of {}", path.display())))
    }

    fn apply_steps(
        &self,
        conn: &mut Connection,
        which: Which,
        path: &std::path::Path,
        writable: bool,
        memory: bool,
    ) -> Result<()> {
        let writer = !matches!(which, Which::Reader(_));
        if writer && writable && !memory {
            set_journal_mode(conn, self.journal_mode(), path, false)?;
            conn.pragma_update("synchronous", self.synchronous().as_str())?;
        }
        if writer && writable && memory && self.journal_mode == Some(JournalMode::Off) {
            set_journal_mode(conn, JournalMode::Off, path, true)?;
        }
        conn.pragma_update("foreign_keys", self.foreign_keys())?;
        for p in &self.pragmas {
            if writer || p.scope() == Scope::Every {
                p.apply(conn)?;
            }
        }
        for hook in &self.on_connect {
            let out = crate::worker::catch(|| hook(conn)).map_err(|e| e.context("on_connect"));
            if !conn.is_autocommit() {
                let _ = conn.execute_cleanup("ROLLBACK");
                out?;
                return Err(Error::new(
                    ErrorKind::Misuse,
                    "on_connect left a transaction open (it was rolled back): commit or roll back what it begins",
                ));
            }
            out?;
        }
        Ok(())
    }
}

/// Switch `conn` to `mode` and check that SQLite did: it keeps the old mode when it cannot change (another
/// connection has the file open in WAL mode, say). An in-memory database keeps its `MEMORY` journal unless `OFF`
/// is asked for.
pub(crate) fn set_journal_mode(
    conn: &Connection,
    mode: JournalMode,
    path: &std::path::Path,
    memory: bool,
) -> Result<()> {
    if memory && !matches!(mode, JournalMode::Off | JournalMode::Memory) {
        return Ok(());
    }
    // Two connections switching a new file at once: the one that loses gets SQLITE_BUSY at once (SQLite skips
    // the busy handler where waiting could deadlock), so try again for as long as the busy timeout allows.
    let deadline = Instant::now() + conn.busy_timeout();
    let now: String = loop {
        match conn.pragma_update_and_check("journal_mode", mode.as_str()) {
            Err(e) if e.kind() == ErrorKind::Busy && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            out => break out,
        }
    }
    .map_err(|e| {
        let hint = if e.kind() == ErrorKind::ReadOnly { " (open it with read_only(true) to read it)" } else { "" };
        e.context(format_args!("cannot switch {} to {mode} mode{hint}", path.display()))
    })?;
    if now.eq_ignore_ascii_case(mode.as_str()) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Sqlite,
            format!(
                "could not switch {} to {mode} mode (it stays in {} mode; leaving WAL mode needs the only \
                 connection to the file)",
                path.display(),
                now.to_ascii_uppercase()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_modes_parse_in_any_case_and_print_as_sqlite_spells_them() {
        for m in JournalMode::ALL {
            assert_eq!(m.as_str().to_lowercase().parse::<JournalMode>().unwrap(), m);
            assert_eq!(m.to_string().parse::<JournalMode>().unwrap(), m);
        }
        let e = "wall".parse::<JournalMode>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("wal, delete, truncate, persist, memory, off"), "{e}");
        assert_eq!(JournalMode::default(), JournalMode::Wal);
    }

    #[test]
    fn pragmas_that_cannot_work_are_refused_before_anything_opens() {
        let p = |name: &str, v: &dyn Fn() -> Value| Pragma::new(name.to_owned(), &v());
        assert!(p("cache_size", &|| Value::Integer(-64_000)).check(4).is_ok());
        assert!(p("main.cache_size", &|| Value::Integer(10)).check(4).is_ok());
        for (bad, readers) in [
            (p("cache size", &|| Value::Integer(1)), 0),
            (p("cache_size;DROP TABLE x", &|| Value::Integer(1)), 0),
            (p("journal_mode", &|| Value::Text("wal".into())), 0),
            (p("locking_mode", &|| Value::Text("Exclusive".into())), 2),
            (p("user_version", &|| Value::Blob(vec![1])), 0),
        ] {
            let e = bad.check(readers).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        }
        assert!(p("locking_mode", &|| Value::Text("exclusive".into())).check(0).is_ok());
        assert_eq!(p("user_version", &|| Value::Integer(3)).scope(), Scope::Writer);
        assert_eq!(p("main.PAGE_SIZE", &|| Value::Integer(8192)).scope(), Scope::Writer);
        assert_eq!(p("temp_store", &|| Value::Text("memory".into())).scope(), Scope::Every);
    }

    #[test]
    fn a_value_that_does_not_convert_is_reported_at_check() {
        let e = Pragma::new("cache_size".into(), &u64::MAX).check(0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("cache_size"), "{e}");
    }
}
