//! Column definitions, foreign keys and table-level constraints.

use asqlite::Value;

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
