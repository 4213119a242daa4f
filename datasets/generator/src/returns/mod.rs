//! The generator's output on disk: each county's returns for each year and table, in the county's
//! own format, some with faults followed by a corrected resubmission; the reference files; a
//! manifest of the files in submission order; and a manifest of every injected fault and quirk.

pub mod dirty;
pub mod members;
pub mod reference_files;
pub mod style;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::generate::Generator;
use crate::table::{Row, Table};
use unionstat_datasets::reference;
use unionstat_datasets::rng::Rng;
use unionstat_tables::FACT_TABLES;

use dirty::{Injection, Severity};
use style::{Encoding, Format, render};

/// Failures writing the generator's output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A workbook could not be written.
    #[error("cannot write workbook {path}: {message}")]
    Xlsx {
        /// The file.
        path: PathBuf,
        /// What the writer said.
        message: String,
    },
    /// Text that GBK cannot encode (a bug in the generator's names).
    #[error("{path}: text that GBK cannot encode")]
    Encoding {
        /// The file.
        path: PathBuf,
    },
}

/// The result of writing output.
pub type Result<T> = std::result::Result<T, Error>;

/// What to write.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of every random choice.
    pub seed: u64,
    /// Volume multiplier.
    pub scale: f64,
    /// Share of rows given a fault or a quirk.
    pub dirty_rate: f64,
    /// Also write the member registry.
    pub members: bool,
}

/// One file of the output, as listed in `manifest.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileEntry {
    /// Path relative to the output folder, `/`-separated.
    pub path: String,
    /// The lake table it feeds.
    pub table: String,
    /// Reporting county's code.
    pub county_code: String,
    /// Reporting period (year).
    pub year: i32,
    /// `xlsx` or `csv`.
    pub format: String,
    /// For CSV: text encoding.
    pub encoding: Option<Encoding>,
    /// For CSV: the delimiter.
    pub delimiter: Option<String>,
    /// True for a county's corrected resubmission.
    pub correction: bool,
    /// Data rows as written (duplicates included).
    pub rows: usize,
}

/// What was written.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    /// Files of returns, in submission order.
    pub files: Vec<FileEntry>,
    /// Clean rows across the fact tables.
    pub clean_rows: usize,
    /// Faults injected.
    pub faults: usize,
    /// Quirks injected.
    pub quirks: usize,
    /// Members written to the registry.
    pub members: u64,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Generates and writes everything under `out`, one table at a time.
pub fn write_all(out: &Path, generator: &mut Generator, options: &Options) -> Result<Summary> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    reference_files::write(&out.join("reference"))?;
    let mut summary = Summary::default();
    let dirty_path = out.join("dirty_manifest.csv");
    let mut dirty_log = csv::Writer::from_path(&dirty_path).map_err(|e| Error::Io {
        path: dirty_path.clone(),
        source: e.into(),
    })?;
    dirty_log
        .write_record([
            "file",
            "sheet",
            "row",
            "column",
            "header",
            "table",
            "county_code",
            "year",
            "severity",
            "rule",
            "written",
            "expected",
        ])
        .map_err(|e| Error::Io {
            path: dirty_path.clone(),
            source: e.into(),
        })?;

    for spec in FACT_TABLES {
        let table = &generator.table(spec);
        summary.clean_rows += table.rows.len();
        let mut returns: BTreeMap<(i32, usize), Vec<&Row>> = BTreeMap::new();
        for row in &table.rows {
            returns
                .entry((table.year(row), row.county))
                .or_default()
                .push(row);
        }
        for ((year, county), rows) in returns {
            let mut rng = Rng::for_part(
                options.seed,
                &format!("dirty/{}/{county}/{year}", spec.name),
            );
            let written = write_return(
                out,
                table,
                year,
                county,
                &rows,
                options.dirty_rate,
                false,
                &mut rng,
            )?;
            let has_faults = written
                .1
                .iter()
                .any(|i| i.rule.severity() == Severity::Fault);
            for inj in &written.1 {
                match inj.rule.severity() {
                    Severity::Fault => summary.faults += 1,
                    Severity::Quirk => summary.quirks += 1,
                }
                log_injection(&mut dirty_log, &written.0, table, inj).map_err(|e| Error::Io {
                    path: dirty_path.clone(),
                    source: e.into(),
                })?;
            }
            summary.files.push(written.0);
            if has_faults {
                let (entry, _) =
                    write_return(out, table, year, county, &rows, 0.0, true, &mut rng)?;
                summary.files.push(entry);
            }
        }
    }
    dirty_log.flush().map_err(io_err(&dirty_path))?;
    if options.members {
        summary.members = members::write(&out.join("members"), generator.world(), options.seed)?;
    }
    summary.files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = serde_json::json!({
        "generator": "unionstat generate",
        "seed": options.seed,
        "scale": options.scale,
        "dirty_rate": options.dirty_rate,
        "members": options.members,
        "files": summary.files,
    });
    let manifest_path = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    std::fs::write(&manifest_path, text).map_err(io_err(&manifest_path))?;
    Ok(summary)
}

