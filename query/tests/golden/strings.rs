//! Bare strings and operator types: what used to compile to SQL that ran and returned the wrong rows.
//!
//! A string in ORDER BY / GROUP BY names a label or column of the statement (SQLAlchemy resolves it the same way);
//! a string as a condition or a result column is an error pointing to `text()`; `+` on a string column
//! concatenates. Each test asserts the SQL and runs it.

use super::*;
use asqlite_query::expr::{desc, literal_column};

#[test]
fn order_by_a_string_names_a_column_of_the_from() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select((c("make"), c("year"))).order_by("year"),
        "SELECT cars.make, cars.year FROM cars ORDER BY cars.year",
    );
    assert_eq!(ints(&r, 1), [1920, 2012, 2019, 2020]);
    // A column of the FROM that is not selected, descending.
    let r = run(
        &d,
        select(c("car_id")).order_by(desc("mileage").nulls_last()),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage DESC NULLS LAST",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3, 4]);
    // A column of a joined table.
    let r = run(
        &d,
        select(d.cars.c("make")).join(&d.owners).order_by(("name", desc("car_id"))),
        "SELECT cars.make FROM cars JOIN owners ON cars.owner_id = owners.id ORDER BY owners.name, cars.car_id DESC",
    );
    assert_eq!(texts(&r, 0), ["Tesla Model 3", "Honda Civic", "Toyota Prius"]);
}

#[test]
fn order_by_and_group_by_a_string_name_a_label() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select((c("owner_id"), func::sum(c("mileage")).label("total")))
            .where_(c("owner_id").is_not_null())
            .group_by("owner_id")
            .order_by(desc("total")),
        "SELECT cars.owner_id, sum(cars.mileage) AS total FROM cars WHERE cars.owner_id IS NOT NULL \
         GROUP BY cars.owner_id ORDER BY total DESC",
    );
    assert_eq!(ints(&r, 0), [1, 2]);
    assert_eq!(ints(&r, 1), [25000, 10000]);
    // GROUP BY a label of the select list (SQLite resolves it), one group per decade.
    let r = run(
        &d,
        select(((c("year") / 10 * 10).label("decade"), func::count_star().label("n")))
            .group_by("decade")
            .order_by("decade"),
        "SELECT cars.year / ? * ? AS decade, count(*) AS n FROM cars GROUP BY decade ORDER BY decade",
    );
    assert_eq!(ints(&r, 0), [1920, 2010, 2020]);
    assert_eq!(ints(&r, 1), [1, 2, 1]);
    // GROUP BY a column of the FROM: one group per make, not one group for a bound string.
    let r = run(
        &d,
        select(func::count_star()).select_from(&d.cars).group_by("make"),
        "SELECT count(*) FROM cars GROUP BY cars.make",
    );
    assert_eq!(r.len(), 4);
}

#[test]
fn order_by_a_string_on_a_subquery_and_a_compound() {
    let d = db();
    let sq = select((d.cars.c("make"), d.cars.c("year"))).where_(d.cars.c("year").gt(2000)).subquery("recent");
    let r = run(
        &d,
        select(sq.c("make")).order_by(desc("year")),
        "SELECT recent.make FROM (SELECT cars.make, cars.year FROM cars WHERE cars.year > ?) AS recent \
         ORDER BY recent.year DESC",
    );
    assert_eq!(texts(&r, 0), ["Toyota Prius", "Tesla Model 3", "Honda Civic"]);
    let r = run(
        &d,
        select(d.cars.c("make").label("name")).union(select(d.owners.c("name"))).order_by(desc("name")).limit(2),
        "SELECT cars.make AS name FROM cars UNION SELECT owners.name FROM owners ORDER BY name DESC LIMIT ?",
    );
    assert_eq!(texts(&r, 0), ["Toyota Prius", "Tesla Model 3"]);
}

#[test]
fn a_string_that_names_nothing_is_an_error() {
    let d = db();
    let err = select(d.cars.c("make")).order_by("nope").compile().unwrap_err().to_string();
    assert!(err.contains("order_by(\"nope\")") && err.contains("text(\"nope\")"), "{err}");
    let err = select(d.cars.c("make")).group_by("year DESC").compile().unwrap_err().to_string();
    assert!(err.contains("group_by(\"year DESC\")"), "{err}");
    // Two sources with the column: ambiguous, not a guess.
    let (a, b) = (d.cars.alias("a"), d.cars.alias("b"));
    let q = select(a.c("make")).select_from(&a).join_on(&b, a.c("owner_id").eq(b.c("owner_id"))).order_by("year");
    let err = q.compile().unwrap_err().to_string();
    assert!(err.contains("ambiguous"), "{err}");
    // SQL text in ORDER BY is text().
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("mileage").is_not_null()).order_by(text("mileage % 7")),
        "SELECT cars.car_id FROM cars WHERE cars.mileage IS NOT NULL ORDER BY mileage % 7",
    );
    assert_eq!(ints(&r, 0), [1, 3, 2]);
}

