//! Schema metadata: [`MetaData`], [`Table`], [`Column`], constraints and [`Index`].
//!
//! A `Table` is a cheap handle (an `Arc`) registered in its `MetaData` when made. `MetaData` hands tables back in
//! foreign-key order, the order `create_all` creates them in (and `drop_all` drops them in reverse).

mod column;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use self::column::{Column, Constraint, ForeignKey, ReferentialAction};
use crate::expr::{ColumnRef, Expr, Source};

/// An index over columns of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Index {
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) columns: Vec<String>,
    pub(crate) unique: bool,
}

impl Index {
    /// An index on `table` named `name`, registered with the table (created by `create_all`).
    pub fn new<S: Into<String>>(name: impl Into<String>, table: &Table, columns: impl IntoIterator<Item = S>) -> Self {
        Self::make(name.into(), table, columns, false)
    }

    /// A unique index.
    pub fn new_unique<S: Into<String>>(
        name: impl Into<String>,
        table: &Table,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        Self::make(name.into(), table, columns, true)
    }

    fn make<S: Into<String>>(name: String, table: &Table, columns: impl IntoIterator<Item = S>, unique: bool) -> Self {
        let idx = Index {
            name,
            table: table.name().to_owned(),
            columns: columns.into_iter().map(Into::into).collect(),
            unique,
        };
        let mut list = lock(&table.inner.indexes);
        list.retain(|i| i.name != idx.name);
        list.push(idx.clone());
        idx
    }

    /// The index's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The indexed columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Whether it is unique.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct TableInner {
    /// Unique in the process: the table's identity in statement-cache keys.
    pub(crate) id: u64,
    pub(crate) name: String,
    /// The column names, shared by the expressions that refer to them.
    pub(crate) names: Vec<Arc<str>>,
    pub(crate) columns: Vec<Column>,
    pub(crate) constraints: Vec<Constraint>,
    pub(crate) indexes: Mutex<Vec<Index>>,
}

/// A table: a name, columns and constraints. A cheap handle to share.
///
/// `table.c("name")` is the column as an expression.
#[derive(Clone)]
pub struct Table {
    pub(crate) inner: Arc<TableInner>,
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table").field("name", &self.inner.name).field("columns", &self.column_names()).finish()
    }
}

/// Tables are equal when they are the same table (handles of one definition), as `Hash` agrees: two definitions
/// with the same name may differ in defaults, constraints or indexes.
impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Table {}

impl Hash for Table {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.id.hash(state);
    }
}

impl Table {
    /// Define a table and register it in `meta` (replacing a table of the same name).
    pub fn new(name: impl Into<String>, meta: &MetaData, columns: impl IntoIterator<Item = Column>) -> Table {
        Self::with_constraints(name, meta, columns, [])
    }

    /// Define a table with table-level constraints (composite keys, unique, check, foreign keys).
    pub fn with_constraints(
        name: impl Into<String>,
        meta: &MetaData,
        columns: impl IntoIterator<Item = Column>,
        constraints: impl IntoIterator<Item = Constraint>,
    ) -> Table {
        let name = name.into();
        let columns: Vec<Column> = columns.into_iter().collect();
        let indexes = columns
            .iter()
            .filter(|c| c.index)
            .map(|c| Index {
                name: format!("ix_{name}_{}", c.name),
                table: name.clone(),
                columns: vec![c.name.clone()],
                unique: c.unique,
            })
            .collect();
        let table = Table {
            inner: Arc::new(TableInner {
                id: NEXT_TABLE_ID.fetch_add(1, Ordering::Relaxed),
                names: columns.iter().map(|c| Arc::from(c.name.as_str())).collect(),
                name,
                columns,
                constraints: constraints.into_iter().collect(),
                indexes: Mutex::new(indexes),
            }),
        };
        meta.add(table.clone());
        table
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The column definitions, in order.
    pub fn columns(&self) -> &[Column] {
        &self.inner.columns
    }

    /// The column names, in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.inner.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The column definition named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.inner.columns.iter().find(|c| c.name == name)
    }

