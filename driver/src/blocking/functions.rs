//! Application-defined SQL functions and collations on a blocking connection.
//!
//! rusqlite's names and shapes: [`Connection::create_scalar_function`], [`Connection::create_aggregate_function`]
//! with the [`Aggregate`] trait, [`Connection::create_window_function`] with [`WindowAggregate`],
//! [`Connection::create_collation`] and [`Connection::remove_function`]. Arguments arrive in a [`Context`] and
//! read with the driver's [`FromSql`] (or borrowed as [`ValueRef`]s); results are any [`ToSql`].
//!
//! # Errors and panics
//!
//! A function that returns an error, or panics, fails the statement that called it with an SQL error carrying the
//! message (the panic is caught: it never unwinds into SQLite). A collation cannot fail a comparison, so its panic
//! interrupts the statement ([`ErrorKind::Interrupted`]; inside a transaction SQLite then rolls the transaction back,
//! as for any interrupted write).
//!
//! # Re-entrancy
//!
//! A function runs on the thread that runs its statement, in the middle of that statement: on a pool, a worker
//! thread (or, never, a caller's thread: statements that call application code do not run inline). It gets no
//! handle to its own connection. It may use *other* connections freely, including the pool it was registered on,
//! under one rule: **it must not wait for its own connection**. A call that would have to (on a pool's writer:
//! `execute`, `call`, a transaction; on a pool's only reader, or a lone [`Connection`](crate::Connection): any
//! call) fails at once with [`ErrorKind::Misuse`] instead of deadlocking; reads from a writer's function, and
//! reads from a reader's function while the pool has other readers, run elsewhere and are fine. A function that
//! calls itself on its own connection (through the [`handle`](Connection::handle) escape hatch) gets an error.
//!
//! # Registering on a pool
//!
//! A pool is several connections, and a function must exist on each connection a statement may run on. Register it
//! on all of them with [`Pool::call_each`](crate::Pool::call_each) (or, when the pool opens, with the builder's
//! connection setup).

use std::any::Any;
use std::cmp::Ordering;
use std::marker::PhantomData;

use super::Connection;
use crate::ffi::functions::{AggregateFns, RawArgs};
use crate::ffi::Column;
use crate::value::{FromSql, FromSqlError, ToSql, Value, ValueRef};
use crate::{Error, ErrorKind, Result};

/// How a function behaves, for SQLite's planner and its security rules: combine with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FunctionFlags(i32);

impl FunctionFlags {
    /// No flag: the function may return a different result for the same arguments.
    pub const NONE: FunctionFlags = FunctionFlags(0);
    /// The same arguments always give the same result (`SQLITE_DETERMINISTIC`): the function may be used in
    /// indexes, `CHECK` constraints and generated columns, and SQLite may factor calls out.
    pub const DETERMINISTIC: FunctionFlags = FunctionFlags(libsqlite3_sys::SQLITE_DETERMINISTIC);
    /// Harmless whatever the arguments (`SQLITE_INNOCUOUS`): usable from the schema when `trusted_schema` is off.
    pub const INNOCUOUS: FunctionFlags = FunctionFlags(libsqlite3_sys::SQLITE_INNOCUOUS);
    /// Callable only from top-level SQL (`SQLITE_DIRECTONLY`), never from triggers, views or the schema.
    pub const DIRECT_ONLY: FunctionFlags = FunctionFlags(libsqlite3_sys::SQLITE_DIRECTONLY);

