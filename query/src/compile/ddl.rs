//! DDL: `CREATE TABLE`, `CREATE INDEX`, `DROP TABLE`, laid out as SQLAlchemy writes them for SQLite.

use super::{Dialect, Sqlite};
use crate::schema::{Constraint, ForeignKey, Index, Table};

fn ident(out: &mut String, name: &str) {
    Sqlite.write_identifier(name, out);
}

fn ident_list(out: &mut String, names: &[String]) {
    out.push('(');
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        ident(out, n);
    }
    out.push(')');
}

fn foreign_key(out: &mut String, fk: &ForeignKey) {
    if let Some(n) = &fk.name {
        out.push_str("CONSTRAINT ");
        ident(out, n);
        out.push(' ');
    }
    out.push_str("FOREIGN KEY");
    ident_list(out, &fk.columns);
    out.push_str(" REFERENCES ");
    ident(out, &fk.target_table);
    out.push(' ');
    ident_list(out, &fk.target_columns);
    if let Some(a) = fk.on_delete {
        out.push_str(" ON DELETE ");
        out.push_str(a.sql());
    }
    if let Some(a) = fk.on_update {
        out.push_str(" ON UPDATE ");
        out.push_str(a.sql());
    }
}

/// `CREATE TABLE [IF NOT EXISTS] name (columns, constraints)`.
pub fn create_table_sql(table: &Table, if_not_exists: bool) -> String {
    let mut out = String::from("CREATE TABLE ");
    if if_not_exists {
        out.push_str("IF NOT EXISTS ");
    }
    ident(&mut out, table.name());
    out.push_str(" (");
    let mut parts: Vec<String> = Vec::new();
    for c in table.columns() {
        let mut s = String::new();
        ident(&mut s, c.name());
        let ty = c.sql_type().ddl();
        if !ty.is_empty() {
            s.push(' ');
            s.push_str(&ty);
        }
        if !c.is_nullable() {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = c.server_default_text() {
            s.push_str(" DEFAULT ");
            s.push_str(d);
        }
        parts.push(s);
    }
    let pk = table.primary_key();
    if !pk.is_empty() {
        let mut s = String::from("PRIMARY KEY ");
        ident_list(&mut s, &pk);
        parts.push(s);
    }
    let indexed_unique: Vec<&str> = table.columns().iter().filter(|c| c.index).map(|c| c.name()).collect();
    for c in table.columns().iter().filter(|c| c.is_unique() && !indexed_unique.contains(&c.name())) {
        let mut s = String::from("UNIQUE ");
        ident_list(&mut s, &[c.name().to_owned()]);
        parts.push(s);
    }
    for con in table.constraints() {
        let mut s = String::new();
        match con {
            Constraint::PrimaryKey(_) => continue,
            Constraint::Unique { name, columns } => {
                if let Some(n) = name {
                    s.push_str("CONSTRAINT ");
                    ident(&mut s, n);
                    s.push(' ');
                }
                s.push_str("UNIQUE ");
                ident_list(&mut s, columns);
            }
            Constraint::Check { name, sql } => {
                if let Some(n) = name {
                    s.push_str("CONSTRAINT ");
                    ident(&mut s, n);
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
        foreign_key(&mut s, &fk);
        parts.push(s);
    }
    out.push_str(&parts.join(", "));
    out.push(')');
    out
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)`.
pub fn create_index_sql(index: &Index, if_not_exists: bool) -> String {
    let mut out = String::from(if index.is_unique() { "CREATE UNIQUE INDEX " } else { "CREATE INDEX " });
    if if_not_exists {
        out.push_str("IF NOT EXISTS ");
    }
    ident(&mut out, index.name());
    out.push_str(" ON ");
    ident(&mut out, &index.table);
    out.push(' ');
    ident_list(&mut out, index.columns());
    out
}

/// `DROP TABLE [IF EXISTS] name`.
pub fn drop_table_sql(table: &Table, if_exists: bool) -> String {
    let mut out = String::from(if if_exists { "DROP TABLE IF EXISTS " } else { "DROP TABLE " });
    ident(&mut out, table.name());
    out
}
