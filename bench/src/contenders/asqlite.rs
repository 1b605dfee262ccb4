//! asqlite's async handles: one `Connection` (one worker thread) or a `Pool` (a writer and N readers).

use std::sync::Arc;

use asqlite::{params, Row};
use futures::StreamExt;
use tokio::runtime::Runtime;

use super::blocking::asqlite_car;
use super::rusqlite::ops_table;
use super::{spawn_point64, task_ids, tasks};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, Options, Result, Sample, Workload};

/// Either handle: they have the same methods.
#[derive(Clone)]
enum Handle {
    Connection(asqlite::Connection),
    Pool(asqlite::Pool),
}

/// Call the same method on whichever handle this is.
macro_rules! on {
    ($handle:expr, $h:ident => $body:expr) => {
        match $handle {
            Handle::Connection($h) => $body,
            Handle::Pool($h) => $body,
        }
    };
}

fn row_car(r: &Row) -> asqlite::Result<Car> {
    Ok(Car { car_id: r.get(0)?, make: r.get(1)?, year: r.get(2)?, mileage: r.get(3)? })
}

/// Point selects, each row decoded in place by `query_row` (as the rusqlite floor decodes in its `query_row`).
async fn points(handle: &Handle, ids: &[i64]) -> Result<u64> {
    let mut sum = 0u64;
    for &id in ids {
        let car = on!(handle, h => h.query_row(sql::POINT, params![id], asqlite_car).await)?;
        sum = sum.wrapping_add(car.share());
    }
    Ok(sum)
}

pub(crate) struct AsyncAsqlite {
    kind: Kind,
    rt: Runtime,
    handle: Handle,
    fixture_cars: Arc<[crate::NewCar]>,
    point_ids: Arc<[i64]>,
    point64: Vec<(Arc<[i64]>, std::ops::Range<usize>)>,
    ops: [u64; 6],
}

impl AsyncAsqlite {
    pub fn connection(fixture: &Fixture, options: &Options) -> Result<Self> {
        let rt = options.runtime()?;
        let builder = asqlite::Connection::builder().spin(options.spin).process_exclusive(options.process_exclusive);
        let conn = rt.block_on(builder.open(&fixture.path))?;
        Ok(Self::new(Kind::Connection, rt, Handle::Connection(conn), fixture))
    }

    pub fn pool(fixture: &Fixture, options: &Options) -> Result<Self> {
        let rt = options.runtime()?;
        let builder = asqlite::Pool::builder()
            .readers(options.readers)
            .spin(options.spin)
            .process_exclusive(options.process_exclusive);
        let pool = rt.block_on(builder.open(&fixture.path))?;
        Ok(Self::new(Kind::Pool, rt, Handle::Pool(pool), fixture))
    }

    fn new(kind: Kind, rt: Runtime, handle: Handle, fixture: &Fixture) -> Self {
        AsyncAsqlite {
            kind,
            rt,
            handle,
            fixture_cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64: (0..tasks(fixture)).map(|t| task_ids(fixture, t)).collect(),
            ops: ops_table(fixture),
        }
    }
}

impl Contender for AsyncAsqlite {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        let handle = &self.handle;
        if workload == Workload::Insert {
            self.rt.block_on(async { on!(handle, h => h.execute_batch(sql::RESET_INSERT).await) })?;
        }
        let t = Timer::start();
        let checksum = self.rt.block_on(async {
            Ok::<u64, crate::Error>(match workload {
                Workload::Insert => {
                    let cars = Arc::clone(&self.fixture_cars);
                    // Tuple rows: bound straight from the fixture, no text copied on the way.
                    let sets = (0..cars.len()).map(move |i| {
                        let c = &cars[i];
                        (c.make, c.year, c.mileage)
                    });
                    on!(handle, h => h.execute_many(sql::INSERT, sets).await)?
                }
                Workload::Point => points(handle, &self.point_ids).await?,
                Workload::Point64 => {
                    spawn_point64(&self.point64, handle, |h, ids, range| async move { points(&h, &ids[range]).await })
                        .await?
                }
                Workload::Scan => {
                    let cars = on!(handle, h => h.query_map(sql::SCAN, params![SCAN_MILEAGE], asqlite_car).await)?;
                    crate::data::checksum(&cars)
                }
                Workload::Stream => {
                    let mut rows = on!(handle, h => h.stream(sql::STREAM, ()));
                    let mut sum = 0u64;
                    while let Some(row) = rows.next().await {
                        sum = sum.wrapping_add(row_car(&row?)?.share());
                    }
                    sum
                }
                Workload::Collect => {
                    let cars = on!(handle, h => h.query_map(sql::STREAM, (), asqlite_car).await)?;
                    crate::data::checksum(&cars)
                }
            })
        })?;
        Ok(t.stop(ops, checksum))
    }
}

impl Drop for AsyncAsqlite {
    fn drop(&mut self) {
        let handle = &self.handle;
        let _ = self.rt.block_on(async { on!(handle, h => h.close().await) });
    }
}
