//! `asqlite::blocking::Connection` on the calling thread.

use asqlite::blocking::Connection;
use asqlite::{params, RowRef};

use super::rusqlite::ops_table;
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, Result, Sample, Workload};

/// Decode an asqlite row (shared by the asqlite contenders).
pub(crate) fn asqlite_car(r: &RowRef<'_>) -> asqlite::Result<Car> {
    Ok(Car { car_id: r.get(0)?, make: r.get(1)?, year: r.get(2)?, mileage: r.get(3)? })
}

pub(crate) struct Blocking {
    conn: Connection,
    cars: std::sync::Arc<[crate::NewCar]>,
    point_ids: std::sync::Arc<[i64]>,
    point64_ids: std::sync::Arc<[i64]>,
    ops: [u64; 6],
}

impl Blocking {
    pub fn open(fixture: &Fixture, options: &crate::Options) -> Result<Self> {
        let conn =
            asqlite::blocking::OpenOptions::new().process_exclusive(options.process_exclusive).open(&fixture.path)?;
        let _mode: String = conn.pragma_update_and_check("journal_mode", "WAL")?;
        conn.pragma_update("synchronous", "NORMAL")?;
        Ok(Blocking {
            conn,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64_ids: fixture.point64_ids.clone(),
            ops: ops_table(fixture),
        })
    }

    fn points(&self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        for &id in ids {
            let car = self.conn.query_row(sql::POINT, params![id], asqlite_car)?;
            sum = sum.wrapping_add(car.share());
        }
        Ok(sum)
    }
}

impl Contender for Blocking {
    fn kind(&self) -> Kind {
        Kind::Blocking
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        if workload == Workload::Insert {
            self.conn.execute_batch(sql::RESET_INSERT)?;
        }
        let t = Timer::start();
        let checksum = match workload {
            Workload::Insert => {
                self.conn.execute_many(sql::INSERT, self.cars.iter().map(|c| (c.make, c.year, c.mileage)))?
            }
            Workload::Point => self.points(&self.point_ids)?,
            Workload::Point64 => self.points(&self.point64_ids)?,
            Workload::Scan => {
                crate::data::checksum(&self.conn.query_map(sql::SCAN, params![SCAN_MILEAGE], asqlite_car)?)
            }
            Workload::Stream => {
                let mut stmt = self.conn.prepare_cached(sql::STREAM)?;
                let mut cursor = stmt.cursor(())?;
                let mut sum = 0u64;
                while let Some(r) = cursor.next()? {
                    sum = sum.wrapping_add(asqlite_car(&r)?.share());
                }
                sum
            }
            Workload::Collect => crate::data::checksum(&self.conn.query_map(sql::STREAM, (), asqlite_car)?),
        };
        Ok(t.stop(ops, checksum))
    }
}
