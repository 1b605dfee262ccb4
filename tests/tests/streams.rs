//! Paused streams: memory, order and progress when streams wait on their consumers.
//!
//! The bug these guard against ("paused streams are unbounded"): a stream's worker that waits for its consumer
//! while another job waits for its connection must free the connection, or the consumer that waits for that job
//! deadlocks. It did so by reading the whole rest of the result into memory, so a pool with two readers and three
//! paused streams over a 1M-row table grew by 284 MiB. Now the rest goes to a temporary file past a few chunks.
//! The tests check that memory stays bounded, that every row still comes exactly once and in order (from the
//! statement's one snapshot, while later reads see newer commits), that nothing hangs, and that a stream which
//! fails after spilling yields every row before its error.

use std::time::Duration;

use asqlite::{params, Connection, Pool, RowStream};
use futures::StreamExt;

use crate::common::{temp_db, within};

/// Rows in the test table: far more than the chunks a spill keeps in memory, so the rest go to its file.
const ROWS: i64 = 20_000;

/// Run `f` on its own thread, failing the test if it hangs (see [`within`]).
fn hang_guard<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(what, Duration::from_secs(180), f)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// The text of row `id`: 100 bytes, different for every row.
fn text_of(id: i64) -> String {
    format!("{id:08}{}", "x".repeat(92))
}

const FILL: &str = "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
                    INSERT INTO t SELECT i, printf('%08d', i) || printf('%.92c', 'x') FROM k";
const ALL: &str = "SELECT id, s FROM t ORDER BY id";

async fn pool_with_rows(path: &std::path::Path, readers: usize) -> Pool {
    let pool = Pool::builder().readers(readers).open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL)").await.unwrap();
    pool.execute(FILL, params![ROWS]).await.unwrap();
    pool
}

/// Take the next row of `s`, checking that it is row `id`.
async fn expect_row(s: &mut RowStream, id: i64) {
    let row = s.next().await.unwrap_or_else(|| panic!("the stream ended before row {id}")).unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), id, "rows once each and in order");
    assert_eq!(row.get::<String>(1).unwrap(), text_of(id));
}

/// Read the rest of `s` from row `from`: every row up to [`ROWS`], then the end.
async fn expect_rest(s: &mut RowStream, from: i64) {
    for id in from..=ROWS {
        expect_row(s, id).await;
    }
    assert!(s.next().await.is_none(), "no rows after the last");
}

/// Start `n` streams over the table and take the first row of each. With two readers the third stream's job
/// waits for a reader, so a reader whose stream is paused must set its rows aside to serve it.
async fn paused_streams(pool: &Pool, n: usize) -> Vec<RowStream> {
    let mut streams: Vec<RowStream> = (0..n).map(|_| pool.stream(ALL, params![])).collect();
    for s in &mut streams {
        expect_row(s, 1).await;
    }
    streams
}

#[test]
fn more_paused_streams_than_readers_read_round_robin_deliver_every_row_once_in_order() {
    let (dir, path) = temp_db();
    hang_guard("round-robin over four streams on two readers", move || {
        let _dir = dir;
        futures::executor::block_on(async {
            let pool = pool_with_rows(&path, 2).await;
            let mut streams = paused_streams(&pool, 4).await;
            // One task, one row at a time from each stream in turn.
            for id in 2..=ROWS {
                for s in &mut streams {
                    expect_row(s, id).await;
                }
            }
            for s in &mut streams {
                assert!(s.next().await.is_none(), "no rows after the last");
            }
            drop(streams);
            pool.close().await.unwrap();
        });
    });
}

/// One stream read to its end while the others stay paused, then the others. Rows inserted while they are paused
/// are in none of them (each is one statement run, one snapshot), yet a read made meanwhile sees them (no stream
/// keeps its reader's snapshot open while that reader serves other calls).
#[test]
fn paused_streams_keep_their_snapshot_and_later_reads_see_new_commits() {
    let (dir, path) = temp_db();
    hang_guard("one stream read fully while three pause", move || {
        let _dir = dir;
        rt().block_on(async {
            let pool = pool_with_rows(&path, 2).await;
            let mut streams = paused_streams(&pool, 3).await;
            pool.execute("INSERT INTO t SELECT id + ?1, s FROM t WHERE id <= 10", params![ROWS]).await.unwrap();
            let n: i64 = pool.query_one("SELECT count(*) FROM t", params![]).await.unwrap().get(0).unwrap();
            assert_eq!(n, ROWS + 10, "a read while streams are paused sees the commit");
            for i in [1, 2, 0] {
                expect_rest(&mut streams[i], 2).await;
            }
            drop(streams);
            pool.close().await.unwrap();
        });
    });
}

