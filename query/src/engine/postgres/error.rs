//! PostgreSQL's errors as this crate's: the SQLSTATE sorted into the driver's [`ErrorKind`]s, so a program
//! matches a unique violation the same way on both databases; the tokio-postgres error (with its SQLSTATE,
//! detail, constraint, ...) is the source, and [`Error::sqlstate`](crate::Error::sqlstate) reads the code.

use asqlite::ErrorKind;
use tokio_postgres::error::SqlState;

use crate::error::Error;

/// The kind of a SQLSTATE, as SQLite's equivalent error would have it.
pub(crate) fn kind_of(state: &SqlState, constraint: Option<&str>) -> ErrorKind {
    let code = state.code();
    match code {
        // PostgreSQL names a primary key's constraint <table>_pkey unless told otherwise.
        "23505" if constraint.is_some_and(|c| c.ends_with("_pkey")) => ErrorKind::PrimaryKeyViolation,
        "23505" => ErrorKind::UniqueViolation,
        "23503" => ErrorKind::ForeignKeyViolation,
        "23502" => ErrorKind::NotNullViolation,
        "23514" => ErrorKind::CheckViolation,
        "42P01" => ErrorKind::NoSuchTable,
        "42703" => ErrorKind::NoSuchColumn,
        "42P07" | "42710" | "42704" | "42883" | "42P06" => ErrorKind::Schema,
        "40001" | "40P01" => ErrorKind::Busy,
        "55P03" => ErrorKind::Locked,
        "57014" => ErrorKind::Interrupted,
        "25P02" => ErrorKind::TransactionAborted,
        "25006" => ErrorKind::ReadOnly,
        "53100" => ErrorKind::Full,
        "54000" | "54001" => ErrorKind::TooBig,
        "08P01" => ErrorKind::Misuse,
        _ if code.starts_with("23") => ErrorKind::OtherConstraint,
        _ if code.starts_with("42") => ErrorKind::Syntax,
        _ if code.starts_with("22") => ErrorKind::TypeConversion,
        _ if code.starts_with("08") || code.starts_with("57P") => ErrorKind::Closed,
        _ if code.starts_with("28") || code.starts_with("3D") => ErrorKind::CantOpen,
        // Anything else is the "other database error" kind, its SQLSTATE in `Error::sqlstate()`.
        _ => ErrorKind::Sqlite,
    }
}

/// A tokio-postgres error as this crate's, with the SQL it ran (if any) in the message.
#[cold]
pub(crate) fn from_pg(e: tokio_postgres::Error, sql: Option<&str>) -> Error {
    let in_sql = sql.map(|s| format!(" in `{s}`")).unwrap_or_default();
    let (kind, message) = match e.as_db_error() {
        Some(db) => {
            let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
            let message = format!("{}{detail} (SQLSTATE {}){in_sql}", db.message(), db.code().code());
            (kind_of(db.code(), db.constraint()), message)
        }
        None if e.is_closed() => (ErrorKind::Closed, format!("the PostgreSQL connection is closed: {e}{in_sql}")),
        None => {
            let kind = match e.code() {
                Some(state) => kind_of(state, None),
                None if std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) => ErrorKind::Io,
                None => ErrorKind::TypeConversion,
            };
            let why = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            (kind, format!("{e}{why}{in_sql}"))
        }
    };
    Error::Driver(asqlite::Error::new(kind, message).with_source(e))
}

/// A pool error (no connection could be had) as this crate's.
#[cold]
pub(crate) fn from_pool(e: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Backend(e) => {
            let kind = if e.as_db_error().is_some() || e.code().is_some() {
                return from_pg(e, None);
            } else if e.is_closed() {
                ErrorKind::Closed
            } else {
                ErrorKind::CantOpen
            };
            let why = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            Error::Driver(asqlite::Error::new(kind, format!("cannot connect to PostgreSQL: {e}{why}")).with_source(e))
        }
        PoolError::Closed => Error::Closed("the engine has been disposed".into()),
        other => Error::Driver(asqlite::Error::new(ErrorKind::Busy, format!("no PostgreSQL connection: {other}"))),
    }
}
