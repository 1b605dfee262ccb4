//! The worker protocol: one enum, every variant carrying its reply channel.

use crossbeam_channel::Receiver;

use super::reply::Completer;
use super::stream::StreamSink;
use super::Ctx;
use crate::blocking::{Connection, Done, Row, Rows, TransactionBehavior};
use crate::{Params, Result};

/// A closure job with its typed reply, behind one vtable.
pub(crate) trait CallJob: Send {
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>);
}

/// A `query_map` job: decodes rows of a prepared statement with the user's closure.
pub(crate) trait MapJob: Send {
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>, sql: &str, params: Params);
}

/// The parameter sets of an `execute_many` job, behind one vtable (the rows bind straight from their own type).
pub(crate) trait ManyJob: Send {
    fn run(self: Box<Self>, conn: &mut Connection, sql: &str) -> Result<u64>;
}

/// A typed `execute_many` job: the caller's iterator, taken on the worker.
pub(crate) struct ManyImpl<I>(pub I);

impl<I> ManyJob for ManyImpl<I>
where
    I: Iterator + Send,
    I::Item: crate::BindRow,
{
    fn run(self: Box<Self>, conn: &mut Connection, sql: &str) -> Result<u64> {
        conn.execute_many(sql, self.0)
    }
}

/// An `execute_many` job of packed parameter sets, bound where they lie.
pub(crate) struct PackedMany(pub crate::PackedParams);

impl ManyJob for PackedMany {
    fn run(self: Box<Self>, conn: &mut Connection, sql: &str) -> Result<u64> {
        conn.execute_many(sql, self.0.sets())
    }
}

/// An `execute_many` job of packed parameter sets sent in chunks while it runs (see [`crate::PackedStream`]).
pub(crate) struct StreamedMany(pub crossbeam_channel::Receiver<Option<crate::PackedParams>>);

impl ManyJob for StreamedMany {
    fn run(self: Box<Self>, conn: &mut Connection, sql: &str) -> Result<u64> {
        conn.execute_many_chunks(sql, &self.0)
    }
}

/// A `query_row` job: decodes the first row with the caller's closure.
pub(crate) trait RowJob: Send {
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>, sql: &str, params: Params);
}

/// A typed `query_row` job.
pub(crate) struct RowImpl<F, T> {
    pub f: F,
    pub reply: Completer<T>,
}

impl<F, T> RowJob for RowImpl<F, T>
where
    F: FnOnce(&crate::RowRef<'_>) -> Result<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>, sql: &str, params: Params) {
        let RowImpl { f, reply } = *self;
        ctx.exec_counted(conn, reply, |c| c.query_row(sql, params, f), |_| Some(1));
    }
}

/// What a read-shaped query replies with.
pub(crate) enum QueryReply {
    All(Completer<Rows>),
    Packed(Completer<crate::PackedRows>),
    One(Completer<Row>),
    Opt(Completer<Option<Row>>),
}

pub(crate) enum Job {
    Execute {
        sql: Box<str>,
        params: Params,
        reply: Completer<Done>,
    },
    ExecuteBatch {
        sql: Box<str>,
        reply: Completer<()>,
    },
    ExecuteMany {
        sql: Box<str>,
        sets: Box<dyn ManyJob>,
        reply: Completer<u64>,
    },
    Query {
        sql: Box<str>,
        params: Params,
        reply: QueryReply,
    },
    QueryMap {
        sql: Box<str>,
        params: Params,
        job: Box<dyn MapJob>,
    },
    QueryRow {
        sql: Box<str>,
        params: Params,
        job: Box<dyn RowJob>,
    },
    Stream {
        sql: Box<str>,
        params: Params,
        sink: StreamSink,
    },
    /// `query_arrow` and `stream_arrow` (see `crate::arrow`).
    #[cfg(feature = "arrow")]
    Arrow {
        sql: Box<str>,
        params: Params,
        /// Boxed: it is bigger than the other jobs, which should not grow for it.
        job: Box<crate::arrow::ArrowJob>,
    },
    Call(Box<dyn CallJob>),
    /// Begin a transaction, then take jobs only from `jobs` until it ends.
    Begin {
        behavior: TransactionBehavior,
        jobs: Receiver<Job>,
        reply: Completer<()>,
    },
    /// End the open transaction (valid only on a transaction's channel).
    EndTx {
        commit: bool,
        reply: Completer<()>,
    },
    /// Set the connection up (a pool's change feed, ...); nobody waits for it.
    Setup(Box<dyn FnOnce(&mut Connection) + Send>),
    /// Finish the queued jobs before this one, close the connection, and stop.
    Close,
}

impl Job {
    /// The SQL the job runs, for tracing.
    pub fn sql(&self) -> Option<&str> {
        match self {
            Job::Execute { sql, .. }
            | Job::ExecuteBatch { sql, .. }
            | Job::ExecuteMany { sql, .. }
            | Job::Query { sql, .. }
            | Job::QueryMap { sql, .. }
            | Job::QueryRow { sql, .. }
            | Job::Stream { sql, .. } => Some(sql),
            #[cfg(feature = "arrow")]
            Job::Arrow { sql, .. } => Some(sql),
            _ => None,
        }
    }
}

/// A typed closure job.
pub(crate) struct CallImpl<F, T> {
    pub f: F,
    pub reply: Completer<T>,
}

impl<F, T> CallJob for CallImpl<F, T>
where
    F: FnOnce(&mut Connection) -> Result<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>) {
        let CallImpl { f, reply } = *self;
        ctx.exec(conn, reply, f);
    }
}

/// A typed `query_map` job.
pub(crate) struct MapImpl<F, T> {
    pub f: F,
    pub reply: Completer<Vec<T>>,
}

impl<F, T> MapJob for MapImpl<F, T>
where
    F: FnMut(&crate::RowRef<'_>) -> Result<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut Connection, ctx: &Ctx<'_>, sql: &str, params: Params) {
        let MapImpl { f, reply } = *self;
        ctx.exec_counted(conn, reply, |c| c.query_map(sql, params, f), |v| u64::try_from(v.len()).ok());
    }
}
