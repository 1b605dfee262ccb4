//! Applying migrations: one step is one transaction on the writer, which reads the table of applied migrations
//! again under the write lock, checks it against the code, and applies the next pending migration.

use std::time::{Duration, Instant};

use asqlite::blocking::Connection;
use asqlite::{params, ErrorKind};

use super::{Body, MigrateError, MigrateErrorKind, Migration, Migrator, MIGRATIONS_TABLE};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// One migration applied by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// The checksum recorded (`None` for a closure).
    pub checksum: Option<String>,
    /// How long it ran.
    pub duration: Duration,
}

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// The migrations this run applied, in order (empty when the database was up to date, or another process
    /// applied them first).
    pub applied: Vec<AppliedMigration>,
    /// The database's version afterwards: its newest applied migration (`None`: none).
    pub version: Option<i64>,
}

/// What one step did.
pub(super) enum Step {
    Applied(AppliedMigration),
    UpToDate(Option<i64>),
}

/// A row of the migrations table.
struct Recorded {
    version: i64,
    name: String,
    checksum: Option<String>,
}

impl Engine {
    /// Apply the pending migrations of `migrator`, in order, each in its own transaction on the pool's writer,
    /// and record them; see [`crate::migrate`] for what is checked first and what is refused.
    ///
    /// ```
    /// # use asqlite_query::prelude::*;
    /// use asqlite_query::migrate::{Migration, Migrator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), asqlite_query::Error> {
    /// let engine = create_async_engine("sqlite://").await?;
    /// let m = Migrator::new([Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)")]);
    /// let report = engine.migrate(&m).await?;
    /// assert_eq!((report.applied.len(), report.version), (1, Some(1)));
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropped while a migration runs, that migration is interrupted and rolled back; the ones applied before
    /// stay applied, and the next run goes on from there.
    pub async fn migrate(&self, migrator: &Migrator) -> Result<MigrationReport> {
        self.check_open()?;
        migrator.validate()?;
        let mut report = MigrationReport::default();
        loop {
            let m = migrator.clone();
            match self.pool().call(move |c| Ok(m.step(c))).await?? {
                Step::Applied(a) => {
                    report.version = Some(a.version);
                    report.applied.push(a);
                }
                Step::UpToDate(version) => {
                    report.version = version;
                    return Ok(report);
                }
            }
        }
    }
}

impl Migrator {
    /// One transaction: take the write lock, read and check the applied migrations, apply the next pending one.
    pub(super) fn step(&self, conn: &mut Connection) -> Result<Step> {
        self.begin_immediate(conn)?;
        let out = self.step_in_transaction(conn);
        let out = match out {
            Ok(step) => conn.execute_batch("COMMIT").map(|()| step).map_err(Error::from),
            Err(e) => Err(e),
        };
        if out.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        out
    }

