//! Golden SQL for both dialects: every statement shape of `golden.rs`, with the SQLite SQL and the PostgreSQL SQL
//! the compiler writes for it, side by side. Both strings are asserted always. The statement then runs on a
//! SQLite file and, when `ASQLITE_TEST_POSTGRES_URL` names a server (feature `postgres`), on a fresh PostgreSQL
//! schema holding the same rows, and both databases must return the same rows (compared as values: `2` and
//! `2.0`, JSON with or without spaces, in any order, since each database orders NULLs its own way).
//!
//! A shape that only SQLite can run (its JSON path functions, `julianday`, `GLOB`, `INSERT OR REPLACE`, an
//! expression of parameters alone, whose type PostgreSQL cannot infer) is asserted as SQL, or as an error, only.

mod support;

use asqlite::blocking::Connection;
use asqlite::{Params, Rows, Value};
use asqlite_query::compile::{create_table_sql, create_table_sql_for, Postgres};
use asqlite_query::expr::{func, Expr};
use asqlite_query::prelude::*;
use support::TestDb;

struct Pg {
    rt: tokio::runtime::Runtime,
    db: Option<TestDb>,
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            self.rt.block_on(db.finish());
        }
    }
}

struct Db {
    _dir: tempfile::TempDir,
    conn: Connection,
    cars: Table,
    owners: Table,
    pg: Option<Pg>,
}

const DATA: &str = "INSERT INTO owners VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy');
     INSERT INTO cars VALUES (1, 'Honda Civic', 2012, 20000, 1), (2, 'Toyota Prius', 2020, 10000, 2),
                             (3, 'Tesla Model 3', 2019, 5000, 1), (4, 'Ford T', 1920, NULL, NULL);";

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("golden.db")).unwrap();
    let meta = MetaData::new();
    let cars = Table::new(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
            Column::new("owner_id", Integer).foreign_key("owners.id").on_delete(ReferentialAction::SetNull),
        ],
    );
    let owners = Table::new(
        "owners",
        &meta,
        [Column::new("id", Integer).primary_key(), Column::new("name", Text).nullable(false).unique()],
    );
    meta.create_all(&conn).unwrap();
    conn.execute_batch(DATA).unwrap();
    let pg = support::postgres_url().map(|_| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let db = rt.block_on(async {
            let db = TestDb::postgres("golden").await.unwrap();
            db.engine.create_all(&meta).await.unwrap();
            let conn = db.engine.begin().await.unwrap();
            conn.execute(text(DATA)).await.unwrap();
            // Rows given their keys leave an identity where it was: move it past them, as SQLite's rowid is.
            conn.execute(text(
                "SELECT setval(pg_get_serial_sequence('owners', 'id'), 3), \
                 setval(pg_get_serial_sequence('cars', 'car_id'), 4)",
            ))
            .await
            .unwrap();
            conn.commit().await.unwrap();
            db
        });
        Pg { rt, db: Some(db) }
    });
    Db { _dir: dir, conn, cars, owners, pg }
}

impl Db {
    fn pg_engine(&self) -> Option<(&tokio::runtime::Runtime, &Engine)> {
        self.pg.as_ref().and_then(|p| Some((&p.rt, &p.db.as_ref()?.engine)))
    }

    /// Run SQL text of the same meaning on both databases.
    fn both(&self, sql: &str) {
        self.conn.execute_batch(sql).unwrap();
        if let Some((rt, engine)) = self.pg_engine() {
            rt.block_on(engine.transaction(|c| async move { c.execute(text(sql)).await })).unwrap();
        }
    }

    /// Create a table on both databases.
    fn create(&self, table: &Table) {
        table.create(&self.conn).unwrap();
        if let Some((rt, engine)) = self.pg_engine() {
            assert!(rt.block_on(engine.create_table(table)).unwrap());
        }
    }
}

/// Assert the SQL of both dialects, run the statement on SQLite (and on PostgreSQL, checking that the rows are
/// the same), and return SQLite's rows.
fn check_with(d: &Db, stmt: impl Executable, sqlite: &str, postgres: &str, params: Params) -> Rows {
    let pg_rows = run_pg(d, &stmt, postgres, params.clone());
    let rows = run_sqlite(d, &stmt, sqlite, &params);
    if let Some(pg_rows) = pg_rows {
        assert_eq!(normalized(&rows), normalized(&pg_rows), "the databases disagree on\n  {sqlite}\n  {postgres}");
    }
    rows
}

fn check(d: &Db, stmt: impl Executable, sqlite: &str, postgres: &str) -> Rows {
    check_with(d, stmt, sqlite, postgres, Params::none())
}

/// Assert both SQL strings; run on SQLite only (a shape of SQLite's own).
fn check_sqlite_only(d: &Db, stmt: impl Executable, sqlite: &str, postgres: &str) -> Rows {
    assert_eq!(stmt.compile_for(&Postgres).unwrap().sql(), postgres);
    run_sqlite(d, &stmt, sqlite, &Params::none())
}

fn run_sqlite(d: &Db, stmt: &impl Executable, sql: &str, params: &Params) -> Rows {
    let c = stmt.compile().unwrap();
    assert_eq!(c.sql(), sql);
    let values = c.bind(params).unwrap();
    // (`query` runs a statement that returns no rows too, and text may or may not return rows.)
    d.conn.query(c.sql(), values).unwrap()
}

fn run_pg(d: &Db, stmt: &impl Executable, sql: &str, params: Params) -> Option<Rows> {
    let c = stmt.compile_for(&Postgres).unwrap();
    assert_eq!(c.sql(), sql);
    let (rt, engine) = d.pg_engine()?;
    let r = rt.block_on(async {
        let conn = engine.connect().await.unwrap();
        let r = conn.execute_with(&c, params).await.unwrap_or_else(|e| panic!("on PostgreSQL: {sql}: {e}"));
        conn.commit().await.unwrap();
        r
    });
    Some(r.into_rows())
}

/// Rows as comparable text: numbers by value, JSON compact, rows sorted.
fn normalized(rows: &Rows) -> Vec<Vec<String>> {
    let value = |v: &Value| match v {
        Value::Null => "NULL".to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => number(*f),
        Value::Text(s) => match (s.parse::<f64>(), serde_json::from_str::<serde_json::Value>(s)) {
            (Ok(f), _) => number(f),
            (_, Ok(j)) if s.starts_with(['[', '{']) => j.to_string(),
            _ => s.clone(),
        },
        Value::Blob(b) => format!("{b:?}"),
    };
    let mut out: Vec<Vec<String>> = rows.iter().map(|r| r.values().iter().map(value).collect()).collect();
    out.sort();
    out
}

