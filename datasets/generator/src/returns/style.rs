//! How each county's returns look: file format, encoding, delimiter, wording of headers and how
//! towns, industries and numbers are written. Counties differ, as they do in real life.

use crate::table::{Date, Value};
use unionstat_datasets::reference;
use unionstat_tables::{Column, Kind};

/// The text encoding of a CSV return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    #[serde(rename = "UTF-8")]
    Utf8,
    /// UTF-8 with a byte-order mark, as Excel writes it.
    #[serde(rename = "UTF-8-BOM")]
    Utf8Bom,
    /// GBK, what Chinese Excel writes by default.
    #[serde(rename = "GBK")]
    Gbk,
}

/// The file format of a county's returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An Excel workbook with a title row and a two-row merged header.
    Xlsx,
    /// Delimited text.
    Csv {
        /// Text encoding.
        encoding: Encoding,
        /// Field delimiter.
        delimiter: u8,
    },
}

/// A county's way of filling in its returns.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// File format.
    pub format: Format,
    /// Writes `东城` for `东城街道`.
    pub short_town_names: bool,
    /// Writes the section letter (`C`) instead of the industry's name.
    pub industry_letters: bool,
    /// Which wording of the headers it uses.
    pub header_variant: usize,
}

/// The style of county number `county` (index into [`reference::counties`]).
pub fn style(county: usize) -> Style {
    let (format, short_town_names, industry_letters) = match county {
        0 => (Format::Xlsx, false, false),
        1 => (
            Format::Csv {
                encoding: Encoding::Gbk,
                delimiter: b',',
            },
            true,
            true,
        ),
        2 => (Format::Xlsx, true, false),
        3 => (
            Format::Csv {
                encoding: Encoding::Utf8Bom,
                delimiter: b',',
            },
            false,
            false,
        ),
        4 => (
            Format::Csv {
                encoding: Encoding::Gbk,
                delimiter: b'\t',
            },
            false,
            true,
        ),
        5 => (
            Format::Csv {
                encoding: Encoding::Utf8,
                delimiter: b',',
            },
            true,
            false,
        ),
        _ => (Format::Xlsx, false, false),
    };
    Style {
        format,
        short_town_names,
        industry_letters,
        header_variant: county,
    }
}

/// One cell as written to a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Blank,
    /// A number, with the decimals it is shown with.
    Number(f64, usize),
    /// A date (a date cell in a workbook, ISO text in CSV).
    Date(Date),
    /// Text.
    Text(String),
}

impl Cell {
    /// The cell as CSV text.
    pub fn text(&self) -> String {
        match self {
            Cell::Blank => String::new(),
            Cell::Number(v, decimals) => format!("{v:.decimals$}"),
            Cell::Date(d) => d.iso(),
            Cell::Text(s) => s.clone(),
        }
    }
}

/// Renders a clean value of `column` as county style `style` writes it.
pub fn render(value: &Value, column: &Column, style: &Style) -> Cell {
    match value {
        Value::Null => Cell::Blank,
        Value::Int(v) => Cell::Number(*v as f64, 0),
        Value::Money(fen) => Cell::Number(*fen as f64 / 100.0, 2),
        Value::Degrees(v) => Cell::Number(*v, 6),
        Value::Date(d) => Cell::Date(*d),
        Value::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.to_string()),
        Value::Text(s) => Cell::Text(match column.kind {
            Kind::Town => reference::town(s).map_or_else(
                || s.clone(),
                |t| {
                    if style.short_town_names {
                        reference::short_name(&t.name_zh).to_string()
                    } else {
                        t.name_zh.clone()
                    }
                },
            ),
            Kind::Industry if !style.industry_letters => {
                reference::industry(s).map_or_else(|| s.clone(), |i| i.name_zh.to_string())
            }
            _ => s.clone(),
        }),
    }
}

/// The canonical form of a clean value, as the lake should hold it after ingest: codes for towns
/// and industries, ISO dates, `true`/`false`, plain numbers.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Int(v) => v.to_string(),
        Value::Money(fen) => format!("{:.2}", *fen as f64 / 100.0),
        Value::Degrees(v) => format!("{v:.6}"),
        Value::Date(d) => d.iso(),
        Value::Bool(b) => b.to_string(),
        Value::Text(s) => s.clone(),
    }
}
