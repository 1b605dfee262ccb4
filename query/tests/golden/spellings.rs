//! What a SQLAlchemy Core user writes, spelled in Rust: each either compiles to what SQLAlchemy's SQLite dialect
//! writes (and runs, checked against the rows) or is a clear compile error.

use super::*;
use asqlite_query::expr::{all_, any_, collate, desc, literal_column, nulls_first, tuple_};

#[test]
fn exists_without_columns_correlates_to_the_enclosing_query() {
    let d = db();
    let owns = || exists().where_(d.cars.c("owner_id").eq(d.owners.c("id")));
    let r = run(
        &d,
        select(d.owners.c("name")).where_(owns()).order_by("name"),
        "SELECT owners.name FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) \
         ORDER BY owners.name",
    );
    assert_eq!(texts(&r, 0), ["Ann", "Bob"]);
    let r = run(
        &d,
        select(d.owners.c("name")).where_(!owns()),
        "SELECT owners.name FROM owners WHERE NOT EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id)",
    );
    assert_eq!(texts(&r, 0), ["Cy"]);
    // Combined with another condition, and uncorrelated as a value.
    let r = run(
        &d,
        select(d.owners.c("id")).where_(owns() & d.owners.c("name").ne("Ann")),
        "SELECT owners.id FROM owners WHERE EXISTS (SELECT * FROM cars WHERE cars.owner_id = owners.id) AND \
         owners.name != ?",
    );
    assert_eq!(ints(&r, 0), [2]);
    let r = run(
        &d,
        select(exists().where_(d.cars.c("year").lt(1950)).into_expr().label("old")),
        "SELECT EXISTS (SELECT * FROM cars WHERE cars.year < ?) AS old",
    );
    assert_eq!(ints(&r, 0), [1]);
}

#[test]
fn func_count_with_select_from() {
    let d = db();
    let r = run(&d, select(func.count()).select_from(&d.cars), "SELECT count(*) FROM cars");
    assert_eq!(ints(&r, 0), [4]);
    let r = run(
        &d,
        select(func.count()).select_from(&d.cars).where_(d.cars.c("year").gt(2015)),
        "SELECT count(*) FROM cars WHERE cars.year > ?",
    );
    assert_eq!(ints(&r, 0), [2]);
    // func.count() and func::count(x) side by side: count(x) skips NULLs.
    let r = run(
        &d,
        select((func.count(), func::count(d.cars.c("mileage")))).select_from(&d.cars),
        "SELECT count(*), count(cars.mileage) FROM cars",
    );
    assert_eq!((ints(&r, 0), ints(&r, 1)), (vec![4], vec![3]));
}

#[test]
fn literal_column_is_sql_as_a_column() {
    let d = db();
    let r = run(
        &d,
        select((d.cars.c("make"), literal_column("'car'").label("kind"), literal_column("year - 1900")))
            .where_(d.cars.c("car_id").eq(4)),
        "SELECT cars.make, 'car' AS kind, year - 1900 FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(texts(&r, 1), ["car"]);
    assert_eq!(ints(&r, 2), [20]);
    assert_eq!(r.columns(), ["make", "kind", "year - 1900"]);
    // Its result column can be named from a subquery.
    let sq = select((d.cars.c("car_id"), literal_column("mileage / 1000"))).subquery("k");
    let r = run(
        &d,
        select(sq.c("mileage / 1000")).where_(sq.c("car_id").eq(1)),
        "SELECT k.\"mileage / 1000\" FROM (SELECT cars.car_id, mileage / 1000 FROM cars) AS k WHERE k.car_id = ?",
    );
    assert_eq!(ints(&r, 0), [20]);
}

#[test]
fn tuple_in_a_list_of_rust_tuples_and_a_subquery() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(c("car_id")).where_(tuple_((c("owner_id"), c("year"))).in_([(1, 2019), (2, 2020)])),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) IN (VALUES (?, ?), (?, ?))",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let r = run(
        &d,
        select(c("car_id")).where_(tuple_((c("make"), c("year"))).not_in([("Honda Civic", 2012), ("Ford T", 1920)])),
        "SELECT cars.car_id FROM cars WHERE (cars.make, cars.year) NOT IN (VALUES (?, ?), (?, ?))",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
    let newest = select((c("owner_id"), func::max(c("year")))).group_by(c("owner_id"));
    let r = run(
        &d,
        select(c("make")).where_(tuple_((c("owner_id"), c("year"))).in_query(newest)).order_by("make"),
        "SELECT cars.make FROM cars WHERE (cars.owner_id, cars.year) IN (SELECT cars.owner_id, max(cars.year) \
         FROM cars GROUP BY cars.owner_id) ORDER BY cars.make",
    );
    assert_eq!(texts(&r, 0), ["Tesla Model 3", "Toyota Prius"]);
    let r = run(
        &d,
        select(c("car_id")).where_(tuple_((c("owner_id"), c("year"))).eq(tuple_((1, 2012)))),
        "SELECT cars.car_id FROM cars WHERE (cars.owner_id, cars.year) = (?, ?)",
    );
    assert_eq!(ints(&r, 0), [1]);
}

