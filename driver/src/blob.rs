//! Streaming a large BLOB in and out of a pool: [`Pool::read_blob`] and [`Pool::write_blob`].
//!
//! Neither holds the whole value in memory: the value is read and written in chunks.
//!
//! - **Reading** of a file database runs on a read-only connection and thread of its own, which opens the value
//!   once (its read transaction makes the chunks one consistent snapshot) and hands chunks over a channel of one
//!   chunk: a slow consumer holds a thread and a read snapshot, never a worker of the pool, and under WAL no
//!   writer waits for it. In-memory databases (one connection, no file to open again) read each chunk in a job
//!   of its own, so the chunks are not one snapshot there.
//! - **Writing** goes where writes go, the writer, in a transaction: each chunk is written in place by a job of
//!   its own, and the transaction commits after the last, so readers see the old value or the new, never a mix.
//!   Like any transaction it holds the writer until it ends, including while the source is slow to give the next
//!   chunk. A value cannot grow through incremental I/O: size it first (`zeroblob(N)`).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

use crate::{blocking, Error, ErrorKind, Pool, Result};

/// The chunk size of [`Pool::read_blob`].
pub const BLOB_CHUNK: usize = 64 * 1024;

/// The chunks of a BLOB read by [`Pool::read_blob`]: a [`Stream`] of `Result<Vec<u8>>`, ending after the last
/// chunk (or after the first error).
pub struct BlobStream {
    inner: Pin<Box<dyn Stream<Item = Result<Vec<u8>>> + Send>>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream").finish_non_exhaustive()
    }
}

impl Stream for BlobStream {
    type Item = Result<Vec<u8>>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// Where a blob is: table, column, row.
#[derive(Clone)]
struct Place {
    table: String,
    column: String,
    rowid: i64,
}

impl Place {
    fn open<'c>(&self, c: &'c blocking::Connection, read_only: bool) -> Result<blocking::Blob<'c>> {
        c.blob_open("main", &self.table, &self.column, self.rowid, read_only)
    }
}

/// Read the blob at `place` on a connection of its own, sending chunks into `tx` until done, failed or unwanted.
fn read_on_side(
    path: &std::path::Path,
    place: &Place,
    chunk: usize,
    mut tx: futures::channel::mpsc::Sender<Result<Vec<u8>>>,
) {
    // One sender, so the channel's bound holds (every clone of a sender may queue one more item).
    let mut send = |item: Result<Vec<u8>>| futures::executor::block_on(futures::SinkExt::send(&mut tx, item)).is_ok();
    let conn = match crate::backup::open_side(path) {
        Ok(c) => c,
        Err(e) => {
            send(Err(e));
            return;
        }
    };
    let blob = match place.open(&conn, true) {
        Ok(b) => b,
        Err(e) => {
            send(Err(e));
            return;
        }
    };
    let mut offset = 0;
    while offset < blob.len() {
        let mut buf = vec![0; chunk.min(blob.len() - offset)];
        let item = blob.read_at(&mut buf, offset).map(|n| {
            buf.truncate(n);
            buf
        });
        let failed = item.is_err();
        if !send(item) || failed {
            return;
        }
        offset += chunk;
    }
}

impl Pool {
    /// Stream the value in `column` of row `rowid` of `table` (in the main database) in chunks of
    /// [`BLOB_CHUNK`] bytes, without holding it all in memory: see the [module docs](crate::blob). Nothing runs until
    /// the stream is first polled.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::open(dir.path().join("app.db")).await?;
    /// pool.execute_batch("CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO files VALUES (1, zeroblob(200000))").await?;
    /// let chunks = futures::stream::iter((0..4).map(|i| Ok::<_, std::io::Error>(vec![i as u8; 50_000])));
    /// assert_eq!(pool.write_blob("files", "data", 1, chunks).await?, 200_000);
    /// let mut read = pool.read_blob("files", "data", 1);
    /// let mut total = 0;
    /// while let Some(chunk) = read.next().await {
    ///     total += chunk?.len();
    /// }
    /// assert_eq!(total, 200_000);
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn read_blob(&self, table: &str, column: &str, rowid: i64) -> BlobStream {
        self.read_blob_chunked(table, column, rowid, BLOB_CHUNK)
    }

