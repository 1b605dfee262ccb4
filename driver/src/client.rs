//! [`Client`]: the methods `Pool`, `Connection`, `Transaction` and `Savepoint` share, written once.

use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::worker::{Job, Route, Shared};

/// A route that a stream can keep.
#[derive(Debug, Clone)]
pub(crate) enum OwnedRoute {
    Write,
    Read,
    Tx(Sender<Job>),
}

impl OwnedRoute {
    pub fn as_route(&self) -> Route<'_> {
        match self {
            OwnedRoute::Write => Route::Write,
            OwnedRoute::Read => Route::Read,
            OwnedRoute::Tx(s) => Route::Tx(s),
        }
    }
}

/// The calls every handle makes: [`Pool`](crate::Pool), [`Connection`](crate::Connection),
/// [`Transaction`](crate::Transaction) and [`Savepoint`](crate::Savepoint) dereference to one, so these methods are
/// written once and behave the same on each. Where a call runs is the handle's: a pool sends writes to its writer
/// and reads to its readers (cheap ones may run on the calling thread), a connection sends both to its one worker,
/// and a transaction (or savepoint) sends both into the transaction.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
    write: OwnedRoute,
    read: OwnedRoute,
}

impl Client {
    pub(crate) fn new(shared: Arc<Shared>, write: OwnedRoute, read: OwnedRoute) -> Self {
        Client { shared, write, read }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Where the handle's reads go (the Arrow methods' route, in `crate::arrow`).
    #[cfg(feature = "arrow")]
    pub(crate) fn read_route(&self) -> &OwnedRoute {
        &self.read
    }

    /// Run one statement; returns the rows it changed and the last inserted rowid.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before the statement starts, it does not run; dropped while it runs, the
    /// statement is interrupted (a statement that already finished stays done).
    pub async fn execute(&self, sql: &str, params: impl crate::BindRow) -> crate::Result<crate::Done> {
        let params = crate::BindRow::into_params(params);
        self.shared
            .submit(self.write.as_route(), |reply| crate::worker::Job::Execute { sql: sql.into(), params, reply })
            .await
    }

