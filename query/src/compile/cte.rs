//! Common table expressions: each CTE a statement uses is written once, in dependency order, in a `WITH` in
//! front of it.

use super::{Compiler, Slot};
use crate::error::Error;
use crate::error::Result;
use crate::select::Cte;

/// A CTE met while compiling, and its rendered body once done.
pub(crate) struct CteEntry {
    name: String,
    cte: Cte,
    sql: String,
    slots: Vec<Slot>,
    deps: Vec<String>,
}

impl Compiler {
    pub(crate) fn use_cte(&mut self, cte: &Cte) {
        let name = cte.name();
        if let Some(cur) = self.rendering_ctes.last().cloned() {
            if cur != name {
                if let Some(e) = self.ctes.iter_mut().find(|e| e.name == cur) {
                    if !e.deps.iter().any(|d| d == name) {
                        e.deps.push(name.to_owned());
                    }
                }
            }
        }
        if self.rendering_ctes.iter().any(|n| n == name) || self.ctes.iter().any(|e| e.name == name) {
            return;
        }
        self.ctes.push(CteEntry {
            name: name.to_owned(),
            cte: cte.clone(),
            sql: String::new(),
            slots: Vec::new(),
            deps: Vec::new(),
        });
    }

    /// Write `WITH ...` in front of the statement for every CTE it used.
    pub(crate) fn prepend_ctes(&mut self) -> Result<()> {
        if self.ctes.is_empty() {
            return Ok(());
        }
        let body = std::mem::take(&mut self.out);
        let body_slots = std::mem::take(&mut self.slots);
        let mut i = 0;
        while i < self.ctes.len() {
            let cte = self.ctes[i].cte.clone();
            self.rendering_ctes.push(cte.name().to_owned());
            self.recursive |= cte.is_recursive();
            self.ident(cte.name());
            self.w(" AS (");
            let r = (|| {
                self.query(&cte.0.query, false)?;
                for (op, q) in &cte.0.parts {
                    self.w(" ");
                    self.w(op.sql());
                    self.w(" ");
                    self.query(q, false)?;
                }
                Ok::<(), Error>(())
            })();
            self.w(")");
            self.rendering_ctes.pop();
            r?;
            self.ctes[i].sql = std::mem::take(&mut self.out);
            self.ctes[i].slots = std::mem::take(&mut self.slots);
            i += 1;
        }
        // Dependencies first.
        let mut order: Vec<usize> = Vec::new();
        fn visit(i: usize, ctes: &[CteEntry], order: &mut Vec<usize>, seen: &mut Vec<bool>) {
            if seen[i] {
                return;
            }
            seen[i] = true;
            for d in &ctes[i].deps {
                if let Some(j) = ctes.iter().position(|e| &e.name == d) {
                    visit(j, ctes, order, seen);
                }
            }
            order.push(i);
        }
        let mut seen = vec![false; self.ctes.len()];
        for i in 0..self.ctes.len() {
            visit(i, &self.ctes, &mut order, &mut seen);
        }
        self.w(if self.recursive { "WITH RECURSIVE " } else { "WITH " });
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                self.w(", ");
            }
            let sql = std::mem::take(&mut self.ctes[i].sql);
            self.w(&sql);
            let slots = std::mem::take(&mut self.ctes[i].slots);
            self.slots.extend(slots);
        }
        self.w(" ");
        self.w(&body);
        self.slots.extend(body_slots);
        self.ctes.clear();
        Ok(())
    }
}
