//! How a connection is opened.

use std::ffi::CString;
use std::path::Path;
use std::time::Duration;

use crate::ffi::OpenFlags;
use crate::setup::{set_journal_mode, JournalMode};
use crate::{Error, ErrorKind, Result};

/// The default busy timeout: how long a statement waits for another connection's lock before failing with
/// [`ErrorKind::Busy`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The default number of prepared statements each connection keeps.
pub const DEFAULT_STATEMENT_CACHE_CAPACITY: usize = 128;

/// Options for opening a [`Connection`](super::Connection).
///
/// ```
/// # fn main() -> asqlite::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let conn = asqlite::blocking::OpenOptions::new()
///     .busy_timeout(std::time::Duration::from_secs(1))
///     .statement_cache_capacity(256)
///     .journal_mode(asqlite::JournalMode::Wal)
///     .foreign_keys(false)
///     .open(dir.path().join("app.db"))?;
/// assert_eq!(conn.pragma_query_value::<String>("journal_mode")?, "wal");
/// assert!(!conn.pragma_query_value::<bool>("foreign_keys")?);
/// # drop(conn); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub(crate) read_only: bool,
    pub(crate) create: bool,
    pub(crate) uri: bool,
    pub(crate) busy_timeout: Duration,
    pub(crate) cache_capacity: usize,
    pub(crate) foreign_keys: Option<bool>,
    pub(crate) journal_mode: Option<JournalMode>,
    pub(crate) process_exclusive: bool,
    /// A pool's connection: the pool checks what `process_exclusive` needs (a writable pool, WAL, which it sets
    /// after the open), and its read-only connections, the readers, share the lock its writer took.
    pub(crate) in_pool: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read_only: false,
            create: true,
            uri: false,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            cache_capacity: DEFAULT_STATEMENT_CACHE_CAPACITY,
            foreign_keys: None,
            journal_mode: None,
            process_exclusive: false,
            in_pool: false,
        }
    }
}

impl OpenOptions {
    /// Read-write, create if missing, no URI filenames, a 5 s busy timeout, 128 cached statements; the journal
    /// mode as the file has it and foreign keys as SQLite's build sets them (on, in the bundled library).
    pub fn new() -> Self {
        Self::default()
    }

    /// Open read-only (the file must exist).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Create the file if it is missing (the default); ignored when read-only.
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }

    /// Interpret the path as a `file:` URI (`file:app.db?mode=ro&cache=private`). Off (the default), a path is a
    /// file name, even one that starts with `file:` or holds `?mode=memory`.
    pub fn uri(mut self, yes: bool) -> Self {
        self.uri = yes;
        self
    }

    /// How long to wait for a lock held by another connection before failing with [`ErrorKind::Busy`].
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many prepared statements to keep (0 turns the cache off).
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Set `PRAGMA foreign_keys` ON or OFF when the connection opens. Unset, the connection keeps SQLite's
    /// default, which the bundled library builds as ON.
    pub fn foreign_keys(mut self, on: bool) -> Self {
        self.foreign_keys = Some(on);
        self
    }

    /// Switch the database to this journal mode when the connection opens, and fail if SQLite keeps another
    /// (leaving WAL needs the only connection to the file). Unset, the file keeps the mode it has. An in-memory
    /// database keeps its `MEMORY` journal unless [`JournalMode::Off`] is asked for.
    pub fn journal_mode(mut self, mode: JournalMode) -> Self {
        self.journal_mode = Some(mode);
        self
    }
    /// Lock the database file for this process alone, through SQLite's `unix-excl` VFS (Unix only; off by
    /// default). The first read takes one lock on the file for the whole process and keeps it until the process's
    /// last connection to the file closes; the WAL index lives in this process's memory instead of the `-shm`
    /// file. Other connections of this process share the file as usual; another process cannot read or write it
    /// meanwhile (its calls fail with [`ErrorKind::Busy`], "database is locked"), and opening this connection
    /// fails the same way while another process has the file open (the open takes the lock).
    ///
    /// What it buys: in WAL mode every read transaction otherwise takes and drops a lock in the `-shm` file, two
    /// system calls, which are most of what a point query by key costs (see the pool's
    /// [`process_exclusive`](crate::PoolBuilder::process_exclusive)). Use it when one process owns the database,
    /// as a service usually does; not when other programs (the `sqlite3` shell, a backup job) read it while the
    /// process runs. A read-only connection cannot take the lock (it needs a file handle open for writing), so
    /// asking for both is an error, and so is a `file:` URI that would open the file without the lock (`vfs=` other
    /// than `unix-excl`, `mode=ro`, `nolock`, `immutable`). A memory database has no file to lock: the option
    /// changes nothing there.
    ///
    /// It needs WAL mode: the open fails unless the file is in WAL mode once [`journal_mode`](Self::journal_mode)
    /// is applied, and the file must stay in it. Outside WAL a connection of this process opened without the option
    /// could replace the process's lock with its own and then drop it, and the process-exclusive connections would
    /// write with no lock at all.
    ///
    /// Every connection of this process to the file should ask for it. SQLite keeps one lock state per file and
    /// process: a connection opened without it that reads the file before the lock is taken leaves the file shared
    /// (the lock is then never taken, and other processes read and write as usual, through the `-shm` file). Closing
    /// any other handle this process has on the file (a [`std::fs::File`] too) drops the lock as well: POSIX locks
    /// belong to the process, as SQLite's documentation warns for every lock it takes. A database `ATTACH`ed to
    /// such a connection opens through the same VFS, so it too is locked for the process while attached (name it
    /// as a URI with `vfs=unix` to attach it shared), and it should be in WAL mode for the same reason.
    pub fn process_exclusive(mut self, yes: bool) -> Self {
        self.process_exclusive = yes;
        self
    }

    /// Open the database at `path` (`":memory:"` for a private in-memory database).
    pub fn open(&self, path: impl AsRef<Path>) -> Result<super::Connection> {
        super::Connection::open_with(path, self)
    }

    /// Apply the settings made after the open: the journal mode, then foreign keys.
    pub(crate) fn configure(&self, conn: &super::Connection, path: &Path) -> Result<()> {
        if let Some(mode) = self.journal_mode {
            set_journal_mode(conn, mode, path, is_memory(path, self.uri))?;
        }
        if let Some(on) = self.foreign_keys {
            conn.pragma_update("foreign_keys", on)?;
        }
        Ok(())
    }

    /// The flags to open with (`memory`: SQLite's in-memory flag; `exclusive`: through `unix-excl`).
    pub(crate) fn flags(&self, memory: bool, exclusive: bool) -> OpenFlags {
        OpenFlags {
            read_only: self.read_only,
            create: self.create,
            uri: self.uri,
            memory,
            process_exclusive: exclusive,
        }
    }
}

