//! One ingest: find the returns under the paths given, and for each read, identify, validate,
//! and commit it to the lake (or only report, in a dry run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use tracing::Instrument as _;
use unionstat_datasets::crs::Crs;
use unionstat_tables::{CONTRACTS, Contract};

use crate::facts::{self, FactReturn};
use crate::headers::{all_headers, edit_distance, header_key, resolve};
use crate::identify::{self, Overrides};
use crate::lake::{Lake, Written};
use crate::pii::HashKey;
use crate::read::{self, Format, RawTable};
use crate::records::{self, EventRecord, SubmissionRecord};
use crate::reference::{self, ReferenceTable};
use crate::regions;
use crate::report::{FileReport, Outcome, Report};
use crate::validate::{Context, Finding};
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
    /// Told of each file and chunk as the ingest goes.
    pub progress: Option<Arc<dyn Progress>>,
    /// Who loads the returns, recorded as the approver of each (an account, or the
    /// operating-system user for `unionstat ingest`).
    pub actor: String,
    /// The county sending the returns (an upload by a county's account): a return that names
    /// another county is refused; one that names none is taken as this county's.
    pub sender_county: Option<String>,
}

/// Told how an ingest is going, so that a terminal can show it.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// File `index` (from 0) of `total` is starting.
    fn file_started(&self, index: usize, total: usize, path: &Path);
    /// `rows` more rows of the current file were read.
    fn rows_read(&self, rows: usize);
    /// The current file is done.
    fn file_done(&self, report: &FileReport);
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
            progress: None,
            actor: os_user(),
            sender_county: None,
        }
    }
}

/// The operating-system user running this process, as `USER` (or `USERNAME`) names it.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string())
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
    // One ingest writes at a time; a dry run writes nothing and does not wait.
    let _lock = if options.dry_run {
        None
    } else {
        lake.lock_for_ingest().await?
    };
    if !options.dry_run {
        crate::publish::recover(&lake).await?;
    }
    // What this lake has received, read once (after the lock) and kept up to date as returns
    // are applied.
    let mut received = lake.content_hashes().await?;
    let mut report = Report {
        files: Vec::new(),
        dry_run: options.dry_run,
    };
    let total = files.len();
    let hashes = hash_ahead(&files);
    for (index, (path, hash)) in files.into_iter().zip(hashes).enumerate() {
        if let Some(p) = &options.progress {
            p.file_started(index, total, &path);
        }
        let mut entry = FileReport::new(&path.display().to_string());
        let span = tracing::info_span!("return", file = %path.display());
        let ingested = ingest_file(&path, hash, options, &lake, &mut received, &mut entry)
            .instrument(span)
            .await;
        match ingested {
            Ok(()) => {}
            Err(e @ (Error::Lake { .. } | Error::Conflict { .. } | Error::Arrow(_))) => {
                return Err(e);
            }
            Err(e) => {
                entry.outcome = Outcome::Rejected;
                entry.message = Some(e.to_string());
            }
        }
        tracing::debug!(file = %entry.file, outcome = ?entry.outcome, loaded = entry.rows_loaded, quarantined = entry.rows_quarantined, "return");
        if let Some(p) = &options.progress {
            p.file_done(&entry);
        }
        report.files.push(entry);
    }
    Ok(report)
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
                    .filter(|h| resolve(c, h, mapping).is_some())
                    .count(),
            )
        })
        .filter(|(_, n)| *n * 2 >= headers.len().max(1))
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c)
}

/// Content hashes of applied returns by (table, county, period), latest first.
type Received = HashMap<(String, String, i32), Vec<String>>;

/// The period recorded for tables that have none (boundaries, reference tables).
const NO_PERIOD: i32 = 0;
/// The most of one value that quarantine keeps and messages quote.
const EXCERPT_BYTES: usize = 1024;

/// `text`, or its first kilobyte (cut at a character) and how long it was: a huge cell or
/// header must not be copied whole into quarantine or a message.
fn excerpt(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= EXCERPT_BYTES {
        return text.into();
    }
    let cut = (0..=EXCERPT_BYTES)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…({} bytes in all)", &text[..cut], text.len()).into()
}

/// The code recorded as the county of city-wide files.
const CITY: &str = "3508";