fn number(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn ints(rows: &Rows, col: usize) -> Vec<i64> {
    rows.iter().map(|r| r.get::<i64>(col).unwrap()).collect()
}

fn texts(rows: &Rows, col: usize) -> Vec<String> {
    rows.iter().map(|r| r.get::<String>(col).unwrap()).collect()
}

const CARS: &str = "cars.car_id, cars.make, cars.year, cars.mileage, cars.owner_id";

#[test]
fn ddl_goes_through_the_dialect() {
    let d = db();
    assert_eq!(
        create_table_sql(&d.cars, false),
        "CREATE TABLE cars (car_id INTEGER NOT NULL, make TEXT, year INTEGER, mileage INTEGER, owner_id INTEGER, \
         PRIMARY KEY (car_id), FOREIGN KEY(owner_id) REFERENCES owners (id) ON DELETE SET NULL)"
    );
    assert_eq!(
        create_table_sql_for(&Postgres, &d.cars, false),
        "CREATE TABLE cars (car_id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, make TEXT, year INTEGER, \
         mileage INTEGER, owner_id INTEGER, PRIMARY KEY (car_id), FOREIGN KEY(owner_id) REFERENCES owners (id) \
         ON DELETE SET NULL)"
    );
    let meta = MetaData::new();
    let t = Table::new(
        "types",
        &meta,
        [
            Column::new("k", Text).primary_key(),
            Column::new("user", Varchar(20)).unique(),
            Column::new("flag", Boolean).server_default(true),
            Column::new("ratio", Float),
            Column::new("data", Blob),
            Column::new("made", DateTime),
            Column::new("uid", Uuid),
            Column::new("doc", Json),
            Column::new("big", BigInteger),
            Column::new("small", SmallInteger),
        ],
    );
    assert_eq!(
        create_table_sql(&t, true),
        "CREATE TABLE IF NOT EXISTS types (k TEXT NOT NULL, user VARCHAR(20), flag BOOLEAN DEFAULT 1, ratio FLOAT, \
         data BLOB, made DATETIME, uid CHAR(32), doc JSON, big BIGINT, small SMALLINT, PRIMARY KEY (k), UNIQUE (user))"
    );
    assert_eq!(
        create_table_sql_for(&Postgres, &t, true),
        "CREATE TABLE IF NOT EXISTS types (k TEXT NOT NULL, \"user\" VARCHAR(20), flag BOOLEAN DEFAULT true, \
         ratio DOUBLE PRECISION, data BYTEA, made TIMESTAMP, uid UUID, doc JSONB, big BIGINT, small SMALLINT, \
         PRIMARY KEY (k), UNIQUE (\"user\"))"
    );
    d.create(&t);
}

#[test]
fn select_where_comparison() {
    let d = db();
    let r = check(
        &d,
        select(&d.cars).where_(d.cars.c("mileage").gt(6000)),
        &format!("SELECT {CARS} FROM cars WHERE cars.mileage > ?"),
        &format!("SELECT {CARS} FROM cars WHERE cars.mileage > $1"),
    );
    assert_eq!(ints(&r, 0), [1, 2]);
}

#[test]
fn eq_none_is_null() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.mileage IS NULL";
    let r = check(&d, select(d.cars.c("car_id")).where_(d.cars.c("mileage").eq(None)), sql, sql);
    assert_eq!(ints(&r, 0), [4]);
    let sql = "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT NULL";
    check(&d, select(d.cars.c("car_id")).where_(d.cars.c("owner_id").ne(None)), sql, sql);
}

#[test]
fn and_or_not_operators() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let cond = (c("year").ge(2015) & c("mileage").lt(8000)) | !c("make").like("%o%");
    let r = check(
        &d,
        select(c("car_id")).where_(cond).order_by(c("car_id")),
        "SELECT cars.car_id FROM cars WHERE cars.year >= ? AND cars.mileage < ? OR NOT (cars.make LIKE ?) \
         ORDER BY cars.car_id",
        "SELECT cars.car_id FROM cars WHERE cars.year >= $1 AND cars.mileage < $2 OR NOT (cars.make LIKE $3) \
         ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 0), [3]);
    check(
        &d,
        select(c("car_id")).where_(and_([c("year").gt(2000), or_([c("owner_id").eq(2), c("mileage").lt(6000)])])),
        "SELECT cars.car_id FROM cars WHERE cars.year > ? AND (cars.owner_id = ? OR cars.mileage < ?)",
        "SELECT cars.car_id FROM cars WHERE cars.year > $1 AND (cars.owner_id = $2 OR cars.mileage < $3)",
    );
    // Constant conditions: SQLite would read `true` as a column of that name, PostgreSQL takes no integer.
    check(
        &d,
        select(c("car_id")).where_(and_(Vec::<Expr>::new())).order_by(c("car_id")),
        "SELECT cars.car_id FROM cars WHERE 1 = 1 ORDER BY cars.car_id",
        "SELECT cars.car_id FROM cars WHERE true ORDER BY cars.car_id",
    );
    check(
        &d,
        select(c("car_id")).where_(!or_(Vec::<Expr>::new())),
        "SELECT cars.car_id FROM cars WHERE NOT (1 != 1)",
        "SELECT cars.car_id FROM cars WHERE NOT (false)",
    );
}

#[test]
fn in_list_expands_and_empty_list_is_correct() {
    let d = db();
    let id = || d.cars.c("car_id");
    let r = check(
        &d,
        select(id()).where_(id().in_([1, 3])),
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (?, ?)",
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN ($1, $2)",
    );
    assert_eq!(ints(&r, 0), [1, 3]);
    let r = check(
        &d,
        select(id()).where_(id().in_(Vec::<i64>::new())),
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1)",
        "SELECT cars.car_id FROM cars WHERE cars.car_id = ANY ('{}')",
    );
    assert!(r.is_empty());
    let r = check(
        &d,
        select(id()).where_(d.cars.c("mileage").not_in(Vec::<i64>::new())),
        "SELECT cars.car_id FROM cars WHERE cars.mileage NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1)",
        "SELECT cars.car_id FROM cars WHERE cars.mileage != ALL ('{}')",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3, 4], "NOT IN (empty) is true even for NULL");
    check(
        &d,
        select(id()).where_(d.cars.c("make").in_(Vec::<String>::new()).or(d.cars.c("make").eq("Ford T"))),
        "SELECT cars.car_id FROM cars WHERE cars.make IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1) OR cars.make = ?",
        "SELECT cars.car_id FROM cars WHERE cars.make = ANY ('{}') OR cars.make = $1",
    );
    let r = check(
        &d,
        select(id()).where_(id().in_query(select(d.owners.c("id")).where_(d.owners.c("name").eq("Bob")))),
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (SELECT owners.id FROM owners WHERE owners.name = ?)",
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (SELECT owners.id FROM owners WHERE owners.name = $1)",
    );
    assert_eq!(ints(&r, 0), [2]);
}

