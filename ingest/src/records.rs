//! The rows of the lake's bookkeeping tables, and their schemas: `submissions` (every return
//! received and what became of it), `submission_events` (every step of every return's review)
//! and `quarantine` (every rejected row, with why).

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

/// The schema of the `submissions` table.
pub fn submissions_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("submission_id", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("county_code", DataType::Utf8, false),
        Field::new("period", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("content_hash", DataType::Utf8, false),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_loaded", DataType::Int64, false),
        Field::new("rows_quarantined", DataType::Int64, false),
        Field::new("table_version", DataType::Int64, true),
        Field::new(
            "ingested_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// One `submissions` row.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SubmissionRecord {
    /// Unique id of this submission.
    pub submission_id: String,
    /// Fact table.
    pub table_name: String,
    /// Reporting county.
    pub county_code: String,
    /// Reporting year.
    pub period: i32,
    /// The file as named.
    pub source_file: String,
    /// BLAKE3 hash of the file's bytes.
    pub content_hash: String,
    /// loaded, partial, rejected.
    pub outcome: String,
    /// Data rows read.
    pub rows_read: usize,
    /// Rows loaded.
    pub rows_loaded: usize,
    /// Rows quarantined.
    pub rows_quarantined: usize,
    /// Fact table version that holds it.
    pub table_version: Option<i64>,
    /// When, in microseconds since the epoch.
    pub ingested_at: i64,
}

impl SubmissionRecord {
    /// As a one-row batch of the `submissions` table.
    pub fn to_batch(&self) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
        RecordBatch::try_new(
            submissions_schema(),
            vec![
                Arc::new(StringArray::from(vec![self.submission_id.as_str()])),
                Arc::new(StringArray::from(vec![self.table_name.as_str()])),
                Arc::new(StringArray::from(vec![self.county_code.as_str()])),
                Arc::new(Int64Array::from(vec![i64::from(self.period)])),
                Arc::new(StringArray::from(vec![self.source_file.as_str()])),
                Arc::new(StringArray::from(vec![self.content_hash.as_str()])),
                Arc::new(StringArray::from(vec![self.outcome.as_str()])),
                Arc::new(Int64Array::from(vec![self.rows_read as i64])),
                Arc::new(Int64Array::from(vec![self.rows_loaded as i64])),
                Arc::new(Int64Array::from(vec![self.rows_quarantined as i64])),
                Arc::new(Int64Array::from(vec![self.table_version])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![self.ingested_at]).with_timezone("UTC"),
                ),
            ],
        )
    }
}

/// The schema of the `submission_events` table.
pub fn events_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("submission_id", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("county_code", DataType::Utf8, false),
        Field::new("period", DataType::Int64, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("actor", DataType::Utf8, false),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("comment", DataType::Utf8, true),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_loaded", DataType::Int64, false),
        Field::new("rows_quarantined", DataType::Int64, false),
        Field::new("table_version", DataType::Int64, true),
    ]))
}

/// One `submission_events` row: a return entering a state, who moved it there, when and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventRecord {
    /// The submission.
    pub submission_id: String,
    /// Fact table.
    pub table_name: String,
    /// Reporting county.
    pub county_code: String,
    /// Reporting year.
    pub period: i32,
    /// staged, refused, submitted, returned, approved or withdrawn.
    pub state: String,
    /// The account (or operating-system user, for `unionstat ingest`) that acted.
    pub actor: String,
    /// When, in microseconds since the epoch.
    pub at: i64,
    /// The reviewer's reason, or why a file was refused.
    pub comment: Option<String>,
    /// The file as named.
    pub source_file: String,
    /// Data rows read.
    pub rows_read: usize,
    /// Rows that load.
    pub rows_loaded: usize,
    /// Rows quarantined.
    pub rows_quarantined: usize,
    /// The fact table's version this step committed (approve, withdraw).
    pub table_version: Option<i64>,
}

impl EventRecord {
    /// As a one-row batch of the `submission_events` table.
    pub fn to_batch(&self) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
        RecordBatch::try_new(
            events_schema(),
            vec![
                Arc::new(StringArray::from(vec![self.submission_id.as_str()])),
                Arc::new(StringArray::from(vec![self.table_name.as_str()])),
                Arc::new(StringArray::from(vec![self.county_code.as_str()])),
                Arc::new(Int64Array::from(vec![i64::from(self.period)])),
                Arc::new(StringArray::from(vec![self.state.as_str()])),
                Arc::new(StringArray::from(vec![self.actor.as_str()])),
                Arc::new(TimestampMicrosecondArray::from(vec![self.at]).with_timezone("UTC")),
                Arc::new(StringArray::from(vec![self.comment.as_deref()])),
                Arc::new(StringArray::from(vec![self.source_file.as_str()])),
                Arc::new(Int64Array::from(vec![self.rows_read as i64])),
                Arc::new(Int64Array::from(vec![self.rows_loaded as i64])),
                Arc::new(Int64Array::from(vec![self.rows_quarantined as i64])),
                Arc::new(Int64Array::from(vec![self.table_version])),
            ],
        )
    }
}

/// The schema of the `quarantine` table.
pub fn quarantine_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("submission_id", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("county_code", DataType::Utf8, false),
        Field::new("period", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_sheet", DataType::Utf8, true),
        Field::new("source_row", DataType::Int64, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("header", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
        Field::new("message_zh", DataType::Utf8, false),
        Field::new("message_en", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new(
            "ingested_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}
