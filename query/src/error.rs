//! The query layer's error type: a driver error, or a mistake caught before any SQL ran.

use std::fmt;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the query layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The driver (or SQLite) reported an error.
    Driver(asqlite::Error),
    /// A statement could not be compiled: an unknown column, an unsupported combination of clauses, ...
    Compile(String),
    /// The parameters given do not fit the statement (a missing bind parameter, parameter sets with different
    /// keys, ...).
    Params(String),
    /// An engine URL could not be parsed.
    Url(String),
    /// A result had the wrong number of rows for the call (`one`, `scalar_one`, ...).
    Rows(String),
    /// A row could not be turned into a struct, or a struct into parameters.
    Serde(String),
    /// The engine or connection was used after `dispose` / after it finished.
    Closed(String),
    /// Migrations were refused or failed (see [`MigrateErrorKind`](crate::migrate::MigrateErrorKind)).
    Migrate(crate::migrate::MigrateError),
}

impl Error {
    /// The driver error inside, if this is one.
    pub fn as_driver(&self) -> Option<&asqlite::Error> {
        match self {
            Error::Driver(e) => Some(e),
            _ => None,
        }
    }

    /// The driver's error kind, if this wraps a driver error.
    pub fn driver_kind(&self) -> Option<asqlite::ErrorKind> {
        self.as_driver().map(asqlite::Error::kind)
    }

    /// The SQLSTATE of an error PostgreSQL reported (`"23505"` for a unique violation, ...); `None` for other
    /// errors (SQLite's have [`asqlite::Error::extended_code`]). Its kind is in [`driver_kind`](Error::driver_kind)
    /// either way.
    #[cfg(feature = "postgres")]
    pub fn sqlstate(&self) -> Option<&str> {
        let source = std::error::Error::source(self.as_driver()?)?;
        source.downcast_ref::<tokio_postgres::Error>()?.code().map(tokio_postgres::error::SqlState::code)
    }

    #[cold]
    pub(crate) fn compile(msg: impl Into<String>) -> Self {
        Error::Compile(msg.into())
    }

    #[cold]
    pub(crate) fn params(msg: impl Into<String>) -> Self {
        Error::Params(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Driver(e) => e.fmt(f),
            Error::Compile(m) => write!(f, "cannot compile statement: {m}"),
            Error::Params(m) => write!(f, "bad parameters: {m}"),
            Error::Url(m) => write!(f, "bad database URL: {m}"),
            Error::Rows(m) => f.write_str(m),
            Error::Serde(m) => write!(f, "conversion failed: {m}"),
            Error::Closed(m) => f.write_str(m),
            Error::Migrate(e) => e.fmt(f),
        }
    }
}

/// A driver error is shown as the driver shows it, and its source is the driver error's own source (as
/// `thiserror`'s `#[error(transparent)]` does), so an error chain (`anyhow`, `eyre`) prints it once, not once as
/// this error and again as its cause. The driver error itself is [`Error::as_driver`].
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Driver(e) => std::error::Error::source(e),
            Error::Migrate(e) => Some(e),
            _ => None,
        }
    }
}

impl From<asqlite::Error> for Error {
    fn from(e: asqlite::Error) -> Self {
        Error::Driver(e)
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_is_thread_safe_and_static() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<super::Error>();
    }

    /// The chain of a driver error printed it twice: `Display` showed the driver error and `source()` returned it
    /// again, so `anyhow`'s "{:#}" read "no such table: t (code 1): no such table: t (code 1)".
    #[test]
    fn error_chain_printed_the_driver_error_twice() {
        let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
        let e = super::Error::from(conn.execute_batch("SELECT * FROM t").unwrap_err());
        let mut chain = vec![e.to_string()];
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push(s.to_string());
            source = s.source();
        }
        assert_eq!(chain.len(), 1, "{chain:?}");
        assert!(chain[0].contains("no such table: t"), "{chain:?}");
        assert_eq!(e.driver_kind(), Some(asqlite::ErrorKind::NoSuchTable));
        // An I/O error under a driver error is still reachable, once.
        let io = asqlite::Error::new(asqlite::ErrorKind::Io, "spill failed").with_source(std::io::Error::other("disk"));
        let e = super::Error::from(io);
        assert_eq!(std::error::Error::source(&e).map(ToString::to_string).as_deref(), Some("disk"));
    }
}
