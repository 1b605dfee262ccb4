//! Golden SQL: one test per statement shape. Each asserts the exact SQLite SQL the compiler writes, then runs it
//! on a real database file and checks the rows, so a string that looks right but does not run (or returns the
//! wrong rows) fails here.

use asqlite::blocking::Connection;
use asqlite::{Params, Rows, Value};
use asqlite_query::expr::{func, Expr};
use asqlite_query::prelude::*;
use asqlite_query::select::Query;

struct Db {
    _dir: tempfile::TempDir,
    conn: Connection,
    cars: Table,
    owners: Table,
}

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
    conn.execute_batch(
        "INSERT INTO owners VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy');
         INSERT INTO cars VALUES (1, 'Honda Civic', 2012, 20000, 1), (2, 'Toyota Prius', 2020, 10000, 2),
                                 (3, 'Tesla Model 3', 2019, 5000, 1), (4, 'Ford T', 1920, NULL, NULL);",
    )
    .unwrap();
    Db { _dir: dir, conn, cars, owners }
}

/// Assert the SQL, run the statement with `params`, and return its rows (empty for DML without RETURNING).
fn run_with(db: &Db, stmt: impl Executable, sql: &str, params: Params) -> Rows {
    let c = stmt.compile().unwrap();
    assert_eq!(c.sql(), sql);
    let values = c.bind(&params).unwrap();
    if c.returns_rows() {
        db.conn.query(c.sql(), values).unwrap()
    } else {
        db.conn.execute(c.sql(), values).unwrap();
        Rows::default()
    }
}

fn run(db: &Db, stmt: impl Executable, sql: &str) -> Rows {
    run_with(db, stmt, sql, Params::none())
}

fn ints(rows: &Rows, col: usize) -> Vec<i64> {
    rows.iter().map(|r| r.get::<i64>(col).unwrap()).collect()
}

fn texts(rows: &Rows, col: usize) -> Vec<String> {
    rows.iter().map(|r| r.get::<String>(col).unwrap()).collect()
}

const CARS: &str = "cars.car_id, cars.make, cars.year, cars.mileage, cars.owner_id";

#[test]
fn select_where_comparison() {
    let d = db();
    let r = run(
        &d,
        select(&d.cars).where_(d.cars.c("mileage").gt(6000)),
        &format!("SELECT {CARS} FROM cars WHERE cars.mileage > ?"),
    );
    assert_eq!(ints(&r, 0), [1, 2]);
    assert_eq!(r.columns(), ["car_id", "make", "year", "mileage", "owner_id"]);
}

#[test]
fn eq_none_is_null() {
    let d = db();
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("mileage").eq(None)),
        "SELECT cars.car_id FROM cars WHERE cars.mileage IS NULL",
    );
    assert_eq!(ints(&r, 0), [4]);
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("owner_id").ne(None)),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT NULL",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3]);
}

#[test]
fn and_or_not_operators() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let cond = (c("year").ge(2015) & c("mileage").lt(8000)) | !c("make").like("%o%");
    let r = run(
        &d,
        select(c("car_id")).where_(cond).order_by(c("car_id")),
        "SELECT cars.car_id FROM cars WHERE cars.year >= ? AND cars.mileage < ? OR NOT (cars.make LIKE ?) \
         ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 0), [3]);
    let r = run(
        &d,
        select(c("car_id")).where_(and_([c("year").gt(2000), or_([c("owner_id").eq(2), c("mileage").lt(6000)])])),
        "SELECT cars.car_id FROM cars WHERE cars.year > ? AND (cars.owner_id = ? OR cars.mileage < ?)",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run(
        &d,
        select(c("car_id")).where_(not_(c("year").gt(2000))),
        "SELECT cars.car_id FROM cars WHERE NOT (cars.year > ?)",
    );
    assert_eq!(ints(&r, 0), [4]);
}

#[test]
fn in_list_expands_and_empty_list_is_correct() {
    let d = db();
    let id = || d.cars.c("car_id");
    let r = run(&d, select(id()).where_(id().in_([1, 3])), "SELECT cars.car_id FROM cars WHERE cars.car_id IN (?, ?)");
    assert_eq!(ints(&r, 0), [1, 3]);
    let r = run(
        &d,
        select(id()).where_(id().in_(Vec::<i64>::new())),
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1)",
    );
    assert!(r.is_empty());
    let r = run(
        &d,
        select(id()).where_(d.cars.c("mileage").not_in(Vec::<i64>::new())),
        "SELECT cars.car_id FROM cars WHERE cars.mileage NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1)",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3, 4], "NOT IN (empty) is true even for NULL");
    let r = run(
        &d,
        select(id()).where_(id().in_query(select(d.owners.c("id")).where_(d.owners.c("name").eq("Bob")))),
        "SELECT cars.car_id FROM cars WHERE cars.car_id IN (SELECT owners.id FROM owners WHERE owners.name = ?)",
    );
    assert_eq!(ints(&r, 0), [2]);
}

