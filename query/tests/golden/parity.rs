//! SQLAlchemy parity: 42 Core statements as a SQLAlchemy user writes them, on the fixed dataset of [`db`]
//! (owners 1 Ann, 2 Bob, 3 Cy; cars 1 Honda Civic 2012 20000 Ann, 2 Toyota Prius 2020 10000 Bob, 3 Tesla Model 3
//! 2019 5000 Ann, 4 Ford T 1920 NULL NULL).
//!
//! Each test names the Python statement and the SQL that SQLAlchemy 2.0's SQLite dialect emits for it (as its
//! documentation and compiler write it, with the parameters it binds), then asserts our SQL and rows, runs
//! SQLAlchemy's SQL on a second copy of the dataset, and checks that it returns the same rows and leaves the same
//! data. Where the texts differ, a note says how and why; the usual differences are cosmetic:
//!
//! - SQLAlchemy labels unnamed expressions in a select list (`count(*) AS count_1`), columns inside subqueries and
//!   CTEs (`cars.owner_id AS owner_id`) and repeated names (`b.car_id AS car_id_1`); we leave them as SQLite names
//!   them, and a `label()` names them for both.
//! - SQLAlchemy writes `SET col=(expr)`, a join from a foreign key as `referenced = referencing`, `NOT (EXISTS ...)`,
//!   `LIMIT ? OFFSET ?` with a bound 0, `CASE WHEN (cond)`, and a recursive CTE's column list.
//! - `contains`/`startswith`/`endswith`: SQLAlchemy builds the pattern in SQL (`'%' || ? || '%'`) and leaves `%` and
//!   `_` in the value as wildcards; we bind the pattern with them escaped.
//!
//! One difference is a fix: SQLAlchemy's `INSERT ... SELECT ... ON CONFLICT` does not parse on SQLite (the SELECT
//! needs a WHERE); SQLite's error is asserted next to our rows.

use super::*;
use asqlite_query::expr::desc;

fn values(rows: &Rows) -> Vec<Vec<Value>> {
    rows.iter().map(|r| r.values().to_vec()).collect()
}

/// Every row of both tables, in key order: what a statement leaves behind.
fn dump(d: &Db) -> Vec<Vec<Value>> {
    let mut out = values(&d.conn.query("SELECT * FROM owners ORDER BY id", ()).unwrap());
    out.extend(values(&d.conn.query("SELECT * FROM cars ORDER BY car_id", ()).unwrap()));
    out
}

macro_rules! rows {
    ($([$($v:expr),* $(,)?]),* $(,)?) => { vec![$(vec![$(Value::from($v)),*]),*] };
}

const NULL: Value = Value::Null;

/// Run ours (asserting its SQL) and SQLAlchemy's SQL with SQLAlchemy's parameters, each on a fresh dataset: both
/// return `rows` and leave the same data (our database is returned, to look at that data).
fn parity(stmt: impl Executable, ours: &str, sa: &str, sa_params: Vec<Value>, rows: Vec<Vec<Value>>) -> Db {
    let mine = db();
    assert_eq!(values(&run(&mine, stmt, ours)), rows, "our rows");
    let theirs = db();
    let got = theirs.conn.query(sa, sa_params).unwrap_or_else(|e| panic!("SQLAlchemy's SQL failed: {e}"));
    assert_eq!(values(&got), rows, "SQLAlchemy's rows");
    assert_eq!(dump(&mine), dump(&theirs), "the data after");
    mine
}

fn names(d: &Db) -> Vec<String> {
    texts(&d.conn.query("SELECT name FROM owners ORDER BY id", ()).unwrap(), 0)
}

fn cars(d: &Db, n: &str) -> Expr {
    d.cars.c(n)
}

fn owners(d: &Db, n: &str) -> Expr {
    d.owners.c(n)
}

// ---- Filters ----

