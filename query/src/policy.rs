//! Who sees what, enforced in one place: every scan of a lake table ([`crate::catalog::LiveTable`],
//! also under `table_at`) asks [`scan`] for its plan, with the [`Scope`] of the query's caller,
//! which the engine puts in the session's configuration. Whatever the SQL (views, subqueries,
//! CTEs, joins, `UNION`, time travel), the rows of a table come only through here:
//!
//! - a `county` scope reads only its county's rows of the tables that have a `county_code`
//!   (every fact table, the member registry, `submissions` and `quarantine`); the filter sits in a
//!   node of its own ([`ScopeExec`]) that lets no other predicate pass below it, so a condition
//!   written to fail on another county's row never meets one;
//! - personal columns (ID hashes, masked phones, gender and birth dates of hardship households and
//!   members; the raw values kept in `quarantine`) are NULL unless the scope may read them;
//! - tables for administrators only (`audit`) are refused to everyone else.
//!
//! A scan without a scope is refused: a query that reaches the lake without saying for whom it
//! runs is a fault, not an open door.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Scalar, StringArray};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt as _;

use crate::accounts::Role;
use crate::error::{ErrorCode, QueryError};

/// For whom a query runs: what decides the rows and columns it may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The account's name (`local` for the CLI and a server without accounts).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The county a `county` account is bound to.
    pub county: Option<String>,
    /// May read personal columns.
    pub pii: bool,
    /// Which door the query came through (`cli`, `http`, `dashboard`, `postgres`), for the audit.
    pub interface: &'static str,
    /// From where (the client's address), for the audit.
    pub peer: Option<String>,
}

impl Scope {
    /// Whoever can read the lake's files: the CLI, exports, and a server that has no accounts.
    pub fn local() -> Scope {
        Scope {
            name: "local".to_string(),
            role: Role::Admin,
            county: None,
            pii: true,
            interface: "cli",
            peer: None,
        }
    }

    /// The same scope, for a query that came through `interface` from `peer`.
    pub fn via(mut self, interface: &'static str, peer: Option<String>) -> Scope {
        self.interface = interface;
        self.peer = peer;
        self
    }

    /// The county whose rows alone this scope reads, if it is bound to one.
    pub fn county(&self) -> Option<&str> {
        match self.role {
            Role::County => self.county.as_deref(),
            _ => None,
        }
    }

    /// May send SQL of its own (the SQL console, `POST /api/sql`, Postgres).
    pub fn may_write_sql(&self) -> bool {
        self.role != Role::Viewer
    }

    /// Administrators: accounts, the audit, exports.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// What a cached answer computed in this scope may be served to: scopes with the same key
    /// read the same rows and columns.
    pub fn cache_key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.county().unwrap_or("*"),
            u8::from(self.pii),
            u8::from(self.is_admin())
        )
    }
}

/// Tables only administrators read.
const ADMIN_ONLY: [&str; 1] = ["audit"];

/// Whether table `name` holds rows of one county each (in `county_code`).
fn by_county(name: &str) -> bool {
    unionstat_tables::FACT_TABLES.iter().any(|t| t.name == name)
        || [
            unionstat_tables::MEMBERS.name,
            "submissions",
            "quarantine",
            "submission_events",
        ]
        .contains(&name)
}

/// The personal columns of table `name`: hidden from scopes without `pii`.
pub fn personal_columns(name: &str) -> Vec<String> {
    if name == "quarantine" {
        // The values as the return had them: a bad ID number or phone is kept as written.
        return vec!["value".to_string(), "raw".to_string()];
    }
    let specs = unionstat_tables::FACT_TABLES
        .iter()
        .copied()
        .chain([&unionstat_tables::MEMBERS]);
    specs
        .filter(|t| t.name == name)
        .flat_map(|t| t.columns.iter())
        .filter(|c| {
            matches!(
                c.kind,
                unionstat_tables::Kind::IdNumber | unionstat_tables::Kind::Phone
            ) || matches!(c.name, "gender" | "birth_date")
        })
        .map(unionstat_tables::Contract::lake_name)
        .collect()
}

