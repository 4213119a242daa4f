//! The lake: one Delta table per fact table, partitioned by year and county, plus `quarantine`
//! (every rejected row, with why) and `submissions` (every return and its outcome). A return
//! replaces its (year, county) partition in a single commit, so readers see all of it or none.
//! The rows of the bookkeeping tables are in [`crate::records`].

use std::collections::HashMap;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use delta_kernel::expressions::Scalar;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake::kernel::{Action, Add, StructType};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::record_batch::RecordBatchWriter;
use deltalake::writer::{DeltaWriter, WriteMode};
use deltalake::{DeltaTable, DeltaTableError, FilterOp, FilterValue};
use futures::TryStreamExt;
use indexmap::IndexMap;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use url::Url;

use crate::{Error, Result};
use unionstat_tables::Contract;

/// Name of the table of rejected rows.
pub const QUARANTINE: &str = "quarantine";
/// Name of the table of returns received.
pub const SUBMISSIONS: &str = "submissions";
/// Name of the table of every step of every return's review: uploaded, submitted, approved...
pub const EVENTS: &str = "submission_events";

/// A lake at a local folder or an object-store URL.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
}

/// Where the good rows of a return are sent as they are validated; an `Err` abandons the write.
pub type BatchSender = tokio::sync::mpsc::Sender<std::result::Result<RecordBatch, String>>;

/// Parquet writers a return's rows are dealt out to, each encoding on a thread of its own: a
/// return is one partition, and one writer would leave the second core idle.
const WRITERS: usize = 2;

/// How fact tables are partitioned.
const PARTITION_COLUMNS: [&str; 2] = ["year", "county_code"];

fn partition_columns() -> Vec<String> {
    PARTITION_COLUMNS.map(String::from).to_vec()
}

/// What a return's writer is told.
enum Lane {
    Rows(RecordBatch),
    Abandon,
}

/// One writer of a return: writes the rows its lane brings into the return's partition, and
/// gives back its files when the lane closes; on `Abandon` it discards what it wrote.
async fn write_lane(
    mut writer: RecordBatchWriter,
    mut rows: tokio::sync::mpsc::Receiver<Lane>,
    partition: IndexMap<String, Scalar>,
) -> std::result::Result<Vec<Add>, deltalake::DeltaTableError> {
    while let Some(lane) = rows.recv().await {
        match lane {
            Lane::Rows(batch) => {
                writer
                    .write_partition(batch, &partition, WriteMode::Default)
                    .await?;
            }
            Lane::Abandon => {
                writer.reset();
                return Ok(Vec::new());
            }
        }
    }
    writer.flush().await
}

/// Whether the table in folder `table` has a commit in its log.
fn has_commits(table: &Path) -> bool {
    std::fs::read_dir(table.join("_delta_log")).is_ok_and(|entries| {
        entries
            .filter_map(std::result::Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "json"))
    })
}

/// A return's files, written into its table's folder but not yet committed: until
/// [`Lake::commit_written`], no reader sees them.
#[derive(Debug)]
pub struct Written {
    table: String,
    adds: Vec<Add>,
    period: i32,
    county: String,
    submission_id: String,
}

impl Written {
    /// The files `adds`, to become the (`period`, `county`) partition of table `table`.
    pub fn new(
        table: &str,
        adds: Vec<Add>,
        period: i32,
        county: &str,
        submission_id: &str,
    ) -> Self {
        Written {
            table: table.to_string(),
            adds,
            period,
            county: county.to_string(),
            submission_id: submission_id.to_string(),
        }
    }

    /// The table written to.
    pub fn table(&self) -> &str {
        &self.table
    }
}

/// The Add actions of the (`period`, `county`) partition's files in `table` as loaded.
async fn add_actions(
    table: &DeltaTable,
    name: &str,
    period: i32,
    county: &str,
) -> Result<Vec<Add>> {
    Ok(partition_files(table, period, county)
        .await
        .map_err(delta_err(name))?
        .iter()
        .map(add_of)
        .collect())
}

/// The Add action that committed `file`.
#[allow(
    deprecated,
    reason = "the files are committed again as Add actions, which this gives whole"
)]
fn add_of(file: &deltalake::kernel::LogicalFileView) -> Add {
    file.add_action()
}

