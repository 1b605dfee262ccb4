//! Application-defined SQL functions and collations: the C trampolines.
//!
//! Every callback SQLite calls here runs the application's closure under `catch_unwind`: a panic never unwinds
//! into C. A scalar, aggregate or window function's panic or error becomes an SQL error of the statement
//! (`sqlite3_result_error`); a collation cannot report one, so its panic interrupts the statement instead. Each
//! closure is boxed and handed to SQLite as the function's user data, with a destructor that SQLite calls when the
//! function is replaced or removed, or the connection closes (and, for functions, when registering fails).
//!
//! A closure is kept in a `RefCell`: SQLite calls a function again from inside itself only if the function runs SQL
//! on its own connection (which the safe API gives it no way to do); such a call fails with an SQL error instead
//! of aliasing the closure.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use libsqlite3_sys as ffi;

use super::statement::Column;
use super::{RawConnection, RawStatement};
use crate::value::{Value, ValueRef};
use crate::{Error, ErrorKind, Result};

/// The arguments of one call of a function, as SQLite holds them.
#[derive(Clone, Copy)]
pub(crate) struct RawArgs<'a> {
    values: &'a [*mut ffi::sqlite3_value],
}

impl<'a> RawArgs<'a> {
    /// # Safety
    ///
    /// `argv` points at `argc` values valid for `'a` (what SQLite passes to a function's callback), or `argc` is 0.
    unsafe fn new(argc: c_int, argv: *mut *mut ffi::sqlite3_value) -> Self {
        let n = usize::try_from(argc).unwrap_or(0);
        let values = if n == 0 || argv.is_null() {
            &[][..]
        } else {
            // SAFETY: the caller guarantees `argv` holds `argc` valid pointers for 'a.
            unsafe { std::slice::from_raw_parts(argv, n) }
        };
        RawArgs { values }
    }

    /// No argument (an aggregate's final call).
    pub fn empty() -> Self {
        RawArgs { values: &[] }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Argument `i` (in range), borrowed for the call.
    pub fn value(&self, i: usize) -> Column<'a> {
        let v = self.values[i];
        // SAFETY: `v` is a protected sqlite3_value of the running call, valid for 'a. For text and blobs we read the
        // pointer first and the length second, the order SQLite documents; the bytes stay valid until the call
        // returns (no conversion is requested on the value meanwhile).
        unsafe {
            match ffi::sqlite3_value_type(v) {
                ffi::SQLITE_INTEGER => Column::Value(ValueRef::Integer(ffi::sqlite3_value_int64(v))),
                ffi::SQLITE_FLOAT => Column::Value(ValueRef::Real(ffi::sqlite3_value_double(v))),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_value_text(v);
                    let n = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                    let bytes = if p.is_null() || n == 0 { &[][..] } else { std::slice::from_raw_parts(p, n) };
                    match std::str::from_utf8(bytes) {
                        Ok(s) => Column::Value(ValueRef::Text(s)),
                        Err(_) => Column::NonUtf8Text(bytes),
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_value_blob(v);
                    let n = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                    let bytes =
                        if p.is_null() || n == 0 { &[][..] } else { std::slice::from_raw_parts(p.cast::<u8>(), n) };
                    Column::Value(ValueRef::Blob(bytes))
                }
                _ => Column::Value(ValueRef::Null),
            }
        }
    }
}

/// A collation's comparison.
pub(crate) type CompareFn = Box<dyn Fn(&str, &str) -> Ordering + Send>;

