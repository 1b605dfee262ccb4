//! Why a migration run was refused or failed.

use std::fmt;

/// What kind of problem a [`MigrateError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MigrateErrorKind {
    /// The set of migrations is wrong: versions repeat, go backwards, skip one, or do not start at 1.
    Invalid,
    /// A migration file is misnamed, unreadable or not UTF-8 (the message names it).
    File,
    /// An applied migration's text changed since it was applied (its checksum differs from the recorded one),
    /// or it changed between SQL and closure.
    Changed,
    /// The database has a migration newer than the newest the program knows: a newer program migrated it.
    DatabaseNewer,
    /// The database has a migration the program does not know, below the program's newest.
    Unknown,
    /// A migration is not applied although a later one is.
    OutOfOrder,
    /// Another connection held the write lock past [`Migrator::lock_timeout`](super::Migrator::lock_timeout).
    Locked,
    /// A migration failed (its SQL, its closure, or a panic in it): it was rolled back; see the source.
    Failed,
}

/// A migration run refused or failed; [`kind`](Self::kind) says why, and the message names the migration, the
/// file and the versions involved.
#[derive(Debug)]
pub struct MigrateError {
    kind: MigrateErrorKind,
    message: String,
    version: Option<i64>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl MigrateError {
    #[cold]
    pub(crate) fn new(kind: MigrateErrorKind, message: impl Into<String>) -> Self {
        MigrateError { kind, message: message.into(), version: None, source: None }
    }

    pub(crate) fn version(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> MigrateErrorKind {
        self.kind
    }

    /// The version of the migration at fault, if one is.
    pub fn migration_version(&self) -> Option<i64> {
        self.version
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for MigrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MigrateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<MigrateError> for crate::Error {
    fn from(e: MigrateError) -> Self {
        crate::Error::Migrate(e)
    }
}