fn log_injection(
    log: &mut csv::Writer<std::fs::File>,
    file: &FileEntry,
    table: &Table,
    inj: &Injection,
) -> csv::Result<()> {
    let first = if file.format == "xlsx" {
        write::XLSX_FIRST_DATA_ROW
    } else {
        write::CSV_FIRST_DATA_ROW
    };
    let county = reference::counties()
        .iter()
        .position(|c| c.code == file.county_code)
        .unwrap_or(0);
    let (column, header) = inj
        .column
        .map(|i| {
            (
                table.spec.columns[i].name,
                table.spec.header(i, style::style(county).header_variant),
            )
        })
        .unwrap_or(("", ""));
    let severity = match inj.rule.severity() {
        Severity::Fault => "fault",
        Severity::Quirk => "quirk",
    };
    let rule = serde_json::to_value(inj.rule)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    log.write_record([
        file.path.as_str(),
        if file.format == "xlsx" {
            write::SHEET
        } else {
            ""
        },
        &(first + inj.row).to_string(),
        column,
        header,
        table.spec.name,
        &file.county_code,
        &file.year.to_string(),
        severity,
        &rule,
        &inj.written,
        &inj.expected,
    ])
}

/// Writes one county's return of one table for one year, or its corrected resubmission.
#[allow(clippy::too_many_arguments)]
fn write_return(
    out: &Path,
    table: &Table,
    year: i32,
    county: usize,
    rows: &[&Row],
    dirty_rate: f64,
    correction: bool,
    rng: &mut Rng,
) -> Result<(FileEntry, Vec<Injection>)> {
    let spec = table.spec;
    let c = &reference::counties()[county];
    let style = style::style(county);
    let dir = out
        .join("returns")
        .join(year.to_string())
        .join(format!("{}{}", c.code, c.name_zh));
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let headers: Vec<&str> = (0..spec.columns.len())
        .map(|i| spec.header(i, style.header_variant))
        .collect();
    let rendered: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                spec.columns
                    .iter()
                    .zip(&r.values)
                    .map(|(col, v)| render(v, col, &style))
                    .collect(),
                r.values.as_slice(),
            )
        })
        .collect();
    let (cells, injections) = dirty::inject(rng, spec, rendered, dirty_rate);
    let suffix = if correction { "_更正" } else { "" };
    let (ext, format, encoding, delimiter) = match style.format {
        Format::Xlsx => ("xlsx", "xlsx", None, None),
        Format::Csv {
            encoding,
            delimiter,
        } => (
            "csv",
            "csv",
            Some(encoding),
            Some((delimiter as char).to_string()),
        ),
    };
    let name = format!("{}_{year}{suffix}.{ext}", spec.file_stem);
    let path = dir.join(&name);
    match style.format {
        Format::Xlsx => {
            let title = format!("{}{}（{year}年度）", c.name_zh, spec.title_zh);
            let unit = format!(
                "填报单位：{}总工会　　金额单位：元　　人数单位：人",
                c.name_zh
            );
            write::xlsx(&path, spec, &title, &unit, &headers, &cells)?;
        }
        Format::Csv {
            encoding,
            delimiter,
        } => write::csv(&path, encoding, delimiter, &headers, &cells)?,
    }
    let entry = FileEntry {
        path: format!("returns/{year}/{}{}/{name}", c.code, c.name_zh),
        table: spec.name.to_string(),
        county_code: c.code.to_string(),
        year,
        format: format.to_string(),
        encoding,
        delimiter,
        correction,
        rows: cells.len(),
    };
    Ok((entry, injections))
}