    /// No flag.
    pub const fn empty() -> Self {
        Self::NONE
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: FunctionFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// SQLite's bits.
    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl std::ops::BitOr for FunctionFlags {
    type Output = FunctionFlags;
    fn bitor(self, rhs: Self) -> Self {
        FunctionFlags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for FunctionFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// The arguments of one call of an application-defined function.
pub struct Context<'a> {
    args: RawArgs<'a>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("len", &self.len()).finish()
    }
}

impl<'a> Context<'a> {
    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether the call has no argument.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn column(&self, i: usize) -> Result<Column<'a>> {
        if i >= self.len() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("argument {i} asked for, but the function was called with {}", self.len()),
            ));
        }
        Ok(self.args.value(i))
    }

    /// Read argument `i` (from 0) as `T`.
    pub fn get<T: FromSql>(&self, i: usize) -> Result<T> {
        let (out, value) = match self.column(i)? {
            Column::Value(v) => (T::from_sql(v), v),
            Column::NonUtf8Text(b) => (T::from_sql_non_utf8_text(b), ValueRef::Text("")),
        };
        out.map_err(|e| arg_error::<T>(e, value, i))
    }

    /// Borrow argument `i` (from 0). TEXT that is not UTF-8 cannot be borrowed as a `ValueRef`: read it with
    /// `get::<Vec<u8>>` or `get::<Value>`.
    pub fn get_ref(&self, i: usize) -> Result<ValueRef<'a>> {
        match self.column(i)? {
            Column::Value(v) => Ok(v),
            Column::NonUtf8Text(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(ValueRef::Text(s)),
                Err(e) => Err(arg_error::<ValueRef<'_>>(FromSqlError::InvalidUtf8(e), ValueRef::Text(""), i)),
            },
        }
    }
}

#[cold]
fn arg_error<T>(e: FromSqlError, value: ValueRef<'_>, i: usize) -> Error {
    let target = std::any::type_name::<T>();
    let msg = match &e {
        FromSqlError::OutOfRange(v) => format!("argument {i}: INTEGER {v} is out of range for {target}"),
        FromSqlError::InvalidUtf8(err) => format!("argument {i}: TEXT that is not valid UTF-8 ({err}) as {target}"),
        _ => format!("argument {i}: cannot read a {} value as {target}: {e}", value.data_type()),
    };
    Error::new(ErrorKind::TypeConversion, msg).with_source(e)
}

