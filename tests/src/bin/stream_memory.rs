//! A child process for the paused-streams memory test: `stream_memory <database> [rows]` builds a table of
//! `rows` rows (300 000 by default) of about 100 bytes each, opens a pool with two readers, starts three streams
//! over the whole table and takes one row from each (the third waits for a reader, so one reader's stream must set
//! its rows aside to serve it), then reads all three round-robin, one row at a time, checking that every row comes
//! once and in order.
//!
//! It prints one line, `growth <bytes> result <bytes>`: how far the peak resident memory rose above the resident
//! memory just before the streams started (Linux `VmHWM`, reset through `/proc/self/clear_refs`), and the bytes
//! of one stream's result. It exits non-zero on any error (naming the row it came in place of) or misordered row.

use asqlite::{params, Pool};
use futures::StreamExt;

const DEFAULT_ROWS: i64 = 300_000;
/// Bytes of one row's values: an 8-byte integer and 100 bytes of text.
const ROW_BYTES: i64 = 8 + 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: stream_memory <database> [rows]");
        std::process::exit(2);
    };
    let rows = args.next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(DEFAULT_ROWS);
    match run(&path, rows) {
        Ok(growth) => println!("growth {growth} result {}", rows * ROW_BYTES),
        Err(e) => {
            eprintln!("stream_memory failed: {e}");
            std::process::exit(1);
        }
    }
}

fn run(path: &str, rows: i64) -> Result<u64, Box<dyn std::error::Error>> {
    let setup = asqlite::blocking::Connection::open(path)?;
    setup.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL)")?;
    setup.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
         INSERT INTO t SELECT i, printf('%08d', i) || substr(hex(randomblob(46)), 1, 92) FROM k",
        params![rows],
    )?;
    drop(setup);
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).open(path).await?;
        // Warm both readers' page caches, so that they do not count as growth.
        let warm = "SELECT count(*), sum(length(s)) FROM t";
        let (a, b) = futures::future::join(pool.query(warm, params![]), pool.query(warm, params![])).await;
        a?;
        b?;
        let baseline = reset_peak()?;

        let mut streams: Vec<_> = (0..3).map(|_| pool.stream("SELECT id, s FROM t ORDER BY id", params![])).collect();
        for s in &mut streams {
            let first = s.next().await.ok_or("a stream ended at once")??;
            if first.get::<i64>(0)? != 1 {
                return Err("the first row is not row 1".into());
            }
        }
        // Let every worker fill its channel and pause (and one set its rows aside for the third stream).
        std::thread::sleep(std::time::Duration::from_millis(300));
        for expect in 2..=rows {
            for s in &mut streams {
                let row = s.next().await.ok_or("a stream ended early")?.map_err(|e| format!("row {expect}: {e}"))?;
                if row.get::<i64>(0)? != expect {
                    return Err(format!("expected row {expect}, got row {}", row.get::<i64>(0)?).into());
                }
            }
        }
        for s in &mut streams {
            if s.next().await.is_some() {
                return Err("a stream returned more rows than the table holds".into());
            }
        }
        let peak = status_kib("VmHWM")?;
        drop(streams);
        pool.close().await?;
        Ok(peak.saturating_sub(baseline) * 1024)
    })
}

/// Reset the peak resident size to the current one and return it, in KiB.
fn reset_peak() -> Result<u64, Box<dyn std::error::Error>> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    status_kib("VmRSS")
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}
