//! The contenders, one module each. Each opens its own connections on the fixture's database with WAL and
//! `synchronous = NORMAL`, and decodes every row into a [`Car`](crate::Car).

pub mod arrow;
pub(crate) mod asqlite;
pub(crate) mod blocking;
pub(crate) mod engine;
pub(crate) mod rusqlite;

#[cfg(feature = "peers")]
pub(crate) mod async_sqlite;
#[cfg(feature = "peers")]
pub(crate) mod sqlx;
#[cfg(feature = "peers")]
pub(crate) mod tokio_rusqlite;

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use crate::{Car, Fixture, Result};

/// Decode a rusqlite row (shared by the rusqlite-based contenders).
pub(crate) fn rusqlite_car(r: &::rusqlite::Row<'_>) -> ::rusqlite::Result<Car> {
    Ok(Car { car_id: r.get(0)?, make: r.get(1)?, year: r.get(2)?, mileage: r.get(3)? })
}

/// Open a rusqlite connection the way every contender's connections are set up.
pub(crate) fn rusqlite_setup(conn: &::rusqlite::Connection) -> ::rusqlite::Result<()> {
    let _mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
}

/// The keys of task `t` of `point64`.
pub(crate) fn task_ids(fixture: &Fixture, t: usize) -> (Arc<[i64]>, std::ops::Range<usize>) {
    let per = usize::try_from(fixture.sizes.per_task).unwrap_or(0);
    (Arc::clone(&fixture.point64_ids), t * per..(t + 1) * per)
}

/// The number of `point64` tasks.
pub(crate) fn tasks(fixture: &Fixture) -> usize {
    usize::try_from(fixture.sizes.tasks).unwrap_or(0)
}

/// The peers' error types, flattened into the harness's error.
#[cfg(feature = "peers")]
pub(crate) fn boxed(e: impl std::fmt::Display) -> crate::Error {
    e.to_string().into()
}

/// Run the point64 workload: one tokio task per slice of keys, each given its own clone of `handle`, and the
/// wrapping sum of their checksums (shared by every async contender).
pub(crate) async fn spawn_point64<H, F, Fut>(slices: &[(Arc<[i64]>, Range<usize>)], handle: &H, task: F) -> Result<u64>
where
    H: Clone,
    F: Fn(H, Arc<[i64]>, Range<usize>) -> Fut,
    Fut: Future<Output = Result<u64>> + Send + 'static,
{
    let tasks: Vec<_> =
        slices.iter().map(|(ids, range)| tokio::spawn(task(handle.clone(), Arc::clone(ids), range.clone()))).collect();
    let mut sum = 0u64;
    for t in tasks {
        sum = sum.wrapping_add(t.await??);
    }
    Ok(sum)
}
