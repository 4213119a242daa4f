//! Where a return's findings are, as a person finds them in Excel (`报表!C12`), and the same
//! return written back as a workbook with each bad cell filled red and a note saying what is
//! wrong and what to do.

use std::collections::HashMap;
use std::path::Path;

use calamine::Reader as _;
use rust_xlsxwriter::{Format, Note, Workbook, XlsxError};
use unionstat_datasets::crs::Crs;
use unionstat_tables::Contract;

use crate::read::{self, Format as FileFormat};
use crate::template::column_letter;
use crate::validate::Finding;
use crate::{Error, Result};

/// Where the columns of a return are.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The sheet the rows came from (workbooks only).
    pub sheet: Option<String>,
    /// Each header as written, and its 0-based column.
    columns: HashMap<String, u16>,
}

fn xlsx(e: XlsxError) -> Error {
    Error::Usage(format!("cannot make the workbook: {e}"))
}

/// The layout of the return at `path`, read as ingest reads it.
pub fn layout(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
) -> Result<Layout> {
    let mut chunks = read::open(path, contract, mapping, Crs::Wgs84)?;
    let Some(first) = chunks.next().transpose()? else {
        return Ok(Layout::default());
    };
    let offset = match (&first.sheet, read::format(path)) {
        (Some(sheet), Some(FileFormat::Workbook)) => first_column(path, sheet).unwrap_or(0),
        _ => 0,
    };
    let columns = first
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), offset + i as u16))
        .collect();
    Ok(Layout {
        sheet: first.sheet.clone(),
        columns,
    })
}

/// The first used column of `sheet`.
fn first_column(path: &Path, sheet: &str) -> Option<u16> {
    let mut book = calamine::open_workbook_auto(path).ok()?;
    let range = book.worksheet_range(sheet).ok()?;
    range.start().map(|(_, c)| c as u16)
}

impl Layout {
    /// The 0-based column of a finding (the row's first for a whole-row rule).
    fn column(&self, finding: &Finding) -> u16 {
        self.columns
            .get(&finding.header)
            .copied()
            .unwrap_or_else(|| self.columns.values().copied().min().unwrap_or(0))
    }

    /// The cell of a finding as Excel names it: `报表!C12`, or `C12` in a CSV file.
    pub fn cell(&self, finding: &Finding) -> String {
        let cell = format!("{}{}", column_letter(self.column(finding)), finding.row);
        match &self.sheet {
            Some(sheet) => format!("{sheet}!{cell}"),
            None => cell,
        }
    }
}

/// The return at `path` as a workbook, its bad cells filled red with a note each.
pub fn annotated(
    path: &Path,
    contract: Option<&Contract>,
    mapping: &HashMap<String, String>,
    findings: &[Finding],
) -> Result<Vec<u8>> {
    let layout = layout(path, contract, mapping)?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name(layout.sheet.as_deref().unwrap_or("报表"))
        .map_err(xlsx)?;
    let mut cells: Vec<(u32, u16, String)> = Vec::new();
    match (&layout.sheet, read::format(path)) {
        (Some(name), Some(FileFormat::Workbook)) => {
            let parse = |message: String| Error::Parse {
                path: path.to_path_buf(),
                message,
            };
            let mut source =
                calamine::open_workbook_auto(path).map_err(|e| parse(e.to_string()))?;
            let range = source
                .worksheet_range(name)
                .map_err(|e| parse(e.to_string()))?;
            let (start_r, start_c) = range.start().unwrap_or((0, 0));
            for (r, c, value) in range.used_cells() {
                if let Some(text) = read::workbook::cell_text(value) {
                    cells.push((start_r + r as u32, (start_c as usize + c) as u16, text));
                }
            }
        }
        _ => {
            for (i, chunk) in read::open(path, contract, mapping, Crs::Wgs84)?.enumerate() {
                let chunk = chunk?;
                if i == 0 {
                    for (c, h) in chunk.headers.iter().enumerate() {
                        cells.push((0, c as u16, h.clone()));
                    }
                }
                for (c, column) in chunk.columns.iter().enumerate() {
                    let text = read::TextColumn::of(column.as_ref())?;
                    for (i, &row) in chunk.rows.iter().enumerate() {
                        if let Some(v) = text.get(i) {
                            cells.push((row.saturating_sub(1) as u32, c as u16, v.to_string()));
                        }
                    }
                }
            }
        }
    }
    let mut notes: HashMap<(u32, u16), Vec<String>> = HashMap::new();
    for f in findings {
        let key = (f.row.saturating_sub(1) as u32, layout.column(f));
        notes.entry(key).or_default().push(format!(
            "{}（{}）\n{}",
            f.rule.message_zh(),
            f.rule.name(),
            f.rule.message_en()
        ));
    }
    let bad = Format::new()
        .set_background_color("#FFC7CE")
        .set_font_color("#9C0006");
    for (r, c, text) in &cells {
        if notes.contains_key(&(*r, *c)) {
            sheet
                .write_string_with_format(*r, *c, text, &bad)
                .map_err(xlsx)?;
        } else {
            sheet.write_string(*r, *c, text).map_err(xlsx)?;
        }
    }
    let filled: std::collections::HashSet<(u32, u16)> =
        cells.iter().map(|(r, c, _)| (*r, *c)).collect();
    for ((r, c), lines) in &notes {
        if !filled.contains(&(*r, *c)) {
            // A blank required cell: fill it so that it shows.
            sheet.write_blank(*r, *c, &bad).map_err(xlsx)?;
        }
        let note = Note::new(lines.join("\n"))
            .set_author("unionstat")
            .set_width(320);
        sheet.insert_note(*r, *c, &note).map_err(xlsx)?;
    }
    book.save_to_buffer().map_err(xlsx)
}