#[test]
fn like_family_matches_wildcards_literally() {
    let d = db();
    d.conn.execute_batch("INSERT INTO cars (car_id, make) VALUES (9, '100% Electric_car')").unwrap();
    let make = || d.cars.c("make");
    let id = || d.cars.c("car_id");
    let r = run(&d, select(id()).where_(make().like("T%")), "SELECT cars.car_id FROM cars WHERE cars.make LIKE ?");
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run(
        &d,
        select(id()).where_(make().ilike("honda%")),
        "SELECT cars.car_id FROM cars WHERE lower(cars.make) LIKE lower(?)",
    );
    assert_eq!(ints(&r, 0), [1]);
    let r = run(
        &d,
        select(id()).where_(make().contains("0% E")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
    );
    assert_eq!(ints(&r, 0), [9]);
    let r = run(
        &d,
        select(id()).where_(make().contains("%")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
    );
    assert_eq!(ints(&r, 0), [9]);
    let r = run(
        &d,
        select(id()).where_(make().startswith("Tes")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
    );
    assert_eq!(ints(&r, 0), [3]);
    let r = run(
        &d,
        select(id()).where_(make().endswith("_car")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
    );
    assert_eq!(ints(&r, 0), [9]);
}

#[test]
fn between_arithmetic_concat_label_cast() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
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
    );
    assert_eq!(ints(&r, 0), [1, 3]);
    assert_eq!(ints(&r, 1), [40001, 10001]);
    assert_eq!(texts(&r, 2), ["Honda Civic (2012)", "Tesla Model 3 (2019)"]);
    let r = run(
        &d,
        select((c("mileage") - 1000) / (lit(2) + 3)).where_(c("car_id").eq(1)),
        "SELECT (cars.mileage - ?) / (? + ?) FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(ints(&r, 0), [3800]);
}

#[test]
fn aggregates_group_by_having_order_by() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
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
    );
    assert_eq!(ints(&r, 0), [1, 2]);
    assert_eq!(ints(&r, 1), [2, 1]);
    assert_eq!(ints(&r, 2), [25000, 10000]);
    let r = run(&d, select(func::avg(c("year")).label("y")), "SELECT avg(cars.year) AS y FROM cars");
    assert_eq!(r.first().unwrap().get::<f64>(0).unwrap(), (2012.0 + 2020.0 + 2019.0 + 1920.0) / 4.0);
    let r = run(&d, select(func::call("julianday", [lit("2000-01-01")])), "SELECT julianday(?)");
    assert_eq!(r.first().unwrap().get::<f64>(0).unwrap(), 2451544.5);
    let bad = select(func::call("x); DROP TABLE cars; --", [lit(1)])).compile();
    assert!(bad.is_err());
}

#[test]
fn order_by_nulls_limit_offset_distinct() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(c("car_id")).order_by(c("mileage").desc().nulls_last()).limit(2).offset(1),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage DESC NULLS LAST LIMIT ? OFFSET ?",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run(
        &d,
        select(c("car_id")).order_by(c("mileage").asc().nulls_first()).offset(3),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage ASC NULLS FIRST LIMIT -1 OFFSET ?",
    );
    assert_eq!(ints(&r, 0), [1]);
    let r = run(
        &d,
        select(c("owner_id")).distinct().where_(c("owner_id").is_not_null()).order_by(c("owner_id")),
        "SELECT DISTINCT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL ORDER BY cars.owner_id",
    );
    assert_eq!(ints(&r, 0), [1, 2]);
}