#[test]
fn like_family_matches_wildcards_literally() {
    let d = db();
    d.both("INSERT INTO cars (car_id, make) VALUES (9, '100% Electric_car')");
    let make = || d.cars.c("make");
    let id = || d.cars.c("car_id");
    let r = check(
        &d,
        select(id()).where_(make().like("T%")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ?",
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE $1",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = check(
        &d,
        select(id()).where_(make().ilike("honda%")),
        "SELECT cars.car_id FROM cars WHERE lower(cars.make) LIKE lower(?)",
        "SELECT cars.car_id FROM cars WHERE cars.make ILIKE $1",
    );
    assert_eq!(ints(&r, 0), [1]);
    check(
        &d,
        select(id()).where_(make().not_ilike("%O%")),
        "SELECT cars.car_id FROM cars WHERE lower(cars.make) NOT LIKE lower(?)",
        "SELECT cars.car_id FROM cars WHERE cars.make NOT ILIKE $1",
    );
    for (cond, want) in [
        (make().contains("0% E"), vec![9]),
        (make().contains("%"), vec![9]),
        (make().startswith("Tes"), vec![3]),
        (make().endswith("_car"), vec![9]),
    ] {
        let r = check(
            &d,
            select(id()).where_(cond),
            "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
            "SELECT cars.car_id FROM cars WHERE cars.make LIKE $1 ESCAPE '/'",
        );
        assert_eq!(ints(&r, 0), want);
    }
}

#[test]
fn between_arithmetic_concat_label_cast() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        select([
            c("car_id"),
            (c("mileage") * 2 + 1).label("m2"),
            c("make").concat(" (").concat(cast(c("year"), Text)).concat(")").label("title"),
        ])
        .where_(c("year").between(2012, 2019))
        .order_by(c("car_id")),
        "SELECT cars.car_id, cars.mileage * ? + ? AS m2, cars.make || ? || CAST(cars.year AS TEXT) || ? AS title \
         FROM cars WHERE cars.year BETWEEN ? AND ? ORDER BY cars.car_id",
        "SELECT cars.car_id, cars.mileage * $1 + $2 AS m2, cars.make || $3 || CAST(cars.year AS TEXT) || $4 AS title \
         FROM cars WHERE cars.year BETWEEN $5 AND $6 ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 1), [40001, 10001]);
    assert_eq!(texts(&r, 2), ["Honda Civic (2012)", "Tesla Model 3 (2019)"]);
    check(
        &d,
        select((c("mileage") - 1000) / (cast(lit(2), Integer) + 3)).where_(c("car_id").eq(1)),
        "SELECT (cars.mileage - ?) / (CAST(? AS INTEGER) + ?) FROM cars WHERE cars.car_id = ?",
        "SELECT (cars.mileage - $1) / (CAST($2 AS INTEGER) + $3) FROM cars WHERE cars.car_id = $4",
    );
    // `||` binds tighter than `+` on SQLite, looser on PostgreSQL: each gets the parentheses it needs.
    check(
        &d,
        select(c("make").concat(c("year") + 1).label("x")).where_(c("car_id").eq(1)),
        "SELECT cars.make || (cars.year + ?) AS x FROM cars WHERE cars.car_id = ?",
        "SELECT cars.make || cars.year + $1 AS x FROM cars WHERE cars.car_id = $2",
    );
    // (An expression of parameters alone has no type PostgreSQL can infer.)
    check_sqlite_only(
        &d,
        select((c("mileage") - 1000) / (lit(2) + 3)).where_(c("car_id").eq(1)),
        "SELECT (cars.mileage - ?) / (? + ?) FROM cars WHERE cars.car_id = ?",
        "SELECT (cars.mileage - $1) / ($2 + $3) FROM cars WHERE cars.car_id = $4",
    );
}

#[test]
fn aggregates_group_by_having_order_by() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        select((
            c("owner_id"),
            func::count_star().label("n"),
            func::sum(c("mileage")).label("total"),
            func::max(c("year")),
            func::coalesce([func::min(c("mileage")), lit(0)]),
        ))
        .where_(c("owner_id").is_not_null())
        .group_by(c("owner_id"))
        .having(func::count_star().gt(0))
        .order_by(func::sum(c("mileage")).desc()),
        "SELECT cars.owner_id, count(*) AS n, sum(cars.mileage) AS total, max(cars.year), \
         coalesce(min(cars.mileage), ?) FROM cars WHERE cars.owner_id IS NOT NULL GROUP BY cars.owner_id \
         HAVING count(*) > ? ORDER BY sum(cars.mileage) DESC",
        "SELECT cars.owner_id, count(*) AS n, sum(cars.mileage) AS total, max(cars.year), \
         coalesce(min(cars.mileage), $1) FROM cars WHERE cars.owner_id IS NOT NULL GROUP BY cars.owner_id \
         HAVING count(*) > $2 ORDER BY sum(cars.mileage) DESC",
    );
    assert_eq!(ints(&r, 2), [25000, 10000]);
    let r = check(
        &d,
        select(func::avg(c("year")).label("y")),
        "SELECT avg(cars.year) AS y FROM cars",
        "SELECT avg(cars.year) AS y FROM cars",
    );
    assert_eq!(r.first().unwrap().get::<f64>(0).unwrap(), (2012.0 + 2020.0 + 2019.0 + 1920.0) / 4.0);
    check_sqlite_only(
        &d,
        select(func::call("julianday", [lit("2000-01-01")])),
        "SELECT julianday(?)",
        "SELECT julianday($1)",
    );
    assert!(select(func::call("x); DROP TABLE cars; --", [lit(1)])).compile_for(&Postgres).is_err());
}

#[test]
fn order_by_nulls_limit_offset_distinct() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        select(c("car_id")).order_by(c("mileage").desc().nulls_last()).limit(2).offset(1),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage DESC NULLS LAST LIMIT ? OFFSET ?",
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage DESC NULLS LAST LIMIT $1 OFFSET $2",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = check(
        &d,
        select(c("car_id")).order_by(c("mileage").asc().nulls_first()).offset(3),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage ASC NULLS FIRST LIMIT -1 OFFSET ?",
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage ASC NULLS FIRST OFFSET $1",
    );
    assert_eq!(ints(&r, 0), [1]);
    let sql = "SELECT DISTINCT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL ORDER BY cars.owner_id";
    check(&d, select(c("owner_id")).distinct().where_(c("owner_id").is_not_null()).order_by(c("owner_id")), sql, sql);
}

#[test]
fn join_on_foreign_key_and_outer_join() {
    let d = db();
    let sql = "SELECT cars.make, owners.name FROM cars JOIN owners ON cars.owner_id = owners.id ORDER BY cars.car_id";
    let r = check(
        &d,
        select((d.cars.c("make"), d.owners.c("name"))).join(&d.owners).order_by(d.cars.c("car_id")),
        sql,
        sql,
    );
    assert_eq!(texts(&r, 1), ["Ann", "Bob", "Ann"]);
    let sql =
        "SELECT owners.name, count(cars.car_id) AS n FROM owners LEFT OUTER JOIN cars ON cars.owner_id = owners.id \
               GROUP BY owners.name ORDER BY owners.name";
    let r = check(
        &d,
        select((d.owners.c("name"), func::count(d.cars.c("car_id")).label("n")))
            .outerjoin_on(&d.cars, d.cars.c("owner_id").eq(d.owners.c("id")))
            .group_by(d.owners.c("name"))
            .order_by(d.owners.c("name")),
        sql,
        sql,
    );
    assert_eq!(ints(&r, 1), [2, 1, 0]);
}

#[test]
fn aliases_self_join() {
    let d = db();
    let a = d.cars.alias("a");
    let b = d.cars.alias("b");
    let sql =
        "SELECT a.car_id, b.car_id FROM cars AS a JOIN cars AS b ON a.owner_id = b.owner_id AND a.car_id < b.car_id";
    let r = check(
        &d,
        select((a.c("car_id"), b.c("car_id")))
            .select_from(&a)
            .join_on(&b, a.c("owner_id").eq(b.c("owner_id")) & a.c("car_id").lt(b.c("car_id"))),
        sql,
        sql,
    );
    assert_eq!((ints(&r, 0), ints(&r, 1)), (vec![1], vec![3]));
}

