//! The driver's change feed on one connection: row changes held back until their transaction commits.
//!
//! The update hook notes each change with the serial number of the top-level statement that made it (the trace
//! hook numbers statements as they start). A statement that fails inside a transaction loses its changes when
//! SQLite undid them (it reports 0 changes then), a `ROLLBACK TO` loses those made since its savepoint began (the
//! trace hook sees `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` start), and a rollback loses all. At the commit hook
//! the changes wait for the WAL hook (WAL mode: the commit is in the WAL) and are published then; in other journal
//! modes, at the commit hook. See [`super::hooks`] for the trampolines.

use std::sync::Arc;

use crate::changes::{Change, Operation};

/// Where the change feed's committed changes go, with how many were dropped for want of room.
pub(crate) type PublishFn = Box<dyn FnMut(Vec<Change>, u64) + Send>;

/// Changes a transaction may hold back before the feed only counts them (each subscriber's queue is smaller).
const PENDING_CAP: usize = 1 << 16;

/// The driver's change feed on one connection.
pub(crate) struct Feed {
    publish: PublishFn,
    /// Changes of the open transaction, with the serial number of the statement that made each.
    pub(super) pending: Vec<(u64, Change)>,
    /// Changes past [`PENDING_CAP`], counted only.
    pub(super) overflow: u64,
    /// Changes whose commit began, waiting for the WAL hook.
    pub(super) committing: Vec<Change>,
    pub(super) committing_overflow: u64,
    /// Open savepoints (lowercase names) and the length of `pending` when each began.
    pub(super) savepoints: Vec<(Box<str>, usize)>,
    /// The serial number of the statement now running.
    pub(super) serial: u64,
    /// Publish at the WAL hook (WAL mode) rather than at the commit hook.
    pub(super) wal: bool,
    /// The last database and table names seen, shared by consecutive changes.
    names: Option<(Arc<str>, Arc<str>)>,
}

impl Feed {
    pub fn new(publish: PublishFn, wal: bool) -> Self {
        Feed {
            publish,
            pending: Vec::new(),
            overflow: 0,
            committing: Vec::new(),
            committing_overflow: 0,
            savepoints: Vec::new(),
            serial: 0,
            wal,
            names: None,
        }
    }

    pub(super) fn note(&mut self, operation: Operation, db: &str, table: &str) -> Option<Change> {
        if self.pending.len() >= PENDING_CAP {
            self.overflow += 1;
            return None;
        }
        let (database, tbl) = match &self.names {
            Some((d, t)) if &**d == db && &**t == table => (Arc::clone(d), Arc::clone(t)),
            _ => {
                let names: (Arc<str>, Arc<str>) = (db.into(), table.into());
                self.names = Some(names.clone());
                names
            }
        };
        Some(Change { operation, database, table: tbl, rowid: 0 })
    }

    pub(super) fn flush(&mut self) {
        if self.committing.is_empty() && self.committing_overflow == 0 {
            return;
        }
        let changes = std::mem::take(&mut self.committing);
        let dropped = std::mem::take(&mut self.committing_overflow);
        (self.publish)(changes, dropped);
    }

    pub(super) fn clear(&mut self) {
        self.pending.clear();
        self.overflow = 0;
        self.committing.clear();
        self.committing_overflow = 0;
        self.savepoints.clear();
    }

    /// A statement starts: a new serial number, and savepoint bookkeeping for `SAVEPOINT`, `RELEASE` and
    /// `ROLLBACK TO`.
    pub(super) fn statement_starts(&mut self, sql: &str) {
        self.serial += 1;
        match savepoint_command(sql) {
            Some(Savepoint::Begin(name)) => self.savepoints.push((name, self.pending.len())),
            Some(Savepoint::Release(name)) => {
                if let Some(i) = self.savepoints.iter().rposition(|(n, _)| *n == name) {
                    self.savepoints.truncate(i);
                }
            }
            Some(Savepoint::RollbackTo(name)) => {
                if let Some(i) = self.savepoints.iter().rposition(|(n, _)| *n == name) {
                    let mark = self.savepoints[i].1;
                    self.pending.truncate(mark);
                    self.savepoints.truncate(i + 1);
                }
            }
            None => {}
        }
    }
}

enum Savepoint {
    Begin(Box<str>),
    Release(Box<str>),
    RollbackTo(Box<str>),
}

/// A savepoint's name as SQLite compares it: unquoted, case-insensitive.
fn savepoint_name(word: &str) -> Box<str> {
    let w = word.trim_end_matches(';');
    let w = match (w.chars().next(), w.chars().last()) {
        (Some(a @ ('"' | '\'' | '`')), Some(b)) if a == b && w.len() >= 2 => &w[1..w.len() - 1],
        (Some('['), Some(']')) if w.len() >= 2 => &w[1..w.len() - 1],
        _ => w,
    };
    w.to_ascii_lowercase().into_boxed_str()
}

/// Whether `sql` is a savepoint command, and which.
fn savepoint_command(sql: &str) -> Option<Savepoint> {
    let first = sql.trim_start().as_bytes().first()?;
    if !matches!(first, b's' | b'S' | b'r' | b'R') {
        return None;
    }
    let mut words = sql.split(|c: char| c.is_ascii_whitespace() || c == ';').filter(|w| !w.is_empty());
    let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
    let head = words.next()?;
    if is(head, "savepoint") {
        return Some(Savepoint::Begin(savepoint_name(words.next()?)));
    }
    if is(head, "release") {
        let mut w = words.next()?;
        if is(w, "savepoint") {
            w = words.next()?;
        }
        return Some(Savepoint::Release(savepoint_name(w)));
    }
    if is(head, "rollback") {
        let mut w = words.next()?;
        if is(w, "transaction") {
            w = words.next()?;
        }
        if !is(w, "to") {
            return None;
        }
        w = words.next()?;
        if is(w, "savepoint") {
            w = words.next()?;
        }
        return Some(Savepoint::RollbackTo(savepoint_name(w)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savepoint_commands_are_recognised() {
        let name = |s: &str| match savepoint_command(s) {
            Some(Savepoint::Begin(n)) => format!("begin {n}"),
            Some(Savepoint::Release(n)) => format!("release {n}"),
            Some(Savepoint::RollbackTo(n)) => format!("rollback to {n}"),
            None => "none".into(),
        };
        assert_eq!(name("SAVEPOINT sp1"), "begin sp1");
        assert_eq!(name("  savepoint \"Sp 1\""), "begin \"sp"); // quoted names with spaces: rare, cut at the space
        assert_eq!(name("RELEASE SAVEPOINT [A]"), "release a");
        assert_eq!(name("release a;"), "release a");
        assert_eq!(name("ROLLBACK TO asqlite_atomic"), "rollback to asqlite_atomic");
        assert_eq!(name("rollback transaction to savepoint `x`"), "rollback to x");
        assert_eq!(name("ROLLBACK"), "none");
        assert_eq!(name("SELECT 1"), "none");
        assert_eq!(name("REPLACE INTO t VALUES (1)"), "none");
    }
}
