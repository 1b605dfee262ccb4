//! Transactions and savepoints on the blocking connection.

use std::ops::Deref;

use super::Connection;
use crate::Result;

/// How `BEGIN` takes its locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionBehavior {
    /// `BEGIN DEFERRED`: take locks at the first read or write (the SQLite default).
    #[default]
    Deferred,
    /// `BEGIN IMMEDIATE`: take the write lock now, so later writes cannot fail with `SQLITE_BUSY`.
    Immediate,
    /// `BEGIN EXCLUSIVE`: as immediate; outside WAL mode also keeps readers out.
    Exclusive,
}

impl TransactionBehavior {
    pub(crate) fn begin_sql(self) -> &'static str {
        match self {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
        }
    }
}

/// A transaction: commit it, roll it back, or drop it to roll back.
///
/// It dereferences to the [`Connection`], so every method runs inside it. If SQLite ends the transaction on its
/// own (a statement interrupted, a full disk, `OR ROLLBACK`, a `COMMIT` written in SQL text), every later
/// statement through the connection fails with [`ErrorKind::TransactionAborted`](crate::ErrorKind) until the
/// transaction is dropped, and [`commit`](Transaction::commit) fails: nothing runs in autocommit by mistake.
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Transaction<'c> {
    pub(crate) fn begin(conn: &'c Connection, behavior: TransactionBehavior) -> Result<Self> {
        conn.execute_batch(behavior.begin_sql())?;
        conn.tx.open();
        Ok(Transaction { conn, done: false })
    }

    /// Commit. If `COMMIT` fails the transaction is rolled back and the error returned; if SQLite had already
    /// ended the transaction, fails with [`ErrorKind::TransactionAborted`](crate::ErrorKind).
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        end(self.conn, true)
    }

    /// Roll back (nothing to do if SQLite already rolled it back).
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        end(self.conn, false)
    }

    /// Open a savepoint inside the transaction.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self.conn)
    }
}

/// End the transaction a handle holds on `conn`: the checks stop, then `COMMIT` or `ROLLBACK` runs, unless SQLite
/// has ended it already (a commit then fails; a roll-back has nothing left to do).
pub(crate) fn end(conn: &Connection, commit: bool) -> Result<()> {
    let aborted = conn.tx.aborted();
    conn.tx.free();
    if let Some(e) = aborted {
        return if commit { Err(e) } else { Ok(()) };
    }
    if conn.is_autocommit() {
        // Ended between our checks (cannot happen through this crate's calls): never commit nothing silently.
        return if commit {
            Err(crate::Error::new(crate::ErrorKind::TransactionAborted, "the transaction is no longer open"))
        } else {
            Ok(())
        };
    }
    let out = if commit { conn.execute_batch("COMMIT") } else { conn.execute_cleanup("ROLLBACK") };
    if out.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_cleanup("ROLLBACK");
    }
    out
}

impl Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = end(self.conn, false);
        }
    }
}

/// A savepoint: commit it (release it into the enclosing transaction), roll back to it, or drop it to roll back.
///
/// Savepoints nest; outside a transaction a savepoint starts one, and committing the outermost commits it. A
/// savepoint that started the transaction holds it as a [`Transaction`] does: if SQLite ends it, later statements
/// fail instead of running in autocommit.
#[derive(Debug)]
pub struct Savepoint<'c> {
    conn: &'c Connection,
    name: String,
    done: bool,
    /// Whether this savepoint began the transaction (outside one, `SAVEPOINT` begins it).
    outermost: bool,
}

impl<'c> Savepoint<'c> {
    pub(crate) fn open(conn: &'c Connection) -> Result<Self> {
        if let Some(e) = conn.tx.aborted() {
            return Err(e);
        }
        let outermost = conn.is_autocommit();
        let depth = conn.savepoint_depth.get() + 1;
        let name = format!("asqlite_sp{depth}");
        conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        conn.savepoint_depth.set(depth);
        if outermost {
            conn.tx.open();
        }
        Ok(Savepoint { conn, name, done: false, outermost })
    }

    /// The savepoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Release the savepoint, keeping its changes (committing them, for the outermost).
    pub fn commit(mut self) -> Result<()> {
        self.finish();
        if let Some(e) = self.conn.tx.aborted() {
            if self.outermost {
                self.conn.tx.free();
            }
            return Err(e);
        }
        if self.outermost {
            self.conn.tx.free();
        }
        let out = self.conn.execute_batch(&format!("RELEASE {}", self.name));
        if out.is_err() && self.outermost && !self.conn.is_autocommit() {
            let _ = self.conn.execute_cleanup("ROLLBACK");
        }
        out
    }

    /// Undo everything since the savepoint and release it.
    pub fn rollback(mut self) -> Result<()> {
        self.rollback_and_release()
    }

    /// Open a savepoint nested inside this one.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self.conn)
    }

    fn rollback_and_release(&mut self) -> Result<()> {
        self.finish();
        if self.conn.tx.aborted().is_some() {
            // SQLite rolled back the whole transaction: there is nothing left to roll back to.
            if self.outermost {
                self.conn.tx.free();
            }
            return Ok(());
        }
        if self.outermost {
            self.conn.tx.free();
        }
        self.conn.execute_cleanup(&format!("ROLLBACK TO {0}; RELEASE {0}", self.name))
    }

    fn finish(&mut self) {
        self.done = true;
        self.conn.savepoint_depth.set(self.conn.savepoint_depth.get().saturating_sub(1));
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.rollback_and_release();
        }
    }
}
