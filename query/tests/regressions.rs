//! Regression tests from the review of the query layer, each named after what broke. Every test asserts the SQL
//! the compiler writes and runs it on a real database, so wrong SQL, a wrong parameter count or wrong rows fail.

use asqlite::blocking::Connection;
use asqlite::{Params, Rows};
use asqlite_query::expr::{func, Expr};
use asqlite_query::prelude::*;
use asqlite_query::Error;

struct Db {
    _dir: tempfile::TempDir,
    conn: Connection,
    cars: Table,
    owners: Table,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("regress.db")).unwrap();
    let meta = MetaData::new();
    let owners = Table::new("owners", &meta, [Column::new("id", Integer).primary_key(), Column::new("name", Text)]);
    let cars = Table::new(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
            Column::new("owner_id", Integer).foreign_key("owners.id"),
        ],
    );
    meta.create_all(&conn).unwrap();
    conn.execute_batch(
        "INSERT INTO owners VALUES (1, 'Ann'), (2, 'Bob');
         INSERT INTO cars VALUES (1, 'Honda Civic', 2012, 20000, 1), (2, 'Toyota Prius', 2020, 10000, 2),
                                 (3, 'Tesla Model 3', 2019, 5000, 1);",
    )
    .unwrap();
    Db { _dir: dir, conn, cars, owners }
}

fn run(db: &Db, stmt: impl Executable, sql: &str) -> Rows {
    let c = stmt.compile().unwrap();
    assert_eq!(c.sql(), sql);
    let values = c.bind(&Params::none()).unwrap();
    if c.returns_rows() {
        db.conn.query(c.sql(), values).unwrap()
    } else {
        db.conn.execute(c.sql(), values).unwrap();
        Rows::default()
    }
}

fn ints(rows: &Rows, col: usize) -> Vec<i64> {
    rows.iter().map(|r| r.get::<i64>(col).unwrap()).collect()
}

fn compile_err(stmt: impl Executable) -> String {
    match stmt.compile() {
        Ok(c) => panic!("expected a compile error, got {c}"),
        Err(e) => {
            assert!(matches!(e, Error::Compile(_)), "{e:?}");
            e.to_string()
        }
    }
}

/// `-(-x)` was written `--x`, which SQLite reads as the start of a comment: the rest of the statement vanished.
#[test]
fn double_negation_is_not_a_comment() {
    let d = db();
    let r = run(
        &d,
        select(-(-d.cars.c("year"))).where_(d.cars.c("car_id").eq(1)),
        "SELECT -(-cars.year) FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(ints(&r, 0), [2012]);
}

/// `and_([a | b])` (one item) took the precedence of a plain term, so `NOT` and `AND` around it lost the
/// parentheses: `NOT a OR b`.
#[test]
fn single_item_and_or_keep_their_parentheses() {
    let d = db();
    let y = |n: i64| d.cars.c("year").eq(n);
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(not_(and_([y(2012) | y(2020)]))),
        "SELECT cars.car_id FROM cars WHERE NOT (cars.year = ? OR cars.year = ?)",
    );
    assert_eq!(ints(&r, 0), [3]);
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(or_([y(2019) | y(2020)]) & d.cars.c("mileage").gt(6000)),
        "SELECT cars.car_id FROM cars WHERE (cars.year = ? OR cars.year = ?) AND cars.mileage > ?",
    );
    assert_eq!(ints(&r, 0), [2]);
}

