//! Time travel: `SELECT * FROM table_at('grassroots_unions', 3)` reads a table as of Delta version
//! 3, and `table_at('grassroots_unions', '2026-11-25T08:00:00Z')` as of the newest version
//! committed at or before that moment. Every earlier submission stays readable this way.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use crate::catalog::{Catalog, LiveTable, known_tables, provider};

/// The `table_at` table function.
#[derive(Debug)]
pub struct TableAt {
    catalog: Arc<Catalog>,
}

impl TableAt {
    /// `table_at` over the lake's tables.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        TableAt { catalog }
    }
}

/// Where to travel to.
#[derive(Clone, Copy)]
enum Moment {
    Version(u64),
    Time(chrono::DateTime<chrono::Utc>),
}

fn usage(detail: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{detail}; use table_at('TABLE', VERSION) or table_at('TABLE', 'YYYY-MM-DDTHH:MM:SSZ')"
    ))
}

impl TableFunctionImpl for TableAt {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [Expr::Literal(name, _), Expr::Literal(at, _)] = args.exprs() else {
            return Err(usage("table_at takes a table name and a version or a time"));
        };
        let name = match name {
            ScalarValue::Utf8(Some(n)) | ScalarValue::LargeUtf8(Some(n)) => n.clone(),
            _ => {
                return Err(usage(
                    "the first argument of table_at is a table name in quotes",
                ));
            }
        };
        if !known_tables().contains(&name.as_str()) {
            return Err(DataFusionError::Plan(format!(
                "table {name} not found; table_at reads the lake's tables: {}",
                known_tables().join(", ")
            )));
        }
        let moment = match at {
            ScalarValue::Int64(Some(v)) if *v >= 0 => Moment::Version(*v as u64),
            ScalarValue::Utf8(Some(t)) | ScalarValue::LargeUtf8(Some(t)) => {
                let time = chrono::DateTime::parse_from_rfc3339(t)
                    .map_err(|e| usage(&format!("{t} is not a time ({e})")))?;
                Moment::Time(time.with_timezone(&chrono::Utc))
            }
            _ => {
                return Err(usage(
                    "the second argument of table_at is a version or a time",
                ));
            }
        };
        let catalog = self.catalog.clone();
        // Table functions are planned synchronously; loading a version reads the Delta log, so
        // it runs on the runtime this planning call is already inside of.
        let load = async move {
            let Some(mut table) = catalog
                .open(&name)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
            else {
                return Err(DataFusionError::Plan(format!(
                    "table {name} not found in the lake"
                )));
            };
            let loaded = match moment {
                Moment::Version(v) => table.load_version(v).await,
                Moment::Time(t) => table.load_with_datetime(t).await,
            };
            loaded.map_err(|e| {
                DataFusionError::Plan(format!("table {name} has no such version: {e}"))
            })?;
            // Before its first commit, the Delta log still answers with version 0.
            if let Moment::Time(t) = moment
                && let (Some(v), Ok(snapshot)) = (table.version(), table.snapshot())
                && let Some(committed) = snapshot.version_timestamp(v)
                && committed > t.timestamp_millis()
            {
                let first = chrono::DateTime::from_timestamp_millis(committed).unwrap_or_default();
                return Err(DataFusionError::Plan(format!(
                    "table {name} did not exist at {t}; its first version was committed at {first}"
                )));
            }
            let provider = provider(&table)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            // The same policy as the table's current version.
            Ok(Arc::new(LiveTable::new(&name, provider)) as Arc<dyn TableProvider>)
        };
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(load))
    }
}
