//! The blocking layer against real database files.

use asqlite::blocking::{Connection, OpenOptions, TransactionBehavior};
use asqlite::{named_params, params, ErrorKind, Params, Value};

use crate::common::temp_db;

fn cars(conn: &Connection) {
    conn.execute_batch(
        "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT NOT NULL UNIQUE, year INTEGER CHECK (year > 1885),
                            mileage INTEGER);
         CREATE TABLE owners (id INTEGER PRIMARY KEY, car_id INTEGER REFERENCES cars(car_id));
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
}

#[test]
fn every_type_round_trips() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (v)").unwrap();
    let values = vec![
        Value::Integer(i64::MIN),
        Value::Integer(i64::MAX),
        Value::Integer(0),
        Value::Real(-1.5e300),
        Value::Real(f64::MIN_POSITIVE),
        Value::Text(String::new()),
        Value::Text("héllo wörld ✓ 日本語 🚗".into()),
        Value::Text("nul\0inside".into()),
        Value::Blob(Vec::new()),
        Value::Blob(vec![0, 1, 2, 255, 0]),
        Value::Null,
    ];
    for v in &values {
        conn.execute("INSERT INTO t (v) VALUES (?1)", params![v]).unwrap();
    }
    let back: Vec<Value> = conn.query_map("SELECT v FROM t ORDER BY rowid", (), |r| r.get(0)).unwrap();
    assert_eq!(back, values);

    // Typed reads of the same rows.
    let get = |sql: &str| conn.query_one(sql, ()).unwrap();
    assert_eq!(get("SELECT v FROM t WHERE rowid = 1").get::<i64>(0).unwrap(), i64::MIN);
    assert_eq!(get("SELECT v FROM t WHERE rowid = 2").get::<i64>(0).unwrap(), i64::MAX);
    assert_eq!(get("SELECT v FROM t WHERE rowid = 6").get::<String>(0).unwrap(), "");
    assert_eq!(get("SELECT v FROM t WHERE rowid = 8").get::<String>(0).unwrap(), "nul\0inside");
    assert_eq!(get("SELECT v FROM t WHERE rowid = 9").get::<Vec<u8>>(0).unwrap(), Vec::<u8>::new());
    assert_eq!(get("SELECT v FROM t WHERE rowid = 11").get::<Option<String>>(0).unwrap(), None);
    assert_eq!(get("SELECT v FROM t WHERE rowid = 3").get::<Option<i64>>(0).unwrap(), Some(0));

    // Rust types in, Rust types out.
    conn.execute_batch("CREATE TABLE r (a, b, c, d, e, f, g)").unwrap();
    conn.execute(
        "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![true, 7u8, -3i16, 1.25f32, "str", vec![9u8], None::<i32>],
    )
    .unwrap();
    let row = conn.query_one("SELECT * FROM r", ()).unwrap();
    assert!(row.get::<bool>(0).unwrap());
    assert_eq!(row.get::<u8>(1).unwrap(), 7);
    assert_eq!(row.get::<i16>(2).unwrap(), -3);
    assert_eq!(row.get::<f32>(3).unwrap(), 1.25);
    assert_eq!(row.get::<String>("e").unwrap(), "str");
    assert_eq!(row.get::<Vec<u8>>("f").unwrap(), vec![9]);
    assert_eq!(row.get::<Option<i32>>("g").unwrap(), None);
}