/// The files of the (`period`, `county`) partition in `table` as loaded.
async fn partition_files(
    table: &DeltaTable,
    period: i32,
    county: &str,
) -> std::result::Result<Vec<deltalake::kernel::LogicalFileView>, DeltaTableError> {
    let year = period.to_string();
    let filters = [
        ("year", FilterOp::Eq, FilterValue::Scalar(&year)),
        ("county_code", FilterOp::Eq, FilterValue::Scalar(county)),
    ];
    table
        .get_active_add_actions_by_partitions(&filters)
        .try_collect()
        .await
}

fn commit_properties(submission_id: &str) -> CommitProperties {
    CommitProperties::default().with_metadata([(
        "unionstat.submission".to_string(),
        serde_json::Value::String(submission_id.to_string()),
    )])
}

/// Parquet files of the lake for `contract`'s table: zstd, and row groups small enough that a
/// writer holds little in memory. Then, column by column:
/// - no dictionary for the ordered and opaque columns, whose values are (nearly) all different:
///   one would only be built and thrown away;
/// - no statistics for the opaque columns (hashes and masked numbers) nor for the lineage that
///   holds one value per return: a return is a whole partition, so their minimum and maximum
///   skip nothing that the partition does not;
/// - hashes stored as their bare bytes: random bytes do not compress, so compressing them only
///   costs time;
/// - the ordered columns and dates stored as differences from the value before: a member number
///   then costs a byte or two before compression, a source row almost nothing, and a date about
///   as little as an index into a dictionary of thousands of days, without building one; dates
///   are left uncompressed, as zstd made them no smaller (595 KB against 594 KB in a file of
///   315,000 members).
pub fn writer_properties(contract: &Contract) -> WriterProperties {
    let column = |name: &str| ColumnPath::from(name);
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(131_072));
    let ordered = contract.ordered_columns();
    let opaque = contract.opaque_columns();
    for name in ordered.iter().chain(&opaque) {
        builder = builder.set_column_dictionary_enabled(column(name), false);
    }
    for name in opaque
        .iter()
        .map(String::as_str)
        .chain(unionstat_tables::RETURN_CONSTANTS)
    {
        builder = builder.set_column_statistics_enabled(column(name), EnabledStatistics::None);
    }
    let schema = contract.lake_schema();
    for field in schema.fields() {
        let name = field.name();
        builder = match field.data_type() {
            DataType::Binary if opaque.contains(name) => builder
                .set_column_encoding(column(name), Encoding::DELTA_LENGTH_BYTE_ARRAY)
                .set_column_compression(column(name), Compression::UNCOMPRESSED),
            DataType::Date32 => builder
                .set_column_dictionary_enabled(column(name), false)
                .set_column_encoding(column(name), Encoding::DELTA_BINARY_PACKED)
                .set_column_compression(column(name), Compression::UNCOMPRESSED),
            DataType::Utf8 if ordered.contains(name) => {
                builder.set_column_encoding(column(name), Encoding::DELTA_BYTE_ARRAY)
            }
            DataType::Int64 if ordered.contains(name) => {
                builder.set_column_encoding(column(name), Encoding::DELTA_BINARY_PACKED)
            }
            _ => builder,
        };
    }
    builder.build()
}

/// Whether deltalake refused a commit because another writer committed that version first.
fn is_conflict(e: &DeltaTableError) -> bool {
    matches!(
        e,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::VersionAlreadyExists(_)
                    | TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
            }
    )
}

fn delta_err(table: &str) -> impl Fn(DeltaTableError) -> Error + '_ {
    move |e| {
        let table = table.to_string();
        if is_conflict(&e) {
            Error::Conflict {
                table,
                source: Box::new(e),
            }
        } else {
            Error::Lake {
                table,
                message: e.to_string(),
                source: Some(Box::new(e)),
            }
        }
    }
}

impl Lake {
    /// The lake at `location`: a folder (created if missing) or a URL the deltalake crate supports.
    pub fn open(location: &str) -> Result<Self> {
        let root = match Url::parse(location) {
            Ok(url) if url.scheme().len() > 1 => url,
            _ => {
                let path = Path::new(location);
                std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
                let abs = path.canonicalize().map_err(|e| Error::io(path, e))?;
                Url::from_directory_path(&abs)
                    .map_err(|()| Error::Usage(format!("{location} is not a usable folder")))?
            }
        };
        let root = if root.path().ends_with('/') {
            root
        } else {
            Url::parse(&format!("{root}/")).map_err(|e| Error::Usage(e.to_string()))?
        };
        Ok(Lake { root })
    }