async fn ingest_file(
    path: &Path,
    hash: PendingHash,
    options: &Options,
    lake: &Lake,
    received: &mut Received,
    entry: &mut FileReport,
) -> Result<()> {
    refuse_link(path)?;
    let Some(format) = read::format(path) else {
        entry.message = Some(format!(
            "not a return (unionstat reads {})",
            read::RETURN_EXTENSIONS
        ));
        return Ok(());
    };
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().to_string());
    if format == Format::Csv
        && options.overrides.table.is_none()
        && let Some(table) = reference::by_stem(&stem)
    {
        return ingest_reference(path, hash, table, options, lake, received, entry).await;
    }
    if format == Format::Features {
        let features = read::features::read(path, options.source_crs)?;
        if features.are_boundaries() {
            return ingest_boundaries(path, hash, features, options, lake, received, entry).await;
        }
    }
    ingest_fact_return(path, hash, options, lake, received, entry).await
}

/// The content hash of a file, still being computed.
type PendingHash = tokio::sync::oneshot::Receiver<Result<String>>;

/// The content hashes of `files`, computed in order on a thread of their own: hashing the next
/// file overlaps loading this one.
fn hash_ahead(files: &[PathBuf]) -> Vec<PendingHash> {
    let (senders, receivers): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|_| tokio::sync::oneshot::channel())
        .unzip();
    let files = files.to_vec();
    std::thread::spawn(move || {
        for (path, sender) in files.iter().zip(senders) {
            // Nobody waits for this hash: the file was skipped or rejected before it was needed,
            // or the ingest stopped. The files after it still need theirs.
            if !sender.is_closed() {
                let _ = sender.send(content_hash(path));
            }
        }
    });
    receivers
}

/// Refuses a return that is a symbolic link: it could make ingest read (even hash, ahead of
/// the file's turn), and its messages quote, a file outside the returns, or a device that
/// never ends.
fn refuse_link(path: &Path) -> Result<()> {
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(Error::Usage(
            "is a symbolic link, and returns are read only as regular files; \
             copy the return itself here"
                .into(),
        ));
    }
    Ok(())
}

/// The content hash of a file, once computed.
async fn wait_for(hash: PendingHash) -> Result<String> {
    hash.await
        .map_err(|_| Error::Usage("hashing the file stopped unexpectedly".into()))?
}

