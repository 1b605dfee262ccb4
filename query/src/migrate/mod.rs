//! Versioned migrations: an ordered set of SQL scripts (or closures on the blocking connection), applied once
//! each, in order, each in its own transaction, and recorded in the database.
//!
//! ```
//! use asqlite_query::migrate::{Migration, Migrator};
//! # use asqlite_query::prelude::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), asqlite_query::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let url = format!("sqlite:///{}", dir.path().join("app.db").display());
//! let engine = create_async_engine(&url).await?;
//! let m = Migrator::new([
//!     Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)"),
//!     Migration::sql(2, "add year", "ALTER TABLE cars ADD COLUMN year INTEGER"),
//!     Migration::with_fn(3, "seed", |c: &mut asqlite::blocking::Connection| {
//!         c.execute("INSERT INTO cars (make, year) VALUES (?1, ?2)", asqlite::params!["Honda Civic", 2012])?;
//!         Ok(())
//!     }),
//! ]);
//! let report = engine.migrate(&m).await?;
//! assert_eq!(report.applied.len(), 3);
//! assert_eq!(report.version, Some(3));
//! let again = engine.migrate(&m).await?; // nothing left to do
//! assert!(again.applied.is_empty());
//! # engine.dispose().await?;
//! # Ok(()) }
//! ```
//!
//! A directory of `NNNN_name.sql` files reads with [`Migrator::from_dir`] (`0001_create_cars.sql` is version 1,
//! named "create cars"); files embedded in the binary with `include_str!` read with [`Migrator::from_files`].
//!
//! # What is checked
//!
//! The migrations of a [`Migrator`] have versions that start at 1 and count up by one (1, 2, 3, ...): a duplicate, a
//! version out of order or a gap (a file deleted or misnumbered) is an error of kind
//! [`MigrateErrorKind::Invalid`] before anything runs. Against the database, [`Engine::migrate`](crate::Engine::migrate)
//! refuses to apply anything, each with its own [`MigrateErrorKind`], when
//!
//! - an applied migration's text changed since it was applied ([`Changed`](MigrateErrorKind::Changed)): its
//!   checksum, a SHA-256 of the SQL text with `\r\n` read as `\n` (so a checkout with Windows line endings
//!   matches), differs from the one recorded;
//! - the database has a migration newer than the newest the program knows
//!   ([`DatabaseNewer`](MigrateErrorKind::DatabaseNewer)): a newer version of the program migrated it;
//! - the database has a migration the program does not know, below its newest
//!   ([`Unknown`](MigrateErrorKind::Unknown));
//! - a migration is not applied although a later one is ([`OutOfOrder`](MigrateErrorKind::OutOfOrder)).
//!
//! A closure migration has no text to hash: its checksum is recorded as NULL, and only its version and kind are
//! checked.
//!
//! # How it runs
//!
//! Each migration runs in its own transaction on the pool's writer: `BEGIN IMMEDIATE`, then the table of applied
//! migrations (`_asqlite_migrations`: version, name, checksum, applied_at in UTC, duration_ms) is read again and
//! checked, then the next pending migration runs and is recorded, then `COMMIT`. A migration that fails is rolled
//! back with its record, and the error (kind [`Failed`](MigrateErrorKind::Failed)) names it; the ones before it
//! stay applied. Since the table is read inside the write lock, two processes that migrate the same file at once
//! are safe: the second waits for the first's lock (up to [`Migrator::lock_timeout`], a minute by default), then
//! finds the migration applied and goes on with the next, usually finding nothing left to do.
//!
//! SQLite ignores `PRAGMA foreign_keys` inside a transaction, and the driver refuses it there: to rebuild a table
//! with foreign keys, use `PRAGMA defer_foreign_keys = ON` in the migration, or open the engine with
//! `foreign_keys=off`. A closure migration must not commit or roll back the transaction it runs in (that fails
//! the migration), and should return the errors of its statements rather than go on after one: SQLite ends the
//! transaction itself after some errors (an interrupt, a full disk).

mod error;
mod files;
mod run;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use asqlite::blocking::Connection;
use sha2::{Digest, Sha256};

pub use self::error::{MigrateError, MigrateErrorKind};
pub use self::run::{AppliedMigration, MigrationReport};
use crate::error::{Error, Result};

