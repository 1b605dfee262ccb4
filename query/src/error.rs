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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Driver(e) => Some(e),
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
}
