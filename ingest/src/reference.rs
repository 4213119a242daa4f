//! Reference tables loaded whole from CSV: the industry sections (`industries.csv`) and the
//! figures the federation published (`published_indicators.csv`). A new file replaces the table.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::CastOptions;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::read::RawTable;
use crate::{Error, Result};

/// A reference table: its name (also its file's stem) and typed columns.
#[derive(Debug)]
pub struct ReferenceTable {
    /// Table name and file stem.
    pub name: &'static str,
    /// (column, type, nullable).
    pub columns: &'static [(&'static str, DataType, bool)],
}

/// The reference tables ingest knows.
pub const REFERENCE_TABLES: &[ReferenceTable] = &[
    ReferenceTable {
        name: "industries",
        columns: &[
            ("code", DataType::Utf8, false),
            ("name_zh", DataType::Utf8, false),
            ("name_en", DataType::Utf8, false),
        ],
    },
    ReferenceTable {
        name: "published_indicators",
        columns: &[
            ("key", DataType::Utf8, false),
            ("value", DataType::Float64, false),
            ("unit", DataType::Utf8, false),
            ("qualifier", DataType::Utf8, false),
            ("upper_bound", DataType::Float64, true),
            ("period_start", DataType::Int32, false),
            ("period_end", DataType::Int32, false),
            ("programme", DataType::Utf8, false),
            ("indicator_zh", DataType::Utf8, false),
            ("indicator_en", DataType::Utf8, false),
            ("phrase", DataType::Utf8, false),
            ("note", DataType::Utf8, true),
        ],
    },
];

/// The reference table a file named `stem` loads, if any.
pub fn by_stem(stem: &str) -> Option<&'static ReferenceTable> {
    REFERENCE_TABLES.iter().find(|t| t.name == stem)
}

impl ReferenceTable {
    /// The table's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(n, t, nullable)| Field::new(*n, t.clone(), *nullable))
                .collect::<Vec<_>>(),
        ))
    }

    /// The rows of `raw` typed: every declared column must be there, values must parse, and
    /// required ones must be present; the first problem is reported with its row.
    pub fn batch(&self, raw: &RawTable) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (name, data_type, nullable) in self.columns {
            let Some(i) = raw.headers.iter().position(|h| h.trim() == *name) else {
                return Err(Error::Usage(format!(
                    "{}.csv has no column 「{name}」; its columns must be {}",
                    self.name,
                    self.columns
                        .iter()
                        .map(|c| c.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            let options = CastOptions {
                safe: false,
                ..Default::default()
            };
            let typed = arrow::compute::cast_with_options(&raw.columns[i], data_type, &options)
                .map_err(|e| Error::Usage(format!("{}.csv, column 「{name}」: {e}", self.name)))?;
            if !nullable && let Some(row) = (0..typed.len()).find(|&r| typed.is_null(r)) {
                return Err(Error::Usage(format!(
                    "{}.csv, line {}: column 「{name}」 is empty and must not be",
                    self.name, raw.rows[row]
                )));
            }
            columns.push(typed);
        }
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }
}