#[test]
fn subquery_in_from() {
    let d = db();
    let sq = select((d.cars.c("owner_id"), func::count_star().label("n")))
        .group_by(d.cars.c("owner_id"))
        .subquery("per_owner");
    let r = check(
        &d,
        select((d.owners.c("name"), sq.c("n")))
            .join_on(&sq, sq.c("owner_id").eq(d.owners.c("id")))
            .where_(sq.c("n").gt(1)),
        "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id, count(*) AS n FROM cars \
         GROUP BY cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id WHERE per_owner.n > ?",
        "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id, count(*) AS n FROM cars \
         GROUP BY cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id WHERE per_owner.n > $1",
    );
    assert_eq!(texts(&r, 0), ["Ann"]);
}

#[test]
fn correlated_scalar_subquery_and_exists() {
    let d = db();
    let n = select(func::count_star()).where_(d.cars.c("owner_id").eq(d.owners.c("id"))).scalar_subquery();
    let sql = "SELECT owners.name, (SELECT count(*) FROM cars WHERE cars.owner_id = owners.id) AS cars FROM owners \
               ORDER BY owners.id";
    let r = check(&d, select((d.owners.c("name"), n.label("cars"))).order_by(d.owners.c("id")), sql, sql);
    assert_eq!(ints(&r, 1), [2, 1, 0]);
    let sql =
        "SELECT owners.name FROM owners WHERE NOT EXISTS (SELECT cars.car_id FROM cars WHERE cars.owner_id = owners.id)";
    let r = check(
        &d,
        select(d.owners.c("name"))
            .where_(!select(d.cars.c("car_id")).where_(d.cars.c("owner_id").eq(d.owners.c("id"))).exists()),
        sql,
        sql,
    );
    assert_eq!(texts(&r, 0), ["Cy"]);
}

#[test]
fn ctes_plain_and_recursive() {
    let d = db();
    let recent = select((d.cars.c("car_id"), d.cars.c("make"))).where_(d.cars.c("year").gt(2015)).cte("recent");
    let r = check(
        &d,
        select(recent.c("make")).order_by(recent.c("car_id")),
        "WITH recent AS (SELECT cars.car_id, cars.make FROM cars WHERE cars.year > ?) SELECT recent.make FROM recent \
         ORDER BY recent.car_id",
        "WITH recent AS (SELECT cars.car_id, cars.make FROM cars WHERE cars.year > $1) SELECT recent.make FROM recent \
         ORDER BY recent.car_id",
    );
    assert_eq!(texts(&r, 0), ["Toyota Prius", "Tesla Model 3"]);
    let base = select(cast(lit(1), Integer).label("n")).cte_recursive("counter");
    let counter = base.union_all(select(base.c("n") + 1).where_(base.c("n").lt(5)));
    let r = check(
        &d,
        select(func::sum(counter.c("n"))),
        "WITH RECURSIVE counter AS (SELECT CAST(? AS INTEGER) AS n UNION ALL SELECT counter.n + ? FROM counter \
         WHERE counter.n < ?) SELECT sum(counter.n) FROM counter",
        "WITH RECURSIVE counter AS (SELECT CAST($1 AS INTEGER) AS n UNION ALL SELECT counter.n + $2 FROM counter \
         WHERE counter.n < $3) SELECT sum(counter.n) FROM counter",
    );
    assert_eq!(ints(&r, 0), [15]);
    // Parameters number in the order they are written, the WITH first, though it is written last.
    let base = select(lit(1).label("n")).cte_recursive("counter");
    let counter = base.union_all(select(base.c("n") + 1).where_(base.c("n").lt(5)));
    check_sqlite_only(
        &d,
        select(func::sum(counter.c("n"))).where_(lit(0).lt(1)),
        "WITH RECURSIVE counter AS (SELECT ? AS n UNION ALL SELECT counter.n + ? FROM counter WHERE counter.n < ?) \
         SELECT sum(counter.n) FROM counter WHERE ? < ?",
        "WITH RECURSIVE counter AS (SELECT $1 AS n UNION ALL SELECT counter.n + $2 FROM counter WHERE counter.n < $3) \
         SELECT sum(counter.n) FROM counter WHERE $4 < $5",
    );
}

#[test]
fn compound_selects() {
    let d = db();
    let a = || select(d.cars.c("owner_id")).where_(d.cars.c("owner_id").is_not_null());
    let b = || select(d.owners.c("id"));
    let r = check(
        &d,
        a().union(b()).order_by(d.cars.c("owner_id").desc()).limit(2),
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
         ORDER BY cars.owner_id DESC LIMIT ?",
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
         ORDER BY owner_id DESC LIMIT $1",
    );
    assert_eq!(ints(&r, 0), [3, 2]);
    let sql = "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION ALL SELECT owners.id FROM owners";
    assert_eq!(check(&d, union_all(a(), b()), sql, sql).len(), 6);
    let sql = "SELECT owners.id FROM owners EXCEPT SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL";
    assert_eq!(ints(&check(&d, b().except_(a()), sql, sql), 0), [3]);
    let sql = "SELECT owners.id FROM owners INTERSECT SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL";
    check(&d, intersect(b(), a()), sql, sql);
}

#[test]
fn case_expressions() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        select(case([(c("year").lt(2000), "vintage"), (c("year").lt(2015), "used")]).else_("recent").label("age"))
            .order_by(c("car_id")),
        "SELECT CASE WHEN cars.year < ? THEN ? WHEN cars.year < ? THEN ? ELSE ? END AS age FROM cars ORDER BY cars.car_id",
        "SELECT CASE WHEN cars.year < $1 THEN $2 WHEN cars.year < $3 THEN $4 ELSE $5 END AS age FROM cars \
         ORDER BY cars.car_id",
    );
    assert_eq!(texts(&r, 0), ["used", "recent", "recent", "vintage"]);
    check(
        &d,
        select(case([(1, "one")]).value(c("owner_id")).end()).where_(c("car_id").eq(1)),
        "SELECT CASE cars.owner_id WHEN ? THEN ? END FROM cars WHERE cars.car_id = ?",
        "SELECT CASE cars.owner_id WHEN $1 THEN $2 END FROM cars WHERE cars.car_id = $3",
    );
}

#[test]
fn bindparam_and_text() {
    let d = db();
    let r = check_with(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("year").gt(bindparam("y"))),
        "SELECT cars.car_id FROM cars WHERE cars.year > ?",
        "SELECT cars.car_id FROM cars WHERE cars.year > $1",
        named_params! {"y" => 2018},
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    check_with(
        &d,
        text("SELECT make FROM cars WHERE year > :y AND make != ':y' ORDER BY car_id"),
        "SELECT make FROM cars WHERE year > ? AND make != ':y' ORDER BY car_id",
        "SELECT make FROM cars WHERE year > $1 AND make != ':y' ORDER BY car_id",
        named_params! {":y" => 2018},
    );
    // A cast in text, PostgreSQL's `::`, is no parameter (and PostgreSQL's own spelling).
    let cast_text = text("SELECT make FROM cars WHERE year::text = :y");
    assert_eq!(cast_text.compile().unwrap().sql(), "SELECT make FROM cars WHERE year::text = ?");
    if let Some(r) =
        run_pg(&d, &cast_text, "SELECT make FROM cars WHERE year::text = $1", named_params! {"y" => "2012"})
    {
        assert_eq!(texts(&r, 0), ["Honda Civic"]);
    }
    let r = check_with(
        &d,
        select(d.cars.c("car_id")).where_(text("cars.year < :y")),
        "SELECT cars.car_id FROM cars WHERE cars.year < ?",
        "SELECT cars.car_id FROM cars WHERE cars.year < $1",
        named_params! {"y" => 2000},
    );
    assert_eq!(ints(&r, 0), [4]);
}