/// `select(cars).where(cars.c.mileage > 6000)`
#[test]
fn p01_filter_comparison() {
    let d = db();
    parity(
        select(&d.cars).where_(cars(&d, "mileage").gt(6000)),
        &format!("SELECT {CARS} FROM cars WHERE cars.mileage > ?"),
        "SELECT cars.car_id, cars.make, cars.year, cars.mileage, cars.owner_id FROM cars WHERE cars.mileage > ?",
        vec![6000.into()],
        rows![[1, "Honda Civic", 2012, 20000, 1], [2, "Toyota Prius", 2020, 10000, 2]],
    );
}

/// `select(cars.c.car_id).where(and_(cars.c.year > 2000, or_(cars.c.owner_id == 2, cars.c.mileage < 6000)))`
#[test]
fn p02_filter_and_or() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.year > ? AND (cars.owner_id = ? OR cars.mileage < ?)";
    parity(
        select(cars(&d, "car_id"))
            .where_(and_([cars(&d, "year").gt(2000), or_([cars(&d, "owner_id").eq(2), cars(&d, "mileage").lt(6000)])])),
        sql,
        sql,
        vec![2000.into(), 2.into(), 6000.into()],
        rows![[2], [3]],
    );
}

/// `select(cars.c.car_id).where(cars.c.year.between(2012, 2019))`
#[test]
fn p03_filter_between() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.year BETWEEN ? AND ?";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "year").between(2012, 2019)),
        sql,
        sql,
        vec![2012.into(), 2019.into()],
        rows![[1], [3]],
    );
}

/// `select(cars.c.car_id).where(cars.c.car_id.in_([1, 3]))`: SQLAlchemy expands its `[POSTCOMPILE]` parameter to
/// one `?` per item when it runs, as we do.
#[test]
fn p04_filter_in_list() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.car_id IN (?, ?)";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "car_id").in_([1, 3])),
        sql,
        sql,
        vec![1.into(), 3.into()],
        rows![[1], [3]],
    );
}

/// `select(cars.c.car_id).where(cars.c.make.not_in(["Ford T", "Honda Civic"]))`
#[test]
fn p05_filter_not_in() {
    let d = db();
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").not_in(["Ford T", "Honda Civic"])),
        "SELECT cars.car_id FROM cars WHERE cars.make NOT IN (?, ?)",
        "SELECT cars.car_id FROM cars WHERE (cars.make NOT IN (?, ?))",
        vec!["Ford T".into(), "Honda Civic".into()],
        rows![[2], [3]],
    );
}

/// `select(cars.c.car_id).where(~(cars.c.year > 2000))`: SQLAlchemy negates the operator (`<=`), we write `NOT`;
/// both are NULL for a NULL year.
#[test]
fn p06_filter_negated_comparison() {
    let d = db();
    parity(
        select(cars(&d, "car_id")).where_(!cars(&d, "year").gt(2000)),
        "SELECT cars.car_id FROM cars WHERE NOT (cars.year > ?)",
        "SELECT cars.car_id FROM cars WHERE cars.year <= ?",
        vec![2000.into()],
        rows![[4]],
    );
}

// ---- The LIKE family ----

/// `select(cars.c.car_id).where(cars.c.make.like("T%"))`
#[test]
fn p07_like() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.make LIKE ?";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").like("T%")),
        sql,
        sql,
        vec!["T%".into()],
        rows![[2], [3]],
    );
}

/// `select(cars.c.car_id).where(cars.c.make.ilike("honda%"))`
#[test]
fn p08_ilike() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE lower(cars.make) LIKE lower(?)";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").ilike("honda%")),
        sql,
        sql,
        vec!["honda%".into()],
        rows![[1]],
    );
}

/// `select(cars.c.car_id).where(cars.c.make.contains("Ci"))`
#[test]
fn p09_contains() {
    let d = db();
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").contains("Ci")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE '%' || ? || '%'",
        vec!["Ci".into()],
        rows![[1]],
    );
}

