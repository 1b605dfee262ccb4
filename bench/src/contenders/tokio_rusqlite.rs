//! tokio-rusqlite: one rusqlite connection on a worker thread, reached through closures.

use std::sync::Arc;

use tokio::runtime::Runtime;
use tokio_rusqlite::Connection;

use super::rusqlite::ops_table;
use super::{boxed, rusqlite_car, rusqlite_setup, spawn_point64, task_ids, tasks};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, NewCar, Options, Result, Sample, Workload};

pub(crate) struct TokioRusqlite {
    rt: Runtime,
    conn: Connection,
    cars: Arc<[NewCar]>,
    point_ids: Arc<[i64]>,
    point64: Vec<(Arc<[i64]>, std::ops::Range<usize>)>,
    ops: [u64; 6],
}

async fn points(conn: &Connection, ids: &[i64]) -> Result<u64> {
    let mut sum = 0u64;
    for &id in ids {
        let car =
            conn.call(move |c| c.prepare_cached(sql::POINT)?.query_row([id], rusqlite_car)).await.map_err(boxed)?;
        sum = sum.wrapping_add(car.share());
    }
    Ok(sum)
}

/// No streaming API: the rows come back collected.
async fn all_rows(conn: &Connection) -> Result<Vec<Car>> {
    conn.call(|c| c.prepare_cached(sql::STREAM)?.query_map([], rusqlite_car)?.collect::<rusqlite::Result<Vec<_>>>())
        .await
        .map_err(boxed)
}

impl TokioRusqlite {
    pub fn open(fixture: &Fixture, options: &Options) -> Result<Self> {
        let rt = options.runtime()?;
        let conn = rt.block_on(async {
            let conn = Connection::open(&fixture.path).await?;
            conn.call(|c| rusqlite_setup(c)).await.map_err(boxed)?;
            Ok::<_, crate::Error>(conn)
        })?;
        Ok(TokioRusqlite {
            rt,
            conn,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64: (0..tasks(fixture)).map(|t| task_ids(fixture, t)).collect(),
            ops: ops_table(fixture),
        })
    }
}

impl Contender for TokioRusqlite {
    fn kind(&self) -> Kind {
        Kind::TokioRusqlite
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        let conn = &self.conn;
        if workload == Workload::Insert {
            self.rt.block_on(conn.call(|c| c.execute_batch(sql::RESET_INSERT))).map_err(boxed)?;
        }
        let t = Timer::start();
        let checksum = self.rt.block_on(async {
            Ok::<u64, crate::Error>(match workload {
                Workload::Insert => {
                    let cars = Arc::clone(&self.cars);
                    conn.call(move |c| {
                        let tx = c.transaction()?;
                        let mut n = 0u64;
                        {
                            let mut stmt = tx.prepare_cached(sql::INSERT)?;
                            for car in cars.iter() {
                                n += stmt.execute(rusqlite::params![car.make, car.year, car.mileage])? as u64;
                            }
                        }
                        tx.commit()?;
                        Ok::<_, rusqlite::Error>(n)
                    })
                    .await
                    .map_err(boxed)?
                }
                Workload::Point => points(conn, &self.point_ids).await?,
                Workload::Point64 => {
                    spawn_point64(&self.point64, conn, |c, ids, range| async move { points(&c, &ids[range]).await })
                        .await?
                }
                Workload::Scan => {
                    let cars = conn
                        .call(|c| {
                            c.prepare_cached(sql::SCAN)?
                                .query_map([SCAN_MILEAGE], rusqlite_car)?
                                .collect::<rusqlite::Result<Vec<_>>>()
                        })
                        .await
                        .map_err(boxed)?;
                    crate::data::checksum(&cars)
                }
                Workload::Stream | Workload::Collect => crate::data::checksum(&all_rows(conn).await?),
            })
        })?;
        Ok(t.stop(ops, checksum))
    }
}