#[test]
fn insert_values_rows_defaults_returning() {
    let d = db();
    let r = check(
        &d,
        d.owners.insert().value("name", "Dee").returning(d.owners.c("id")),
        "INSERT INTO owners (name) VALUES (?) RETURNING id",
        "INSERT INTO owners (name) VALUES ($1) RETURNING id",
    );
    assert_eq!(ints(&r, 0), [4]);
    check(
        &d,
        insert(&d.cars)
            .rows([named_params! {"make" => "Kia", "year" => 2021}, named_params! {"year" => 2022, "make" => "Fiat"}]),
        "INSERT INTO cars (make, year) VALUES (?, ?), (?, ?)",
        "INSERT INTO cars (make, year) VALUES ($1, $2), ($3, $4)",
    );
    check(
        &d,
        select((d.cars.c("car_id"), d.cars.c("make"))).where_(d.cars.c("car_id").gt(4)),
        "SELECT cars.car_id, cars.make FROM cars WHERE cars.car_id > ?",
        "SELECT cars.car_id, cars.make FROM cars WHERE cars.car_id > $1",
    );
    let meta = MetaData::new();
    let t =
        Table::new("t", &meta, [Column::new("id", Integer).primary_key(), Column::new("flag", Boolean).default(true)]);
    d.create(&t);
    let r = check(
        &d,
        t.insert().value("id", 7).returning([t.c("id"), t.c("flag")]),
        "INSERT INTO t (id, flag) VALUES (?, ?) RETURNING id, flag",
        "INSERT INTO t (id, flag) VALUES ($1, $2) RETURNING id, flag",
    );
    assert!(r.first().unwrap().get::<bool>(1).unwrap());
    let r = check(
        &d,
        insert(&t).returning(t.c("flag")),
        "INSERT INTO t (flag) VALUES (?) RETURNING flag",
        "INSERT INTO t (flag) VALUES ($1) RETURNING flag",
    );
    assert_eq!(ints(&r, 0), [1]);
    let u = Table::new("u", &meta, [Column::new("id", Integer).primary_key(), Column::new("note", Text)]);
    d.create(&u);
    let sql = "INSERT INTO u DEFAULT VALUES RETURNING id";
    assert_eq!(ints(&check(&d, insert(&u).returning(u.c("id")), sql, sql), 0), [1]);
}

#[test]
fn insert_from_select_and_upserts() {
    let d = db();
    check(
        &d,
        insert(&d.owners).from_select(["name"], select(d.cars.c("make")).where_(d.cars.c("year").lt(2000))),
        "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE cars.year < ?",
        "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE cars.year < $1",
    );
    // SQLite needs `WHERE 1` to parse the SELECT form with ON CONFLICT; PostgreSQL does not.
    check(
        &d,
        insert(&d.owners).from_select(["name"], select(d.cars.c("make"))).on_conflict_do_nothing(["name"]),
        "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE 1 ON CONFLICT (name) DO NOTHING",
        "INSERT INTO owners (name) SELECT cars.make FROM cars ON CONFLICT (name) DO NOTHING",
    );
    check(
        &d,
        insert(&d.owners).value("id", 1).value("name", "Annie").on_conflict_do_nothing(Vec::<&str>::new()),
        "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
        "INSERT INTO owners (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    );
    let r = check(
        &d,
        insert(&d.owners)
            .value("id", 2)
            .value("name", "Robert")
            .on_conflict_do_update(
                ["id"],
                [("name", excluded("name").concat(" (was ").concat(d.owners.c("name")).concat(")"))],
            )
            .on_conflict_where(d.owners.c("name").ne("Nobody"))
            .returning(d.owners.c("name")),
        "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name || ? || \
         owners.name || ? WHERE owners.name != ? RETURNING name",
        "INSERT INTO owners (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name || $3 || \
         owners.name || $4 WHERE owners.name != $5 RETURNING name",
    );
    assert_eq!(texts(&r, 0), ["Robert (was Bob)"]);
    // INSERT OR IGNORE is ON CONFLICT DO NOTHING on PostgreSQL; OR REPLACE has no equivalent there.
    check(
        &d,
        insert(&d.owners).value("id", 3).value("name", "Cyd").or(OrAction::Ignore),
        "INSERT OR IGNORE INTO owners (id, name) VALUES (?, ?)",
        "INSERT INTO owners (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    );
    let replace = insert(&d.owners).value("id", 3).value("name", "Cyd").or(OrAction::Replace);
    assert_eq!(replace.compile().unwrap().sql(), "INSERT OR REPLACE INTO owners (id, name) VALUES (?, ?)");
    let err = replace.compile_for(&Postgres).unwrap_err();
    assert!(err.to_string().contains("on_conflict_do_update"), "{err}");
}

#[test]
fn update_expressions_where_returning_from() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        update(&d.cars)
            .set("mileage", c("mileage") + 100)
            .where_(c("year").gt(2015))
            .returning([c("car_id"), c("mileage")]),
        "UPDATE cars SET mileage = cars.mileage + ? WHERE cars.year > ? RETURNING car_id, mileage",
        "UPDATE cars SET mileage = cars.mileage + $1 WHERE cars.year > $2 RETURNING car_id, mileage",
    );
    assert_eq!(ints(&r, 1), [10100, 5100]);
    check(
        &d,
        update(&d.cars)
            .set("make", d.owners.c("name").concat("'s car"))
            .where_(c("owner_id").eq(d.owners.c("id")) & d.owners.c("name").eq("Bob")),
        "UPDATE cars SET make = owners.name || ? FROM owners WHERE cars.owner_id = owners.id AND owners.name = ?",
        "UPDATE cars SET make = owners.name || $1 FROM owners WHERE cars.owner_id = owners.id AND owners.name = $2",
    );
    let sql = "SELECT cars.make FROM cars WHERE cars.car_id = ?";
    let r = check(&d, select(c("make")).where_(c("car_id").eq(2)), sql, &sql.replace('?', "$1"));
    assert_eq!(texts(&r, 0), ["Bob's car"]);
}

#[test]
fn delete_where_returning() {
    let d = db();
    let sql = "DELETE FROM cars WHERE cars.mileage IS NULL RETURNING make";
    let r = check(&d, delete(&d.cars).where_(d.cars.c("mileage").is_null()).returning(d.cars.c("make")), sql, sql);
    assert_eq!(texts(&r, 0), ["Ford T"]);
    check(
        &d,
        delete(&d.cars)
            .where_(d.cars.c("owner_id").in_query(select(d.owners.c("id")).where_(d.owners.c("name").eq("Ann")))),
        "DELETE FROM cars WHERE cars.owner_id IN (SELECT owners.id FROM owners WHERE owners.name = ?)",
        "DELETE FROM cars WHERE cars.owner_id IN (SELECT owners.id FROM owners WHERE owners.name = $1)",
    );
    let sql = "SELECT count(*) FROM cars";
    assert_eq!(ints(&check(&d, select(func::count_star()).select_from(&d.cars), sql, sql), 0), [1]);
}

