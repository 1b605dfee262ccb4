//! Statement parameters: [`Params`], built by [`params!`](crate::params) and
//! [`named_params!`](crate::named_params).
//!
//! Parameters are owned values so they can cross to a worker thread. A conversion that fails while the parameters
//! are built (a `u64` above `i64::MAX`, say) is kept and reported when the statement is bound, so the macros stay
//! expressions and never panic.

use std::borrow::Cow;
use std::cell::Cell;

use crate::ffi::RawStatement;
use crate::value::{SqlArg, ToSql, Value, ValueRef};
use crate::Error;

/// The parameters of one run of a statement, as `execute`, `query`, `query_one`, `query_opt`, `query_map`,
/// `query_row` and `stream` take them, and each row `execute_many` takes: [`Params`] (what
/// [`params!`](crate::params) and [`named_params!`](crate::named_params) build, and anything that converts into
/// it: `()`, a `Vec` or array of [`Value`]s), or a tuple of up to eight [`ToSql`] values, bound by position, as
/// rusqlite takes them:
///
/// ```
/// # async fn demo(pool: &asqlite::Pool) -> asqlite::Result<()> {
/// pool.execute("INSERT INTO cars (make, year) VALUES (?1, ?2)", ("Honda Civic", 2012)).await?;
/// let row = pool.query_one("SELECT year FROM cars WHERE make = ?1 AND year > ?2", ("Honda Civic", 2000)).await?;
/// # let _ = row; Ok(()) }
/// ```
///
/// In `execute_many`, a tuple binds straight from where it is and copies no text or blob on the way (SQLite copies
/// them once), which makes it the fastest way to insert many rows:
///
/// ```
/// # async fn demo(pool: &asqlite::Pool) -> asqlite::Result<()> {
/// let cars: Vec<(String, i64)> = vec![("Honda Civic".into(), 2012), ("Toyota Prius".into(), 2020)];
/// let n = pool
///     .execute_many("INSERT INTO cars (make, year) VALUES (?1, ?2)", cars.into_iter())
///     .await?;
/// # let _ = n; Ok(()) }
/// ```
pub trait BindRow: sealed::Sealed {
    #[doc(hidden)]
    fn bind_row(self, to: Binder<'_>) -> crate::Result<()>;

    /// The values as owned [`Params`] (a tuple's values converted by position; a conversion that fails is kept and
    /// reported when the statement is bound).
    fn into_params(self) -> Params;
}

/// Where a [`BindRow`] binds its values (opaque).
#[doc(hidden)]
pub struct Binder<'a>(pub(crate) &'a RawStatement);

impl std::fmt::Debug for Binder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binder").finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
}

impl<T: Into<Params>> sealed::Sealed for T {}

impl<T: Into<Params>> BindRow for T {
    #[inline]
    fn bind_row(self, to: Binder<'_>) -> crate::Result<()> {
        crate::blocking::statement::bind_params(to.0, &mut self.into())
    }

    #[inline]
    fn into_params(self) -> Params {
        self.into()
    }
}

macro_rules! bind_tuples {
    ($(($n:literal; $($t:ident . $i:tt),+)),+ $(,)?) => {$(
        impl<$($t: ToSql),+> sealed::Sealed for ($($t,)+) {}

        impl<$($t: ToSql),+> BindRow for ($($t,)+) {
            #[inline]
            fn bind_row(self, to: Binder<'_>) -> crate::Result<()> {
                let raw = to.0;
                let expected = raw.parameter_count();
                if expected != $n {
                    return Err(crate::blocking::statement::count_error(raw, expected, $n));
                }
                $(
                    let v = self.$i.to_sql_ref().map_err(|e| e.with_sql(raw.sql()))?;
                    raw.bind_ref($i + 1, v.as_ref())?;
                )+
                Ok(())
            }

            #[inline]
            fn into_params(self) -> Params {
                let mut p = Params::positional_with_capacity($n);
                $( p.push(&self.$i); )+
                p
            }
        }
    )+};
}

bind_tuples!(
    (1; A.0),
    (2; A.0, B.1),
    (3; A.0, B.1, C.2),
    (4; A.0, B.1, C.2, D.3),
    (5; A.0, B.1, C.2, D.3, E.4),
    (6; A.0, B.1, C.2, D.3, E.4, F.5),
    (7; A.0, B.1, C.2, D.3, E.4, F.5, G.6),
    (8; A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7),
);