#[test]
fn join_on_foreign_key_and_outer_join() {
    let d = db();
    let r = run(
        &d,
        select((d.cars.c("make"), d.owners.c("name"))).join(&d.owners).order_by(d.cars.c("car_id")),
        "SELECT cars.make, owners.name FROM cars JOIN owners ON cars.owner_id = owners.id ORDER BY cars.car_id",
    );
    assert_eq!(texts(&r, 1), ["Ann", "Bob", "Ann"]);
    let r = run(
        &d,
        select((d.owners.c("name"), func::count(d.cars.c("car_id")).label("n")))
            .outerjoin_on(&d.cars, d.cars.c("owner_id").eq(d.owners.c("id")))
            .group_by(d.owners.c("name"))
            .order_by(d.owners.c("name")),
        "SELECT owners.name, count(cars.car_id) AS n FROM owners LEFT OUTER JOIN cars ON cars.owner_id = owners.id \
         GROUP BY owners.name ORDER BY owners.name",
    );
    assert_eq!(texts(&r, 0), ["Ann", "Bob", "Cy"]);
    assert_eq!(ints(&r, 1), [2, 1, 0]);
    // No foreign key: an error, not a guess.
    let err = select(d.owners.c("name")).join(&d.owners.alias("o2")).compile().unwrap_err();
    assert!(err.to_string().contains("no foreign key"), "{err}");
}

#[test]
fn aliases_self_join() {
    let d = db();
    let a = d.cars.alias("a");
    let b = d.cars.alias("b");
    let r = run(
        &d,
        select((a.c("car_id"), b.c("car_id")))
            .select_from(&a)
            .join_on(&b, a.c("owner_id").eq(b.c("owner_id")) & a.c("car_id").lt(b.c("car_id"))),
        "SELECT a.car_id, b.car_id FROM cars AS a JOIN cars AS b ON a.owner_id = b.owner_id AND a.car_id < b.car_id",
    );
    assert_eq!(ints(&r, 0), [1]);
    assert_eq!(ints(&r, 1), [3]);
}

#[test]
fn subquery_in_from() {
    let d = db();
    let sq = select((d.cars.c("owner_id"), func::count_star().label("n")))
        .group_by(d.cars.c("owner_id"))
        .subquery("per_owner");
    let r = run(
        &d,
        select((d.owners.c("name"), sq.c("n")))
            .join_on(&sq, sq.c("owner_id").eq(d.owners.c("id")))
            .where_(sq.c("n").gt(1)),
        "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id, count(*) AS n FROM cars \
         GROUP BY cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id WHERE per_owner.n > ?",
    );
    assert_eq!(texts(&r, 0), ["Ann"]);
    assert!(sq.c("nope").compile_error().is_some());
}

trait CompileError {
    fn compile_error(self) -> Option<String>;
}

impl CompileError for Expr {
    fn compile_error(self) -> Option<String> {
        select(self).compile().err().map(|e| e.to_string())
    }
}

#[test]
fn correlated_scalar_subquery_and_exists() {
    let d = db();
    let n = select(func::count_star()).where_(d.cars.c("owner_id").eq(d.owners.c("id"))).scalar_subquery();
    let r = run(
        &d,
        select((d.owners.c("name"), n.label("cars"))).order_by(d.owners.c("id")),
        "SELECT owners.name, (SELECT count(*) FROM cars WHERE cars.owner_id = owners.id) AS cars FROM owners \
         ORDER BY owners.id",
    );
    assert_eq!(ints(&r, 1), [2, 1, 0]);
    let r = run(
        &d,
        select(d.owners.c("name")).where_(!select(d.cars.c("car_id")).where_(d.cars.c("owner_id").eq(d.owners.c("id"))).exists()),
        "SELECT owners.name FROM owners WHERE NOT EXISTS (SELECT cars.car_id FROM cars WHERE cars.owner_id = owners.id)",
    );
    assert_eq!(texts(&r, 0), ["Cy"]);
}