/// An aggregate function (`sum`-like): one accumulator `A` per group, stepped once per row, finalized into `T`.
///
/// The same shape as rusqlite's `Aggregate`.
pub trait Aggregate<A, T>: Send + 'static
where
    A: 'static,
    T: ToSql,
{
    /// A fresh accumulator, at the first row of a group (`ctx` holds that row's arguments).
    fn init(&self, ctx: &mut Context<'_>) -> Result<A>;
    /// Fold one row's arguments into the accumulator.
    fn step(&self, ctx: &mut Context<'_>, acc: &mut A) -> Result<()>;
    /// The group's result; `acc` is None when the group had no row (`SELECT agg(x) FROM empty`). `ctx` holds no
    /// argument.
    fn finalize(&self, ctx: &mut Context<'_>, acc: Option<A>) -> Result<T>;
}

/// An aggregate that also works as a window function (`OVER (...)`): rows leave the window too.
pub trait WindowAggregate<A, T>: Aggregate<A, T>
where
    A: 'static,
    T: ToSql,
{
    /// The current value of the window (`acc` is None when no row was added yet).
    fn value(&self, acc: Option<&mut A>) -> Result<T>;
    /// Take the row that leaves the window out of the accumulator.
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut A) -> Result<()>;
}

/// Adapts an [`Aggregate`] (and maybe a [`WindowAggregate`]) to the type-erased interface of the FFI layer.
struct Erased<D, A, T> {
    d: D,
    window: Option<WindowFns<A, T>>,
    _types: PhantomData<fn() -> (A, T)>,
}

/// The window half of an aggregate, captured where the type is known to implement it.
struct WindowFns<A, T> {
    value: ValueFn<A, T>,
    inverse: InverseFn<A>,
}

type ValueFn<A, T> = Box<dyn Fn(&dyn Any, Option<&mut A>) -> Result<T> + Send>;
type InverseFn<A> = Box<dyn Fn(&dyn Any, &mut Context<'_>, &mut A) -> Result<()> + Send>;

fn to_value<T: ToSql>(t: &T) -> Result<Value> {
    t.to_sql()
}

#[cold]
fn wrong_accumulator() -> Error {
    Error::new(ErrorKind::Misuse, "an aggregate's accumulator has an unexpected type")
}

impl<D, A, T> AggregateFns for Erased<D, A, T>
where
    D: Aggregate<A, T>,
    A: 'static,
    T: ToSql,
{
    fn init(&mut self, args: RawArgs<'_>) -> Result<Box<dyn Any>> {
        Ok(Box::new(self.d.init(&mut Context { args })?))
    }

    fn step(&mut self, args: RawArgs<'_>, acc: &mut dyn Any) -> Result<()> {
        let acc = acc.downcast_mut::<A>().ok_or_else(wrong_accumulator)?;
        self.d.step(&mut Context { args }, acc)
    }

    fn finalize(&mut self, acc: Option<Box<dyn Any>>) -> Result<Value> {
        let acc = match acc {
            Some(b) => Some(*b.downcast::<A>().map_err(|_| wrong_accumulator())?),
            None => None,
        };
        to_value(&self.d.finalize(&mut Context { args: RawArgs::empty() }, acc)?)
    }

    fn value(&mut self, acc: Option<&mut dyn Any>) -> Result<Value> {
        let w = self.window.as_ref().ok_or_else(wrong_accumulator)?;
        let acc = match acc {
            Some(a) => Some(a.downcast_mut::<A>().ok_or_else(wrong_accumulator)?),
            None => None,
        };
        to_value(&(w.value)(&self.d, acc)?)
    }

    fn inverse(&mut self, args: RawArgs<'_>, acc: &mut dyn Any) -> Result<()> {
        let w = self.window.as_ref().ok_or_else(wrong_accumulator)?;
        let acc = acc.downcast_mut::<A>().ok_or_else(wrong_accumulator)?;
        (w.inverse)(&self.d, &mut Context { args }, acc)
    }
}

fn check_args(name: &str, n_args: i32) -> Result<()> {
    if (-1..=127).contains(&n_args) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the function {name} cannot take {n_args} arguments (SQLite allows 0 to 127, or -1 for any number)"
            ),
        ))
    }
}

