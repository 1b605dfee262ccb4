//! `execute_many`'s parameter sets, checked and packed on the caller's side before anything runs.
//!
//! Every set must have the first set's keys. Sets built by one `named_params!` in a loop have them in the same
//! order, down to the same `&'static str`s: for those, where each slot's value lies among a set's pairs is worked
//! out once, from the first set, and every later set in that order is read by position (a set in another order is
//! looked up by name, as the first is). Those names are usually the very same strings, but a literal inlined into
//! two places may have two addresses: the names of the last set found in order by comparing them are kept too, so
//! that the sets after it are recognised by address. Each set's list of pairs is released once packed, for the next
//! `named_params!` row to fill.

use std::borrow::Cow;

use asqlite::{PackedParams, Params, Value};

use crate::compile::{slot_value_ref, Compiled, Slot};
use crate::error::{Error, Result};
use crate::text::strip_param_prefix;

/// Where a slot's value lies in a set whose keys come in the first set's order.
#[derive(Clone, Copy)]
enum Source<'c> {
    /// The `k`-th named pair.
    Pair(usize),
    /// Anywhere else (a literal, a positional value): looked up as for any set.
    Slot(&'c Slot),
}

/// Sets per chunk: a batch larger than one streams to the writer a chunk at a time, each inserted while the caller
/// packs the next. Small enough that a chunk's buffers (16 bytes a value) come from the allocator's heap rather than
/// a fresh mapping each (4096 sets of 3 values measured 0.8 of the pool, 1024 about 0.95, on 100k-row inserts).
pub(super) const CHUNK: usize = 1024;

/// Checks parameter sets against the statement and the first set, and packs their values, a chunk at a time.
pub(super) struct Packer<'c> {
    compiled: &'c Compiled,
    first: Params,
    /// Where each slot's value lies in a set whose keys come in the first set's order.
    plan: Vec<Source<'c>>,
    /// The plan when every slot takes a named pair (an insert of named values): the index of each slot's pair.
    pairs: Option<Box<[usize]>>,
    first_keys: Option<Vec<String>>,
    /// The names of a set in the first set's order (the first set's, then the last set's found so by comparing
    /// names), if they are all `&'static str`s: a set whose names are these same strings is in that order.
    known: Option<Box<[&'static str]>>,
    chunk: PackedParams,
    /// Sets checked so far, the first one included.
    sets: usize,
}

impl<'c> Packer<'c> {
    /// Check and pack the first set.
    pub(super) fn new(compiled: &'c Compiled, first: Params) -> Result<Self> {
        let mut chunk = PackedParams::with_capacity(compiled.slots().len(), 0);
        push(&mut chunk, compiled, &first, compiled.slots().iter().map(Source::Slot))?;
        let pairs = first.named_pairs();
        let plan = compiled
            .slots()
            .iter()
            .map(|s| match s {
                Slot::Named(n) => {
                    let bare = strip_param_prefix(n);
                    match pairs.iter().position(|(k, _)| strip_param_prefix(k) == bare) {
                        Some(k) => Source::Pair(k),
                        None => Source::Slot(s),
                    }
                }
                s => Source::Slot(s),
            })
            .collect::<Vec<_>>();
        let pairs = plan.iter().map(|s| if let Source::Pair(k) = s { Some(*k) } else { None }).collect();
        let known = static_names(&first);
        Ok(Packer { compiled, first, plan, pairs, first_keys: None, known, chunk, sets: 1 })
    }

    /// Check and pack the next set.
    pub(super) fn push(&mut self, p: Params) -> Result<()> {
        let compiled = self.compiled;
        if self.is_known(&p) || self.check_keys(&p)? {
            match &self.pairs {
                // Same keys in the same order as the first set: each slot's pair is where the plan says.
                Some(pairs) if p.error().is_none() => {
                    let values = p.named_pairs();
                    self.chunk.push_set(pairs.iter().filter_map(|&k| values.get(k).map(|(_, v)| v)))?;
                }
                _ => push(&mut self.chunk, compiled, &p, self.plan.iter().copied())?,
            }
        } else {
            push(&mut self.chunk, compiled, &p, compiled.slots().iter().map(Source::Slot))?;
        }
        self.sets += 1;
        // Its list goes to the next `named_params!` row.
        p.__release();
        Ok(())
    }

