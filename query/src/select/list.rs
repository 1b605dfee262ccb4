//! A select list that stays a table handle while it is every column of one table.
//!
//! `select(&table)` is the most common select list there is, and a statement built for every call builds it every
//! time. As expressions it costs a vector, a table handle and a name per column, and a cache key of several words
//! per column. Kept as the table, it costs one handle, and its cache key is the table's identity (a table's columns
//! never change once it is defined). The expressions are made on first use, which on a shape-cache hit is never:
//! the key and the gathering of literals (a table's columns hold none) need only the table.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::OnceLock;

use crate::expr::Expr;
use crate::schema::Table;

/// The columns of a select (public only as what [`IntoColumns`](super::IntoColumns)'s hidden method returns).
#[doc(hidden)]
pub struct SelectList(List);

enum List {
    /// Expressions, as given.
    Exprs(Vec<Expr>),
    /// Every column of the table, in its order; the expressions once something asked for them.
    Table(Table, OnceLock<Vec<Expr>>),
}

impl SelectList {
    /// Every column of `table`.
    pub(crate) fn table(table: Table) -> Self {
        SelectList(List::Table(table, OnceLock::new()))
    }

    /// The list as expressions to change (a table's list becomes its columns' expressions).
    pub(crate) fn to_mut(&mut self) -> &mut Vec<Expr> {
        if let List::Table(table, made) = &mut self.0 {
            let exprs = made.take().unwrap_or_else(|| table.all_columns());
            self.0 = List::Exprs(exprs);
        }
        match &mut self.0 {
            List::Exprs(exprs) => exprs,
            List::Table(..) => unreachable!("a table's list was replaced by its expressions just above"),
        }
    }

    /// The expressions that may hold literal values: none for a table's columns (so none are made for them).
    /// The table whose every column this list is, while it is kept as the table.
    pub(crate) fn as_table(&self) -> Option<&Table> {
        match &self.0 {
            List::Table(table, _) => Some(table),
            List::Exprs(_) => None,
        }
    }

    pub(crate) fn with_values(&self) -> &[Expr] {
        match &self.0 {
            List::Exprs(exprs) => exprs,
            List::Table(..) => &[],
        }
    }
}

impl Default for SelectList {
    fn default() -> Self {
        SelectList(List::Exprs(Vec::new()))
    }
}

impl From<Vec<Expr>> for SelectList {
    fn from(exprs: Vec<Expr>) -> Self {
        SelectList(List::Exprs(exprs))
    }
}

impl Deref for SelectList {
    type Target = [Expr];

    fn deref(&self) -> &[Expr] {
        match &self.0 {
            List::Exprs(exprs) => exprs,
            List::Table(table, made) => made.get_or_init(|| table.all_columns()),
        }
    }
}

impl Clone for SelectList {
    fn clone(&self) -> Self {
        match &self.0 {
            List::Exprs(exprs) => SelectList(List::Exprs(exprs.clone())),
            List::Table(table, _) => SelectList::table(table.clone()),
        }
    }
}

impl fmt::Debug for SelectList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The shape: a table's list by the table's identity, expressions one by one. The first word tells the two apart,
/// so no list of expressions writes the words of a table's list (the words are a cache key).
impl Hash for SelectList {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            List::Exprs(exprs) => {
                state.write_u8(0);
                exprs.hash(state);
            }
            List::Table(table, _) => {
                state.write_u8(1);
                table.hash(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::schema::MetaData;

    fn cars(meta: &MetaData) -> Table {
        Table::new("cars", meta, [Column::new("id", Integer).primary_key(), Column::new("make", Text)])
    }

    fn words(list: &SelectList) -> Vec<u64> {
        struct Words(Vec<u64>);
        impl Hasher for Words {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, bytes: &[u8]) {
                self.0.extend(bytes.iter().map(|&b| u64::from(b)));
            }
            fn write_u64(&mut self, i: u64) {
                self.0.push(i);
            }
        }
        let mut w = Words(Vec::new());
        list.hash(&mut w);
        w.0
    }

    #[test]
    fn a_tables_list_reads_as_its_columns_and_keys_by_the_table() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let list = SelectList::table(t.clone());
        assert!(list.with_values().is_empty());
        assert_eq!(format!("{:?}", &*list), format!("{:?}", t.all_columns()));
        // Another definition of the same name and columns is another table: another key.
        let other = SelectList::table(cars(&MetaData::new()));
        assert_ne!(words(&list), words(&other));
        // The same columns as expressions are another key too (not a wrong hit, at worst a second entry).
        assert_ne!(words(&list), words(&SelectList::from(t.all_columns())));
        assert_eq!(words(&list), words(&list.clone()));
    }

    #[test]
    fn changing_a_tables_list_makes_it_expressions() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let mut list = SelectList::table(t.clone());
        let _ = list.len();
        list.to_mut().push(Expr::Star);
        assert!(matches!(list.0, List::Exprs(ref v) if v.len() == 3));
        assert_eq!(list.with_values().len(), 3);
        let mut fresh = SelectList::table(t);
        assert_eq!(fresh.to_mut().len(), 2);
    }
}
