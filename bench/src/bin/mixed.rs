//! A service-shaped mixed load: many tasks on tokio's multi-thread runtime (2 workers), each looping over 85% point
//! reads by key, 10% 20-row range reads and 5% single-row `UPDATE`s in autocommit, on the benchmark's 100k-row WAL
//! file, through pools of 4 connections (asqlite: 1 writer + 3 readers; async-sqlite and sqlx: 4 connections;
//! tokio-rusqlite has one connection).
//!
//! - Closed loop: each task calls again as soon as its call returns; calls per second over the run.
//! - Open loop: the same offered load for everyone (`--rate` calls/s in total, spread evenly over the tasks, each
//!   call scheduled at a fixed time); p50 and p99 per kind of call. A call is timed from when it was due if its
//!   task was still busy with the call before (a call that waits behind a slow one counts its wait: no coordinated
//!   omission), else from when the timer woke the task (tokio's timer ticks every millisecond: its lateness is
//!   the same for every contender and no database's doing).
//!
//! `cargo run --release -p asqlite-bench --bin mixed -- [--tasks 16,128] [--secs 3] [--rate 15000] [--only NAME]`
//! (`--process-exclusive`: every contender and the ceiling open the file through SQLite's `unix-excl` VFS, asqlite
//! through its `process_exclusive`)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use asqlite_bench::{Fixture, Result, Sizes};

const POINT: &str = "SELECT car_id, make, year, mileage FROM cars WHERE car_id = ?1";
const RANGE: &str = "SELECT car_id, make, year, mileage FROM cars WHERE car_id >= ?1 ORDER BY car_id LIMIT 20";
const UPDATE: &str = "UPDATE cars SET mileage = mileage + 1 WHERE car_id = ?1";

/// The kinds of call, in the order of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Point,
    Range,
    Update,
}

const CALLS: [Call; 3] = [Call::Point, Call::Range, Call::Update];

impl Call {
    /// 85% points, 10% ranges, 5% updates, from a uniform `0..100`.
    fn pick(r: u64) -> Call {
        match r % 100 {
            0..=84 => Call::Point,
            85..=94 => Call::Range,
            _ => Call::Update,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            Call::Point => "point",
            Call::Range => "range",
            Call::Update => "update",
        }
    }
}

/// One contender's handle, cheap to clone into every task.
#[derive(Clone)]
enum Db {
    Asqlite(asqlite::Pool),
    TokioRusqlite(tokio_rusqlite::Connection),
    AsyncSqlite(async_sqlite::Pool),
    Sqlx(sqlx::SqlitePool),
}

type CarTuple = (i64, String, i64, i64);

fn rusqlite_tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<CarTuple> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// A checksum of a row read, so that no read can be optimized away.
fn share(t: &CarTuple) -> u64 {
    t.0.unsigned_abs().wrapping_add(t.3.unsigned_abs())
}

/// One call on a rusqlite connection (tokio-rusqlite's, async-sqlite's and the synchronous ceiling's).
fn rusqlite_call(c: &rusqlite::Connection, call: Call, key: i64) -> rusqlite::Result<u64> {
    Ok(match call {
        Call::Point => share(&c.prepare_cached(POINT)?.query_row([key], rusqlite_tuple)?),
        Call::Range => c
            .prepare_cached(RANGE)?
            .query_map([key], rusqlite_tuple)?
            .map(|r| r.map(|t| share(&t)))
            .sum::<rusqlite::Result<u64>>()?,
        Call::Update => u64::try_from(c.prepare_cached(UPDATE)?.execute([key])?).unwrap_or(0),
    })
}

/// SQLite's VFS that locks a file for one process.
const EXCL: &str = "unix-excl";