#[test]
fn ctes_plain_and_recursive() {
    let d = db();
    let recent = select((d.cars.c("car_id"), d.cars.c("make"))).where_(d.cars.c("year").gt(2015)).cte("recent");
    let r = run(
        &d,
        select(recent.c("make")).order_by(recent.c("car_id")),
        "WITH recent AS (SELECT cars.car_id, cars.make FROM cars WHERE cars.year > ?) SELECT recent.make FROM recent \
         ORDER BY recent.car_id",
    );
    assert_eq!(texts(&r, 0), ["Toyota Prius", "Tesla Model 3"]);
    let base = select(lit(1).label("n")).cte_recursive("counter");
    let counter = base.union_all(select(base.c("n") + 1).where_(base.c("n").lt(5)));
    let r = run(
        &d,
        select(func::sum(counter.c("n"))),
        "WITH RECURSIVE counter AS (SELECT ? AS n UNION ALL SELECT counter.n + ? FROM counter WHERE counter.n < ?) \
         SELECT sum(counter.n) FROM counter",
    );
    assert_eq!(ints(&r, 0), [15]);
}

#[test]
fn compound_selects() {
    let d = db();
    let a = || select(d.cars.c("owner_id")).where_(d.cars.c("owner_id").is_not_null());
    let b = || select(d.owners.c("id"));
    let r = run(
        &d,
        a().union(b()).order_by(d.cars.c("owner_id").desc()).limit(2),
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
         ORDER BY cars.owner_id DESC LIMIT ?",
    );
    assert_eq!(ints(&r, 0), [3, 2]);
    let r = run(
        &d,
        union_all(a(), b()),
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION ALL SELECT owners.id FROM owners",
    );
    assert_eq!(r.len(), 6);
    let r = run(
        &d,
        b().except_(a()),
        "SELECT owners.id FROM owners EXCEPT SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL",
    );
    assert_eq!(ints(&r, 0), [3]);
    let r = run(
        &d,
        intersect(b(), a()),
        "SELECT owners.id FROM owners INTERSECT SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL",
    );
    assert_eq!(ints(&r, 0), [1, 2]);
    let err = a().limit(1).union(b()).compile().unwrap_err();
    assert!(err.to_string().contains("subquery"), "{err}");
}

#[test]
fn case_expressions() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(case([(c("year").lt(2000), "vintage"), (c("year").lt(2015), "used")]).else_("recent").label("age"))
            .order_by(c("car_id")),
        "SELECT CASE WHEN cars.year < ? THEN ? WHEN cars.year < ? THEN ? ELSE ? END AS age FROM cars ORDER BY cars.car_id",
    );
    assert_eq!(texts(&r, 0), ["used", "recent", "recent", "vintage"]);
    let r = run(
        &d,
        select(case([(1, "one")]).value(c("owner_id")).end()).where_(c("car_id").eq(1)),
        "SELECT CASE cars.owner_id WHEN ? THEN ? END FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(texts(&r, 0), ["one"]);
}

#[test]
fn bindparam_and_text() {
    let d = db();
    let r = run_with(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("year").gt(bindparam("y"))),
        "SELECT cars.car_id FROM cars WHERE cars.year > ?",
        named_params! {"y" => 2018},
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run_with(
        &d,
        text("SELECT make FROM cars WHERE year > :y AND make != ':y' ORDER BY car_id"),
        "SELECT make FROM cars WHERE year > ? AND make != ':y' ORDER BY car_id",
        named_params! {":y" => 2018},
    );
    let c = text("SELECT make FROM cars WHERE year > :y").compile().unwrap();
    assert!(c.bind(&Params::none()).is_err(), "a missing bind parameter is an error");
    let _ = r;
    let r = run_with(
        &d,
        select(d.cars.c("car_id")).where_(text("cars.year < :y")),
        "SELECT cars.car_id FROM cars WHERE cars.year < ?",
        named_params! {"y" => 2000},
    );
    assert_eq!(ints(&r, 0), [4]);
}