#[test]
fn window_functions_over_partition_and_order() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select((c("car_id"), func::row_number().over(c("owner_id"), c("year").desc()).label("rn")))
            .where_(c("owner_id").is_not_null())
            .order_by("car_id"),
        "SELECT cars.car_id, row_number() OVER (PARTITION BY cars.owner_id ORDER BY cars.year DESC) AS rn \
         FROM cars WHERE cars.owner_id IS NOT NULL ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 1), [2, 1, 1]);
    let r = run(
        &d,
        select((
            c("car_id"),
            func::sum(c("mileage")).over((), c("car_id")).rows_between(None, Some(0)).label("running"),
        ))
        .order_by("car_id"),
        "SELECT cars.car_id, sum(cars.mileage) OVER (ORDER BY cars.car_id ROWS BETWEEN UNBOUNDED PRECEDING AND \
         CURRENT ROW) AS running FROM cars ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 1), [20000, 30000, 35000, 35000]);
    let r = run(
        &d,
        select((
            c("car_id"),
            func.rank().over((), desc(c("mileage"))),
            func::lag(c("make")).over((), c("car_id")),
            func::count_star().over(c("owner_id"), ()),
        ))
        .order_by("car_id"),
        "SELECT cars.car_id, rank() OVER (ORDER BY cars.mileage DESC), lag(cars.make) OVER (ORDER BY cars.car_id), \
         count(*) OVER (PARTITION BY cars.owner_id) FROM cars ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 1), [1, 2, 3, 4]);
    assert_eq!(
        r.iter().map(|row| row.get::<Option<String>>(2).unwrap()).collect::<Vec<_>>()[..2],
        [None, Some("Honda Civic".into())]
    );
    assert_eq!(ints(&r, 3), [2, 1, 2, 1]);
    // A window frame of values, and an aggregate with FILTER.
    let r = run(
        &d,
        select((
            c("car_id"),
            func::count_star().over((), c("year")).range_between(Some(-10), Some(10)),
            func::count_star().filter(c("year").gt(2015)),
        ))
        .where_(c("car_id").eq(3)),
        "SELECT cars.car_id, count(*) OVER (ORDER BY cars.year RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING), \
         count(*) FILTER (WHERE cars.year > ?) FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!((ints(&r, 1), ints(&r, 2)), (vec![1], vec![1]));
    let err = select(c("year").over((), ())).compile().unwrap_err().to_string();
    assert!(err.contains("function"), "{err}");
}

#[test]
fn cast_to_the_column_types() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
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
    );
    let row = r.first().unwrap();
    assert_eq!(row.get::<Value>(0).unwrap(), Value::Text("2012".into()));
    assert_eq!(row.get::<Value>(1).unwrap(), Value::Real(20000.0));
    assert_eq!(row.get::<Value>(2).unwrap(), Value::Real(3.5));
    assert_eq!(row.get::<Value>(3).unwrap(), Value::Integer(12));
    assert_eq!(row.get::<Value>(4).unwrap(), Value::Integer(2012));
    assert!(row.get::<bool>(5).unwrap());
    // Dates and JSON are text on SQLite: CAST(... AS DATE) would read '2012-06-01' as the number 2012.
    let r = run(
        &d,
        select((cast("2012-06-01", Date), cast("2012-06-01 10:00:00", DateTime), cast(lit(r#"{"a": 1}"#), Json))),
        "SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT)",
    );
    assert_eq!(texts(&r, 0), ["2012-06-01"]);
    assert_eq!(texts(&r, 1), ["2012-06-01 10:00:00"]);
    assert_eq!(texts(&r, 2), [r#"{"a": 1}"#]);
    assert!(select(cast(c("year"), SqlType::Null)).compile().is_err());
}

#[test]
fn collate_compares_and_orders_with_a_collation() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(c("car_id")).where_(c("make").collate("nocase").eq("honda civic")),
        "SELECT cars.car_id FROM cars WHERE cars.make COLLATE nocase = ?",
    );
    assert_eq!(ints(&r, 0), [1]);
    d.conn.execute_batch("INSERT INTO cars (car_id, make) VALUES (5, 'audi')").unwrap();
    let r = run(
        &d,
        select(c("make")).order_by(collate(c("make"), "NOCASE")).limit(2),
        "SELECT cars.make FROM cars ORDER BY cars.make COLLATE \"NOCASE\" LIMIT ?",
    );
    assert_eq!(texts(&r, 0), ["audi", "Ford T"]);
    let r = run(
        &d,
        select(c("make").collate("binary").label("m")).order_by(nulls_first("m")).limit(1),
        "SELECT cars.make COLLATE binary AS m FROM cars ORDER BY m NULLS FIRST LIMIT ?",
    );
    assert_eq!(texts(&r, 0), ["Ford T"]);
}

#[test]
fn is_distinct_from_is_null_safe() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select(c("car_id")).where_(c("owner_id").is_distinct_from(1)),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS NOT ?",
    );
    assert_eq!(ints(&r, 0), [2, 4], "NULL is distinct from 1");
    let r = run_with(
        &d,
        select(c("car_id")).where_(c("owner_id").is_not_distinct_from(bindparam("o"))),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IS ?",
        named_params! {"o" => None::<i64>},
    );
    assert_eq!(ints(&r, 0), [4], "NULL is not distinct from NULL");
}

#[test]
fn regexp_match_is_the_regexp_operator_and_fails_clearly_without_a_function() {
    let d = db();
    let q = select(d.cars.c("car_id")).where_(d.cars.c("make").regexp_match("^T"));
    let c = q.compile().unwrap();
    assert_eq!(c.sql(), "SELECT cars.car_id FROM cars WHERE cars.make REGEXP ?");
    // SQLite has no regexp() of its own: the error says so, it is not a wrong answer.
    let err = d.conn.query(c.sql(), c.bind(&Params::none()).unwrap()).unwrap_err();
    assert!(err.to_string().contains("no such function: REGEXP"), "{err}");
    let q = select(d.cars.c("car_id")).where_(d.cars.c("make").not_regexp_match("^T"));
    assert_eq!(q.compile().unwrap().sql(), "SELECT cars.car_id FROM cars WHERE cars.make NOT REGEXP ?");
}

#[test]
fn any_and_all_are_clear_errors_on_sqlite() {
    let d = db();
    let ids = select(d.owners.c("id"));
    let err = select(d.cars.c("car_id")).where_(d.cars.c("owner_id").eq(any_(ids.clone()))).compile().unwrap_err();
    assert!(err.to_string().contains("in_query"), "{err}");
    let err = select(d.cars.c("car_id")).where_(d.cars.c("owner_id").ne(all_(ids.clone()))).compile().unwrap_err();
    assert!(err.to_string().contains("not_in_query"), "{err}");
    let err = select(d.cars.c("car_id")).where_(lit(5).eq(d.cars.c("owner_id").any_())).compile().unwrap_err();
    assert!(err.to_string().contains("cannot be expressed on sqlite"), "{err}");
    // What to write instead.
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("owner_id").in_query(ids)),
        "SELECT cars.car_id FROM cars WHERE cars.owner_id IN (SELECT owners.id FROM owners)",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3]);
}