/// The BLAKE3 hash of a file, read in blocks: a cryptographic hash several times faster than
/// SHA-256, which matters on the first file, whose hash is awaited before anything is read.
fn content_hash(path: &Path) -> Result<String> {
    refuse_link(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(&mut file)
        .map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// A return received before is not applied again: re-running ingest over a folder of returns
/// must not replay a county's earlier versions over its corrections. True when `entry` is done.
fn received_before(
    received: &Received,
    key: &(String, String, i32),
    hash: &str,
    options: &Options,
    entry: &mut FileReport,
) -> bool {
    if options.dry_run {
        return false;
    }
    let seen = received.get(key).map_or(&[][..], Vec::as_slice);
    let Some(position) = seen.iter().position(|h| h == hash) else {
        return false;
    };
    entry.outcome = Outcome::Unchanged;
    entry.message = Some(if position == 0 {
        "identical to the return already loaded; nothing to do".into()
    } else {
        "received before and since replaced by a later return; nothing to do".into()
    });
    true
}

/// What a return's rows came to, for its report and `submissions` row.
struct Counts {
    rows_read: usize,
    rows_good: usize,
    rows_bad: usize,
}

/// Sets the outcome of `entry` from the counts; true when the return is over the threshold.
fn judge(entry: &mut FileReport, counts: &Counts, threshold: f64) -> bool {
    let Counts {
        rows_read,
        rows_good,
        rows_bad,
    } = *counts;
    let too_many = rows_read > 0 && rows_bad as f64 / rows_read as f64 > threshold;
    entry.rows_read = rows_read;
    entry.rows_quarantined = rows_bad;
    entry.rows_loaded = if too_many { 0 } else { rows_good };
    entry.outcome = if too_many {
        entry.message = Some(format!(
            "{rows_bad} of {rows_read} rows are bad, more than the threshold of {:.0}%: the whole return is rejected; correct it and send it again",
            threshold * 100.0
        ));
        Outcome::Rejected
    } else if rows_bad > 0 {
        Outcome::Partial
    } else {
        Outcome::Loaded
    };
    too_many
}

/// One submission, identified.
struct Submission<'a> {
    id: String,
    table: &'a str,
    county: &'a str,
    period: i32,
    content_hash: String,
    ingested_at: i64,
}

impl<'a> Submission<'a> {
    fn new(table: &'a str, county: &'a str, period: i32, content_hash: String) -> Self {
        let ingested_at = now_micros();
        Submission {
            id: format!(
                "{table}-{county}-{period}-{ingested_at}-{}",
                &content_hash[..8]
            ),
            table,
            county,
            period,
            content_hash,
            ingested_at,
        }
    }

    fn key(&self) -> (String, String, i32) {
        (self.table.to_string(), self.county.to_string(), self.period)
    }

    /// Records the submission: commits its facts (when written), then its quarantined rows, its
    /// `submissions` row and its approval, all or none (see [`crate::publish`]).
    #[allow(
        clippy::too_many_arguments,
        reason = "where the rows came from, what became of them and the run's running state are separate things"
    )]
    async fn record(
        self,
        lake: &Lake,
        path: &Path,
        sheet: Option<&str>,
        rejected: &[(Finding, String)],
        facts: Facts,
        options: &Options,
        received: &mut Received,
        entry: &mut FileReport,
    ) -> Result<()> {
        let source_file = path.to_string_lossy();
        let quarantine = if rejected.is_empty() {
            None
        } else {
            Some(quarantine_batch(rejected, &self, &source_file, sheet)?)
        };
        let file_name = path.file_name().map_or_else(
            || source_file.to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        let (written, committed) = match facts {
            Facts::Written(w) => (Some(w), None),
            Facts::Committed(v) => (None, Some(v)),
            Facts::Nothing => (None, None),
        };
        let applied = written.is_some() || committed.is_some();
        let submission = SubmissionRecord {
            submission_id: self.id.clone(),
            table_name: self.table.to_string(),
            county_code: self.county.to_string(),
            period: self.period,
            source_file: file_name.clone(),
            content_hash: self.content_hash.clone(),
            outcome: match entry.outcome {
                Outcome::Rejected => "rejected",
                Outcome::Partial => "partial",
                _ => "loaded",
            }
            .to_string(),
            rows_read: entry.rows_read,
            rows_loaded: entry.rows_loaded,
            rows_quarantined: entry.rows_quarantined,
            table_version: committed,
            ingested_at: self.ingested_at,
        };
        let event = EventRecord {
            submission_id: self.id.clone(),
            table_name: self.table.to_string(),
            county_code: self.county.to_string(),
            period: self.period,
            state: if applied { "approved" } else { "refused" }.to_string(),
            actor: options.actor.clone(),
            at: self.ingested_at,
            comment: entry.message.clone(),
            source_file: file_name,
            rows_read: entry.rows_read,
            rows_loaded: entry.rows_loaded,
            rows_quarantined: entry.rows_quarantined,
            table_version: committed,
        };
        let records = crate::publish::Records { submission, event };
        crate::publish::publish(lake, written, quarantine, records).await?;
        if applied {
            received
                .entry(self.key())
                .or_default()
                .insert(0, self.content_hash);
        }
        entry.submission_id = Some(self.id);
        Ok(())
    }
}

/// A return's facts, as [`Submission::record`] finds them.
enum Facts {
    /// Written, to be committed with the rest of the return.
    Written(Written),
    /// Already committed, at this version.
    Committed(i64),
    /// None: the return was refused.
    Nothing,
}

async fn ingest_reference(
    path: &Path,
    hash: PendingHash,
    table: &ReferenceTable,
    options: &Options,
    lake: &Lake,
    received: &mut Received,
    entry: &mut FileReport,
) -> Result<()> {
    entry.table = Some(table.name.to_string());
    let submission = Submission::new(table.name, CITY, NO_PERIOD, wait_for(hash).await?);
    if received_before(
        received,
        &submission.key(),
        &submission.content_hash,
        options,
        entry,
    ) {
        return Ok(());
    }
    let raw = read::csv::read_whole(path)?;
    let batch = table.batch(&raw)?;
    judge(
        entry,
        &Counts {
            rows_read: raw.rows.len(),
            rows_good: batch.num_rows(),
            rows_bad: 0,
        },
        options.error_threshold,
    );
    if options.dry_run {
        return Ok(());
    }
    let version = lake
        .replace(table.name, vec![batch], None, &[], &submission.id)
        .await?;
    submission
        .record(
            lake,
            path,
            None,
            &[],
            Facts::Committed(version),
            options,
            received,
            entry,
        )
        .await
}