/// `select(cars.c.car_id).where(cars.c.make.startswith("Te"))`
#[test]
fn p10_startswith() {
    let d = db();
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").startswith("Te")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? || '%'",
        vec!["Te".into()],
        rows![[3]],
    );
}

/// `select(cars.c.car_id).where(cars.c.make.endswith("s"))`
#[test]
fn p11_endswith() {
    let d = db();
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "make").endswith("s")),
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE ? ESCAPE '/'",
        "SELECT cars.car_id FROM cars WHERE cars.make LIKE '%' || ?",
        vec!["s".into()],
        rows![[2]],
    );
}

// ---- NULLs ----

/// `select(cars.c.car_id).where(cars.c.mileage == None)`
#[test]
fn p12_eq_none_is_null() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.mileage IS NULL";
    parity(select(cars(&d, "car_id")).where_(cars(&d, "mileage").eq(None)), sql, sql, vec![], rows![[4]]);
}

/// `select(cars.c.car_id).where(cars.c.owner_id.is_not(None))`
#[test]
fn p13_is_not_null() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT NULL";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "owner_id").is_not_null()),
        sql,
        sql,
        vec![],
        rows![[1], [2], [3]],
    );
}

/// `select(cars.c.car_id, func.coalesce(cars.c.mileage, 0)).order_by(cars.c.car_id)`
#[test]
fn p14_coalesce() {
    let d = db();
    parity(
        select((cars(&d, "car_id"), func::coalesce([cars(&d, "mileage"), lit(0)]))).order_by(cars(&d, "car_id")),
        "SELECT cars.car_id, coalesce(cars.mileage, ?) FROM cars ORDER BY cars.car_id",
        "SELECT cars.car_id, coalesce(cars.mileage, ?) AS coalesce_1 FROM cars ORDER BY cars.car_id",
        vec![0.into()],
        rows![[1, 20000], [2, 10000], [3, 5000], [4, 0]],
    );
}

/// `select(cars.c.car_id).where(cars.c.owner_id.is_distinct_from(1))`
#[test]
fn p15_is_distinct_from() {
    let d = db();
    let sql = "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT ?";
    parity(
        select(cars(&d, "car_id")).where_(cars(&d, "owner_id").is_distinct_from(1)),
        sql,
        sql,
        vec![1.into()],
        rows![[2], [4]],
    );
}

// ---- Aggregates ----

/// `select(func.count()).select_from(cars)`
#[test]
fn p16_count_select_from() {
    let d = db();
    parity(
        select(func.count()).select_from(&d.cars),
        "SELECT count(*) FROM cars",
        "SELECT count(*) AS count_1 FROM cars",
        vec![],
        rows![[4]],
    );
}

/// `select(cars.c.owner_id, func.count().label("n"), func.sum(cars.c.mileage).label("total"))
///  .group_by(cars.c.owner_id).having(func.count() > 1)`
#[test]
fn p17_group_by_having() {
    let d = db();
    let sql = "SELECT cars.owner_id, count(*) AS n, sum(cars.mileage) AS total FROM cars GROUP BY cars.owner_id \
               HAVING count(*) > ?";
    parity(
        select((cars(&d, "owner_id"), func.count().label("n"), func::sum(cars(&d, "mileage")).label("total")))
            .group_by(cars(&d, "owner_id"))
            .having(func.count().gt(1)),
        sql,
        sql,
        vec![1.into()],
        rows![[1, 2, 25000]],
    );
}

/// `select(func.min(cars.c.year), func.max(cars.c.year), func.avg(cars.c.mileage))`
#[test]
fn p18_min_max_avg() {
    let d = db();
    parity(
        select((func::min(cars(&d, "year")), func::max(cars(&d, "year")), func::avg(cars(&d, "mileage")))),
        "SELECT min(cars.year), max(cars.year), avg(cars.mileage) FROM cars",
        "SELECT min(cars.year) AS min_1, max(cars.year) AS max_1, avg(cars.mileage) AS avg_1 FROM cars",
        vec![],
        rows![[1920, 2020, 35000.0 / 3.0]],
    );
}