/// A labelled expression used inside another expression kept the precedence of a plain name: `label(a + 1) * 2`
/// was written `a + 1 * 2`.
#[test]
fn labelled_expression_inside_arithmetic_keeps_parentheses() {
    let d = db();
    let r = run(
        &d,
        select(((d.cars.c("year") + 1).label("next") * 2).label("x")).where_(d.cars.c("car_id").eq(1)),
        "SELECT (cars.year + ?) * ? AS x FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(ints(&r, 0), [4026]);
}

/// An empty IN list on a tuple was written as a constant, but the tuple's literals still added parameter slots
/// with no `?` for them: SQLite refused the statement (or bound values to the wrong placeholders).
#[test]
fn empty_tuple_in_list_slots_match_placeholders() {
    let d = db();
    let c = select(d.cars.c("car_id"))
        .where_(tuple([d.cars.c("year"), lit(5)]).in_(Vec::<Expr>::new()) | d.cars.c("car_id").eq(2))
        .compile()
        .unwrap();
    assert_eq!(
        c.sql(),
        "SELECT cars.car_id FROM cars WHERE (cars.year, ?) IN (SELECT 1, 1 FROM (SELECT 1) WHERE 1 != 1) OR \
         cars.car_id = ?"
    );
    assert_eq!(c.slots().len(), 2);
    let r = d.conn.query(c.sql(), c.bind(&Params::none()).unwrap()).unwrap();
    assert_eq!(ints(&r, 0), [2]);
}

/// A subquery over the same table as the enclosing query lost its FROM to auto-correlation: "cars above the
/// average mileage" compared each car with its own mileage. SQLAlchemy correlates only when the subquery keeps
/// another FROM.
#[test]
fn subquery_on_the_outer_table_keeps_its_from() {
    let d = db();
    let avg = select(func::avg(d.cars.c("mileage"))).scalar_subquery();
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(d.cars.c("mileage").gt(avg)).order_by(d.cars.c("car_id")),
        "SELECT cars.car_id FROM cars WHERE cars.mileage > (SELECT avg(cars.mileage) FROM cars) ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 0), [1]);
    // With two FROMs, the outer one is still correlated away.
    let n = select(func::count_star()).where_(d.cars.c("owner_id").eq(d.owners.c("id"))).scalar_subquery();
    run(
        &d,
        select((d.owners.c("id"), n.label("n"))),
        "SELECT owners.id, (SELECT count(*) FROM cars WHERE cars.owner_id = owners.id) AS n FROM owners",
    );
}

/// `group_by(col.desc())` wrote `GROUP BY col DESC`, which SQLite rejects: an ordering in GROUP BY is a compile
/// error.
#[test]
fn ordering_in_group_by_is_a_compile_error() {
    let d = db();
    let e = compile_err(select(d.cars.c("year")).group_by(d.cars.c("year").desc()));
    assert!(e.contains("ORDER BY"), "{e}");
}

/// `*` outside a select list (`WHERE *`) was written as is.
#[test]
fn star_outside_a_select_list_is_a_compile_error() {
    let d = db();
    compile_err(select(d.cars.c("year")).where_(Expr::Star));
    run(&d, select(Expr::Star).select_from(&d.owners), "SELECT * FROM owners");
}

/// `excluded.col` outside `ON CONFLICT DO UPDATE` names a table that does not exist there.
#[test]
fn excluded_outside_an_upsert_is_a_compile_error() {
    let d = db();
    let e = compile_err(select(d.cars.c("year")).where_(d.cars.c("make").eq(excluded("make"))));
    assert!(e.contains("excluded"), "{e}");
    let e = compile_err(
        d.cars
            .insert()
            .value("car_id", 1)
            .value("make", "x")
            .on_conflict_do_update(["car_id"], [("nope", excluded("make"))]),
    );
    assert!(e.contains("nope"), "{e}");
    compile_err(d.cars.insert().value("car_id", 1).on_conflict_do_update(["car_id"], [("make", excluded("nope"))]));
}

/// RETURNING a column of another table produced SQL SQLite refuses.
#[test]
fn returning_another_tables_column_is_a_compile_error() {
    let d = db();
    let e = compile_err(d.cars.delete().where_(d.cars.c("car_id").eq(1)).returning(d.owners.c("name")));
    assert!(e.contains("RETURNING"), "{e}");
}

/// Joining the FROM table to itself without an alias made every column ambiguous.
#[test]
fn joining_a_table_to_itself_without_an_alias_is_a_compile_error() {
    let d = db();
    let e = compile_err(select(d.cars.c("car_id")).select_from(&d.cars).join_on(&d.cars, d.cars.c("car_id").eq(1)));
    assert!(e.contains("alias"), "{e}");
    let e = compile_err(select(d.owners.c("id")).join(&d.cars).join(&d.cars));
    assert!(e.contains("alias"), "{e}");
}

/// Rows given to `insert().rows()` with repeated keys compared equal to rows with other keys, silently dropping
/// a value.
#[test]
fn insert_rows_with_repeated_keys_are_refused() {
    let d = db();
    let mut a = Params::named_with_capacity(2);
    a.push_named("make", &"A");
    a.push_named("make", &"B");
    let e = compile_err(d.cars.insert().rows([a, named_params! {"make" => "C", "year" => 2000}]));
    assert!(e.contains("make"), "{e}");
}

/// Two different tables with the same name and columns compared equal but hashed differently.
#[test]
fn equal_tables_hash_equal() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let h = |t: &Table| {
        let mut s = DefaultHasher::new();
        t.hash(&mut s);
        s.finish()
    };
    let (m1, m2) = (MetaData::new(), MetaData::new());
    let a = Table::new("t", &m1, [Column::new("x", Integer)]);
    let b = Table::new("t", &m2, [Column::new("x", Integer)]);
    assert!(a != b || h(&a) == h(&b), "Eq and Hash disagree");
}

async fn engine_with_cars() -> (Engine, Table) {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let cars = Table::new("cars", &meta, [Column::new("car_id", Integer).primary_key(), Column::new("make", Text)]);
    engine.create_all(&meta).await.unwrap();
    (engine, cars)
}

/// A savepoint handle outliving its transaction was rolled back in the next transaction on drop: savepoint names
/// came from a depth counter (reset at commit), so it rolled back a newer savepoint of the same name and lost
/// its rows.
#[tokio::test]
async fn savepoint_dropped_after_its_transaction_ended_touches_nothing() {
    let (engine, cars) = engine_with_cars().await;
    let conn = engine.begin().await.unwrap();
    let old = conn.begin_nested().await.unwrap();
    conn.commit().await.unwrap();
    let new = conn.begin_nested().await.unwrap();
    conn.execute(cars.insert().value("make", "kept")).await.unwrap();
    drop(old);
    conn.execute(cars.insert().value("make", "also kept")).await.unwrap();
    new.commit().await.unwrap();
    conn.commit().await.unwrap();
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await.unwrap();
    assert_eq!(n, 2);
    // Finishing a savepoint of an ended transaction is an error, not a statement on the next one.
    let conn = engine.begin().await.unwrap();
    let sp = conn.begin_nested().await.unwrap();
    conn.rollback().await.unwrap();
    conn.begin().await.unwrap();
    let e = sp.rollback().await.unwrap_err();
    assert!(matches!(e, Error::Closed(_)), "{e}");
    conn.commit().await.unwrap();
}