#[test]
fn integers_out_of_range_are_errors() {
    let conn = Connection::open_in_memory().unwrap();
    let err = conn.execute("SELECT ?1", params![u64::MAX]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    assert!(err.message().contains("u64"), "{err}");
    let row = conn.query_one("SELECT 300", ()).unwrap();
    let err = row.get::<u8>(0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    assert!(err.message().contains("300") && err.message().contains("u8"), "{err}");
}

#[test]
fn type_conversion_error_names_column_and_types() {
    let conn = Connection::open_in_memory().unwrap();
    let err = conn.query_row("SELECT 'abc' AS make", (), |r| r.get::<i64>(0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    let msg = err.to_string();
    assert!(msg.contains("make") && msg.contains("TEXT") && msg.contains("i64"), "{msg}");
}

#[test]
fn constraint_errors_carry_their_kind() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    cars(&conn);
    conn.execute("INSERT INTO cars (car_id, make, year) VALUES (1, 'Honda', 2012)", ()).unwrap();
    let cases = [
        ("INSERT INTO cars (make, year) VALUES ('Honda', 2013)", ErrorKind::UniqueViolation),
        ("INSERT INTO cars (car_id, make, year) VALUES (1, 'Kia', 2013)", ErrorKind::PrimaryKeyViolation),
        ("INSERT INTO cars (make, year) VALUES (NULL, 2013)", ErrorKind::NotNullViolation),
        ("INSERT INTO cars (make, year) VALUES ('Benz', 1800)", ErrorKind::CheckViolation),
        ("INSERT INTO owners (car_id) VALUES (42)", ErrorKind::ForeignKeyViolation),
    ];
    for (sql, kind) in cases {
        let err = conn.execute(sql, ()).unwrap_err();
        assert_eq!(err.kind(), kind, "{sql}: {err}");
        assert!(err.is_constraint());
        assert_eq!(err.code(), Some(19), "{sql}");
        assert_eq!(err.sql(), Some(sql));
    }
}

#[test]
fn syntax_error_carries_offset_and_sql() {
    let conn = Connection::open_in_memory().unwrap();
    let sql = "SELECT * FROM cars WHERE mileage >> > 3";
    let err = conn.query(sql, ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Syntax);
    assert_eq!(err.code(), Some(1));
    assert_eq!(err.sql(), Some(sql));
    assert!(err.offset().is_some(), "{err:?}");

    let err = conn.query("SELECT nope FROM sqlite_master", ()).unwrap_err();
    assert!(err.message().contains("no such column: nope"), "{err}");
    assert_eq!(err.offset(), Some(7));

    // Offsets in a batch point into the whole batch.
    let batch = "CREATE TABLE a (x); SELECT y FROM a;";
    let err = conn.execute_batch(batch).unwrap_err();
    assert_eq!(err.sql(), Some(batch));
    assert_eq!(err.offset(), Some(batch.find("y FROM").unwrap()));
}

#[test]
fn parameter_errors_are_clear() {
    let conn = Connection::open_in_memory().unwrap();
    let err = conn.query("SELECT ?1, ?2", params![1]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterCount);
    assert!(err.message().contains("2 parameters but 1"), "{err}");
    assert_eq!(conn.query("SELECT 1", params![1]).unwrap_err().kind(), ErrorKind::ParameterCount);
    assert_eq!(conn.query("SELECT ?", ()).unwrap_err().kind(), ErrorKind::ParameterCount);

    let err = conn.query("SELECT :a", named_params! {":b" => 1}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterName);
    assert!(err.message().contains(":a"), "{err}");
    let err = conn.query("SELECT :a", named_params! {"a" => 1, "zz" => 2}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterName);
    assert!(err.message().contains("zz"), "{err}");

    // Bare names match :, @ and $ placeholders.
    let row = conn.query_one("SELECT :a, @b, $c", named_params! {"a" => 1, "@b" => 2, "c" => 3}).unwrap();
    assert_eq!(row.values(), &[Value::Integer(1), Value::Integer(2), Value::Integer(3)]);
}

#[test]
fn bad_sql_shapes_are_errors_not_panics() {
    let conn = Connection::open_in_memory().unwrap();
    assert_eq!(conn.query("", ()).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(conn.query("  -- only a comment", ()).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(conn.query("SELECT 1; SELECT 2", ()).unwrap_err().kind(), ErrorKind::InvalidInput);
    // A trailing comment is not a second statement.
    assert_eq!(conn.query("SELECT 1; -- done", ()).unwrap().len(), 1);
    let err = conn.query_one("SELECT 1 WHERE 0", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoRows);
    assert!(conn.query_opt("SELECT 1 WHERE 0", ()).unwrap().is_none());
}

#[test]
fn transactions_commit_and_roll_back() {
    let (_dir, path) = temp_db();
    let mut conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    let count = |c: &Connection| c.query_row("SELECT count(*) FROM t", (), |r| r.get::<i64>(0)).unwrap();

    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).unwrap();
    tx.commit().unwrap();
    assert_eq!(count(&conn), 1);

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
    tx.execute("INSERT INTO t VALUES (2)", ()).unwrap();
    tx.rollback().unwrap();
    assert_eq!(count(&conn), 1);

    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive).unwrap();
        tx.execute("INSERT INTO t VALUES (3)", ()).unwrap();
        // dropped: rolled back
    }
    assert_eq!(count(&conn), 1);
    assert!(conn.is_autocommit());

    // Nested savepoints: the inner rolls back, the outer commits.
    let mut tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO t VALUES (4)", ()).unwrap();
    {
        let mut sp = tx.savepoint().unwrap();
        sp.execute("INSERT INTO t VALUES (5)", ()).unwrap();
        {
            let sp2 = sp.savepoint().unwrap();
            sp2.execute("INSERT INTO t VALUES (6)", ()).unwrap();
            assert_eq!(count(&sp2), 4);
            sp2.rollback().unwrap();
        }
        assert_eq!(count(&sp), 3);
        sp.commit().unwrap();
    }
    {
        let sp = tx.savepoint().unwrap();
        sp.execute("INSERT INTO t VALUES (7)", ()).unwrap();
        // dropped: rolled back to the savepoint
    }
    tx.commit().unwrap();
    let xs: Vec<i64> = conn.query_map("SELECT x FROM t ORDER BY x", (), |r| r.get(0)).unwrap();
    assert_eq!(xs, [1, 4, 5]);

    // A second connection sees the committed data on disk.
    let other = Connection::open(&path).unwrap();
    assert_eq!(count(&other), 3);
}

#[test]
fn cache_is_hit_on_second_prepare() {
    let conn = Connection::open_in_memory().unwrap();
    let before = conn.cache_stats();
    assert!(before.capacity >= 128);
    conn.query("SELECT 1 + ?1", params![1]).unwrap();
    let after_first = conn.cache_stats();
    assert_eq!(after_first.misses, before.misses + 1);
    conn.query("SELECT 1 + ?1", params![2]).unwrap();
    let after_second = conn.cache_stats();
    assert_eq!(after_second.hits, after_first.hits + 1);
    assert_eq!(after_second.misses, after_first.misses);
    assert_eq!(after_second.size, 1);

    // LRU: with room for two, the least recently used goes.
    conn.set_statement_cache_capacity(2);
    conn.query("SELECT 2", ()).unwrap();
    conn.query("SELECT 1 + ?1", params![1]).unwrap(); // hit, now most recent
    conn.query("SELECT 3", ()).unwrap(); // evicts SELECT 2
    let s = conn.cache_stats();
    conn.query("SELECT 1 + ?1", params![1]).unwrap();
    assert_eq!(conn.cache_stats().hits, s.hits + 1);
    conn.query("SELECT 2", ()).unwrap();
    assert_eq!(conn.cache_stats().misses, s.misses + 1);
}

#[test]
fn execute_many_is_all_or_nothing() {
    let (_dir, path) = temp_db();
    let mut conn = Connection::open(&path).unwrap();
    cars(&conn);
    let sql = "INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)";
    let n = conn.execute_many(sql, vec![params!["Honda", 2012, 1], params!["Kia", 2013, 2]]).unwrap();
    assert_eq!(n, 2);
    // The third set violates UNIQUE: nothing of this call may stay.
    let err = conn
        .execute_many(sql, vec![params!["Tesla", 2019, 3], params!["Fiat", 2000, 4], params!["Honda", 2001, 5]])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation);
    assert!(conn.is_autocommit());
    let makes: Vec<String> = conn.query_map("SELECT make FROM cars ORDER BY car_id", (), |r| r.get(0)).unwrap();
    assert_eq!(makes, ["Honda", "Kia"]);

    // Inside a transaction it uses a savepoint: the failure undoes only its own rows.
    let tx = conn.transaction().unwrap();
    tx.execute(sql, params!["Volvo", 2010, 9]).unwrap();
    let err = tx.execute_many(sql, vec![params!["Saab", 2011, 1], params![None::<String>, 2011, 1]]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotNullViolation);
    assert!(!tx.is_autocommit());
    tx.commit().unwrap();
    let makes: Vec<String> = conn.query_map("SELECT make FROM cars ORDER BY car_id", (), |r| r.get(0)).unwrap();
    assert_eq!(makes, ["Honda", "Kia", "Volvo"]);

    // A bad parameter set fails the whole call too.
    let err = conn.execute_many(sql, vec![params!["Audi", 2000, 1], params!["BMW"]]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterCount);
    assert_eq!(conn.query("SELECT * FROM cars", ()).unwrap().len(), 3);
}

#[test]
fn rows_display_as_a_table() {
    let conn = Connection::open_in_memory().unwrap();
    cars(&conn);
    conn.execute_many(
        "INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)",
        [params!["Honda Civic", 2012, 20_000], params!["Toyota Prius", 2020, None::<i64>]],
    )
    .unwrap();
    let rows = conn.query("SELECT * FROM cars", ()).unwrap();
    assert_eq!(rows.columns(), ["car_id", "make", "year", "mileage"]);
    assert_eq!(rows.len(), 2);
    let expected = concat!(
        "   car_id          make  year  mileage\n",
        "0       1   Honda Civic  2012    20000\n",
        "1       2  Toyota Prius  2020     None",
    );
    assert_eq!(rows.to_string(), expected);
}

#[test]
fn pragmas_read_and_update() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn.pragma_update_and_check("journal_mode", "WAL").unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(conn.pragma_query_value::<String>("journal_mode").unwrap(), "wal");
    conn.pragma_update("synchronous", "NORMAL").unwrap();
    assert_eq!(conn.pragma_query_value::<i64>("synchronous").unwrap(), 1);
    conn.pragma_update("user_version", 42).unwrap();
    assert_eq!(conn.pragma_query_value::<i64>("main.user_version").unwrap(), 42);
    conn.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)").unwrap();
    let info = conn.pragma("table_info", Some("cars")).unwrap();
    let names: Vec<String> = info.iter().map(|r| r.get("name").unwrap()).collect();
    assert_eq!(names, ["car_id", "make"]);
    let err = conn.pragma_update("user_version = 1; DROP TABLE cars; --", 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn open_options_are_honoured() {
    let (dir, path) = temp_db();
    // Missing file without create.
    let err = OpenOptions::new().create(false).open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CantOpen);
    assert!(err.to_string().contains("app.db"), "{err}");
    // Missing directory.
    let err = Connection::open(dir.path().join("no/such/dir/x.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CantOpen);

    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").unwrap();
    assert_eq!(conn.path().as_deref(), Some(path.to_str().unwrap()));

    let ro = OpenOptions::new().read_only(true).open(&path).unwrap();
    assert!(ro.is_readonly());
    assert_eq!(ro.query("SELECT x FROM t", ()).unwrap().len(), 1);
    let err = ro.execute("INSERT INTO t VALUES (2)", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly);

    let uri = format!("file:{}?mode=ro", path.display());
    let via_uri = OpenOptions::new().uri(true).open(&uri).unwrap();
    assert!(via_uri.is_readonly());

    let err = Connection::open("bad\0path").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn busy_timeout_gives_a_busy_error() {
    let (_dir, path) = temp_db();
    let mut a = Connection::open(&path).unwrap();
    a.execute_batch("CREATE TABLE t (x)").unwrap();
    let b = OpenOptions::new().busy_timeout(std::time::Duration::from_millis(50)).open(&path).unwrap();
    let tx = a.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
    let err = b.execute("INSERT INTO t VALUES (1)", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    tx.rollback().unwrap();
    b.execute("INSERT INTO t VALUES (1)", ()).unwrap();
}

#[test]
fn interrupt_handle_stops_a_running_query_and_survives_close() {
    let conn = Connection::open_in_memory().unwrap();
    let handle = conn.interrupt_handle();
    let h2 = handle.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        h2.interrupt();
    });
    let err = conn
        .query_row("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", (), |r| {
            r.get::<i64>(0)
        })
        .unwrap_err();
    t.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    // The connection works afterwards, and the handle is harmless after close.
    assert_eq!(conn.query_row("SELECT 1", (), |r| r.get::<i64>(0)).unwrap(), 1);
    drop(conn);
    handle.interrupt();
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&handle);
}

/// TEXT that is not UTF-8 neither panics nor fails the query: a `String` read of it is the error (see
/// `core_input::text_that_is_not_utf8_reads_as_bytes_or_lossy_text_not_an_error`).
#[test]
fn non_utf8_text_is_an_error_as_a_string_not_a_panic() {
    let conn = Connection::open_in_memory().unwrap();
    let rows = conn.query("SELECT CAST(x'ff00fe' AS TEXT)", ()).unwrap();
    let err = rows.first().unwrap().get::<String>(0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    assert!(err.message().contains("UTF-8"), "{err}");
    assert_eq!(rows.first().unwrap().get::<Vec<u8>>(0).unwrap(), [0xff, 0, 0xfe]);
    let bytes: Vec<u8> = conn.query_row("SELECT CAST(CAST(x'ff00fe' AS TEXT) AS BLOB)", (), |r| r.get(0)).unwrap();
    assert_eq!(bytes, [0xff, 0, 0xfe]);
}

#[test]
fn cursor_yields_rows_and_resets_on_drop() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x)").unwrap();
    conn.execute_many("INSERT INTO t VALUES (?1)", (0..10).map(|i| params![i])).unwrap();
    let mut stmt = conn.prepare_cached("SELECT x FROM t ORDER BY x").unwrap();
    {
        let mut cur = stmt.cursor(()).unwrap();
        let first: i64 = cur.next().unwrap().unwrap().get(0).unwrap();
        assert_eq!(first, 0);
        // dropped mid-way: the read snapshot must be released
    }
    let mut seen = 0;
    let mut cur = stmt.cursor(()).unwrap();
    while let Some(row) = cur.next().unwrap() {
        assert_eq!(row.get::<i64>(0).unwrap(), seen);
        seen += 1;
    }
    assert_eq!(seen, 10);
    drop(cur);
    drop(stmt);
    // A checkpoint that needs every reader gone succeeds only if no statement holds a snapshot.
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |r| r.get(0)).unwrap();
    assert_eq!(busy, 0);
}

