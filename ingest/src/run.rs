//! One ingest: find the returns under the paths given, and for each read, identify, validate,
//! and commit it to the lake (or only report, in a dry run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use sha2::{Digest, Sha256};
use unionstat_datasets::crs::Crs;

use crate::contract::{CONTRACTS, Contract, edit_distance, header_key};
use crate::identify::{self, Overrides};
use crate::lake::{self, Lake, SubmissionRecord};
use crate::pii::HashKey;
use crate::places::TownIndex;
use crate::read::{self, RawTable};
use crate::report::{FileReport, Outcome, Report};
use crate::validate::{self, Context, Finding, Validated};
use crate::{Error, Result};

/// How to ingest.
#[derive(Debug, Clone)]
pub struct Options {
    /// The lake: a folder or an object-store URL.
    pub lake: String,
    /// Validate and report only.
    pub dry_run: bool,
    /// Share of bad rows above which a whole return is rejected.
    pub error_threshold: f64,
    /// Table, county and period given on the command line.
    pub overrides: Overrides,
    /// CRS of coordinates in returns that do not say.
    pub source_crs: Crs,
    /// Keys ID-number hashes; required before any ID number is read.
    pub hash_key: Option<HashKey>,
    /// Extra headers: as written -> canonical column name.
    pub header_mapping: HashMap<String, String>,
}

impl Options {
    /// Defaults for the lake at `lake`: 10% error threshold, WGS-84, no hash key.
    pub fn new(lake: &str) -> Self {
        Options {
            lake: lake.to_string(),
            dry_run: false,
            error_threshold: 0.1,
            overrides: Overrides::default(),
            source_crs: Crs::Wgs84,
            hash_key: None,
            header_mapping: HashMap::new(),
        }
    }
}

/// Files under `paths`, folders walked in byte order of their paths; hidden files left out.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
                    let p = entry.map_err(|e| Error::io(&dir, e))?.path();
                    if p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                    {
                        continue;
                    }
                    if p.is_dir() {
                        stack.push(p)
                    } else {
                        found.push(p)
                    }
                }
            }
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(Error::Usage(format!("{} does not exist", path.display())));
        }
    }
    Ok(files)
}

/// Ingests every return under `paths` into the lake of `options`.
pub async fn ingest(paths: &[PathBuf], options: &Options) -> Result<Report> {
    let files = collect_files(paths)?;
    let lake = Lake::open(&options.lake)?;
    let town_index = TownIndex::reference();
    // What this lake has received, read once and kept up to date as returns are applied.
    let mut received = lake.content_hashes().await?;
    let mut report = Report {
        files: Vec::new(),
        dry_run: options.dry_run,
    };
    for path in files {
        let mut entry = FileReport::new(&path.display().to_string());
        match ingest_file(
            &path,
            options,
            &lake,
            &town_index,
            &mut received,
            &mut entry,
        )
        .await
        {
            Ok(()) => {}
            Err(e @ (Error::Lake { .. } | Error::Arrow(_))) => return Err(e),
            Err(e) => {
                entry.outcome = Outcome::Rejected;
                entry.message = Some(e.to_string());
            }
        }
        tracing::info!(file = %entry.file, outcome = ?entry.outcome, loaded = entry.rows_loaded, quarantined = entry.rows_quarantined, "return");
        report.files.push(entry);
    }
    Ok(report)
}

fn is_return_file(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        ext.as_str(),
        "csv" | "txt" | "tsv" | "xlsx" | "xlsm" | "xls"
    )
}

/// The contract whose columns `headers` name most (at least half of the headers).
fn table_from_headers(
    headers: &[String],
    mapping: &HashMap<String, String>,
) -> Option<&'static Contract> {
    CONTRACTS
        .iter()
        .map(|c| {
            (
                c,
                headers
                    .iter()
                    .filter(|h| c.resolve(h, mapping).is_some())
                    .count(),
            )
        })
        .filter(|(_, n)| *n * 2 >= headers.len().max(1))
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c)
}

/// Content hashes of applied returns by (table, county, period), latest first.
type Received = HashMap<(String, String, i32), Vec<String>>;