#[test]
fn insert_values_rows_defaults_returning() {
    let d = db();
    let r = run(
        &d,
        d.owners.insert().value("name", "Dee").returning(d.owners.c("id")),
        "INSERT INTO owners (name) VALUES (?) RETURNING id",
    );
    assert_eq!(ints(&r, 0), [4]);
    run(
        &d,
        insert(&d.cars)
            .rows([named_params! {"make" => "Kia", "year" => 2021}, named_params! {"year" => 2022, "make" => "Fiat"}]),
        "INSERT INTO cars (make, year) VALUES (?, ?), (?, ?)",
    );
    let r = d.conn.query("SELECT make, year FROM cars WHERE car_id > 4 ORDER BY car_id", ()).unwrap();
    assert_eq!(texts(&r, 0), ["Kia", "Fiat"]);
    assert_eq!(ints(&r, 1), [2021, 2022]);
    let bad = insert(&d.cars).rows([named_params! {"make" => "A"}, named_params! {"year" => 1}]).compile();
    assert!(bad.unwrap_err().to_string().contains("same columns"));
    // Client-side defaults fill columns the statement does not set.
    let meta = MetaData::new();
    let t =
        Table::new("t", &meta, [Column::new("id", Integer).primary_key(), Column::new("flag", Boolean).default(true)]);
    t.create(&d.conn).unwrap();
    let r = run(
        &d,
        t.insert().value("id", 7).returning([t.c("id"), t.c("flag")]),
        "INSERT INTO t (id, flag) VALUES (?, ?) RETURNING id, flag",
    );
    assert!(r.first().unwrap().get::<bool>(1).unwrap());
    let r = run(&d, insert(&t).returning(t.c("flag")), "INSERT INTO t (flag) VALUES (?) RETURNING flag");
    assert_eq!(ints(&r, 0), [1]);
    let u = Table::new("u", &meta, [Column::new("id", Integer).primary_key(), Column::new("note", Text)]);
    u.create(&d.conn).unwrap();
    let r = run(&d, insert(&u).returning(u.c("id")), "INSERT INTO u DEFAULT VALUES RETURNING id");
    assert_eq!(ints(&r, 0), [1]);
}

#[test]
fn insert_from_select_and_upserts() {
    let d = db();
    run(
        &d,
        insert(&d.owners).from_select(["name"], select(d.cars.c("make")).where_(d.cars.c("year").lt(2000))),
        "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE cars.year < ?",
    );
    assert_eq!(d.conn.query_one("SELECT count(*) FROM owners", ()).unwrap().get::<i64>(0).unwrap(), 4);
    // The SELECT form with ON CONFLICT gets `WHERE 1` so SQLite parses it.
    run(
        &d,
        insert(&d.owners).from_select(["name"], select(d.cars.c("make"))).on_conflict_do_nothing(["name"]),
        "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE 1 ON CONFLICT (name) DO NOTHING",
    );
    assert_eq!(d.conn.query_one("SELECT count(*) FROM owners", ()).unwrap().get::<i64>(0).unwrap(), 7);
    run(
        &d,
        insert(&d.owners).value("id", 1).value("name", "Annie").on_conflict_do_nothing(Vec::<&str>::new()),
        "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
    );
    let r = run(
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
    );
    assert_eq!(texts(&r, 0), ["Robert (was Bob)"]);
    assert_eq!(d.conn.query_one("SELECT name FROM owners WHERE id = 1", ()).unwrap().get::<String>(0).unwrap(), "Ann");
}

