//! A child process for the Arrow streaming memory tests: `arrow_memory <database> <mode> [rows]` builds a table of
//! `rows` rows (1 000 000 by default) of the benchmark's shape (INTEGER, TEXT, INTEGER, INTEGER, REAL), then
//! streams it as record batches of 65 536 rows with `stream_arrow`, checking every row's id comes once and in order:
//!
//! - `stream`: on a pool with two readers, batch by batch;
//! - `spill`: on a lone `Connection`, writing through that same connection after the first batch (the worker must
//!   set the rest of the rows aside rather than wait for the consumer, or both would wait forever), then reading
//!   the rest.
//!
//! It prints one line, `growth <bytes> result <bytes>`: how far the peak resident memory rose above the resident
//! memory just before the stream started (Linux `VmHWM`, reset through `/proc/self/clear_refs`), and the Arrow
//! memory of all the batches together (what one batch of the whole result would hold). It exits non-zero on any
//! error or misordered row.

use asqlite::arrow::{cast::AsArray, types::Int64Type, RecordBatch};
use asqlite::{params, Client};
use futures::StreamExt;

const DEFAULT_ROWS: i64 = 1_000_000;
const BATCH_ROWS: usize = 65_536;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(mode)) = (args.next(), args.next()) else {
        eprintln!("usage: arrow_memory <database> stream|spill [rows]");
        std::process::exit(2);
    };
    let rows = args.next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(DEFAULT_ROWS);
    match run(&path, &mode, rows) {
        Ok((growth, result)) => println!("growth {growth} result {result}"),
        Err(e) => {
            eprintln!("arrow_memory failed: {e}");
            std::process::exit(1);
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn run(path: &str, mode: &str, rows: i64) -> Result<(u64, u64), Error> {
    let setup = asqlite::blocking::Connection::open(path)?;
    setup.execute_batch(
        "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER, price REAL);
         CREATE TABLE seen (n INTEGER)",
    )?;
    setup.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
         INSERT INTO cars SELECT i, 'Make ' || (i % 8), 1995 + i % 30, i * 7 % 100000, i * 0.25 FROM k",
        params![rows],
    )?;
    drop(setup);
    futures::executor::block_on(async {
        match mode {
            "stream" => {
                let pool = asqlite::Pool::builder().readers(2).open(path).await?;
                let out = read_all(&pool, rows, false).await;
                pool.close().await?;
                out
            }
            "spill" => {
                let conn = asqlite::Connection::open(path).await?;
                let out = read_all(&conn, rows, true).await;
                conn.close().await?;
                out
            }
            other => Err(format!("unknown mode {other:?}").into()),
        }
    })
}

/// Stream the table and check it; with `write`, write through the same handle after the first batch.
async fn read_all(client: &Client, rows: i64, write: bool) -> Result<(u64, u64), Error> {
    // Warm the page cache, so that it does not count as growth.
    client.query("SELECT count(*), sum(length(make)), sum(price) FROM cars", params![]).await?;
    let baseline = reset_peak()?;
    let mut stream = client.stream_arrow("SELECT * FROM cars ORDER BY car_id", params![], BATCH_ROWS);
    let mut seen = Seen { next_id: 1, result: 0 };
    let first = stream.next().await.ok_or("the stream ended at once")??;
    seen.check(&first)?;
    drop(first);
    if write {
        // The stream's worker is this connection's only one: it must spill to run this.
        client.execute("INSERT INTO seen VALUES (?1)", params![seen.next_id - 1]).await?;
    } else {
        // Let the worker fill the channel and pause.
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    while let Some(batch) = stream.next().await {
        seen.check(&batch?)?;
    }
    if seen.next_id != rows + 1 {
        return Err(format!("the stream gave {} rows of {rows}", seen.next_id - 1).into());
    }
    let peak = status_kib("VmHWM")?;
    Ok((peak.saturating_sub(baseline) * 1024, seen.result))
}

/// The rows seen so far: the next id expected, and the Arrow memory of the batches.
struct Seen {
    next_id: i64,
    result: u64,
}

impl Seen {
    fn check(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.result += u64::try_from(batch.get_array_memory_size())?;
        for id in batch.column(0).as_primitive::<Int64Type>().values() {
            if *id != self.next_id {
                return Err(format!("expected car {}, got car {id}", self.next_id).into());
            }
            self.next_id += 1;
        }
        Ok(())
    }
}

/// Reset the peak resident size to the current one and return it, in KiB.
fn reset_peak() -> Result<u64, Error> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    status_kib("VmRSS")
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}
