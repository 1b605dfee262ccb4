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

/// An empty IN list on a tuple is written as a constant, but the tuple's literals still added parameter slots
/// with no `?` for them: SQLite refused the statement (or bound values to the wrong placeholders).
#[test]
fn empty_tuple_in_list_adds_no_parameters() {
    let d = db();
    let c = select(d.cars.c("car_id"))
        .where_(tuple([d.cars.c("year"), lit(5)]).in_(Vec::<Expr>::new()) | d.cars.c("car_id").eq(2))
        .compile()
        .unwrap();
    assert_eq!(c.sql(), "SELECT cars.car_id FROM cars WHERE 0 OR cars.car_id = ?");
    assert_eq!(c.slots().len(), 1);
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
