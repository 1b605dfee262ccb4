//! sqlx: a pool of SQLite connections, each driven by its own worker thread; one statement per call.

use std::sync::Arc;

use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use tokio::runtime::Runtime;

use super::rusqlite::ops_table;
use super::{spawn_point64, task_ids, tasks};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, NewCar, Options, Result, Sample, Workload};

type CarTuple = (i64, String, i64, i64);

fn car((car_id, make, year, mileage): CarTuple) -> Car {
    Car { car_id, make, year, mileage }
}

pub(crate) struct Sqlx {
    rt: Runtime,
    pool: SqlitePool,
    cars: Arc<[NewCar]>,
    point_ids: Arc<[i64]>,
    point64: Vec<(Arc<[i64]>, std::ops::Range<usize>)>,
    ops: [u64; 6],
}

async fn points(pool: &SqlitePool, ids: &[i64]) -> Result<u64> {
    let mut sum = 0u64;
    for &id in ids {
        let row: CarTuple = sqlx::query_as(sql::POINT).bind(id).fetch_one(pool).await?;
        sum = sum.wrapping_add(car(row).share());
    }
    Ok(sum)
}

impl Sqlx {
    pub fn open(fixture: &Fixture, options: &Options) -> Result<Self> {
        let rt = options.runtime()?;
        let connect = SqliteConnectOptions::new()
            .filename(&fixture.path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let size = u32::try_from(options.readers)?;
        let pool =
            rt.block_on(SqlitePoolOptions::new().max_connections(size).min_connections(size).connect_with(connect))?;
        Ok(Sqlx {
            rt,
            pool,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64: (0..tasks(fixture)).map(|t| task_ids(fixture, t)).collect(),
            ops: ops_table(fixture),
        })
    }
}

impl Contender for Sqlx {
    fn kind(&self) -> Kind {
        Kind::Sqlx
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        let pool = &self.pool;
        if workload == Workload::Insert {
            self.rt.block_on(async {
                sqlx::query(sql::DROP_INSERT).execute(pool).await?;
                sqlx::query(sql::CREATE_INSERT).execute(pool).await?;
                sqlx::query(sql::CHECKPOINT).execute(pool).await
            })?;
        }
        let t = Timer::start();
        let checksum = self.rt.block_on(async {
            Ok::<u64, crate::Error>(match workload {
                Workload::Insert => {
                    let mut tx = pool.begin().await?;
                    let mut n = 0u64;
                    for c in self.cars.iter() {
                        let done = sqlx::query(sql::INSERT)
                            .bind(c.make)
                            .bind(c.year)
                            .bind(c.mileage)
                            .execute(&mut *tx)
                            .await?;
                        n += done.rows_affected();
                    }
                    tx.commit().await?;
                    n
                }
                Workload::Point => points(pool, &self.point_ids).await?,
                Workload::Point64 => {
                    spawn_point64(&self.point64, pool, |p, ids, range| async move { points(&p, &ids[range]).await })
                        .await?
                }
                Workload::Scan => {
                    let rows: Vec<CarTuple> = sqlx::query_as(sql::SCAN).bind(SCAN_MILEAGE).fetch_all(pool).await?;
                    let cars: Vec<Car> = rows.into_iter().map(car).collect();
                    crate::data::checksum(&cars)
                }
                Workload::Stream => {
                    let mut rows = sqlx::query_as::<_, CarTuple>(sql::STREAM).fetch(pool);
                    let mut sum = 0u64;
                    while let Some(row) = rows.try_next().await? {
                        sum = sum.wrapping_add(car(row).share());
                    }
                    sum
                }
                Workload::Collect => {
                    let rows: Vec<CarTuple> = sqlx::query_as(sql::STREAM).fetch_all(pool).await?;
                    let cars: Vec<Car> = rows.into_iter().map(car).collect();
                    crate::data::checksum(&cars)
                }
            })
        })?;
        Ok(t.stop(ops, checksum))
    }
}

impl Drop for Sqlx {
    fn drop(&mut self) {
        self.rt.block_on(self.pool.close());
    }
}