/// A scalar function: arguments in, one value (or an error) out.
pub(crate) type ScalarFn = Box<dyn FnMut(RawArgs<'_>) -> Result<Value> + Send>;

/// An aggregate or window function, type-erased: the accumulator is a `Box<dyn Any>` kept in SQLite's aggregate
/// context.
pub(crate) trait AggregateFns: Send {
    /// The first row's arguments are at hand.
    fn init(&mut self, args: RawArgs<'_>) -> Result<Box<dyn std::any::Any>>;
    fn step(&mut self, args: RawArgs<'_>, acc: &mut dyn std::any::Any) -> Result<()>;
    /// `acc` is None when no row was stepped (or the first step failed before making one).
    fn finalize(&mut self, acc: Option<Box<dyn std::any::Any>>) -> Result<Value>;
    /// Window functions only.
    fn value(&mut self, acc: Option<&mut dyn std::any::Any>) -> Result<Value>;
    /// Window functions only.
    fn inverse(&mut self, args: RawArgs<'_>, acc: &mut dyn std::any::Any) -> Result<()>;
}

/// What SQLite keeps as a function's user data.
struct FnData<F: ?Sized> {
    name: Box<str>,
    f: RefCell<Box<F>>,
}

/// A collation's user data: the comparison and the connection to interrupt if it panics.
struct CollationData {
    db: *mut ffi::sqlite3,
    cmp: CompareFn,
}

/// Set the result of a call.
///
/// # Safety
///
/// `ctx` is the context of the running call.
unsafe fn set_result(ctx: *mut ffi::sqlite3_context, value: ValueRef<'_>) {
    // SAFETY: `ctx` is live for the call (caller); text and blob pointers are valid for their lengths for this call
    // and SQLITE_TRANSIENT makes SQLite copy them before returning.
    unsafe {
        match value {
            ValueRef::Null => ffi::sqlite3_result_null(ctx),
            ValueRef::Integer(i) => ffi::sqlite3_result_int64(ctx, i),
            ValueRef::Real(r) => ffi::sqlite3_result_double(ctx, r),
            ValueRef::Text(s) => ffi::sqlite3_result_text64(
                ctx,
                s.as_ptr().cast(),
                u64::try_from(s.len()).unwrap_or(u64::MAX),
                ffi::SQLITE_TRANSIENT(),
                u8::try_from(ffi::SQLITE_UTF8).unwrap_or(1),
            ),
            ValueRef::Blob(b) => ffi::sqlite3_result_blob64(
                ctx,
                b.as_ptr().cast(),
                u64::try_from(b.len()).unwrap_or(u64::MAX),
                ffi::SQLITE_TRANSIENT(),
            ),
        }
    }
}

/// Report an error as the call's result.
///
/// # Safety
///
/// `ctx` is the context of the running call.
unsafe fn set_error(ctx: *mut ffi::sqlite3_context, e: &Error) {
    if e.kind() == ErrorKind::TooBig {
        // SAFETY: `ctx` is live for the call.
        unsafe { ffi::sqlite3_result_error_toobig(ctx) };
        return;
    }
    let msg = e.message().replace('\0', " ");
    let len = c_int::try_from(msg.len()).unwrap_or(c_int::MAX);
    // SAFETY: `ctx` is live; the message is `len` valid bytes (SQLite copies it; no NUL needed with a length).
    unsafe { ffi::sqlite3_result_error(ctx, msg.as_ptr().cast::<c_char>(), len) };
}

/// Run a callback's body, turning a panic into an error naming the function.
fn guard<R>(name: &str, f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned());
        Err(Error::new(ErrorKind::Panicked, format!("the SQL function {name} panicked: {msg}")))
    })
}

#[cold]
fn reentered(name: &str) -> Error {
    Error::new(ErrorKind::Misuse, format!("the SQL function {name} was called again from inside itself"))
}

/// The user data of the running call.
///
/// # Safety
///
/// `ctx` is the context of a call of a function registered here with `FnData<F>` as its user data.
unsafe fn data<'a, F: ?Sized>(ctx: *mut ffi::sqlite3_context) -> &'a FnData<F> {
    // SAFETY: the user data is the `FnData<F>` boxed at registration and freed only by the destructor, which SQLite
    // calls after the last call; calls run on the connection's thread.
    unsafe { &*ffi::sqlite3_user_data(ctx).cast::<FnData<F>>() }
}

extern "C" fn scalar_call(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: registered with `FnData<ScalarFnInner>` user data; SQLite passes `argc` valid values.
    let (d, args) = unsafe { (data::<ScalarFnInner>(ctx), RawArgs::new(argc, argv)) };
    let out = guard(&d.name, || {
        let mut f = d.f.try_borrow_mut().map_err(|_| reentered(&d.name))?;
        (f)(args)
    });
    // SAFETY: `ctx` is the running call's.
    unsafe {
        match out {
            Ok(v) => set_result(ctx, v.as_ref()),
            Err(e) => set_error(ctx, &e),
        }
    }
}

type ScalarFnInner = dyn FnMut(RawArgs<'_>) -> Result<Value> + Send;
type AggInner = dyn AggregateFns;

/// The accumulator slot in SQLite's aggregate context: a pointer to the boxed accumulator (null until the first
/// step). With `create`, the slot is allocated if missing; None when SQLite has no memory for it.
///
/// # Safety
///
/// `ctx` is the context of a running aggregate call.
unsafe fn acc_slot(ctx: *mut ffi::sqlite3_context, create: bool) -> Option<*mut *mut Box<dyn std::any::Any>> {
    let size =
        if create { c_int::try_from(std::mem::size_of::<*mut Box<dyn std::any::Any>>()).unwrap_or(8) } else { 0 };
    // SAFETY: `ctx` is live; SQLite returns zeroed memory of `size` bytes on the first call for this group (null
    // when `size` is 0 and none was allocated), aligned for a pointer (it is 8-byte aligned).
    let p = unsafe { ffi::sqlite3_aggregate_context(ctx, size) };
    (!p.is_null()).then(|| p.cast::<*mut Box<dyn std::any::Any>>())
}

extern "C" fn agg_step(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    agg_step_or_inverse(ctx, argc, argv, false);
}

extern "C" fn agg_inverse(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    agg_step_or_inverse(ctx, argc, argv, true);
}

fn agg_step_or_inverse(ctx: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value, inv: bool) {
    // SAFETY: registered with `FnData<AggInner>` user data; SQLite passes `argc` valid values.
    let (d, args) = unsafe { (data::<AggInner>(ctx), RawArgs::new(argc, argv)) };
    // SAFETY: `ctx` is the running aggregate call's.
    let Some(slot) = (unsafe { acc_slot(ctx, true) }) else {
        // SAFETY: as above.
        unsafe { ffi::sqlite3_result_error_nomem(ctx) };
        return;
    };
    let out = guard(&d.name, || {
        let mut f = d.f.try_borrow_mut().map_err(|_| reentered(&d.name))?;
        // SAFETY: the slot holds null or a pointer made by Box::into_raw below, owned by this group's context.
        let acc = unsafe {
            if (*slot).is_null() {
                *slot = Box::into_raw(Box::new(f.init(args)?));
            }
            &mut **slot
        };
        if inv {
            f.inverse(args, &mut **acc)
        } else {
            f.step(args, &mut **acc)
        }
    });
    if let Err(e) = out {
        // SAFETY: as above.
        unsafe { set_error(ctx, &e) };
    }
}

extern "C" fn agg_final(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: registered with `FnData<AggInner>` user data.
    let d = unsafe { data::<AggInner>(ctx) };
    // SAFETY: the slot (if any) holds null or a pointer from Box::into_raw; taking it here frees it exactly once
    // (SQLite calls xFinal once per group, also after a step failed).
    let acc = unsafe {
        acc_slot(ctx, false).and_then(|slot| {
            let p = std::mem::replace(&mut *slot, ptr::null_mut());
            (!p.is_null()).then(|| *Box::from_raw(p))
        })
    };
    let out = guard(&d.name, || {
        let mut f = d.f.try_borrow_mut().map_err(|_| reentered(&d.name))?;
        f.finalize(acc)
    });
    // SAFETY: `ctx` is the running call's.
    unsafe {
        match out {
            Ok(v) => set_result(ctx, v.as_ref()),
            Err(e) => set_error(ctx, &e),
        }
    }
}

extern "C" fn agg_value(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: registered with `FnData<AggInner>` user data.
    let d = unsafe { data::<AggInner>(ctx) };
    let out = guard(&d.name, || {
        let mut f = d.f.try_borrow_mut().map_err(|_| reentered(&d.name))?;
        // SAFETY: the slot holds null or a live pointer from Box::into_raw; it is only borrowed here.
        let acc = unsafe { acc_slot(ctx, false).and_then(|slot| (*slot).as_mut()) };
        f.value(acc.map(|b| &mut **b))
    });
    // SAFETY: `ctx` is the running call's.
    unsafe {
        match out {
            Ok(v) => set_result(ctx, v.as_ref()),
            Err(e) => set_error(ctx, &e),
        }
    }
}

extern "C" fn destroy<F: ?Sized>(p: *mut c_void) {
    // SAFETY: `p` is the `Box<FnData<F>>` leaked at registration; SQLite calls the destructor once.
    drop(unsafe { Box::from_raw(p.cast::<FnData<F>>()) });
}

extern "C" fn collation_call(data: *mut c_void, n1: c_int, p1: *const c_void, n2: c_int, p2: *const c_void) -> c_int {
    // SAFETY: registered with `CollationData` user data, freed only by the destructor; SQLite passes two strings of
    // the given lengths, valid for the call.
    let (d, a, b) = unsafe {
        let bytes = |p: *const c_void, n: c_int| {
            let n = usize::try_from(n).unwrap_or(0);
            if p.is_null() || n == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(p.cast::<u8>(), n)
            }
        };
        (&*data.cast::<CollationData>(), bytes(p1, n1), bytes(p2, n2))
    };
    let out = catch_unwind(AssertUnwindSafe(|| (d.cmp)(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b))));
    match out {
        Ok(Ordering::Less) => -1,
        Ok(Ordering::Equal) => 0,
        Ok(Ordering::Greater) => 1,
        Err(_) => {
            // A comparison cannot report an error: stop the statement instead.
            // SAFETY: the connection is open while its collations run; sqlite3_interrupt may be called anywhere.
            unsafe { ffi::sqlite3_interrupt(d.db) };
            0
        }
    }
}