/// `execute_with(text("SELECT ?"), params![1, 2])` bound the first value and silently dropped the second.
#[tokio::test]
async fn extra_positional_parameters_are_an_error() {
    let (engine, _cars) = engine_with_cars().await;
    let conn = engine.connect().await.unwrap();
    let e = conn.execute_with(text("SELECT ?"), params![1, 2]).await.unwrap_err();
    assert!(matches!(e, Error::Params(_)), "{e}");
    assert!(e.to_string().contains("takes 1 positional parameter, 2 given"), "{e}");
    let e = conn.execute_with(text("SELECT :a"), params![1]).await.unwrap_err();
    assert!(matches!(e, Error::Params(_)), "{e}");
    let v: i64 = conn.scalar_with(text("SELECT ? + ?"), params![1, 2]).await.unwrap();
    assert_eq!(v, 3);
}

/// A column whose name starts with `$`, `:` or `@` could not be inserted from parameters: the key lost its first
/// character as if it were a parameter prefix, and the column was "unknown".
#[tokio::test]
async fn insert_from_params_into_a_column_named_with_a_prefix_character() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let t = Table::new("prices", &meta, [Column::new("$price", Integer), Column::new("@at", Text)]);
    engine.create_all(&meta).await.unwrap();
    let conn = engine.begin().await.unwrap();
    conn.execute_with(t.insert(), named_params! {"$price" => 5, "@at" => "noon"}).await.unwrap();
    conn.execute_many(t.insert(), vec![named_params! {"$price" => 6, "@at" => "dusk"}]).await.unwrap();
    conn.execute(t.insert().rows([named_params! {"$price" => 7, "@at" => "dawn"}])).await.unwrap();
    conn.execute(t.update().values(named_params! {"$price" => 8}).where_(t.c("@at").eq("dawn"))).await.unwrap();
    let r = conn.execute(select(t.c("$price")).order_by(t.c("$price"))).await.unwrap();
    assert_eq!(r.scalars::<i64>().unwrap(), [5, 6, 8]);
    conn.commit().await.unwrap();
}

/// `INSERT ... DEFAULT VALUES ON CONFLICT ...` is a syntax error on SQLite; it was written anyway.
#[test]
fn upsert_after_default_values_is_a_compile_error() {
    let d = db();
    let e = compile_err(d.owners.insert().on_conflict_do_nothing(["id"]));
    assert!(e.contains("DEFAULT VALUES"), "{e}");
}

/// An empty `or_()` or `and_()` as an ORDER BY / GROUP BY term was written `0` / `1`, which SQLite reads as a
/// result column number: an error for 0, a silent sort by the first column for 1. Found by fuzzing: SQLite also
/// folds `x IN () AND y` to the integer 0, so an empty IN list is written as an empty select.
#[test]
fn constant_order_by_term_is_not_a_column_number() {
    let d = db();
    let r = run(
        &d,
        select((d.cars.c("make"), d.cars.c("car_id")))
            .order_by((and_(Vec::<Expr>::new()).desc(), d.cars.c("car_id").desc())),
        "SELECT cars.make, cars.car_id FROM cars ORDER BY 1 = 1 DESC, cars.car_id DESC",
    );
    assert_eq!(ints(&r, 1), [3, 2, 1]);
    run(
        &d,
        select(func::count_star()).select_from(&d.cars).group_by(-(-or_(Vec::<Expr>::new()))),
        "SELECT count(*) FROM cars GROUP BY -(-(1 != 1))",
    );
    let r = run(
        &d,
        select(func::count_star())
            .select_from(&d.cars)
            .group_by(d.cars.c("year").in_(Vec::<i64>::new()) & d.cars.c("make").is_not_null()),
        "SELECT count(*) FROM cars GROUP BY cars.year IN (SELECT 1 FROM (SELECT 1) WHERE 1 != 1) AND cars.make IS \
         NOT NULL",
    );
    assert_eq!(ints(&r, 0), [3]);
}

/// The `WHERE true` that lets SQLite parse `INSERT ... SELECT ... ON CONFLICT` named a column when the select's
/// table had one called "true", and filtered by it.
#[test]
fn insert_select_upsert_where_is_not_a_column_named_true() {
    let d = db();
    let meta = MetaData::new();
    let src = Table::new("src", &meta, [Column::new("name", Text), Column::new("true", Integer)]);
    meta.create_all(&d.conn).unwrap();
    d.conn.execute_batch("INSERT INTO src VALUES ('Cy', 0)").unwrap();
    run(
        &d,
        d.owners.insert().from_select(["name"], select(src.c("name"))).on_conflict_do_nothing(Vec::<String>::new()),
        "INSERT INTO owners (name) SELECT src.name FROM src WHERE 1 ON CONFLICT DO NOTHING",
    );
    let n: i64 = d.conn.query_one("SELECT count(*) FROM owners WHERE name = 'Cy'", ()).unwrap().get(0).unwrap();
    assert_eq!(n, 1);
}

