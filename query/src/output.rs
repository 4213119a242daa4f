//! An answer written in the format its reader asked for: a text table for people, CSV, JSON,
//! Arrow IPC or Parquet for programs.

use std::str::FromStr;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::engine::Answer;
use crate::error::{ErrorCode, QueryError, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// `{"columns": [...], "rows": [{...}, ...], "row_count": n}`.
    Json,
    /// Arrow IPC stream.
    Arrow,
    /// Parquet (zstd).
    Parquet,
    /// An Excel workbook with one sheet, for people who open results in Excel or WPS.
    Xlsx,
}

impl FromStr for Format {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(Format::Table),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "arrow" | "ipc" => Ok(Format::Arrow),
            "parquet" => Ok(Format::Parquet),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(QueryError::new(
                ErrorCode::BadRequest,
                format!("unknown format {other}; use table, csv, json, arrow, parquet or xlsx"),
            )),
        }
    }
}

impl Format {
    /// The media type of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Table => "text/plain; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Arrow => "application/vnd.apache.arrow.stream",
            Format::Parquet => "application/vnd.apache.parquet",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file extension of the format, for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Arrow => "arrow",
            Format::Parquet => "parquet",
            Format::Xlsx => "xlsx",
        }
    }

    /// The format an HTTP `Accept` header asks for, if it names one.
    pub fn from_accept(accept: &str) -> Option<Format> {
        [
            ("text/csv", Format::Csv),
            ("application/vnd.apache.arrow.stream", Format::Arrow),
            ("application/vnd.apache.parquet", Format::Parquet),
            ("spreadsheetml", Format::Xlsx),
            ("application/json", Format::Json),
            ("text/plain", Format::Table),
        ]
        .into_iter()
        .find(|(media, _)| accept.contains(media))
        .map(|(_, f)| f)
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> QueryError {
    QueryError::new(
        ErrorCode::Internal,
        format!("writing the result as {what} failed: {e}"),
    )
}

/// The answer in `format`.
pub fn write(answer: &Answer, format: Format) -> Result<Vec<u8>> {
    let batches: &[RecordBatch] = &answer.batches;
    match format {
        Format::Table => Ok(pretty_format_batches(batches)
            .map_err(|e| failed("a table", e))?
            .to_string()
            .into_bytes()),
        Format::Csv => {
            let mut out = Vec::new();
            {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                for b in batches {
                    writer.write(b).map_err(|e| failed("CSV", e))?;
                }
            }
            Ok(out)
        }
        Format::Json => {
            let mut rows = Vec::new();
            {
                let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut rows);
                for b in batches {
                    writer.write(b).map_err(|e| failed("JSON", e))?;
                }
                writer.finish().map_err(|e| failed("JSON", e))?;
            }
            let rows: serde_json::Value = if rows.is_empty() {
                serde_json::Value::Array(vec![])
            } else {
                serde_json::from_slice(&rows).map_err(|e| failed("JSON", e))?
            };
            let columns: Vec<serde_json::Value> = answer
                .schema
                .fields()
                .iter()
                .map(|f| serde_json::json!({"name": f.name(), "type": f.data_type().to_string()}))
                .collect();
            let body = serde_json::json!({
                "columns": columns,
                "rows": rows,
                "row_count": answer.rows(),
                "versions": &*answer.versions,
            });
            serde_json::to_vec(&body).map_err(|e| failed("JSON", e))
        }
        Format::Arrow => {
            let mut out = Vec::new();
            {
                let mut writer =
                    datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut out, &answer.schema)
                        .map_err(|e| failed("Arrow IPC", e))?;
                for b in batches {
                    writer.write(b).map_err(|e| failed("Arrow IPC", e))?;
                }
                writer.finish().map_err(|e| failed("Arrow IPC", e))?;
            }
            Ok(out)
        }
        Format::Parquet => {
            let mut out = Vec::new();
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .build();
            let mut writer =
                parquet::arrow::ArrowWriter::try_new(&mut out, answer.schema.clone(), Some(props))
                    .map_err(|e| failed("Parquet", e))?;
            for b in batches {
                writer.write(b).map_err(|e| failed("Parquet", e))?;
            }
            writer.close().map_err(|e| failed("Parquet", e))?;
            Ok(out)
        }
        Format::Xlsx => xlsx(answer).map_err(|e| failed("XLSX", e)),
    }
}

/// One sheet: a bold header row, numbers as numbers (so Excel can sum them), the rest as text.
fn xlsx(answer: &Answer) -> std::result::Result<Vec<u8>, Box<dyn std::error::Error>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, Float64Type};

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, field) in answer.schema.fields().iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(c)?, field.name(), &bold)?;
    }
    let mut row = 1u32;
    for batch in answer.batches.iter() {
        for (c, column) in batch.columns().iter().enumerate() {
            let c = u16::try_from(c)?;
            let numeric = column.data_type().is_numeric();
            let column = match column.data_type() {
                DataType::Boolean => column.clone(),
                _ if numeric => cast(column, &DataType::Float64)?,
                _ => cast(column, &DataType::Utf8)?,
            };
            for r in 0..column.len() {
                if column.is_null(r) {
                    continue;
                }
                let at = row + u32::try_from(r)?;
                match column.data_type() {
                    DataType::Boolean => {
                        sheet.write_boolean(at, c, column.as_boolean().value(r))?
                    }
                    DataType::Float64 => {
                        sheet.write_number(at, c, column.as_primitive::<Float64Type>().value(r))?
                    }
                    _ => sheet.write_string(at, c, column.as_string::<i32>().value(r))?,
                };
            }
        }
        row += u32::try_from(batch.num_rows())?;
    }
    Ok(workbook.save_to_buffer()?)
}