#[test]
fn a_string_as_a_condition_or_result_column_is_an_error() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let check = |stmt: &dyn Executable, place: &str| {
        let err = stmt.compile().unwrap_err().to_string();
        assert!(err.contains(place) && err.contains("text(\"year > 2000\")"), "{err}");
    };
    check(&select(c("car_id")).where_("year > 2000"), "a WHERE condition");
    check(&select(c("owner_id")).group_by(c("owner_id")).having("year > 2000"), "a HAVING condition");
    check(&select(c("car_id")).where_(c("car_id").gt(1) & "year > 2000"), "a condition of and_()");
    check(&select(c("car_id")).where_(or_(["year > 2000"])), "a condition of or_()");
    check(&select(c("car_id")).where_(not_("year > 2000")), "not_()");
    check(&select(c("car_id")).select_from(&d.cars).join_on(&d.owners, "year > 2000"), "an ON condition");
    check(&update(&d.cars).set("year", 1).where_("year > 2000"), "a WHERE condition");
    check(&delete(&d.cars).where_("year > 2000"), "a WHERE condition");
    check(&select(case([("year > 2000", 1)]).end()), "a WHEN condition");
    check(&select("year > 2000"), "a result column");
    check(&d.cars.insert().value("year", 1).returning("year > 2000"), "a result column");
    // text() is the SQL, and a string where a value is expected is still a value.
    let r = run(
        &d,
        select(c("make")).where_(text("year > 2015")).where_(c("make").ne("Tesla Model 3")),
        "SELECT cars.make FROM cars WHERE (year > 2015) AND cars.make != ?",
    );
    assert_eq!(texts(&r, 0), ["Toyota Prius"]);
    let r = run(
        &d,
        select(literal_column("year").label("y")).select_from(&d.cars).where_(c("car_id").eq(4)),
        "SELECT year AS y FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(ints(&r, 0), [1920]);
}

#[test]
fn plus_on_a_string_column_concatenates() {
    let d = db();
    let c = |n: &str| d.cars.c(n);
    let r = run(
        &d,
        select((c("make") + " #" + cast(c("car_id"), Text)).label("tag")).order_by(c("car_id")),
        "SELECT cars.make || ? || CAST(cars.car_id AS TEXT) AS tag FROM cars ORDER BY cars.car_id",
    );
    assert_eq!(texts(&r, 0), ["Honda Civic #1", "Toyota Prius #2", "Tesla Model 3 #3", "Ford T #4"]);
    // Numbers still add, text and a number too (as in SQLAlchemy); text with a bind parameter concatenates.
    let r = run_with(
        &d,
        select((c("year") + 1, c("make") + bindparam("s"), lit("v ") + c("make"), func::lower(c("make")) + "!"))
            .where_(c("car_id").eq(1)),
        "SELECT cars.year + ?, cars.make || ?, ? || cars.make, lower(cars.make) || ? FROM cars WHERE cars.car_id = ?",
        named_params! {"s" => "1"},
    );
    let row = r.first().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 2013);
    assert_eq!(row.get::<String>(1).unwrap(), "Honda Civic1");
    assert_eq!(row.get::<String>(2).unwrap(), "v Honda Civic");
    assert_eq!(row.get::<String>(3).unwrap(), "honda civic!");
    // Through a subquery and a label, and on VARCHAR; a string and an integer column add (SQLAlchemy does too).
    let meta = MetaData::new();
    let t = Table::new("tags", &meta, [Column::new("id", Integer).primary_key(), Column::new("tag", Varchar(10))]);
    t.create(&d.conn).unwrap();
    d.conn.execute_batch("INSERT INTO tags VALUES (1, 'a'), (2, 'b')").unwrap();
    let sq = select((t.c("id"), (t.c("tag") + "-").label("t"))).subquery("s");
    let r = run(
        &d,
        select(sq.c("t") + "!").order_by("id"),
        "SELECT s.t || ? FROM (SELECT tags.id, tags.tag || ? AS t FROM tags) AS s ORDER BY s.id",
    );
    assert_eq!(texts(&r, 0), ["a-!", "b-!"]);
    for (e, sql) in [
        (c("make") + c("year"), "SELECT cars.make + cars.year FROM cars"),
        (c("make") + 1, "SELECT cars.make + ? FROM cars"),
        (c("year") + "1", "SELECT cars.year + ? FROM cars"),
        (literal_column("make") + "!", "SELECT (make) || ? FROM cars"),
    ] {
        assert_eq!(select(e).select_from(&d.cars).compile().unwrap().sql(), sql, "as SQLAlchemy types them");
    }
}
