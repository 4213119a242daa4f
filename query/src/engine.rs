//! The one engine behind every SQL interface: a long-lived DataFusion session over the lake,
//! with the semantic views, spatial functions and `table_at`, that runs each user statement
//! inside the guards and remembers answers until a table they could read changes.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{Expr, LogicalPlan, Volatility};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec,
};
use datafusion::physical_plan::unnest::UnnestExec;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use futures::{FutureExt as _, StreamExt};
use serde::Serialize;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::audit::Audit;
use crate::bounded;
use crate::catalog::{Catalog, LiveTable, lake_url};
use crate::error::{ErrorCode, QueryError, Result};
use crate::group_by_code::GroupByCode;
use crate::guard::{self, Limits};
use crate::lru::Lru;
use crate::policy::Scope;
use crate::time_travel::TableAt;
use crate::views;

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Bounds on user queries.
    pub limits: Limits,
    /// Keep answers until a table changes.
    pub result_cache: bool,
    /// Bytes the kept answers may take together (least recently used leave first).
    pub result_cache_bytes: usize,
    /// How often to look for new commits.
    pub refresh_interval: Duration,
    /// Let sorts and joins that pass the memory limit spill to the system's temporary folder.
    /// Off for user queries (the limit is the guard); on for batch jobs such as exports.
    pub spill_to_disk: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            limits: Limits::default(),
            result_cache: true,
            result_cache_bytes: 256 << 20,
            refresh_interval: Duration::from_millis(500),
            spill_to_disk: false,
        }
    }
}

/// A query's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Column names and types.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Arc<Vec<RecordBatch>>,
    /// The lake's table versions the answer was computed from.
    pub versions: Arc<BTreeMap<String, i64>>,
}

impl Answer {
    /// Rows in the answer.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A table or view as `GET /api/tables` describes it.
#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    /// Name in SQL.
    pub name: String,
    /// `table` or `view`.
    pub kind: &'static str,
    /// What it holds.
    pub description: String,
    /// The Delta version queries read now (tables only).
    pub version: Option<i64>,
    /// The SQL that defines it (views only).
    pub definition: Option<String>,
    /// Its columns.
    pub columns: Vec<ColumnInfo>,
}

/// A column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnInfo {
    /// Name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Whether it may be empty.
    pub nullable: bool,
    /// Meaning, from the ingest contract.
    pub comment: Option<String>,
}

/// Physical plans of recent statements, made against one set of table versions. Planning a
/// view over a Delta table lists and prunes its files for every scan, which costs more than
/// running most dashboard queries, so a repeated statement reuses its plan until a table
/// changes.
#[derive(Debug, Default)]
struct PlanCache {
    versions: BTreeMap<String, i64>,
    plans: HashMap<String, Arc<dyn ExecutionPlan>>,
    order: VecDeque<String>,
}

const PLAN_ENTRIES: usize = 256;

/// `plan` with its joins and unnests made to take turns with other work. Their output can be
/// many times their input, and a cross join emits batch after batch without waiting for its
/// inputs: it would never hand back its thread, so a query cancelled on a timeout would keep
/// the cores busy until it finished. Wrapped, they yield every so many batches, and the
/// cancellation takes effect there.
fn yielding(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let plan = plan.transform_up(|node| {
        let multiplies = node.is::<CrossJoinExec>()
            || node.is::<NestedLoopJoinExec>()
            || node.is::<HashJoinExec>()
            || node.is::<SortMergeJoinExec>()
            || node.is::<UnnestExec>();
        Ok(if multiplies {
            Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>)
        } else {
            Transformed::no(node)
        })
    })?;
    Ok(plan.data)
}