async fn ingest_boundaries(
    path: &Path,
    hash: PendingHash,
    features: read::features::Features,
    options: &Options,
    lake: &Lake,
    received: &mut Received,
    entry: &mut FileReport,
) -> Result<()> {
    entry.table = Some(regions::REGIONS.to_string());
    let path_text = path.to_string_lossy().to_string();
    let county = match &options.overrides.county {
        Some(c) => Some(
            identify::county_code(c)
                .ok_or_else(|| Error::Usage(format!("--county {c}: not a county of Longyan")))?,
        ),
        None => identify::county_in_text(&path_text),
    };
    let hash = wait_for(hash).await?;
    let ingested_at = now_micros();
    let submission_id = format!("regions-{ingested_at}-{}", &hash[..8]);
    let boundaries = regions::from_features(
        &features,
        county,
        &regions::Lineage {
            submission_id: &submission_id,
            source_file: &path_text,
            ingested_at,
        },
    )?;
    let county = boundaries
        .county_code
        .clone()
        .unwrap_or_else(|| CITY.to_string());
    entry.county_code = Some(county.clone());
    let mut submission = Submission::new(regions::REGIONS, &county, NO_PERIOD, hash);
    submission.id = submission_id;
    submission.ingested_at = ingested_at;
    if received_before(
        received,
        &submission.key(),
        &submission.content_hash,
        options,
        entry,
    ) {
        return Ok(());
    }
    entry.errors = boundaries.rejected.iter().map(|(f, _)| f.clone()).collect();
    let too_many = judge(
        entry,
        &Counts {
            rows_read: features.records.len(),
            rows_good: boundaries.batch.num_rows(),
            rows_bad: boundaries.rejected.len(),
        },
        options.error_threshold,
    );
    if options.dry_run {
        return Ok(());
    }
    let facts = if too_many || boundaries.codes.is_empty() {
        Facts::Nothing
    } else {
        let predicate = regions::replace_predicate(&boundaries.codes);
        Facts::Committed(
            lake.replace(
                regions::REGIONS,
                vec![boundaries.batch],
                Some(predicate),
                &[],
                &submission.id,
            )
            .await?,
        )
    };
    submission
        .record(
            lake,
            path,
            None,
            &boundaries.rejected,
            facts,
            options,
            received,
            entry,
        )
        .await
}