    /// Whether `p`'s names are the [`known`](Self::known) ones, the same strings in the same order.
    #[inline]
    fn is_known(&self, p: &Params) -> bool {
        let (Some(known), pairs) = (&self.known, p.named_pairs()) else { return false };
        pairs.len() == known.len()
            && pairs.iter().zip(known.iter()).all(|((k, _), n)| matches!(k, Cow::Borrowed(k) if std::ptr::eq(*k, *n)))
    }

    /// [`check_keys`] for the next set; its names become the known ones when they are in the first set's order.
    #[cold]
    fn check_keys(&mut self, p: &Params) -> Result<bool> {
        let in_order = check_keys(&self.first, p, self.sets, &mut self.first_keys)?;
        if in_order {
            if let Some(names) = static_names(p) {
                self.known = Some(names);
            }
        }
        Ok(in_order)
    }

    /// The sets packed since the last [`take`](Self::take).
    pub(super) fn len(&self) -> usize {
        self.chunk.len()
    }

    /// The sets packed so far, leaving none.
    pub(super) fn take(&mut self) -> PackedParams {
        std::mem::replace(&mut self.chunk, PackedParams::with_capacity(self.compiled.slots().len(), 0))
    }
}

/// The names of named parameters, if there are any and all are `&'static str`s.
fn static_names(p: &Params) -> Option<Box<[&'static str]>> {
    if !p.is_named() || p.is_empty() {
        return None;
    }
    p.named_pairs()
        .iter()
        .map(|(k, _)| match k {
            Cow::Borrowed(k) => Some(*k),
            Cow::Owned(_) => None,
        })
        .collect()
}

/// Pack one set's values, each taken from where `sources` says.
fn push<'c>(
    packed: &mut PackedParams,
    compiled: &'c Compiled,
    p: &Params,
    sources: impl Iterator<Item = Source<'c>>,
) -> Result<()> {
    if let Some(e) = p.error() {
        return Err(Error::Params(e.to_string()));
    }
    let pairs = p.named_pairs();
    let mut missing = None;
    let values = sources.map_while(|s| {
        let v: Result<&Value> = match s {
            Source::Pair(k) => match pairs.get(k) {
                Some((_, v)) => Ok(v),
                None => Err(Error::params(format!("parameter set has no value {k} (internal)"))),
            },
            Source::Slot(s) => slot_value_ref(s, compiled.literals(), p),
        };
        v.map_err(|e| missing = Some(e)).ok()
    });
    let pushed = packed.push_set(values);
    match missing {
        Some(e) => Err(e),
        None => Ok(pushed?),
    }
}

