//! Reading a return into raw text columns, whatever its format: CSV in UTF-8 (with or without a
//! byte-order mark) or GBK/GB18030 with any common delimiter, parsed by polars and handed to
//! arrow-rs through the Arrow C Data Interface; and workbooks (`.xlsx`, `.xls`) through calamine,
//! with the header found below any title rows and two-row merged headers joined.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use calamine::{Data, Reader};

use crate::contract::{CONTRACTS, Contract};
use crate::normalise::excel_serial_to_days;
use crate::{Error, Result};

/// A return's cells as text, before validation.
#[derive(Debug)]
pub struct RawTable {
    /// The sheet it came from (workbooks only).
    pub sheet: Option<String>,
    /// Headers as written (two-row headers joined).
    pub headers: Vec<String>,
    /// One text column per header; blank cells are null.
    pub columns: Vec<ArrayRef>,
    /// The 1-based row (line) number in the file of each data row.
    pub rows: Vec<u64>,
    /// Text above the header (a workbook's title rows), for finding the county and period.
    pub title: String,
    /// The encoding the file was read in (CSV only).
    pub encoding: Option<&'static str>,
}

/// Reads `path` by its extension.
pub fn read(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> Result<RawTable> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => read_csv(path),
        "xlsx" | "xlsm" | "xls" => read_workbook(path, contract, mapping),
        _ => Err(Error::UnsupportedFile {
            path: path.to_path_buf(),
        }),
    }
}

/// Decodes CSV bytes: a BOM or valid UTF-8 is UTF-8, anything else is read as GB18030 (a superset
/// of GBK). Fails when the bytes are neither.
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
        Err(e) => {
            let bytes = e.into_bytes();
            let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
            if bad {
                return Err(Error::Encoding {
                    path: path.to_path_buf(),
                });
            }
            Ok((text.into_owned(), "GBK"))
        }
    }
}