/// The table that records applied migrations.
pub const MIGRATIONS_TABLE: &str = "_asqlite_migrations";

type MigrationFn = Arc<dyn Fn(&mut Connection) -> Result<()> + Send + Sync + 'static>;

#[derive(Clone)]
enum Body {
    Sql(Arc<str>),
    Fn(MigrationFn),
}

/// One versioned migration: SQL text, or a closure on the blocking connection.
#[derive(Clone)]
pub struct Migration {
    version: i64,
    name: String,
    body: Body,
    /// The file it was read from, for messages.
    file: Option<String>,
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Migration");
        d.field("version", &self.version).field("name", &self.name);
        match &self.body {
            Body::Sql(sql) => d.field("sql", sql),
            Body::Fn(_) => d.field("sql", &"<closure>"),
        };
        if let Some(file) = &self.file {
            d.field("file", file);
        }
        d.finish()
    }
}

impl Migration {
    /// A migration that runs `sql` (any number of statements) with `execute_batch`.
    pub fn sql(version: i64, name: impl Into<String>, sql: impl Into<String>) -> Migration {
        let sql: String = sql.into();
        Migration { version, name: name.into(), body: Body::Sql(sql.into()), file: None }
    }

    /// A migration that runs `f` with the blocking connection, inside the migration's transaction (on the pool's
    /// writer). It must not commit or roll back that transaction; it may open savepoints.
    pub fn with_fn<F>(version: i64, name: impl Into<String>, f: F) -> Migration
    where
        F: Fn(&mut Connection) -> Result<()> + Send + Sync + 'static,
    {
        Migration { version, name: name.into(), body: Body::Fn(Arc::new(f)), file: None }
    }

    /// The version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SQL text, for a SQL migration.
    pub fn sql_text(&self) -> Option<&str> {
        match &self.body {
            Body::Sql(sql) => Some(sql),
            Body::Fn(_) => None,
        }
    }

    /// The checksum recorded when it is applied: the SHA-256 of the SQL text (with `\r\n` read as `\n`), in
    /// lower-case hex; `None` for a closure.
    pub fn checksum(&self) -> Option<String> {
        self.sql_text().map(checksum)
    }

    /// "migration 2 (add year)", with the file it came from if any.
    fn label(&self) -> String {
        match &self.file {
            Some(file) => format!("migration {} ({}, from {file})", self.version, self.name),
            None => format!("migration {} ({})", self.version, self.name),
        }
    }
}