    /// Run every `;`-separated statement of `sql`, without parameters.
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](Self::execute); an interrupted batch stops after the statements it finished.
    pub async fn execute_batch(&self, sql: &str) -> crate::Result<()> {
        self.shared
            .submit(self.write.as_route(), |reply| crate::worker::Job::ExecuteBatch { sql: sql.into(), reply })
            .await
    }

    /// Run one statement once per parameter set, in one trip to the worker and all or nothing (inside a
    /// transaction, or a savepoint when one is open). Returns the total rows changed.
    ///
    /// The sets are taken from the iterator on the worker, one at a time: [`Params`](crate::Params)
    /// (`params![..]`), or tuples of values, which bind without copying their text (see
    /// [`BindRow`](crate::BindRow)).
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, nothing runs; dropped while it runs, it is interrupted and rolled back.
    pub async fn execute_many<I>(&self, sql: &str, param_sets: I) -> crate::Result<u64>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: crate::BindRow + 'static,
    {
        let sets: Box<dyn crate::worker::job::ManyJob> = Box::new(crate::worker::job::ManyImpl(param_sets.into_iter()));
        self.shared
            .submit(self.write.as_route(), |reply| crate::worker::Job::ExecuteMany { sql: sql.into(), sets, reply })
            .await
    }

    /// [`execute_many`](Self::execute_many) with parameter sets packed by the caller (see
    /// [`PackedParams`](crate::PackedParams)): each set binds by position where it lies, and the worker frees
    /// three buffers at the end rather than every set's values.
    ///
    /// # Cancel safety
    ///
    /// As [`execute_many`](Self::execute_many).
    pub async fn execute_many_packed(&self, sql: &str, sets: crate::PackedParams) -> crate::Result<u64> {
        let sets: Box<dyn crate::worker::job::ManyJob> = Box::new(crate::worker::job::PackedMany(sets));
        self.shared
            .submit(self.write.as_route(), |reply| crate::worker::Job::ExecuteMany { sql: sql.into(), sets, reply })
            .await
    }

    /// [`execute_many_packed`](Self::execute_many_packed) with the sets sent in chunks while the statement runs:
    /// the worker inserts one chunk while the caller packs the next. Chunks go through `stream`'s
    /// [`send`](PackedStream::send); [`finish`](PackedStream::finish) ends them. A stream dropped without `finish`
    /// rolls back every set, and this returns an error of kind [`Cancelled`](crate::ErrorKind::Cancelled).
    ///
    /// The statement runs on the writer from the first poll on, waiting there for chunks: send them without
    /// awaiting anything that needs the writer meanwhile.
    ///
    /// # Cancel safety
    ///
    /// As [`execute_many`](Self::execute_many).
    pub async fn execute_many_streamed(&self, sql: &str, stream: PackedReceiver) -> crate::Result<u64> {
        let sets: Box<dyn crate::worker::job::ManyJob> = Box::new(crate::worker::job::StreamedMany(stream.0));
        self.shared
            .submit(self.write.as_route(), |reply| crate::worker::Job::ExecuteMany { sql: sql.into(), sets, reply })
            .await
    }

    /// Run a query and collect its rows.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, the query does not run; dropped while it runs, it is interrupted.
    pub async fn query(&self, sql: &str, params: impl crate::BindRow) -> crate::Result<crate::Rows> {
        let route = &self.read;
        self.shared
            .query(
                route.as_route(),
                sql,
                crate::BindRow::into_params(params),
                |c, p| c.query_with(sql, p),
                crate::worker::QueryReply::All,
            )
            .await
    }

    /// Run a query and collect its rows packed (see [`PackedRows`](crate::PackedRows)): column names once, a
    /// 16-byte cell per value and one buffer for all the text, where [`query`](Self::query) makes a [`Row`](crate::Row)
    /// per row. The form to keep a large result in.
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Self::query).
    pub async fn query_packed(&self, sql: &str, params: impl crate::BindRow) -> crate::Result<crate::PackedRows> {
        let route = &self.read;
        self.shared
            .query(
                route.as_route(),
                sql,
                crate::BindRow::into_params(params),
                |c, p| c.query_packed_with(sql, p),
                crate::worker::QueryReply::Packed,
            )
            .await
    }

    /// Run a query that returns one row, and return it: an error of kind
    /// [`ErrorKind::NoRows`](crate::ErrorKind::NoRows) if it returns none, and of kind
    /// [`ErrorKind::TooManyRows`](crate::ErrorKind::TooManyRows) if it returns more (as tokio-postgres'
    /// `query_one`; [`query_row`](Self::query_row) takes the first row and ignores the rest, as rusqlite's
    /// `query_row` and sqlx's `fetch_one` do).
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Self::query).
    pub async fn query_one(&self, sql: &str, params: impl crate::BindRow) -> crate::Result<crate::Row> {
        let route = &self.read;
        self.shared
            .query(
                route.as_route(),
                sql,
                crate::BindRow::into_params(params),
                |c, p| c.query_one_with(sql, p),
                crate::worker::QueryReply::One,
            )
            .await
    }

    /// Run a query that returns at most one row, and return it if there is one: an error of kind
    /// [`ErrorKind::TooManyRows`](crate::ErrorKind::TooManyRows) if it returns more.
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Self::query).
    pub async fn query_opt(&self, sql: &str, params: impl crate::BindRow) -> crate::Result<Option<crate::Row>> {
        let route = &self.read;
        self.shared
            .query(
                route.as_route(),
                sql,
                crate::BindRow::into_params(params),
                |c, p| c.query_opt_with(sql, p),
                crate::worker::QueryReply::Opt,
            )
            .await
    }

    /// Run a query and decode each row with `f`: on a worker, straight from SQLite's buffers, and only the decoded
    /// values cross back; a cheap read run on the calling thread (see the crate docs) copies its rows out and hands
    /// the connection back before `f` runs, so `f` may block or call the pool again. A panic in `f` comes back as
    /// an error of kind [`ErrorKind::Panicked`](crate::ErrorKind::Panicked).
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Self::query).
    pub async fn query_map<T, F>(&self, sql: &str, params: impl crate::BindRow, f: F) -> crate::Result<Vec<T>>
    where
        F: FnMut(&crate::RowRef<'_>) -> crate::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let route = &self.read;
        // A cheap read runs inline and copies its rows out, packed; `f` runs once the connection is handed back.
        let tried = self
            .shared
            .try_inline(route.as_route(), sql, crate::BindRow::into_params(params), |c, p| c.query_packed_with(sql, p));
        let params = match tried {
            crate::worker::inline::Tried::Ran(out) => {
                // `f` is dropped inside the guard too, whatever the outcome: a captured value's `Drop` is user code.
                return crate::worker::catch(move || {
                    let mut f = f;
                    out?.iter().map(|row| f(&row)).collect()
                });
            }
            crate::worker::inline::Tried::Declined(params) => params,
        };
        self.shared
            .submit(route.as_route(), |reply| crate::worker::Job::QueryMap {
                sql: sql.into(),
                params,
                job: Box::new(crate::worker::job::MapImpl { f, reply }),
            })
            .await
    }

    /// Run a query and decode its first row with `f`, or fail with [`ErrorKind::NoRows`](crate::ErrorKind::NoRows);
    /// further rows are not read.
    /// On a worker `f` reads straight from SQLite's buffers; a cheap read run on the calling thread (see the
    /// crate docs) copies its one row out and hands the connection back before `f` runs, so `f` may block or
    /// call the pool again. A panic in `f` comes back as an error of kind
    /// [`ErrorKind::Panicked`](crate::ErrorKind::Panicked).
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Self::query).
    pub async fn query_row<T, F>(&self, sql: &str, params: impl crate::BindRow, f: F) -> crate::Result<T>
    where
        F: FnOnce(&crate::RowRef<'_>) -> crate::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let route = &self.read;
        // A cheap read runs inline and copies its row out; the decoder runs once the connection is handed
        // back, so it may block, panic or call the pool again without holding a connection a worker needs.
        // The row is copied into this thread's reused buffer, not into a new `Row`.
        let params = crate::BindRow::into_params(params);
        let tried = crate::worker::inline::with_row_buffer(|buf| {
            let tried = self.shared.try_inline(route.as_route(), sql, params, |c, p| c.query_first_into(sql, p, buf));
            match tried {
                // `f` is dropped inside the guard, whatever the outcome: a captured value's `Drop` is user code.
                crate::worker::inline::Tried::Ran(found) => {
                    Ok(crate::worker::catch(move || match (found?, &buf.columns) {
                        (true, Some(columns)) => f(&crate::RowRef::of_packed(&buf.cells, 0, columns)),
                        _ => Err(crate::blocking::statement::no_rows(sql)),
                    }))
                }
                crate::worker::inline::Tried::Declined(params) => Err((params, f)),
            }
        });
        let (params, f) = match tried {
            Ok(out) => return out,
            Err(back) => back,
        };
        self.shared
            .submit(route.as_route(), |reply| crate::worker::Job::QueryRow {
                sql: sql.into(),
                params,
                job: Box::new(crate::worker::job::RowImpl { f, reply }),
            })
            .await
    }

    /// Stream the rows of a query. See [`RowStream`](crate::RowStream).
    pub fn stream(&self, sql: &str, params: impl crate::BindRow) -> crate::RowStream {
        crate::RowStream::new(Arc::clone(&self.shared), self.read.clone(), sql, crate::BindRow::into_params(params))
    }

    /// Run a closure with the blocking connection on the worker: any number of statements, one trip. A panic
    /// in `f` comes back as an error of kind [`ErrorKind::Panicked`](crate::ErrorKind::Panicked) and rolls back
    /// the transaction it was in; the worker lives on. Use the connection `f` is given: a call on this handle from
    /// inside `f` that only this worker could run fails with [`ErrorKind::Misuse`](crate::ErrorKind::Misuse)
    /// rather than wait for itself (see the crate docs on calling the pool from inside a closure).
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, `f` does not run; dropped while it runs, its running statement is
    /// interrupted (what `f` does with that error is up to it).
    pub async fn call<T, F>(&self, f: F) -> crate::Result<T>
    where
        F: FnOnce(&mut crate::blocking::Connection) -> crate::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.shared
            .submit(self.write.as_route(), |reply| {
                crate::worker::Job::Call(Box::new(crate::worker::job::CallImpl { f, reply }))
            })
            .await
    }

    /// As [`call`](Self::call), on a read-only connection (a pool's reader): statements that write fail, and so
    /// do those that use per-connection state (temp tables, `ATTACH`, write settings, `last_insert_rowid()`),
    /// which a pool keeps on its writer (see the crate docs on per-connection state). Where there is no reader, it
    /// runs where reads run, and writes do not fail there: on a [`Connection`](crate::Connection)'s (or a pool
    /// without readers') one connection, and inside a transaction (or savepoint), in the transaction.
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call).
    pub async fn read<T, F>(&self, f: F) -> crate::Result<T>
    where
        F: FnOnce(&mut crate::blocking::Connection) -> crate::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.shared
            .submit(self.read.as_route(), |reply| {
                crate::worker::Job::Call(Box::new(crate::worker::job::CallImpl { f, reply }))
            })
            .await
    }
}

/// The sending side of [`Client::execute_many_streamed`]: chunks of packed parameter sets, in order.
#[derive(Debug)]
pub struct PackedStream(crossbeam_channel::Sender<Option<crate::PackedParams>>);

/// The receiving side of a [`PackedStream`], for [`Client::execute_many_streamed`] (opaque).
#[derive(Debug)]
pub struct PackedReceiver(crossbeam_channel::Receiver<Option<crate::PackedParams>>);

impl PackedStream {
    /// A stream and the receiver `execute_many_streamed` takes.
    pub fn channel() -> (PackedStream, PackedReceiver) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (PackedStream(tx), PackedReceiver(rx))
    }

    /// Send the next chunk; false if the statement has ended already (it failed: its future says why).
    pub fn send(&self, chunk: crate::PackedParams) -> bool {
        self.0.send(Some(chunk)).is_ok()
    }

    /// The last chunk was sent: the statement commits its sets.
    pub fn finish(self) {
        let _ = self.0.send(None);
    }
}