    /// The column a parameter key names: the key itself when the table has a column of that name (`$price`),
    /// otherwise the key without a `:`, `@` or `$` prefix.
    pub(crate) fn column_key<'k>(&self, key: &'k str) -> &'k str {
        if self.column(key).is_some() {
            key
        } else {
            crate::text::strip_param_prefix(key)
        }
    }

    /// The column `name` as an expression (SQLAlchemy's `table.c.name`). An unknown name gives an expression that
    /// fails to compile with a clear error.
    #[inline]
    pub fn c(&self, name: &str) -> Expr {
        match self.inner.names.iter().find(|n| crate::expr::same_str(n, name)) {
            Some(n) => Expr::Column(ColumnRef { source: Source::Table(self.clone()), name: Arc::clone(n) }),
            None => self.no_column(name),
        }
    }

    #[cold]
    fn no_column(&self, name: &str) -> Expr {
        Expr::Invalid(format!("{:?} has no column named {name:?}", self.name()))
    }

    /// Every column as an expression, in order.
    pub fn all_columns(&self) -> Vec<Expr> {
        let column =
            |n: &Arc<str>| Expr::Column(ColumnRef { source: Source::Table(self.clone()), name: Arc::clone(n) });
        self.inner.names.iter().map(column).collect()
    }

    /// The table-level constraints as given.
    pub fn constraints(&self) -> &[Constraint] {
        &self.inner.constraints
    }

    /// The primary-key column names (from columns and from a table-level primary key).
    pub fn primary_key(&self) -> Vec<String> {
        let mut pk: Vec<String> = self.inner.columns.iter().filter(|c| c.primary_key).map(|c| c.name.clone()).collect();
        for con in &self.inner.constraints {
            if let Constraint::PrimaryKey(cols) = con {
                for c in cols {
                    if !pk.contains(c) {
                        pk.push(c.clone());
                    }
                }
            }
        }
        pk
    }

    /// Every foreign key: column-level ones and table-level ones.
    pub fn foreign_keys(&self) -> Vec<ForeignKey> {
        let mut fks: Vec<ForeignKey> = self
            .inner
            .columns
            .iter()
            .filter_map(|c| {
                c.foreign_key.as_ref().map(|(t, tc)| ForeignKey {
                    name: None,
                    columns: vec![c.name.clone()],
                    target_table: t.clone(),
                    target_columns: vec![tc.clone()],
                    on_delete: c.on_delete,
                    on_update: c.on_update,
                })
            })
            .collect();
        fks.extend(self.inner.constraints.iter().filter_map(|c| match c {
            Constraint::ForeignKey(fk) => Some(fk.clone()),
            _ => None,
        }));
        fks
    }

    /// The indexes registered on the table.
    pub fn indexes(&self) -> Vec<Index> {
        lock(&self.inner.indexes).clone()
    }

    /// An alias of the table (`cars AS c`), for self-joins.
    pub fn alias(&self, name: impl Into<String>) -> Alias {
        Alias { table: self.clone(), name: Arc::from(name.into()) }
    }

    /// `INSERT INTO` this table.
    pub fn insert(&self) -> crate::insert::Insert {
        crate::insert::insert(self)
    }

    /// `UPDATE` this table.
    pub fn update(&self) -> crate::update::Update {
        crate::update::update(self)
    }

    /// `DELETE FROM` this table.
    pub fn delete(&self) -> crate::delete::Delete {
        crate::delete::delete(self)
    }

    /// `SELECT` every column of this table.
    pub fn select(&self) -> crate::select::Select {
        crate::select::select(self)
    }
}

pub(crate) fn column_expr(source: Source, found: Option<&str>, asked: &str, owner: &str) -> Expr {
    match found {
        Some(name) => Expr::Column(ColumnRef { source, name: Arc::from(name) }),
        None => Expr::Invalid(format!("{owner:?} has no column named {asked:?}")),
    }
}

/// An alias of a table: `cars AS c`.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Alias {
    pub(crate) table: Table,
    pub(crate) name: Arc<str>,
}

impl Alias {
    /// The column `name` of the alias, qualified by the alias name.
    pub fn c(&self, name: &str) -> Expr {
        column_expr(Source::Alias(self.clone()), self.table.column(name).map(|c| c.name.as_str()), name, &self.name)
    }

    /// The alias's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The aliased table.
    pub fn table(&self) -> &Table {
        &self.table
    }
}

/// A collection of tables, shared and cheap to clone.
#[derive(Clone, Default)]
pub struct MetaData {
    tables: Arc<Mutex<Vec<Table>>>,
}

impl fmt::Debug for MetaData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.tables().iter().map(|t| t.name().to_owned()).collect();
        f.debug_struct("MetaData").field("tables", &names).finish()
    }
}

impl MetaData {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn add(&self, table: Table) {
        let mut tables = lock(&self.tables);
        match tables.iter_mut().find(|t| t.name() == table.name()) {
            Some(slot) => *slot = table,
            None => tables.push(table),
        }
    }

    /// The tables in the order they were defined.
    pub fn tables(&self) -> Vec<Table> {
        lock(&self.tables).clone()
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<Table> {
        lock(&self.tables).iter().find(|t| t.name() == name).cloned()
    }

    /// Forget a table (does not drop it from any database).
    pub fn remove(&self, name: &str) {
        lock(&self.tables).retain(|t| t.name() != name);
    }

    /// The tables in foreign-key order: a table comes after the tables it references. Cycles keep definition order.
    pub fn sorted_tables(&self) -> Vec<Table> {
        let tables = self.tables();
        let mut placed: Vec<Table> = Vec::with_capacity(tables.len());
        let mut pending = tables.clone();
        while !pending.is_empty() {
            let ready = pending.iter().position(|t| {
                t.foreign_keys().iter().all(|fk| {
                    fk.target_table == t.name()
                        || placed.iter().any(|p| p.name() == fk.target_table)
                        || !tables.iter().any(|x| x.name() == fk.target_table)
                })
            });
            // A cycle: take the first pending table as it is.
            let i = ready.unwrap_or(0);
            placed.push(pending.remove(i));
        }
        placed
    }
}
