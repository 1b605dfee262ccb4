//! The data every contender reads and writes: deterministic pseudo-random cars and the database file built from
//! them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Result;

/// The schema of the `cars` tables.
pub const SCHEMA: &str = "car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER";
/// The table of [`Sizes::rows`] cars that point and scan queries read.
pub const TABLE: &str = "cars";
/// The table of [`Sizes::stream_rows`] cars that the stream workload reads.
pub const BIG_TABLE: &str = "cars_big";
/// The table the insert workload fills, dropped and created anew before each batch.
pub const INSERT_TABLE: &str = "cars_insert";
/// `scan` returns the cars with more mileage than this (about half of them: mileage is uniform in 0..100000).
pub const SCAN_MILEAGE: i64 = 50_000;

/// SQL shared by every contender.
pub mod sql {
    /// One car by primary key.
    pub const POINT: &str = "SELECT car_id, make, year, mileage FROM cars WHERE car_id = ?1";
    /// The scan: about half of the table.
    pub const SCAN: &str = "SELECT car_id, make, year, mileage FROM cars WHERE mileage > ?1";
    /// Every row of the big table.
    pub const STREAM: &str = "SELECT car_id, make, year, mileage FROM cars_big";
    /// One insert.
    pub const INSERT: &str = "INSERT INTO cars_insert (make, year, mileage) VALUES (?1, ?2, ?3)";
    /// Run before each insert batch (not timed). The checkpoint empties the WAL, so that no batch pays for an
    /// automatic checkpoint of the batches before it (which batch crossed the 1000-page mark would otherwise
    /// depend on the order the contenders ran in).
    pub const RESET_INSERT: &str = "DROP TABLE IF EXISTS cars_insert; \
        CREATE TABLE cars_insert (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER); \
        PRAGMA wal_checkpoint(TRUNCATE)";
    /// The first statement of [`RESET_INSERT`], for APIs that take one statement at a time.
    pub const DROP_INSERT: &str = "DROP TABLE IF EXISTS cars_insert";
    /// The second statement of [`RESET_INSERT`].
    pub const CREATE_INSERT: &str =
        "CREATE TABLE cars_insert (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER)";
    /// The third statement of [`RESET_INSERT`].
    pub const CHECKPOINT: &str = "PRAGMA wal_checkpoint(TRUNCATE)";
}

const MAKES: [&str; 8] = [
    "Honda Civic",
    "Toyota Prius",
    "Tesla Model 3",
    "Ford Focus",
    "BMW 3 Series",
    "Volkswagen Golf",
    "Subaru Outback",
    "Mazda 3",
];

/// A car to insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewCar {
    /// One of a few model names.
    pub make: &'static str,
    /// 1995..2025.
    pub year: i64,
    /// Uniform in 0..100000.
    pub mileage: i64,
}

/// A car read back: what every contender decodes rows into (the query layer's scan through serde).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Car {
    /// The primary key.
    pub car_id: i64,
    /// The model name.
    pub make: String,
    /// The model year.
    pub year: i64,
    /// The mileage.
    pub mileage: i64,
}

impl Car {
    /// This car's share of a checksum. Checksums add shares, so they do not depend on the order rows arrive in.
    pub fn share(&self) -> u64 {
        share(self.car_id, self.make.len(), self.year, self.mileage)
    }
}

fn share(car_id: i64, make_len: usize, year: i64, mileage: i64) -> u64 {
    let mix = car_id.wrapping_mul(7).wrapping_add(year.wrapping_mul(3)).wrapping_add(mileage);
    u64::from_ne_bytes(mix.to_ne_bytes()).wrapping_add(u64::try_from(make_len).unwrap_or(0))
}

/// The checksum of some cars.
pub fn checksum<'a>(cars: impl IntoIterator<Item = &'a Car>) -> u64 {
    cars.into_iter().fold(0, |acc, c| acc.wrapping_add(c.share()))
}