/// Columns of a RETURNING clause are written without their table name, and so were the columns of a subquery
/// inside it: `(SELECT make FROM cars AS c, cars ...)` became ambiguous or named the wrong table.
#[test]
fn subquery_in_returning_keeps_qualified_columns() {
    let d = db();
    let n = select(func::count_star()).select_from(&d.owners).where_(d.owners.c("id").eq(2)).scalar_subquery();
    let r = run(
        &d,
        d.cars
            .update()
            .set("mileage", 1)
            .where_(d.cars.c("car_id").eq(2))
            .returning((d.cars.c("car_id"), n.label("n"))),
        "UPDATE cars SET mileage = ? WHERE cars.car_id = ? RETURNING car_id, (SELECT count(*) FROM owners WHERE \
         owners.id = ?) AS n",
    );
    assert_eq!(ints(&r, 1), [1]);
}

/// A table named only in ORDER BY, GROUP BY or HAVING was left out of FROM, so SQLite reported a missing
/// column.
#[test]
fn table_named_only_in_order_by_is_in_from() {
    let d = db();
    let r = run(&d, select(lit(1)).order_by(d.cars.c("car_id")), "SELECT ? FROM cars ORDER BY cars.car_id");
    assert_eq!(r.len(), 3);
}

/// SQLite cannot resolve an enclosing query's column in a subquery's ORDER BY or GROUP BY: a clear error rather
/// than "no such column".
#[test]
fn outer_column_in_subquery_order_by_is_a_compile_error() {
    let d = db();
    let sub = select(d.cars.c("car_id"))
        .where_(d.cars.c("owner_id").eq(d.owners.c("id")))
        .order_by(d.owners.c("name"))
        .limit(1)
        .scalar_subquery();
    let e = compile_err(select((d.owners.c("id"), sub.label("first"))));
    assert!(e.contains("\"owners\" of the enclosing query"), "{e}");
}

/// SQLite resolves a select's GROUP BY and ORDER BY, and every subquery in them however deep, against that
/// select's FROM only: a subquery in the ORDER BY of a DELETE's (or a SELECT's) subquery that named the DELETE's
/// table, in its WHERE or in a join's ON clause, compiled to SQL that failed with "no such column" (found by
/// fuzzing). It is a compile error; a subquery
/// there naming the ordering select's own table, and HAVING naming the enclosing query, still work.
#[test]
fn outer_column_in_subquery_inside_order_by_is_a_compile_error() {
    let d = db();
    let first_car = |outer: &Table| {
        let c2 = d.cars.alias("c2");
        select(c2.c("car_id")).where_(c2.c("owner_id").eq(outer.c("id"))).limit(1).scalar_subquery()
    };
    // Under a DELETE: the nested subquery names the DELETE's target.
    let middle = select(d.cars.c("car_id")).where_(d.cars.c("owner_id").eq(d.owners.c("id")));
    let e = compile_err(d.owners.delete().where_(middle.clone().order_by(first_car(&d.owners)).exists()));
    assert!(e.contains("cannot name \"owners\" of a query enclosing"), "{e}");
    // In GROUP BY, under a SELECT, two subqueries deep.
    let deeper = select(d.cars.c("car_id")).where_(select(lit(1)).where_(first_car(&d.owners).is_not_null()).exists());
    let e = compile_err(select((d.owners.c("id"), middle.clone().group_by(deeper.scalar_subquery()).exists())));
    assert!(e.contains("cannot name \"owners\" of a query enclosing"), "{e}");
    // In the ON clause of a join in a subquery in ORDER BY.
    let (c2, o2) = (d.cars.alias("c2"), d.owners.alias("o2"));
    let joined = select(c2.c("car_id")).select_from(&c2).join_on(&o2, o2.c("id").eq(d.owners.c("id"))).limit(1);
    let e = compile_err(d.owners.delete().where_(middle.clone().order_by(joined.scalar_subquery()).exists()));
    assert!(e.contains("cannot name \"owners\" of a query enclosing"), "{e}");

    // A subquery in the ORDER BY naming the ordering select's own table, and HAVING naming the enclosing query.
    let o2 = d.owners.alias("o2");
    let by_owner = select(o2.c("name")).where_(o2.c("id").eq(d.cars.c("owner_id"))).scalar_subquery();
    let sub = middle.order_by(by_owner).limit(1).scalar_subquery();
    let r = run(
        &d,
        select((d.owners.c("id"), sub)).order_by(d.owners.c("id")),
        "SELECT owners.id, (SELECT cars.car_id FROM cars WHERE cars.owner_id = owners.id ORDER BY (SELECT o2.name \
         FROM owners AS o2 WHERE o2.id = cars.owner_id) LIMIT ?) FROM owners ORDER BY owners.id",
    );
    assert_eq!(ints(&r, 1), [1, 2]);
    let having = select(func::count(d.cars.c("car_id")))
        .group_by(d.cars.c("owner_id"))
        .having(d.cars.c("owner_id").eq(d.owners.c("id")))
        .scalar_subquery();
    let r = run(
        &d,
        select((d.owners.c("id"), having)).order_by(d.owners.c("id")),
        "SELECT owners.id, (SELECT count(cars.car_id) FROM cars GROUP BY cars.owner_id HAVING cars.owner_id = \
         owners.id) FROM owners ORDER BY owners.id",
    );
    assert_eq!(ints(&r, 1), [2, 1]);
}