/// `select(cars.c.owner_id, func.sum(cars.c.mileage).label("total")).where(cars.c.owner_id.is_not(None))
///  .group_by("owner_id").order_by(desc("total"))`: strings name a column and a label.
#[test]
fn p19_group_and_order_by_name() {
    let d = db();
    let sql = "SELECT cars.owner_id, sum(cars.mileage) AS total FROM cars WHERE cars.owner_id IS NOT NULL \
               GROUP BY cars.owner_id ORDER BY total DESC";
    parity(
        select((cars(&d, "owner_id"), func::sum(cars(&d, "mileage")).label("total")))
            .where_(cars(&d, "owner_id").is_not_null())
            .group_by("owner_id")
            .order_by(desc("total")),
        sql,
        sql,
        vec![],
        rows![[1, 25000], [2, 10000]],
    );
}

// ---- Joins ----

/// `select(cars.c.make, owners.c.name).join(owners).order_by(cars.c.car_id)`
#[test]
fn p20_join_on_foreign_key() {
    let d = db();
    parity(
        select((cars(&d, "make"), owners(&d, "name"))).join(&d.owners).order_by(cars(&d, "car_id")),
        "SELECT cars.make, owners.name FROM cars JOIN owners ON cars.owner_id = owners.id ORDER BY cars.car_id",
        "SELECT cars.make, owners.name FROM cars JOIN owners ON owners.id = cars.owner_id ORDER BY cars.car_id",
        vec![],
        rows![["Honda Civic", "Ann"], ["Toyota Prius", "Bob"], ["Tesla Model 3", "Ann"]],
    );
}

/// `select(owners.c.name, func.count(cars.c.car_id).label("n")).outerjoin(cars, cars.c.owner_id == owners.c.id)
///  .group_by(owners.c.name).order_by(owners.c.name)`
#[test]
fn p21_outer_join_count() {
    let d = db();
    let sql = "SELECT owners.name, count(cars.car_id) AS n FROM owners LEFT OUTER JOIN cars ON cars.owner_id = \
               owners.id GROUP BY owners.name ORDER BY owners.name";
    parity(
        select((owners(&d, "name"), func::count(cars(&d, "car_id")).label("n")))
            .outerjoin_on(&d.cars, cars(&d, "owner_id").eq(owners(&d, "id")))
            .group_by(owners(&d, "name"))
            .order_by(owners(&d, "name")),
        sql,
        sql,
        vec![],
        rows![["Ann", 2], ["Bob", 1], ["Cy", 0]],
    );
}

/// `select(cars.c.make, owners.c.name).join_from(cars, owners, cars.c.owner_id == owners.c.id, full=True)
///  .order_by(cars.c.car_id, owners.c.id)`
#[test]
fn p22_full_outer_join() {
    let d = db();
    let sql = "SELECT cars.make, owners.name FROM cars FULL OUTER JOIN owners ON cars.owner_id = owners.id \
               ORDER BY cars.car_id, owners.id";
    parity(
        select((cars(&d, "make"), owners(&d, "name")))
            .select_from(&d.cars)
            .full_join_on(&d.owners, cars(&d, "owner_id").eq(owners(&d, "id")))
            .order_by((cars(&d, "car_id"), owners(&d, "id"))),
        sql,
        sql,
        vec![],
        rows![
            [NULL, "Cy"],
            ["Honda Civic", "Ann"],
            ["Toyota Prius", "Bob"],
            ["Tesla Model 3", "Ann"],
            ["Ford T", NULL]
        ],
    );
}

// ---- Aliases ----

