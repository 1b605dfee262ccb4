//! The one error type of the crate.
//!
//! Every failure, from SQLite or from the driver around it, is an [`Error`]: it keeps SQLite's primary and
//! extended result codes, SQLite's message, the SQL that failed and the byte offset SQLite points at, and it sorts
//! itself into an [`ErrorKind`] that is easy to match (constraint violations, busy, no rows, bad parameters, a
//! closed pool, ...).

use std::fmt;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarsely: the part of an [`Error`] you match on.
///
/// The list grows as the crate does, so matches need a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `UNIQUE` constraint failed.
    UniqueViolation,
    /// A `PRIMARY KEY` constraint failed.
    PrimaryKeyViolation,
    /// A `FOREIGN KEY` constraint failed.
    ForeignKeyViolation,
    /// A `NOT NULL` constraint failed.
    NotNullViolation,
    /// A `CHECK` constraint failed.
    CheckViolation,
    /// Any other constraint (a trigger's `RAISE`, a rowid, ...).
    OtherConstraint,
    /// The database file is locked by another connection (`SQLITE_BUSY`) past the busy timeout.
    Busy,
    /// A table is locked inside this connection's own process (`SQLITE_LOCKED`).
    Locked,
    /// A query that must return a row returned none.
    NoRows,
    /// A query that must return at most one row returned more.
    TooManyRows,
    /// The number of parameters given does not match the statement's.
    ParameterCount,
    /// A named parameter is unknown to the statement, or the statement's parameter was not given.
    ParameterName,
    /// A value could not be converted to or from the requested Rust type.
    TypeConversion,
    /// The SQL is wrong: a syntax error, or SQL that SQLite refuses for another reason when it prepares or runs it
    /// (an ambiguous column, a misused aggregate, a wrong number of values, ...): `SQLITE_ERROR`, except for the
    /// missing or existing schema objects that have kinds of their own ([`ErrorKind::NoSuchTable`],
    /// [`ErrorKind::NoSuchColumn`], [`ErrorKind::Schema`]).
    Syntax,
    /// The statement names a table or view that does not exist ("no such table", "no such view").
    NoSuchTable,
    /// The statement names a column that does not exist ("no such column", "table t has no column named c").
    NoSuchColumn,
    /// The statement names another schema object that does not exist (an index, trigger, function, collation or
    /// virtual-table module), or creates one that already exists (a table, index, view or trigger).
    Schema,
    /// The connection, pool or worker is closed.
    Closed,
    /// The statement was interrupted (a dropped future, a statement timeout or an explicit interrupt).
    Interrupted,
    /// The statement ran longer than the configured statement timeout.
    Timeout,
    /// A user closure panicked; any transaction it had open was rolled back.
    Panicked,
    /// The operation was cancelled before it finished.
    Cancelled,
    /// The database is read-only (a read-only file, directory or connection).
    ReadOnly,
    /// The database file could not be opened (missing directory, permissions, ...).
    CantOpen,
    /// The database file is corrupt or is not a database.
    Corrupt,
    /// The disk or a size limit is full.
    Full,
    /// A string or blob is larger than SQLite's limit.
    TooBig,
    /// The input was invalid before it reached SQLite (a NUL in a path, a bad pragma name, ...).
    InvalidInput,
    /// SQLite refused the call as a misuse of its API.
    Misuse,
    /// SQLite ended the transaction this call belongs to: it rolled it back after a statement failed with an
    /// interrupt, a full database, an I/O error or `OR ROLLBACK` (or a `COMMIT`/`ROLLBACK` written in SQL text
    /// ended it). Nothing more runs through that transaction's handle and `commit` fails; begin a new one.
    TransactionAborted,
    /// Reading or writing a file outside SQLite failed (the temporary file a paused stream's rows spill to); a
    /// full disk is [`ErrorKind::Full`] instead.
    Io,
    /// Any other SQLite error: see [`Error::code`] and [`Error::extended_code`].
    Sqlite,
}