/// A small, fast, deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` at most `u32::MAX`).
    pub fn below(&mut self, n: u32) -> u32 {
        let hi = self.next_u64() >> 32;
        u32::try_from((hi * u64::from(n)) >> 32).unwrap_or(0)
    }

    /// A random car.
    pub fn car(&mut self) -> NewCar {
        let make = MAKES[usize::try_from(self.below(8)).unwrap_or(0)];
        NewCar { make, year: 1995 + i64::from(self.below(30)), mileage: i64::from(self.below(100_000)) }
    }
}

/// How big the workloads are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of the `cars` table and of each insert batch.
    pub rows: u32,
    /// Rows the stream workload reads.
    pub stream_rows: u32,
    /// Sequential point selects per batch.
    pub point_batch: u32,
    /// Concurrent tasks of `point64`.
    pub tasks: u32,
    /// Point selects each of those tasks makes per batch.
    pub per_task: u32,
}

impl Sizes {
    /// The sizes of the published numbers: 100k rows, 1M streamed rows, 64 tasks.
    pub const FULL: Sizes =
        Sizes { rows: 100_000, stream_rows: 1_000_000, point_batch: 2_000, tasks: 64, per_task: 50 };
    /// Sizes small enough for a debug-build test.
    pub const SMALL: Sizes = Sizes { rows: 2_000, stream_rows: 5_000, point_batch: 100, tasks: 8, per_task: 5 };
}

const CARS_SEED: u64 = 0x00A5_911E;
const BIG_SEED: u64 = 0x0B16_CA25;
const POINT_SEED: u64 = 0x0000_9017;

/// The database file and the data the workloads use, with the checksums every contender must reproduce.
#[derive(Debug)]
pub struct Fixture {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    /// The database file.
    pub path: PathBuf,
    /// The sizes it was built with.
    pub sizes: Sizes,
    /// The rows of the `cars` table (`car_id` is the index + 1); also what the insert workload inserts.
    pub cars: Arc<[NewCar]>,
    /// The keys the point workload looks up, in order.
    pub point_ids: Arc<[i64]>,
    /// The keys of `point64`: task `t` looks up `point64_ids[t * per_task..(t + 1) * per_task]`.
    pub point64_ids: Arc<[i64]>,
    /// The checksum of the cars the scan returns.
    pub scan_checksum: u64,
    /// How many cars the scan returns.
    pub scan_rows: u64,
    /// The checksum of the big table.
    pub stream_checksum: u64,
}

impl Fixture {
    /// Build the database in a new temporary directory (under `ASQLITE_BENCH_DIR` if set), removed on drop.
    pub fn create(sizes: Sizes) -> Result<Fixture> {
        let temp = match std::env::var_os("ASQLITE_BENCH_DIR") {
            Some(parent) => tempfile::Builder::new().prefix("asqlite-bench").tempdir_in(parent)?,
            None => tempfile::Builder::new().prefix("asqlite-bench").tempdir()?,
        };
        let mut fixture = Self::generate(temp.path(), sizes);
        fixture.write()?;
        fixture._temp = Some(temp);
        Ok(fixture)
    }

    /// Use the database in `dir` if one is there, or build it there (and keep it: for repeated runs and profiling).
    pub fn reuse_or_create(dir: &Path, sizes: Sizes) -> Result<Fixture> {
        std::fs::create_dir_all(dir)?;
        let fixture = Self::generate(dir, sizes);
        if !fixture.path.exists() {
            fixture.write()?;
        }
        Ok(fixture)
    }

    /// Use a database that [`Fixture::create`] built in `dir` (kept alive by another process).
    pub fn open(dir: &Path, sizes: Sizes) -> Result<Fixture> {
        let fixture = Self::generate(dir, sizes);
        if !fixture.path.exists() {
            return Err(format!("no benchmark database in {}", dir.display()).into());
        }
        Ok(fixture)
    }