/// The SHA-256 of `sql` with `\r\n` read as `\n`, in lower-case hex.
fn checksum(sql: &str) -> String {
    let mut h = Sha256::new();
    let mut parts = sql.split("\r\n");
    if let Some(first) = parts.next() {
        h.update(first.as_bytes());
    }
    for part in parts {
        h.update(b"\n");
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An ordered set of migrations, applied by [`Engine::migrate`](crate::Engine::migrate) (or [`Migrator::run`]
/// on a blocking connection). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Migrator {
    migrations: Arc<[Migration]>,
    lock_timeout: Duration,
}

impl Migrator {
    /// The migrations, in the order given. Their versions must count up by one (checked when they run, or with
    /// [`validate`](Self::validate)).
    pub fn new(migrations: impl IntoIterator<Item = Migration>) -> Migrator {
        Migrator { migrations: migrations.into_iter().collect(), lock_timeout: Duration::from_secs(60) }
    }

    /// Read every `NNNN_name.sql` file of the directory `dir`: `0001_create_cars.sql` is version 1, named
    /// "create cars" (underscores read as spaces). Other files (not ending in `.sql`, or hidden) are skipped. A
    /// `.sql` file whose name does not fit, that cannot be read or is not UTF-8, or whose version repeats or
    /// leaves a gap is an error naming the file.
    pub fn from_dir(dir: impl AsRef<std::path::Path>) -> Result<Migrator> {
        files::from_dir(dir.as_ref())
    }

    /// Migrations from `(file name, SQL text)` pairs, named as [`from_dir`](Self::from_dir) names files, in any
    /// order: for files embedded in the binary.
    ///
    /// ```
    /// # fn main() -> Result<(), asqlite_query::Error> {
    /// let m = asqlite_query::migrate::Migrator::from_files([
    ///     ("0002_add_year.sql", "ALTER TABLE cars ADD COLUMN year INTEGER"), // include_str!("...") in real code
    ///     ("0001_create_cars.sql", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)"),
    /// ])?;
    /// assert_eq!(m.migrations()[1].name(), "add year");
    /// # Ok(()) }
    /// ```
    pub fn from_files<I, N, S>(files: I) -> Result<Migrator>
    where
        I: IntoIterator<Item = (N, S)>,
        N: AsRef<str>,
        S: Into<String>,
    {
        let mut out = Vec::new();
        for (name, sql) in files {
            out.push(files::parse(name.as_ref(), sql.into())?);
        }
        files::sorted(out)
    }

    /// How long to wait for another connection's write lock (another process migrating the same file) before
    /// failing with [`MigrateErrorKind::Locked`] (default one minute; each try also waits the pool's busy
    /// timeout).
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = timeout;
        self
    }

    /// The migrations, in order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Check the set: versions that start at 1 and count up by one. An error of kind [`MigrateErrorKind::Invalid`]
    /// names the migrations at fault.
    pub fn validate(&self) -> Result<()> {
        let mut prev: Option<&Migration> = None;
        for m in self.migrations.iter() {
            if prev.is_none() && m.version != 1 {
                return Err(invalid(m, format!("{} is the first: versions start at 1", m.label())));
            }
            if let Some(p) = prev {
                let why = if m.version == p.version {
                    format!("{} and {} have the same version", p.label(), m.label())
                } else if m.version < p.version {
                    format!("{} comes after {}: list migrations in version order", m.label(), p.label())
                } else if m.version != p.version + 1 {
                    format!(
                        "versions skip from {} to {}: {} follows {} (a migration missing or misnumbered?)",
                        p.version,
                        m.version,
                        m.label(),
                        p.label()
                    )
                } else {
                    String::new()
                };
                if !why.is_empty() {
                    return Err(invalid(m, why));
                }
            }
            prev = Some(m);
        }
        Ok(())
    }

    /// Apply the pending migrations on a blocking connection, as [`Engine::migrate`](crate::Engine::migrate) does
    /// on a pool's writer.
    pub fn run(&self, conn: &mut Connection) -> Result<MigrationReport> {
        self.validate()?;
        let mut report = MigrationReport::default();
        loop {
            match self.step(conn)? {
                run::Step::Applied(a) => {
                    report.version = Some(a.version);
                    report.applied.push(a);
                }
                run::Step::UpToDate(version) => {
                    report.version = version;
                    return Ok(report);
                }
            }
        }
    }
}

#[cold]
fn invalid(m: &Migration, message: String) -> Error {
    MigrateError::new(MigrateErrorKind::Invalid, message).version(m.version).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_sha256_of_the_text_with_crlf_read_as_lf() {
        // SHA-256("abc"), the FIPS 180-2 example.
        assert_eq!(checksum("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(checksum("a\r\nb\r\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb"), checksum("a\n b"));
        assert_eq!(Migration::with_fn(1, "f", |_| Ok(())).checksum(), None);
    }

    #[test]
    fn a_set_out_of_order_with_duplicates_or_gaps_is_invalid() {
        let m = |v| Migration::sql(v, format!("m{v}"), "SELECT 1");
        assert!(Migrator::new([m(1), m(2), m(3)]).validate().is_ok());
        assert!(Migrator::new([]).validate().is_ok());
        for (set, words) in [
            (vec![m(1), m(1)], "same version"),
            (vec![m(1), m(2), m(1)], "comes after"),
            (vec![m(1), m(3)], "skip from 1 to 3"),
            (vec![m(0)], "start at 1"),
            (vec![m(-5)], "start at 1"),
            (vec![m(4), m(5)], "start at 1"),
        ] {
            let e = Migrator::new(set).validate().unwrap_err();
            let Error::Migrate(me) = &e else { panic!("{e}") };
            assert_eq!(me.kind(), MigrateErrorKind::Invalid);
            assert!(e.to_string().contains(words), "{e}");
        }
    }
}
