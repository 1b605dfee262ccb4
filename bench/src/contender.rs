//! What a contender is, what it runs, and the list of contenders.

use std::time::{Duration, Instant};

use crate::contenders;
use crate::measure;
use crate::{Fixture, Result};

/// One kind of work, run in batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// Insert the fixture's cars into an empty table: one transaction, one prepared statement, `execute_many`
    /// where the API has it.
    Insert,
    /// Sequential point selects by primary key from one task, each decoded into a [`Car`](crate::Car).
    Point,
    /// Point selects from 64 concurrent tasks (sequential on synchronous contenders).
    Point64,
    /// `WHERE mileage > 50000` over the 100k-row table: about 50k rows decoded into cars.
    Scan,
    /// Every row of the 1M-row table, decoded one at a time; contenders without a streaming API collect them.
    Stream,
    /// Every row of the 1M-row table collected into a `Vec`: the memory baseline streaming is compared with.
    Collect,
}

impl Workload {
    /// The workloads of the benchmarks and of the report's table.
    pub const MEASURED: [Workload; 5] =
        [Workload::Insert, Workload::Point, Workload::Point64, Workload::Scan, Workload::Stream];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Insert => "insert",
            Workload::Point => "point",
            Workload::Point64 => "point64",
            Workload::Scan => "scan",
            Workload::Stream => "stream",
            Workload::Collect => "collect",
        }
    }

    /// What one operation is.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::Point | Workload::Point64 => "query",
            _ => "row",
        }
    }

    /// The ratio of rusqlite's throughput that the design targets, if any.
    pub fn target(self) -> Option<f64> {
        match self {
            Workload::Insert | Workload::Point64 => Some(1.0),
            Workload::Point | Workload::Scan => Some(0.9),
            Workload::Stream | Workload::Collect => None,
        }
    }

    /// Parse a [`Workload::name`].
    pub fn parse(s: &str) -> Option<Workload> {
        [Workload::Insert, Workload::Point, Workload::Point64, Workload::Scan, Workload::Stream, Workload::Collect]
            .into_iter()
            .find(|w| w.name() == s)
    }
}

/// Which criterion group a contender belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// asqlite's own layers against the floor.
    SyncVsAsync,
    /// Other crates against the floor and asqlite's pool.
    Peers,
}

/// The contenders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// rusqlite on the calling thread: the synchronous floor every ratio is taken against.
    Rusqlite,
    /// `asqlite::blocking::Connection` on the calling thread.
    Blocking,
    /// `asqlite::Connection`: one worker thread.
    Connection,
    /// `asqlite::Pool`: one writer and [`Options::readers`] readers.
    Pool,
    /// The query layer's `Engine` (`asqlite-query`) over a `Pool` like [`Kind::Pool`]'s, statements built with its
    /// expression API; the point select compiled once and run with a new key each time.
    Engine,
    /// As [`Kind::Engine`], the point select built anew for every query (a hit in the engine's shape cache).
    EngineBuilt,
    /// `tokio_rusqlite::Connection`: one worker thread.
    #[cfg(feature = "peers")]
    TokioRusqlite,
    /// `async_sqlite::Pool` of [`Options::readers`] connections.
    #[cfg(feature = "peers")]
    AsyncSqlite,
    /// `sqlx::SqlitePool` of [`Options::readers`] connections.
    #[cfg(feature = "peers")]
    Sqlx,
}

impl Kind {
    /// Every contender, the floor first.
    pub fn all() -> Vec<Kind> {
        let ours = [Kind::Rusqlite, Kind::Blocking, Kind::Connection, Kind::Pool, Kind::Engine, Kind::EngineBuilt];
        #[cfg(feature = "peers")]
        let peers = [Kind::TokioRusqlite, Kind::AsyncSqlite, Kind::Sqlx];
        #[cfg(not(feature = "peers"))]
        let peers = [];
        ours.into_iter().chain(peers).collect()
    }

    /// The contenders of a criterion group, the floor first.
    pub fn group(group: Group) -> Vec<Kind> {
        Kind::all().into_iter().filter(|k| k.groups().contains(&group)).collect()
    }