/// `a, b = cars.alias("a"), cars.alias("b")`;
/// `select(a.c.car_id, b.c.car_id).join_from(a, b, and_(a.c.owner_id == b.c.owner_id, a.c.car_id < b.c.car_id))`
#[test]
fn p23_self_join_aliases() {
    let d = db();
    let (a, b) = (d.cars.alias("a"), d.cars.alias("b"));
    parity(
        select((a.c("car_id"), b.c("car_id")))
            .select_from(&a)
            .join_on(&b, and_([a.c("owner_id").eq(b.c("owner_id")), a.c("car_id").lt(b.c("car_id"))])),
        "SELECT a.car_id, b.car_id FROM cars AS a JOIN cars AS b ON a.owner_id = b.owner_id AND a.car_id < b.car_id",
        "SELECT a.car_id, b.car_id AS car_id_1 FROM cars AS a JOIN cars AS b ON a.owner_id = b.owner_id AND \
         a.car_id < b.car_id",
        vec![],
        rows![[1, 3]],
    );
}

// ---- Subqueries ----

/// `sq = select(cars.c.owner_id, func.count().label("n")).group_by(cars.c.owner_id).subquery("per_owner")`;
/// `select(owners.c.name, sq.c.n).join_from(owners, sq, sq.c.owner_id == owners.c.id).order_by(owners.c.name)`
#[test]
fn p24_subquery_in_from() {
    let d = db();
    let sq =
        select((cars(&d, "owner_id"), func.count().label("n"))).group_by(cars(&d, "owner_id")).subquery("per_owner");
    parity(
        select((owners(&d, "name"), sq.c("n")))
            .select_from(&d.owners)
            .join_on(&sq, sq.c("owner_id").eq(owners(&d, "id")))
            .order_by(owners(&d, "name")),
        "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id, count(*) AS n FROM cars GROUP BY \
         cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id ORDER BY owners.name",
        "SELECT owners.name, per_owner.n FROM owners JOIN (SELECT cars.owner_id AS owner_id, count(*) AS n FROM cars \
         GROUP BY cars.owner_id) AS per_owner ON per_owner.owner_id = owners.id ORDER BY owners.name",
        vec![],
        rows![["Ann", 2], ["Bob", 1]],
    );
}

/// `n = select(func.count()).where(cars.c.owner_id == owners.c.id).scalar_subquery()`;
/// `select(owners.c.name, n.label("n_cars")).order_by(owners.c.id)`
#[test]
fn p25_correlated_scalar_subquery() {
    let d = db();
    let n = select(func.count()).where_(cars(&d, "owner_id").eq(owners(&d, "id"))).scalar_subquery();
    parity(
        select((owners(&d, "name"), n.label("n_cars"))).order_by(owners(&d, "id")),
        "SELECT owners.name, (SELECT count(*) FROM cars WHERE cars.owner_id = owners.id) AS n_cars FROM owners \
         ORDER BY owners.id",
        "SELECT owners.name, (SELECT count(*) AS count_1 FROM cars WHERE cars.owner_id = owners.id) AS n_cars \
         FROM owners ORDER BY owners.id",
        vec![],
        rows![["Ann", 2], ["Bob", 1], ["Cy", 0]],
    );
}

/// `select(cars.c.car_id).where(cars.c.owner_id.in_(select(owners.c.id).where(owners.c.name == "Ann")))`
#[test]
fn p26_in_subquery() {
    let d = db();
    let sql =
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IN (SELECT owners.id FROM owners WHERE owners.name = ?)";
    parity(
        select(cars(&d, "car_id"))
            .where_(cars(&d, "owner_id").in_query(select(owners(&d, "id")).where_(owners(&d, "name").eq("Ann")))),
        sql,
        sql,
        vec!["Ann".into()],
        rows![[1], [3]],
    );
}

// ---- CTEs ----

