//! One version of a lake table, read by DataFusion's own Parquet scan.
//!
//! deltalake 1.1's scan builds partition columns row by row and tags every batch with the file it
//! came from: at scale 10 that was half the time of the dashboard's town queries. The tables that
//! `ingest` writes are plain Delta (reader version 1: no deletion vectors, no column mapping), so a
//! version is a list of Parquet files with partition values. DataFusion scans them directly:
//! partition values become constant columns, filters on them drop whole files, and other filters
//! prune row groups and are checked on the rows. Other versions go through deltalake's reader,
//! [`Rechecked`].

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{DFSchema, ScalarValue, Statistics};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::object_store::ObjectMeta;
use datafusion::object_store::path::Path;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use deltalake::DeltaTable;

/// The Parquet files of one table version, with their partition values.
#[derive(Debug)]
pub struct DeltaFiles {
    /// The table's columns, in the table's order.
    schema: SchemaRef,
    /// The columns as the scan gives them: the files' columns, then the partition columns.
    scan_schema: SchemaRef,
    /// For each column of the table, its place in `scan_schema`.
    scan_index: Vec<usize>,
    /// The columns stored in the files.
    file_schema: SchemaRef,
    /// The partition columns, in the order of each file's `partition_values`.
    partition_fields: Vec<FieldRef>,
    files: Vec<PartitionedFile>,
    /// Each file's row count, when the log records every one.
    rows: Option<Vec<usize>>,
}