    /// As [`read_blob`](Self::read_blob), in chunks of `chunk` bytes (at least 1).
    pub fn read_blob_chunked(&self, table: &str, column: &str, rowid: i64, chunk: usize) -> BlobStream {
        let chunk = chunk.max(1);
        let place = Place { table: table.into(), column: column.into(), rowid };
        let pool = self.clone();
        let inner = futures::stream::once(async move {
            match pool.file().await {
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
                Ok(Some(path)) => {
                    let (tx, rx) = futures::channel::mpsc::channel(1);
                    let started = std::thread::Builder::new()
                        .name("asqlite-read-blob".into())
                        .spawn(move || read_on_side(&path, &place, chunk, tx));
                    match started {
                        Ok(_) => rx.boxed(),
                        Err(e) => {
                            let e =
                                Error::new(ErrorKind::Sqlite, format!("could not start a thread: {e}")).with_source(e);
                            futures::stream::once(async move { Err(e) }).boxed()
                        }
                    }
                }
                Ok(None) => read_in_jobs(pool, place, chunk).boxed(),
            }
        })
        .flatten();
        BlobStream { inner: Box::pin(inner) }
    }

    /// Write the chunks of `chunks` into the value in `column` of row `rowid` of `table` (in the main database),
    /// one after the other from its first byte, in one transaction on the writer; returns the bytes written. The
    /// value must be large enough already (`zeroblob(N)`): a chunk that would go past its end fails the call and
    /// nothing is written, and so does an error from `chunks`. Bytes past the last chunk keep what they held. See
    /// the [module docs](crate::blob).
    ///
    /// # Cancel safety
    ///
    /// Dropped before it ends, the transaction is rolled back: nothing is written.
    pub async fn write_blob<S, B, E>(&self, table: &str, column: &str, rowid: i64, chunks: S) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<B, E>>,
        B: Into<Vec<u8>>,
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        let place = Place { table: table.into(), column: column.into(), rowid };
        let tx = self.begin().await?;
        let mut chunks = std::pin::pin!(chunks);
        let mut offset: usize = 0;
        while let Some(chunk) = chunks.next().await {
            let chunk: Vec<u8> = chunk
                .map_err(|e| {
                    let e = e.into();
                    Error::new(ErrorKind::Io, format!("the blob's source failed: {e}")).with_source(e)
                })?
                .into();
            let (p, at, n) = (place.clone(), offset, chunk.len());
            tx.call(move |c| p.open(c, false)?.write_at(&chunk, at)).await?;
            offset += n;
        }
        tx.commit().await?;
        Ok(u64::try_from(offset).unwrap_or(u64::MAX))
    }

    /// As [`write_blob`](Self::write_blob), from an [`AsyncRead`](futures::io::AsyncRead), read in chunks of
    /// [`BLOB_CHUNK`] bytes.
    ///
    /// # Cancel safety
    ///
    /// As [`write_blob`](Self::write_blob).
    pub async fn write_blob_from<R>(&self, table: &str, column: &str, rowid: i64, reader: R) -> Result<u64>
    where
        R: futures::io::AsyncRead + Unpin,
    {
        let chunks = futures::stream::try_unfold(reader, |mut r| async move {
            let mut buf = vec![0; BLOB_CHUNK];
            let n = futures::io::AsyncReadExt::read(&mut r, &mut buf).await?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((n > 0).then_some((buf, r)))
        });
        self.write_blob(table, column, rowid, chunks).await
    }
}

/// An in-memory pool's blob, read one chunk per job on its one connection.
fn read_in_jobs(pool: Pool, place: Place, chunk: usize) -> impl Stream<Item = Result<Vec<u8>>> + Send {
    futures::stream::unfold(Some(0usize), move |offset| {
        let (pool, place) = (pool.clone(), place.clone());
        async move {
            let at = offset?;
            let out = pool
                .call(move |c| {
                    let blob = place.open(c, true)?;
                    let mut buf = vec![0; chunk.min(blob.len().saturating_sub(at))];
                    blob.read_at(&mut buf, at)?;
                    Ok((buf, blob.len()))
                })
                .await;
            match out {
                Ok((buf, _)) if buf.is_empty() => None,
                Ok((buf, len)) => {
                    let next = at + buf.len();
                    Some((Ok(buf), (next < len).then_some(next)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}
