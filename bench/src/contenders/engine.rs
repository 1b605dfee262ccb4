//! The query layer (`asqlite-query`): its async `Engine` over an `asqlite::Pool`, opened from a URL, statements built
//! with the expression API and run through a commit-as-you-go connection. Two contenders: `asqlite-engine` compiles
//! the point select once and runs the compiled statement with a new `id` each time (how a hot query is written,
//! and what the target measures); `asqlite-engine-built` builds the select anew for every query (the engine's shape
//! cache turns every build after the first into a hit, so only the literals are gathered).

use std::path::Path;
use std::sync::Arc;

use asqlite_query::prelude::*;
use futures::StreamExt;
use tokio::runtime::Runtime;

use super::rusqlite::ops_table;
use super::{spawn_point64, task_ids, tasks};
use crate::contender::Timer;
use crate::data::{sql, SCAN_MILEAGE};
use crate::{Car, Contender, Fixture, Kind, NewCar, Options, Result, Sample, Workload};

/// The fixture's tables, described to the query layer.
#[derive(Clone)]
pub(crate) struct Tables {
    pub cars: Table,
    pub cars_big: Table,
    pub cars_insert: Table,
}

impl Tables {
    pub fn new() -> Self {
        let meta = MetaData::new();
        let table = |name: &str| {
            Table::new(
                name,
                &meta,
                [
                    Column::new("car_id", Integer).primary_key(),
                    Column::new("make", Text),
                    Column::new("year", Integer),
                    Column::new("mileage", Integer),
                ],
            )
        };
        Tables { cars: table("cars"), cars_big: table("cars_big"), cars_insert: table("cars_insert") }
    }

    /// One car by primary key, through a named parameter `id`.
    pub fn point(&self) -> asqlite_query::select::Select {
        select(&self.cars).where_(self.cars.c("car_id").eq(bindparam("id")))
    }
}

/// The engine URL of a database file: `sqlite:////absolute/path` (`%` and `?` percent-encoded).
pub(crate) fn engine_url(path: &Path, readers: usize) -> Result<String> {
    let abs = std::path::absolute(path)?;
    let s = abs.to_str().ok_or("the fixture's path is not UTF-8")?;
    let encoded = s.replace('%', "%25").replace('?', "%3F");
    Ok(format!("sqlite:///{encoded}?readers={readers}"))
}

fn row_car(r: &RowRef<'_>) -> asqlite::Result<Car> {
    Ok(Car { car_id: r.get(0)?, make: r.get(1)?, year: r.get(2)?, mileage: r.get(3)? })
}

fn checksum(r: &QueryResult) -> Result<u64> {
    let mut sum = 0u64;
    for row in r.iter() {
        sum = sum.wrapping_add(row_car(&row)?.share());
    }
    Ok(sum)
}

/// Point selects: the compiled statement run again, or (without one) the statement built anew for every query.
async fn points(engine: &Engine, tables: &Tables, compiled: Option<&Compiled>, ids: &[i64]) -> Result<u64> {
    let conn = engine.connect().await?;
    let mut sum = 0u64;
    for &id in ids {
        let r = match compiled {
            Some(c) => conn.execute_with(c, named_params! {"id" => id}).await?,
            None => conn.execute_with(tables.point(), named_params! {"id" => id}).await?,
        };
        sum = sum.wrapping_add(row_car(&r.one()?)?.share());
    }
    Ok(sum)
}

pub(crate) struct QueryEngine {
    rt: Runtime,
    engine: Engine,
    tables: Tables,
    /// The point select, compiled once (None: built for every query).
    point: Option<Arc<Compiled>>,
    cars: Arc<[NewCar]>,
    point_ids: Arc<[i64]>,
    point64: Vec<(Arc<[i64]>, std::ops::Range<usize>)>,
    ops: [u64; 6],
}

impl QueryEngine {
    /// `built`: build the point select for every query instead of compiling it once.
    pub fn open(fixture: &Fixture, options: &Options, built: bool) -> Result<Self> {
        let rt = options.runtime()?;
        let engine = if options.spin {
            let mut url = engine_url(&fixture.path, options.readers)?;
            if options.process_exclusive {
                url.push_str("&process_exclusive=on");
            }
            rt.block_on(create_async_engine(&url))?
        } else {
            // The URL has no spin option: open the pool the `Pool` contender opens.
            let builder = asqlite::Pool::builder()
                .readers(options.readers)
                .spin(false)
                .process_exclusive(options.process_exclusive);
            Engine::from_pool(rt.block_on(builder.open(&fixture.path))?)
        };
        let tables = Tables::new();
        let point = if built { None } else { Some(Arc::new(tables.point().compile()?)) };
        Ok(QueryEngine {
            rt,
            engine,
            tables,
            point,
            cars: fixture.cars.clone(),
            point_ids: fixture.point_ids.clone(),
            point64: (0..tasks(fixture)).map(|t| task_ids(fixture, t)).collect(),
            ops: ops_table(fixture),
        })
    }
}

