//! Reading a return into raw text columns, whatever its format, one chunk at a time so that a
//! large file never sits in memory whole: CSV (UTF-8 with or without a byte-order mark, or
//! GBK/GB18030, any common delimiter), workbooks (`.xlsx`, `.xls`), JSON and NDJSON, Parquet, and
//! points from GeoJSON or a zipped Shapefile. Boundaries (polygons) take another path: see
//! [`features`] and [`crate::regions`].

pub mod csv;
pub mod features;
pub mod json;
pub mod parquet;
pub mod records;
pub mod workbook;

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringViewArray};
use unionstat_datasets::crs::Crs;

use crate::{Error, Result};
use unionstat_tables::Contract;

/// Rows per chunk for formats read record by record (JSON lines, Parquet).
pub const CHUNK_ROWS: usize = 65_536;

/// A chunk of a return's cells as text, before validation.
#[derive(Debug)]
pub struct RawTable {
    /// The sheet it came from (workbooks only).
    pub sheet: Option<String>,
    /// Headers as written (two-row headers joined).
    pub headers: Vec<String>,
    /// One text column per header; blank cells are null.
    pub columns: Vec<ArrayRef>,
    /// Rows with cells past the last header that are not blank (CSV only): the row's index, and
    /// its number of cells.
    pub overlong: Vec<(usize, usize)>,
    /// Rows holding bytes that are not text in the file's encoding (GBK CSV only), read as
    /// U+FFFD: the row's index.
    pub undecodable: Vec<usize>,
    /// Where each data row is in the file: the line or sheet row (CSV, workbooks), else the
    /// 1-based record number.
    pub rows: Vec<u64>,
    /// Text above the header (a workbook's title rows), for finding the county and period.
    pub title: String,
    /// The encoding the file was read in (text files only).
    pub encoding: Option<&'static str>,
    /// The coordinate reference system the file declares for its points, if it does.
    pub crs: Option<Crs>,
}

impl RawTable {
    /// A chunk with `headers` and the text `columns` of rows numbered `rows`.
    pub fn new(headers: Vec<String>, columns: Vec<ArrayRef>, rows: Vec<u64>) -> Self {
        RawTable {
            sheet: None,
            headers,
            columns,
            overlong: Vec::new(),
            undecodable: Vec::new(),
            rows,
            title: String::new(),
            encoding: None,
            crs: None,
        }
    }
}

/// The cells of one raw column: readers give text as `Utf8` or `Utf8View`.
#[derive(Debug, Clone, Copy)]
pub enum TextColumn<'a> {
    /// Offsets into one buffer.
    Plain(&'a StringArray),
    /// Views, as CSV is split ([`records`]).
    View(&'a StringViewArray),
}

impl<'a> TextColumn<'a> {
    /// The text column `array`, or an error when a reader produced something else.
    pub fn of(array: &'a dyn Array) -> std::result::Result<Self, arrow::error::ArrowError> {
        if let Some(a) = array.as_string_opt::<i32>() {
            Ok(TextColumn::Plain(a))
        } else if let Some(a) = array.as_string_view_opt() {
            Ok(TextColumn::View(a))
        } else {
            Err(arrow::error::ArrowError::SchemaError(format!(
                "a raw column holds {} instead of text",
                array.data_type()
            )))
        }
    }

    /// The cell of `row` as written, `None` when blank.
    #[inline]
    pub fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            TextColumn::Plain(a) => (!a.is_null(row)).then(|| a.value(row)),
            TextColumn::View(a) => (!a.is_null(row)).then(|| a.value(row)),
        }
    }
}

/// A return as a sequence of chunks; every chunk has the same headers, and there is always at
/// least one (possibly without rows).
pub type Chunks = Box<dyn Iterator<Item = Result<RawTable>> + Send>;

/// The extensions of files that hold returns, as shown to users.
pub const RETURN_EXTENSIONS: &str =
    ".xlsx, .xls, .csv, .txt, .tsv, .json, .ndjson, .jsonl, .parquet, .geojson, .zip (Shapefile)";

