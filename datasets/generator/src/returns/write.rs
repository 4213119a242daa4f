//! Writes returns to files: workbooks with a title row and a two-row merged header, and CSV in
//! the county's encoding and delimiter.

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format as XlsxFormat, FormatAlign, Workbook};

use unionstat_tables::TableSpec;

use super::style::{Cell, Encoding};
use super::{Error, Result};

/// Where the data starts in a workbook: title, unit line, two header rows.
pub const XLSX_FIRST_DATA_ROW: usize = 5;
/// Where the data starts in a CSV file: one header line.
pub const CSV_FIRST_DATA_ROW: usize = 2;
/// The sheet every return workbook keeps its data in.
pub const SHEET: &str = "报表";

fn xlsx_err(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> Error + '_ {
    move |e| Error::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes one return as a workbook: the form's title, the reporting unit, a two-row header with
/// merged group cells, then the data.
pub fn xlsx(
    path: &Path,
    spec: &TableSpec,
    title: &str,
    unit_line: &str,
    headers: &[&str],
    rows: &[Vec<Cell>],
) -> Result<()> {
    let err = xlsx_err(path);
    let mut workbook = Workbook::new();
    // A fixed creation time keeps the file byte-identical for a seed.
    let created = ExcelDateTime::from_ymd(2018, 1, 31).map_err(&err)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("unionstat generate"),
    );
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(&err)?;
    sheet.set_name(SHEET).map_err(&err)?;
    let bold = XlsxFormat::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let title_format = XlsxFormat::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let date_format = XlsxFormat::new().set_num_format("yyyy-mm-dd");
    let money_format = XlsxFormat::new().set_num_format("0.00");
    let degrees_format = XlsxFormat::new().set_num_format("0.000000");
    let last_col = (headers.len() - 1) as u16;
    sheet
        .merge_range(0, 0, 0, last_col, title, &title_format)
        .map_err(&err)?;
    sheet.write_string(1, 0, unit_line).map_err(&err)?;

    // Header: a group cell spanning its columns above their names; ungrouped names span both rows.
    let mut i = 0;
    while i < spec.columns.len() {
        let col = i as u16;
        match spec.columns[i].group {
            Some(group) => {
                let end = (i..spec.columns.len())
                    .take_while(|&j| spec.columns[j].group == Some(group))
                    .last()
                    .unwrap_or(i);
                if end > i {
                    sheet
                        .merge_range(2, col, 2, end as u16, group, &bold)
                        .map_err(&err)?;
                } else {
                    sheet
                        .write_string_with_format(2, col, group, &bold)
                        .map_err(&err)?;
                }
                i = end + 1;
            }
            None => {
                sheet
                    .merge_range(2, col, 3, col, headers[i], &bold)
                    .map_err(&err)?;
                i += 1;
            }
        }
    }
    for (i, c) in spec.columns.iter().enumerate() {
        if c.group.is_some() {
            sheet
                .write_string_with_format(3, i as u16, headers[i], &bold)
                .map_err(&err)?;
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let r = (XLSX_FIRST_DATA_ROW - 1 + r) as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Blank => {}
                Cell::Number(v, 2) => {
                    sheet
                        .write_number_with_format(r, c, *v, &money_format)
                        .map_err(&err)?;
                }
                Cell::Number(v, 6) => {
                    sheet
                        .write_number_with_format(r, c, *v, &degrees_format)
                        .map_err(&err)?;
                }
                Cell::Number(v, _) => {
                    sheet.write_number(r, c, *v).map_err(&err)?;
                }
                Cell::Date(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.y as u16, d.m as u8, d.d as u8).map_err(&err)?;
                    sheet
                        .write_datetime_with_format(r, c, &dt, &date_format)
                        .map_err(&err)?;
                }
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).map_err(&err)?;
                }
            }
        }
    }
    sheet
        .set_column_range_width(0, last_col, 14)
        .map_err(&err)?;
    workbook.save(path).map_err(&err)?;
    Ok(())
}

/// Writes delimited text in `encoding`, header first, quoting as CSV does.
pub fn csv(
    path: &Path,
    encoding: Encoding,
    delimiter: u8,
    headers: &[&str],
    rows: &[Vec<Cell>],
) -> Result<()> {
    let mut text = Vec::new();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut text);
        let io = |e: csv::Error| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        };
        writer.write_record(headers).map_err(io)?;
        for row in rows {
            writer
                .write_record(row.iter().map(Cell::text))
                .map_err(io)?;
        }
        writer.flush().map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?);
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    match encoding {
        Encoding::Utf8 => file.write_all(&text).map_err(io)?,
        Encoding::Utf8Bom => {
            file.write_all("\u{feff}".as_bytes()).map_err(io)?;
            file.write_all(&text).map_err(io)?;
        }
        Encoding::Gbk => {
            let utf8 = String::from_utf8_lossy(&text);
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&utf8);
            if unmappable {
                return Err(Error::Encoding {
                    path: path.to_path_buf(),
                });
            }
            file.write_all(&bytes).map_err(io)?;
        }
    }
    file.flush().map_err(io)
}