impl Db {
    /// `excl`: every contender locks the file for its process (SQLite's `unix-excl` VFS; asqlite's
    /// `process_exclusive`).
    async fn open(name: &str, path: &std::path::Path, excl: bool) -> Result<Db> {
        Ok(match name {
            "asqlite-pool" => {
                let mut b = asqlite::Pool::builder().readers(3).process_exclusive(excl);
                if let Some(v) = std::env::var_os("X_CKPT") {
                    b = b.pragma("wal_autocheckpoint", v.to_string_lossy().parse::<i64>().unwrap());
                }
                Db::Asqlite(b.open(path).await?)
            }
            "tokio-rusqlite" => {
                let c = if excl {
                    tokio_rusqlite::Connection::open_with_flags_and_vfs(path, rusqlite::OpenFlags::default(), EXCL)
                        .await?
                } else {
                    tokio_rusqlite::Connection::open(path).await?
                };
                c.call(|c| {
                    c.pragma_update(None, "journal_mode", "WAL")?;
                    c.pragma_update(None, "synchronous", "NORMAL")?;
                    c.busy_timeout(Duration::from_secs(5))?;
                    Ok::<_, rusqlite::Error>(())
                })
                .await
                .map_err(|e| e.to_string())?;
                Db::TokioRusqlite(c)
            }
            "async-sqlite" => {
                let mut builder = async_sqlite::PoolBuilder::new();
                if excl {
                    builder = builder.vfs(EXCL);
                }
                let pool = builder.path(path).journal_mode(async_sqlite::JournalMode::Wal).num_conns(4).open().await?;
                for r in pool
                    .conn_for_each(|c| {
                        c.pragma_update(None, "synchronous", "NORMAL")?;
                        c.busy_timeout(Duration::from_secs(5))
                    })
                    .await
                {
                    r?;
                }
                Db::AsyncSqlite(pool)
            }
            "sqlx" => {
                let connect = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5));
                let connect = if excl { connect.vfs(EXCL) } else { connect };
                let pool =
                    sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).min_connections(4).connect_with(connect);
                Db::Sqlx(pool.await?)
            }
            other => return Err(format!("unknown contender {other}").into()),
        })
    }

    /// Run one call; returns a checksum of what it read (the rows changed, for an update).
    async fn call(&self, call: Call, key: i64) -> Result<u64> {
        Ok(match (self, call) {
            (Db::Asqlite(p), Call::Point) => {
                let t: CarTuple =
                    p.query_row(POINT, (key,), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).await?;
                share(&t)
            }
            (Db::Asqlite(p), Call::Range) => {
                let rows: Vec<CarTuple> =
                    p.query_map(RANGE, (key,), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).await?;
                rows.iter().map(share).fold(0, u64::wrapping_add)
            }
            (Db::Asqlite(p), Call::Update) => p.execute(UPDATE, (key,)).await?.rows_affected(),
            (Db::TokioRusqlite(c), call) => {
                c.call(move |c| rusqlite_call(c, call, key)).await.map_err(|e| e.to_string())?
            }
            (Db::AsyncSqlite(p), call) => p.conn(move |c| rusqlite_call(c, call, key)).await?,
            (Db::Sqlx(p), Call::Point) => {
                let t: CarTuple = sqlx::query_as(POINT).bind(key).fetch_one(p).await?;
                share(&t)
            }
            (Db::Sqlx(p), Call::Range) => {
                let rows: Vec<CarTuple> = sqlx::query_as(RANGE).bind(key).fetch_all(p).await?;
                rows.iter().map(share).fold(0, u64::wrapping_add)
            }
            (Db::Sqlx(p), Call::Update) => sqlx::query(UPDATE).bind(key).execute(p).await?.rows_affected(),
        })
    }

    async fn close(self) -> Result<()> {
        match self {
            Db::Asqlite(p) => p.close().await?,
            Db::TokioRusqlite(c) => c.close().await.map_err(|e| e.to_string())?,
            Db::AsyncSqlite(p) => p.close().await?,
            Db::Sqlx(p) => p.close().await,
        }
        Ok(())
    }
}

/// A small, fast, seedable generator (xorshift*), one per task.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A key of the table's `rows` rows.
    fn key(&mut self, rows: i64) -> i64 {
        i64::try_from(self.next() % u64::try_from(rows).unwrap_or(1)).unwrap_or(0) + 1
    }
}