/// The delimiter of a header line: the most frequent of `,` tab `;` `|` outside quotes.
pub fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0), (b'|', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

fn read_csv(path: &Path) -> Result<RawTable> {
    use polars::prelude::{CompatLevel, CsvParseOptions, CsvReadOptions, PolarsError, SerReader};
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (text, encoding) = decode(path, bytes)?;
    let delimiter = detect_delimiter(text.lines().next().unwrap_or(""));
    let polars_err = |e: PolarsError| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // Every column as text: types are the contract's business, and raw values go to quarantine as written.
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(delimiter)
                .with_truncate_ragged_lines(true),
        )
        .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
        .finish()
        .map_err(polars_err)?;
    let mut df = df;
    df.align_chunks();
    let headers: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut columns: Vec<Vec<ArrayRef>> = vec![Vec::new(); headers.len()];
    for batch in df.iter_chunks(CompatLevel::oldest(), false) {
        for (i, (field, array)) in batch.schema().iter_values().zip(batch.arrays()).enumerate() {
            columns[i].push(crate::bridge::to_arrow_rs(field, array.clone()).map_err(
                |message| Error::Parse {
                    path: path.to_path_buf(),
                    message,
                },
            )?);
        }
    }
    let columns = columns
        .into_iter()
        .map(|chunks| {
            let refs: Vec<&dyn arrow::array::Array> = chunks.iter().map(AsRef::as_ref).collect();
            let joined = if refs.is_empty() {
                Arc::new(StringArray::from(Vec::<Option<&str>>::new())) as ArrayRef
            } else {
                arrow::compute::concat(&refs)?
            };
            arrow::compute::cast(&joined, &arrow::datatypes::DataType::Utf8)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let n = df.height() as u64;
    Ok(RawTable {
        sheet: None,
        headers,
        columns,
        rows: (2..n + 2).collect(),
        title: String::new(),
        encoding: Some(encoding),
    })
}

fn cell_text(d: &Data) -> Option<String> {
    match d {
        Data::Empty => None,
        Data::String(s) if s.trim().is_empty() => None,
        Data::String(s) => Some(s.clone()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
        Data::Float(f) => Some(format!("{f}")),
        Data::Int(i) => Some(i.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(dt) => excel_serial_to_days(dt.as_f64()).map(crate::normalise::iso_date),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

/// How many cells of `row` name a column of `contract` (or of any table when none is known).
fn header_score(
    cells: &[Option<String>],
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> usize {
    let contracts: Vec<&Contract> =
        contract.map_or_else(|| CONTRACTS.iter().collect(), |c| vec![c]);
    contracts
        .iter()
        .map(|c| {
            cells
                .iter()
                .flatten()
                .filter(|h| c.resolve(h, mapping).is_some())
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn read_workbook(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> Result<RawTable> {
    let err = |message: String| Error::Parse {
        path: path.to_path_buf(),
        message,
    };
    let mut book = calamine::open_workbook_auto(path).map_err(|e| err(e.to_string()))?;
    let sheets = book.sheet_names().to_vec();
    // (header score, sheet name, first sheet row, cells)
    type Sheet = (usize, String, usize, Vec<Vec<Option<String>>>);
    let mut best: Option<Sheet> = None;
    for name in sheets {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| err(e.to_string()))?;
        // The sheet row of the range's first row, so that row numbers match what Excel shows.
        let start = range.start().map_or(0, |(r, _)| r as usize);
        let rows: Vec<Vec<Option<String>>> = range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        let score = rows
            .iter()
            .take(20)
            .map(|r| header_score(r, contract, mapping))
            .max()
            .unwrap_or(0);
        if best.as_ref().is_none_or(|(s, _, _, _)| score > *s) {
            best = Some((score, name, start, rows));
        }
    }
    let Some((_, sheet, first_row, rows)) = best else {
        return Err(err("the workbook has no sheets".to_string()));
    };
    // The header is the row (or pair of rows, for a two-row merged header) naming the most columns.
    let mut pick = (0, 0, 1); // (score, row, height)
    for r in 0..rows.len().min(20) {
        let one = header_score(&rows[r], contract, mapping);
        if one > pick.0 {
            pick = (one, r, 1);
        }
        if let Some(next) = rows.get(r + 1) {
            let joined: Vec<Option<String>> = (0..rows[r].len().max(next.len()))
                .map(|j| {
                    join_header(
                        rows[r].get(j).cloned().flatten(),
                        next.get(j).cloned().flatten(),
                        contract,
                        mapping,
                    )
                })
                .collect();
            let two = header_score(&joined, contract, mapping);
            if two > pick.0 {
                pick = (two, r, 2);
            }
        }
    }
    let (_, h, height) = pick;
    let header_cells: Vec<Option<String>> = if height == 2 {
        (0..rows[h].len().max(rows[h + 1].len()))
            .map(|j| {
                join_header(
                    rows[h].get(j).cloned().flatten(),
                    rows[h + 1].get(j).cloned().flatten(),
                    contract,
                    mapping,
                )
            })
            .collect()
    } else {
        rows.get(h).cloned().unwrap_or_default()
    };
    let width = header_cells
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |p| p + 1);
    let headers: Vec<String> = header_cells[..width]
        .iter()
        .map(|h| h.clone().unwrap_or_default())
        .collect();
    let title = rows[..h]
        .iter()
        .flatten()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let mut data: Vec<(u64, &Vec<Option<String>>)> = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(h + height) {
        if row.iter().take(width).any(Option::is_some) {
            data.push(((first_row + i + 1) as u64, row));
        }
    }
    let columns = (0..width)
        .map(|j| {
            Arc::new(
                data.iter()
                    .map(|(_, r)| r.get(j).cloned().flatten())
                    .collect::<StringArray>(),
            ) as ArrayRef
        })
        .collect();
    Ok(RawTable {
        sheet: Some(sheet),
        headers,
        columns,
        rows: data.iter().map(|(n, _)| *n).collect(),
        title,
        encoding: None,
    })
}

/// One header from the two cells of a two-row header: the lower cell when it names a column (a
/// grouped column under its group), else the upper (a column merged down both rows), else both.
fn join_header(
    top: Option<String>,
    bottom: Option<String>,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> Option<String> {
    let names = |h: &str| header_score(&[Some(h.to_string())], contract, mapping) > 0;
    match (top, bottom) {
        (_, Some(b)) if names(&b) => Some(b),
        (Some(t), None) => Some(t),
        (Some(t), Some(b)) if names(&t) && b.is_empty() => Some(t),
        (Some(t), Some(b)) => Some(format!("{t}{b}")),
        (None, b) => b,
    }
}