impl ErrorKind {
    /// Whether this kind is one of the constraint violations.
    pub fn is_constraint(self) -> bool {
        matches!(
            self,
            Self::UniqueViolation
                | Self::PrimaryKeyViolation
                | Self::ForeignKeyViolation
                | Self::NotNullViolation
                | Self::CheckViolation
                | Self::OtherConstraint
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Self::UniqueViolation => "unique constraint violated",
            Self::PrimaryKeyViolation => "primary key constraint violated",
            Self::ForeignKeyViolation => "foreign key constraint violated",
            Self::NotNullViolation => "not null constraint violated",
            Self::CheckViolation => "check constraint violated",
            Self::OtherConstraint => "constraint violated",
            Self::Busy => "database is busy",
            Self::Locked => "database table is locked",
            Self::NoRows => "query returned no rows",
            Self::TooManyRows => "query returned more than one row",
            Self::ParameterCount => "wrong number of parameters",
            Self::ParameterName => "wrong parameter name",
            Self::TypeConversion => "type conversion failed",
            Self::Syntax => "SQL error",
            Self::NoSuchTable => "no such table",
            Self::NoSuchColumn => "no such column",
            Self::Schema => "schema object missing or already existing",
            Self::Closed => "closed",
            Self::Interrupted => "interrupted",
            Self::Timeout => "statement timed out",
            Self::Panicked => "closure panicked",
            Self::Cancelled => "cancelled",
            Self::ReadOnly => "database is read-only",
            Self::CantOpen => "unable to open database file",
            Self::Corrupt => "database is corrupt",
            Self::Full => "database or disk is full",
            Self::TooBig => "string or blob too big",
            Self::InvalidInput => "invalid input",
            Self::Misuse => "API misuse",
            Self::TransactionAborted => "transaction aborted",
            Self::Io => "I/O error",
            Self::Sqlite => "SQLite error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An error from SQLite or from the driver.
///
/// The error is one pointer wide, so `Result<T>` stays small on hot paths.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    extended_code: Option<i32>,
    message: String,
    sql: Option<String>,
    offset: Option<usize>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a message and no SQLite code.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                extended_code: None,
                message: message.into(),
                sql: None,
                offset: None,
                source: None,
            }),
        }
    }

    /// An error carrying SQLite's extended result code.
    #[cold]
    pub(crate) fn from_sqlite(extended_code: i32, message: String, sql: Option<&str>, offset: Option<usize>) -> Self {
        let kind = kind_of(extended_code, &message);
        Self {
            inner: Box::new(Inner {
                kind,
                extended_code: Some(extended_code),
                message,
                sql: sql.map(str::to_owned),
                offset,
                source: None,
            }),
        }
    }

    /// Attach the SQL the error came from, unless it already has one.
    #[must_use]
    pub(crate) fn with_sql(mut self, sql: &str) -> Self {
        if self.inner.sql.is_none() {
            self.inner.sql = Some(sql.to_owned());
        }
        self
    }

    /// Point the error at byte `offset` of its SQL.
    #[must_use]
    pub(crate) fn with_offset(mut self, offset: usize) -> Self {
        self.inner.offset = Some(offset);
        self
    }

    /// Point the error at the whole of `full_sql`, of which the failing statement started at byte `base`.
    #[must_use]
    pub(crate) fn rebase(mut self, full_sql: &str, base: usize) -> Self {
        if self.inner.sql.is_some() || self.inner.offset.is_some() {
            self.inner.offset = self.inner.offset.map(|o| o + base);
            self.inner.sql = Some(full_sql.to_owned());
        }
        self
    }

    /// Put `context` in front of the message, keeping the codes, the SQL and the offset.
    #[must_use]
    pub(crate) fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.inner.message = format!("{context}: {}", self.inner.message);
        self
    }

    /// Attach an underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// An I/O error outside SQLite, after `context`: a full disk or file size limit is [`ErrorKind::Full`], anything
    /// else [`ErrorKind::Io`]. The I/O error is the source.
    #[cold]
    pub(crate) fn io(context: &str, e: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match e.kind() {
            Io::StorageFull | Io::FileTooLarge | Io::QuotaExceeded => ErrorKind::Full,
            _ => ErrorKind::Io,
        };
        Self::new(kind, format!("{context}: {e}")).with_source(e)
    }

    #[cold]
    pub(crate) fn closed(what: &str) -> Self {
        Self::new(ErrorKind::Closed, format!("{what} is closed"))
    }

    /// The coarse kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// SQLite's primary result code (`SQLITE_CONSTRAINT` = 19, ...), if the error came from SQLite.
    pub fn code(&self) -> Option<i32> {
        self.inner.extended_code.map(|c| c & 0xff)
    }

    /// SQLite's extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, ...), if the error came from SQLite.
    pub fn extended_code(&self) -> Option<i32> {
        self.inner.extended_code
    }

    /// The message: SQLite's own where it gave one, else the driver's.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The SQL that failed, where there was one.
    pub fn sql(&self) -> Option<&str> {
        self.inner.sql.as_deref()
    }

    /// The byte offset into [`Error::sql`] that SQLite points at, where it gave one.
    pub fn offset(&self) -> Option<usize> {
        self.inner.offset
    }

    /// Whether the error is a constraint violation of any kind.
    pub fn is_constraint(&self) -> bool {
        self.inner.kind.is_constraint()
    }
}