/// Calls per second with `tasks` tasks each calling as soon as its last call returned.
async fn closed_loop(db: &Db, tasks: usize, secs: f64, rows: i64) -> Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (db, done) = (db.clone(), Arc::clone(&done));
        handles.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (u64::try_from(t).unwrap_or(0) + 1));
            let mut n = 0u64;
            while Instant::now() < until {
                let call = Call::pick(rng.next());
                let key = rng.key(rows);
                std::hint::black_box(db.call(call, key).await?);
                n += 1;
            }
            done.fetch_add(n, Ordering::Relaxed);
            Ok::<_, asqlite_bench::Error>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    // Precision loss is irrelevant at these magnitudes.
    #[allow(clippy::cast_precision_loss)]
    let calls = done.load(Ordering::Relaxed) as f64;
    Ok(calls / start.elapsed().as_secs_f64())
}

/// The synchronous ceiling of the closed loop: `threads` OS threads running the same mix with rusqlite, no async
/// layer, each reading on a connection of its own (one thread: its one connection does everything) and writing
/// through one writer connection shared under a mutex, as a pool's writer is. Calls per second.
fn sync_ceiling(path: &std::path::Path, threads: usize, secs: f64, rows: i64, excl: bool) -> Result<f64> {
    let open = || -> Result<rusqlite::Connection> {
        let c = if excl {
            rusqlite::Connection::open_with_flags_and_vfs(path, rusqlite::OpenFlags::default(), c"unix-excl")?
        } else {
            rusqlite::Connection::open(path)?
        };
        c.pragma_update(None, "synchronous", "NORMAL")?;
        c.busy_timeout(Duration::from_secs(5))?;
        Ok(c)
    };
    let writer = Arc::new(std::sync::Mutex::new(open()?));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (writer, done) = (Arc::clone(&writer), Arc::clone(&done));
            let own = if threads == 1 { None } else { Some(open()) };
            std::thread::spawn(move || -> Result<()> {
                let own = own.transpose()?;
                let mut rng = Rng(0x5851_F42D_4C95_7F2D ^ (u64::try_from(t).unwrap_or(0) + 1));
                let mut n = 0u64;
                while Instant::now() < until {
                    let call = Call::pick(rng.next());
                    let key = rng.key(rows);
                    let out = match (call, &own) {
                        (Call::Update, _) | (_, None) => {
                            rusqlite_call(&*writer.lock().map_err(|_| "writer mutex poisoned")?, call, key)?
                        }
                        (_, Some(c)) => rusqlite_call(c, call, key)?,
                    };
                    std::hint::black_box(out);
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a ceiling thread panicked")??;
    }
    // Precision loss is irrelevant at these magnitudes.
    #[allow(clippy::cast_precision_loss)]
    let calls = done.load(Ordering::Relaxed) as f64;
    Ok(calls / start.elapsed().as_secs_f64())
}

/// Latencies (µs) per kind of call, at `rate` calls/s offered in total by `tasks` tasks.
async fn open_loop(db: &Db, tasks: usize, secs: f64, rate: f64, rows: i64) -> Result<[Vec<u64>; 3]> {
    let start = Instant::now() + Duration::from_millis(20);
    let per_task = rate / tasks as f64;
    let interval = Duration::from_secs_f64(1.0 / per_task);
    // Precision loss and truncation are irrelevant here: a count of calls.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let calls_per_task = (per_task * secs) as u64;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (u64::try_from(t).unwrap_or(0) + 1));
            // Spread the tasks' schedules over one interval.
            let offset = interval.mul_f64(t as f64 / tasks as f64);
            let mut lat: [Vec<u64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
            let mut behind = false;
            let mut last_start = start;
            for i in 0..calls_per_task {
                let due = start + offset + interval.mul_f64(i as f64);
                tokio::time::sleep_until(due.into()).await;
                // Counted from when the call was due if the task was still busy with its last call then (its wait
                // is the database's doing: no coordinated omission), but not before the last call started (a
                // timer that woke the task late for that one is nobody's doing); otherwise from when the timer
                // woke the task, whose lateness (tokio's timer ticks every millisecond) is nobody's doing either.
                let from = if behind { due.max(last_start) } else { Instant::now() };
                last_start = Instant::now();
                let call = Call::pick(rng.next());
                let key = rng.key(rows);
                std::hint::black_box(db.call(call, key).await?);
                let micros = u64::try_from(from.elapsed().as_micros()).unwrap_or(u64::MAX);
                lat[call.index()].push(micros);
                behind = Instant::now() > start + offset + interval.mul_f64((i + 1) as f64);
            }
            Ok::<_, asqlite_bench::Error>(lat)
        }));
    }
    let mut all: [Vec<u64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for h in handles {
        let lat = h.await??;
        for (a, l) in all.iter_mut().zip(lat) {
            a.extend(l);
        }
    }
    for a in &mut all {
        a.sort_unstable();
    }
    Ok(all)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Truncation is intended: an index into the sorted latencies.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    #[allow(clippy::cast_precision_loss)]
    let v = sorted[i.min(sorted.len() - 1)] as f64;
    v / 1000.0
}