#[test]
fn update_expressions_where_returning_from() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        update(&d.cars)
            .set("mileage", c("mileage") + 100)
            .where_(c("year").gt(2015))
            .returning([c("car_id"), c("mileage")]),
        "UPDATE cars SET mileage = cars.mileage + ? WHERE cars.year > ? RETURNING car_id, mileage",
    );
    assert_eq!(ints(&r, 1), [10100, 5100]);
    run(
        &d,
        update(&d.cars)
            .set("make", d.owners.c("name").concat("'s car"))
            .where_(c("owner_id").eq(d.owners.c("id")) & d.owners.c("name").eq("Bob")),
        "UPDATE cars SET make = owners.name || ? FROM owners WHERE cars.owner_id = owners.id AND owners.name = ?",
    );
    assert_eq!(
        d.conn.query_one("SELECT make FROM cars WHERE car_id = 2", ()).unwrap().get::<String>(0).unwrap(),
        "Bob's car"
    );
    assert!(update(&d.cars).where_(c("car_id").eq(1)).compile().is_err(), "nothing to SET");
    assert!(update(&d.cars).set("nope", 1).compile().is_err(), "unknown column");
}

#[test]
fn delete_where_returning() {
    let d = db();
    let r = run(
        &d,
        delete(&d.cars).where_(d.cars.c("mileage").is_null()).returning(d.cars.c("make")),
        "DELETE FROM cars WHERE cars.mileage IS NULL RETURNING make",
    );
    assert_eq!(texts(&r, 0), ["Ford T"]);
    run(
        &d,
        delete(&d.cars)
            .where_(d.cars.c("owner_id").in_query(select(d.owners.c("id")).where_(d.owners.c("name").eq("Ann")))),
        "DELETE FROM cars WHERE cars.owner_id IN (SELECT owners.id FROM owners WHERE owners.name = ?)",
    );
    assert_eq!(d.conn.query_one("SELECT count(*) FROM cars", ()).unwrap().get::<i64>(0).unwrap(), 1);
    let err = delete(&d.cars).where_(d.owners.c("id").eq(1)).compile().unwrap_err();
    assert!(err.to_string().contains("subquery"), "{err}");
}

#[test]
fn unknown_columns_and_misuse_are_errors() {
    let d = db();
    assert!(d.cars.c("nope").compile_error().unwrap().contains("nope"));
    assert!(select(d.cars.c("make").desc()).compile().is_err(), "desc() outside ORDER BY");
    assert!(select(Vec::<Expr>::new()).compile().is_err());
    assert!(select(lit(u64::MAX)).compile().is_err());
    let q: Query = select(d.cars.c("car_id")).into();
    assert_eq!(q.column_names(), ["car_id"]);
}

#[test]
fn debug_sql_shows_literals_for_logs() {
    let d = db();
    let c = select(d.cars.c("make"))
        .where_(d.cars.c("make").eq("O'Neil") & d.cars.c("year").gt(bindparam("y")))
        .compile()
        .unwrap();
    assert_eq!(c.debug_sql(), "SELECT cars.make FROM cars WHERE cars.make = 'O''Neil' AND cars.year > :y");
    assert_eq!(c.to_string(), "SELECT cars.make FROM cars WHERE cars.make = ? AND cars.year > ?");
    assert_eq!(c.literals(), [Value::Text("O'Neil".into())]);
}

#[test]
fn injection_through_values_and_identifiers_stays_data() {
    let d = db();
    let evil = "'); DROP TABLE cars; --";
    run(&d, d.owners.insert().value("name", evil), "INSERT INTO owners (name) VALUES (?)");
    let r = run(
        &d,
        select(d.owners.c("name")).where_(d.owners.c("name").eq(evil)),
        "SELECT owners.name FROM owners WHERE owners.name = ?",
    );
    assert_eq!(texts(&r, 0), [evil]);
    // Identifiers with quotes and SQL in them are quoted, quotes doubled.
    let meta = MetaData::new();
    let t = Table::new(
        "weird\"; DROP TABLE cars; --",
        &meta,
        [Column::new("a\"b", Text), Column::new("select", Integer), Column::new("Mixed", Integer)],
    );
    meta.create_all(&d.conn).unwrap();
    run(
        &d,
        t.insert().value("a\"b", evil).value("select", 1).value("Mixed", 2),
        "INSERT INTO \"weird\"\"; DROP TABLE cars; --\" (\"a\"\"b\", \"select\", \"Mixed\") VALUES (?, ?, ?)",
    );
    let r = run(
        &d,
        select(&t),
        "SELECT \"weird\"\"; DROP TABLE cars; --\".\"a\"\"b\", \"weird\"\"; DROP TABLE cars; --\".\"select\", \
         \"weird\"\"; DROP TABLE cars; --\".\"Mixed\" FROM \"weird\"\"; DROP TABLE cars; --\"",
    );
    assert_eq!(texts(&r, 0), [evil]);
    assert_eq!(r.columns(), ["a\"b", "select", "Mixed"]);
    assert_eq!(d.conn.query_one("SELECT count(*) FROM cars", ()).unwrap().get::<i64>(0).unwrap(), 4);
    // Labels and aliases are identifiers too.
    let r = run(&d, select(lit(1).label("x\" FROM cars; --")), "SELECT ? AS \"x\"\" FROM cars; --\"");
    assert_eq!(r.columns(), ["x\" FROM cars; --"]);
}

