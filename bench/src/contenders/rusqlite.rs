//! rusqlite on the calling thread: the floor.

use rusqlite::{params, Connection};

use super::{rusqlite_car, rusqlite_setup};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Contender, Fixture, Kind, Result, Sample, Workload};

pub(crate) struct Floor {
    conn: Connection,
    cars: std::sync::Arc<[crate::NewCar]>,
    point_ids: std::sync::Arc<[i64]>,
    point64_ids: std::sync::Arc<[i64]>,
    ops: [u64; 6],
}

impl Floor {
    pub fn open(fixture: &Fixture, options: &crate::Options) -> Result<Self> {
        let conn = if options.process_exclusive {
            Connection::open_with_flags_and_vfs(&fixture.path, rusqlite::OpenFlags::default(), c"unix-excl")?
        } else {
            Connection::open(&fixture.path)?
        };
        rusqlite_setup(&conn)?;
        Ok(Floor {
            conn,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64_ids: fixture.point64_ids.clone(),
            ops: ops_table(fixture),
        })
    }

    fn points(&self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        let mut stmt = self.conn.prepare_cached(sql::POINT)?;
        for &id in ids {
            let car = stmt.query_row([id], rusqlite_car)?;
            sum = sum.wrapping_add(car.share());
        }
        Ok(sum)
    }
}

/// The operation counts of every workload, indexed by [`Workload`] as `usize`.
pub(crate) fn ops_table(fixture: &Fixture) -> [u64; 6] {
    [Workload::Insert, Workload::Point, Workload::Point64, Workload::Scan, Workload::Stream, Workload::Collect]
        .map(|w| fixture.ops(w))
}

impl Contender for Floor {
    fn kind(&self) -> Kind {
        Kind::Rusqlite
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        if workload == Workload::Insert {
            self.conn.execute_batch(sql::RESET_INSERT)?;
        }
        let t = Timer::start();
        let checksum = match workload {
            Workload::Insert => {
                let tx = self.conn.transaction()?;
                let mut n = 0u64;
                {
                    let mut stmt = tx.prepare_cached(sql::INSERT)?;
                    for c in self.cars.iter() {
                        n += u64::try_from(stmt.execute(params![c.make, c.year, c.mileage])?)?;
                    }
                }
                tx.commit()?;
                n
            }
            Workload::Point => self.points(&self.point_ids)?,
            Workload::Point64 => self.points(&self.point64_ids)?,
            Workload::Scan => {
                let mut stmt = self.conn.prepare_cached(sql::SCAN)?;
                let cars = stmt.query_map([SCAN_MILEAGE], rusqlite_car)?.collect::<rusqlite::Result<Vec<_>>>()?;
                crate::data::checksum(&cars)
            }
            Workload::Stream => {
                let mut stmt = self.conn.prepare_cached(sql::STREAM)?;
                let mut rows = stmt.query([])?;
                let mut sum = 0u64;
                while let Some(r) = rows.next()? {
                    sum = sum.wrapping_add(rusqlite_car(r)?.share());
                }
                sum
            }
            Workload::Collect => {
                let mut stmt = self.conn.prepare_cached(sql::STREAM)?;
                let cars = stmt.query_map([], rusqlite_car)?.collect::<rusqlite::Result<Vec<_>>>()?;
                crate::data::checksum(&cars)
            }
        };
        Ok(t.stop(ops, checksum))
    }
}