#[test]
fn debug_sql_shows_literals_for_logs() {
    let d = db();
    let q = select(d.cars.c("make")).where_(d.cars.c("make").eq("O'Neil") & d.cars.c("year").gt(bindparam("y")));
    let c = q.compile_for(&Postgres).unwrap();
    assert_eq!(c.debug_sql(), "SELECT cars.make FROM cars WHERE cars.make = 'O''Neil' AND cars.year > :y");
    assert_eq!(c.to_string(), "SELECT cars.make FROM cars WHERE cars.make = $1 AND cars.year > $2");
    assert_eq!(c.dialect().name(), "postgresql");
}

#[test]
fn injection_through_values_and_identifiers_stays_data() {
    let d = db();
    let evil = "'); DROP TABLE cars; --";
    check(
        &d,
        d.owners.insert().value("name", evil),
        "INSERT INTO owners (name) VALUES (?)",
        "INSERT INTO owners (name) VALUES ($1)",
    );
    let meta = MetaData::new();
    let t = Table::new(
        "weird\"; DROP TABLE cars; --",
        &meta,
        [Column::new("a\"b", Text), Column::new("select", Integer), Column::new("Mixed", Integer)],
    );
    d.create(&t);
    check(
        &d,
        t.insert().value("a\"b", evil).value("select", 1).value("Mixed", 2),
        "INSERT INTO \"weird\"\"; DROP TABLE cars; --\" (\"a\"\"b\", \"select\", \"Mixed\") VALUES (?, ?, ?)",
        "INSERT INTO \"weird\"\"; DROP TABLE cars; --\" (\"a\"\"b\", \"select\", \"Mixed\") VALUES ($1, $2, $3)",
    );
    let sql = "SELECT \"weird\"\"; DROP TABLE cars; --\".\"a\"\"b\", \"weird\"\"; DROP TABLE cars; --\".\"select\", \
               \"weird\"\"; DROP TABLE cars; --\".\"Mixed\" FROM \"weird\"\"; DROP TABLE cars; --\"";
    let r = check(&d, select(&t), sql, sql);
    assert_eq!(texts(&r, 0), [evil]);
    // Reserved words are each database's own: `user` and `both` are PostgreSQL's, `glob` SQLite's.
    let u = Table::new("user", &meta, [Column::new("both", Integer), Column::new("glob", Integer)]);
    assert_eq!(select(&u).compile().unwrap().sql(), "SELECT user.both, user.\"glob\" FROM user");
    assert_eq!(
        select(&u).compile_for(&Postgres).unwrap().sql(),
        "SELECT \"user\".\"both\", \"user\".glob FROM \"user\""
    );
}

#[test]
fn more_shapes_tuple_in_is_glob_distinct_count() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = check(
        &d,
        select(c("car_id")).where_(tuple([c("owner_id"), c("year")]).in_([tuple([1, 2019]), tuple([2, 2020])])),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (VALUES (?, ?), (?, ?))",
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (($1, $2), ($3, $4))",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = check(
        &d,
        select(c("car_id")).where_(tuple([c("owner_id"), c("year")]).in_(Vec::<Expr>::new())),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (SELECT 1, 1 FROM (SELECT 1) WHERE 1 != 1)",
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) = ANY ('{}')",
    );
    assert!(r.is_empty());
    let sql = "SELECT count(DISTINCT cars.owner_id) FROM cars WHERE cars.make LIKE ?";
    check(&d, select(func::count_distinct(c("owner_id"))).where_(c("make").like("T%")), sql, &sql.replace('?', "$1"));
    let glob = select(func::count_distinct(c("owner_id"))).where_(c("make").glob("T*"));
    assert_eq!(glob.compile().unwrap().sql(), "SELECT count(DISTINCT cars.owner_id) FROM cars WHERE cars.make GLOB ?");
    assert!(glob.compile_for(&Postgres).unwrap_err().to_string().contains("GLOB"));
    // Null-safe equality.
    let r = check(
        &d,
        select(c("car_id")).where_(c("owner_id").is(null()).or(c("owner_id").is(2))),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NULL OR cars.owner_id IS ?",
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NULL OR cars.owner_id IS NOT DISTINCT FROM $1",
    );
    assert_eq!(ints(&r, 0), [2, 4]);
    check(
        &d,
        select(c("car_id")).where_(c("owner_id").is_not(1)),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT ?",
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS DISTINCT FROM $1",
    );
}

#[test]
fn cte_feeding_an_update_and_compound_subquery() {
    let d = db();
    let old = select(d.cars.c("car_id").label("id")).where_(d.cars.c("year").lt(2015)).cte("old");
    check(
        &d,
        update(&d.cars)
            .set("make", d.cars.c("make").concat(" (old)"))
            .where_(d.cars.c("car_id").in_query(select(old.c("id")))),
        "WITH old AS (SELECT cars.car_id AS id FROM cars WHERE cars.year < ?) UPDATE cars SET make = cars.make || ? \
         WHERE cars.car_id IN (SELECT old.id FROM old)",
        "WITH old AS (SELECT cars.car_id AS id FROM cars WHERE cars.year < $1) UPDATE cars SET make = cars.make || $2 \
         WHERE cars.car_id IN (SELECT old.id FROM old)",
    );
    let both = union_all(select(d.cars.c("car_id").label("x")), select(d.owners.c("id"))).subquery("both");
    let r = check(
        &d,
        select(func::count_star()).select_from(&both),
        "SELECT count(*) FROM (SELECT cars.car_id AS x FROM cars UNION ALL SELECT owners.id FROM owners) AS both",
        "SELECT count(*) FROM (SELECT cars.car_id AS x FROM cars UNION ALL SELECT owners.id FROM owners) AS \"both\"",
    );
    assert_eq!(ints(&r, 0), [7]);
}

/// A `docs` table with a JSON column (and the other typed columns), with three rows.
fn docs_db() -> (Db, Table) {
    let d = db();
    let meta = MetaData::new();
    let docs = Table::new(
        "docs",
        &meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("uid", Uuid),
            Column::new("made_at", DateTime),
            Column::new("day", Date),
            Column::new("at", Time),
            Column::new("price", Numeric),
            Column::new("doc", Json),
        ],
    );
    assert_eq!(
        create_table_sql_for(&Postgres, &docs, false),
        "CREATE TABLE docs (id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, uid UUID, made_at TIMESTAMP, \
         day DATE, at TIME, price NUMERIC, doc JSONB, PRIMARY KEY (id))"
    );
    d.create(&docs);
    for (id, doc) in [
        (1, json(&serde_json::json!({"make": "Honda Civic", "tags": ["used", "red"], "n": 2}))),
        (2, json(&serde_json::json!({"make": "Tesla Model 3", "tags": [], "n": 5}))),
        (3, json(&serde_json::json!([1, 2.5, null, "ü"]))),
    ] {
        check(
            &d,
            insert(&docs).value("id", id).value("doc", doc),
            "INSERT INTO docs (id, doc) VALUES (?, ?)",
            "INSERT INTO docs (id, doc) VALUES ($1, $2)",
        );
    }
    (d, docs)
}