async fn ingest_fact_return(
    path: &Path,
    hash: PendingHash,
    options: &Options,
    lake: &Lake,
    received: &mut Received,
    entry: &mut FileReport,
) -> Result<()> {
    let named = options.overrides.table.as_deref().map(|t| {
        unionstat_tables::contract(t).ok_or_else(|| {
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
    let mut chunks = read::open(path, named, &options.header_mapping, options.source_crs)?;
    let first = chunks.next().unwrap_or_else(|| {
        Err(Error::Parse {
            path: path.to_path_buf(),
            message: "the file is empty".into(),
        })
    })?;
    let Some(contract) =
        named.or_else(|| table_from_headers(&first.headers, &options.header_mapping))
    else {
        entry.message =
            Some("not a return of a known table: its name and headers match none".into());
        return Ok(());
    };
    entry.table = Some(contract.spec.name.to_string());

    let path_text = path.to_string_lossy();
    let county = match &options.overrides.county {
        Some(c) => identify::county_code(c).ok_or_else(|| Error::Usage(format!("--county {c}: not a county of Longyan")))?,
        None => identify::county_in_text(&path_text)
            .or_else(|| identify::county_in_text(&first.title))
            .or_else(|| options.sender_county.as_deref().and_then(identify::county_code))
            .ok_or_else(|| {
                Error::Usage("cannot tell which county sent this return: name the county in the file or folder name, or give --county".into())
            })?,
    };
    if let Some(sender) = &options.sender_county
        && sender != county
    {
        return Err(Error::Usage(format!(
            "the return is for county {county}, and this account sends the returns of {sender} only; \
             upload it from an account of {county}, or correct the county in the file's name or title"
        )));
    }
    entry.county_code = Some(county.to_string());
    let columns = resolve_columns(contract, &first, &options.header_mapping)?;
    let period = match options
        .overrides
        .period
        .or_else(|| identify::year_in_name(path))
        .or_else(|| year_from_column(contract, &first, &columns))
    {
        Some(p) => p,
        None => return Err(Error::Usage(
            "cannot tell the return's year: put it in the file name (…_2017.xlsx) or give --period"
                .into(),
        )),
    };
    entry.period = Some(period);

    let submission = Submission::new(contract.spec.name, county, period, wait_for(hash).await?);
    if received_before(
        received,
        &submission.key(),
        &submission.content_hash,
        options,
        entry,
    ) {
        return Ok(());
    }
    let hash_key = options.hash_key.clone().ok_or_else(|| {
        Error::Usage("no key for hashing ID numbers: set UNIONSTAT_ID_HASH_KEY".into())
    })?;
    let sheet = first.sheet.clone();
    let ret = FactReturn {
        contract,
        columns,
        ctx: Context {
            county_code: county,
            period,
            key: hash_key,
            default_crs: options.source_crs,
            submission_id: submission.id.clone(),
            source_file: path_text.to_string(),
            ingested_at: submission.ingested_at,
        },
        error_threshold: options.error_threshold,
    };
    let target = (!options.dry_run).then_some(lake);
    let chunks: read::Chunks = Box::new(std::iter::once(Ok(first)).chain(chunks));
    // The files are committed with the rest of the return, in `record`, which retries the
    // commit when another writer committed first.
    let (tally, written) = facts::load(ret, chunks, target, options.progress.clone()).await?;
    entry.errors = tally.rejected.iter().map(|(f, _)| f.clone()).collect();
    entry.warnings = tally.warnings.clone();
    judge(
        entry,
        &Counts {
            rows_read: tally.rows_read,
            rows_good: tally.rows_good,
            rows_bad: tally.rows_bad,
        },
        options.error_threshold,
    );
    if options.dry_run {
        return Ok(());
    }
    submission
        .record(
            lake,
            path,
            sheet.as_deref(),
            &tally.rejected,
            written.map_or(Facts::Nothing, Facts::Written),
            options,
            received,
            entry,
        )
        .await
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
        match resolve(contract, header, mapping) {
            Some(c) => columns.push(c),
            None => {
                let key = header_key(header);
                let nearest = all_headers(contract)
                    .min_by_key(|h| edit_distance(&key, &header_key(h)))
                    .unwrap_or("");
                let column = resolve(contract, nearest, mapping)
                    .map_or("", |c| contract.spec.columns[c].name);
                let header = excerpt(header);
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
    let values = read::TextColumn::of(raw.columns[raw_col].as_ref()).ok()?;
    let mut counts: HashMap<i32, usize> = HashMap::new();
    for v in (0..raw.rows.len()).filter_map(|row| values.get(row)) {
        if let Some(y) = crate::normalise::integer(v) {
            *counts.entry(y as i32).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(y, n)| (*n, *y))
        .map(|(y, _)| y)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn quarantine_batch(
    rejected: &[(Finding, String)],
    submission: &Submission,
    file: &str,
    sheet: Option<&str>,
) -> Result<RecordBatch> {
    let n = rejected.len();
    let repeat = |s: &str| Arc::new(StringArray::from(vec![s; n])) as arrow::array::ArrayRef;
    let column = |f: &dyn Fn(&Finding, &String) -> String| {
        Arc::new(StringArray::from_iter_values(
            rejected.iter().map(|(a, b)| f(a, b)),
        )) as arrow::array::ArrayRef
    };
    Ok(RecordBatch::try_new(
        records::quarantine_schema(),
        vec![
            repeat(&submission.id),
            repeat(submission.table),
            repeat(submission.county),
            Arc::new(Int64Array::from(vec![i64::from(submission.period); n])),
            repeat(file),
            Arc::new(StringArray::from(vec![sheet; n])),
            Arc::new(Int64Array::from_iter_values(
                rejected.iter().map(|(f, _)| f.row as i64),
            )),
            column(&|f, _| f.column.clone()),
            column(&|f, _| excerpt(&f.header).into_owned()),
            column(&|f, _| excerpt(&f.value).into_owned()),
            column(&|f, _| f.rule.name()),
            column(&|f, _| f.rule.code().to_string()),
            column(&|f, _| f.rule.message_zh().to_string()),
            column(&|f, _| f.rule.message_en().to_string()),
            column(&|_, raw| excerpt(raw).into_owned()),
            Arc::new(
                TimestampMicrosecondArray::from(vec![submission.ingested_at; n])
                    .with_timezone("UTC"),
            ),
        ],
    )?)
}
