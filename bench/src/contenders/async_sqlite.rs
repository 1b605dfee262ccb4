//! async-sqlite: a round-robin pool of rusqlite connections, each on its own thread, reached through closures.

use std::sync::Arc;

use async_sqlite::{JournalMode, Pool, PoolBuilder};
use tokio::runtime::Runtime;

use super::rusqlite::ops_table;
use super::{boxed, rusqlite_car, spawn_point64, task_ids, tasks};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, NewCar, Options, Result, Sample, Workload};

pub(crate) struct AsyncSqlite {
    rt: Runtime,
    pool: Pool,
    cars: Arc<[NewCar]>,
    point_ids: Arc<[i64]>,
    point64: Vec<(Arc<[i64]>, std::ops::Range<usize>)>,
    ops: [u64; 6],
}

async fn points(pool: &Pool, ids: &[i64]) -> Result<u64> {
    let mut sum = 0u64;
    for &id in ids {
        let car =
            pool.conn(move |c| c.prepare_cached(sql::POINT)?.query_row([id], rusqlite_car)).await.map_err(boxed)?;
        sum = sum.wrapping_add(car.share());
    }
    Ok(sum)
}

/// No streaming API: the rows come back collected.
async fn all_rows(pool: &Pool) -> Result<Vec<Car>> {
    pool.conn(|c| c.prepare_cached(sql::STREAM)?.query_map([], rusqlite_car)?.collect::<rusqlite::Result<Vec<_>>>())
        .await
        .map_err(boxed)
}

impl AsyncSqlite {
    pub fn open(fixture: &Fixture, options: &Options) -> Result<Self> {
        let rt = options.runtime()?;
        let pool = rt.block_on(async {
            let pool = PoolBuilder::new()
                .path(&fixture.path)
                .journal_mode(JournalMode::Wal)
                .num_conns(options.readers)
                .open()
                .await
                .map_err(boxed)?;
            for r in pool.conn_for_each(|c| c.pragma_update(None, "synchronous", "NORMAL")).await {
                r.map_err(boxed)?;
            }
            Ok::<_, crate::Error>(pool)
        })?;
        Ok(AsyncSqlite {
            rt,
            pool,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64: (0..tasks(fixture)).map(|t| task_ids(fixture, t)).collect(),
            ops: ops_table(fixture),
        })
    }
}

impl Contender for AsyncSqlite {
    fn kind(&self) -> Kind {
        Kind::AsyncSqlite
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        let pool = &self.pool;
        if workload == Workload::Insert {
            self.rt.block_on(pool.conn(|c| c.execute_batch(sql::RESET_INSERT))).map_err(boxed)?;
        }
        let t = Timer::start();
        let checksum = self.rt.block_on(async {
            Ok::<u64, crate::Error>(match workload {
                Workload::Insert => {
                    let cars = Arc::clone(&self.cars);
                    pool.conn_mut(move |c| {
                        let tx = c.transaction()?;
                        let mut n = 0u64;
                        {
                            let mut stmt = tx.prepare_cached(sql::INSERT)?;
                            for car in cars.iter() {
                                n += stmt.execute(rusqlite::params![car.make, car.year, car.mileage])? as u64;
                            }
                        }
                        tx.commit()?;
                        Ok(n)
                    })
                    .await
                    .map_err(boxed)?
                }
                Workload::Point => points(pool, &self.point_ids).await?,
                Workload::Point64 => {
                    spawn_point64(&self.point64, pool, |p, ids, range| async move { points(&p, &ids[range]).await })
                        .await?
                }
                Workload::Scan => {
                    let cars = pool
                        .conn(|c| {
                            c.prepare_cached(sql::SCAN)?
                                .query_map([SCAN_MILEAGE], rusqlite_car)?
                                .collect::<rusqlite::Result<Vec<_>>>()
                        })
                        .await
                        .map_err(boxed)?;
                    crate::data::checksum(&cars)
                }
                Workload::Stream | Workload::Collect => crate::data::checksum(&all_rows(pool).await?),
            })
        })?;
        Ok(t.stop(ops, checksum))
    }
}
