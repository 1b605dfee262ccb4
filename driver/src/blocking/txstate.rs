//! The transaction a handle holds on a connection, as an explicit state that SQLite can change under us.
//!
//! SQLite ends a transaction on its own: a statement that fails with `SQLITE_INTERRUPT`, `SQLITE_FULL`,
//! `SQLITE_IOERR` or `SQLITE_NOMEM`, or under `OR ROLLBACK`, rolls the whole transaction back and returns the
//! connection to autocommit; a `COMMIT` or `ROLLBACK` written in SQL text ends it too. A handle that went on
//! running statements after that would run them in autocommit: each would commit at once, survive the handle's
//! `rollback()`, and the rows written before the failure would be silently gone.
//!
//! So while a handle ([`Transaction`](super::Transaction), an async transaction on its worker) holds a
//! transaction, the connection is [`TxState::Open`]: before every statement it checks that SQLite still has the
//! transaction open, and after every statement that it did not end it. The first time either check finds
//! autocommit, the state becomes [`TxState::Aborted`] with the reason, and every later statement fails with an
//! error of kind [`ErrorKind::TransactionAborted`] without running. `sqlite3_get_autocommit` reads one field, and
//! a connection that holds no transaction checks nothing.

use std::cell::RefCell;

use crate::ffi::RawConnection;
use crate::{Error, ErrorKind, Result};

/// Whether a handle holds a transaction on the connection, and whether SQLite has ended it.
#[derive(Debug, Default)]
pub(crate) enum TxState {
    /// No handle holds a transaction: statements run as they come (autocommit, or a transaction begun in SQL).
    #[default]
    Free,
    /// A handle holds an open transaction: no statement may run outside it.
    Open,
    /// SQLite ended the handle's transaction; why.
    Aborted(Box<str>),
}

/// The cell a connection keeps its [`TxState`] in.
#[derive(Debug, Default)]
pub(crate) struct TxCell(RefCell<TxState>);

impl TxCell {
    /// A handle's transaction has begun.
    pub fn open(&self) {
        *self.0.borrow_mut() = TxState::Open;
    }

    /// The driver ended the handle's transaction itself (it rolled it back): later statements fail with `why`.
    pub fn abort(&self, why: &str) {
        *self.0.borrow_mut() = TxState::Aborted(why.into());
    }

    /// The handle's transaction ends (it is about to commit or roll back, or has): no more checks.
    pub fn free(&self) {
        *self.0.borrow_mut() = TxState::Free;
    }

    /// The error every call on an aborted transaction gets, if it was aborted.
    pub fn aborted(&self) -> Option<Error> {
        match &*self.0.borrow() {
            TxState::Aborted(why) => Some(aborted_error(why)),
            _ => None,
        }
    }

    /// Before a statement runs: fail if the handle's transaction is gone.
    #[inline]
    pub fn before(&self, raw: &RawConnection) -> Result<()> {
        match &*self.0.borrow() {
            TxState::Free => return Ok(()),
            TxState::Open if !raw.is_autocommit() => return Ok(()),
            TxState::Open => {}
            TxState::Aborted(why) => return Err(aborted_error(why)),
        }
        let why: Box<str> = "SQLite ended it outside this driver's view".into();
        let e = aborted_error(&why);
        *self.0.borrow_mut() = TxState::Aborted(why);
        Err(e)
    }

    /// After a statement ran (or failed): if it ended the handle's transaction, note why and fail. A statement
    /// that SQLite failed keeps its own error (its kind says what happened), with a note that the transaction was
    /// rolled back. An error of the driver's after a statement that ran (no rows from a `COMMIT` run by
    /// `query_row`, a decoder's error) is no roll-back: that statement ended the transaction itself, maybe by
    /// committing it, and the error says so.
    #[inline]
    pub fn after<R>(&self, raw: &RawConnection, out: Result<R>) -> Result<R> {
        if !matches!(*self.0.borrow(), TxState::Open) || !raw.is_autocommit() {
            return out;
        }
        self.ended(out)
    }

    #[cold]
    fn ended<R>(&self, out: Result<R>) -> Result<R> {
        let (why, out): (Box<str>, Result<R>) = match out {
            // Only SQLite's own failure (it carries SQLite's code) rolled the transaction back.
            Err(e) if e.extended_code().is_some() => {
                let why = format!("SQLite rolled it back when a statement failed: {e}").into_boxed_str();
                (why, Err(e.context("the transaction was rolled back by SQLite")))
            }
            Ok(_) | Err(_) => {
                let why: Box<str> =
                    "a COMMIT, ROLLBACK, END or RELEASE in the SQL text ended it (maybe committing it); end transactions \
                     with commit() or rollback()"
                        .into();
                let e = aborted_error(&why);
                (why, Err(e))
            }
        };
        *self.0.borrow_mut() = TxState::Aborted(why);
        out
    }
}

#[cold]
fn aborted_error(why: &str) -> Error {
    Error::new(
        ErrorKind::TransactionAborted,
        format!("the transaction is no longer open ({why}); nothing more runs in it, and commit fails"),
    )
}
