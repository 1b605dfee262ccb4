//! The `arrow` workload: every row of a 1M-row table of (INTEGER, TEXT, INTEGER, INTEGER, REAL) into Apache Arrow
//! record batches, the columnar form data tools load. Its own contenders, since the other crates have no Arrow API:
//!
//! - `rusqlite-arrow`, the floor: rusqlite on the calling thread, each row's values appended by hand to one Arrow
//!   builder per column (the schema known in advance, no per-cell type dispatch beyond rusqlite's `ValueRef`);
//! - `asqlite-blocking`: `blocking::Connection::query_arrow`;
//! - `asqlite-connection` and `asqlite-pool`: `query_arrow` (the batch is built on the worker and crosses whole);
//! - `asqlite-pool-stream`: `stream_arrow` in batches of 65 536 rows;
//! - `asqlite-engine`: the query layer's `execute_arrow(select(&table))`, typed by the table's columns.
//!
//! ConnectorX (Python) reads the same file in `bench/connectorx_arrow.py`, run by the report with `--connectorx`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use asqlite::arrow::builder::{Float64Builder, Int64Builder, StringBuilder};
use asqlite::arrow::cast::AsArray;
use asqlite::arrow::types::{Float64Type, Int64Type};
use asqlite::arrow::{ArrayRef, DataType, Field, RecordBatch, Schema};
use asqlite_query::prelude::*;
use futures::StreamExt;
use tokio::runtime::Runtime;

use super::engine::engine_url;
use crate::contender::Timer;
use crate::data::Rng;
use crate::report::{si, Cell};
use crate::{Fixture, Options, Result, Sample};

/// The table the workload reads: [`Sizes::stream_rows`](crate::Sizes) rows.
pub const TABLE: &str = "cars_arrow";
/// Its schema.
pub const SCHEMA: &str = "car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER, price REAL";
/// The query every contender runs.
pub const SQL: &str = "SELECT car_id, make, year, mileage, price FROM cars_arrow";
/// Rows per batch of the stream.
pub const STREAM_BATCH_ROWS: usize = 65_536;
/// The ratio of the floor that the pool's `query_arrow` must reach.
pub const TARGET: f64 = 0.9;

const SEED: u64 = 0x0A22_0057;

/// A contender of the arrow workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArrowKind {
    /// rusqlite into Arrow builders by hand: the floor.
    Rusqlite,
    /// `asqlite::blocking::Connection::query_arrow`.
    Blocking,
    /// `asqlite::Connection::query_arrow`.
    Connection,
    /// `asqlite::Pool::query_arrow`.
    Pool,
    /// `asqlite::Pool::stream_arrow`, batches of [`STREAM_BATCH_ROWS`].
    PoolStream,
    /// The query layer's `AsyncConnection::execute_arrow`.
    Engine,
}

