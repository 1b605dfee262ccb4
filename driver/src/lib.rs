//! # asqlite
//!
//! Async SQLite for Rust, built from scratch on the SQLite C library (bundled).
//!
//! - [`Pool`]: one writer thread and N reader threads on one database file, under WAL. Writes, closures and
//!   transactions go to the writer; reads go to whichever reader is idle. Its builder sets up every connection:
//!   journal mode, foreign keys, pragmas, `on_connect` hooks (see [Connection setup](#connection-setup)).
//! - [`Connection`]: one connection on one worker thread: a pool of one, with the same methods.
//! - [`Client`]: the calls every handle makes (`execute`, `query`, `stream`, `call`, ...), written once: a
//!   [`Pool`], a [`Connection`], a [`Transaction`] and a [`Savepoint`] dereference to one.
//! - [`blocking::Connection`]: the synchronous layer underneath, usable on its own, with the same method names.
//!
//! Every async method returns a future that resolves when the worker thread finishes the job. The crate depends
//! on `futures`, not on a runtime: it runs on tokio, async-std, smol or `futures::executor` alike.
//!
//! ```
//! use asqlite::{named_params, params, Pool};
//!
//! # fn main() -> asqlite::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.db");
//! futures::executor::block_on(async {
//!     let pool = Pool::open(&path).await?; // created if missing; WAL; 1 writer + N readers
//!     pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER)")
//!         .await?;
//!     let n = pool
//!         .execute_many(
//!             "INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)",
//!             vec![params!["Honda Civic", 2012, 20_000], params!["Toyota Prius", 2020, 10_000]],
//!         )
//!         .await?;
//!     assert_eq!(n, 2);
//!
//!     let rows = pool.query("SELECT * FROM cars WHERE mileage > :m", named_params! {":m" => 15_000}).await?;
//!     assert_eq!(rows.columns(), ["car_id", "make", "year", "mileage"]);
//!     println!("{rows}"); // an aligned text table
//!
//!     // Decode on the worker: only the tuples cross threads.
//!     let cars: Vec<(i64, String)> =
//!         pool.query_map("SELECT car_id, make FROM cars", params![], |r| Ok((r.get(0)?, r.get("make")?))).await?;
//!     assert_eq!(cars[1].1, "Toyota Prius");
//!
//!     // One row decoded in place (a cheap read like this one runs on the calling thread).
//!     let year: i64 = pool.query_row("SELECT year FROM cars WHERE car_id = ?1", params![1], |r| r.get(0)).await?;
//!     assert_eq!(year, 2012);
//!
//!     let tx = pool.begin().await?; // BEGIN IMMEDIATE on the writer; dropped = rolled back
//!     tx.execute("DELETE FROM cars WHERE year < ?1", params![2015]).await?;
//!     tx.commit().await?;
//!     pool.close().await
//! })
//! # }
//! ```
//!
//! Parameters are `params![..]`, `named_params! {..}`, `()`, or a tuple of values (`("Kia", 2020)`), as
//! rusqlite takes them (see [`BindRow`]). [`query_one`](Client::query_one) wants exactly one row: none is an error
//! of kind [`ErrorKind::NoRows`], a second one of kind [`ErrorKind::TooManyRows`] (as tokio-postgres'
//! `query_one`), and [`query_opt`](Client::query_opt) refuses a second row too; [`query_row`](Client::query_row)
//! decodes the first row and ignores the rest, as rusqlite's `query_row` and sqlx's `fetch_one` do. Errors keep
//! SQLite's codes and message, and sort into an [`ErrorKind`]: a missing table is [`ErrorKind::NoSuchTable`], a
//! missing column [`ErrorKind::NoSuchColumn`], a syntax error [`ErrorKind::Syntax`].
//!
//! ## How a call crosses threads
//!
//! An async call packs its SQL, owned parameters and a reply slot into a job and pushes it onto a bounded
//! crossbeam queue: the writer's, or the one queue all readers share. If the queue is full the future waits
//! (asynchronously) for room. The worker takes the job, checks that the caller still wants it, runs it on its
//! connection (statements are prepared once and cached per connection), decodes the rows into owned values on the
//! worker, puts the result in the slot and wakes the future. A batch (`execute_many`, `query_map`, `call`) is one
//! trip however many rows it touches; a stream sends its rows in packed chunks of 256 (see [`RowStream`] and the
//! next section). Cheap reads skip the trip altogether (below).
//!
//! ## Streams keep their memory bounded
//!
//! A [`RowStream`] holds a few chunks of rows, however long its result and whatever its consumer does. Its worker
//! waits while the consumer is two chunks behind, but not when a call waits for that worker meanwhile (the
//! consumer writes each row back through the same connection or transaction, or pauses more streams than the pool
//! has readers): waiting could deadlock, so the worker reads the rest of the result at once and sets it aside, a
//! few chunks in memory and the rest in an anonymous temporary file that the stream reads back one chunk at a
//! time and that is deleted when the stream ends or is dropped. The worker cannot keep the statement open to read
//! later instead: an open read pins its connection's snapshot, and later reads there would miss newer commits.
//! So the spilled rows are exactly the rest of the one statement run, and the cost of a paused stream is disk,
//! not memory. A file that cannot be written (a full disk) ends the stream with an error after every row saved
//! before it. See [`RowStream`] for the details.
//!
//! ## When threads spin and when they park
//!
//! On small virtual machines waking a parked thread costs tens of microseconds, several times a point query. So
//! both sides spin briefly before they sleep, and both adapt. A worker whose queue runs dry polls it for up to
//! 200 µs, but only while jobs have been arriving in quick succession; an idle worker parks at once, so an idle
//! pool uses no CPU a few hundred microseconds after its last job. The readers take turns at their shared queue:
//! one leads (waits for the next job) while the others sleep until the leader is busy and work is queued, so a
//! sequential caller never pays for waking a thread. On the calling side, a future that finds its reply not ready
//! spins for up to 50 µs, but only when recent replies came back within that time and it is the only call of the
//! pool in flight; with other calls in flight the executor has other work, so it registers its waker and yields at
//! once. Spinners yield their CPU every 128 polls, and a spin that ran out without its job or reply makes the next
//! `2^n` chances park instead, so on a machine too busy to run both sides spinning stops stealing time. Spinning
//! can be turned off with [`PoolBuilder::spin`].
//!
//! ## Cheap reads run where they are called
//!
//! Even with both sides spinning, a trip to a worker and back costs more than a warm point query (about 1.5 µs),
//! so cheap reads run on the calling thread instead, the way a synchronous driver runs them. At the first poll of
//! `query`, `query_one`, `query_opt`, `query_row` or `query_map`, a pool tries to lock a reader connection that no worker is using (a lone
//! [`Connection`] tries its one connection, and only when no earlier call waits in its queue). If the statement is
//! in that connection's cache, read-only, and its last run took at most 1000 virtual-machine steps (SQLite's own
//! count, read without a clock), it runs there and the future is ready at once. A progress handler stops an inline
//! run that passes 50 µs anyway (the clock is read only once a statement reaches it), and a locked database fails
//! it at once instead of waiting out the busy timeout; either way the read goes to a worker, which runs it again
//! (reads have no effects) and waits for locks as usual. Everything else goes to the workers: new statements,
//! writes, streams, closures, transactions and heavy reads. An inline call cannot be cancelled halfway (it is done
//! when its first poll returns). Turn this off with [`PoolBuilder::inline_reads`].
//!
//! The connection is leased for the read alone: the driver copies the rows out (a `query_row`'s one row into a
//! buffer the thread reuses) and hands the connection back before any of your code runs, so a
//! [`query_row`](Client::query_row) or [`query_map`](Client::query_map) decoder that blocks, panics or reads the
//! pool again runs with no connection held, and a worker waiting for its connection waits at most the budget, never for
//! your code. One virtual-machine step can do a whole table's work where no progress handler can stop it
//! (`SELECT count(*) FROM t` walks the table in its `Count` step, however the table grew since its cost was
//! measured); statements holding such a step (found with `EXPLAIN` when they are prepared, and only for SQL that
//! mentions them) never run inline. [`PoolStats::inline_reads`] counts the reads that did.
//!
//! ## Checkpoints off the writer's path
//!
//! In WAL mode SQLite checkpoints (copies the WAL back into the database file and syncs it) from the commit that
//! grows the WAL past `wal_autocheckpoint` pages: milliseconds on that one write and on every call queued behind it.
//! A pool on a file, with readers, gives its writer a checkpointer thread with a connection of its own, which runs
//! passive checkpoints (they wait for nobody) when the writer's WAL hook says the WAL passed the threshold. The
//! writer checkpoints itself only if the WAL reaches four times the threshold, so the WAL stays as bounded as
//! SQLite keeps it. The threshold is SQLite's (1000 pages unless set with [`PoolBuilder::pragma`], or later with
//! `Connection::set_wal_autocheckpoint` through [`call`](Client::call); 0 turns automatic checkpoints off).
//! [`PoolStats::background_checkpoints`] counts them. Closing the pool stops the thread.
//!
//! ## SQLite's mutexes and build
//!
//! Every connection of a process to one file shares a few of SQLite's mutexes, taken at every read transaction
//! (the WAL's shared-memory locks). SQLite's own are pthread mutexes, which send a thread that finds one held to
//! sleep in the kernel; two threads reading at once then spend much of their time in futex calls and context
//! switches. The first connection asqlite opens gives SQLite mutexes that spin briefly before they sleep
//! ([`initialize`]; call it at the start of `main` if another library may open a SQLite connection first, since
//! SQLite takes them only before it initializes). libsqlite3-sys builds SQLite with
//! `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which puts every connection's page cache behind one process-wide mutex taken
//! twice per page; this workspace builds without it (`LIBSQLITE3_FLAGS=-USQLITE_ENABLE_MEMORY_MANAGEMENT` in
//! `.cargo/config.toml`), and an application can do the same in its own `.cargo/config.toml` (nothing in asqlite
//! relies on it).
//!
//! ## Per-connection state
//!
//! SQLite keeps some state per connection: temp tables, views and triggers, attached databases, settings made with
//! `PRAGMA`, and what the last write did (`last_insert_rowid()`, `changes()`). A [`Pool`] is several connections,
//! so it keeps that state in one place, its writer, and never spreads it over the readers: a statement behaves
//! the same whichever connection picked it up, every time.
//!
//! - **Temp objects, `ATTACH` and `DETACH`** made through the pool (`execute`, `execute_batch`, `call`, a
//!   transaction, or even `query`) live on the writer. Statements that use them run there, reads included: a
//!   reader cannot prepare a statement that touches the temp schema or names a table or schema it does not have,
//!   and passes it to the writer, which runs it (or, if it has no such table either, answers with its error).
//!   Such reads do not run in parallel, and like writes they wait for an open transaction to end. A temp table
//!   named like a table of the main database is seen only on the writer: name it `temp.name` in reads.
//! - **`last_insert_rowid()`, `changes()` and `total_changes()`** in SQL run on the writer, so they report the
//!   pool's last write (whoever made it: [`Done::last_insert_rowid`] and `RETURNING` report your own).
//! - **Settings that govern writes** (`foreign_keys`, `defer_foreign_keys`, `recursive_triggers`,
//!   `ignore_check_constraints`, `query_only`, `synchronous`, `max_page_count`, ...) are set and read on the
//!   writer, where every write runs: `PRAGMA foreign_keys = OFF` through the pool holds for the writes that follow,
//!   until it is set back.
//! - **Settings that govern reads too** (`case_sensitive_like`, `cache_size`, `busy_timeout`, `temp_store`,
//!   `mmap_size`, `automatic_index`, ...) would make readers disagree, so setting one on a pool's connection after
//!   the pool opened fails, every time, with an error of kind [`ErrorKind::Misuse`] that points to
//!   [`PoolBuilder::pragma`], which sets up every connection (next section). Reading them is fine.
//! - A closure given to `read` runs on a reader, which holds none of that state: using any of it there fails with
//!   an error that says to run it through the pool's statement methods or `call` instead.
//!
//! On any connection, pool or not, `PRAGMA foreign_keys = ...` inside a transaction is an error: SQLite would
//! silently ignore it there. A lone connection ([`Connection`], an in-memory pool, a pool with no readers) keeps
//! all of its state and refuses no setting.
//!
//! ```
//! # fn main() -> asqlite::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.db");
//! futures::executor::block_on(async {
//!     let pool = asqlite::Pool::builder().readers(2).open(&path).await?;
//!     pool.execute_batch("CREATE TEMP TABLE scratch (x); INSERT INTO scratch VALUES (1), (2)").await?;
//!     let n: i64 = pool.query_one("SELECT count(*) FROM scratch", ()).await?.get(0)?; // runs on the writer
//!     assert_eq!(n, 2);
//!     let id: i64 = pool.query_one("SELECT last_insert_rowid()", ()).await?.get(0)?;
//!     assert_eq!(id, 2);
//!     let e = pool.execute("PRAGMA cache_size = -64000", ()).await.unwrap_err();
//!     assert_eq!(e.kind(), asqlite::ErrorKind::Misuse); // set it for every connection, with PoolBuilder
//!     pool.close().await
//! })
//! # }
//! ```
//!
//! ## Transactions SQLite ends on its own
//!
//! A [`Transaction`] is a state on the writer that SQLite can change under it: a statement that fails with an
//! interrupt (a dropped future, the statement timeout), a full database, an I/O error or out of memory, or under
//! `OR ROLLBACK`, rolls the whole transaction back, and a `COMMIT` or `ROLLBACK` written in SQL text ends it too.
//! The connection checks, around every statement run through a transaction's handle, that SQLite still has the
//! transaction open (one read of `sqlite3_get_autocommit`). Once it has not, the failing statement keeps its own
//! error (with a note that the transaction is gone), and every later call on the [`Transaction`], its
//! [`Savepoint`]s or a query-layer connection in it fails with [`ErrorKind::TransactionAborted`] without running:
//! nothing ever runs in autocommit through a transaction's handle. `commit` fails the same way; `rollback` (and
//! dropping the handle) succeeds, and the writer serves other calls again. A closure that panics inside a
//! transaction aborts it the same way. The blocking layer's [`blocking::Transaction`] (and a
//! [`blocking::Savepoint`] that began a transaction) hold theirs the same way.
//!
//! Savepoints nest as SQLite nests them: a savepoint borrows its transaction (or the savepoint it is in) mutably,
//! so an outer one cannot end while an inner one is open, and two cannot be open side by side.
//!
//! ## Connection setup
//!
//! [`PoolBuilder`] (and [`ConnectionBuilder`], the same type) sets up each connection it opens before the
//! connection serves its first call, the writer first, then each reader, in this order:
//!
//! 1. the writer switches the file to the [`JournalMode`] ([`PoolBuilder::journal_mode`], WAL by default) and
//!    sets [`Synchronous`] (`NORMAL` under WAL, `FULL` in the rollback modes, unless set);
//! 2. every connection sets `PRAGMA foreign_keys` ON or OFF ([`PoolBuilder::foreign_keys`], on by default): the
//!    pragma is always sent, so `foreign_keys(false)` turns off what the bundled SQLite turns on;
//! 3. every connection runs the [`PoolBuilder::pragma`]s in the order given (those that write the database file,
//!    such as `user_version` or `page_size`, run on the writer only);
//! 4. every connection runs the [`PoolBuilder::on_connect`] hooks in the order given, with the blocking
//!    connection: the place to register functions and collations.
//!
//! Only then does a connection take its role in the pool (the restrictions on readers above). A step that fails,
//! or a hook that panics, fails the open with an error naming the connection, and every thread the open started
//! stops. Outside WAL a pool has no readers by default, and refuses them if asked: in a rollback-journal mode a
//! reader's lock and the writer's commit exclude each other, so the writer serves every call instead.
//!
//! With [`PoolBuilder::process_exclusive`] the writer, after its own set-up and before any reader opens, also
//! takes one lock on the file for the whole process (SQLite's `unix-excl` VFS), which every connection of the
//! process then shares: no read transaction takes a file lock of its own, and no other process can use the file
//! until the pool closes.
//!
//! ```
//! use asqlite::{blocking, JournalMode, Pool};
//!
//! # fn main() -> asqlite::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.db");
//! futures::executor::block_on(async {
//!     let pool = Pool::builder()
//!         .journal_mode(JournalMode::Wal) // the default; Delete, Truncate, Persist, Memory, Off
//!         .foreign_keys(false) // really off (the bundled SQLite defaults to on)
//!         .pragma("cache_size", -64_000) // every connection, in order, at open
//!         .on_connect(|c: &mut blocking::Connection| c.execute_batch("PRAGMA temp_store = MEMORY"))
//!         .open(&path)
//!         .await?;
//!     let store: i64 = pool.query_one("PRAGMA temp_store", ()).await?.get(0)?;
//!     assert_eq!(store, 2); // MEMORY, on whichever connection answered
//!     pool.close().await
//! })
//! # }
//! ```
//!
//! ## Cancellation
//!
//! Dropping a future before its job starts makes the worker skip the job. Dropping it while the job runs
//! interrupts that job only (`sqlite3_interrupt`, fenced by a per-job token so a neighbour's statement is never
//! hit); work that cleans up after it (rolling back a batch's savepoint) still runs. A job waiting for another
//! connection's lock stops waiting too (as it does when [`Pool::interrupt`] or the statement timeout stops it),
//! instead of holding its worker for the rest of the busy timeout. A dropped [`RowStream`] resets its statement,
//! releasing its read snapshot; a dropped [`Transaction`] rolls back. Dropping an open ([`Pool::open`], a
//! builder's `open`) part-way stops the workers it started, which close their connections. A panic in a user
//! closure comes back as an error of kind [`ErrorKind::Panicked`], any transaction it had open is rolled back, and
//! the worker lives on (a closure that returns an error of that kind, without panicking, rolls nothing back). A
//! panic that escapes a job (a user value whose `Drop` panics, a caller's waker that panics when woken) is caught
//! by the worker's loop, or by a transaction's, which goes on; a worker thread that dies anyway is noticed, so
//! [`Pool::close`] never waits for it. Each method documents its cancel safety.
//!
//! ## Calling the pool from inside a closure
//!
//! A closure given to [`call`](Client::call) or [`read`](Client::read), or a decoder given to
//! [`query_map`](Client::query_map) or [`query_row`](Client::query_row), runs on a worker. If it blocks on a call
//! of the same pool (a synchronous helper doing `futures::executor::block_on(pool.execute(..))`), the call waits
//! for a worker, and when the only worker that can run it is the one blocked in that closure, it would wait
//! forever: a write, a `begin` or a call into the transaction from the writer's own closure, any call from a
//! [`Connection`]'s closure, a read from a pool's one reader. Such a call fails at once with an error of kind
//! [`ErrorKind::Misuse`] instead, and so does awaiting [`Pool::close`] there. Use the blocking connection the
//! closure is given. A call another worker can run (a read from the writer's closure, on a pool with readers)
//! works, but waits like any other, and the driver cannot tell a busy worker from a blocked one: if every reader
//! blocks the same way at once, or the writer's closure reads something only the writer holds (a temp table,
//! which a reader passes back to the writer), they still wait for each other forever.
//!
//! ## Errors
//!
//! One [`Error`] type carries SQLite's primary and extended codes, its message, the SQL and the error offset, and
//! an [`ErrorKind`] that names constraint violations, busy and locked databases, missing rows, bad parameters,
//! type conversions and closed pools. Bad input is an error, never a panic.
//!
//! ## Value types
//!
//! [`ToSql`] and [`FromSql`] cover SQLite's own classes out of the box (integers, floats, `bool` as 0/1, `String`,
//! `Vec<u8>`, `Option<T>`, [`Value`]); `u64`, `i128` and `u128` are stored as INTEGER and refuse a value outside
//! `i64` with an error of kind [`ErrorKind::TypeConversion`]. Everyday types of other crates come with cargo
//! features, each crate re-exported under [`types`], each stored as SQLAlchemy's SQLite dialect stores it so that a
//! file written by Python reads back in Rust and the other way round (details and accepted input: [`types`]):
//!
//! | Rust type | feature | SQLite storage | query-layer column |
//! |---|---|---|---|
//! | `chrono::NaiveDateTime`, `time::PrimitiveDateTime` | `chrono`, `time` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff` | `DateTime` |
//! | `chrono::DateTime<Utc>` | `chrono` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff`, UTC | `DateTime` |
//! | `chrono::DateTime<FixedOffset>`, `time::OffsetDateTime` | `chrono`, `time` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff+HH:MM` | `DateTime` |
//! | `chrono::NaiveDate`, `time::Date` | `chrono`, `time` | TEXT `YYYY-MM-DD` | `Date` |
//! | `chrono::NaiveTime`, `time::Time` | `chrono`, `time` | TEXT `HH:MM:SS.ffffff` | `Time` |
//! | `uuid::Uuid` | `uuid` | TEXT, 32 hex digits | `Uuid` |
//! | `serde_json::Value`, [`types::Json<T>`](types) | `serde_json` | TEXT, JSON | `Json` |
//! | `rust_decimal::Decimal` | `rust_decimal` | TEXT (read from INTEGER, REAL or TEXT) | `Numeric` |
//! | `i64`, `u64`, `i128`, `u128` (checked) | none | INTEGER | `Integer`, `BigInteger` |
//! | `bool` | none | INTEGER 0/1 | `Boolean` |
//! | `Vec<u8>`, `&[u8]` | none | BLOB | `Blob` |
//!
//! Reading also takes what SQLite's date functions write (`T` separator, no fraction, `Z`/`±HH:MM`, INTEGER Unix
//! seconds for a date and time). A value that does not convert is an error naming the column, the value and the
//! format expected.
//!
#![cfg_attr(
    all(feature = "chrono", feature = "uuid", feature = "serde_json"),
    doc = r##"