    /// The directory that holds the database.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn generate(dir: &Path, sizes: Sizes) -> Fixture {
        let mut rng = Rng::new(CARS_SEED);
        let cars: Arc<[NewCar]> = (0..sizes.rows).map(|_| rng.car()).collect();
        let mut scan_checksum = 0u64;
        let mut scan_rows = 0;
        for (id, c) in (1..).zip(cars.iter()) {
            if c.mileage > SCAN_MILEAGE {
                scan_rows += 1;
                scan_checksum = scan_checksum.wrapping_add(share(id, c.make.len(), c.year, c.mileage));
            }
        }
        let mut rng = Rng::new(BIG_SEED);
        let stream_checksum = (1..=i64::from(sizes.stream_rows)).fold(0u64, |acc, id| {
            let c = rng.car();
            acc.wrapping_add(share(id, c.make.len(), c.year, c.mileage))
        });
        let mut rng = Rng::new(POINT_SEED);
        let mut key = move || 1 + i64::from(rng.below(sizes.rows));
        let point_ids = (0..sizes.point_batch).map(|_| key()).collect();
        let point64_ids = (0..sizes.tasks * sizes.per_task).map(|_| key()).collect();
        Fixture {
            dir: dir.to_path_buf(),
            _temp: None,
            path: dir.join("bench.db"),
            sizes,
            cars,
            point_ids,
            point64_ids,
            scan_checksum,
            scan_rows,
            stream_checksum,
        }
    }

    /// Write the database with rusqlite (WAL, `synchronous = NORMAL`), then checkpoint it.
    fn write(&self) -> Result<()> {
        let mut conn = rusqlite::Connection::open(&self.path)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("the benchmark database stayed in {mode} mode").into());
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(&format!(
            "CREATE TABLE {TABLE} ({SCHEMA}); CREATE TABLE {BIG_TABLE} ({SCHEMA}); {}",
            sql::RESET_INSERT
        ))?;
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare(&format!("INSERT INTO {TABLE} (make, year, mileage) VALUES (?1, ?2, ?3)"))?;
            for c in self.cars.iter() {
                stmt.execute(rusqlite::params![c.make, c.year, c.mileage])?;
            }
            let mut stmt = tx.prepare(&format!("INSERT INTO {BIG_TABLE} (make, year, mileage) VALUES (?1, ?2, ?3)"))?;
            let mut rng = Rng::new(BIG_SEED);
            for _ in 0..self.sizes.stream_rows {
                let c = rng.car();
                stmt.execute(rusqlite::params![c.make, c.year, c.mileage])?;
            }
        }
        tx.commit()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        Ok(())
    }

    /// The checksum a batch of `workload` must produce.
    pub fn expected(&self, workload: crate::Workload) -> u64 {
        use crate::Workload;
        let point = |ids: &[i64]| {
            ids.iter().fold(0u64, |acc, &id| {
                let c = &self.cars[usize::try_from(id - 1).unwrap_or(0)];
                acc.wrapping_add(share(id, c.make.len(), c.year, c.mileage))
            })
        };
        match workload {
            Workload::Insert => u64::from(self.sizes.rows),
            Workload::Point => point(&self.point_ids),
            Workload::Point64 => point(&self.point64_ids),
            Workload::Scan => self.scan_checksum,
            Workload::Stream | Workload::Collect => self.stream_checksum,
        }
    }

    /// The operations one batch of `workload` counts: rows for insert, scan and stream, queries for point.
    pub fn ops(&self, workload: crate::Workload) -> u64 {
        use crate::Workload;
        match workload {
            Workload::Insert => u64::from(self.sizes.rows),
            Workload::Point => u64::from(self.sizes.point_batch),
            Workload::Point64 => u64::from(self.sizes.tasks * self.sizes.per_task),
            Workload::Scan => self.scan_rows,
            Workload::Stream | Workload::Collect => u64::from(self.sizes.stream_rows),
        }
    }
}