extern "C" fn collation_destroy(p: *mut c_void) {
    // SAFETY: `p` is the `Box<CollationData>` leaked at registration; SQLite calls the destructor once.
    drop(unsafe { Box::from_raw(p.cast::<CollationData>()) });
}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| Error::new(ErrorKind::InvalidInput, format!("{name:?} holds a NUL byte")))
}

impl RawConnection {
    /// Register (or replace) the scalar function `name` taking `n_args` arguments (-1: any number).
    pub fn create_scalar_function(&self, name: &str, n_args: c_int, flags: c_int, f: ScalarFn) -> Result<()> {
        let cname = c_name(name)?;
        let data: Box<FnData<ScalarFnInner>> = Box::new(FnData { name: name.into(), f: RefCell::new(f) });
        let p = Box::into_raw(data);
        // SAFETY: the connection is live and used on its thread; `p` stays valid until SQLite calls `destroy`, which
        // it does when the function is replaced or removed, the connection closes, or this call fails.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                self.handle(),
                cname.as_ptr(),
                n_args,
                ffi::SQLITE_UTF8 | flags,
                p.cast(),
                Some(scalar_call),
                None,
                None,
                Some(destroy::<ScalarFnInner>),
            )
        };
        self.check(rc)?;
        self.progress.hooks.note_function(name);
        Ok(())
    }

    /// Register (or replace) an aggregate function; with `window`, also a window function (inverse and value).
    pub fn create_aggregate_function(
        &self,
        name: &str,
        n_args: c_int,
        flags: c_int,
        f: Box<dyn AggregateFns>,
        window: bool,
    ) -> Result<()> {
        let cname = c_name(name)?;
        let data: Box<FnData<AggInner>> = Box::new(FnData { name: name.into(), f: RefCell::new(f) });
        let p = Box::into_raw(data);
        let (value, inverse): (Option<unsafe extern "C" fn(_)>, Option<unsafe extern "C" fn(_, _, _)>) =
            if window { (Some(agg_value), Some(agg_inverse)) } else { (None, None) };
        // SAFETY: as in `create_scalar_function`; sqlite3_create_window_function with null value/inverse callbacks
        // registers a plain aggregate, and calls `destroy` on failure too.
        let rc = unsafe {
            ffi::sqlite3_create_window_function(
                self.handle(),
                cname.as_ptr(),
                n_args,
                ffi::SQLITE_UTF8 | flags,
                p.cast(),
                Some(agg_step),
                Some(agg_final),
                value,
                inverse,
                Some(destroy::<AggInner>),
            )
        };
        self.check(rc)?;
        self.progress.hooks.note_function(name);
        Ok(())
    }

    /// Remove the function `name` with `n_args` arguments (its closure is freed).
    pub fn remove_function(&self, name: &str, n_args: c_int) -> Result<()> {
        let cname = c_name(name)?;
        // SAFETY: registering no callbacks deletes the function; SQLite frees the old user data with its destructor.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                self.handle(),
                cname.as_ptr(),
                n_args,
                ffi::SQLITE_UTF8,
                ptr::null_mut(),
                None,
                None,
                None,
                None,
            )
        };
        self.check(rc)
    }

    /// Register (or replace) the collation `name`.
    pub fn create_collation(&self, name: &str, cmp: CompareFn) -> Result<()> {
        let cname = c_name(name)?;
        let p = Box::into_raw(Box::new(CollationData { db: self.handle(), cmp }));
        // SAFETY: the connection is live and used on its thread; `p` stays valid until SQLite calls
        // `collation_destroy` (replaced, removed, or the connection closed).
        let rc = unsafe {
            ffi::sqlite3_create_collation_v2(
                self.handle(),
                cname.as_ptr(),
                ffi::SQLITE_UTF8,
                p.cast(),
                Some(collation_call),
                Some(collation_destroy),
            )
        };
        if rc != ffi::SQLITE_OK {
            // SQLite does not call the destructor when registering fails.
            // SAFETY: `p` came from Box::into_raw above and SQLite kept no copy of it.
            drop(unsafe { Box::from_raw(p) });
            return self.check(rc);
        }
        self.progress.hooks.note_collation(name);
        Ok(())
    }
}