/// `recent = select(cars.c.car_id, cars.c.make).where(cars.c.year > 2015).cte("recent")`;
/// `select(recent.c.make).order_by(recent.c.car_id)`
#[test]
fn p27_cte() {
    let d = db();
    let recent = select((cars(&d, "car_id"), cars(&d, "make"))).where_(cars(&d, "year").gt(2015)).cte("recent");
    parity(
        select(recent.c("make")).order_by(recent.c("car_id")),
        "WITH recent AS (SELECT cars.car_id, cars.make FROM cars WHERE cars.year > ?) SELECT recent.make FROM recent \
         ORDER BY recent.car_id",
        "WITH recent AS (SELECT cars.car_id AS car_id, cars.make AS make FROM cars WHERE cars.year > ?) \
         SELECT recent.make FROM recent ORDER BY recent.car_id",
        vec![2015.into()],
        rows![["Toyota Prius"], ["Tesla Model 3"]],
    );
}

/// `counter = select(literal(1).label("n")).cte("counter", recursive=True)`;
/// `counter = counter.union_all(select(counter.c.n + 1).where(counter.c.n < 5))`; `select(func.sum(counter.c.n))`
#[test]
fn p28_recursive_cte() {
    let base = select(lit(1).label("n")).cte_recursive("counter");
    let counter = base.union_all(select(base.c("n") + 1).where_(base.c("n").lt(5)));
    parity(
        select(func::sum(counter.c("n"))),
        "WITH RECURSIVE counter AS (SELECT ? AS n UNION ALL SELECT counter.n + ? FROM counter WHERE counter.n < ?) \
         SELECT sum(counter.n) FROM counter",
        "WITH RECURSIVE counter(n) AS (SELECT ? AS n UNION ALL SELECT counter.n + ? AS anon_1 FROM counter \
         WHERE counter.n < ?) SELECT sum(counter.n) AS sum_1 FROM counter",
        vec![1.into(), 1.into(), 5.into()],
        rows![[15]],
    );
}

// ---- Set operations ----

/// `union(select(cars.c.owner_id).where(cars.c.owner_id.is_not(None)), select(owners.c.id))
///  .order_by(desc("owner_id")).limit(2)`
#[test]
fn p29_union_order_by_limit() {
    let d = db();
    parity(
        union(select(cars(&d, "owner_id")).where_(cars(&d, "owner_id").is_not_null()), select(owners(&d, "id")))
            .order_by(desc("owner_id"))
            .limit(2),
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
         ORDER BY cars.owner_id DESC LIMIT ?",
        "SELECT cars.owner_id FROM cars WHERE cars.owner_id IS NOT NULL UNION SELECT owners.id FROM owners \
         ORDER BY owner_id DESC LIMIT ? OFFSET ?",
        vec![2.into(), 0.into()],
        rows![[3], [2]],
    );
}

/// `except_(select(owners.c.id), select(cars.c.owner_id))`
#[test]
fn p30_except() {
    let d = db();
    let sql = "SELECT owners.id FROM owners EXCEPT SELECT cars.owner_id FROM cars";
    parity(except_(select(owners(&d, "id")), select(cars(&d, "owner_id"))), sql, sql, vec![], rows![[3]]);
}

/// `intersect(select(owners.c.id), select(cars.c.owner_id))`
#[test]
fn p31_intersect() {
    let d = db();
    let sql = "SELECT owners.id FROM owners INTERSECT SELECT cars.owner_id FROM cars";
    parity(intersect(select(owners(&d, "id")), select(cars(&d, "owner_id"))), sql, sql, vec![], rows![[1], [2]]);
}

// ---- CASE and CAST ----

/// `select(case((cars.c.year < 2000, "vintage"), (cars.c.year < 2015, "used"), else_="recent").label("age"))
///  .order_by(cars.c.car_id)`
#[test]
fn p32_case() {
    let d = db();
    parity(
        select(
            case([(cars(&d, "year").lt(2000), "vintage"), (cars(&d, "year").lt(2015), "used")]).else_("recent").label("age"),
        )
        .order_by(cars(&d, "car_id")),
        "SELECT CASE WHEN cars.year < ? THEN ? WHEN cars.year < ? THEN ? ELSE ? END AS age FROM cars ORDER BY cars.car_id",
        "SELECT CASE WHEN (cars.year < ?) THEN ? WHEN (cars.year < ?) THEN ? ELSE ? END AS age FROM cars \
         ORDER BY cars.car_id",
        vec![2000.into(), "vintage".into(), 2015.into(), "used".into(), "recent".into()],
        rows![["used"], ["recent"], ["recent"], ["vintage"]],
    );
}

