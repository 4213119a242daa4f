//! Workbooks (`.xlsx`, `.xls`) through calamine: the sheet and header row are found by how many
//! known column headers they hold, below any title rows, with two-row merged headers joined.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use calamine::{Data, Reader};

use super::RawTable;
use crate::normalise::excel_serial_to_days;
use crate::{Error, Result};
use unionstat_tables::{CONTRACTS, Contract};

/// A cell as text, as ingest reads it: whole numbers without a decimal point, dates as
/// `YYYY-MM-DD`, blanks as `None`.
pub fn cell_text(d: &Data) -> Option<String> {
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
                .filter(|h| crate::headers::resolve(c, h, mapping).is_some())
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The most sheet data an `.xlsx` return may unpack to. A county's largest return (its member
/// register) unpacks to tens of megabytes; a workbook past this is damaged or made to exhaust
/// memory (a "zip bomb": 15 MB on disk, gigabytes unpacked).
pub const MAX_UNPACKED_BYTES: u64 = 512 << 20;

/// Refuses an `.xlsx` (a zip archive) whose entries say they unpack to more than
/// [`MAX_UNPACKED_BYTES`], before anything unpacks them. Other workbooks pass.
fn check_unpacked_size(path: &Path) -> std::result::Result<(), String> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(mut archive) = zip::ZipArchive::new(file) else {
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(i) else {
            continue;
        };
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(format!(
            "the workbook unpacks to {} MiB, more than the {} MiB a return may hold; \
             check the file, or send the data as CSV",
            total >> 20,
            MAX_UNPACKED_BYTES >> 20
        ));
    }
    Ok(())
}

/// Reads the sheet of `path` whose header names the most columns of `contract` (or of any
/// table), below any title rows.
pub fn read(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> Result<RawTable> {
    let err = |message: String| Error::Parse {
        path: path.to_path_buf(),
        message,
    };
    check_unpacked_size(path).map_err(err)?;
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
    let mut raw = RawTable::new(headers, columns, data.iter().map(|(n, _)| *n).collect());
    raw.sheet = Some(sheet);
    raw.title = title;
    Ok(raw)
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