#[test]
fn writing_each_streamed_row_back_through_the_same_connection_loses_no_row_when_spilled_to_a_file() {
    let (dir, path) = temp_db();
    hang_guard("a consumer writing each row back on a single connection", move || {
        let _dir = dir;
        rt().block_on(async {
            let conn = Connection::open(&path).await.unwrap();
            conn.execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL); CREATE TABLE u (id INTEGER, s TEXT)",
            )
            .await
            .unwrap();
            conn.execute(FILL, params![ROWS]).await.unwrap();
            let copy = "INSERT INTO u VALUES (?1, ?2)";
            let mut s = conn.stream(ALL, params![]);
            while let Some(row) = s.next().await {
                let row = row.unwrap();
                conn.execute(copy, params![row.get::<i64>(0).unwrap(), row.get::<String>(1).unwrap()]).await.unwrap();
            }
            // The same inside a transaction, through its own channel.
            let tx = conn.begin().await.unwrap();
            let mut s = tx.stream(ALL, params![]);
            while let Some(row) = s.next().await {
                let row = row.unwrap();
                tx.execute(copy, params![row.get::<i64>(0).unwrap(), row.get::<String>(1).unwrap()]).await.unwrap();
            }
            drop(s);
            tx.commit().await.unwrap();
            let copied = conn.query("SELECT id, s FROM u ORDER BY rowid", params![]).await.unwrap();
            assert_eq!(copied.len(), usize::try_from(2 * ROWS).unwrap());
            for (i, row) in copied.iter().enumerate() {
                let id = i64::try_from(i).unwrap() % ROWS + 1;
                assert_eq!(row.get::<i64>(0).unwrap(), id, "copied once each, in order");
                assert_eq!(row.get::<String>(1).unwrap(), text_of(id));
            }
            conn.close().await.unwrap();
        });
    });
}

/// The rows-then-error order holds for rows spilled to the file: a stream whose statement fails deep into the
/// rows it set aside (row 15 000, well past the chunks kept in memory; row 1 500, among them) yields every row
/// before the failing one, then the error, then ends.
#[test]
fn a_stream_that_fails_after_spilling_to_its_file_yields_every_row_before_the_error() {
    let (dir, path) = temp_db();
    hang_guard("a failing spilled stream", move || {
        let _dir = dir;
        rt().block_on(async {
            let conn = Connection::open(&path).await.unwrap();
            conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL)").await.unwrap();
            conn.execute(FILL, params![ROWS]).await.unwrap();
            for bad in [15_000, 1_500] {
                let sql = format!(
                    "SELECT CASE WHEN id = {bad} THEN abs(id - id - 9223372036854775807 - 1) ELSE id END, s \
                     FROM t ORDER BY id"
                );
                let mut s = conn.stream(&sql, params![]);
                expect_row(&mut s, 1).await;
                tokio::time::sleep(Duration::from_millis(50)).await; // the worker fills the channel and pauses
                conn.execute("INSERT INTO t VALUES (?1, 'late')", params![ROWS + bad]).await.unwrap(); // it spills
                for id in 2..bad {
                    expect_row(&mut s, id).await;
                }
                let error = s.next().await.expect("the error").unwrap_err();
                assert!(error.to_string().contains("integer overflow"), "{error}");
                assert!(s.next().await.is_none(), "the stream ends after its error");
            }
            conn.close().await.unwrap();
        });
    });
}

/// `stream_memory` (a child process, so that its peak memory is its own) pauses three streams of 300 000 rows of
/// about 100 bytes on two readers and reads them round-robin. Spilling into memory grew it by about 85 MiB for a
/// 31 MiB result; the bound here is a quarter of the result.
#[cfg(target_os = "linux")]
#[test]
fn paused_streams_memory_does_not_grow_with_their_rows() {
    let (dir, path) = temp_db();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stream_memory")).arg(&path).output().unwrap();
    drop(dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stream_memory failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    let [_, growth, _, result] = fields[..] else { panic!("unexpected output {stdout:?}") };
    let (growth, result): (u64, u64) = (growth.parse().unwrap(), result.parse().unwrap());
    assert!(growth < result / 4, "peak memory grew by {growth} bytes for a result of {result} bytes");
}

/// A spill file that cannot be made (its directory is missing: for the stream, as good as a full disk) ends the
/// stream with an error after the rows set aside in memory, never with a silently short stream or a hang.
#[cfg(target_os = "linux")]
#[test]
fn a_spill_file_that_cannot_be_written_ends_the_stream_with_an_error_after_its_rows() {
    let (dir, path) = temp_db();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stream_memory"))
        .arg(&path)
        .arg("20000")
        .env("TMPDIR", dir.path().join("missing"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the stream reported no error");
    let (row, message) = stderr
        .trim()
        .strip_prefix("stream_memory failed: row ")
        .and_then(|rest| rest.split_once(": "))
        .unwrap_or_else(|| panic!("unexpected error output {stderr:?}"));
    assert!(message.contains("could not set its rows aside in a temporary file"), "{message}");
    // Every row before the error came, in order (the child checks that): the two chunks in the channel and
    // the four kept in memory at least.
    let row: usize = row.parse().unwrap();
    assert!(row > 6 * 256, "the error came in place of row {row}");
}