#[test]
fn more_shapes_tuple_in_or_replace_glob_distinct_count() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(c("car_id")).where_(tuple([c("owner_id"), c("year")]).in_([tuple([1, 2019]), tuple([2, 2020])])),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (VALUES (?, ?), (?, ?))",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run(
        &d,
        select(c("car_id")).where_(tuple([c("owner_id"), c("year")]).in_(Vec::<Expr>::new())),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (SELECT 1, 1 FROM (SELECT 1) WHERE 1 != 1)",
    );
    assert!(r.is_empty());
    let r = run(
        &d,
        select(func::count_distinct(c("owner_id"))).where_(c("make").glob("T*")),
        "SELECT count(DISTINCT cars.owner_id) FROM cars WHERE cars.make GLOB ?",
    );
    assert_eq!(ints(&r, 0), [2]);
    run(
        &d,
        insert(&d.owners).value("id", 3).value("name", "Cyd").or(OrAction::Replace),
        "INSERT OR REPLACE INTO owners (id, name) VALUES (?, ?)",
    );
    let r = run(
        &d,
        select(d.owners.c("name")).where_(d.owners.c("id").is(3)),
        "SELECT owners.name FROM owners WHERE owners.id IS ?",
    );
    assert_eq!(texts(&r, 0), ["Cyd"]);
}

#[test]
fn cte_feeding_an_update_and_compound_subquery() {
    let d = db();
    let old = select(d.cars.c("car_id").label("id")).where_(d.cars.c("year").lt(2015)).cte("old");
    run(
        &d,
        update(&d.cars)
            .set("make", d.cars.c("make").concat(" (old)"))
            .where_(d.cars.c("car_id").in_query(select(old.c("id")))),
        "WITH old AS (SELECT cars.car_id AS id FROM cars WHERE cars.year < ?) UPDATE cars SET make = cars.make || ? \
         WHERE cars.car_id IN (SELECT old.id FROM old)",
    );
    let r = d.conn.query("SELECT make FROM cars WHERE make LIKE '%(old)' ORDER BY car_id", ()).unwrap();
    assert_eq!(texts(&r, 0), ["Honda Civic (old)", "Ford T (old)"]);
    let both = union_all(select(d.cars.c("car_id").label("x")), select(d.owners.c("id"))).subquery("both");
    let r = run(
        &d,
        select(func::count_star()).select_from(&both),
        "SELECT count(*) FROM (SELECT cars.car_id AS x FROM cars UNION ALL SELECT owners.id FROM owners) AS both",
    );
    assert_eq!(ints(&r, 0), [7]);
}

/// A `docs` table with a JSON column (and the other typed columns, for their DDL), with three rows.
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
        asqlite_query::compile::create_table_sql(&docs, false),
        "CREATE TABLE docs (id INTEGER NOT NULL, uid CHAR(32), made_at DATETIME, day DATE, at TIME, price NUMERIC, \
         doc JSON, PRIMARY KEY (id))"
    );
    meta.create_all(&d.conn).unwrap();
    for (id, doc) in [
        (1, json(&serde_json::json!({"make": "Honda Civic", "tags": ["used", "red"], "n": 2}))),
        (2, json(&serde_json::json!({"make": "Tesla Model 3", "tags": [], "n": 5}))),
        (3, json(&serde_json::json!([1, 2.5, null, "ü"]))),
    ] {
        run(&d, insert(&docs).value("id", id).value("doc", doc), "INSERT INTO docs (id, doc) VALUES (?, ?)");
    }
    (d, docs)
}