/// Sort an extended result code (and, for `SQLITE_ERROR`, which has no extended code for it, SQLite's message)
/// into a kind.
fn kind_of(extended: i32, message: &str) -> ErrorKind {
    use libsqlite3_sys as ffi;
    match extended {
        _ if extended & 0xff == ffi::SQLITE_ERROR => sql_error_kind(message),
        ffi::SQLITE_CONSTRAINT_UNIQUE => ErrorKind::UniqueViolation,
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::PrimaryKeyViolation,
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
        ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
        ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
        ffi::SQLITE_INTERRUPT => ErrorKind::Interrupted,
        ffi::SQLITE_TOOBIG => ErrorKind::TooBig,
        ffi::SQLITE_RANGE => ErrorKind::ParameterCount,
        _ => match extended & 0xff {
            ffi::SQLITE_CONSTRAINT => ErrorKind::OtherConstraint,
            ffi::SQLITE_BUSY => ErrorKind::Busy,
            ffi::SQLITE_LOCKED => ErrorKind::Locked,
            ffi::SQLITE_READONLY => ErrorKind::ReadOnly,
            ffi::SQLITE_CANTOPEN => ErrorKind::CantOpen,
            ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB => ErrorKind::Corrupt,
            ffi::SQLITE_FULL => ErrorKind::Full,
            ffi::SQLITE_MISUSE => ErrorKind::Misuse,
            ffi::SQLITE_MISMATCH => ErrorKind::TypeConversion,
            _ => ErrorKind::Sqlite,
        },
    }
}

