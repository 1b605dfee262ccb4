//! Reflection on PostgreSQL: a table of the current schema read from `information_schema` (and `pg_indexes` for
//! plain indexes, which the standard views leave out) into the same [`Table`] that SQLite's pragmas give.

use asqlite::Value;

use super::sync::PgSync;
use crate::error::{Error, Result};
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

/// The column type a PostgreSQL `data_type` (with its length) stands for.
fn sql_type(data_type: &str, length: &Value) -> SqlType {
    match data_type {
        "integer" => SqlType::Integer,
        "bigint" => SqlType::BigInteger,
        "smallint" => SqlType::SmallInteger,
        "double precision" | "real" => SqlType::Float,
        "numeric" => SqlType::Numeric,
        "text" => SqlType::Text,
        "character varying" | "character" => match length {
            Value::Integer(n) => u32::try_from(*n).map_or(SqlType::Text, SqlType::Varchar),
            _ => SqlType::Text,
        },
        "bytea" => SqlType::Blob,
        "boolean" => SqlType::Boolean,
        "date" => SqlType::Date,
        "timestamp without time zone" | "timestamp with time zone" => SqlType::DateTime,
        "time without time zone" | "time with time zone" => SqlType::Time,
        "uuid" => SqlType::Uuid,
        "json" | "jsonb" => SqlType::Json,
        other => SqlType::Other(other.to_uppercase()),
    }
}

pub(crate) fn reflect_table(meta: &MetaData, conn: &PgSync<'_>, name: &str) -> Result<Table> {
    if !conn.has_table(name)? {
        return Err(Error::compile(format!("no table named {name:?} in the database")));
    }
    let t = || vec![Value::Text(name.to_owned())];
    let cols = conn.query_values(
        "SELECT column_name::text, data_type::text, is_nullable::text, column_default::text, \
         character_maximum_length::bigint, is_identity::text \
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
         ORDER BY ordinal_position",
        t(),
    )?;
    // Constraints: kind, name, columns in order; for foreign keys the referenced table, columns and actions.
    let cons = conn.query_values(
        "SELECT tc.constraint_type::text, tc.constraint_name::text, kcu.column_name::text, \
         ccu.table_name::text, ccu.column_name::text, rc.update_rule::text, rc.delete_rule::text \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu \
           ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name \
         LEFT JOIN information_schema.referential_constraints rc \
           ON rc.constraint_schema = tc.constraint_schema AND rc.constraint_name = tc.constraint_name \
         LEFT JOIN information_schema.key_column_usage ccu \
           ON ccu.constraint_schema = rc.unique_constraint_schema AND ccu.constraint_name = rc.unique_constraint_name \
          AND ccu.ordinal_position = kcu.position_in_unique_constraint \
         WHERE tc.table_schema = current_schema() AND tc.table_name = $1 \
           AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') \
         ORDER BY tc.constraint_type, tc.constraint_name, kcu.ordinal_position",
        t(),
    )?;
    let mut pk: Vec<String> = Vec::new();
    let mut uniques: Vec<(String, Vec<String>)> = Vec::new();
    let mut fks: Vec<(String, ForeignKey)> = Vec::new();
    for row in cons.iter() {
        let v = row.values();
        let (kind, cname, col) = (text(&v[0]), text(&v[1]), text(&v[2]));
        match kind.as_str() {
            "PRIMARY KEY" => pk.push(col),
            "UNIQUE" => match uniques.iter_mut().find(|(n, _)| *n == cname) {
                Some((_, cols)) => cols.push(col),
                None => uniques.push((cname, vec![col])),
            },
            _ => {
                let action =
                    |x: &Value| ReferentialAction::parse(&text(x)).filter(|a| *a != ReferentialAction::NoAction);
                match fks.iter_mut().find(|(n, _)| *n == cname) {
                    Some((_, fk)) => {
                        fk.columns.push(col);
                        fk.target_columns.push(text(&v[4]));
                    }
                    None => fks.push((
                        cname,
                        ForeignKey {
                            name: None,
                            columns: vec![col],
                            target_table: text(&v[3]),
                            target_columns: vec![text(&v[4])],
                            on_update: action(&v[5]),
                            on_delete: action(&v[6]),
                        },
                    )),
                }
            }
        }
    }
    let mut columns = Vec::new();
    for row in cols.iter() {
        let v = row.values();
        let cname = text(&v[0]);
        let mut c = Column::new(cname.clone(), sql_type(&text(&v[1]), &v[4])).nullable(text(&v[2]) == "YES");
        // An identity (or serial) key is the database's own numbering, which the integer key's DDL asks for.
        let numbered = text(&v[5]) == "YES" || text(&v[3]).starts_with("nextval(");
        if !v[3].is_null() && !numbered {
            c = c.server_default_sql(text(&v[3]));
        }
        if pk.len() == 1 && pk[0] == cname {
            let nullable = c.is_nullable();
            c = c.primary_key().nullable(nullable);
        }
        columns.push(c);
    }
    let mut constraints = Vec::new();
    if pk.len() > 1 {
        constraints.push(Constraint::PrimaryKey(pk));
    }
    constraints.extend(fks.into_iter().map(|(_, fk)| Constraint::ForeignKey(fk)));
    constraints.extend(uniques.into_iter().map(|(_, cols)| Constraint::unique(cols)));
    // Plain indexes (not those of constraints), with their columns in order.
    let idx = conn.query_values(
        "SELECT i.relname::text, ix.indisunique, a.attname::text \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class c ON c.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, pos) ON true \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
         WHERE n.nspname = current_schema() AND c.relname = $1 \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.conindid = ix.indexrelid) \
         ORDER BY i.relname, k.pos",
        t(),
    )?;
    let mut indexes: Vec<(String, bool, Vec<String>)> = Vec::new();
    for row in idx.iter() {
        let v = row.values();
        let (iname, unique, col) = (text(&v[0]), matches!(v[1], Value::Integer(1)), text(&v[2]));
        match indexes.iter_mut().find(|(n, _, _)| *n == iname) {
            Some((_, _, cols)) => cols.push(col),
            None => indexes.push((iname, unique, vec![col])),
        }
    }
    let table = Table::with_constraints(name, meta, columns, constraints);
    for (iname, unique, cols) in indexes {
        if unique {
            Index::new_unique(iname, &table, cols);
        } else {
            Index::new(iname, &table, cols);
        }
    }
    Ok(table)
}