/// Named [`Params`] bound to `?` placeholders by position: placeholder `i + 1` takes the `order[i]`-th named value.
/// For a layer above the driver that writes `?` for named values (the query layer's `execute_many` of named rows):
/// each row binds where it is, nothing copied on the way.
#[derive(Debug)]
pub struct NamedInOrder {
    params: Params,
    order: std::sync::Arc<[usize]>,
}

impl NamedInOrder {
    /// `params`' named values in the order `order` gives (indexes into [`Params::named_pairs`]).
    pub fn new(params: Params, order: std::sync::Arc<[usize]>) -> Self {
        NamedInOrder { params, order }
    }
}

impl sealed::Sealed for NamedInOrder {}

impl BindRow for NamedInOrder {
    fn bind_row(mut self, to: Binder<'_>) -> crate::Result<()> {
        let raw = to.0;
        if let Some(e) = self.params.take_error() {
            return Err(e.with_sql(raw.sql()));
        }
        let expected = raw.parameter_count();
        if expected != self.order.len() {
            return Err(crate::blocking::statement::count_error(raw, expected, self.order.len()));
        }
        let pairs = self.params.named_pairs();
        for (i, &k) in self.order.iter().enumerate() {
            let Some((_, v)) = pairs.get(k) else {
                return Err(crate::blocking::statement::count_error(raw, expected, pairs.len()));
            };
            raw.bind(i + 1, v)?;
        }
        Ok(())
    }

    fn into_params(self) -> Params {
        let pairs = self.params.named_pairs();
        let mut p =
            Params::positional(self.order.iter().map(|&k| pairs.get(k).map_or(Value::Null, |(_, v)| v.clone())));
        p.error = self.params.error;
        p
    }
}

impl sealed::Sealed for crate::blocking::PackedSet<'_> {}

impl BindRow for crate::blocking::PackedSet<'_> {
    fn bind_row(self, to: Binder<'_>) -> crate::Result<()> {
        let raw = to.0;
        let expected = raw.parameter_count();
        if expected != self.width() {
            return Err(crate::blocking::statement::count_error(raw, expected, self.width()));
        }
        self.bind(raw)
    }

    fn into_params(self) -> Params {
        Params::positional((0..self.width()).map(|i| self.value(i).to_owned()))
    }
}