/// The kind of an `SQLITE_ERROR`, from SQLite's message (whose wording SQLite keeps stable).
fn sql_error_kind(message: &str) -> ErrorKind {
    const TABLE: &[&str] = &["no such table: ", "no such view: "];
    const OTHER: &[&str] = &[
        "no such index: ",
        "no such trigger: ",
        "no such function: ",
        "no such collation sequence: ",
        "no such module: ",
        "unable to identify the object to be reindexed",
    ];
    if TABLE.iter().any(|p| message.starts_with(p)) {
        ErrorKind::NoSuchTable
    } else if message.starts_with("no such column: ") || message.contains(" has no column named ") {
        ErrorKind::NoSuchColumn
    } else if OTHER.iter().any(|p| message.starts_with(p))
        || message.ends_with(" already exists")
        || message.starts_with("there is already ")
    {
        ErrorKind::Schema
    } else {
        ErrorKind::Syntax
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.write_str(&i.message)?;
        if let Some(code) = i.extended_code {
            write!(f, " (code {code})")?;
        }
        if let Some(sql) = &i.sql {
            match i.offset {
                Some(off) => write!(f, " in `{sql}` at offset {off}")?,
                None => write!(f, " in `{sql}`")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        if let Some(c) = i.extended_code {
            d.field("extended_code", &c);
        }
        if let Some(s) = &i.sql {
            d.field("sql", s);
        }
        if let Some(o) = i.offset {
            d.field("offset", &o);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_and_thread_safe() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn kinds_follow_extended_codes() {
        use libsqlite3_sys as ffi;
        assert_eq!(kind_of(ffi::SQLITE_CONSTRAINT_UNIQUE, ""), ErrorKind::UniqueViolation);
        assert_eq!(kind_of(ffi::SQLITE_BUSY_SNAPSHOT, ""), ErrorKind::Busy);
        assert_eq!(kind_of(ffi::SQLITE_CONSTRAINT_TRIGGER, ""), ErrorKind::OtherConstraint);
        assert_eq!(kind_of(ffi::SQLITE_NOTADB, ""), ErrorKind::Corrupt);
        let e = Error::from_sqlite(ffi::SQLITE_CONSTRAINT_NOTNULL, "NOT NULL failed".into(), Some("INSERT"), None);
        assert_eq!(e.code(), Some(ffi::SQLITE_CONSTRAINT));
        assert!(e.is_constraint());
    }

    /// Every SQLITE_ERROR was `Syntax`, "no such table" included: a missing table could not be told from a typo
    /// without parsing the message.
    #[test]
    fn sqlite_error_was_syntax_even_for_a_missing_table() {
        let conn = crate::blocking::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x); CREATE INDEX i ON t (x)").unwrap();
        let kind = |sql: &str| conn.execute_batch(sql).unwrap_err().kind();
        assert_eq!(kind("SELECT * FROM nope"), ErrorKind::NoSuchTable);
        assert_eq!(kind("DROP VIEW nope"), ErrorKind::NoSuchTable);
        assert_eq!(kind("SELECT nope FROM t"), ErrorKind::NoSuchColumn);
        assert_eq!(kind("INSERT INTO t (nope) VALUES (1)"), ErrorKind::NoSuchColumn);
        assert_eq!(kind("UPDATE t SET nope = 1"), ErrorKind::NoSuchColumn);
        assert_eq!(kind("CREATE TABLE t (y)"), ErrorKind::Schema);
        assert_eq!(kind("CREATE INDEX i ON t (x)"), ErrorKind::Schema);
        assert_eq!(kind("DROP INDEX nope"), ErrorKind::Schema);
        assert_eq!(kind("DROP TRIGGER nope"), ErrorKind::Schema);
        assert_eq!(kind("SELECT nope(1)"), ErrorKind::Schema);
        assert_eq!(kind("SELECT 'a' REGEXP 'b'"), ErrorKind::Schema);
        assert_eq!(kind("SELECT x FROM t COLLATE nope"), ErrorKind::Syntax);
        assert_eq!(kind("SELECT x FROM t ORDER BY x COLLATE nope"), ErrorKind::Schema);
        assert_eq!(kind("REINDEX nope"), ErrorKind::Schema);
        assert_eq!(kind("SELEC 1"), ErrorKind::Syntax);
        assert_eq!(kind("SELECT (1"), ErrorKind::Syntax);
        assert_eq!(kind("SELECT max(x, count(*)) FROM t GROUP BY count(*)"), ErrorKind::Syntax);
        assert_eq!(kind("SELECT x FROM t AS a, t AS b"), ErrorKind::Syntax, "ambiguous column name");
    }
}