/// A path as the C string SQLite wants. Without `uri`, a relative path that starts with `file:` gets a `./` in
/// front: SQLite (built with `SQLITE_USE_URI`, as the bundled library is) reads any name starting with `file:` as
/// a URI, whatever the open flags say, so `file::memory:` would open a memory database instead of that file.
pub(crate) fn path_to_cstring(path: &Path, uri: bool) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("path {} is not valid UTF-8", path.display())))?
        .as_bytes();
    let bytes = if !uri && bytes.starts_with(b"file:") { [b"./", bytes].concat() } else { bytes.to_vec() };
    CString::new(bytes).map_err(|_| {
        Error::new(ErrorKind::InvalidInput, format!("path {:?} contains a NUL byte", path.display().to_string()))
    })
}

/// Whether the database `path` names lives in memory, private to its connection: `:memory:`, the empty name (a
/// private temporary database), or, only when `uri` is set, a `file:` URI naming `:memory:` or with `mode=memory`
/// (or `vfs=memdb`). Without `uri` a path is a path: `dir/mode=memory/app.db` or `x?mode=memory` are files.
pub(crate) fn is_memory(path: &Path, uri: bool) -> bool {
    let s = path.to_string_lossy();
    if s.is_empty() || s == ":memory:" {
        return true;
    }
    if !uri {
        return false;
    }
    let Some((path, query)) = split_uri(&s) else { return false };
    percent_decode(path) == b":memory:"
        || uri_params(query).any(|(k, v)| (k == b"mode" && v == b"memory") || (k == b"vfs" && v == b"memdb"))
}

/// The option of a `file:` URI (only when `uri` is set) that would silently undo `process_exclusive`, as
/// `key=value`: a `vfs` other than `unix-excl` (SQLite opens the file through the URI's VFS whatever the caller
/// passes), `mode=ro` (a read-only handle cannot take the process's lock), or a true `nolock` or `immutable` (no
/// lock at all).
pub(crate) fn uri_undoes_process_exclusive(path: &Path, uri: bool) -> Option<String> {
    if !uri {
        return None;
    }
    let s = path.to_string_lossy();
    let (_, query) = split_uri(&s)?;
    let truthy = |v: &[u8]| {
        let v = String::from_utf8_lossy(v).to_ascii_lowercase();
        matches!(v.as_str(), "yes" | "true" | "on") || v.parse::<i64>().is_ok_and(|n| n != 0)
    };
    let found = uri_params(query).find(|(k, v)| match k.as_slice() {
        b"vfs" => v != b"unix-excl",
        b"mode" => v == b"ro",
        b"nolock" | b"immutable" => truthy(v),
        _ => false,
    });
    found.map(|(k, v)| format!("{}={}", String::from_utf8_lossy(&k), String::from_utf8_lossy(&v)))
}