/// `select((cars.c.make + " (" + cast(cars.c.year, String) + ")").label("title")).where(cars.c.car_id == 1)`:
/// `+` on a string column is `||`; SQLAlchemy's `String` is VARCHAR, ours `Text`.
#[test]
fn p33_cast_and_concat() {
    let d = db();
    parity(
        select((cars(&d, "make") + " (" + cast(cars(&d, "year"), Text) + ")").label("title"))
            .where_(cars(&d, "car_id").eq(1)),
        "SELECT cars.make || ? || CAST(cars.year AS TEXT) || ? AS title FROM cars WHERE cars.car_id = ?",
        "SELECT cars.make || ? || CAST(cars.year AS VARCHAR) || ? AS title FROM cars WHERE cars.car_id = ?",
        vec![" (".into(), ")".into(), 1.into()],
        rows![["Honda Civic (2012)"]],
    );
}

// ---- EXISTS ----

/// `select(owners.c.name).where(exists().where(cars.c.owner_id == owners.c.id)).order_by(owners.c.name)`
#[test]
fn p34_exists() {
    let d = db();
    let sql = "SELECT owners.name FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) \
               ORDER BY owners.name";
    parity(
        select(owners(&d, "name"))
            .where_(exists().where_(cars(&d, "owner_id").eq(owners(&d, "id"))))
            .order_by(owners(&d, "name")),
        sql,
        sql,
        vec![],
        rows![["Ann"], ["Bob"]],
    );
}

/// `select(owners.c.name).where(~exists().where(cars.c.owner_id == owners.c.id))`
#[test]
fn p35_not_exists() {
    let d = db();
    parity(
        select(owners(&d, "name")).where_(!exists().where_(cars(&d, "owner_id").eq(owners(&d, "id")))),
        "SELECT owners.name FROM owners WHERE NOT EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id)",
        "SELECT owners.name FROM owners WHERE NOT (EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id))",
        vec![],
        rows![["Cy"]],
    );
}

// ---- RETURNING, UPDATE and DELETE ----

/// `insert(owners).values(name="Dee").returning(owners.c.id, owners.c.name)`
#[test]
fn p36_insert_returning() {
    let d = db();
    let sql = "INSERT INTO owners (name) VALUES (?) RETURNING id, name";
    parity(
        d.owners.insert().value("name", "Dee").returning((owners(&d, "id"), owners(&d, "name"))),
        sql,
        sql,
        vec!["Dee".into()],
        rows![[4, "Dee"]],
    );
}

/// `update(cars).where(cars.c.year > 2015).values(mileage=cars.c.mileage + 100)
///  .returning(cars.c.car_id, cars.c.mileage)`
#[test]
fn p37_update_returning() {
    let d = db();
    parity(
        update(&d.cars)
            .set("mileage", cars(&d, "mileage") + 100)
            .where_(cars(&d, "year").gt(2015))
            .returning((cars(&d, "car_id"), cars(&d, "mileage"))),
        "UPDATE cars SET mileage = cars.mileage + ? WHERE cars.year > ? RETURNING car_id, mileage",
        "UPDATE cars SET mileage=(cars.mileage + ?) WHERE cars.year > ? RETURNING car_id, mileage",
        vec![100.into(), 2015.into()],
        rows![[2, 10100], [3, 5100]],
    );
}

/// `delete(cars).where(cars.c.mileage == None).returning(cars.c.make)`
#[test]
fn p38_delete_returning() {
    let d = db();
    let sql = "DELETE FROM cars WHERE cars.mileage IS NULL RETURNING make";
    parity(
        delete(&d.cars).where_(cars(&d, "mileage").eq(None)).returning(cars(&d, "make")),
        sql,
        sql,
        vec![],
        rows![["Ford T"]],
    );
}