    /// Waits until no other ingest writes to this lake, and keeps it so until the returned file
    /// is dropped (or the process ends, however it ends: the operating system releases the
    /// lock). Two ingests of the same returns then apply each once: the second reads what the
    /// first applied only after the first has finished. The lock is `_system/ingest.lock` in a
    /// lake folder; a lake behind a URL has none, and relies on Delta's conflict detection,
    /// which refuses the later of two conflicting commits.
    pub async fn lock_for_ingest(&self) -> Result<Option<std::fs::File>> {
        let Ok(root) = self.root.to_file_path() else {
            return Ok(None);
        };
        let folder = root.join("_system");
        std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        let path = folder.join("ingest.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !told {
                        tracing::warn!(lock = %path.display(), "another ingest is writing to this lake; waiting for it to finish");
                        told = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
    }

    /// The URL of table `name`.
    pub fn table_url(&self, name: &str) -> Result<Url> {
        self.root
            .join(&format!("{name}/"))
            .map_err(|e| Error::Usage(e.to_string()))
    }

    /// Table `name` for writing: its folder is made first when the lake is local.
    async fn writable(&self, name: &str) -> Result<DeltaTable> {
        let url = self.table_url(name)?;
        if let Ok(path) = url.to_file_path() {
            std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            if !has_commits(&path) {
                // A new table: nothing to load (and loading an empty log is logged as an error).
                return deltalake::DeltaTableBuilder::from_url(url)
                    .and_then(deltalake::DeltaTableBuilder::build)
                    .map_err(delta_err(name));
            }
        }
        DeltaTable::try_from_url(url).await.map_err(delta_err(name))
    }

    /// Table `name` at its latest version, or `None` if it does not exist yet.
    pub async fn table(&self, name: &str) -> Result<Option<DeltaTable>> {
        let url = self.table_url(name)?;
        if url.to_file_path().is_ok_and(|p| !has_commits(&p)) {
            return Ok(None);
        }
        let table = DeltaTable::try_from_url(url)
            .await
            .map_err(delta_err(name))?;
        Ok(table.version().is_some().then_some(table))
    }

    /// Replaces the rows of table `name` that match `predicate` (all rows when `None`) by
    /// `batches`, in one commit that records the submission; retries when another writer commits
    /// first. Returns the new version.
    pub async fn replace(
        &self,
        name: &str,
        batches: Vec<RecordBatch>,
        predicate: Option<String>,
        partition_columns: &[&str],
        submission_id: &str,
    ) -> Result<i64> {
        self.write_with_retries(name, async |table| {
            let mut write = table
                .write(batches.clone())
                .with_save_mode(SaveMode::Overwrite)
                .with_partition_columns(partition_columns.iter().copied())
                .with_commit_properties(commit_properties(submission_id));
            if let Some(p) = &predicate {
                write = write.with_replace_where(p.clone());
            }
            write.await
        })
        .await
    }

    /// Writes the rows of (`period`, `county`) in fact table `name` from the batches that arrive
    /// on the returned sender, as files not yet part of the table: the future gives them back as
    /// [`Written`] when the sender is dropped, for [`Lake::commit_written`]. An error sent
    /// instead of a batch abandons the write. Memory stays flat however many batches come: each
    /// is written to Parquet as it arrives, by [`WRITERS`] writers in turn, with `properties`.
    pub fn write_return_streaming(
        &self,
        name: &str,
        schema: SchemaRef,
        properties: WriterProperties,
        period: i32,
        county: &str,
        submission_id: &str,
    ) -> Result<(BatchSender, impl Future<Output = Result<Written>> + use<>)> {
        let (sender, mut incoming) = tokio::sync::mpsc::channel(2);
        let lake = self.clone();
        let name = name.to_string();
        let county = county.to_string();
        let submission_id = submission_id.to_string();
        let write = async move {
            lake.fact_table(&name, &schema).await?;
            let values = [
                Scalar::Long(i64::from(period)),
                Scalar::String(county.clone()),
            ];
            let partition: IndexMap<String, Scalar> =
                partition_columns().into_iter().zip(values).collect();
            let mut lanes = Vec::with_capacity(WRITERS);
            let mut writers = tokio::task::JoinSet::new();
            for _ in 0..WRITERS {
                let writer = RecordBatchWriter::try_new(
                    lake.table_url(&name)?,
                    schema.clone(),
                    Some(partition_columns()),
                    None,
                )
                .map_err(delta_err(&name))?
                .with_writer_properties(properties.clone());
                let (lane, rows) = tokio::sync::mpsc::channel(1);
                writers.spawn(write_lane(writer, rows, partition.clone()));
                lanes.push(lane);
            }
            let mut abandoned = None;
            let mut turn = 0;
            while let Some(batch) = incoming.recv().await {
                let sent = match batch {
                    Ok(batch) => lanes[turn].send(Lane::Rows(batch)).await.is_ok(),
                    Err(why) => {
                        abandoned = Some(why);
                        false
                    }
                };
                if !sent {
                    break;
                }
                turn = (turn + 1) % WRITERS;
            }
            // When the rows stop early, no writer may finish its file.
            let stopped_early = !incoming.is_closed() || abandoned.is_some();
            drop(incoming);
            if stopped_early {
                for lane in &lanes {
                    let _ = lane.send(Lane::Abandon).await;
                }
                abandoned.get_or_insert_with(|| "a writer stopped".into());
            }
            drop(lanes);
            let mut adds = Vec::new();
            let mut failed = None;
            while let Some(joined) = writers.join_next().await {
                match joined {
                    Ok(Ok(written)) => adds.extend(written),
                    Ok(Err(e)) => failed = Some(e.to_string()),
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            if let Some(message) = failed.or(abandoned) {
                return Err(Error::Lake {
                    table: name,
                    message,
                    source: None,
                });
            }
            Ok(Written {
                table: name,
                adds,
                period,
                county,
                submission_id,
            })
        };
        Ok((sender, write))
    }

    /// Makes a return's written files the whole of its (year, county) partition, in one commit
    /// that records its submission; when another writer committed first, tries again on the new
    /// version. Returns the new version.
    pub async fn commit_written(&self, written: Written) -> Result<i64> {
        let mut attempt = 0;
        loop {
            let table = self.writable(&written.table).await?;
            match Lake::commit_return(table, &written).await {
                Err(Error::Conflict { .. }) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// The version of fact table `name` whose commit recorded `submission_id`, looking at the
    /// versions after `after`; `None` when no such commit exists (the write never landed).
    pub async fn version_of(
        &self,
        name: &str,
        submission_id: &str,
        after: Option<i64>,
    ) -> Result<Option<i64>> {
        let Some(table) = self.table(name).await? else {
            return Ok(None);
        };
        let latest = table.version().unwrap_or(0) as i64;
        let first = after.map_or(0, |v| v + 1);
        let needle = serde_json::to_string(&serde_json::json!({
            "unionstat.submission": submission_id
        }))
        .unwrap_or_default();
        // `{"unionstat.submission":"ID"}` appears in the commit as `"unionstat.submission":"ID"`.
        let needle = needle.trim_start_matches('{').trim_end_matches('}');
        for version in (first..=latest).rev() {
            let entry = table
                .log_store()
                .read_commit_entry(version as u64)
                .await
                .map_err(delta_err(name))?;
            if entry.is_some_and(|bytes| memchr::memmem::find(&bytes, needle.as_bytes()).is_some())
            {
                return Ok(Some(version));
            }
        }
        Ok(None)
    }

    /// The files of the (`period`, `county`) partition of table `name` at its latest version,
    /// as the Add actions that committed them.
    pub async fn partition_adds(&self, name: &str, period: i32, county: &str) -> Result<Vec<Add>> {
        match self.table(name).await? {
            Some(table) => add_actions(&table, name, period, county).await,
            None => Ok(Vec::new()),
        }
    }

    /// Makes sure fact table `contract` exists, with its columns and partitions.
    pub async fn ensure_fact_table(&self, contract: &Contract) -> Result<()> {
        self.fact_table(contract.spec.name, &contract.lake_schema())
            .await
            .map(|_| ())
    }

    /// The latest version of table `name`, `None` when it does not exist yet.
    pub async fn version(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .table(name)
            .await?
            .and_then(|t| t.version())
            .map(|v| v as i64))
    }

    /// Puts the (`period`, `county`) partition of fact table `name` back as it was at `version`,
    /// in a new commit that records `submission_id`: the files of that version are still in the
    /// table's folder (nothing vacuums them), so nothing is rewritten. Returns the new version.
    pub async fn restore_partition(
        &self,
        name: &str,
        period: i32,
        county: &str,
        version: i64,
        submission_id: &str,
    ) -> Result<i64> {
        let mut earlier = self.writable(name).await?;
        earlier
            .load_version(version as u64)
            .await
            .map_err(delta_err(name))?;
        let adds = add_actions(&earlier, name, period, county).await?;
        self.commit_written(Written {
            table: name.to_string(),
            adds,
            period,
            county: county.to_string(),
            submission_id: submission_id.to_string(),
        })
        .await
    }

    /// Fact table `name`, created with `schema` and partitioned by year and county when it does
    /// not exist yet.
    async fn fact_table(&self, name: &str, schema: &SchemaRef) -> Result<DeltaTable> {
        let table = self.writable(name).await?;
        let columns: StructType = schema.as_ref().try_into_kernel().map_err(|e| Error::Lake {
            table: name.to_string(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        if table.version().is_some() {
            let found = table.snapshot().map_err(delta_err(name))?.schema();
            let changed: Vec<String> = columns
                .fields()
                .filter_map(|f| match found.field(f.name()) {
                    Some(g) if g.data_type() == f.data_type() => None,
                    Some(g) => Some(format!(
                        "{} is {} in the lake but {} now",
                        f.name(),
                        g.data_type(),
                        f.data_type()
                    )),
                    None => Some(format!("{} is missing from the lake", f.name())),
                })
                .collect();
            if !changed.is_empty() {
                return Err(Error::Lake {
                    table: name.to_string(),
                    message: format!(
                        "the table was written by another version of unionstat ({}); ingest the returns into a new lake folder",
                        changed.join("; ")
                    ),
                    source: None,
                });
            }
            return Ok(table);
        }
        table
            .create()
            .with_columns(columns.fields().cloned())
            .with_partition_columns(PARTITION_COLUMNS)
            .with_save_mode(SaveMode::Ignore)
            .await
            .map_err(delta_err(name))
    }

    /// Commits the files of a return in place of every file of its (year, county) partition, in
    /// `table` brought up to its latest version. Another writer committing to the same
    /// partition since is a conflict.
    async fn commit_return(mut table: DeltaTable, written: &Written) -> Result<i64> {
        let name = written.table.as_str();
        table.update_state().await.map_err(delta_err(name))?;
        let replaced: Vec<Action> = partition_files(&table, written.period, &written.county)
            .await
            .map_err(delta_err(name))?
            .into_iter()
            .map(|file| Action::Remove(file.remove_action(true)))
            .collect();
        let actions = written
            .adds
            .iter()
            .cloned()
            .map(Action::Add)
            .chain(replaced)
            .collect();
        let operation = DeltaOperation::Write {
            mode: SaveMode::Overwrite,
            partition_by: Some(partition_columns()),
            predicate: Some(format!(
                "year = {} AND county_code = '{}'",
                written.period, written.county
            )),
        };
        let snapshot = table.snapshot().map_err(delta_err(name))?;
        let done = CommitBuilder::from(commit_properties(&written.submission_id))
            .with_actions(actions)
            .build(Some(snapshot), table.log_store(), operation)
            .await
            .map_err(delta_err(name))?;
        Ok(done.version() as i64)
    }

    /// Appends `batch` to table `name` (created on first use), retrying on conflicts.
    pub async fn append(&self, name: &str, batch: RecordBatch) -> Result<i64> {
        self.write_with_retries(name, async |table| {
            table
                .write(vec![batch.clone()])
                .with_save_mode(SaveMode::Append)
                .await
        })
        .await
    }

    /// Runs `write` on the latest version of table `name`; when another writer committed first,
    /// reloads the table and tries again (up to 5 times, backing off). Returns the new version.
    async fn write_with_retries(
        &self,
        name: &str,
        write: impl AsyncFn(DeltaTable) -> std::result::Result<DeltaTable, deltalake::DeltaTableError>,
    ) -> Result<i64> {
        let mut attempt = 0;
        loop {
            match write(self.writable(name).await?).await {
                Ok(t) => return Ok(t.version().unwrap_or(0) as i64),
                Err(e) if attempt < 5 && is_conflict(&e) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                Err(e) => return Err(delta_err(name)(e)),
            }
        }
    }

    /// The answer of `sql` over `table`, registered under `name`.
    pub async fn select(
        &self,
        table: &DeltaTable,
        name: &str,
        sql: &str,
    ) -> Result<Vec<RecordBatch>> {
        let ctx = SessionContext::new();
        table
            .update_datafusion_session(&ctx.state())
            .map_err(delta_err(name))?;
        let df_err = |e: deltalake::datafusion::error::DataFusionError| Error::Lake {
            table: name.into(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        };
        let provider = table.table_provider().await.map_err(df_err)?;
        ctx.register_table(name, provider).map_err(df_err)?;
        ctx.sql(sql)
            .await
            .map_err(df_err)?
            .collect()
            .await
            .map_err(df_err)
    }

    /// Whether table `name` has a row where `condition` (SQL) holds; false when it does not exist.
    pub async fn any_row(&self, name: &str, condition: &str) -> Result<bool> {
        let Some(table) = self.table(name).await? else {
            return Ok(false);
        };
        let sql = format!("SELECT 1 FROM {name} WHERE {condition} LIMIT 1");
        let batches = self.select(&table, name, &sql).await?;
        Ok(batches.iter().any(|b| b.num_rows() > 0))
    }

    /// The folder of a lake on this machine; `None` for a lake behind a URL.
    pub fn folder(&self) -> Option<std::path::PathBuf> {
        self.root.to_file_path().ok()
    }

    /// The content hashes of the returns applied so far, by (table, county, period), latest first.
    pub async fn content_hashes(&self) -> Result<HashMap<(String, String, i32), Vec<String>>> {
        let mut out: HashMap<(String, String, i32), Vec<String>> = HashMap::new();
        let Some(submissions) = self.table(SUBMISSIONS).await? else {
            return Ok(out);
        };
        let sql = "SELECT table_name, county_code, CAST(period AS VARCHAR), content_hash FROM submissions \
                   WHERE outcome IN ('loaded', 'partial') ORDER BY ingested_at DESC, submission_id DESC";
        let batches = self.select(&submissions, SUBMISSIONS, sql).await?;
        for b in batches {
            let cols = (0..4)
                .map(|i| arrow::compute::cast(b.column(i), &DataType::Utf8))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let text: Vec<_> = cols
                .iter()
                .map(|c| arrow::array::AsArray::as_string::<i32>(c.as_ref()))
                .collect();
            for row in 0..b.num_rows() {
                let key = (
                    text[0].value(row).to_string(),
                    text[1].value(row).to_string(),
                    text[2].value(row).parse().unwrap_or(0),
                );
                out.entry(key)
                    .or_default()
                    .push(text[3].value(row).to_string());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lake whose table was written with other column types is refused, by column, rather
    /// than given files its readers cannot read.
    #[tokio::test]
    async fn a_table_written_with_other_column_types_is_refused() {
        let dir = tempfile::tempdir().expect("a folder");
        let lake = Lake::open(&dir.path().to_string_lossy()).expect("a lake");
        let members = unionstat_tables::contract("members").expect("members");
        let now = members.lake_schema();
        let earlier: Vec<arrow::datatypes::Field> = now
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "id_number_hash" => f.as_ref().clone().with_data_type(DataType::Utf8),
                _ => f.as_ref().clone(),
            })
            .collect();
        let earlier = std::sync::Arc::new(arrow::datatypes::Schema::new(earlier));
        lake.fact_table("members", &earlier).await.expect("created");
        let err = lake
            .fact_table("members", &now)
            .await
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("id_number_hash is string in the lake but binary now")
                && err.contains("new lake folder"),
            "{err}"
        );
        lake.fact_table("members", &earlier)
            .await
            .expect("the same types are accepted");
    }

    #[test]
    fn the_member_registry_is_written_with_delta_encodings_and_its_id_hashes_bare() {
        let members = unionstat_tables::contract("members").expect("members");
        let props = writer_properties(members);
        let path = |name: &str| ColumnPath::from(name);
        assert_eq!(
            props.encoding(&path("member_id")),
            Some(Encoding::DELTA_BYTE_ARRAY)
        );
        assert_eq!(
            props.encoding(&path("source_row")),
            Some(Encoding::DELTA_BINARY_PACKED)
        );
        assert!(!props.dictionary_enabled(&path("member_id")));
        assert!(props.dictionary_enabled(&path("town_code")));
        assert_eq!(props.encoding(&path("town_code")), None);
        let hash = path("id_number_hash");
        assert_eq!(props.statistics_enabled(&hash), EnabledStatistics::None);
        assert_eq!(
            props.encoding(&hash),
            Some(Encoding::DELTA_LENGTH_BYTE_ARRAY)
        );
        assert_eq!(props.compression(&hash), Compression::UNCOMPRESSED);
        assert!(!props.dictionary_enabled(&hash));
        assert_eq!(
            props.encoding(&path("birth_date")),
            Some(Encoding::DELTA_BINARY_PACKED)
        );
        assert!(!props.dictionary_enabled(&path("birth_date")));
        assert_eq!(
            props.statistics_enabled(&path("source_file")),
            EnabledStatistics::None
        );
        assert_eq!(
            props.statistics_enabled(&path("town_code")),
            EnabledStatistics::Page
        );
    }
}