async fn ingest_file(
    path: &Path,
    options: &Options,
    lake: &Lake,
    town_index: &TownIndex,
    received: &mut Received,
    entry: &mut FileReport,
) -> Result<()> {
    if !is_return_file(path) {
        entry.message = Some("not a return (unionstat reads .xlsx, .xls, .csv, .txt)".into());
        return Ok(());
    }
    let named = options.overrides.table.as_deref().map(|t| {
        crate::contract::contract(t).ok_or_else(|| {
            Error::Usage(format!(
                "--table {t}: no such table; tables are {}",
                table_names()
            ))
        })
    });
    let named = match named {
        Some(r) => Some(r?),
        None => identify::table_from_name(path),
    };
    let raw = read::read(path, named, &options.header_mapping)?;
    let Some(contract) =
        named.or_else(|| table_from_headers(&raw.headers, &options.header_mapping))
    else {
        entry.message =
            Some("not a return of a known table: its name and headers match none".into());
        return Ok(());
    };
    entry.table = Some(contract.spec.name.to_string());

    let path_text = path.to_string_lossy();
    let county = match &options.overrides.county {
        Some(c) => identify::county_code(c).ok_or_else(|| Error::Usage(format!("--county {c}: not a county of Longyan")))?,
        None => identify::county_in_text(&path_text).or_else(|| identify::county_in_text(&raw.title)).ok_or_else(|| {
            Error::Usage("cannot tell which county sent this return: name the county in the file or folder name, or give --county".into())
        })?,
    };
    entry.county_code = Some(county.to_string());
    let columns = resolve_columns(contract, &raw, &options.header_mapping)?;
    let period = match options
        .overrides
        .period
        .or_else(|| identify::year_in_name(path))
        .or_else(|| year_from_column(contract, &raw, &columns))
    {
        Some(p) => p,
        None => return Err(Error::Usage(
            "cannot tell the return's year: put it in the file name (…_2017.xlsx) or give --period"
                .into(),
        )),
    };
    entry.period = Some(period);

    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let content_hash = hex::encode(Sha256::digest(&bytes));
    // A return received before is not applied again: re-running ingest over a folder of returns
    // must not replay a county's earlier versions over its corrections.
    let key = (contract.spec.name.to_string(), county.to_string(), period);
    if !options.dry_run {
        let seen = received.get(&key).map_or(&[][..], Vec::as_slice);
        if let Some(position) = seen.iter().position(|h| *h == content_hash) {
            entry.outcome = Outcome::Unchanged;
            entry.message = Some(if position == 0 {
                "identical to the return already loaded; nothing to do".into()
            } else {
                "received before and since replaced by a later return; nothing to do".into()
            });
            return Ok(());
        }
    }
    let hash_key = options.hash_key.as_ref().ok_or_else(|| {
        Error::Usage("no key for hashing ID numbers: set UNIONSTAT_ID_HASH_KEY".into())
    })?;
    let ingested_at = now_micros();
    let submission_id = format!(
        "{}-{county}-{period}-{ingested_at}-{}",
        contract.spec.name,
        &content_hash[..8]
    );
    let file_name = path.file_name().map_or_else(
        || path_text.to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    let ctx = Context {
        county_code: county,
        period,
        key: hash_key,
        town_index,
        default_crs: options.source_crs,
        submission_id: &submission_id,
        source_file: &path_text,
        ingested_at,
    };
    let validated = validate::validate(contract, &raw, &columns, &ctx)?;
    let bad_rows = distinct_rows(&validated);
    entry.rows_read = validated.rows_read;
    entry.rows_quarantined = bad_rows;
    entry.errors = validated.rejected.iter().map(|(f, _)| f.clone()).collect();
    entry.warnings = validated.warnings.clone();
    let too_many = validated.rows_read > 0
        && bad_rows as f64 / validated.rows_read as f64 > options.error_threshold;
    entry.outcome = if too_many {
        entry.message = Some(format!(
            "{bad_rows} of {} rows are bad, more than the threshold of {:.0}%: the whole return is rejected; correct it and send it again",
            validated.rows_read,
            options.error_threshold * 100.0
        ));
        Outcome::Rejected
    } else if bad_rows > 0 {
        Outcome::Partial
    } else {
        Outcome::Loaded
    };
    entry.rows_loaded = if too_many {
        0
    } else {
        validated.batch.num_rows()
    };
    if options.dry_run {
        return Ok(());
    }

    if !validated.rejected.is_empty() {
        lake.append(
            lake::QUARANTINE,
            quarantine_batch(
                &validated.rejected,
                contract,
                county,
                period,
                &submission_id,
                &path_text,
                raw.sheet.as_deref(),
                ingested_at,
            )?,
        )
        .await?;
    }
    let version = if too_many {
        None
    } else {
        Some(
            lake.replace_return(
                contract.spec.name,
                validated.batch,
                period,
                county,
                &submission_id,
            )
            .await?,
        )
    };
    let record = SubmissionRecord {
        submission_id: submission_id.clone(),
        table_name: contract.spec.name.to_string(),
        county_code: county.to_string(),
        period,
        source_file: file_name,
        content_hash,
        outcome: match entry.outcome {
            Outcome::Rejected => "rejected",
            Outcome::Partial => "partial",
            _ => "loaded",
        }
        .to_string(),
        rows_read: entry.rows_read,
        rows_loaded: entry.rows_loaded,
        rows_quarantined: entry.rows_quarantined,
        table_version: version,
        ingested_at,
    };
    lake.append(lake::SUBMISSIONS, record.to_batch()?).await?;
    if version.is_some() {
        received
            .entry(key)
            .or_default()
            .insert(0, record.content_hash);
    }
    entry.submission_id = Some(submission_id);
    Ok(())
}

fn table_names() -> String {
    CONTRACTS
        .iter()
        .map(|c| c.spec.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps each raw header to a contract column; an unknown header or a missing required column
/// rejects the return with a message that names it and the nearest known header.
fn resolve_columns(
    contract: &Contract,
    raw: &RawTable,
    mapping: &HashMap<String, String>,
) -> Result<Vec<usize>> {
    let mut columns = Vec::with_capacity(raw.headers.len());
    for header in &raw.headers {
        match contract.resolve(header, mapping) {
            Some(c) => columns.push(c),
            None => {
                let key = header_key(header);
                let nearest = contract
                    .all_headers()
                    .min_by_key(|h| edit_distance(&key, &header_key(h)))
                    .unwrap_or("");
                let column = contract
                    .resolve(nearest, mapping)
                    .map_or("", |c| contract.spec.columns[c].name);
                return Err(Error::Usage(format!(
                    "unknown header 「{header}」 in a {} return; the closest known header is 「{nearest}」 (column {column}). \
                     If they mean the same, map it in the file given to --config: [ingest.headers] \"{header}\" = \"{column}\"",
                    contract.spec.name
                )));
            }
        }
    }
    let missing: Vec<&str> = contract
        .spec
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.required && !columns.contains(i))
        .map(|(_, c)| c.header_zh)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "the return has no column for required 「{}」; add it and send the return again",
            missing.join("」「")
        )));
    }
    Ok(columns)
}