/// Whether running `plan` again over the same table versions gives the same answer and may
/// reuse its physical plan: not when it calls a function whose value changes between calls
/// (`now()`, `random()`, which planning would fix to one value), nor for EXPLAIN ANALYZE,
/// whose plan carries the metrics of its run, nor when it reads the audit, which grows without
/// a table version.
fn repeatable(plan: &LogicalPlan) -> bool {
    if matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)) {
        return false;
    }
    let mut varies = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && scan.table_name.table() == "audit"
        {
            varies = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        for expr in node.expressions() {
            let _ = expr.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && f.func.signature().volatility != Volatility::Immutable
                    && !bounded::is_bounded(&f.func)
                {
                    varies = true;
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            });
        }
        Ok(if varies {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    !varies
}

/// The error for a query that panicked inside the engine: the connection and the server carry
/// on, and the log keeps the panic with the statement (the `query` span holds it).
fn panicked(panic: &(dyn Any + Send)) -> QueryError {
    let what = panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    tracing::error!(panic = %what, "a query panicked");
    QueryError::new(
        ErrorCode::Internal,
        format!(
            "the query failed inside the engine ({what}); this is a fault of the server, \
             not of the SQL: the statement is in the server's log for a report"
        ),
    )
}

/// The SQL engine.
pub struct Engine {
    ctx: SessionContext,
    catalog: Arc<Catalog>,
    options: EngineOptions,
    slots: Arc<Semaphore>,
    /// Answers kept by (scope, table versions, SQL).
    cache: Mutex<Lru<Answer>>,
    plans: Mutex<PlanCache>,
    /// Views left out because their tables are not in the lake yet.
    missing_views: Mutex<Vec<(&'static str, String)>>,
    /// The audit of queries, when a server keeps one.
    audit: OnceLock<Arc<Audit>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("catalog", &self.catalog)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the lake at `location` (a folder or an object-store URL).
    pub async fn open(location: &str, options: EngineOptions) -> Result<Self> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(options.limits.memory_bytes, 1.0)
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(
                if options.spill_to_disk {
                    DiskManagerMode::OsTmpDirectory
                } else {
                    DiskManagerMode::Disabled
                },
            ))
            .build_arc()?;
        // Batches four times DataFusion's default: the dashboard's queries scan and aggregate
        // whole columns, and fewer, larger batches measured about 10% faster at scale 10.
        let mut config = SessionConfig::new()
            .with_batch_size(32_768)
            .with_information_schema(true)
            .with_default_catalog_and_schema("datafusion", "public");
        // Filters that joins and top-k sorts pass to scans while a plan runs belong to that one
        // run; without them a physical plan can be run again (see `PlanCache`).
        let optimizer = &mut config.options_mut().optimizer;
        optimizer.enable_dynamic_filter_pushdown = false;
        // A join whose smaller side is a few hundred thousand rows (the unions holding contracts
        // against the enterprise register) builds one hash table and probes it from every
        // partition, instead of hash-repartitioning both sides first.
        optimizer.hash_join_single_partition_threshold = 64 << 20;
        optimizer.hash_join_single_partition_threshold_rows = 1 << 20;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(GroupByCode))
            .build();
        let ctx = SessionContext::new_with_state(state);
        geodatafusion::register(&ctx);
        bounded::register(&ctx);
        let catalog = Arc::new(Catalog::new(lake_url(location)?, options.refresh_interval));
        ctx.register_udtf("table_at", Arc::new(TableAt::new(catalog.clone())));
        let engine = Engine {
            ctx,
            catalog,
            slots: Arc::new(Semaphore::new(options.limits.max_concurrent)),
            cache: Mutex::new(Lru::new(options.result_cache_bytes)),
            plans: Mutex::new(PlanCache::default()),
            missing_views: Mutex::new(Vec::new()),
            audit: OnceLock::new(),
            options,
        };
        engine.refresh(true).await?;
        Ok(engine)
    }

    /// Views left out because the tables they read are not in the lake, with the reason.
    pub fn missing_views(&self) -> Vec<(&'static str, String)> {
        self.missing_views
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// The DataFusion session (for the Postgres endpoint's catalog).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Bytes the running queries hold now.
    pub fn memory_reserved(&self) -> usize {
        self.ctx.runtime_env().memory_pool.reserved()
    }

    /// Queries running now.
    pub fn running(&self) -> usize {
        self.options.limits.max_concurrent - self.slots.available_permits()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    /// Picks up new commits; rebuilds the views when tables appeared or changed shape.
    pub async fn refresh(&self, force: bool) -> Result<BTreeMap<String, i64>> {
        let refresh = self.catalog.refresh(&self.ctx, force).await?;
        if refresh.reshaped {
            let missing = views::register(&self.ctx).await;
            if let Ok(mut m) = self.missing_views.lock() {
                *m = missing;
            }
        }
        Ok(self.catalog.versions().await)
    }

    /// Runs one user statement within the guards, reading what `scope` may read.
    pub async fn sql(&self, scope: &Scope, sql: &str) -> Result<Answer> {
        let span = tracing::info_span!("query", sql = %sql, user = %scope.name);
        let started = Instant::now();
        let answer = self.sql_in_span(scope, sql).instrument(span).await;
        self.audited(scope, sql, started, &answer);
        answer
    }

    /// Writes a query's line in the audit, when the engine keeps one.
    fn audited(&self, scope: &Scope, sql: &str, started: Instant, answer: &Result<Answer>) {
        if let Some(audit) = self.audit.get() {
            audit.query(
                scope,
                sql,
                started.elapsed(),
                answer.as_ref().map(Answer::rows),
            );
        }
    }

    /// Keeps the audit of every query and login beside the lake (`_system/audit/`), readable by
    /// admin accounts as the `audit` table; nothing for a lake that is not a local folder.
    pub fn enable_audit(&self) -> Result<Option<Arc<Audit>>> {
        if let Some(audit) = self.audit.get() {
            return Ok(Some(audit.clone()));
        }
        let Some(audit) = Audit::beside_lake(self.catalog.root())? else {
            return Ok(None);
        };
        let table = LiveTable::new("audit", audit.table()?);
        self.ctx.register_table("audit", Arc::new(table))?;
        let audit = Arc::new(audit);
        let _ = self.audit.set(audit.clone());
        Ok(Some(audit))
    }

    /// The audit, when it is kept.
    pub fn audit(&self) -> Option<Arc<Audit>> {
        self.audit.get().cloned()
    }

    async fn sql_in_span(&self, scope: &Scope, sql: &str) -> Result<Answer> {
        let statement = guard::parse(sql)?;
        let versions = Arc::new(self.refresh(false).await?);
        let key = format!("{}\u{0}{versions:?}\u{0}{sql}", scope.cache_key());
        if let Some(answer) = self.cached(&key) {
            return Ok(answer);
        }
        let (answer, repeatable) = self.run(scope, statement, versions).await?;
        if repeatable {
            self.remember(key, &answer);
        }
        Ok(answer)
    }

    /// Runs a statement parsed elsewhere (the Postgres endpoint parses its own).
    pub async fn statement(&self, scope: &Scope, statement: DfStatement) -> Result<Answer> {
        let sql = statement.to_string();
        let span = tracing::info_span!("query", sql = %sql, user = %scope.name);
        let started = Instant::now();
        let answer = self
            .statement_in_span(scope, statement)
            .instrument(span)
            .await;
        self.audited(scope, &sql, started, &answer);
        answer
    }

    async fn statement_in_span(&self, scope: &Scope, statement: DfStatement) -> Result<Answer> {
        guard::check(&statement)?;
        let versions = Arc::new(self.refresh(false).await?);
        Ok(self.run(scope, statement, versions).await?.0)
    }

    /// Runs a plan made elsewhere from `sql` (the Postgres endpoint's prepared statements).
    pub async fn plan(&self, scope: &Scope, sql: &str, plan: LogicalPlan) -> Result<Answer> {
        let started = Instant::now();
        let answer = async {
            let versions = Arc::new(self.refresh(false).await?);
            self.execute(scope, plan, None, versions).await
        }
        .await;
        self.audited(scope, sql, started, &answer);
        answer
    }

    /// The session as `scope` sees it: every lake table it scans reads through that scope's
    /// policy ([`crate::policy`]).
    fn state_for(&self, scope: &Scope) -> SessionState {
        let mut state = self.ctx.state();
        state.config_mut().set_extension(Arc::new(scope.clone()));
        state
    }

    /// A DataFusion context of the engine's tables, views and functions for `scope`, for work
    /// that builds its own plans (exports).
    pub fn context_for(&self, scope: &Scope) -> SessionContext {
        SessionContext::new_with_state(self.state_for(scope))
    }

    /// Runs a statement, reusing its physical plan when it ran before at these table versions.
    /// Also says whether the answer is [`repeatable`].
    async fn run(
        &self,
        scope: &Scope,
        statement: DfStatement,
        versions: Arc<BTreeMap<String, i64>>,
    ) -> Result<(Answer, bool)> {
        let key = format!("{}\u{0}{statement}", scope.cache_key());
        if let Some(physical) = self.planned(&key, &versions) {
            let answer = self
                .execute_physical(async { Ok(reset_plan_states(physical)?) }, versions)
                .await?;
            return Ok((answer, true));
        }
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        let repeatable = repeatable(&plan);
        let answer = self
            .execute(scope, plan, repeatable.then_some(key), versions)
            .await?;
        Ok((answer, repeatable))
    }

    /// Plans and executes `plan`, keeping its physical plan under `key` when there is one.
    async fn execute(
        &self,
        scope: &Scope,
        plan: LogicalPlan,
        key: Option<String>,
        versions: Arc<BTreeMap<String, i64>>,
    ) -> Result<Answer> {
        guard::check_plan(&plan)?;
        if scope.county().is_some() && matches!(plan, LogicalPlan::Analyze(_)) {
            // Its metrics count the rows each scan read before the county's filter.
            return Err(QueryError::new(
                ErrorCode::Forbidden,
                "EXPLAIN ANALYZE is for city and admin accounts: its row counts include other \
                 counties' rows; use EXPLAIN to see the plan",
            ));
        }
        let planning = async {
            let physical = yielding(self.state_for(scope).create_physical_plan(&plan).await?)?;
            if let Some(key) = key {
                // A copy that never runs: a plan that ran holds what its joins built (and the
                // memory reserved for it) until it is dropped.
                self.keep_plan(key, &versions, reset_plan_states(physical.clone())?);
            }
            Ok(physical)
        };
        self.execute_physical(planning, versions.clone()).await
    }

    /// Runs the plan that `planning` makes in a free slot, within the time, memory and row
    /// limits. Dropping the stream on a timeout or a row overflow cancels the work still running.
    async fn execute_physical(
        &self,
        planning: impl Future<Output = Result<Arc<dyn ExecutionPlan>>>,
        versions: Arc<BTreeMap<String, i64>>,
    ) -> Result<Answer> {
        let limits = &self.options.limits;
        let _slot = tokio::time::timeout(limits.queue_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| {
                QueryError::new(
                    ErrorCode::Busy,
                    format!(
                        "{} queries are already running and none finished within {:?}; try again shortly",
                        limits.max_concurrent, limits.queue_wait
                    ),
                )
            })?
            .map_err(|_| QueryError::new(ErrorCode::Internal, "the query slots are closed"))?;
        let work = async {
            let physical = planning.await?;
            let schema = physical.schema();
            let mut stream = execute_stream(physical, self.ctx.task_ctx())?;
            // The answer counts against the memory limit while it is collected.
            let held =
                MemoryConsumer::new("query answer").register(&self.ctx.runtime_env().memory_pool);
            let mut batches = Vec::new();
            let mut rows = 0;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                held.try_grow(batch.get_array_memory_size())
                    .map_err(QueryError::from)?;
                rows += batch.num_rows();
                if rows > limits.max_rows {
                    return Err(QueryError::new(
                        ErrorCode::TooManyRows,
                        format!(
                            "the result has more than {} rows; add LIMIT, filter or aggregate, \
                             or take whole tables from a Parquet export",
                            limits.max_rows
                        ),
                    ));
                }
                batches.push(batch);
            }
            Ok(Answer {
                schema,
                batches: Arc::new(batches),
                versions,
            })
        };
        match tokio::time::timeout(limits.timeout, AssertUnwindSafe(work).catch_unwind()).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(panic)) => Err(panicked(panic.as_ref())),
            Err(_) => Err(QueryError::new(
                ErrorCode::Timeout,
                format!(
                    "the query ran longer than {:?} and was cancelled; filter or aggregate earlier",
                    limits.timeout
                ),
            )),
        }
    }

    /// The physical plan kept for statement `key` at these table versions.
    fn planned(
        &self,
        key: &str,
        versions: &BTreeMap<String, i64>,
    ) -> Option<Arc<dyn ExecutionPlan>> {
        let plans = self.plans.lock().ok()?;
        if plans.versions != *versions {
            return None;
        }
        plans.plans.get(key).cloned()
    }

    fn keep_plan(
        &self,
        key: String,
        versions: &BTreeMap<String, i64>,
        plan: Arc<dyn ExecutionPlan>,
    ) {
        let Ok(mut cache) = self.plans.lock() else {
            return;
        };
        if cache.versions != *versions {
            *cache = PlanCache {
                versions: versions.clone(),
                ..PlanCache::default()
            };
        }
        if cache.plans.insert(key.clone(), plan).is_none() {
            cache.order.push_back(key);
        }
        while cache.order.len() > PLAN_ENTRIES {
            if let Some(old) = cache.order.pop_front() {
                cache.plans.remove(&old);
            }
        }
    }

    fn cached(&self, key: &str) -> Option<Answer> {
        if !self.options.result_cache {
            return None;
        }
        self.cache.lock().ok()?.get(key)
    }

    fn remember(&self, key: String, answer: &Answer) {
        if !self.options.result_cache {
            return;
        }
        let bytes = answer
            .batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum();
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, answer.clone(), bytes);
        }
    }

    /// Bytes the kept answers hold now.
    pub fn result_cache_bytes(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.bytes())
    }

    /// The lake's tables and the views, with their columns and what they mean.
    pub async fn tables(&self) -> Result<Vec<TableInfo>> {
        let versions = self.refresh(false).await?;
        let mut out = Vec::new();
        for (name, version) in &versions {
            out.push(
                self.describe(name, "table", String::new(), Some(*version), None)
                    .await?,
            );
        }
        let missing: Vec<&str> = self
            .missing_views
            .lock()
            .map(|m| m.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        for view in views::views() {
            if !missing.contains(&view.name) {
                out.push(
                    self.describe(
                        view.name,
                        "view",
                        view.description.to_string(),
                        None,
                        Some(view.sql),
                    )
                    .await?,
                );
            }
        }
        Ok(out)
    }

    async fn describe(
        &self,
        name: &str,
        kind: &'static str,
        description: String,
        version: Option<i64>,
        definition: Option<String>,
    ) -> Result<TableInfo> {
        let provider = self
            .ctx
            .table_provider(name)
            .await
            .map_err(QueryError::from)?;
        let columns = provider
            .schema()
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
                comment: f.metadata().get("comment").cloned(),
            })
            .collect();
        Ok(TableInfo {
            name: name.to_string(),
            kind,
            description,
            version,
            definition,
            columns,
        })
    }
}