/// Check that set `i` has the keys of the first set; true when it has them in the same order.
pub(super) fn check_keys(first: &Params, p: &Params, i: usize, first_keys: &mut Option<Vec<String>>) -> Result<bool> {
    let same_order = p.is_named() == first.is_named()
        && p.len() == first.len()
        && p.names()
            .zip(first.names())
            .all(|(a, b)| std::ptr::eq(a, b) || strip_param_prefix(a) == strip_param_prefix(b));
    if same_order {
        return Ok(true);
    }
    let key_set = |p: &Params| {
        let mut k: Vec<String> = p.names().map(|n| strip_param_prefix(n).to_owned()).collect();
        k.sort();
        k
    };
    let first_keys = first_keys.get_or_insert_with(|| key_set(first));
    let keys = key_set(p);
    if keys != *first_keys || p.is_named() != first.is_named() || p.len() != first.len() {
        return Err(Error::params(format!(
            "parameter set {} has keys [{}] but set 0 has [{}]: every set must have the same keys",
            i,
            keys.join(", "),
            first_keys.join(", ")
        )));
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// Sets in the first set's order are read by position, the others by name: each value lands in its column
    /// whatever the order, the prefix or the spelling of the names (literals or built `String`s).
    #[test]
    fn sets_in_any_order_bind_each_value_to_its_column() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let cars = Table::new(
                "cars",
                &meta,
                [Column::new("car_id", Integer).primary_key(), Column::new("make", Text), Column::new("year", Integer)],
            );
            engine.create_all(&meta).await.unwrap();
            let year = String::from("year");
            let sets = vec![
                named_params! {"make" => "Honda", "year" => 2012},
                named_params! {"make" => "Kia", "year" => 2013},
                named_params! {"year" => 2014, "make" => "Fiat"},
                named_params! {":make" => "Audi", year.clone() => 2015},
                named_params! {"make" => "Saab", "year" => 2016},
            ];
            let conn = engine.begin().await.unwrap();
            assert_eq!(conn.execute_many(cars.insert(), sets).await.unwrap().rows_affected(), 5);
            let q = select((cars.c("make"), cars.c("year"))).order_by(cars.c("car_id"));
            let rows: Vec<(String, i64)> = conn.execute(&q).await.unwrap().deserialize().unwrap();
            let want = [("Honda", 2012), ("Kia", 2013), ("Fiat", 2014), ("Audi", 2015), ("Saab", 2016)];
            assert_eq!(rows, want.map(|(m, y)| (m.to_owned(), y)));

            // With bind parameters, positions of the first set reused, and a set with other keys refused.
            let upd = update(&cars).set("year", bindparam("y")).where_(cars.c("make").eq(bindparam("m")));
            let sets = vec![named_params! {"y" => 1, "m" => "Kia"}, named_params! {"m" => "Fiat", "y" => 2}];
            assert_eq!(conn.execute_many(&upd, sets).await.unwrap().rows_affected(), 2);
            let bad = vec![named_params! {"y" => 1, "m" => "Kia"}, named_params! {"y" => 3, "n" => "Fiat"}];
            assert!(conn.execute_many(&upd, bad).await.is_err());
            // A value that does not convert, in a set in the first set's order, is refused as in the first set.
            let bad = vec![named_params! {"y" => 1, "m" => "Kia"}, named_params! {"y" => u64::MAX, "m" => "Fiat"}];
            let err = conn.execute_many(&upd, bad).await.unwrap_err().to_string();
            assert!(err.contains("does not fit"), "{err}");
            let years: Vec<i64> =
                conn.execute(select(cars.c("year")).order_by(cars.c("car_id"))).await.unwrap().scalars().unwrap();
            assert_eq!(years, [2012, 1, 2, 2015, 2016]);
            conn.commit().await.unwrap();
            engine.dispose().await.unwrap();
        });
    }

    /// Sets in the first set's order are recognised by the address of their names once one of them was found in
    /// order by comparing names: names at other addresses (a literal inlined twice), a set in another order in
    /// between, and names built at run time all bind each value to its column.
    #[test]
    fn sets_whose_names_move_bind_each_value_to_its_column() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let t = Table::new("t", &meta, [Column::new("a", Integer), Column::new("b", Integer)]);
            engine.create_all(&meta).await.unwrap();
            let (a, b): (&'static str, &'static str) = (String::from("a").leak(), String::from("b").leak());
            let sets = vec![
                named_params! {"a" => 1, "b" => 10},
                named_params! {a => 2, b => 20},
                named_params! {a => 3, b => 30},
                named_params! {"b" => 40, "a" => 4},
                named_params! {"a" => 5, "b" => 50},
                named_params! {b => 60, a => 6},
                named_params! {String::from("a") => 7, String::from("b") => 70},
                named_params! {a => 8, b => 80},
            ];
            let conn = engine.begin().await.unwrap();
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 8);
            let rows: Vec<(i64, i64)> = conn.execute(select(&t)).await.unwrap().deserialize().unwrap();
            assert_eq!(rows, (1..=8).map(|i| (i, i * 10)).collect::<Vec<_>>());
            conn.commit().await.unwrap();
            engine.dispose().await.unwrap();
        });
    }

    /// Each set's list of pairs is released once packed: the next `named_params!` row on the thread fills it
    /// rather than allocating its own. (Lists of nine pairs, a size nothing else here allocates; the lists freed as
    /// usual, if any, are taken by allocations of that size first, so only a released list can come back.)
    #[test]
    fn packed_sets_leave_their_lists_to_the_next_row() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
            let t = Table::new("t", &meta, names.map(|n| Column::new(n, Integer)));
            engine.create_all(&meta).await.unwrap();
            let row = |v: i64| {
                named_params! {"a" => v, "b" => v, "c" => v, "d" => v, "e" => v, "f" => v, "g" => v, "h" => v, "i" => v}
            };
            let sets = vec![row(1), row(2), row(3)];
            let lists: Vec<_> = sets.iter().map(|p| p.named_pairs().as_ptr()).collect();
            let conn = engine.begin().await.unwrap();
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 3);
            let taken: Vec<Vec<(std::borrow::Cow<'static, str>, asqlite::Value)>> =
                (0..8).map(|_| Vec::with_capacity(9)).collect();
            let next = row(4);
            assert!(lists.contains(&next.named_pairs().as_ptr()));
            drop(taken);
            conn.commit().await.unwrap();
            engine.dispose().await.unwrap();
        });
    }

    /// Chunks are packed into the buffers of chunks run before (by this batch or an earlier one, of another width):
    /// every row holds its own values, however long its text and whatever the buffers held.
    #[test]
    #[allow(
        clippy::cast_possible_wrap,
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        clippy::type_complexity
    )]
    fn chunks_packed_into_buffers_of_earlier_chunks_hold_only_their_own_sets() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let wide = Table::new(
                "wide",
                &meta,
                [
                    Column::new("a", Text),
                    Column::new("b", Integer),
                    Column::new("c", Blob),
                    Column::new("d", Text),
                    Column::new("e", Float),
                ],
            );
            let narrow = Table::new("narrow", &meta, [Column::new("s", Text), Column::new("n", Integer)]);
            engine.create_all(&meta).await.unwrap();
            let n = super::CHUNK * 3 + 17;
            let text = |i: usize| "é".repeat(i % 13) + &i.to_string();
            for round in 0..2_usize {
                let conn = engine.begin().await.unwrap();
                let sets = (0..n).map(|i| {
                    let j = i + round;
                    named_params! {"a" => text(j), "b" => j as i64, "c" => vec![j as u8; j % 5], "d" => Option::<String>::None, "e" => j as f64 / 2.0}
                });
                assert_eq!(conn.execute_many(wide.insert(), sets).await.unwrap().rows_affected(), n as u64);
                let sets = (0..n).map(|i| named_params! {"s" => text(i * 7 + round), "n" => i as i64});
                assert_eq!(conn.execute_many(narrow.insert(), sets).await.unwrap().rows_affected(), n as u64);
                conn.commit().await.unwrap();
            }
            let conn = engine.connect().await.unwrap();
            let rows: Vec<(String, i64, Vec<u8>, Option<String>, f64)> =
                conn.execute(select(&wide)).await.unwrap().deserialize().unwrap();
            let want: Vec<_> = (0..2_usize)
                .flat_map(|round| (0..n).map(move |i| i + round))
                .map(|j| (text(j), j as i64, vec![j as u8; j % 5], None, j as f64 / 2.0))
                .collect();
            assert_eq!(rows, want);
            let rows: Vec<(String, i64)> = conn.execute(select(&narrow)).await.unwrap().deserialize().unwrap();
            let want: Vec<_> =
                (0..2_usize).flat_map(|round| (0..n).map(move |i| (text(i * 7 + round), i as i64))).collect();
            assert_eq!(rows, want);
            engine.dispose().await.unwrap();
        });
    }

    /// A batch of several chunks streams to the writer: every set lands once and in order; a set that fails its
    /// check after chunks were inserted, or a row SQLite refuses while more are packed, rolls back every set and
    /// leaves the transaction usable.
    #[test]
    fn a_batch_of_several_chunks_is_all_or_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let t = Table::new(
                "t",
                &meta,
                [
                    Column::new("id", Integer).primary_key(),
                    Column::new("name", Text).unique(),
                    Column::new("n", Integer),
                ],
            );
            engine.create_all(&meta).await.unwrap();
            let n = i64::try_from(super::CHUNK * 2 + 5).unwrap();
            let conn = engine.begin().await.unwrap();
            let sets = (0..n).map(|i| named_params! {"name" => format!("car {i}"), "n" => i});
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), u64::try_from(n).unwrap());
            let count = select(func::count_star()).select_from(&t);
            let sum = select(func::sum(t.c("n"))).select_from(&t);
            assert_eq!(conn.scalar::<i64, _>(&count).await.unwrap(), n);
            assert_eq!(conn.scalar::<i64, _>(&sum).await.unwrap(), n * (n - 1) / 2);

            // A set with other keys, two chunks in.
            let bad = i64::try_from(super::CHUNK * 2 + 1).unwrap();
            let sets = (0..n).map(|i| {
                if i == bad {
                    named_params! {"name" => format!("new {i}"), "m" => i}
                } else {
                    named_params! {"name" => format!("new {i}"), "n" => i}
                }
            });
            let err = conn.execute_many(t.insert(), sets).await.unwrap_err();
            assert!(err.to_string().contains("every set must have the same keys"), "{err}");
            assert_eq!(conn.scalar::<i64, _>(&count).await.unwrap(), n);

            // A duplicate name in the first chunk, while later chunks are still packed.
            let sets = (0..n).map(|i| named_params! {"name" => format!("dup {}", i.min(7)), "n" => i});
            assert!(conn.execute_many(t.insert(), sets).await.is_err());
            assert_eq!(conn.scalar::<i64, _>(&count).await.unwrap(), n);
            conn.commit().await.unwrap();
            engine.dispose().await.unwrap();
        });
    }
}