/// Parameters for one execution of a statement: positional, named, or none.
#[derive(Debug, Default)]
pub struct Params {
    pub(crate) kind: ParamsKind,
    pub(crate) error: Option<Error>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum ParamsKind {
    #[default]
    None,
    /// One positional value, the common case of a lookup by key, kept without a heap allocation. (Keeping a few
    /// more inline made every `Params` bigger to move, which cost point queries more than it saved inserts.)
    One(Value),
    Positional(Vec<Value>),
    /// One named value (a lookup by key, by name), without a heap allocation.
    NamedOne((Cow<'static, str>, Value)),
    Named(Vec<(Cow<'static, str>, Value)>),
}

thread_local! {
    /// The list of named pairs that [`Params::__release`] kept from a set it dropped, empty when there is none: the
    /// next [`named_params!`](crate::named_params) of several values on this thread fills it rather than allocating
    /// its own. A layer that builds a set, consumes it and drops it once per row (the query layer's `execute_many`
    /// of `named_params!` rows) thus allocates no list per row.
    static SPARE_PAIRS: Cell<Vec<(Cow<'static, str>, Value)>> = const { Cell::new(Vec::new()) };
}

/// The largest list [`Params::__release`] keeps (pairs); a larger one is freed as usual.
const SPARE_PAIRS_MOST: usize = 16;

/// The longest text (bytes of capacity) a kept list keeps for the next row's text.
const SPARE_TEXT_MOST: usize = 256;

/// `value` as a `Value`; one that does not convert is `NULL`, its error kept in `error` unless one is there already
/// (a conversion error is reported when the parameters are used, the first one).
#[inline]
fn value_or_null<T: ToSql + ?Sized>(value: &T, error: &mut Option<Error>) -> Value {
    or_null(value.to_sql(), error)
}

/// A converted value, or `NULL` with the conversion's error kept in `error` unless one is there already.
#[inline]
fn or_null(converted: crate::Result<Value>, error: &mut Option<Error>) -> Value {
    converted.unwrap_or_else(|e| {
        error.get_or_insert(e);
        Value::Null
    })
}

impl Params {
    /// No parameters.
    pub const fn none() -> Self {
        Params { kind: ParamsKind::None, error: None }
    }

    /// Positional parameters with room for `n` values.
    pub fn positional_with_capacity(n: usize) -> Self {
        let kind = if n <= 1 { ParamsKind::None } else { ParamsKind::Positional(Vec::with_capacity(n)) };
        Params { kind, error: None }
    }

    /// Named parameters with room for `n` values.
    pub fn named_with_capacity(n: usize) -> Self {
        let kind = if n <= 1 { ParamsKind::None } else { ParamsKind::Named(Vec::with_capacity(n)) };
        Params { kind, error: None }
    }

    /// Positional parameters from values.
    pub fn positional<I, V>(values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        Params { kind: ParamsKind::Positional(values.into_iter().map(Into::into).collect()), error: None }
    }

    /// Named parameters from `(name, value)` pairs; a name may carry its `:`, `@` or `$` prefix or none.
    pub fn named<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'static, str>>,
        V: Into<Value>,
    {
        Params { kind: ParamsKind::Named(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect()), error: None }
    }

    /// Append a positional value (used by [`params!`](crate::params)).
    pub fn push<T: ToSql + ?Sized>(&mut self, value: &T) {
        let v = self.convert(value);
        self.push_value(v);
    }

    /// Append a positional value that is already a [`Value`] (no conversion, no copy).
    pub fn push_value(&mut self, v: Value) {
        match &mut self.kind {
            ParamsKind::Positional(vs) => vs.push(v),
            ParamsKind::None => self.kind = ParamsKind::One(v),
            ParamsKind::One(_) => {
                if let ParamsKind::One(first) = std::mem::take(&mut self.kind) {
                    self.kind = ParamsKind::Positional(vec![first, v]);
                }
            }
            ParamsKind::Named(_) | ParamsKind::NamedOne(_) => self.fail("cannot mix positional and named parameters"),
        }
    }

    /// Append a named value (used by [`named_params!`](crate::named_params)).
    pub fn push_named<T: ToSql + ?Sized>(&mut self, name: impl Into<Cow<'static, str>>, value: &T) {
        let v = self.convert(value);
        match &mut self.kind {
            ParamsKind::Named(vs) => vs.push((name.into(), v)),
            ParamsKind::None => self.kind = ParamsKind::NamedOne((name.into(), v)),
            ParamsKind::NamedOne(_) => {
                if let ParamsKind::NamedOne(first) = std::mem::take(&mut self.kind) {
                    self.kind = ParamsKind::Named(vec![first, (name.into(), v)]);
                }
            }
            ParamsKind::One(_) | ParamsKind::Positional(_) => {
                self.fail("cannot mix positional and named parameters");
            }
        }
    }

    /// Pair `*at` of a [`named_params!`](crate::named_params) put in `pairs` (a list [`__named_start`] gave: it may
    /// hold a released row's pairs, which are overwritten): a value that does not convert is kept as `NULL`, and the
    /// first such error in `error`. Text put where the released row held text is copied into that row's `String`,
    /// so uniform rows of text allocate nothing.
    ///
    /// [`__named_start`]: Self::__named_start
    #[doc(hidden)]
    #[inline]
    pub fn __named_put<T: ToSql + ?Sized>(
        pairs: &mut Vec<(Cow<'static, str>, Value)>,
        at: &mut usize,
        name: impl Into<Cow<'static, str>>,
        value: &T,
        error: &mut Option<Error>,
    ) {
        let i = *at;
        *at += 1;
        let converted = match value.to_sql_ref() {
            Ok(SqlArg::Borrowed(ValueRef::Text(t))) => {
                if let Some((n, Value::Text(s))) = pairs.get_mut(i) {
                    s.clear();
                    s.push_str(t);
                    *n = name.into();
                    return;
                }
                Ok(Value::Text(t.to_owned()))
            }
            Ok(SqlArg::Borrowed(v)) => Ok(v.to_owned()),
            Ok(SqlArg::Owned(v)) => Ok(v),
            Err(e) => Err(e),
        };
        let value = or_null(converted, error);
        match pairs.get_mut(i) {
            Some(slot) => *slot = (name.into(), value),
            None => pairs.push((name.into(), value)),
        }
    }

    /// An empty list for the pairs of a [`named_params!`](crate::named_params) of `n` values: the one
    /// [`__release`](Self::__release) kept on this thread, if there is one.
    #[doc(hidden)]
    #[inline]
    pub fn __named_start(n: usize) -> Vec<(Cow<'static, str>, Value)> {
        let mut list = SPARE_PAIRS.try_with(Cell::take).unwrap_or_default();
        list.reserve(n.saturating_sub(list.len()));
        list
    }

    /// The parameters [`named_params!`](crate::named_params) built: several named pairs, and the first conversion
    /// error.
    #[doc(hidden)]
    #[inline]
    pub fn __named_list(mut pairs: Vec<(Cow<'static, str>, Value)>, len: usize, error: Option<Error>) -> Self {
        pairs.truncate(len);
        Params { kind: ParamsKind::Named(pairs), error }
    }

    /// Drop these parameters, keeping the buffer of a list of named values for the next
    /// [`named_params!`](crate::named_params) of several values built on this thread (one buffer per thread, of at
    /// most 16 pairs). For a layer that consumes sets one at a time as they are built, such as the query layer's
    /// `execute_many` of `named_params!` rows: each row then costs no allocation for its list.
    #[doc(hidden)]
    #[inline]
    pub fn __release(self) {
        if let ParamsKind::Named(mut list) = self.kind {
            if list.capacity() <= SPARE_PAIRS_MOST {
                // Short text is kept for the next row's text in the same place; anything else is let go.
                for (_, v) in &mut list {
                    if !matches!(v, Value::Text(s) if s.capacity() <= SPARE_TEXT_MOST) {
                        *v = Value::Null;
                    }
                }
                let _ = SPARE_PAIRS.try_with(|spare| spare.set(list));
            }
        }
    }

    fn convert<T: ToSql + ?Sized>(&mut self, value: &T) -> Value {
        value_or_null(value, &mut self.error)
    }

    #[cold]
    fn fail(&mut self, msg: &str) {
        self.error.get_or_insert_with(|| Error::new(crate::ErrorKind::InvalidInput, msg));
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        match &self.kind {
            ParamsKind::None => 0,
            ParamsKind::One(_) => 1,
            ParamsKind::Positional(v) => v.len(),
            ParamsKind::NamedOne(_) => 1,
            ParamsKind::Named(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names of named parameters, in order (empty for positional ones).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.named_pairs().iter().map(|(k, _)| k.as_ref())
    }

    /// Look a named value up; the name matches with or without its prefix.
    pub fn get_named(&self, name: &str) -> Option<&Value> {
        let bare = strip_prefix(name);
        self.named_pairs().iter().find(|(k, _)| strip_prefix(k) == bare).map(|(_, v)| v)
    }

    /// The `(name, value)` pairs of named parameters, names as given (empty for positional ones).
    pub fn named_pairs(&self) -> &[(Cow<'static, str>, Value)] {
        match &self.kind {
            ParamsKind::Named(v) => v,
            ParamsKind::NamedOne(p) => std::slice::from_ref(p),
            _ => &[],
        }
    }

    /// Whether these are named parameters.
    pub fn is_named(&self) -> bool {
        matches!(self.kind, ParamsKind::Named(_) | ParamsKind::NamedOne(_))
    }

    /// The positional values (empty for named parameters).
    pub fn positional_values(&self) -> &[Value] {
        match &self.kind {
            ParamsKind::One(v) => std::slice::from_ref(v),
            ParamsKind::Positional(v) => v,
            _ => &[],
        }
    }

    /// The conversion error building the parameters hit, if any (a `u64` above `i64::MAX`, say); binding
    /// reports it.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Whether a value failed to convert (binding then reports it, and takes it).
    pub(crate) fn has_error(&self) -> bool {
        self.error.is_some()
    }

    /// Take the conversion error, if building the parameters hit one.
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

/// The name of a parameter without its `:`, `@` or `$` prefix.
pub(crate) fn strip_prefix(name: &str) -> &str {
    name.strip_prefix([':', '@', '$']).unwrap_or(name)
}

impl Clone for Params {
    fn clone(&self) -> Self {
        let error = self.error.as_ref().map(|e| Error::new(e.kind(), e.message().to_owned()));
        Params { kind: self.kind.clone(), error }
    }
}

impl From<()> for Params {
    fn from((): ()) -> Self {
        Params::none()
    }
}

impl From<Vec<Value>> for Params {
    fn from(v: Vec<Value>) -> Self {
        Params { kind: ParamsKind::Positional(v), error: None }
    }
}

impl<const N: usize> From<[Value; N]> for Params {
    fn from(v: [Value; N]) -> Self {
        Params { kind: ParamsKind::Positional(v.into()), error: None }
    }
}

impl From<Vec<(String, Value)>> for Params {
    fn from(v: Vec<(String, Value)>) -> Self {
        Params::named(v)
    }
}

/// Build positional [`Params`]: `params![1, "two", 3.0, None::<i64>]`.
///
/// Any type that implements [`ToSql`](crate::ToSql) can be a value. The values bind to `?`, `?NNN` or named
/// placeholders by position.
#[macro_export]
macro_rules! params {
    () => { $crate::Params::none() };
    ($($value:expr),+ $(,)?) => {{
        let mut p = $crate::Params::positional_with_capacity(<[()]>::len(&[$($crate::__unit!($value)),+]));
        $( p.push(&$value); )+
        p
    }};
}

/// Build named [`Params`]: `named_params! {":make" => "Honda", "year" => 2012}`.
///
/// A name may carry SQLite's `:`, `@` or `$` prefix; a bare name matches a placeholder with any of them.
#[macro_export]
macro_rules! named_params {
    () => { $crate::Params::none() };
    ($name:expr => $value:expr $(,)?) => {{
        let mut p = $crate::Params::none();
        p.push_named($name, &$value);
        p
    }};
    // Several values: each pair converted straight into a list of the right capacity (a row of `execute_many` is
    // built this way once per row; the list is the one a released row left, if any).
    ($($name:expr => $value:expr),+ $(,)?) => {{
        let mut error = ::std::option::Option::None;
        let mut pairs = $crate::Params::__named_start(<[()]>::len(&[$($crate::__unit!($value)),+]));
        let mut at = 0;
        $( $crate::Params::__named_put(&mut pairs, &mut at, $name, &$value, &mut error); )+
        $crate::Params::__named_list(pairs, at, error)
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __unit {
    ($e:expr) => {
        ()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_named_value_is_kept_inline_and_more_grow_into_a_list() {
        let one = crate::named_params! {":id" => 7};
        assert!(matches!(one.kind, ParamsKind::NamedOne(_)));
        assert!(one.is_named());
        assert_eq!((one.len(), one.get_named("id")), (1, Some(&Value::Integer(7))));
        assert_eq!(one.names().collect::<Vec<_>>(), [":id"]);
        let two = crate::named_params! {"a" => 1, "b" => "x"};
        assert!(matches!(two.kind, ParamsKind::Named(_)));
        assert_eq!(two.get_named(":b"), Some(&Value::Text("x".into())));
        let mut grown = crate::named_params! {"a" => 1};
        grown.push_named("b", &2);
        assert_eq!(grown.names().collect::<Vec<_>>(), ["a", "b"]);
        let mut mixed = crate::named_params! {"a" => 1};
        mixed.push(&2);
        assert!(mixed.error().is_some());
    }

    #[test]
    fn one_value_is_kept_inline_and_more_grow_into_a_list() {
        let one = crate::params![7];
        assert!(matches!(one.kind, ParamsKind::One(Value::Integer(7))));
        assert_eq!((one.len(), one.positional_values()), (1, &[Value::Integer(7)][..]));
        let mut two = crate::params![7];
        two.push(&"x");
        assert!(matches!(two.kind, ParamsKind::Positional(_)));
        assert_eq!(two.positional_values(), &[Value::Integer(7), Value::Text("x".into())]);
        let four = crate::params![1, "x", 2.5, None::<i64>];
        assert_eq!(four.positional_values().len(), 4);
        let mut mixed = crate::params![7];
        mixed.push_named("a", &1);
        assert!(mixed.error().is_some());
        assert!(Params::positional_with_capacity(0).is_empty());
    }

    #[test]
    fn macros_build_params() {
        let p = crate::params![1, "two", 3.5, None::<i64>, vec![1u8, 2]];
        assert_eq!(
            p.positional_values(),
            &[Value::Integer(1), Value::Text("two".into()), Value::Real(3.5), Value::Null, Value::Blob(vec![1, 2])]
        );
        let n = crate::named_params! {":make" => "Honda", "year" => 2012};
        assert_eq!(n.get_named("make"), Some(&Value::Text("Honda".into())));
        assert_eq!(n.get_named("@year"), Some(&Value::Integer(2012)));
        assert!(crate::params![].is_empty());
    }

    /// `named_params!` of several values builds its list at once: the pairs in order, each name and value
    /// evaluated in the order written, and the first value that does not convert kept as the error (its value NULL).
    #[test]
    fn several_named_values_are_built_in_order_with_the_first_error() {
        let mut order = Vec::new();
        let mut note = |what: &'static str| {
            order.push(what);
            what
        };
        let name = String::from("b");
        let p = crate::named_params! {
            note("a") => note("x"), name => u64::MAX, ":c" => i128::MAX, note("d") => note("y"), "e" => 2.5
        };
        assert_eq!(order, ["a", "x", "d", "y"]);
        assert!(p.is_named());
        assert_eq!(p.names().collect::<Vec<_>>(), ["a", "b", ":c", "d", "e"]);
        assert_eq!(
            p.named_pairs().iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            [Value::Text("x".into()), Value::Null, Value::Null, Value::Text("y".into()), Value::Real(2.5)]
        );
        let e = p.error().unwrap();
        assert_eq!(e.kind(), crate::ErrorKind::TypeConversion);
        assert!(e.message().starts_with("u64 value"), "{e}");
        let ok = crate::named_params! {"a" => 1, "b" => "two",};
        assert!(ok.error().is_none());
        assert_eq!(ok.get_named("b"), Some(&Value::Text("two".into())));
    }

    /// The list a released row leaves is the next `named_params!` row's (a row of the query layer's
    /// `execute_many` allocates no list), holding only that row's pairs; it is taken once, and a list too large to
    /// keep is freed as usual.
    #[test]
    fn a_released_named_list_is_the_next_named_rows_list() {
        let spare = || SPARE_PAIRS.with(|s| s.replace(Vec::new())).capacity();
        let row = crate::named_params! {"a" => 1, "b" => "x", "c" => 2.5};
        let at = row.named_pairs().as_ptr();
        row.__release();
        let next = crate::named_params! {"d" => 4, "e" => "y"};
        assert_eq!(next.named_pairs().as_ptr(), at);
        assert_eq!(next.names().collect::<Vec<_>>(), ["d", "e"]);
        assert_eq!(next.get_named("e"), Some(&Value::Text("y".into())));
        let other = crate::named_params! {"f" => 1, "g" => 2};
        assert_ne!(other.named_pairs().as_ptr(), at);
        let big = Params::named((0..=SPARE_PAIRS_MOST).map(|i| (format!("k{i}"), Value::Null)));
        big.__release();
        assert_eq!(spare(), 0);
        crate::params![1, 2].__release();
        assert_eq!(spare(), 0);
        next.__release();
        assert!(spare() >= 2);
    }

    /// Short text of a released row is the next row's text in the same place (copied into its `String`); every
    /// other value, a name, a place that held other text or none, long text and a conversion error are as ever.
    #[test]
    fn a_released_rows_short_text_holds_the_next_rows_text_in_its_place() {
        let text_at = |p: &Params, i: usize| match &p.named_pairs()[i].1 {
            Value::Text(s) => s.as_ptr(),
            other => panic!("not text: {other:?}"),
        };
        let _ = SPARE_PAIRS.with(|s| s.replace(Vec::new()));
        let long = "z".repeat(SPARE_TEXT_MOST + 1);
        let row = crate::named_params! {"a" => "the first row", "b" => 1, "c" => long.as_str(), "d" => vec![1_u8, 2]};
        let kept = text_at(&row, 0);
        row.__release();
        let next =
            crate::named_params! {":x" => String::from("second"), "y" => "new text", "z" => "short", "w" => u64::MAX};
        assert_eq!(text_at(&next, 0), kept, "the first place's String is reused");
        let pairs: Vec<(&str, &Value)> = next.named_pairs().iter().map(|(n, v)| (n.as_ref(), v)).collect();
        assert_eq!(
            pairs,
            [
                (":x", &Value::Text("second".into())),
                ("y", &Value::Text("new text".into())),
                ("z", &Value::Text("short".into())),
                ("w", &Value::Null),
            ]
        );
        assert!(next.error().is_some(), "the value that does not convert is reported");
        next.__release();
        // Fewer values than the released row: only these.
        let last = crate::named_params! {"p" => 7, "q" => "q"};
        assert_eq!(last.names().collect::<Vec<_>>(), ["p", "q"]);
        assert_eq!(
            (last.get_named("p"), last.get_named("q")),
            (Some(&Value::Integer(7)), Some(&Value::Text("q".into())))
        );
    }

    #[test]
    fn conversion_errors_are_deferred() {
        let mut p = crate::params![u64::MAX];
        assert_eq!(p.take_error().unwrap().kind(), crate::ErrorKind::TypeConversion);
    }
}