/// Column counts SQLite checks at prepare time are checked when compiling, with a message that says which.
#[test]
fn mismatched_column_counts_are_compile_errors() {
    let d = db();
    let e = compile_err(union(select((d.cars.c("car_id"), d.cars.c("make"))), select(d.owners.c("id"))));
    assert!(e.contains("same number of columns: 2 and 1"), "{e}");
    let e = compile_err(d.owners.insert().from_select(["id", "name"], select(d.cars.c("make"))));
    assert!(e.contains("names 2 column(s) but the select returns 1"), "{e}");
    let e = compile_err(select(select((d.cars.c("car_id"), d.cars.c("make"))).scalar_subquery()));
    assert!(e.contains("exactly one column"), "{e}");
    let e = compile_err(select(d.owners.c("id")).where_(d.owners.c("id").in_query(select(&d.cars))));
    assert!(e.contains("1 value(s) with a select of 5 column(s)"), "{e}");
}

/// A compound's ORDER BY on a column named with `$` went through the text() parser, which refused it as a
/// `$name` parameter; a term that is not a result column produced SQL SQLite refused, and so did a bare name
/// that two sources of the first select have (found by fuzzing).
#[test]
fn compound_order_by_names_result_columns() {
    let d = db();
    let meta = MetaData::new();
    let t = Table::new("t", &meta, [Column::new("a$b", Integer)]);
    meta.create_all(&d.conn).unwrap();
    d.conn.execute_batch("INSERT INTO t VALUES (2), (1)").unwrap();
    let r = run(
        &d,
        union_all(select(t.c("a$b")), select(t.c("a$b"))).order_by(t.c("a$b").desc()),
        "SELECT t.a$b FROM t UNION ALL SELECT t.a$b FROM t ORDER BY t.a$b DESC",
    );
    assert_eq!(ints(&r, 0), [2, 2, 1, 1]);
    let e = compile_err(union(select(d.cars.c("car_id")), select(d.owners.c("id"))).order_by(d.cars.c("year")));
    assert!(e.contains("\"year\" is not one of"), "{e}");
    let a = d.cars.alias("a");
    let r = run(
        &d,
        union(
            select(a.c("car_id")).select_from(&a).join_on(&d.cars, d.cars.c("car_id").eq(a.c("car_id"))),
            select(d.owners.c("id")),
        )
        .order_by(a.c("car_id").desc()),
        "SELECT a.car_id FROM cars AS a JOIN cars ON cars.car_id = a.car_id UNION SELECT owners.id FROM owners \
         ORDER BY a.car_id DESC",
    );
    assert_eq!(ints(&r, 0), [3, 2, 1]);
    // Found by fuzzing: an unnamed result column ("") matched a column named "".
    let blank = Table::new("blank", &meta, [Column::new("", Integer)]);
    let e = compile_err(union(select(lit(1)), select(lit(2))).order_by(blank.c("")));
    assert!(e.contains("is not one of"), "{e}");
    let e = compile_err(union(select(blank.c("")), select(lit(2))).order_by(blank.c("")));
    assert!(e.contains("is not one of"), "{e}");
}

/// A NUL in a name cut the SQL short where SQLite stopped reading it.
#[test]
fn nul_in_a_name_is_a_compile_error() {
    let d = db();
    let e = compile_err(select(d.cars.c("make").label("a\0b")));
    assert!(e.contains("NUL"), "{e}");
}

/// Found by fuzzing: SQLite reads `AS ""` as no alias, and does not resolve a column named "" in every clause:
/// empty names are refused when compiling and when creating tables.
#[test]
fn empty_names_are_compile_errors() {
    let d = db();
    let a = d.cars.alias("");
    let e = compile_err(select(a.c("make")));
    assert!(e.contains("cannot be empty"), "{e}");
    let e = compile_err(select(select(d.cars.c("make")).subquery("").c("make")));
    assert!(e.contains("cannot be empty"), "{e}");
    let e = compile_err(select(d.cars.c("make").label("")));
    assert!(e.contains("cannot be empty"), "{e}");
    let meta = MetaData::new();
    let t = Table::new("blank", &meta, [Column::new("", Integer)]);
    let e = meta.create_all(&d.conn).unwrap_err();
    assert!(matches!(e, Error::Compile(_)) && e.to_string().contains("cannot be empty"), "{e:?}");
    compile_err(select(&t));
}

/// Found by fuzzing: an alias named like another table in the same SELECT was merged with it (FROM sources were
/// told apart by name only), so the alias's columns were looked up in the other table.
#[test]
fn two_sources_with_one_name_are_a_compile_error() {
    let d = db();
    let a = d.owners.alias("cars");
    let e = compile_err(select((d.cars.c("make"), a.c("name"))));
    assert!(e.contains("two different sources are named \"cars\""), "{e}");
    let e = compile_err(select(d.cars.c("make")).join_on(&a, a.c("id").eq(d.cars.c("owner_id"))));
    assert!(e.contains("\"cars\""), "{e}");
}