    /// The criterion groups this contender runs in.
    pub fn groups(self) -> &'static [Group] {
        match self {
            Kind::Rusqlite | Kind::Pool => &[Group::SyncVsAsync, Group::Peers],
            Kind::Blocking | Kind::Connection | Kind::Engine | Kind::EngineBuilt => &[Group::SyncVsAsync],
            #[cfg(feature = "peers")]
            Kind::TokioRusqlite | Kind::AsyncSqlite | Kind::Sqlx => &[Group::Peers],
        }
    }

    /// The name used in tables and benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Rusqlite => "rusqlite",
            Kind::Blocking => "asqlite-blocking",
            Kind::Connection => "asqlite-connection",
            Kind::Pool => "asqlite-pool",
            Kind::Engine => "asqlite-engine",
            Kind::EngineBuilt => "asqlite-engine-built",
            #[cfg(feature = "peers")]
            Kind::TokioRusqlite => "tokio-rusqlite",
            #[cfg(feature = "peers")]
            Kind::AsyncSqlite => "async-sqlite",
            #[cfg(feature = "peers")]
            Kind::Sqlx => "sqlx",
        }
    }

    /// Parse a [`Kind::name`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::all().into_iter().find(|k| k.name() == s)
    }

    /// Whether it runs on the calling thread (so `point64` runs sequentially).
    pub fn is_sync(self) -> bool {
        matches!(self, Kind::Rusqlite | Kind::Blocking)
    }

    /// Open this contender on the fixture's database.
    pub fn open(self, fixture: &Fixture, options: &Options) -> Result<Box<dyn Contender>> {
        Ok(match self {
            Kind::Rusqlite => Box::new(contenders::rusqlite::Floor::open(fixture, options)?),
            Kind::Blocking => Box::new(contenders::blocking::Blocking::open(fixture, options)?),
            Kind::Connection => Box::new(contenders::asqlite::AsyncAsqlite::connection(fixture, options)?),
            Kind::Pool => Box::new(contenders::asqlite::AsyncAsqlite::pool(fixture, options)?),
            Kind::Engine => Box::new(contenders::engine::QueryEngine::open(fixture, options, false)?),
            Kind::EngineBuilt => Box::new(contenders::engine::QueryEngine::open(fixture, options, true)?),
            #[cfg(feature = "peers")]
            Kind::TokioRusqlite => Box::new(contenders::tokio_rusqlite::TokioRusqlite::open(fixture, options)?),
            #[cfg(feature = "peers")]
            Kind::AsyncSqlite => Box::new(contenders::async_sqlite::AsyncSqlite::open(fixture, options)?),
            #[cfg(feature = "peers")]
            Kind::Sqlx => Box::new(contenders::sqlx::Sqlx::open(fixture, options)?),
        })
    }
}

/// Settings shared by the contenders.
#[derive(Debug, Clone)]
pub struct Options {
    /// Reader connections of the pools (asqlite's readers; the pool size of async-sqlite and sqlx).
    pub readers: usize,
    /// Run async contenders on tokio's multi-thread runtime instead of the current-thread one.
    pub multi_thread: bool,
    /// Let asqlite's threads spin before parking (its default).
    pub spin: bool,
    /// Lock the fixture for this process alone (SQLite's `unix-excl` VFS): asqlite's `process_exclusive` for its
    /// contenders, and the same VFS for rusqlite's floor, so the floor and asqlite are compared on equal terms.
    pub process_exclusive: bool,
}

impl Default for Options {
    /// Two readers (the machine's cores, at most four, like asqlite's default), a current-thread runtime, spinning.
    fn default() -> Self {
        let readers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        Options { readers, multi_thread: false, spin: true, process_exclusive: false }
    }
}

impl Options {
    /// The tokio runtime an async contender drives its futures on.
    pub fn runtime(&self) -> Result<tokio::runtime::Runtime> {
        let mut b = if self.multi_thread {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        Ok(b.enable_all().build()?)
    }
}

/// One timed batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Wall time of the measured part.
    pub elapsed: Duration,
    /// Process CPU time (user + system, all threads) over the measured part.
    pub cpu: Duration,
    /// Operations done (see [`Fixture::ops`]).
    pub ops: u64,
    /// The checksum of what was read (rows inserted for `insert`); must equal [`Fixture::expected`].
    pub checksum: u64,
}

impl Sample {
    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        // Precision loss is irrelevant at these magnitudes.
        #[allow(clippy::cast_precision_loss)]
        let ops = self.ops as f64;
        ops / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Times a measured part: wall clock and process CPU.
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    wall: Instant,
    cpu: Duration,
}

impl Timer {
    /// Start timing.
    pub fn start() -> Self {
        Timer { cpu: measure::cpu_time(), wall: Instant::now() }
    }

    /// Stop timing.
    pub fn stop(self, ops: u64, checksum: u64) -> Sample {
        let elapsed = self.wall.elapsed();
        let cpu = measure::cpu_time().saturating_sub(self.cpu);
        Sample { elapsed, cpu, ops, checksum }
    }
}

/// A library under test, opened on a [`Fixture`].
pub trait Contender {
    /// Which contender this is.
    fn kind(&self) -> Kind;

    /// Run one batch of `workload`, timing only its measured part (the insert table's reset is not timed).
    fn run(&mut self, workload: Workload) -> Result<Sample>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sizes;

    /// Guards against a contender that does less (or other) work than the rest and so looks faster: every one must
    /// read back exactly the rows the fixture holds, on every workload.
    #[test]
    fn every_contender_does_the_same_work() {
        let fixture = Fixture::create(Sizes::SMALL).unwrap();
        let options = Options { readers: 2, ..Options::default() };
        for kind in Kind::all() {
            let mut c = kind.open(&fixture, &options).unwrap();
            assert_eq!(c.kind(), kind);
            for w in [
                Workload::Insert,
                Workload::Point,
                Workload::Point64,
                Workload::Scan,
                Workload::Stream,
                Workload::Collect,
            ] {
                for _ in 0..2 {
                    let s = c.run(w).unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), w.name()));
                    assert_eq!(s.checksum, fixture.expected(w), "{} {}", kind.name(), w.name());
                    assert_eq!(s.ops, fixture.ops(w), "{} {}", kind.name(), w.name());
                }
            }
        }
    }

    #[test]
    fn groups_start_with_the_floor_and_hold_the_pool() {
        for g in [Group::SyncVsAsync, Group::Peers] {
            let kinds = Kind::group(g);
            assert_eq!(kinds.first(), Some(&Kind::Rusqlite));
            assert!(kinds.contains(&Kind::Pool));
        }
        for k in Kind::all() {
            assert_eq!(Kind::parse(k.name()), Some(k));
        }
        for w in Workload::MEASURED {
            assert_eq!(Workload::parse(w.name()), Some(w));
        }
    }
}