#[test]
fn params_accept_many_shapes() {
    let conn = Connection::open_in_memory().unwrap();
    let v: Vec<Value> = vec![1.into(), "x".into()];
    assert_eq!(conn.query_one("SELECT ?1, ?2", v).unwrap().get::<String>(1).unwrap(), "x");
    let p = Params::named([(":a", 5)]);
    assert_eq!(conn.query_one("SELECT :a", p).unwrap().get::<i64>(0).unwrap(), 5);
    let done = conn.execute("SELECT 1", ()).unwrap();
    assert_eq!(done.rows_affected(), 0);
}

#[test]
fn the_same_sql_prepared_twice_at_once_gets_two_statements() {
    let conn = Connection::open_in_memory().unwrap();
    let mut a = conn.prepare_cached("SELECT ?1").unwrap();
    let mut b = conn.prepare_cached("SELECT ?1").unwrap(); // `a` is checked out: `b` is a fresh statement
    let mut cur = a.cursor(params![1]).unwrap();
    let x: i64 = cur.next().unwrap().unwrap().get(0).unwrap();
    assert_eq!(b.query_one(params![2]).unwrap().get::<i64>(0).unwrap(), 2);
    assert_eq!(x, 1);
    drop(cur);
    drop(a);
    drop(b);
    assert_eq!(conn.cache_stats().size, 1);
    // Clearing finalizes; later prepares miss and refill.
    conn.flush_statement_cache();
    assert_eq!(conn.cache_stats().size, 0);
    conn.query("SELECT ?1", params![3]).unwrap();
    assert_eq!(conn.cache_stats().size, 1);
}