/// Found by fuzzing: an ON clause naming a table that is not in the statement produced SQL SQLite refused.
#[test]
fn join_on_naming_a_table_outside_the_statement_is_a_compile_error() {
    let d = db();
    let other = d.owners.alias("o2");
    let e = compile_err(select(d.cars.c("make")).join_on(&d.owners, d.owners.c("id").eq(other.c("id"))));
    assert!(e.contains("names \"o2\", which is not in the statement's FROM"), "{e}");
}

/// A commit or rollback whose future is dropped while the worker ends the transaction leaves no transaction open
/// on the connection: `in_transaction()` must not go on saying there is one.
#[test]
fn a_dropped_commit_or_rollback_does_not_leave_the_connection_in_a_transaction() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // Without spinning, a call sent to a worker is not ready at its first poll.
        let pool = asqlite::Pool::builder().readers(1).spin(false).open(dir.path().join("drop.db")).await.unwrap();
        let engine = Engine::from_pool(pool);
        let conn = engine.connect().await.unwrap();
        conn.execute(text("CREATE TABLE t (x INTEGER)")).await.unwrap();
        conn.commit().await.unwrap();
        let mut pending = 0;
        for (i, commit) in [true, false, true, false, true, false].into_iter().enumerate() {
            conn.execute(text(&format!("INSERT INTO t VALUES ({i})"))).await.unwrap();
            assert!(conn.in_transaction());
            {
                let mut end: std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + '_>> =
                    if commit { Box::pin(conn.commit()) } else { Box::pin(conn.rollback()) };
                let mut cx = Context::from_waker(Waker::noop());
                if end.as_mut().poll(&mut cx).is_pending() {
                    pending += 1;
                }
            }
            // Whatever became of it, the worker is done with it before the next call on the writer.
            engine.pool().call(|_| Ok(())).await.unwrap();
            assert!(!conn.in_transaction(), "attempt {i}: a transaction is reported open after its end was dropped");
        }
        assert!(pending > 0, "no end was still running when dropped");
        engine.dispose().await.unwrap();
    });
}

/// Run `f` on a thread with a 2 MiB stack (a tokio worker's default) and return what it returns; a stack overflow
/// there aborts the whole test binary.
fn on_a_2_mib_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
}

/// The three shapes a program nests deep by building in a loop: `((x + 1) + 1) + ...`, `x > 0 AND (x > 0 AND
/// (...))` and `NOT NOT ... x`, `levels` deep.
fn deep_expressions(x: &Expr, levels: usize) -> [Expr; 3] {
    let (mut plus, mut and, mut not) = (x.clone(), x.clone(), x.clone());
    for _ in 0..levels {
        plus = plus + 1;
        and = x.clone().gt(0).and(and);
        not = not_(not);
    }
    [plus, and, not]
}

/// An expression nested 20,000 deep (built in a loop) overflowed the stack and aborted the process: compiling it,
/// hashing it for the engine's statement cache, cloning, `Debug`-printing and dropping it all recursed once per
/// level, and the compiler took 6 KiB a level (300 levels filled a 2 MiB thread). Past SQLite's limit on
/// expression depth (1000) compiling is an error; the rest works at any depth, on a 2 MiB thread.
#[test]
fn an_expression_nested_twenty_thousand_deep_is_an_error_not_a_stack_overflow() {
    let errors = on_a_2_mib_stack(|| {
        let meta = MetaData::new();
        let t = Table::new("t", &meta, [Column::new("x", Integer)]);
        let mut errors = Vec::new();
        for e in deep_expressions(&t.c("x"), 20_000) {
            let copy = e.clone();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&copy, &mut h);
            let shown = format!("{copy:?}");
            assert!(shown.ends_with(')') && shown.contains(".."), "Debug stops at a depth: {}", &shown[..80]);
            drop(copy);
            errors.push(compile_err(select(t.c("x")).where_(e.clone())));
            errors.push(compile_err(select(e.clone().label("deep"))));
            // Through an engine: its statement cache hashes the statement's shape before compiling it.
            let engine = futures::executor::block_on(create_async_engine("sqlite://")).unwrap();
            let r = futures::executor::block_on(async {
                let conn = engine.connect().await?;
                conn.execute(select(t.c("x")).where_(e)).await
            });
            errors.push(r.map(|_| ()).unwrap_err().to_string());
            futures::executor::block_on(engine.dispose()).unwrap();
        }
        errors
    });
    for e in errors {
        assert!(e.contains("deeper than 1000 levels"), "{e}");
    }
}

/// The depth limit is where SQLite's is, and the compiler fits under it: an expression just under 1000 levels
/// compiles on a 2 MiB thread (unoptimized, too) and runs.
#[test]
fn an_expression_just_under_the_depth_limit_compiles_on_a_2_mib_stack_and_runs() {
    let years = on_a_2_mib_stack(|| {
        let d = db();
        // The select is one level, `> 0` another, then 995 additions and the column: 998 levels.
        let [plus, and, not] = deep_expressions(&d.cars.c("year"), 995);
        for e in [and, not] {
            select(d.cars.c("car_id")).where_(e).compile().unwrap();
        }
        let r = run(
            &d,
            select(d.cars.c("year")).where_(plus.gt(0)).order_by(d.cars.c("car_id")),
            &format!("SELECT cars.year FROM cars WHERE {}cars.year{} > ? ORDER BY cars.car_id", "", " + ?".repeat(995)),
        );
        // One level deeper than the limit is refused.
        let [plus, ..] = deep_expressions(&d.cars.c("year"), 998);
        let e = compile_err(select(d.cars.c("year")).where_(plus.gt(0)));
        assert!(e.contains("deeper than 1000 levels"), "{e}");
        ints(&r, 0)
    });
    assert_eq!(years, [2012, 2020, 2019]);
}