impl ArrowKind {
    /// Every contender, the floor first.
    pub const ALL: [ArrowKind; 6] = [
        ArrowKind::Rusqlite,
        ArrowKind::Blocking,
        ArrowKind::Connection,
        ArrowKind::Pool,
        ArrowKind::PoolStream,
        ArrowKind::Engine,
    ];

    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            ArrowKind::Rusqlite => "rusqlite-arrow",
            ArrowKind::Blocking => "asqlite-blocking",
            ArrowKind::Connection => "asqlite-connection",
            ArrowKind::Pool => "asqlite-pool",
            ArrowKind::PoolStream => "asqlite-pool-stream",
            ArrowKind::Engine => "asqlite-engine",
        }
    }

    /// Parse a [`ArrowKind::name`].
    pub fn parse(s: &str) -> Option<ArrowKind> {
        ArrowKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// What it calls.
    pub fn api(self) -> &'static str {
        match self {
            ArrowKind::Rusqlite => "rusqlite rows into builders by hand",
            ArrowKind::Blocking => "`blocking::Connection::query_arrow`",
            ArrowKind::Connection => "`Connection::query_arrow`",
            ArrowKind::Pool => "`Pool::query_arrow`",
            ArrowKind::PoolStream => "`Pool::stream_arrow`, 65 536-row batches",
            ArrowKind::Engine => "`AsyncConnection::execute_arrow(select(&table))`",
        }
    }

    /// Open this contender on the fixture's database (whose arrow table [`prepare`] wrote).
    pub fn open(self, fixture: &Fixture, options: &Options) -> Result<ArrowContender> {
        let imp = match self {
            ArrowKind::Rusqlite => {
                let conn = rusqlite::Connection::open(&fixture.path)?;
                super::rusqlite_setup(&conn)?;
                Imp::Rusqlite(conn)
            }
            ArrowKind::Blocking => {
                let conn = asqlite::blocking::Connection::open(&fixture.path)?;
                conn.pragma_update("synchronous", "NORMAL")?;
                Imp::Blocking(conn)
            }
            ArrowKind::Connection => {
                let rt = options.runtime()?;
                let conn = rt.block_on(asqlite::Connection::builder().spin(options.spin).open(&fixture.path))?;
                Imp::Connection(rt, conn)
            }
            ArrowKind::Pool | ArrowKind::PoolStream => {
                let rt = options.runtime()?;
                let pool = rt.block_on(
                    asqlite::Pool::builder().readers(options.readers).spin(options.spin).open(&fixture.path),
                )?;
                Imp::Pool(rt, pool, self == ArrowKind::PoolStream)
            }
            ArrowKind::Engine => {
                let rt = options.runtime()?;
                let engine = rt.block_on(create_async_engine(&engine_url(&fixture.path, options.readers)?))?;
                let meta = MetaData::new();
                let table = Table::new(
                    TABLE,
                    &meta,
                    [
                        Column::new("car_id", Integer).primary_key(),
                        Column::new("make", Text),
                        Column::new("year", Integer),
                        Column::new("mileage", Integer),
                        Column::new("price", Float),
                    ],
                );
                let conn = rt.block_on(engine.connect())?;
                Imp::Engine(rt, conn, table)
            }
        };
        Ok(ArrowContender { kind: self, imp, rows: u64::from(fixture.sizes.stream_rows) })
    }
}

enum Imp {
    Rusqlite(rusqlite::Connection),
    Blocking(asqlite::blocking::Connection),
    Connection(Runtime, asqlite::Connection),
    /// The pool, and whether it streams.
    Pool(Runtime, asqlite::Pool, bool),
    /// A connection of the engine (which it keeps open), and the table.
    Engine(Runtime, AsyncConnection, Table),
}

/// An opened contender of the arrow workload.
pub struct ArrowContender {
    kind: ArrowKind,
    imp: Imp,
    rows: u64,
}

impl std::fmt::Debug for ArrowContender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowContender").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl ArrowContender {
    /// Which contender this is.
    pub fn kind(&self) -> ArrowKind {
        self.kind
    }

    /// Read the whole table into record batches once, timed; the checksum covers every value.
    pub fn run(&mut self) -> Result<Sample> {
        let t = Timer::start();
        let mut sum = 0u64;
        let mut rows = 0u64;
        let mut add = |b: &RecordBatch| -> Result<()> {
            rows += u64::try_from(b.num_rows())?;
            sum = sum.wrapping_add(checksum(b)?);
            Ok(())
        };
        match &mut self.imp {
            Imp::Rusqlite(conn) => add(&rusqlite_batch(conn)?)?,
            Imp::Blocking(conn) => add(&conn.query_arrow(SQL, ())?)?,
            Imp::Connection(rt, conn) => add(&rt.block_on(conn.query_arrow(SQL, ()))?)?,
            Imp::Pool(rt, pool, false) => add(&rt.block_on(pool.query_arrow(SQL, ()))?)?,
            Imp::Pool(rt, pool, true) => rt.block_on(async {
                let mut s = pool.stream_arrow(SQL, (), STREAM_BATCH_ROWS);
                while let Some(b) = s.next().await {
                    add(&b?)?;
                }
                Result::Ok(())
            })?,
            Imp::Engine(rt, conn, table) => add(&rt.block_on(conn.execute_arrow(select(&*table)))?)?,
        }
        let sample = t.stop(rows, sum);
        if rows != self.rows {
            return Err(format!("{} read {rows} rows of {}", self.kind.name(), self.rows).into());
        }
        Ok(sample)
    }
}