impl RawStatement {
    /// Whether the `p4` operand of any instruction of the statement's program (as `EXPLAIN` lists it) contains one
    /// of `needles` (lowercase), ignoring case: that is where a program names the functions it calls and the
    /// collations it compares with. Any failure answers true (the cautious answer).
    fn program_mentions(&self, needles: &[String]) -> bool {
        // EXPLAIN's columns: addr, opcode, p1, p2, p3, p4, p5, comment.
        self.program_has(|s| match s.column_value(5) {
            Column::Value(ValueRef::Text(p4)) => {
                let p4 = p4.to_ascii_lowercase();
                needles.iter().any(|n| p4.contains(n.as_str()))
            }
            _ => false,
        })
    }
}

impl RawConnection {
    /// Mark a statement just compiled if it runs application code: it calls an application-defined function (the
    /// authorizer saw the call), or, for a read on a connection that has any, its program names one of them or
    /// one of its collations (a function inside a view or a generated column, a collation of a column or an
    /// index, which the authorizer does not report). Only reads can run inline, so only reads are examined.
    pub(super) fn note_user_code(&self, stmt: RawStatement) -> RawStatement {
        let h = self.hooks();
        if h.take_user_code() || (h.has_user_code() && stmt.readonly() && stmt.program_mentions(&h.user_code_names())) {
            stmt.running_user_code()
        } else {
            stmt
        }
    }
}