impl Connection {
    /// Register (or replace) the scalar SQL function `name` taking `n_args` arguments (`-1`: any number). `f`
    /// receives the arguments and returns the result, any [`ToSql`]; an error or a panic fails the calling
    /// statement with an SQL error carrying its message (see the [module docs](self)).
    ///
    /// ```
    /// use asqlite::blocking::{Connection, FunctionFlags};
    /// # fn main() -> asqlite::Result<()> {
    /// let conn = Connection::open_in_memory()?;
    /// conn.create_scalar_function("halve", 1, FunctionFlags::DETERMINISTIC, |ctx| Ok(ctx.get::<f64>(0)? / 2.0))?;
    /// let x: f64 = conn.query_one("SELECT halve(5)", ())?.get(0)?;
    /// assert_eq!(x, 2.5);
    /// # Ok(()) }
    /// ```
    pub fn create_scalar_function<F, T>(&self, name: &str, n_args: i32, flags: FunctionFlags, mut f: F) -> Result<()>
    where
        F: FnMut(&Context<'_>) -> Result<T> + Send + 'static,
        T: ToSql,
    {
        check_args(name, n_args)?;
        let call = Box::new(move |args: RawArgs<'_>| f(&Context { args })?.to_sql());
        self.raw.create_scalar_function(name, n_args, flags.bits(), call)?;
        // Statements cached before see the function only once compiled again.
        self.flush_statement_cache();
        Ok(())
    }

    /// Register (or replace) the aggregate SQL function `name`: see [`Aggregate`].
    pub fn create_aggregate_function<A, D, T>(
        &self,
        name: &str,
        n_args: i32,
        flags: FunctionFlags,
        aggr: D,
    ) -> Result<()>
    where
        A: 'static,
        D: Aggregate<A, T>,
        T: ToSql + 'static,
    {
        check_args(name, n_args)?;
        let erased: Erased<D, A, T> = Erased { d: aggr, window: None, _types: PhantomData };
        self.raw.create_aggregate_function(name, n_args, flags.bits(), Box::new(erased), false)?;
        self.flush_statement_cache();
        Ok(())
    }

    /// Register (or replace) the aggregate and window SQL function `name`: see [`WindowAggregate`].
    pub fn create_window_function<A, W, T>(&self, name: &str, n_args: i32, flags: FunctionFlags, aggr: W) -> Result<()>
    where
        A: 'static,
        W: WindowAggregate<A, T>,
        T: ToSql + 'static,
    {
        check_args(name, n_args)?;
        let window = WindowFns::<A, T> {
            value: Box::new(|d, acc| d.downcast_ref::<W>().ok_or_else(wrong_accumulator)?.value(acc)),
            inverse: Box::new(|d, ctx, acc| d.downcast_ref::<W>().ok_or_else(wrong_accumulator)?.inverse(ctx, acc)),
        };
        let erased: Erased<W, A, T> = Erased { d: aggr, window: Some(window), _types: PhantomData };
        self.raw.create_aggregate_function(name, n_args, flags.bits(), Box::new(erased), true)?;
        self.flush_statement_cache();
        Ok(())
    }

    /// Register (or replace) the collation `name`, for `COLLATE name` and column declarations. Text that is not
    /// UTF-8 reaches `cmp` with U+FFFD in place of invalid sequences. A panic interrupts the statement.
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// let conn = asqlite::blocking::Connection::open_in_memory()?;
    /// conn.create_collation("by_length", |a: &str, b: &str| a.len().cmp(&b.len()))?;
    /// let sql = "SELECT column1 FROM (VALUES ('ccc'), ('a'), ('bb')) ORDER BY column1 COLLATE by_length";
    /// let first: String = conn.query_row(sql, (), |r| r.get(0))?;
    /// assert_eq!(first, "a");
    /// # Ok(()) }
    /// ```
    pub fn create_collation<C>(&self, name: &str, cmp: C) -> Result<()>
    where
        C: Fn(&str, &str) -> Ordering + Send + 'static,
    {
        self.raw.create_collation(name, Box::new(cmp))?;
        self.flush_statement_cache();
        Ok(())
    }

    /// Remove the function `name` registered with `n_args` arguments; its closure is dropped.
    pub fn remove_function(&self, name: &str, n_args: i32) -> Result<()> {
        check_args(name, n_args)?;
        self.flush_statement_cache();
        self.raw.remove_function(name, n_args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement that runs application code must never be offered to run inline: the cache reports no cost for
    /// it (the authorizer saw the call, or the program names a function or collation of the connection).
    #[test]
    fn statements_running_user_code_are_never_cheap_enough_to_run_inline() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").unwrap();
        c.create_scalar_function("f", 1, FunctionFlags::DETERMINISTIC, |ctx| ctx.get::<Value>(0)).unwrap();
        c.create_collation("c", |a: &str, b: &str| a.cmp(b)).unwrap();
        c.execute_batch("CREATE VIEW via_view AS SELECT f(v) AS fv FROM t").unwrap();
        let cost = |sql: &str| {
            c.query(sql, ()).unwrap();
            c.cached_read_cost(sql)
        };
        assert!(cost("SELECT v FROM t WHERE id = 1").is_some(), "the control");
        assert_eq!(cost("SELECT f(v) FROM t WHERE id = 1"), None, "a direct call");
        assert_eq!(cost("SELECT F(v) FROM t WHERE id = 1"), None, "names are case-insensitive");
        assert_eq!(cost("SELECT fv FROM via_view"), None, "a call inside a view");
        assert_eq!(cost("SELECT v FROM t ORDER BY v COLLATE c"), None, "a collation");
        assert!(cost("SELECT upper(v) FROM t WHERE id = 1").is_some(), "a built-in function is no user code");
    }
}