fn year_from_column(contract: &Contract, raw: &RawTable, columns: &[usize]) -> Option<i32> {
    let year = contract.spec.index("year")?;
    let raw_col = columns.iter().position(|&c| c == year)?;
    let values = arrow::array::AsArray::as_string::<i32>(raw.columns[raw_col].as_ref());
    let mut counts: HashMap<i32, usize> = HashMap::new();
    for v in values.iter().flatten() {
        if let Some(y) = crate::normalise::integer(v) {
            *counts.entry(y as i32).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(y, n)| (*n, *y))
        .map(|(y, _)| y)
}

fn distinct_rows(v: &Validated) -> usize {
    let mut rows: Vec<u64> = v.rejected.iter().map(|(f, _)| f.row).collect();
    rows.sort_unstable();
    rows.dedup();
    rows.len()
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[allow(clippy::too_many_arguments)]
fn quarantine_batch(
    rejected: &[(Finding, String)],
    contract: &Contract,
    county: &str,
    period: i32,
    submission_id: &str,
    file: &str,
    sheet: Option<&str>,
    ingested_at: i64,
) -> Result<RecordBatch> {
    let n = rejected.len();
    let repeat = |s: &str| Arc::new(StringArray::from(vec![s; n])) as arrow::array::ArrayRef;
    let column = |f: &dyn Fn(&Finding, &String) -> String| {
        Arc::new(StringArray::from_iter_values(
            rejected.iter().map(|(a, b)| f(a, b)),
        )) as arrow::array::ArrayRef
    };
    Ok(RecordBatch::try_new(
        lake::quarantine_schema(),
        vec![
            repeat(submission_id),
            repeat(contract.spec.name),
            repeat(county),
            Arc::new(Int64Array::from(vec![i64::from(period); n])),
            repeat(file),
            Arc::new(StringArray::from(vec![sheet; n])),
            Arc::new(Int64Array::from_iter_values(
                rejected.iter().map(|(f, _)| f.row as i64),
            )),
            column(&|f, _| f.column.clone()),
            column(&|f, _| f.header.clone()),
            column(&|f, _| f.value.clone()),
            column(&|f, _| f.rule.name()),
            column(&|f, _| f.rule.code().to_string()),
            column(&|f, _| f.rule.message_zh().to_string()),
            column(&|f, _| f.rule.message_en().to_string()),
            column(&|_, raw| raw.clone()),
            Arc::new(TimestampMicrosecondArray::from(vec![ingested_at; n]).with_timezone("UTC")),
        ],
    )?)
}