/// `schema` as queries see table `name`: personal columns may be NULL.
pub fn visible_schema(name: &str, schema: &Schema) -> Schema {
    let personal = personal_columns(name);
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| {
            if personal.contains(f.name()) {
                Arc::new(f.as_ref().clone().with_nullable(true))
            } else {
                f.clone()
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

fn refused(code: ErrorCode, message: String) -> DataFusionError {
    DataFusionError::External(Box::new(QueryError::new(code, message)))
}

/// The plan that reads `columns` (the table's, by index; all when `None`) of table `name` from
/// `provider`, whose columns queries see as `schema` ([`visible_schema`]), for the scope in the
/// session: its county's rows only and its personal columns blank, as it may read.
pub async fn scan(
    name: &str,
    provider: &dyn TableProvider,
    schema: &Schema,
    state: &dyn Session,
    columns: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let Some(scope) = state.config().get_extension::<Scope>() else {
        return Err(refused(
            ErrorCode::Internal,
            format!("table {name} was read without saying for whom; this is a fault of the server"),
        ));
    };
    if ADMIN_ONLY.contains(&name) && !scope.is_admin() {
        return Err(refused(
            ErrorCode::Forbidden,
            format!("table {name} is for administrators; ask the federation's IT"),
        ));
    }
    let county = scope.county().filter(|_| by_county(name));
    let blank: Vec<usize> = if scope.pii {
        Vec::new()
    } else {
        let personal = personal_columns(name);
        (0..schema.fields().len())
            .filter(|&i| personal.contains(schema.field(i).name()))
            .collect()
    };
    let wanted: Vec<usize> = columns
        .cloned()
        .unwrap_or_else(|| (0..schema.fields().len()).collect());
    if county.is_none() && !wanted.iter().any(|i| blank.contains(i)) {
        return provider.scan(state, columns, filters, limit).await;
    }
    // Read what is wanted and the county column, in the table's order.
    let county_column = match county {
        Some(_) => Some(schema.index_of("county_code").map_err(|_| {
            refused(
                ErrorCode::Internal,
                format!("table {name} has no county_code to limit it to one county"),
            )
        })?),
        None => None,
    };
    let mut read: Vec<usize> = wanted.iter().copied().chain(county_column).collect();
    read.sort_unstable();
    read.dedup();
    let place = |i: usize| read.binary_search(&i).unwrap_or_default();
    // The county's condition also goes to the scan, first, which then opens only that county's
    // files and prunes by the other conditions among those only; [`ScopeExec`] is what
    // guarantees the rows. A limit would apply before it: dropped then.
    let mut pushed = Vec::with_capacity(filters.len() + 1);
    let limit = match county {
        Some(county) => {
            pushed.push(col("county_code").eq(lit(county)));
            None
        }
        None => limit,
    };
    pushed.extend_from_slice(filters);
    let input = provider.scan(state, Some(&read), &pushed, limit).await?;
    let keep = county.zip(county_column).map(|(c, i)| (place(i), c));
    let mut plan: Arc<dyn ExecutionPlan> = Arc::new(ScopeExec::new(input, keep)?);
    let input = plan.schema();
    let projection = wanted
        .iter()
        .map(|&i| {
            let field = schema.field(i);
            let expr: Arc<dyn PhysicalExpr> = if blank.contains(&i) {
                Arc::new(Literal::new(ScalarValue::try_from(field.data_type())?))
            } else {
                Arc::new(Column::new(input.field(place(i)).name(), place(i)))
            };
            Ok((expr, field.name().clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    // The columns keep their meanings (field metadata), as the logical plan expects.
    let projected = schema.project(&wanted)?;
    plan = Arc::new(ProjectionExec::try_new_with_schema_metadata(
        projection, plan, &projected,
    )?);
    Ok(plan)
}

/// Keeps the rows of one county (or all rows, when `county` is `None`). Unlike a filter, it takes
/// no other condition into itself and passes none below it, so no predicate of the query is ever
/// evaluated on another county's row; and it reports no statistics, so no count is answered from
/// the files' metadata (nor from the blanked columns' constant values).
#[derive(Debug)]
pub struct ScopeExec {
    input: Arc<dyn ExecutionPlan>,
    county: Option<(usize, String)>,
}

impl ScopeExec {
    /// Rows of `input` whose column `county.0` is `county.1`; all rows when `county` is `None`.
    pub fn new(input: Arc<dyn ExecutionPlan>, county: Option<(usize, &str)>) -> Result<Self> {
        if let Some((column, _)) = county {
            let field_type = input.schema().field(column).data_type().clone();
            if !matches!(
                field_type,
                DataType::Utf8
                    | DataType::Utf8View
                    | DataType::LargeUtf8
                    | DataType::Dictionary(..)
            ) {
                return Err(refused(
                    ErrorCode::Internal,
                    format!("a county column of type {field_type}"),
                ));
            }
        }
        Ok(ScopeExec {
            input,
            county: county.map(|(i, c)| (i, c.to_string())),
        })
    }
}

impl DisplayAs for ScopeExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.county {
            Some((_, county)) => write!(f, "ScopeExec: county_code = {county}"),
            None => write!(f, "ScopeExec: every county"),
        }
    }
}

impl ExecutionPlan for ScopeExec {
    fn name(&self) -> &str {
        "ScopeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children
            .pop()
            .ok_or_else(|| refused(ErrorCode::Internal, "ScopeExec without its input".into()))?;
        let county = self.county.as_ref().map(|(i, c)| (*i, c.as_str()));
        Ok(Arc::new(ScopeExec::new(input, county)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.input.schema();
        let input = self.input.execute(partition, context)?;
        let Some((column, county)) = self.county.clone() else {
            return Ok(input);
        };
        let county = Scalar::new(StringArray::from(vec![county]));
        let stream = input.map(move |batch| {
            let batch = batch?;
            let codes = cast(batch.column(column), &DataType::Utf8)?;
            let keep = eq(&codes, &county)?;
            Ok(filter_record_batch(&batch, &keep)?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_columns_come_from_the_table_definitions() {
        assert_eq!(
            personal_columns("hardship_households"),
            ["id_number_hash", "phone_masked", "gender", "birth_date"]
        );
        assert_eq!(
            personal_columns("members"),
            ["gender", "birth_date", "id_number_hash", "phone_masked"]
        );
        assert!(personal_columns("grassroots_unions").is_empty());
    }

    #[test]
    fn scopes_that_read_the_same_rows_share_answers_and_no_others_do() {
        let city = Scope {
            name: "a".into(),
            role: Role::City,
            county: None,
            pii: false,
            ..Scope::local()
        };
        let viewer = Scope {
            name: "b".into(),
            role: Role::Viewer,
            ..city.clone()
        };
        let county = Scope {
            role: Role::County,
            county: Some("350803".into()),
            ..city.clone()
        };
        assert_eq!(city.cache_key(), viewer.cache_key());
        assert_ne!(city.cache_key(), county.cache_key());
        assert_ne!(city.cache_key(), Scope::local().cache_key());
        let city_pii = Scope {
            pii: true,
            ..city.clone()
        };
        assert_ne!(city_pii.cache_key(), Scope::local().cache_key());
    }
}