impl Contender for QueryEngine {
    fn kind(&self) -> Kind {
        if self.point.is_some() {
            Kind::Engine
        } else {
            Kind::EngineBuilt
        }
    }

    fn run(&mut self, workload: Workload) -> Result<Sample> {
        let ops = self.ops[workload as usize];
        let (engine, tables, point) = (&self.engine, &self.tables, self.point.as_deref());
        if workload == Workload::Insert {
            self.rt.block_on(engine.pool().execute_batch(sql::RESET_INSERT))?;
        }
        let t = Timer::start();
        let checksum = self.rt.block_on(async {
            Ok::<u64, crate::Error>(match workload {
                Workload::Insert => {
                    let sets = self
                        .cars
                        .iter()
                        .map(|c| named_params! {"make" => c.make, "year" => c.year, "mileage" => c.mileage});
                    let conn = engine.begin().await?;
                    let n = conn.execute_many(tables.cars_insert.insert(), sets).await?.rows_affected();
                    conn.commit().await?;
                    n
                }
                Workload::Point => points(engine, tables, point, &self.point_ids).await?,
                Workload::Point64 => {
                    let all = (engine.clone(), tables.clone(), self.point.clone());
                    spawn_point64(&self.point64, &all, |(e, t, c), ids, range| async move {
                        points(&e, &t, c.as_deref(), &ids[range]).await
                    })
                    .await?
                }
                Workload::Scan => {
                    // Into structs through serde, as a query-layer user writes it.
                    let q = select(&tables.cars).where_(tables.cars.c("mileage").gt(bindparam("m")));
                    let conn = engine.connect().await?;
                    let cars: Vec<Car> =
                        conn.execute_with(q, named_params! {"m" => SCAN_MILEAGE}).await?.deserialize()?;
                    crate::data::checksum(&cars)
                }
                Workload::Stream => {
                    let conn = engine.connect().await?;
                    let mut rows = conn.stream(select(&tables.cars_big)).await?;
                    let mut sum = 0u64;
                    while let Some(row) = rows.next().await {
                        sum = sum.wrapping_add(row_car(&row?.as_row_ref())?.share());
                    }
                    sum
                }
                Workload::Collect => {
                    let conn = engine.connect().await?;
                    checksum(&conn.execute(select(&tables.cars_big)).await?)?
                }
            })
        })?;
        Ok(t.stop(ops, checksum))
    }
}

impl Drop for QueryEngine {
    fn drop(&mut self) {
        let engine = &self.engine;
        let _ = self.rt.block_on(engine.dispose());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_urls_are_absolute_and_escaped() {
        let url = engine_url(Path::new("/data/a%b?.db"), 2).unwrap();
        assert_eq!(url, "sqlite:////data/a%25b%3F.db?readers=2");
        let parsed = asqlite_query::url::EngineUrl::parse(&url).unwrap();
        assert_eq!(parsed.path.as_deref(), Some(Path::new("/data/a%b?.db")));
        assert_eq!(parsed.readers, Some(2));
    }

    #[test]
    fn the_point_select_binds_the_key() {
        assert_eq!(
            Tables::new().point().to_string(),
            "SELECT cars.car_id, cars.make, cars.year, cars.mileage FROM cars WHERE cars.car_id = ?"
        );
    }

    /// Built for every query, the point select is still compiled once: every build after the first is a cache hit.
    #[test]
    fn points_hit_the_shape_cache() {
        let fixture = Fixture::create(crate::Sizes::SMALL).unwrap();
        let mut c = QueryEngine::open(&fixture, &Options { readers: 2, ..Options::default() }, true).unwrap();
        c.run(Workload::Point).unwrap();
        c.run(Workload::Point64).unwrap();
        let stats = c.engine.cache_stats();
        assert_eq!(stats.misses, 1, "{stats:?}");
        assert_eq!(stats.hits, fixture.ops(Workload::Point) + fixture.ops(Workload::Point64) - 1, "{stats:?}");
    }

    /// Compiled once, the point select never touches the shape cache, and both forms read the same rows.
    #[test]
    fn the_compiled_point_select_skips_the_shape_cache() {
        let fixture = Fixture::create(crate::Sizes::SMALL).unwrap();
        let options = Options { readers: 2, ..Options::default() };
        let mut compiled = QueryEngine::open(&fixture, &options, false).unwrap();
        let mut built = QueryEngine::open(&fixture, &options, true).unwrap();
        assert_eq!((compiled.kind(), built.kind()), (Kind::Engine, Kind::EngineBuilt));
        let a = compiled.run(Workload::Point).unwrap();
        let b = built.run(Workload::Point).unwrap();
        assert_eq!(a.checksum, b.checksum);
        assert_eq!(compiled.engine.cache_stats().hits + compiled.engine.cache_stats().misses, 0);
    }
}
