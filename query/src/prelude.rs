//! Everything a program using the query layer needs: `use asqlite_query::prelude::*;`.
//!
//! The prelude does not export this crate's `Result` alias, so `Result<(), Box<dyn Error>>` keeps its usual
//! meaning.

pub use crate::compile::{Compiled, Executable};
pub use crate::delete::delete;
pub use crate::engine::{create_async_engine, AsyncConnection, Engine};
pub use crate::expr::{
    all_, and_, any_, asc, bindparam, case, cast, collate, desc, excluded, exists, func, json, lit, literal_column,
    not_, null, nulls_first, nulls_last, or_, tuple, tuple_, Expr, IntoExpr,
};
pub use crate::insert::{insert, OrAction};
pub use crate::result::QueryResult;
pub use crate::schema::{Column, Constraint, Index, MetaData, ReferentialAction, Table};
pub use crate::select::{except_, intersect, select, union, union_all};
pub use crate::serde_params::ParamSet;
pub use crate::sync_conn::SyncConnection;
pub use crate::text::text;
pub use crate::types::{
    BigInteger, Blob, Boolean, Date, DateTime, Float, Integer, Json, Numeric, SmallInteger, SqlType, Text, Time, Uuid,
    Varchar,
};
pub use crate::update::update;
pub use asqlite::{named_params, params, Params, Row, RowRef, Value};