#[test]
fn json_arrows() {
    let (d, docs) = docs_db();
    let doc = || docs.c("doc");
    let r = check(
        &d,
        select([doc().json_get("tags").label("tags"), doc().json_get_value("n").label("n")])
            .where_(doc().json_get_value("make").eq("Honda Civic")),
        "SELECT docs.doc -> ? AS tags, docs.doc ->> ? AS n FROM docs WHERE docs.doc ->> ? = ?",
        "SELECT docs.doc -> $1 AS tags, docs.doc ->> $2 AS n FROM docs WHERE docs.doc ->> $3 = $4",
    );
    assert_eq!(texts(&r, 0), [r#"["used","red"]"#]);
    // An integer after an arrow is an array index: PostgreSQL needs to be told it is no key.
    let r = check(
        &d,
        select(doc().json_get("tags").json_get_value(0)).where_(docs.c("id").eq(1)),
        "SELECT docs.doc -> ? ->> ? FROM docs WHERE docs.id = ?",
        "SELECT docs.doc -> $1 ->> CAST($2 AS INTEGER) FROM docs WHERE docs.id = $3",
    );
    assert_eq!(texts(&r, 0), ["used"]);
    // `->>` binds tighter than `*` on SQLite, looser on PostgreSQL (whose `->>` gives text: this one is SQLite's).
    check_sqlite_only(
        &d,
        select(doc().json_get_value("n") * 10).order_by(docs.c("id")).limit(2),
        "SELECT docs.doc ->> ? * ? FROM docs ORDER BY docs.id LIMIT ?",
        "SELECT (docs.doc ->> $1) * $2 FROM docs ORDER BY docs.id LIMIT $3",
    );
    check(
        &d,
        select(cast(doc().json_get_value("n"), Integer) * 10).order_by(docs.c("id")).limit(2),
        "SELECT CAST(docs.doc ->> ? AS INTEGER) * ? FROM docs ORDER BY docs.id LIMIT ?",
        "SELECT CAST(docs.doc ->> $1 AS INTEGER) * $2 FROM docs ORDER BY docs.id LIMIT $3",
    );
    // SQLite's JSON paths and functions are SQLite's.
    check_sqlite_only(
        &d,
        select(docs.c("doc").json_get_value(lit("$.").concat("make"))).where_(docs.c("id").eq(2)),
        "SELECT docs.doc ->> (? || ?) FROM docs WHERE docs.id = ?",
        "SELECT docs.doc ->> ($1 || $2) FROM docs WHERE docs.id = $3",
    );
    check_sqlite_only(
        &d,
        select(func::json_extract(doc(), "$.tags[0]").label("first_tag")).order_by(docs.c("id")),
        "SELECT json_extract(docs.doc, ?) AS first_tag FROM docs ORDER BY docs.id",
        "SELECT json_extract(docs.doc, $1) AS first_tag FROM docs ORDER BY docs.id",
    );
}

/// The spellings of `golden/spellings.rs` (what a SQLAlchemy Core user writes), in both dialects.
mod spellings {
    use super::*;
    use asqlite_query::expr::{all_, any_, desc, tuple_};

    #[test]
    fn exists_and_func_count() {
        let d = db();
        let owns = || exists().where_(d.cars.c("owner_id").eq(d.owners.c("id")));
        let sql = "SELECT owners.name FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) \
                   ORDER BY owners.name";
        assert_eq!(
            texts(&check(&d, select(d.owners.c("name")).where_(owns()).order_by("name"), sql, sql), 0),
            ["Ann", "Bob"]
        );
        check(
            &d,
            select(d.owners.c("id")).where_(owns() & d.owners.c("name").ne("Ann")),
            "SELECT owners.id FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) AND \
             owners.name != ?",
            "SELECT owners.id FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) AND \
             owners.name != $1",
        );
        let r = check(
            &d,
            select(exists().where_(d.cars.c("year").lt(1950)).into_expr().label("old")),
            "SELECT EXISTS (SELECT * FROM cars WHERE cars.year < ?) AS old",
            "SELECT EXISTS (SELECT * FROM cars WHERE cars.year < $1) AS old",
        );
        assert_eq!(ints(&r, 0), [1], "a boolean reads as 1 on both");
        let sql = "SELECT count(*), count(cars.mileage) FROM cars";
        let r = check(&d, select((func.count(), func::count(d.cars.c("mileage")))).select_from(&d.cars), sql, sql);
        assert_eq!((ints(&r, 0), ints(&r, 1)), (vec![4], vec![3]));
    }

    #[test]
    fn tuples_in_lists_subqueries_and_comparisons() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        check(
            &d,
            select(c("car_id"))
                .where_(tuple_((c("make"), c("year"))).not_in([("Honda Civic", 2012), ("Ford T", 1920)])),
            "SELECT cars.car_id FROM cars WHERE (cars.make, cars.year) NOT IN (VALUES (?, ?), (?, ?))",
            "SELECT cars.car_id FROM cars WHERE (cars.make, cars.year) NOT IN (($1, $2), ($3, $4))",
        );
        let newest = select((c("owner_id"), func::max(c("year")))).group_by(c("owner_id"));
        let sql = "SELECT cars.make FROM cars WHERE (cars.owner_id, cars.year) IN (SELECT cars.owner_id, \
                   max(cars.year) FROM cars GROUP BY cars.owner_id) ORDER BY cars.make";
        let r = check(
            &d,
            select(c("make")).where_(tuple_((c("owner_id"), c("year"))).in_query(newest)).order_by("make"),
            sql,
            sql,
        );
        assert_eq!(texts(&r, 0), ["Tesla Model 3", "Toyota Prius"]);
        check(
            &d,
            select(c("car_id")).where_(tuple_((c("owner_id"), c("year"))).eq(tuple_((1, 2012)))),
            "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) = (?, ?)",
            "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) = ($1, $2)",
        );
    }

    #[test]
    fn window_functions_and_filter() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        let sql = "SELECT cars.car_id, row_number() OVER (PARTITION BY cars.owner_id ORDER BY cars.year DESC) AS rn \
                   FROM cars WHERE cars.owner_id IS NOT NULL ORDER BY cars.car_id";
        let r = check(
            &d,
            select((c("car_id"), func::row_number().over(c("owner_id"), c("year").desc()).label("rn")))
                .where_(c("owner_id").is_not_null())
                .order_by("car_id"),
            sql,
            sql,
        );
        assert_eq!(ints(&r, 1), [2, 1, 1]);
        let sql = "SELECT cars.car_id, sum(cars.mileage) OVER (ORDER BY cars.car_id ROWS BETWEEN UNBOUNDED PRECEDING \
                   AND CURRENT ROW) AS running FROM cars ORDER BY cars.car_id";
        check(
            &d,
            select((
                c("car_id"),
                func::sum(c("mileage")).over((), c("car_id")).rows_between(None, Some(0)).label("running"),
            ))
            .order_by("car_id"),
            sql,
            sql,
        );
        let sql = "SELECT cars.car_id, rank() OVER (ORDER BY cars.mileage DESC NULLS LAST), lag(cars.make) OVER \
                   (ORDER BY cars.car_id), count(*) OVER (PARTITION BY cars.owner_id) FROM cars ORDER BY cars.car_id";
        check(
            &d,
            select((
                c("car_id"),
                func.rank().over((), desc(c("mileage")).nulls_last()),
                func::lag(c("make")).over((), c("car_id")),
                func::count_star().over(c("owner_id"), ()),
            ))
            .order_by("car_id"),
            sql,
            sql,
        );
        let r = check(
            &d,
            select((c("car_id"), func::count_star().over((), c("year")).range_between(Some(-10), Some(10))))
                .where_(c("car_id").eq(3)),
            "SELECT cars.car_id, count(*) OVER (ORDER BY cars.year RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING) \
             FROM cars WHERE cars.car_id = ?",
            "SELECT cars.car_id, count(*) OVER (ORDER BY cars.year RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING) \
             FROM cars WHERE cars.car_id = $1",
        );
        assert_eq!(ints(&r, 1), [1]);
        // (SQLite also lets a bare column stand beside an aggregate; PostgreSQL does not.)
        let r = check(
            &d,
            select((func::count_star(), func::count_star().filter(c("year").gt(2015)))).select_from(&d.cars),
            "SELECT count(*), count(*) FILTER (WHERE cars.year > ?) FROM cars",
            "SELECT count(*), count(*) FILTER (WHERE cars.year > $1) FROM cars",
        );
        assert_eq!((ints(&r, 0), ints(&r, 1)), (vec![4], vec![2]));
    }

    #[test]
    fn casts_name_each_databases_types() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        let r = check(
            &d,
            select((
                cast(c("year"), Varchar(4)),
                cast(c("mileage"), Float),
                cast("3.5", Numeric),
                cast("12", BigInteger),
                cast(c("year"), SmallInteger),
                cast(1, Boolean),
            ))
            .where_(c("car_id").eq(1)),
            "SELECT CAST(cars.year AS VARCHAR(4)), CAST(cars.mileage AS FLOAT), CAST(? AS NUMERIC), CAST(? AS BIGINT), \
             CAST(cars.year AS SMALLINT), CAST(? AS BOOLEAN) FROM cars WHERE cars.car_id = ?",
            "SELECT CAST(cars.year AS VARCHAR(4)), CAST(cars.mileage AS DOUBLE PRECISION), CAST($1 AS NUMERIC), \
             CAST($2 AS BIGINT), CAST(cars.year AS SMALLINT), CAST($3 AS BOOLEAN) FROM cars WHERE cars.car_id = $4",
        );
        assert!(r.first().unwrap().get::<bool>(5).unwrap());
        // Dates and JSON are text on SQLite (whose DATE affinity would read '2012-06-01' as 2012), types on
        // PostgreSQL: the same values come back.
        check(
            &d,
            select((cast("2012-06-01", Date), cast(lit(r#"{"a": 1}"#), Json))),
            "SELECT CAST(? AS TEXT), CAST(? AS TEXT)",
            "SELECT CAST($1 AS DATE), CAST($2 AS JSONB)",
        );
        let ts = select(cast("2012-06-01 10:00:00", DateTime));
        assert_eq!(ts.compile().unwrap().sql(), "SELECT CAST(? AS TEXT)");
        if let Some(r) = run_pg(&d, &ts, "SELECT CAST($1 AS TIMESTAMP)", Params::none()) {
            assert_eq!(texts(&r, 0), ["2012-06-01 10:00:00.000000"], "SQLAlchemy's text form");
        }
    }

    #[test]
    fn null_safe_comparisons() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        let r = check(
            &d,
            select(c("car_id")).where_(c("owner_id").is_distinct_from(1)),
            "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT ?",
            "SELECT cars.car_id FROM cars WHERE cars.owner_id IS DISTINCT FROM $1",
        );
        assert_eq!(ints(&r, 0), [2, 4], "NULL is distinct from 1");
        let r = check_with(
            &d,
            select(c("car_id")).where_(c("owner_id").is_not_distinct_from(bindparam("o"))),
            "SELECT cars.car_id FROM cars WHERE cars.owner_id IS ?",
            "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT DISTINCT FROM $1",
            named_params! {"o" => None::<i64>},
        );
        assert_eq!(ints(&r, 0), [4], "NULL is not distinct from NULL");
    }

    /// PostgreSQL has what SQLite lacks: a regular expression operator, and ANY / ALL.
    #[test]
    fn regexp_any_and_all_run_on_postgresql() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        let q = select(c("car_id")).where_(c("make").regexp_match("^T")).order_by(c("car_id"));
        assert_eq!(
            q.compile().unwrap().sql(),
            "SELECT cars.car_id FROM cars WHERE cars.make REGEXP ? ORDER BY cars.car_id"
        );
        if let Some(r) =
            run_pg(&d, &q, "SELECT cars.car_id FROM cars WHERE cars.make ~ $1 ORDER BY cars.car_id", Params::none())
        {
            assert_eq!(ints(&r, 0), [2, 3]);
        }
        let q = select(c("car_id")).where_(c("make").not_regexp_match("^T"));
        run_pg(&d, &q, "SELECT cars.car_id FROM cars WHERE cars.make !~ $1", Params::none());
        let ids = || select(d.owners.c("id"));
        let q = select(c("car_id")).where_(c("owner_id").eq(any_(ids()))).order_by(c("car_id"));
        assert!(q.compile().is_err(), "no ANY on SQLite");
        if let Some(r) = run_pg(
            &d,
            &q,
            "SELECT cars.car_id FROM cars WHERE cars.owner_id = ANY (SELECT owners.id FROM owners) ORDER BY cars.car_id",
            Params::none(),
        ) {
            assert_eq!(ints(&r, 0), [1, 2, 3]);
        }
        let q = select(c("car_id")).where_(c("year").gt(all_(select(c("year")).where_(c("year").lt(2015)))));
        if let Some(r) = run_pg(
            &d,
            &q,
            "SELECT cars.car_id FROM cars WHERE cars.year > ALL (SELECT cars.year FROM cars WHERE cars.year < $1)",
            Params::none(),
        ) {
            let mut ids = ints(&r, 0);
            ids.sort_unstable();
            assert_eq!(ids, [2, 3]);
        }
    }

    #[test]
    fn collations_are_each_databases_own() {
        let d = db();
        let c = |n: &str| d.cars.c(n);
        check_sqlite_only(
            &d,
            select(c("car_id")).where_(c("make").collate("nocase").eq("honda civic")),
            "SELECT cars.car_id FROM cars WHERE cars.make COLLATE nocase = ?",
            "SELECT cars.car_id FROM cars WHERE cars.make COLLATE nocase = $1",
        );
        let q = select(c("make")).order_by(c("make").collate("C")).limit(1);
        assert_eq!(q.compile().unwrap().sql(), "SELECT cars.make FROM cars ORDER BY cars.make COLLATE \"C\" LIMIT ?");
        if let Some(r) =
            run_pg(&d, &q, "SELECT cars.make FROM cars ORDER BY cars.make COLLATE \"C\" LIMIT $1", Params::none())
        {
            assert_eq!(texts(&r, 0), ["Ford T"]);
        }
    }
}