/// The floor: rusqlite's rows appended by hand to one builder per column.
fn rusqlite_batch(conn: &rusqlite::Connection) -> Result<RecordBatch> {
    use rusqlite::types::ValueRef;
    let mut stmt = conn.prepare_cached(SQL)?;
    let mut rows = stmt.query([])?;
    let (mut id, mut make, mut year, mut mileage, mut price) =
        (Int64Builder::new(), StringBuilder::new(), Int64Builder::new(), Int64Builder::new(), Float64Builder::new());
    let int = |b: &mut Int64Builder, v: ValueRef<'_>| -> Result<()> {
        match v {
            ValueRef::Integer(i) => b.append_value(i),
            ValueRef::Null => b.append_null(),
            other => return Err(format!("unexpected {:?}", other.data_type()).into()),
        }
        Ok(())
    };
    while let Some(r) = rows.next()? {
        int(&mut id, r.get_ref(0)?)?;
        match r.get_ref(1)? {
            ValueRef::Text(t) => make.append_value(std::str::from_utf8(t)?),
            ValueRef::Null => make.append_null(),
            other => return Err(format!("unexpected {:?}", other.data_type()).into()),
        }
        int(&mut year, r.get_ref(2)?)?;
        int(&mut mileage, r.get_ref(3)?)?;
        match r.get_ref(4)? {
            ValueRef::Real(f) => price.append_value(f),
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => price.append_value(i as f64),
            ValueRef::Null => price.append_null(),
            other => return Err(format!("unexpected {:?}", other.data_type()).into()),
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("car_id", DataType::Int64, true),
        Field::new("make", DataType::Utf8, true),
        Field::new("year", DataType::Int64, true),
        Field::new("mileage", DataType::Int64, true),
        Field::new("price", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(make.finish()),
        Arc::new(year.finish()),
        Arc::new(mileage.finish()),
        Arc::new(price.finish()),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// One row's share of the checksum (shares add, so the batching does not matter).
fn share(id: i64, make_len: usize, year: i64, mileage: i64, cents: i64) -> u64 {
    let mix = id.wrapping_mul(7).wrapping_add(year.wrapping_mul(3)).wrapping_add(mileage).wrapping_add(cents);
    u64::from_ne_bytes(mix.to_ne_bytes()).wrapping_add(u64::try_from(make_len).unwrap_or(0))
}

/// The checksum of a batch of the table: every value of every row.
fn checksum(b: &RecordBatch) -> Result<u64> {
    if b.num_columns() != 5 {
        return Err(format!("a batch of {} columns", b.num_columns()).into());
    }
    let ints = |i: usize| b.column(i).as_primitive_opt::<Int64Type>().ok_or("not an Int64 column");
    let (id, year, mileage) = (ints(0)?, ints(2)?, ints(3)?);
    let make = b.column(1).as_string_opt::<i32>().ok_or("not a Utf8 column")?;
    let price = b.column(4).as_primitive_opt::<Float64Type>().ok_or("not a Float64 column")?;
    let mut sum = 0u64;
    for r in 0..b.num_rows() {
        #[allow(clippy::cast_possible_truncation)]
        let cents = (price.value(r) * 100.0).round() as i64;
        sum = sum.wrapping_add(share(id.value(r), make.value(r).len(), year.value(r), mileage.value(r), cents));
    }
    Ok(sum)
}

/// Write the arrow table into the fixture's database if it is not there (deterministic rows), and return the
/// checksum every contender must reproduce.
pub fn prepare(fixture: &Fixture) -> Result<u64> {
    let rows = fixture.sizes.stream_rows;
    let mut rng = Rng::new(SEED);
    let mut data = Vec::with_capacity(usize::try_from(rows)?);
    let mut expected = 0u64;
    for id in 1..=i64::from(rows) {
        let c = rng.car();
        let cents = i64::from(rng.below(5_000_000));
        expected = expected.wrapping_add(share(id, c.make.len(), c.year, c.mileage, cents));
        data.push((c, cents));
    }
    let mut conn = rusqlite::Connection::open(&fixture.path)?;
    super::rusqlite_setup(&conn)?;
    let exists: i64 = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [TABLE], |r| r.get(0))?;
    if exists == 0 {
        let tx = conn.transaction()?;
        tx.execute_batch(&format!("CREATE TABLE {TABLE} ({SCHEMA})"))?;
        {
            let mut stmt =
                tx.prepare(&format!("INSERT INTO {TABLE} (make, year, mileage, price) VALUES (?1, ?2, ?3, ?4)"))?;
            for (c, cents) in &data {
                #[allow(clippy::cast_precision_loss)]
                let price = *cents as f64 / 100.0;
                stmt.execute(rusqlite::params![c.make, c.year, c.mileage, price])?;
            }
        }
        tx.commit()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    }
    Ok(expected)
}

/// What the arrow workload measured.
#[derive(Debug, Default)]
pub struct ArrowResults {
    /// The contenders in table order.
    pub kinds: Vec<ArrowKind>,
    /// Rows per second of each batch, CPU time, rows.
    pub cells: BTreeMap<ArrowKind, Cell>,
    /// Peak memory growth in KiB, each contender in its own process.
    pub memory: BTreeMap<ArrowKind, u64>,
    /// ConnectorX on the same file: median rows per second and peak memory growth in KiB.
    pub connectorx: Option<(f64, Option<u64>)>,
    /// Rows per batch.
    pub rows: u64,
}

impl ArrowResults {
    /// Record one batch.
    pub fn add(&mut self, kind: ArrowKind, sample: &Sample) {
        let cell = self.cells.entry(kind).or_default();
        cell.rates.push(sample.ops_per_sec());
        cell.cpu += sample.cpu;
        cell.ops += sample.ops;
    }

    /// A contender's median rate as a ratio of the floor's.
    pub fn ratio(&self, kind: ArrowKind) -> Option<f64> {
        Some(self.cells.get(&kind)?.median()? / self.cells.get(&ArrowKind::Rusqlite)?.median()?)
    }

    /// The markdown table.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "**Arrow**: {} rows of (INTEGER, TEXT, INTEGER, INTEGER, REAL) into Arrow record batches; median rows per \
             second and the ratio of rusqlite into Arrow builders by hand (the floor), CPU time per row, and the \
             growth of the peak resident memory (each contender in its own process).\n",
            si(f64::from(u32::try_from(self.rows).unwrap_or(u32::MAX)))
        );
        s.push_str("| contender | API | rows/s | ratio | CPU µs/row | peak memory |\n|---|---|---:|---:|---:|---:|\n");
        for &k in &self.kinds {
            let cell = self.cells.get(&k);
            let rate = cell.and_then(Cell::median).map_or_else(|| "–".to_owned(), si);
            let ratio = self.ratio(k).map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"));
            let cpu = cell.and_then(Cell::cpu_per_op_us).map_or_else(|| "–".to_owned(), |us| format!("{us:.3}"));
            let _ =
                writeln!(s, "| {} | {} | {rate} | {ratio} | {cpu} | {} |", k.name(), k.api(), mib(self.memory.get(&k)));
        }
        if let Some((rate, kib)) = self.connectorx {
            let floor = self.cells.get(&ArrowKind::Rusqlite).and_then(Cell::median);
            let ratio = floor.map_or_else(|| "–".to_owned(), |f| format!("{:.2}", rate / f));
            let _ = writeln!(
                s,
                "| connectorx (Python) | `cx.read_sql(.., return_type=\"arrow\")` | {} | {ratio} | – | {} |",
                si(rate),
                mib(kib.as_ref())
            );
        }
        if let Some(r) = self.ratio(ArrowKind::Pool) {
            let _ = writeln!(
                s,
                "\nTarget: `Pool::query_arrow` >= {TARGET:.1} of the floor: {r:.2} ({}).",
                if r >= TARGET { "met" } else { "not met" }
            );
        }
        if let (Some((cx, _)), Some(pool)) = (self.connectorx, self.cells.get(&ArrowKind::Pool).and_then(Cell::median))
        {
            let _ = writeln!(s, "The pool against ConnectorX: {:.2}x (target 2x).", pool / cx);
        }
        s
    }
}

fn mib(kib: Option<&u64>) -> String {
    #[allow(clippy::cast_precision_loss)]
    kib.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1} MiB", *k as f64 / 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sizes;

    /// Every contender reads exactly the rows the table holds, with the same values (the checksum).
    #[test]
    fn every_arrow_contender_reads_the_same_batch() {
        let fixture = Fixture::create(Sizes::SMALL).unwrap();
        let expected = prepare(&fixture).unwrap();
        assert_eq!(prepare(&fixture).unwrap(), expected, "a second prepare reuses the table");
        let options = Options { readers: 2, ..Options::default() };
        for kind in ArrowKind::ALL {
            let mut c = kind.open(&fixture, &options).unwrap();
            assert_eq!(ArrowKind::parse(kind.name()), Some(kind));
            for _ in 0..2 {
                let s = c.run().unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
                assert_eq!((s.checksum, s.ops), (expected, u64::from(Sizes::SMALL.stream_rows)), "{}", kind.name());
            }
        }
    }
}