/// The expressions that nest through COLLATE, FILTER, a window's function, PARTITION BY and ORDER BY, and ANY/ALL,
/// `levels` deep (three levels a step for the window).
fn deep_windows_and_collations(x: &Expr, levels: usize) -> [Expr; 5] {
    let (mut collate, mut window, mut partition, mut order, mut any) =
        (x.clone(), x.clone(), x.clone(), x.clone(), x.clone());
    for _ in 0..levels {
        collate = collate.collate("nocase");
        window = func::max(window).filter(x.clone().gt(0)).over((), ());
        partition = func::row_number().over(partition, ());
        order = func::row_number().over((), order.desc());
        any = any_(x.clone().eq(any));
    }
    [collate, window, partition, order, any]
}

/// The expressions added with the SQLAlchemy spellings (`collate`, `filter`, `over`, `any_`/`all_`) hold child
/// expressions too: nested 20,000 deep through them, cloning, hashing, printing and dropping work on a 2 MiB thread
/// and compiling is an error, as for the other expressions.
#[test]
fn windows_filters_collations_and_any_nested_twenty_thousand_deep_are_not_a_stack_overflow() {
    let errors = on_a_2_mib_stack(|| {
        let meta = MetaData::new();
        let t = Table::new("t", &meta, [Column::new("x", Integer)]);
        let mut errors = Vec::new();
        for e in deep_windows_and_collations(&t.c("x"), 20_000) {
            let copy = e.clone();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&copy, &mut h);
            let shown = format!("{copy:?}");
            assert!(shown.contains(".."), "Debug stops at a depth: {}", &shown[..80]);
            drop(copy);
            errors.push(compile_err(select(e.label("deep"))));
        }
        errors
    });
    let (any, rest) = errors.split_last().unwrap();
    for e in rest {
        assert!(e.contains("deeper than 1000 levels"), "{e}");
    }
    assert!(any.contains("ANY (any_/all_) cannot be expressed on sqlite"), "{any}");
}

/// Just under the depth limit, expressions nested through the new writers (COLLATE, FILTER, OVER) compile on a
/// 2 MiB thread.
#[test]
fn windows_filters_and_collations_just_under_the_depth_limit_compile_on_a_2_mib_stack() {
    on_a_2_mib_stack(|| {
        let d = db();
        // The select, the label and the column are three levels, and 996 more: 996 steps of one for COLLATE and
        // for OVER through PARTITION BY, 332 steps of three for the window (OVER, FILTER, the function), 498 steps
        // of two for OVER through ORDER BY (OVER, the ordering).
        let [collate, _, partition, ..] = deep_windows_and_collations(&d.cars.c("year"), 996);
        let [_, window, ..] = deep_windows_and_collations(&d.cars.c("year"), 332);
        let [_, _, _, order, _] = deep_windows_and_collations(&d.cars.c("year"), 498);
        for e in [collate, window, partition, order] {
            let c = select(e.label("deep")).compile().unwrap();
            assert!(c.sql().starts_with("SELECT "), "{}", &c.sql()[..40]);
        }
        // A level more is refused.
        let [collate, ..] = deep_windows_and_collations(&d.cars.c("year"), 998);
        assert!(compile_err(select(collate.label("deep"))).contains("deeper than 1000 levels"));
    });
}

/// `order_by("year")` compiled to `ORDER BY ?`: a bound string, the same for every row, so the rows came back in
/// whatever order SQLite read them. A string there names a label or column of the statement.
#[test]
fn order_by_a_string_was_a_bound_literal_that_ordered_nothing() {
    let d = db();
    let r = run(&d, select(d.cars.c("car_id")).order_by("year"), "SELECT cars.car_id FROM cars ORDER BY cars.year");
    assert_eq!(ints(&r, 0), [1, 3, 2]);
    let r = run(
        &d,
        select(d.cars.c("car_id")).order_by(asqlite_query::expr::desc("mileage")),
        "SELECT cars.car_id FROM cars ORDER BY cars.mileage DESC",
    );
    assert_eq!(ints(&r, 0), [1, 2, 3]);
    assert!(compile_err(select(d.cars.c("car_id")).order_by("colour")).contains("text(\"colour\")"));
}

/// `group_by("make")` compiled to `GROUP BY ?`: every row in one group, so `count(*)` counted the whole table.
#[test]
fn group_by_a_string_was_a_bound_literal_that_made_one_group() {
    let d = db();
    let r = run(
        &d,
        select((d.cars.c("owner_id"), func::count_star().label("n"))).group_by("owner_id").order_by("owner_id"),
        "SELECT cars.owner_id, count(*) AS n FROM cars GROUP BY cars.owner_id ORDER BY cars.owner_id",
    );
    assert_eq!(ints(&r, 1), [2, 1]);
}