/// `update(cars).values(make=owners.c.name + "'s car").where(cars.c.owner_id == owners.c.id)
///  .where(owners.c.name == "Bob")`: UPDATE ... FROM.
#[test]
fn p39_update_from() {
    let d = db();
    let after = parity(
        update(&d.cars)
            .set("make", owners(&d, "name") + "'s car")
            .where_(cars(&d, "owner_id").eq(owners(&d, "id")))
            .where_(owners(&d, "name").eq("Bob")),
        "UPDATE cars SET make = owners.name || ? FROM owners WHERE cars.owner_id = owners.id AND owners.name = ?",
        "UPDATE cars SET make=(owners.name || ?) FROM owners WHERE cars.owner_id = owners.id AND owners.name = ?",
        vec!["'s car".into(), "Bob".into()],
        vec![],
    );
    let makes = texts(&after.conn.query("SELECT make FROM cars ORDER BY car_id", ()).unwrap(), 0);
    assert_eq!(makes, ["Honda Civic", "Bob's car", "Tesla Model 3", "Ford T"]);
}

// ---- Upserts ----

/// `stmt = sqlite.insert(owners).values(id=2, name="Robert")`;
/// `stmt.on_conflict_do_update(index_elements=[owners.c.id], set_=dict(name=stmt.excluded.name))`
#[test]
fn p40_upsert_do_update() {
    let d = db();
    let sql = "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name";
    let after = parity(
        insert(&d.owners)
            .value("id", 2)
            .value("name", "Robert")
            .on_conflict_do_update(["id"], [("name", excluded("name"))]),
        sql,
        sql,
        vec![2.into(), "Robert".into()],
        vec![],
    );
    assert_eq!(names(&after), ["Ann", "Robert", "Cy"]);
}

/// `sqlite.insert(owners).values(id=1, name="Annie").on_conflict_do_nothing()`
#[test]
fn p41_upsert_do_nothing() {
    let d = db();
    let sql = "INSERT INTO owners (id, name) VALUES (?, ?) ON CONFLICT DO NOTHING";
    let after = parity(
        insert(&d.owners).value("id", 1).value("name", "Annie").on_conflict_do_nothing(Vec::<&str>::new()),
        sql,
        sql,
        vec![1.into(), "Annie".into()],
        vec![],
    );
    assert_eq!(names(&after), ["Ann", "Bob", "Cy"]);
}

/// `sqlite.insert(owners).from_select(["name"], select(cars.c.make)).on_conflict_do_nothing(index_elements=["name"])`:
/// SQLAlchemy's SQL does not parse on SQLite (it reads `ON CONFLICT` as a join's ON); ours gives the SELECT a
/// `WHERE 1`, and inserts the four makes.
#[test]
fn p42_insert_select_on_conflict() {
    let d = db();
    let ours = "INSERT INTO owners (name) SELECT cars.make FROM cars WHERE 1 ON CONFLICT (name) DO NOTHING";
    run(&d, insert(&d.owners).from_select(["name"], select(cars(&d, "make"))).on_conflict_do_nothing(["name"]), ours);
    assert_eq!(names(&d), ["Ann", "Bob", "Cy", "Honda Civic", "Toyota Prius", "Tesla Model 3", "Ford T"]);
    let theirs = db();
    let sa = "INSERT INTO owners (name) SELECT cars.make FROM cars ON CONFLICT (name) DO NOTHING";
    let err = theirs.conn.execute(sa, ()).unwrap_err();
    assert_eq!(err.kind(), asqlite::ErrorKind::Syntax, "{err}");
    // Run again: every name conflicts, nothing is inserted.
    run(&d, insert(&d.owners).from_select(["name"], select(cars(&d, "make"))).on_conflict_do_nothing(["name"]), ours);
    assert_eq!(names(&d).len(), 7);
}