#[test]
fn json_arrow_gets_json_and_double_arrow_gets_sql_values() {
    let (d, docs) = docs_db();
    let doc = || docs.c("doc");
    let r = run(
        &d,
        select([doc().json_get("tags").label("tags"), doc().json_get_value("n").label("n")])
            .where_(doc().json_get_value("make").eq("Honda Civic")),
        "SELECT docs.doc -> ? AS tags, docs.doc ->> ? AS n FROM docs WHERE docs.doc ->> ? = ?",
    );
    assert_eq!(texts(&r, 0), [r#"["used","red"]"#]);
    assert_eq!(ints(&r, 1), [2], "->> gives an SQL INTEGER, not JSON text");
    // A chain reads left to right; an array index and a JSON path work as the right operand too.
    let r = run(
        &d,
        select(doc().json_get("tags").json_get_value(0)).where_(doc().json_get_value("$.tags[1]").is_not_null()),
        "SELECT docs.doc -> ? ->> ? FROM docs WHERE docs.doc ->> ? IS NOT NULL",
    );
    assert_eq!(texts(&r, 0), ["used"]);
    // `->` binds tighter than arithmetic, as in SQLite: no parentheses needed.
    let r = run(
        &d,
        select(doc().json_get_value("n") * 10).order_by(docs.c("id")).limit(2),
        "SELECT docs.doc ->> ? * ? FROM docs ORDER BY docs.id LIMIT ?",
    );
    assert_eq!(ints(&r, 0), [20, 50]);
}

#[test]
fn json_operand_of_the_same_level_is_parenthesized_on_the_right() {
    let (d, docs) = docs_db();
    let r = run(
        &d,
        select(docs.c("doc").json_get_value(lit("$.").concat("make"))).where_(docs.c("id").eq(2)),
        "SELECT docs.doc ->> (? || ?) FROM docs WHERE docs.id = ?",
    );
    assert_eq!(texts(&r, 0), ["Tesla Model 3"]);
    let r = run(&d, select(lit("{\"a\":").concat("7}").json_get_value("a")), "SELECT ? || ? ->> ?");
    assert_eq!(ints(&r, 0), [7], "(? || ?) ->> ?: left to right at one level");
}

#[test]
fn json_functions_extract_type_and_array_length() {
    let (d, docs) = docs_db();
    let doc = || docs.c("doc");
    let r = run(
        &d,
        select([
            func::json_extract(doc(), "$.tags[0]").label("first_tag"),
            func::json_type(doc(), "$").label("kind"),
            func::json_array_length(doc().json_get("tags")).label("n_tags"),
        ])
        .order_by(docs.c("id")),
        "SELECT json_extract(docs.doc, ?) AS first_tag, json_type(docs.doc, ?) AS kind, \
         json_array_length(docs.doc -> ?) AS n_tags FROM docs ORDER BY docs.id",
    );
    let first: Vec<Option<String>> = r.iter().map(|row| row.get(0).unwrap()).collect();
    assert_eq!(first, [Some("used".to_owned()), None, None]);
    assert_eq!(texts(&r, 1), ["object", "object", "array"]);
    let n: Vec<Option<i64>> = r.iter().map(|row| row.get(2).unwrap()).collect();
    assert_eq!(n, [Some(2), Some(0), None]);
    let r = run(
        &d,
        select(docs.c("id")).where_(func::json_extract(doc(), "$[3]").eq("ü")),
        "SELECT docs.id FROM docs WHERE json_extract(docs.doc, ?) = ?",
    );
    assert_eq!(ints(&r, 0), [3]);
}
#[path = "golden/parity.rs"]
mod parity;
#[path = "golden/spellings.rs"]
mod spellings;
#[path = "golden/strings.rs"]
mod strings;