/// Tuples bind by position straight from their values: every type arrives as it would through `params!`, a wrong
/// arity or an unconvertible value is a clear error, and the batch stays all or nothing.
#[test]
fn execute_many_binds_tuple_rows() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER, r REAL, b BLOB, o TEXT)").unwrap();
    let sql = "INSERT INTO t (s, n, r, b, o) VALUES (?1, ?2, ?3, ?4, ?5)";
    let owned = String::from("owned ✓");
    let rows = [("borrowed", 1i64, 1.5f64, vec![0u8, 1, 2], Some("x")), (owned.as_str(), -7, f64::MAX, vec![], None)];
    assert_eq!(conn.execute_many(sql, rows.iter().cloned()).unwrap(), 2);
    let got = conn.query("SELECT s, n, r, b, o FROM t ORDER BY id", ()).unwrap();
    assert_eq!(got.len(), 2);
    let mut it = got.iter();
    let first = it.next().unwrap();
    assert_eq!(first.get::<String>(0).unwrap(), "borrowed");
    assert_eq!(first.get::<i64>(1).unwrap(), 1);
    assert_eq!(first.get::<f64>(2).unwrap(), 1.5);
    assert_eq!(first.get::<Vec<u8>>(3).unwrap(), vec![0, 1, 2]);
    assert_eq!(first.get::<Option<String>>(4).unwrap().as_deref(), Some("x"));
    let second = it.next().unwrap();
    assert_eq!(second.get::<String>(0).unwrap(), "owned ✓");
    assert_eq!(second.get::<f64>(2).unwrap(), f64::MAX);
    assert_eq!(second.get::<Vec<u8>>(3).unwrap(), Vec::<u8>::new());
    assert_eq!(second.get::<Option<String>>(4).unwrap(), None);

    // Wrong arity: the count error names both numbers, and nothing of the batch stays.
    let e = conn
        .execute_many("INSERT INTO t (s, n) VALUES (?1, ?2)", vec![("a", 1), ("b", 2)].into_iter().map(|(s, _)| (s,)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ParameterCount);
    assert!(e.to_string().contains("takes 2 parameters but 1 were given"), "{e}");
    // A value that does not fit: a conversion error, and the rows before it are rolled back.
    let e =
        conn.execute_many("INSERT INTO t (s, n) VALUES (?1, ?2)", vec![("ok", 1u64), ("big", u64::MAX)]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeConversion);
    let n: i64 = conn.query_one("SELECT count(*) FROM t", ()).unwrap().get(0).unwrap();
    assert_eq!(n, 2);
    // Tuples and params! rows give the same table.
    conn.execute_many("INSERT INTO t (s, n) VALUES (?1, ?2)", vec![params!["p", 3]]).unwrap();
    let n: i64 = conn.query_one("SELECT count(*) FROM t WHERE n = 3", ()).unwrap().get(0).unwrap();
    assert_eq!(n, 1);
}