/// A `file:` URI's path and query, each a slice of `s` (the query empty when there is none): SQLite's grammar is
/// file:[//authority]path[?key=value&...][#fragment].
fn split_uri(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("file:")?;
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (path, query) = rest.split_once('?').unwrap_or((rest, &rest[rest.len()..]));
    let path = match path.strip_prefix("//") {
        Some(authority_and_path) => authority_and_path.find('/').map_or("", |i| &authority_and_path[i..]),
        None => path,
    };
    Some((path, query))
}

/// `path` for a read-only open: a `file:` URI (only when `uri` is set) whose `mode` asks for `rw` or `rwc` gets
/// `mode=ro` instead (SQLite refuses a URI that asks for more access than the open's flags give); any other path
/// as it is.
pub(crate) fn read_only_path(path: &Path, uri: bool) -> std::path::PathBuf {
    // A name that is not UTF-8 is passed as it is (rewriting it lossily would name another file).
    let Some((s, (_, query))) = path.to_str().filter(|_| uri).and_then(|s| Some((s, split_uri(s)?))) else {
        return path.to_path_buf();
    };
    let asks_write = |pair: &str| {
        uri_params(pair).next().is_some_and(|(k, v)| k == b"mode" && matches!(v.as_slice(), b"rw" | b"rwc"))
    };
    if !query.split('&').any(asks_write) {
        return path.to_path_buf();
    }
    let new_query: Vec<&str> = query.split('&').map(|p| if asks_write(p) { "mode=ro" } else { p }).collect();
    // The query is a slice of `s`: where it starts there.
    let start = query.as_ptr() as usize - s.as_ptr() as usize;
    let end = start + query.len();
    std::path::PathBuf::from(format!("{}{}{}", &s[..start], new_query.join("&"), &s[end..]))
}

/// A URI query's `key=value` pairs, `%XX` escapes decoded.
fn uri_params(query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    query.split('&').map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

/// `%XX` escapes decoded, as SQLite decodes a URI (anything else, `+` too, as it is).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{is_memory, read_only_path};
    use std::path::Path;

    /// A pool's readers open a URI that asks for read-write with `mode=ro`; everything else stays as written.
    #[test]
    fn read_only_path_turns_only_a_uris_read_write_mode_into_read_only() {
        let ro = |p: &str, uri: bool| read_only_path(Path::new(p), uri).to_string_lossy().into_owned();
        assert_eq!(ro("file:a.db?mode=rwc", true), "file:a.db?mode=ro");
        assert_eq!(
            ro("file:a.db?cache=private&mode=rw&psow=1#frag", true),
            "file:a.db?cache=private&mode=ro&psow=1#frag"
        );
        assert_eq!(ro("file:a.db?mod%65=rw%63", true), "file:a.db?mode=ro");
        for same in ["file:a.db?mode=ro", "file:a.db", "file:a.db?cache=shared", "file:a.db#mode=rw", "a.db?mode=rw"] {
            assert_eq!(ro(same, true), same);
        }
        assert_eq!(ro("file:a.db?mode=rw", false), "file:a.db?mode=rw", "a path, not a URI");
    }

    /// A pool decides from this whether to run WAL with readers: URI options count only when URIs were asked for.
    #[test]
    fn uri_options_make_a_memory_database_only_with_uri_on() {
        let mem = |p: &str, uri| is_memory(Path::new(p), uri);
        for p in [":memory:", ""] {
            assert!(mem(p, false) && mem(p, true), "{p:?}");
        }
        for p in ["file::memory:", "file::memory:?cache=shared", "file:x.db?mode=memory", "file:x?vfs=memdb"] {
            assert!(mem(p, true), "{p:?} with uri");
            assert!(!mem(p, false), "{p:?} without uri");
        }
        assert!(mem("file:%3Amemory%3A", true));
        assert!(mem("file:///:memory:?a=b&mode=memory#frag", true));
        for p in ["dir/mode=memory/app.db", "x?mode=memory", "file:app.db", "file:a.db?mode=ro", "file:a?xmode=memory"]
        {
            assert!(!mem(p, false) && !mem(p, true), "{p:?}");
        }
        assert!(!mem("file:dir/mode=memory/app.db", true), "mode=memory in the path is not an option");
    }
}
