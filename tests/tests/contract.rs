//! The driver block of the public contract (DESIGN.md), verbatim, run on tokio and on `futures::executor`.
//!
//! It guards against any change that stops the documented API from compiling or behaving as written.

use asqlite::{named_params, params, Connection, Pool};

#[allow(unused_variables)] // the contract shadows its first pool on purpose
async fn contract() -> asqlite::Result<()> {
    let pool = Pool::open("app.db").await?; // file created if missing; WAL; 1 writer + N readers
    let pool = Pool::builder().readers(4).busy_timeout(std::time::Duration::from_secs(5)).open("app.db").await?;
    pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER)")
        .await?;
    let done = pool
        .execute("INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)", params!["Honda Civic", 2012, 20_000])
        .await?;
    let (_n, _id) = (done.rows_affected(), done.last_insert_rowid());
    let n: u64 = pool
        .execute_many(
            "INSERT INTO cars (make, year, mileage) VALUES (?1, ?2, ?3)",
            vec![params!["Toyota Prius", 2020, 10_000], params!["Tesla Model 3", 2019, 5_000]],
        )
        .await?;
    let rows = pool.query("SELECT * FROM cars WHERE mileage > :m", named_params! {":m" => 6000}).await?;
    let row = pool.query_one("SELECT make FROM cars WHERE car_id = ?1", params![1]).await?;
    let make: String = row.get(0)?;
    let maybe = pool.query_opt("SELECT make FROM cars WHERE car_id = ?1", params![99]).await?; // Ok(None)
    let cars: Vec<(i64, String)> =
        pool.query_map("SELECT car_id, make FROM cars", params![], |r| Ok((r.get(0)?, r.get(1)?))).await?; // decoded on the worker
    let mut s = pool.stream("SELECT * FROM cars", params![]); // futures::Stream<Item = Result<Row>>, bounded
    let mut streamed = 0;
    while let Some(row) = futures::StreamExt::next(&mut s).await {
        let _row = row?;
        streamed += 1;
    }
    let count: i64 = pool.call(|c| c.query_one("SELECT count(*) FROM cars", params![])?.get(0)).await?; // c: &mut blocking::Connection
    let tx = pool.begin().await?; // BEGIN IMMEDIATE on the writer; drop = rollback
    tx.execute("DELETE FROM cars WHERE year < ?1", params![2015]).await?;
    tx.commit().await?;
    pool.close().await?;

    let conn = Connection::open("app.db").await?; // one connection on one worker thread; same methods
    let sync = asqlite::blocking::Connection::open("app.db")?; // the blocking layer; same method names, no await

    // What the comments promise.
    assert_eq!(n, 2);
    assert_eq!(rows.len(), 2);
    assert_eq!(make, "Honda Civic");
    assert!(maybe.is_none());
    assert_eq!(cars, [(1, "Honda Civic".to_owned()), (2, "Toyota Prius".to_owned()), (3, "Tesla Model 3".to_owned())]);
    assert_eq!(streamed, 3);
    assert_eq!(count, 3);
    let left: i64 = conn.query_one("SELECT count(*) FROM cars", params![]).await?.get(0)?;
    assert_eq!(left, 2);
    assert_eq!(sync.query_one("SELECT count(*) FROM cars", params![])?.get::<i64>(0)?, 2);
    let err = pool.query("SELECT 1", params![]).await.unwrap_err();
    assert_eq!(err.kind(), asqlite::ErrorKind::Closed);
    conn.close().await?;
    Ok(())
}

/// Run the contract in a fresh directory (it uses the relative path `app.db`).
fn in_temp_dir(run: impl FnOnce()) {
    let dir = tempfile::tempdir().unwrap();
    let _cwd = crate::common::CWD_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let old = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::env::set_current_dir(old).unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn contract_on_tokio_multi_thread() {
    in_temp_dir(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        rt.block_on(contract()).unwrap();
    });
}

#[test]
fn contract_on_tokio_current_thread() {
    in_temp_dir(|| {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(contract()).unwrap();
    });
}

#[test]
fn contract_on_futures_executor() {
    in_temp_dir(|| futures::executor::block_on(contract()).unwrap());
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    send_sync::<Pool>();
    send_sync::<Connection>();
    fn tx_send_sync<T: Send + Sync + 'static>() {}
    tx_send_sync::<asqlite::Transaction>();
    fn stream_send<T: Send + Unpin + 'static>() {}
    stream_send::<asqlite::RowStream>();
    fn err<T: std::error::Error + Send + Sync + 'static>() {}
    err::<asqlite::Error>();

    // The futures of every method are Send, so they can be spawned on a multi-threaded runtime.
    futures::executor::block_on(async {
        let pool = Pool::open_in_memory().await.unwrap();
        let f = pool.execute("SELECT 1", params![]);
        send(&f);
        drop(f);
        let f = pool.query_map("SELECT 1", params![], |r| r.get::<i64>(0));
        send(&f);
        drop(f);
        let f = pool.call(|c| c.execute_batch("SELECT 1"));
        send(&f);
        drop(f);
        let f = pool.begin();
        send(&f);
        drop(f);
        let tx = pool.begin().await.unwrap();
        sync(&tx);
        let f = tx.execute("SELECT 1", params![]);
        send(&f);
        drop(f);
        tx.rollback().await.unwrap();
        pool.close().await.unwrap();
    });
}
