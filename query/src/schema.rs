//! Schema metadata: [`MetaData`], [`Table`], [`Column`], constraints and [`Index`].
//!
//! A `Table` is a cheap handle (an `Arc`) registered in its `MetaData` when made. `MetaData` hands tables back in
//! foreign-key order, the order `create_all` creates them in (and `drop_all` drops them in reverse).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use asqlite::Value;

use crate::expr::{ColumnRef, Expr, Source};
use crate::types::SqlType;

/// What a foreign key does when the row it points at is deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferentialAction {
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
    /// `RESTRICT`.
    Restrict,
    /// `NO ACTION` (the default).
    NoAction,
}

impl ReferentialAction {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
            Self::SetDefault => "SET DEFAULT",
            Self::Restrict => "RESTRICT",
            Self::NoAction => "NO ACTION",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CASCADE" => Self::Cascade,
            "SET NULL" => Self::SetNull,
            "SET DEFAULT" => Self::SetDefault,
            "RESTRICT" => Self::Restrict,
            "NO ACTION" => Self::NoAction,
            _ => return None,
        })
    }
}

/// A foreign key: local columns referencing columns of another table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForeignKey {
    /// The constraint's name, if it has one.
    pub name: Option<String>,
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table.
    pub target_table: String,
    /// The referenced columns.
    pub target_columns: Vec<String>,
    /// `ON DELETE`.
    pub on_delete: Option<ReferentialAction>,
    /// `ON UPDATE`.
    pub on_update: Option<ReferentialAction>,
}

/// A table-level constraint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Constraint {
    /// `PRIMARY KEY (a, b)`.
    PrimaryKey(Vec<String>),
    /// `[CONSTRAINT name] UNIQUE (a, b)`.
    Unique {
        /// The constraint's name.
        name: Option<String>,
        /// Its columns.
        columns: Vec<String>,
    },
    /// `[CONSTRAINT name] CHECK (sql)`: the SQL is written into the DDL as given, so it must be trusted text.
    Check {
        /// The constraint's name.
        name: Option<String>,
        /// The condition, as SQL.
        sql: String,
    },
    /// `FOREIGN KEY (a) REFERENCES t (b)`.
    ForeignKey(ForeignKey),
}

impl Constraint {
    /// A composite primary key.
    pub fn primary_key<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Constraint::PrimaryKey(columns.into_iter().map(Into::into).collect())
    }

    /// A unique constraint over one or more columns.
    pub fn unique<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Constraint::Unique { name: None, columns: columns.into_iter().map(Into::into).collect() }
    }

    /// A check constraint; `sql` is trusted DDL text, never user input.
    pub fn check(sql: impl Into<String>) -> Self {
        Constraint::Check { name: None, sql: sql.into() }
    }

    /// A (possibly composite) foreign key.
    pub fn foreign_key<S: Into<String>, T: Into<String>>(
        columns: impl IntoIterator<Item = S>,
        target_table: impl Into<String>,
        target_columns: impl IntoIterator<Item = T>,
    ) -> Self {
        Constraint::ForeignKey(ForeignKey {
            name: None,
            columns: columns.into_iter().map(Into::into).collect(),
            target_table: target_table.into(),
            target_columns: target_columns.into_iter().map(Into::into).collect(),
            on_delete: None,
            on_update: None,
        })
    }

    /// Name the constraint (`CONSTRAINT name ...`).
    #[must_use]
    pub fn named(mut self, constraint_name: impl Into<String>) -> Self {
        let n = Some(constraint_name.into());
        match &mut self {
            Constraint::Unique { name, .. } | Constraint::Check { name, .. } => *name = n,
            Constraint::ForeignKey(fk) => fk.name = n,
            Constraint::PrimaryKey(_) => {}
        }
        self
    }

    /// Set `ON DELETE` of a foreign key (ignored for other constraints).
    #[must_use]
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        if let Constraint::ForeignKey(fk) = &mut self {
            fk.on_delete = Some(action);
        }
        self
    }

    /// Set `ON UPDATE` of a foreign key (ignored for other constraints).
    #[must_use]
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        if let Constraint::ForeignKey(fk) = &mut self {
            fk.on_update = Some(action);
        }
        self
    }
}