    /// `BEGIN IMMEDIATE`, trying again while another connection holds the write lock, up to the lock timeout.
    fn begin_immediate(&self, conn: &Connection) -> Result<()> {
        let start = Instant::now();
        loop {
            match conn.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Busy => {
                    if start.elapsed() >= self.lock_timeout {
                        let msg = format!(
                            "the database stayed locked by another connection for {:?} (another process migrating \
                             it?); raise Migrator::lock_timeout to wait longer",
                            start.elapsed()
                        );
                        return Err(MigrateError::new(MigrateErrorKind::Locked, msg).with_source(e).into());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn step_in_transaction(&self, conn: &mut Connection) -> Result<Step> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT,
                applied_at TEXT NOT NULL,
                duration_ms INTEGER NOT NULL
            )"
        ))?;
        let recorded = conn.query_map(
            &format!("SELECT version, name, checksum FROM {MIGRATIONS_TABLE} ORDER BY version"),
            (),
            |r| Ok(Recorded { version: r.get(0)?, name: r.get(1)?, checksum: r.get(2)? }),
        )?;
        self.check_against(&recorded)?;
        let current = recorded.last().map(|r| r.version);
        let Some(m) = self.migrations.iter().find(|m| current.is_none_or(|c| m.version > c)) else {
            return Ok(Step::UpToDate(current));
        };
        let started = Instant::now();
        apply(conn, m)?;
        let duration = started.elapsed();
        let checksum = m.checksum();
        conn.execute(
            &format!(
                "INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum, applied_at, duration_ms) \
                 VALUES (?1, ?2, ?3, strftime('%Y-%m-%d %H:%M:%f', 'now'), ?4)"
            ),
            params![
                m.version,
                m.name.as_str(),
                checksum.clone(),
                i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(Step::Applied(AppliedMigration { version: m.version, name: m.name.clone(), checksum, duration }))
    }

    /// Refuse a database whose applied migrations do not fit the code.
    fn check_against(&self, recorded: &[Recorded]) -> Result<()> {
        let newest_code = self.migrations.last().map(|m| m.version);
        for r in recorded {
            let Some(m) = self.migrations.iter().find(|m| m.version == r.version) else {
                let (kind, why) = if newest_code.is_none_or(|n| r.version > n) {
                    let known = newest_code.map_or("none".to_owned(), |n| n.to_string());
                    (
                        MigrateErrorKind::DatabaseNewer,
                        format!(
                            "the database has migration {} ({}), newer than the newest this program knows ({known}): \
                             a newer version of the program migrated it",
                            r.version, r.name
                        ),
                    )
                } else {
                    (
                        MigrateErrorKind::Unknown,
                        format!(
                            "the database has migration {} ({}), which this program does not know",
                            r.version, r.name
                        ),
                    )
                };
                return Err(MigrateError::new(kind, why).version(r.version).into());
            };
            let code = m.checksum();
            if code != r.checksum {
                let show = |c: &Option<String>| c.clone().unwrap_or_else(|| "none (a closure)".to_owned());
                let recorded_as = if r.name == m.name { String::new() } else { format!(", recorded as {:?}", r.name) };
                let why = format!(
                    "{} changed since it was applied{recorded_as}: checksum {} in the database, {} in the program; \
                     write a new migration instead of editing an applied one",
                    m.label(),
                    show(&r.checksum),
                    show(&code)
                );
                return Err(MigrateError::new(MigrateErrorKind::Changed, why).version(m.version).into());
            }
        }
        if let Some(newest_db) = recorded.last() {
            if let Some(m) = self
                .migrations
                .iter()
                .find(|m| m.version < newest_db.version && !recorded.iter().any(|r| r.version == m.version))
            {
                let why = format!(
                    "{} is not applied, but the database already has migration {} ({}): migrations apply in order",
                    m.label(),
                    newest_db.version,
                    newest_db.name
                );
                return Err(MigrateError::new(MigrateErrorKind::OutOfOrder, why).version(m.version).into());
            }
        }
        Ok(())
    }
}

/// Run one migration inside the open transaction.
fn apply(conn: &mut Connection, m: &Migration) -> Result<()> {
    let out = match &m.body {
        Body::Sql(sql) => conn.execute_batch(sql).map_err(Error::from),
        Body::Fn(f) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".to_owned());
            Err(Error::Driver(asqlite::Error::new(ErrorKind::Panicked, format!("the closure panicked: {msg}"))))
        }),
    };
    let out = match out {
        Ok(()) if conn.is_autocommit() => Err(Error::Driver(asqlite::Error::new(
            ErrorKind::TransactionAborted,
            "the migration's transaction ended inside it (a COMMIT or ROLLBACK in it, or SQLite rolled it back after \
             an error the migration went on from); what ran after that was not undone",
        ))),
        out => out,
    };
    out.map_err(|e| {
        let why = format!("{} failed and was rolled back: {e}", m.label());
        MigrateError::new(MigrateErrorKind::Failed, why).version(m.version).with_source(e).into()
    })
}