```
use asqlite::types::chrono::NaiveDateTime;
use asqlite::types::{uuid::Uuid, Json};
use asqlite::params;

# fn main() -> asqlite::Result<()> {
let conn = asqlite::blocking::Connection::open_in_memory()?;
conn.execute_batch("CREATE TABLE docs (id CHAR(32) PRIMARY KEY, made_at DATETIME, body JSON)")?;
let id = Uuid::from_u128(0x1234);
let made = NaiveDateTime::parse_from_str("2012-05-17 09:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
let body = serde_json::json!({"make": "Honda Civic", "tags": ["used"]});
conn.execute("INSERT INTO docs VALUES (?1, ?2, ?3)", params![id, made, Json(&body)])?;

let row = conn.query_one("SELECT id, made_at, body, typeof(made_at) FROM docs", params![])?;
assert_eq!(row.get::<String>(0)?, "00000000000000000000000000001234");
assert_eq!(row.get::<NaiveDateTime>("made_at")?, made);
assert_eq!(row.get::<String>(3)?, "text"); // stored as '2012-05-17 09:30:00.000000'
assert_eq!(row.get::<serde_json::Value>("body")?["tags"][0], "used");
# Ok(()) }
```
"##
)]
//!
//! ## SQLite's own powers
//!
//! - **SQL functions and collations**, with rusqlite's names: [`blocking::Connection::create_scalar_function`],
//!   `create_aggregate_function`, `create_window_function`, `create_collation`, `remove_function` (see
//!   [`blocking::functions`]). A pool registers them on every connection with [`Pool::call_each`]. A function or
//!   collation is application code, so a statement that runs one never runs inline on a caller's thread (the
//!   authorizer sees the call, and a read's program is checked for the names when it is prepared): it goes to a
//!   worker. Errors and panics in them become SQL errors, never an unwind into C. Code running on a worker that
//!   calls its own pool and would wait for that same worker gets an error of kind [`ErrorKind::Misuse`] instead of
//!   a deadlock.
//! - **Hooks**: `update_hook`, `commit_hook`, `rollback_hook`, `wal_hook`, `progress_handler` and `authorizer` on
//!   [`blocking::Connection`], chained with the driver's own (which it needs for pools, deadlines and the change
//!   feed), never in their place.
//! - **A change feed**: [`Pool::changes`] is a stream of committed row changes, published after their commit, never
//!   for rolled-back work, bounded per subscriber (see [`changes`]).
//! - **Online backup**: [`Pool::backup_to`] copies a live database in steps on a connection of its own, a consistent
//!   snapshot, while writes go on; [`Pool::vacuum_into`] in one statement; `backup_to` and `restore_from` on the
//!   blocking layer.
//! - **Blob I/O**: [`blocking::Connection::blob_open`] ([`Read`](std::io::Read), [`Write`](std::io::Write),
//!   [`Seek`](std::io::Seek)), and [`Pool::read_blob`] / [`Pool::write_blob`] to stream a large value in chunks.
//! - `serialize` / `deserialize` to and from bytes, SQLite's memory figures in [`PoolStats`], `load_extension`
//!   (feature), and an `unsafe` escape hatch, [`blocking::Connection::handle`].
//!
//! ## Features
//!
//! - `tracing`: each job runs in a span `asqlite.statement` with its SQL, worker, rows and duration; jobs slower
//!   than [`PoolBuilder::slow_statement_threshold`] log a warning.
//! - `chrono`, `time`, `uuid`, `serde_json`, `rust_decimal`: the value types above.
//! - `load_extension`: `blocking::Connection::load_extension`, to load SQLite extensions from shared libraries
//!   (off by default; loading is switched on only for the call).
//! - `arrow`: results as Apache Arrow record batches ([`Client::query_arrow`], [`Client::stream_arrow`],
//!   `blocking::Connection::query_arrow`), the arrow crates re-exported as `asqlite::arrow` (see that module).
#![warn(missing_docs)]

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod backup;
pub mod blob;
pub mod blocking;
pub mod changes;
mod client;
mod conn_state;
mod connection;
mod each;
mod error;
mod ffi;
mod params;
mod pool;
mod setup;
mod stream;
mod transaction;
pub mod types;
mod value;
mod worker;

pub use backup::BackupOptions;
pub use blob::{BlobStream, BLOB_CHUNK};
pub use blocking::{Done, PackedIter, PackedParams, PackedRows, Row, RowRef, Rows, TransactionBehavior};
pub use changes::{Change, Changes, Lagged, Operation};
pub use client::{Client, PackedReceiver, PackedStream};
pub use connection::Connection;
pub use error::{Error, ErrorKind, Result};
pub use ffi::{initialize, sqlite_version};
/// The SQLite bindings this crate links (bundled SQLite), for the raw handle of
/// [`blocking::Connection::handle`].
pub use libsqlite3_sys;
pub use params::{BindRow, NamedInOrder, Params};
pub use pool::{Builder, ConnectionBuilder, Pool, PoolBuilder, PoolStats};
pub use setup::{JournalMode, Synchronous};
pub use stream::RowStream;
pub use transaction::{Savepoint, Transaction};
pub use value::{FromSql, FromSqlError, SqlArg, ToSql, Type, Value, ValueRef};