/// What a file holds, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv,
    /// A workbook.
    Workbook,
    /// A JSON array of records, or one record per line.
    Json,
    /// Apache Parquet.
    Parquet,
    /// GeoJSON or a zipped Shapefile: boundaries or points.
    Features,
}

/// The format of `path`, or `None` when unionstat does not read it.
pub fn format(path: &Path) -> Option<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Some(match ext.as_str() {
        "csv" | "txt" | "tsv" => Format::Csv,
        "xlsx" | "xlsm" | "xls" => Format::Workbook,
        "json" | "ndjson" | "jsonl" => Format::Json,
        "parquet" => Format::Parquet,
        "geojson" | "zip" => Format::Features,
        _ => return None,
    })
}

/// Opens `path` for reading chunk by chunk. A GeoJSON or Shapefile of points reads as a table
/// with `lon` and `lat` columns in WGS-84 (from `default_crs` when the file names no system); one
/// of boundaries is not a return (see [`crate::regions`]).
pub fn open(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
    default_crs: Crs,
) -> Result<Chunks> {
    match format(path) {
        Some(Format::Csv) => Ok(Box::new(csv::CsvChunks::open(path)?)),
        Some(Format::Workbook) => Ok(Box::new(std::iter::once(workbook::read(
            path, contract, mapping,
        )))),
        Some(Format::Json) => json::open(path),
        Some(Format::Parquet) => parquet::open(path),
        Some(Format::Features) => {
            let features = features::read(path, default_crs)?;
            Ok(Box::new(std::iter::once(features.points_table(path))))
        }
        None => Err(Error::UnsupportedFile {
            path: path.to_path_buf(),
        }),
    }
}

/// Decodes text bytes: a BOM or valid UTF-8 is UTF-8, anything else is read as GB18030 (a
/// superset of GBK). Fails when the bytes are neither.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<(String, &'static str)> {
    if let Some(rest) = bytes.strip_prefix("\u{feff}".as_bytes()) {
        return String::from_utf8(rest.to_vec())
            .map(|s| (s, "UTF-8-BOM"))
            .map_err(|_| Error::Encoding {
                path: path.to_path_buf(),
            });
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s, "UTF-8")),
        Err(e) => Ok((decode_gbk(path, &e.into_bytes())?, "GBK")),
    }
}

/// Decodes GBK/GB18030 bytes, reading a byte sequence that is not as U+FFFD; says whether
/// there was one.
pub fn decode_gbk_lossy(bytes: &[u8]) -> (String, bool) {
    let (text, replaced) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    (text.into_owned(), replaced)
}

/// Decodes GBK/GB18030 bytes, failing on any byte sequence that is not.
pub fn decode_gbk(path: &Path, bytes: &[u8]) -> Result<String> {
    let mut text = String::new();
    decode_gbk_into(path, bytes, &mut text)?;
    Ok(text)
}

/// [`decode_gbk`] into `text`, replacing what it held, so that a reader can keep one buffer.
pub fn decode_gbk_into(path: &Path, bytes: &[u8], text: &mut String) -> Result<()> {
    let encoding_err = || Error::Encoding {
        path: path.to_path_buf(),
    };
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    text.clear();
    let room = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .ok_or_else(encoding_err)?;
    text.reserve(room);
    match decoder.decode_to_string_without_replacement(bytes, text, true) {
        (encoding_rs::DecoderResult::InputEmpty, _) => Ok(()),
        _ => Err(encoding_err()),
    }
}

/// Text columns from rows of optional cells, `width` columns wide.
pub fn text_columns(rows: &[Vec<Option<String>>], width: usize) -> Vec<ArrayRef> {
    (0..width)
        .map(|j| {
            std::sync::Arc::new(
                rows.iter()
                    .map(|r| r.get(j).cloned().flatten())
                    .collect::<arrow::array::StringArray>(),
            ) as ArrayRef
        })
        .collect()
}