/// A column definition: a name, a type and options, built with chained calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) ty: SqlType,
    pub(crate) primary_key: bool,
    pub(crate) nullable: Option<bool>,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) default: Option<Value>,
    pub(crate) server_default: Option<String>,
    pub(crate) foreign_key: Option<(String, String)>,
    pub(crate) on_delete: Option<ReferentialAction>,
    pub(crate) on_update: Option<ReferentialAction>,
}

impl Column {
    /// A nullable column of type `ty`: `Column::new("year", Integer)`.
    pub fn new(name: impl Into<String>, ty: impl Into<SqlType>) -> Self {
        Column {
            name: name.into(),
            ty: ty.into(),
            primary_key: false,
            nullable: None,
            unique: false,
            index: false,
            default: None,
            server_default: None,
            foreign_key: None,
            on_delete: None,
            on_update: None,
        }
    }

    /// Part of the primary key (several columns marked make a composite key). Implies `NOT NULL`.
    #[must_use]
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Whether the column accepts NULL (default: yes, except for primary-key columns).
    #[must_use]
    pub fn nullable(mut self, yes: bool) -> Self {
        self.nullable = Some(yes);
        self
    }

    /// A `UNIQUE` constraint on this column alone.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// An index on this column, named `ix_<table>_<column>`.
    #[must_use]
    pub fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// A client-side default: inserts that do not give this column bind this value.
    #[must_use]
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// A server default, written into the DDL as a quoted literal: `DEFAULT 'text'`.
    #[must_use]
    pub fn server_default(mut self, value: impl Into<Value>) -> Self {
        self.server_default = Some(crate::compile::literal_sql(&value.into()));
        self
    }

    /// A server default given as trusted SQL (`CURRENT_TIMESTAMP`, `(1 + 1)`), written into the DDL as is.
    #[must_use]
    pub fn server_default_sql(mut self, sql: impl Into<String>) -> Self {
        self.server_default = Some(sql.into());
        self
    }

    /// A foreign key to `"table.column"`.
    #[must_use]
    pub fn foreign_key(mut self, target: &str) -> Self {
        let (t, c) = target.rsplit_once('.').unwrap_or((target, ""));
        self.foreign_key = Some((t.to_owned(), c.to_owned()));
        self
    }

    /// `ON DELETE` of this column's foreign key.
    #[must_use]
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        self.on_delete = Some(action);
        self
    }

    /// `ON UPDATE` of this column's foreign key.
    #[must_use]
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        self.on_update = Some(action);
        self
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's type.
    pub fn sql_type(&self) -> &SqlType {
        &self.ty
    }

    /// Whether it is part of the primary key.
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }

    /// Whether it accepts NULL.
    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(!self.primary_key)
    }

    /// Whether it carries a single-column `UNIQUE`.
    pub fn is_unique(&self) -> bool {
        self.unique
    }

    /// The client-side default, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }

    /// The server default as it appears in DDL, if any.
    pub fn server_default_text(&self) -> Option<&str> {
        self.server_default.as_deref()
    }
}

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

pub(crate) struct TableInner {
    pub(crate) name: String,
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

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.name == other.inner.name && self.inner.columns == other.inner.columns)
    }
}

impl Hash for Table {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name.hash(state);
        for c in &self.inner.columns {
            c.name.hash(state);
            c.default.is_some().hash(state);
        }
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

    /// The column `name` as an expression (SQLAlchemy's `table.c.name`). An unknown name gives an expression that
    /// fails to compile with a clear error.
    pub fn c(&self, name: &str) -> Expr {
        column_expr(Source::Table(self.clone()), self.column(name).map(|c| c.name.as_str()), name, self.name())
    }

    /// Every column as an expression, in order.
    pub fn all_columns(&self) -> Vec<Expr> {
        self.inner.columns.iter().map(|c| self.c(&c.name)).collect()
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