struct Args {
    tasks: Vec<usize>,
    secs: f64,
    rate: f64,
    only: Option<String>,
    /// Skip the open loop (`--closed-only`): quicker A/B runs of throughput alone.
    closed_only: bool,
    /// Every contender and the ceiling lock the file for their process (`--process-exclusive`).
    excl: bool,
}

fn args() -> Result<Args> {
    let mut a = Args { tasks: vec![16, 128], secs: 3.0, rate: 15_000.0, only: None, closed_only: false, excl: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--tasks" => a.tasks = value()?.split(',').map(str::parse).collect::<std::result::Result<_, _>>()?,
            "--secs" => a.secs = value()?.parse()?,
            "--rate" => a.rate = value()?.parse()?,
            "--only" => a.only = Some(value()?),
            "--closed-only" => a.closed_only = true,
            "--process-exclusive" => a.excl = true,
            "--help" | "-h" => {
                println!("mixed [--tasks 16,128] [--secs 3] [--rate 15000] [--only asqlite-pool|tokio-rusqlite|async-sqlite|sqlx|ceiling] [--closed-only] [--process-exclusive]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = args()?;
    // Before the fixture's rusqlite connection initializes SQLite: asqlite's mutexes (see `asqlite::initialize`).
    asqlite::initialize();
    let fixture = Fixture::create(Sizes { stream_rows: 1_000, ..Sizes::FULL })?;
    let rows = i64::from(Sizes::FULL.rows);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let names = ["asqlite-pool", "tokio-rusqlite", "async-sqlite", "sqlx"];
    let names: Vec<&str> = names.into_iter().filter(|n| args.only.as_deref().is_none_or(|o| o == *n)).collect();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.split_whitespace().next().unwrap_or("?"));
    if args.only.is_none() || args.only.as_deref() == Some("ceiling") {
        let one = sync_ceiling(&fixture.path, 1, args.secs, rows, args.excl)?;
        let two = sync_ceiling(&fixture.path, 2, args.secs, rows, args.excl)?;
        println!(
            "\nsynchronous ceiling (rusqlite, no async layer, closed loop): 1 thread on one connection {one:.0} calls/s; \
             2 threads reading on a connection each, writing through one shared writer {two:.0} calls/s"
        );
    }
    for &tasks in &args.tasks {
        println!("\n## {tasks} tasks, {} s per run\n", args.secs);
        println!("| contender | closed loop calls/s | open loop {} calls/s: point p50 / p99 ms | range p50 / p99 | update p50 / p99 |", args.rate);
        println!("|---|---:|---:|---:|---:|");
        for name in &names {
            let out = rt.block_on(async {
                let db = Db::open(name, &fixture.path, args.excl).await?;
                // Warm the statement caches and the page cache.
                for k in 1..=200 {
                    for call in CALLS {
                        db.call(call, k).await?;
                    }
                }
                let closed = closed_loop(&db, tasks, args.secs, rows).await?;
                let lat = if args.closed_only {
                    [vec![], vec![], vec![]]
                } else {
                    open_loop(&db, tasks, args.secs, args.rate, rows).await?
                };
                db.close().await?;
                Ok::<_, asqlite_bench::Error>((closed, lat))
            })?;
            let (closed, lat) = out;
            let cell = |c: Call| {
                let l = &lat[c.index()];
                format!("{:.2} / {:.2}", percentile(l, 0.5), percentile(l, 0.99))
            };
            println!(
                "| {name} | {closed:.0} | {} | {} | {} |",
                cell(Call::Point),
                cell(Call::Range),
                cell(Call::Update)
            );
        }
    }
    println!("\n(kinds of call: {})", CALLS.map(Call::name).join(", "));
    Ok(())
}