/// `where_("year > 2015")` compiled to `WHERE ?`: a non-empty string is a true value to SQLite... or a false one
/// ('year > 2015' reads as 0), silently: every row or none. A string condition is an error pointing to text().
#[test]
fn where_a_string_was_a_bound_literal_that_filtered_nothing() {
    let d = db();
    let e = compile_err(select(d.cars.c("car_id")).where_("year > 2015"));
    assert!(e.contains("WHERE") && e.contains("text(\"year > 2015\")"), "{e}");
    let e = compile_err(select(d.cars.c("car_id")).group_by(d.cars.c("owner_id")).having("count(*) > 1"));
    assert!(e.contains("HAVING"), "{e}");
    let r = run(
        &d,
        select(d.cars.c("car_id")).where_(text("year > 2015")).order_by("car_id"),
        "SELECT cars.car_id FROM cars WHERE year > 2015 ORDER BY cars.car_id",
    );
    assert_eq!(ints(&r, 0), [2, 3]);
}

/// `cars.c("make") + " #"` compiled to `cars.make + ?`, which SQLite evaluates as numbers: 0 for every row. On a
/// string column `+` is concatenation, as SQLAlchemy renders it.
#[test]
fn plus_on_a_text_column_was_arithmetic_that_made_zero() {
    let d = db();
    let r = run(
        &d,
        select(d.cars.c("make") + " #").where_(d.cars.c("car_id").eq(1)),
        "SELECT cars.make || ? FROM cars WHERE cars.car_id = ?",
    );
    assert_eq!(r.first().unwrap().get::<String>(0).unwrap(), "Honda Civic #");
}

/// Strings in ORDER BY are part of a statement's shape: the compiled-statement cache must not hand the SQL of
/// `order_by("year")` to `order_by("mileage")` (a literal's value is not part of the shape, a name is).
#[tokio::test]
async fn names_in_order_by_are_part_of_the_cached_shape() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let cars = Table::new(
        "cars",
        &meta,
        [Column::new("make", Text), Column::new("year", Integer), Column::new("mileage", Integer)],
    );
    engine.create_all(&meta).await.unwrap();
    let conn = engine.begin().await.unwrap();
    for (make, year, mileage) in [("a", 2001, 30), ("b", 2003, 10), ("c", 2002, 20)] {
        conn.execute(cars.insert().value("make", make).value("year", year).value("mileage", mileage)).await.unwrap();
    }
    conn.commit().await.unwrap();
    let by = |col: &str| select(cars.c("make")).order_by(col.to_owned());
    let conn = engine.connect().await.unwrap();
    let r = conn.execute(by("year")).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["a", "c", "b"]);
    let r = conn.execute(by("mileage")).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["b", "c", "a"]);
    // A value in WHERE is not: the same shape, one compilation.
    let before = engine.cache_stats();
    for m in ["a", "b", "c"] {
        conn.execute(select(cars.c("year")).where_(cars.c("make").eq(m))).await.unwrap();
    }
    let after = engine.cache_stats();
    assert_eq!((after.misses - before.misses, after.hits - before.hits), (1, 2));
}

/// `cast(x, Date)` compiled to `CAST(x AS DATE)`, which SQLite reads by affinity (NUMERIC for DATE, DATETIME and
/// JSON): '2012-06-01' became the integer 2012 and a JSON object 0. Dates and JSON are stored as text, so the cast
/// is to TEXT.
#[test]
fn cast_to_date_turned_the_date_into_a_number() {
    let d = db();
    let r = run(
        &d,
        select((cast("2012-06-01", Date), cast(lit("{\"a\": 1}"), Json))),
        "SELECT CAST(? AS TEXT), CAST(? AS TEXT)",
    );
    let row = r.first().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "2012-06-01");
    assert_eq!(row.get::<String>(1).unwrap(), "{\"a\": 1}");
}

/// After the merge of the value types with the operator types: `cast(x, Time)` wrote `CAST(x AS TIME)`, which
/// SQLite reads with NUMERIC affinity ('12:30:00' became 12), as DATE did before; and `+` on a part of a JSON value
/// (`->>`, whose type is whatever the JSON holds) added, so a string part plus a string was 0. A time is stored as
/// text, so the cast is to TEXT; a JSON part is of no known type, so `+` with text concatenates.
#[test]
fn cast_to_time_and_plus_on_a_json_part_follow_what_is_stored() {
    let d = db();
    let r = run(&d, select(cast("12:30:00", Time)), "SELECT CAST(? AS TEXT)");
    assert_eq!(r.first().unwrap().get::<String>(0).unwrap(), "12:30:00");

    let meta = MetaData::new();
    let docs = Table::new("docs", &meta, [Column::new("id", Integer).primary_key(), Column::new("doc", Json)]);
    meta.create_all(&d.conn).unwrap();
    d.conn.execute("INSERT INTO docs VALUES (1, ?1)", ("{\"make\": \"Kia\", \"n\": 2}",)).unwrap();
    let doc = || docs.c("doc");
    let r = run(
        &d,
        select((doc().json_get_value("make") + " #", doc().json_get_value("n") + 1)),
        "SELECT docs.doc ->> ? || ?, docs.doc ->> ? + ? FROM docs",
    );
    let row = r.first().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "Kia #");
    assert_eq!(row.get::<i64>(1).unwrap(), 3);
}
