//! Grouping by one code — a town, county or industry code, or a year — in the first (partial)
//! stage of an aggregate.
//!
//! The dashboard's heaviest queries count and sum millions of member rows by town. DataFusion 55
//! hashes every row's text to find its group; here a row's group comes from the 16-byte view of
//! its text (codes are short enough to live in the view itself) or from its integer, and a row
//! with the same key as the row before it (the registers arrive sorted by union, so by town; a
//! file holds one year) reuses that row's group without any lookup. Everything else — the
//! aggregate functions, the second stage, the plan's schema — stays DataFusion's: the operator
//! replaces only the partial stage's grouping, and only where the aggregates can work on group
//! indices.
//!
//! A partial stage may hand on its groups at any time, because the final stage merges them, so
//! the operator passes its groups downstream whenever it holds a batch's worth: memory stays
//! bounded however many distinct values a column has.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, BooleanArray, Int64Array, StringViewArray,
    StringViewBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{HashMap, Result, internal_datafusion_err};
use datafusion::config::ConfigOptions;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PlanProperties,
};
use futures::StreamExt;

/// The optimizer rule: puts [`GroupByCodeExec`] in place of each partial aggregate it can take.
#[derive(Debug, Default)]
pub struct GroupByCode;

impl PhysicalOptimizerRule for GroupByCode {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match node.downcast_ref::<AggregateExec>() {
            Some(aggregate) if takes(aggregate) => Ok(Transformed::yes(Arc::new(
                GroupByCodeExec::new(aggregate.clone()),
            ) as _)),
            _ => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "group_by_code"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A partial aggregate on one text or 64-bit integer key over unordered input, with no grouping
/// sets, limit or dynamic filter, whose aggregates all work on group indices and need no ordering.
fn takes(aggregate: &AggregateExec) -> bool {
    let group_by = aggregate.group_expr();
    *aggregate.mode() == AggregateMode::Partial
        && group_by.is_single()
        && group_by.expr().len() == 1
        && group_by.expr()[0]
            .0
            .data_type(&aggregate.input_schema())
            .is_ok_and(|t| matches!(t, DataType::Utf8View | DataType::Int64))
        && *aggregate.input_order_mode() == InputOrderMode::Linear
        && aggregate.limit_options().is_none()
        && aggregate.dynamic_expressions_produced().is_empty()
        && aggregate
            .aggr_expr()
            .iter()
            .all(|e| e.groups_accumulator_supported() && e.order_bys().is_empty())
}

/// The partial stage of an aggregate grouped by one text or integer column. It keeps the
/// `AggregateExec` it stands for: its schema, properties, expressions and display.
#[derive(Debug, Clone)]
pub struct GroupByCodeExec {
    aggregate: AggregateExec,
    metrics: ExecutionPlanMetricsSet,
}

impl GroupByCodeExec {
    fn new(aggregate: AggregateExec) -> Self {
        GroupByCodeExec {
            aggregate,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for GroupByCodeExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "GroupByCodeExec: ")?;
        self.aggregate.fmt_as(t, f)
    }
}

impl ExecutionPlan for GroupByCodeExec {
    fn name(&self) -> &str {
        "GroupByCodeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.aggregate.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rebuilt = Arc::new(self.aggregate.clone()).with_new_children(children)?;
        let aggregate = rebuilt
            .downcast_ref::<AggregateExec>()
            .ok_or_else(|| internal_datafusion_err!("an aggregate rebuilt as another plan"))?;
        Ok(Arc::new(GroupByCodeExec::new(aggregate.clone())))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.aggregate.input().execute(partition, context.clone())?;
        let run = Run {
            input,
            groups: Groups::new(&self.aggregate)?,
            reservation: MemoryConsumer::new(format!("GroupByCodeExec[{partition}]"))
                .register(context.memory_pool()),
            metrics: BaselineMetrics::new(&self.metrics, partition),
            batch_size: context.session_config().batch_size(),
        };
        let stream = futures::stream::try_unfold(Some(run), |run| async move {
            match run {
                Some(run) => run.next().await,
                None => Ok(None),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.aggregate.schema(),
            stream,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's run: reads input until a batch's worth of groups is held, then hands them on.
struct Run {
    input: SendableRecordBatchStream,
    groups: Groups,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
    batch_size: usize,
}

impl Run {
    /// The next output batch, with the run that continues after it (`None` when the input is done).
    async fn next(mut self) -> Result<Option<(RecordBatch, Option<Run>)>> {
        while let Some(batch) = self.input.next().await.transpose()? {
            let timer = self.metrics.elapsed_compute().timer();
            self.groups.add(&batch)?;
            self.reservation.try_resize(self.groups.size())?;
            timer.done();
            if self.groups.len() >= self.batch_size {
                let out = self.emit()?;
                return Ok(Some((out, Some(self))));
            }
        }
        if self.groups.len() == 0 {
            return Ok(None);
        }
        let out = self.emit()?;
        Ok(Some((out, None)))
    }

    fn emit(&mut self) -> Result<RecordBatch> {
        let timer = self.metrics.elapsed_compute().timer();
        let out = self.groups.emit()?;
        self.reservation.try_resize(self.groups.size())?;
        timer.done();
        self.metrics.record_output(out.num_rows());
        Ok(out)
    }
}

/// The groups seen so far and each aggregate's partial state for them.
struct Groups {
    key: Arc<dyn PhysicalExpr>,
    keys: Keys,
    aggregates: Vec<Aggregate>,
    schema: SchemaRef,
    /// Group of each row of the current batch.
    rows: Vec<usize>,
}

/// One aggregate function with its arguments and optional `FILTER (WHERE ...)`.
struct Aggregate {
    arguments: Vec<Arc<dyn PhysicalExpr>>,
    filter: Option<Arc<dyn PhysicalExpr>>,
    accumulator: Box<dyn GroupsAccumulator>,
}

impl Groups {
    fn new(aggregate: &AggregateExec) -> Result<Self> {
        let aggregates = aggregate
            .aggr_expr()
            .iter()
            .zip(aggregate.filter_expr())
            .map(|(expr, filter)| {
                Ok(Aggregate {
                    arguments: expr.expressions(),
                    filter: filter.clone(),
                    accumulator: expr.create_groups_accumulator()?,
                })
            })
            .collect::<Result<_>>()?;
        let key = aggregate.group_expr().expr()[0].0.clone();
        let keys = match key.data_type(&aggregate.input_schema())? {
            DataType::Int64 => Keys::Int(IntKeys::default()),
            _ => Keys::Text(Box::default()),
        };
        Ok(Groups {
            key,
            keys,
            aggregates,
            schema: aggregate.schema(),
            rows: Vec::new(),
        })
    }

    fn len(&self) -> usize {
        match &self.keys {
            Keys::Text(k) => k.values.len(),
            Keys::Int(k) => k.values.len(),
        }
    }

    fn size(&self) -> usize {
        let keys = match &self.keys {
            Keys::Text(k) => {
                k.short.allocation_size()
                    + k.long.allocation_size()
                    + k.long_bytes
                    + k.values.allocated_size()
            }
            Keys::Int(k) => {
                k.map.allocation_size() + k.values.capacity() * size_of::<Option<i64>>()
            }
        };
        keys + self.rows.capacity() * size_of::<usize>()
            + self
                .aggregates
                .iter()
                .map(|a| a.accumulator.size())
                .sum::<usize>()
    }

    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let key = self.key.evaluate(batch)?.into_array(rows)?;
        self.rows.clear();
        self.rows.reserve(rows);
        match &mut self.keys {
            Keys::Text(k) => k.assign(key.as_string_view(), &mut self.rows),
            Keys::Int(k) => k.assign(key.as_primitive(), &mut self.rows),
        }
        let groups = self.len();
        for aggregate in &mut self.aggregates {
            let values = aggregate
                .arguments
                .iter()
                .map(|e| e.evaluate(batch)?.into_array(rows))
                .collect::<Result<Vec<ArrayRef>>>()?;
            let filter = match &aggregate.filter {
                Some(f) => Some(f.evaluate(batch)?.into_array(rows)?),
                None => None,
            };
            aggregate.accumulator.update_batch(
                &values,
                &self.rows,
                filter.as_ref().map(|f| f.as_boolean() as &BooleanArray),
                groups,
            )?;
        }
        Ok(())
    }

    /// All groups with their partial states, in the aggregate's output schema; starts afresh.
    fn emit(&mut self) -> Result<RecordBatch> {
        let keys: ArrayRef = match &mut self.keys {
            Keys::Text(k) => Arc::new(std::mem::take(k).values.finish()),
            Keys::Int(k) => Arc::new(Int64Array::from(std::mem::take(k).values)),
        };
        let mut columns = vec![keys];
        for aggregate in &mut self.aggregates {
            columns.extend(aggregate.accumulator.state(EmitTo::All)?);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

/// The distinct values of the key column seen so far, numbered by group.
enum Keys {
    Text(Box<TextKeys>),
    Int(IntKeys),
}

#[derive(Default)]
struct TextKeys {
    /// Group of each distinct text of up to 12 bytes, keyed by its view (length and bytes).
    short: HashMap<u128, usize>,
    /// Group of each longer text.
    long: HashMap<Box<[u8]>, usize>,
    /// Bytes of the longer texts.
    long_bytes: usize,
    null: Option<usize>,
    /// Each group's text, in group order.
    values: StringViewBuilder,
}

impl TextKeys {
    /// Pushes the group of every text of `texts` onto `rows`, making new groups as needed.
    fn assign(&mut self, texts: &StringViewArray, rows: &mut Vec<usize>) {
        // The previous row's view and group; no text has a view of all ones (its length would
        // be 4 GiB).
        let mut last = (u128::MAX, 0);
        for (i, &view) in texts.views().iter().enumerate() {
            if view == last.0 && texts.is_valid(i) {
                rows.push(last.1);
                continue;
            }
            let next = self.values.len();
            let group = if texts.is_null(i) {
                *self.null.get_or_insert_with(|| {
                    self.values.append_null();
                    next
                })
            } else if view as u32 <= 12 {
                let group = *self.short.entry(view).or_insert_with(|| {
                    self.values.append_value(texts.value(i));
                    next
                });
                last = (view, group);
                group
            } else {
                let text = texts.value(i);
                match self.long.get(text.as_bytes()) {
                    Some(&group) => group,
                    None => {
                        self.values.append_value(text);
                        self.long.insert(text.as_bytes().into(), next);
                        self.long_bytes += text.len();
                        next
                    }
                }
            };
            rows.push(group);
        }
    }
}

#[derive(Default)]
struct IntKeys {
    map: HashMap<i64, usize>,
    null: Option<usize>,
    /// Each group's value, in group order.
    values: Vec<Option<i64>>,
}

impl IntKeys {
    /// Pushes the group of every value of `ints` onto `rows`, making new groups as needed.
    fn assign(&mut self, ints: &Int64Array, rows: &mut Vec<usize>) {
        let mut last: Option<(i64, usize)> = None;
        for (i, &v) in ints.values().iter().enumerate() {
            let next = self.values.len();
            let group = if ints.is_null(i) {
                *self.null.get_or_insert_with(|| {
                    self.values.push(None);
                    next
                })
            } else {
                match last {
                    Some((l, g)) if l == v => g,
                    _ => {
                        let group = *self.map.entry(v).or_insert_with(|| {
                            self.values.push(Some(v));
                            next
                        });
                        last = Some((v, group));
                        group
                    }
                }
            };
            rows.push(group);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// Two partitions of codes: runs, short and long texts, empty texts just before missing ones,
    /// and far more distinct values than a batch holds; numbers in runs, with missing ones.
    fn table() -> MemTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("code", DataType::Utf8View, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let partition = |seed: usize| {
            let codes: Vec<Option<String>> = (0..5_000)
                .map(|i: usize| match (i + seed) % 13 {
                    0 => Some(String::new()),
                    1 => None,
                    2 => Some(format!("龙岩市新罗区第{}工会联合会", i % 37)),
                    3 => Some(format!("3508{:05}", i)),
                    _ => Some(format!("350802{:03}", i / 100 % 13)),
                })
                .collect();
            let n: Vec<Option<i64>> = (0..5_000)
                .map(|i: i64| (i % 5 != 0).then_some(i / 3 % 9 - 2))
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringViewArray::from(codes)),
                    Arc::new(Int64Array::from(n)),
                ],
            )
            .map(|b| vec![b])
        };
        MemTable::try_new(
            schema.clone(),
            vec![partition(0).unwrap(), partition(3).unwrap()],
        )
        .unwrap()
    }

    fn context(rule: bool) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_batch_size(64);
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        if rule {
            state = state.with_physical_optimizer_rule(Arc::new(GroupByCode));
        }
        let ctx = SessionContext::new_with_state(state.build());
        ctx.register_table("t", Arc::new(table())).unwrap();
        ctx
    }

    async fn answer(ctx: &SessionContext, sql: &str) -> (String, String) {
        let frame = ctx.sql(sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let plan = displayable(plan.as_ref()).indent(false).to_string();
        let batches = frame.collect().await.unwrap();
        (plan, pretty_format_batches(&batches).unwrap().to_string())
    }

    #[tokio::test]
    async fn answers_as_datafusion_does() {
        let queries = [
            "SELECT code, count(*), count(n), sum(n), avg(n), min(n), max(n) FILTER (WHERE n > 2) \
             FROM t GROUP BY code ORDER BY code NULLS FIRST",
            "SELECT substr(code, 1, 6) AS county, sum(CASE WHEN n > 0 THEN 1 ELSE 0 END) \
             FROM t WHERE n IS NOT NULL GROUP BY county ORDER BY county NULLS FIRST",
            "SELECT code, count(*) FROM t WHERE n = 100 GROUP BY code",
            "SELECT n, count(*), count(code), min(code) FROM t GROUP BY n ORDER BY n NULLS FIRST",
            "SELECT n * 1000 + length(code) AS k, count(*) FROM t GROUP BY k ORDER BY k NULLS FIRST",
        ];
        let (plain, ours) = (context(false), context(true));
        for sql in queries {
            let (plan, expected) = answer(&plain, sql).await;
            assert!(!plan.contains("GroupByCodeExec"), "{plan}");
            let (plan, got) = answer(&ours, sql).await;
            assert!(plan.contains("GroupByCodeExec"), "{sql}\n{plan}");
            assert_eq!(got, expected, "{sql}");
        }
        // Thousands of groups (more than a batch) and the missing and empty codes are all there.
        let (_, groups) = answer(
            &ours,
            "SELECT count(*) AS n FROM (SELECT code FROM t GROUP BY code)",
        )
        .await;
        let (_, distinct) = answer(&plain, "SELECT count(DISTINCT code) + 1 AS n FROM t").await;
        assert_eq!(groups, distinct);
    }
}
