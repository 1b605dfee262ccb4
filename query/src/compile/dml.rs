//! INSERT, UPDATE and DELETE.

use std::sync::Arc;

use super::dialect::InsertOr;
use super::from::sources_in;
use super::{Compiler, Ctx};
use crate::delete::Delete;
use crate::error::{Error, Result};
use crate::expr::{Expr, Literal, Source};
use crate::insert::{Insert, InsertSource};
use crate::schema::Table;
use crate::update::Update;

fn check_column(table: &Table, name: &str) -> Result<()> {
    if table.column(name).is_some() {
        Ok(())
    } else {
        Err(Error::compile(format!("table {:?} has no column named {name:?}", table.name())))
    }
}

impl Compiler {
    fn returning(&mut self, table: &Table, cols: &[Expr]) -> Result<bool> {
        if cols.is_empty() {
            return Ok(false);
        }
        if !self.dialect.supports_returning() {
            return Err(Error::compile("RETURNING is not supported by this dialect"));
        }
        let mut sources = Vec::new();
        cols.iter().for_each(|e| sources_in(e, &mut sources));
        if let Some(other) = sources.iter().find(|s| s.name() != table.name()) {
            return Err(Error::compile(format!(
                "RETURNING can only name columns of {:?}, not of {:?}",
                table.name(),
                other.name()
            )));
        }
        self.w(" RETURNING ");
        let prev = self.unqualified.replace(table.name().to_owned());
        let mut r = Ok(());
        for (i, e) in cols.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            r = self.expr(e, Ctx::SelectList);
            if r.is_err() {
                break;
            }
        }
        self.unqualified = prev;
        r.map(|()| true)
    }

    fn column_list(&mut self, table: &Table, cols: &[Arc<str>]) -> Result<()> {
        self.w("(");
        for (i, c) in cols.iter().enumerate() {
            check_column(table, c)?;
            if i > 0 {
                self.w(", ");
            }
            self.ident(c);
        }
        self.w(")");
        Ok(())
    }

    pub(crate) fn insert(&mut self, ins: &Insert, keys: Option<&[Arc<str>]>) -> Result<bool> {
        let table = &ins.table;
        self.w("INSERT ");
        let or = match ins.or {
            Some(action) => self.dialect.insert_or(action)?,
            None => InsertOr::Nothing,
        };
        if let InsertOr::Prefix(p) = or {
            self.w(p);
        }
        self.w("INTO ");
        self.ident(table.name());
        // Columns with a client-side default that the statement does not set.
        let defaults = |given: &[Arc<str>]| -> Vec<(Arc<str>, Expr)> {
            table
                .columns()
                .iter()
                .filter_map(|c| {
                    let d = c.default_value()?;
                    (!given.iter().any(|g| &**g == c.name()))
                        .then(|| (Arc::from(c.name()), Expr::Value(Literal(d.clone()))))
                })
                .collect()
        };
        match &ins.source {
            InsertSource::Invalid(msg) => return Err(Error::compile(msg.clone())),
            InsertSource::FromParams => {
                let keys = keys.unwrap_or(&[]);
                let defs = defaults(keys);
                if keys.is_empty() && defs.is_empty() {
                    if ins.on_conflict.is_some() && !self.dialect.default_values_on_conflict() {
                        return Err(Error::compile(
                            "ON CONFLICT cannot follow DEFAULT VALUES on SQLite: give the insert at least one column",
                        ));
                    }
                    self.w(" DEFAULT VALUES");
                } else {
                    let mut cols: Vec<Arc<str>> = keys.to_vec();
                    cols.extend(defs.iter().map(|(c, _)| c.clone()));
                    self.w(" ");
                    self.column_list(table, &cols)?;
                    self.w(" VALUES (");
                    for (i, k) in keys.iter().enumerate() {
                        if i > 0 {
                            self.w(", ");
                        }
                        self.slot(super::Slot::Named(k.clone()));
                    }
                    for (i, (_, d)) in defs.iter().enumerate() {
                        if i > 0 || !keys.is_empty() {
                            self.w(", ");
                        }
                        self.expr(d, Ctx::Plain)?;
                    }
                    self.w(")");
                }
            }
            InsertSource::Rows(cols, rows) => {
                let defs = defaults(cols);
                let mut all: Vec<Arc<str>> = cols.clone();
                all.extend(defs.iter().map(|(c, _)| c.clone()));
                self.w(" ");
                self.column_list(table, &all)?;
                self.w(" VALUES ");
                for (r, row) in rows.iter().enumerate() {
                    if r > 0 {
                        self.w(", ");
                    }
                    self.w("(");
                    for (i, e) in row.iter().chain(defs.iter().map(|(_, d)| d)).enumerate() {
                        if i > 0 {
                            self.w(", ");
                        }
                        self.expr(e, Ctx::Plain)?;
                    }
                    self.w(")");
                }
            }
            InsertSource::Select(cols, q) => {
                if let Some(n) = q.width().filter(|n| *n != cols.len()) {
                    return Err(Error::compile(format!(
                        "INSERT ... SELECT names {} column(s) but the select returns {n}",
                        cols.len()
                    )));
                }
                self.w(" ");
                self.column_list(table, cols)?;
                self.w(" ");
                // INSERT ... SELECT ... ON CONFLICT is ambiguous to SQLite's parser unless the SELECT has a WHERE.
                let force_where = ins.on_conflict.is_some() && self.dialect.insert_select_needs_where();
                match &**q {
                    crate::select::Query::Select(s) => self.select(s, false, force_where)?,
                    crate::select::Query::Compound(c) => self.compound(c, force_where)?,
                }
            }
        }
        if let InsertOr::Suffix(tail) = or {
            if ins.on_conflict.is_some() {
                return Err(Error::compile("or() and on_conflict_do_...() cannot both be given on one insert"));
            }
            self.w(tail);
        }
        if let Some(oc) = &ins.on_conflict {
            self.w(" ON CONFLICT");
            if !oc.target.is_empty() {
                self.w(" ");
                self.column_list(table, &oc.target)?;
                if let Some(tw) = &oc.target_where {
                    self.w(" WHERE ");
                    let prev = self.unqualified.replace(table.name().to_owned());
                    let r = self.condition(tw, "an ON CONFLICT target condition");
                    self.unqualified = prev;
                    r?;
                }
            }
            match &oc.update {
                None => self.w(" DO NOTHING"),
                Some(set) => {
                    if oc.target.is_empty() {
                        return Err(Error::compile("ON CONFLICT DO UPDATE needs conflict target columns"));
                    }
                    if set.is_empty() {
                        return Err(Error::compile("ON CONFLICT DO UPDATE needs at least one column to set"));
                    }
                    self.w(" DO UPDATE SET ");
                    let prev = self.upsert.replace(table.clone());
                    let r = (|| {
                        self.assignments(table, set)?;
                        if let Some(w) = &oc.where_ {
                            self.w(" WHERE ");
                            self.condition(w, "an ON CONFLICT DO UPDATE condition")?;
                        }
                        Ok::<(), Error>(())
                    })();
                    self.upsert = prev;
                    r?;
                }
            }
        }
        self.returning(table, &ins.returning)
    }

    fn assignments(&mut self, table: &Table, set: &[(Arc<str>, Expr)]) -> Result<()> {
        for (i, (c, e)) in set.iter().enumerate() {
            check_column(table, c)?;
            if i > 0 {
                self.w(", ");
            }
            self.ident(c);
            self.w(" = ");
            self.expr(e, Ctx::Plain)?;
        }
        Ok(())
    }

    pub(crate) fn update(&mut self, u: &Update) -> Result<bool> {
        if u.set.is_empty() {
            return Err(Error::compile("UPDATE needs at least one column to set"));
        }
        let table = &u.table;
        self.w("UPDATE ");
        self.ident(table.name());
        self.w(" SET ");
        let mut froms: Vec<Source> = Vec::new();
        for f in &u.from {
            if f.name() != table.name() && !froms.iter().any(|x| x.name() == f.name()) {
                froms.push(f.clone());
            }
        }
        let mut implicit = Vec::new();
        for e in u.set.iter().map(|(_, e)| e).chain(u.where_.iter()) {
            sources_in(e, &mut implicit);
        }
        for f in implicit {
            if f.name() != table.name() && !froms.iter().any(|x| x.name() == f.name()) {
                froms.push(f);
            }
        }
        let mut scope = vec![table.name().to_owned()];
        scope.extend(froms.iter().map(|f| f.name().to_owned()));
        self.scopes.push(scope);
        let r = (|| {
            self.assignments(table, &u.set)?;
            if !froms.is_empty() {
                if !self.dialect.supports_update_from() {
                    return Err(Error::compile("UPDATE ... FROM is not supported by this dialect"));
                }
                self.w(" FROM ");
                for (i, f) in froms.iter().enumerate() {
                    if i > 0 {
                        self.w(", ");
                    }
                    self.source(f)?;
                }
            }
            if let Some(w) = &u.where_ {
                self.w(" WHERE ");
                self.condition(w, "a WHERE condition")?;
            }
            Ok(())
        })();
        self.scopes.pop();
        r?;
        self.returning(table, &u.returning)
    }

    pub(crate) fn delete(&mut self, d: &Delete) -> Result<bool> {
        let table = &d.table;
        let mut implicit = Vec::new();
        if let Some(w) = &d.where_ {
            sources_in(w, &mut implicit);
        }
        if let Some(other) = implicit.iter().find(|s| s.name() != table.name()) {
            return Err(Error::compile(format!(
                "DELETE cannot name another table ({:?}) on SQLite; use a subquery (in_query/exists) instead",
                other.name()
            )));
        }
        self.w("DELETE FROM ");
        self.ident(table.name());
        self.scopes.push(vec![table.name().to_owned()]);
        let r = match &d.where_ {
            Some(w) => {
                self.w(" WHERE ");
                self.condition(w, "a WHERE condition")
            }
            None => Ok(()),
        };
        self.scopes.pop();
        r?;
        self.returning(table, &d.returning)
    }
}
