//! Reflection: read tables, columns, keys and indexes of an existing database into [`MetaData`]; on SQLite through
//! its pragmas (PostgreSQL's, through `information_schema`, are with its backend).

use asqlite::blocking::Connection;
use asqlite::Value;

use crate::error::Result;
use crate::schema::{Column, Constraint, ForeignKey, Index, MetaData, ReferentialAction, Table};
use crate::sync_conn::SyncConnection;
use crate::types::SqlType;

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        _ => 0,
    }
}

impl MetaData {
    /// Read every user table of the database (not `sqlite_*` ones; on PostgreSQL, those of the current schema)
    /// into this collection.
    pub fn reflect<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<()> {
        for name in conn.table_names()? {
            conn.reflect_table(self, &name)?;
        }
        Ok(())
    }

    /// Read one table into this collection and return it.
    pub fn reflect_table<C: SyncConnection + ?Sized>(&self, conn: &C, name: &str) -> Result<Table> {
        conn.reflect_table(self, name)
    }
}

/// Read one SQLite table through its pragmas.
pub(crate) fn reflect_sqlite_table(meta: &MetaData, conn: &Connection, name: &str) -> Result<Table> {
    if !SyncConnection::has_table(conn, name)? {
        return Err(crate::Error::compile(format!("no table named {name:?} in the database")));
    }
    let info = conn.pragma("table_info", Some(name))?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    for row in info.iter() {
        let v = row.values();
        let (cname, ty, notnull, dflt, pkpos) = (text(&v[1]), text(&v[2]), int(&v[3]), &v[4], int(&v[5]));
        let mut c = Column::new(cname.clone(), SqlType::from_declared(&ty)).nullable(notnull == 0);
        if !dflt.is_null() {
            c = c.server_default_sql(text(dflt));
        }
        if pkpos > 0 {
            pk.push((pkpos, cname));
        }
        columns.push(c);
    }
    pk.sort();
    let mut constraints = Vec::new();
    if pk.len() == 1 {
        let nullable: Vec<bool> = columns.iter().map(Column::is_nullable).collect();
        for (c, n) in columns.iter_mut().zip(nullable) {
            if c.name() == pk[0].1 {
                *c = c.clone().primary_key().nullable(n);
            }
        }
    } else if pk.len() > 1 {
        constraints.push(Constraint::PrimaryKey(pk.into_iter().map(|(_, c)| c).collect()));
    }
    // Foreign keys: one id per key, several rows for composite keys.
    let fkl = conn.pragma("foreign_key_list", Some(name))?;
    let mut fks: Vec<(i64, ForeignKey)> = Vec::new();
    for row in fkl.iter() {
        let v = row.values();
        let id = int(&v[0]);
        let action = |x: &Value| ReferentialAction::parse(&text(x)).filter(|a| *a != ReferentialAction::NoAction);
        let (target, from, to) = (text(&v[2]), text(&v[3]), text(&v[4]));
        match fks.iter_mut().find(|(i, _)| *i == id) {
            Some((_, fk)) => {
                fk.columns.push(from);
                fk.target_columns.push(to);
            }
            None => fks.push((
                id,
                ForeignKey {
                    name: None,
                    columns: vec![from],
                    target_table: target,
                    target_columns: vec![to],
                    on_update: action(&v[5]),
                    on_delete: action(&v[6]),
                },
            )),
        }
    }
    fks.sort_by_key(|(i, _)| *i);
    constraints.extend(fks.into_iter().rev().map(|(_, fk)| Constraint::ForeignKey(fk)));
    // Indexes and unique constraints.
    let il = conn.pragma("index_list", Some(name))?;
    let mut indexes = Vec::new();
    for row in il.iter() {
        let v = row.values();
        let (iname, unique, origin) = (text(&v[1]), int(&v[2]) != 0, text(&v[3]));
        if origin == "pk" {
            continue;
        }
        let cols: Vec<String> = conn.pragma("index_info", Some(&iname))?.iter().map(|r| text(&r.values()[2])).collect();
        match origin.as_str() {
            "u" => constraints.push(Constraint::unique(cols)),
            _ => indexes.push((iname, cols, unique)),
        }
    }
    let table = Table::with_constraints(name, meta, columns, constraints);
    for (iname, cols, unique) in indexes {
        if unique {
            Index::new_unique(iname, &table, cols);
        } else {
            Index::new(iname, &table, cols);
        }
    }
    Ok(table)
}
