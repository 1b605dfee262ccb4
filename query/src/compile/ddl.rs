//! DDL: `CREATE TABLE`, `CREATE INDEX`, `DROP TABLE`, laid out as SQLAlchemy writes them, through the same
//! [`Dialect`] as statements: names are quoted by its rules and types named by [`Dialect::ddl_type`] (the one
//! integer primary key by [`Dialect::ddl_integer_key`]).

use super::{Dialect, SQLITE};
use crate::schema::{Constraint, ForeignKey, Index, Table};
use crate::types::SqlType;

fn ident(d: &dyn Dialect, out: &mut String, name: &str) {
    d.write_identifier(name, out);
}

fn ident_list(d: &dyn Dialect, out: &mut String, names: &[String]) {
    out.push('(');
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        ident(d, out, n);
    }
    out.push(')');
}

fn foreign_key(d: &dyn Dialect, out: &mut String, fk: &ForeignKey) {
    if let Some(n) = &fk.name {
        out.push_str("CONSTRAINT ");
        ident(d, out, n);
        out.push(' ');
    }
    out.push_str("FOREIGN KEY");
    ident_list(d, out, &fk.columns);
    out.push_str(" REFERENCES ");
    ident(d, out, &fk.target_table);
    out.push(' ');
    ident_list(d, out, &fk.target_columns);
    if let Some(a) = fk.on_delete {
        out.push_str(" ON DELETE ");
        out.push_str(a.sql());
    }
    if let Some(a) = fk.on_update {
        out.push_str(" ON UPDATE ");
        out.push_str(a.sql());
    }
}

/// `CREATE TABLE [IF NOT EXISTS] name (columns, constraints)` for SQLite.
pub fn create_table_sql(table: &Table, if_not_exists: bool) -> String {
    create_table_sql_for(&SQLITE, table, if_not_exists)
}

/// `CREATE TABLE [IF NOT EXISTS] name (columns, constraints)` for `d`.
pub fn create_table_sql_for(d: &dyn Dialect, table: &Table, if_not_exists: bool) -> String {
    let mut out = String::from("CREATE TABLE ");
    if if_not_exists {
        out.push_str("IF NOT EXISTS ");
    }
    ident(d, &mut out, table.name());
    out.push_str(" (");
    let mut parts: Vec<String> = Vec::new();
    let pk = table.primary_key();
    // The one integer primary key, which the database numbers itself.
    let integer_key = match pk.as_slice() {
        [one] => table.column(one).filter(|c| {
            matches!(c.sql_type(), SqlType::Integer | SqlType::BigInteger | SqlType::SmallInteger)
                && c.server_default_text().is_none()
        }),
        _ => None,
    };
    for c in table.columns() {
        let mut s = String::new();
        ident(d, &mut s, c.name());
        let ty = match integer_key {
            Some(k) if k.name() == c.name() => {
                d.ddl_integer_key(c.sql_type()).unwrap_or_else(|| d.ddl_type(c.sql_type()))
            }
            _ => d.ddl_type(c.sql_type()),
        };
        if !ty.is_empty() {
            s.push(' ');
            s.push_str(&ty);
        }
        if !c.is_nullable() {
            s.push_str(" NOT NULL");
        }
        if let Some(text) = c.server_default_text() {
            s.push_str(" DEFAULT ");
            s.push_str(&d.ddl_default(c.sql_type(), text));
        }
        parts.push(s);
    }
    if !pk.is_empty() {
        let mut s = String::from("PRIMARY KEY ");
        ident_list(d, &mut s, &pk);
        parts.push(s);
    }
    let indexed_unique: Vec<&str> = table.columns().iter().filter(|c| c.index).map(|c| c.name()).collect();
    for c in table.columns().iter().filter(|c| c.is_unique() && !indexed_unique.contains(&c.name())) {
        let mut s = String::from("UNIQUE ");
        ident_list(d, &mut s, &[c.name().to_owned()]);
        parts.push(s);
    }
    for con in table.constraints() {
        let mut s = String::new();
        match con {
            Constraint::PrimaryKey(_) => continue,
            Constraint::Unique { name, columns } => {
                if let Some(n) = name {
                    s.push_str("CONSTRAINT ");
                    ident(d, &mut s, n);
                    s.push(' ');
                }
                s.push_str("UNIQUE ");
                ident_list(d, &mut s, columns);
            }
            Constraint::Check { name, sql } => {
                if let Some(n) = name {
                    s.push_str("CONSTRAINT ");
                    ident(d, &mut s, n);
                    s.push(' ');
                }
                s.push_str("CHECK (");
                s.push_str(sql);
                s.push(')');
            }
            Constraint::ForeignKey(_) => continue,
        }
        parts.push(s);
    }
    for fk in table.foreign_keys() {
        let mut s = String::new();
        foreign_key(d, &mut s, &fk);
        parts.push(s);
    }
    out.push_str(&parts.join(", "));
    out.push(')');
    out
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)` for SQLite.
pub fn create_index_sql(index: &Index, if_not_exists: bool) -> String {
    create_index_sql_for(&SQLITE, index, if_not_exists)
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)` for `d`.
pub fn create_index_sql_for(d: &dyn Dialect, index: &Index, if_not_exists: bool) -> String {
    let mut out = String::from(if index.is_unique() { "CREATE UNIQUE INDEX " } else { "CREATE INDEX " });
    if if_not_exists {
        out.push_str("IF NOT EXISTS ");
    }
    ident(d, &mut out, index.name());
    out.push_str(" ON ");
    ident(d, &mut out, &index.table);
    out.push(' ');
    ident_list(d, &mut out, index.columns());
    out
}

/// `DROP TABLE [IF EXISTS] name` for SQLite.
pub fn drop_table_sql(table: &Table, if_exists: bool) -> String {
    drop_table_sql_for(&SQLITE, table, if_exists)
}

/// `DROP TABLE [IF EXISTS] name` for `d`.
pub fn drop_table_sql_for(d: &dyn Dialect, table: &Table, if_exists: bool) -> String {
    let mut out = String::from(if if_exists { "DROP TABLE IF EXISTS " } else { "DROP TABLE " });
    ident(d, &mut out, table.name());
    out
}