impl DeltaFiles {
    /// The files of `table`'s loaded version, read with `schema` (the columns and types that
    /// deltalake's own provider gives, but text partition columns as plain text). `None` when
    /// the version needs deltalake's reader (deletion vectors or column mapping) or lies in an
    /// object store, whose access deltalake sets up.
    pub fn of(table: &DeltaTable, schema: SchemaRef) -> deltalake::DeltaResult<Option<Self>> {
        let root = table.table_url();
        let state = table.snapshot()?;
        if root.scheme() != "file" || state.protocol().min_reader_version() > 1 {
            return Ok(None);
        }
        let names = state.metadata().partition_columns();
        // Text partition values (county codes) as plain text rather than the dictionaries
        // deltalake declares: DataFusion groups on several text columns column by column, but
        // on a dictionary it falls back to encoding whole rows, several times slower.
        let schema = Arc::new(Schema::new_with_metadata(
            schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Dictionary(_, value)
                        if names.contains(f.name()) && value.as_ref() == &DataType::Utf8 =>
                    {
                        Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View))
                    }
                    _ => f.clone(),
                })
                .collect::<Vec<_>>(),
            schema.metadata().clone(),
        ));
        let (partition_fields, file_fields): (Vec<FieldRef>, Vec<FieldRef>) = schema
            .fields()
            .iter()
            .cloned()
            .partition(|f| names.contains(f.name()));
        if partition_fields.len() != names.len() {
            return Ok(None);
        }
        let scan_schema = Arc::new(Schema::new(
            file_fields
                .iter()
                .chain(&partition_fields)
                .cloned()
                .collect::<Vec<_>>(),
        ));
        let scan_index = schema
            .fields()
            .iter()
            .map(|f| scan_schema.index_of(f.name()))
            .collect::<std::result::Result<_, _>>()?;
        let root_path = Path::from_url_path(root.path())?;
        let mut files = Vec::new();
        let mut rows = Some(Vec::new());
        for view in state.log_data().iter() {
            let location =
                Path::from_iter(root_path.parts().chain(view.object_store_path().parts()));
            let mut file = PartitionedFile::from(ObjectMeta {
                location,
                last_modified: chrono::DateTime::UNIX_EPOCH,
                size: u64::try_from(view.size()).unwrap_or_default(),
                e_tag: None,
                version: None,
            });
            let values = view.partition_values_map();
            file.partition_values = partition_fields
                .iter()
                .map(|field| match values.get(field.name()).cloned().flatten() {
                    Some(value) => ScalarValue::try_from_string(value, field.data_type()),
                    None => ScalarValue::try_from(field.data_type()),
                })
                .collect::<Result<_>>()?;
            rows = rows.zip(view.num_records()).map(|(mut r, n)| {
                r.push(n);
                r
            });
            files.push(file);
        }
        Ok(Some(DeltaFiles {
            scan_schema,
            scan_index,
            file_schema: Arc::new(Schema::new(file_fields)),
            schema,
            partition_fields,
            files,
            rows,
        }))
    }

    /// Whether `filter` reads partition columns only and gives the same answer each time (and
    /// so is decided file by file).
    fn on_partitions(&self, filter: &Expr) -> bool {
        let columns = filter.column_refs();
        !columns.is_empty()
            && !filter.is_volatile()
            && columns
                .iter()
                .all(|c| self.partition_fields.iter().any(|f| f.name() == &c.name))
    }

    /// The indexes of the files whose partition values pass every filter on partition columns.
    /// The filters are applied one after the other, each to the files the ones before it kept,
    /// so a filter is never evaluated on the partition values of files an earlier one dropped
    /// (the access policy puts a county's filter first: no other condition meets another
    /// county's partitions, not even to fail on them).
    fn kept(&self, state: &dyn Session, filters: &[Expr]) -> Result<Vec<usize>> {
        let mut kept: Vec<usize> = (0..self.files.len()).collect();
        let schema = Arc::new(Schema::new(self.partition_fields.clone()));
        let df_schema = DFSchema::try_from(schema.clone())?;
        for filter in filters.iter().filter(|f| self.on_partitions(f)) {
            if kept.is_empty() {
                break;
            }
            // One row per file still kept, its partition values as columns.
            let columns = (0..self.partition_fields.len())
                .map(|i| {
                    ScalarValue::iter_to_array(
                        kept.iter()
                            .map(|&f| self.files[f].partition_values[i].clone()),
                    )
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            let values = RecordBatch::try_new(schema.clone(), columns)?;
            let predicate = state.create_physical_expr(filter.clone(), &df_schema)?;
            let passed = predicate.evaluate(&values)?.into_array(values.num_rows())?;
            let passed = passed.as_boolean();
            kept = kept
                .iter()
                .enumerate()
                .filter(|&(row, _)| passed.is_valid(row) && passed.value(row))
                .map(|(_, &file)| file)
                .collect();
        }
        Ok(kept)
    }
}

#[async_trait]
impl TableProvider for DeltaFiles {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let kept = self.kept(state, filters)?;
        if kept.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        // Files spread over the partitions by size, largest first, each to the lightest group.
        let partitions = state.config().target_partitions().max(1).min(kept.len());
        let mut order = kept.clone();
        order.sort_by_key(|&i| std::cmp::Reverse(self.files[i].object_meta.size));
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> = vec![(0, Vec::new()); partitions];
        for i in order {
            let lightest = (0..partitions).min_by_key(|&g| groups[g].0).unwrap_or(0);
            groups[lightest].0 += self.files[i].object_meta.size;
            groups[lightest].1.push(self.files[i].clone());
        }
        let statistics = Statistics::new_unknown(&self.scan_schema).with_num_rows(
            self.rows.as_ref().map_or(Precision::Absent, |r| {
                Precision::Exact(kept.iter().map(|&i| r[i]).sum())
            }),
        );
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let source = format.file_source(
            TableSchema::builder(self.file_schema.clone())
                .with_table_partition_cols(self.partition_fields.clone())
                .build(),
        );
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), source)
            .with_file_groups(groups.into_iter().map(|(_, f)| FileGroup::new(f)).collect())
            .with_statistics(statistics)
            .with_projection_indices(Some(match projection {
                Some(p) => p.iter().map(|&i| self.scan_index[i]).collect(),
                None => self.scan_index.clone(),
            }))?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if self.on_partitions(f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }
}

/// deltalake's own reader, for the versions [`DeltaFiles`] leaves to it. Its scan prunes files
/// with every filter on partition columns and calls those filters exact, but it keeps the files
/// it cannot judge (`WHERE year + 1 = 2018` read every year): so DataFusion checks each row again.
#[derive(Debug)]
pub struct Rechecked(pub Arc<dyn TableProvider>);

#[async_trait]
impl TableProvider for Rechecked {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.0.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(self
            .0
            .supports_filters_pushdown(filters)?
            .into_iter()
            .map(|p| match p {
                TableProviderFilterPushDown::Exact => TableProviderFilterPushDown::Inexact,
                other => other,
            })
            .collect())
    }
}
