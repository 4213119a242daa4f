//! Returns sent through the browser (多级上报): a county's upload is validated by the same
//! ingest as `unionstat ingest`, into a staging lake of its own, not into the tables the
//! dashboard reads; the county submits it, the city approves it (publishing it exactly as an
//! ingest would) or returns it with a reason, and an approval can be withdrawn. Every step is a
//! row of the `submission_events` table.
//!
//! A submission lives in `<lake>/_system/submissions/<id>/`: `original/` (the file as uploaded,
//! kept for good), `staged/` (a lake holding its validated rows and its quarantine) and
//! `report.json` (what validation found, with cell references).

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use unionstat_tables::Contract;

use crate::lake::{self, Lake};
use crate::publish::{self, Records};
use crate::records::{self, EventRecord, SubmissionRecord};
use crate::report::{FileReport, Outcome};
use crate::run::{self, Options};
use crate::{Error, Result};

/// Where a submission is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Uploaded and validated; only its county sees it.
    Staged,
    /// The file itself was refused (unreadable, wrong county, too many bad rows, ...).
    Refused,
    /// Sent to the city for review.
    Submitted,
    /// Sent back by the city (退回), with a reason; the county uploads a correction.
    Returned,
    /// Approved and published: the dashboard counts it.
    Approved,
    /// An approval taken back: the table holds what it held before.
    Withdrawn,
}

impl State {
    /// The name stored in `submission_events`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Staged => "staged",
            State::Refused => "refused",
            State::Submitted => "submitted",
            State::Returned => "returned",
            State::Approved => "approved",
            State::Withdrawn => "withdrawn",
        }
    }

    fn parse(s: &str) -> Option<State> {
        [
            State::Staged,
            State::Refused,
            State::Submitted,
            State::Returned,
            State::Approved,
            State::Withdrawn,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// A step a person takes on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The county sends its staged return for review.
    Submit,
    /// The city approves a submitted return: it is published.
    Approve,
    /// The city sends a submitted return back, with a reason.
    Return,
    /// The city takes an approval back: the table returns to what it held before.
    Withdraw,
}

impl std::str::FromStr for Action {
    type Err = Error;
    fn from_str(s: &str) -> Result<Action> {
        match s {
            "submit" => Ok(Action::Submit),
            "approve" => Ok(Action::Approve),
            "return" => Ok(Action::Return),
            "withdraw" => Ok(Action::Withdraw),
            other => Err(Error::Workflow {
                kind: Refusal::NotFound,
                message: format!(
                    "no step `{other}`; the steps are submit, approve, return and withdraw"
                ),
            }),
        }
    }
}

/// Why a step was refused, so that the server can answer with the right status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such submission (or not one this account may see).
    NotFound,
    /// The account may not take this step.
    Forbidden,
    /// The submission is not in a state this step applies to.
    Conflict,
    /// The request itself is wrong (a missing reason, a file that is not a return).
    BadRequest,
}

/// Who takes a step.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account's name.
    pub name: String,
    /// The county of a county account; `None` for city-wide accounts.
    pub county: Option<String>,
    /// Whether the account reviews returns (city and admin accounts).
    pub reviewer: bool,
}

impl Actor {
    fn may_see(&self, county: &str) -> bool {
        self.county.as_deref().is_none_or(|c| c == county)
    }
}

/// A submission as it stands: its latest event, and when it was uploaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Submission {
    /// Its id.
    pub id: String,
    /// Its current state.
    pub state: State,
    /// Fact table ("" when the file was refused before its table was known).
    pub table: String,
    /// Reporting county.
    pub county_code: String,
    /// Reporting year (0 when unknown).
    pub period: i32,
    /// The file as uploaded.
    pub source_file: String,
    /// Data rows read.
    pub rows_read: usize,
    /// Rows that load.
    pub rows_loaded: usize,
    /// Rows quarantined.
    pub rows_quarantined: usize,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When, in microseconds since the epoch.
    pub uploaded_at: i64,
    /// Who took the latest step.
    pub actor: String,
    /// When.
    pub at: i64,
    /// The latest step's comment (a reviewer's reason, a refusal's cause).
    pub comment: Option<String>,
}

/// What validating an upload found, and where each error is (`报表!C12`), in the same order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Findings {
    /// The ingest's report of the file.
    pub report: FileReport,
    /// The cell of each of the report's errors.
    pub cells: Vec<String>,
}

/// The submissions of a lake, and the steps on them.
#[derive(Debug, Clone)]
pub struct Workflow {
    lake: Lake,
    folder: PathBuf,
    options: Options,
}

/// The largest upload accepted unless configured otherwise.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 200 << 20;

fn refused(kind: Refusal, message: impl Into<String>) -> Error {
    Error::Workflow {
        kind,
        message: message.into(),
    }
}

impl Workflow {
    /// The submissions of the lake of `options`, validated with its key, threshold and headers.
    /// The lake must be a folder on this machine.
    pub fn new(options: Options) -> Result<Self> {
        let lake = Lake::open(&options.lake)?;
        let folder = lake.folder().ok_or_else(|| {
            Error::Usage(
                "returns can be uploaded only to a lake in a folder on this machine".into(),
            )
        })?;
        Ok(Workflow {
            lake,
            folder,
            options,
        })
    }

    /// Finishes whatever a writer killed mid-step left (see [`publish::recover`]); a server calls
    /// it as it starts.
    pub async fn recover(&self) -> Result<()> {
        let _lock = self.lake.lock_for_ingest().await?;
        publish::recover(&self.lake).await
    }

    fn submissions_folder(&self) -> PathBuf {
        self.folder.join("_system").join("submissions")
    }

    /// The folder of submission `id`, refusing ids that are not ours.
    fn folder_of(&self, id: &str) -> Result<PathBuf> {
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let folder = self.submissions_folder().join(id);
        if !valid || !folder.is_dir() {
            return Err(refused(Refusal::NotFound, format!("no submission `{id}`")));
        }
        Ok(folder)
    }

    /// Validates an uploaded return into staging and records it as staged (or refused, with
    /// why). `table` and `period` are given when the file's name and contents do not say.
    pub async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        table: Option<String>,
        period: Option<i32>,
        actor: &Actor,
    ) -> Result<(Submission, FileReport)> {
        let name = safe_file_name(file_name)?;
        let incoming = self
            .submissions_folder()
            .join(format!(".incoming-{}", hex_id()));
        let original = incoming.join("original");
        std::fs::create_dir_all(&original).map_err(|e| Error::io(&original, e))?;
        let path = original.join(&name);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        let staged = incoming.join("staged");
        let mut options = self.options.clone();
        options.lake = staged.to_string_lossy().to_string();
        options.overrides.table = table;
        options.overrides.period = period;
        options.overrides.county = None;
        options.sender_county = actor.county.clone();
        options.actor = actor.name.clone();
        options.progress = None;
        options.dry_run = false;
        let mut report = match sniff(&name, bytes) {
            Err(why) => {
                let mut report = FileReport::new(&name);
                report.outcome = Outcome::Rejected;
                report.message = Some(why);
                report
            }
            Ok(()) => {
                let mut files = run::ingest(std::slice::from_ref(&path), &options)
                    .await?
                    .files;
                files.pop().unwrap_or_else(|| FileReport::new(&name))
            }
        };
        report.file = name.clone();
        let state = match report.outcome {
            Outcome::Loaded | Outcome::Partial => State::Staged,
            _ => State::Refused,
        };
        if state == State::Refused && report.message.is_none() {
            report.message =
                Some("not a return of a known table: its name and headers match none".into());
        }
        let at = now_micros();
        let id = report
            .submission_id
            .clone()
            .unwrap_or_else(|| format!("refused-{at}-{}", &hex_id()[..8]));
        report.submission_id = Some(id.clone());
        let contract = report.table.as_deref().and_then(unionstat_tables::contract);
        let cells = match crate::annotate::layout(&path, contract, &self.options.header_mapping) {
            Ok(layout) if !report.errors.is_empty() => {
                report.errors.iter().map(|f| layout.cell(f)).collect()
            }
            _ => Vec::new(),
        };
        let findings = Findings {
            report: report.clone(),
            cells,
        };
        let text = serde_json::to_vec_pretty(&findings)
            .map_err(|e| Error::Usage(format!("cannot write the report: {e}")))?;
        let report_path = incoming.join("report.json");
        std::fs::write(&report_path, text).map_err(|e| Error::io(&report_path, e))?;
        let folder = self.submissions_folder().join(&id);
        std::fs::rename(&incoming, &folder).map_err(|e| Error::io(&folder, e))?;
        let event = EventRecord {
            submission_id: id.clone(),
            table_name: report.table.clone().unwrap_or_default(),
            county_code: report
                .county_code
                .clone()
                .or_else(|| actor.county.clone())
                .unwrap_or_default(),
            period: report.period.unwrap_or(0),
            state: state.as_str().to_string(),
            actor: actor.name.clone(),
            at,
            comment: report.message.clone(),
            source_file: name,
            rows_read: report.rows_read,
            rows_loaded: report.rows_loaded,
            rows_quarantined: report.rows_quarantined,
            table_version: None,
        };
        self.lake.append(lake::EVENTS, event.to_batch()?).await?;
        let submission = self.get(&id, actor).await?;
        Ok((submission, report))
    }

    /// Every event of the lake, oldest first.
    async fn events(&self) -> Result<Vec<EventRecord>> {
        let Some(table) = self.lake.table(lake::EVENTS).await? else {
            return Ok(Vec::new());
        };
        let sql = "SELECT submission_id, table_name, county_code, period, state, actor, \
                   CAST(at AS BIGINT) AS at, comment, source_file, rows_read, rows_loaded, \
                   rows_quarantined, table_version FROM submission_events ORDER BY at, state";
        let batches = self.lake.select(&table, lake::EVENTS, sql).await?;
        let mut out = Vec::new();
        for b in batches {
            let text = |i: usize| -> Result<arrow::array::ArrayRef> {
                Ok(arrow::compute::cast(b.column(i), &DataType::Utf8)?)
            };
            let number = |i: usize| -> Result<arrow::array::ArrayRef> {
                Ok(arrow::compute::cast(b.column(i), &DataType::Int64)?)
            };
            let (id, table, county, period, state, actor, at, comment, file) = (
                text(0)?,
                text(1)?,
                text(2)?,
                number(3)?,
                text(4)?,
                text(5)?,
                number(6)?,
                text(7)?,
                text(8)?,
            );
            let (read, loaded, quarantined, version) =
                (number(9)?, number(10)?, number(11)?, number(12)?);
            let s =
                |a: &arrow::array::ArrayRef, r: usize| a.as_string::<i32>().value(r).to_string();
            let n = |a: &arrow::array::ArrayRef, r: usize| {
                a.as_primitive::<arrow::datatypes::Int64Type>().value(r)
            };
            for r in 0..b.num_rows() {
                out.push(EventRecord {
                    submission_id: s(&id, r),
                    table_name: s(&table, r),
                    county_code: s(&county, r),
                    period: n(&period, r) as i32,
                    state: s(&state, r),
                    actor: s(&actor, r),
                    at: n(&at, r),
                    comment: (!comment.is_null(r)).then(|| s(&comment, r)),
                    source_file: s(&file, r),
                    rows_read: n(&read, r) as usize,
                    rows_loaded: n(&loaded, r) as usize,
                    rows_quarantined: n(&quarantined, r) as usize,
                    table_version: (!version.is_null(r)).then(|| n(&version, r)),
                });
            }
        }
        Ok(out)
    }

    /// The submissions `actor` may see (a county account: its county's), newest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Submission>> {
        let events = self.events().await?;
        Ok(summarise(&events)
            .into_iter()
            .filter(|s| actor.may_see(&s.county_code))
            .collect())
    }

    /// Submission `id`, if `actor` may see it.
    pub async fn get(&self, id: &str, actor: &Actor) -> Result<Submission> {
        self.list(actor)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| refused(Refusal::NotFound, format!("no submission `{id}`")))
    }

    /// The steps submission `id` has been through, oldest first.
    pub async fn history(&self, id: &str, actor: &Actor) -> Result<Vec<EventRecord>> {
        self.get(id, actor).await?;
        Ok(self
            .events()
            .await?
            .into_iter()
            .filter(|e| e.submission_id == id)
            .collect())
    }

    /// What validating submission `id` found.
    pub async fn report(&self, id: &str, actor: &Actor) -> Result<Findings> {
        self.get(id, actor).await?;
        let path = self.folder_of(id)?.join("report.json");
        let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_slice(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
    }

    /// Submission `id`'s file as a workbook with its bad cells marked.
    pub async fn annotated(&self, id: &str, actor: &Actor) -> Result<Vec<u8>> {
        let findings = self.report(id, actor).await?;
        let path = self.original(id, actor).await?;
        let contract = findings
            .report
            .table
            .as_deref()
            .and_then(unionstat_tables::contract);
        crate::annotate::annotated(
            &path,
            contract,
            &self.options.header_mapping,
            &findings.report.errors,
        )
    }

    /// The file of submission `id` as uploaded.
    pub async fn original(&self, id: &str, actor: &Actor) -> Result<PathBuf> {
        self.get(id, actor).await?;
        let folder = self.folder_of(id)?.join("original");
        std::fs::read_dir(&folder)
            .map_err(|e| Error::io(&folder, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .next()
            .ok_or_else(|| refused(Refusal::NotFound, format!("submission `{id}` has no file")))
    }

    /// The staging lake of submission `id`.
    fn staged(&self, id: &str) -> Result<Lake> {
        Lake::open(&self.folder_of(id)?.join("staged").to_string_lossy())
    }

    /// Row count and the sum of every numeric column of submission `id`'s staged rows, and of
    /// the rows its table holds now for the same county and year: what the review compares.
    pub async fn totals(&self, id: &str, actor: &Actor) -> Result<serde_json::Value> {
        let s = self.get(id, actor).await?;
        let Some(contract) = unionstat_tables::contract(&s.table) else {
            return Ok(serde_json::Value::Null);
        };
        let staged = totals(&self.staged(id)?, contract, s.period, &s.county_code).await?;
        let current = totals(&self.lake, contract, s.period, &s.county_code).await?;
        Ok(serde_json::json!({"staged": staged, "published": current}))
    }

    /// Takes step `action` on submission `id` as `actor`; `comment` is required to return one.
    /// Steps are taken one at a time per lake, under the ingest lock, after finishing whatever
    /// an interrupted step left.
    pub async fn act(
        &self,
        id: &str,
        action: Action,
        actor: &Actor,
        comment: Option<String>,
    ) -> Result<Submission> {
        let _lock = self.lake.lock_for_ingest().await?;
        publish::recover(&self.lake).await?;
        let events = self.events().await?;
        let all = summarise(&events);
        let current = all
            .iter()
            .find(|s| s.id == id && actor.may_see(&s.county_code))
            .ok_or_else(|| refused(Refusal::NotFound, format!("no submission `{id}`")))?;
        let (from, to) = match action {
            Action::Submit => (&[State::Staged][..], State::Submitted),
            Action::Approve => (&[State::Submitted][..], State::Approved),
            Action::Return => (&[State::Submitted][..], State::Returned),
            Action::Withdraw => (&[State::Approved][..], State::Withdrawn),
        };
        if action != Action::Submit && !actor.reviewer {
            return Err(refused(
                Refusal::Forbidden,
                "only city and admin accounts review returns",
            ));
        }
        if !from.contains(&current.state) {
            return Err(refused(
                Refusal::Conflict,
                format!(
                    "submission `{id}` is {}; `{}` applies to a {} submission",
                    current.state.as_str(),
                    action_name(action),
                    from[0].as_str()
                ),
            ));
        }
        let comment = comment.filter(|c| !c.trim().is_empty());
        if action == Action::Return && comment.is_none() {
            return Err(refused(
                Refusal::BadRequest,
                "give the reason for returning it, so that the county knows what to correct",
            ));
        }
        let mut event = EventRecord {
            submission_id: id.to_string(),
            table_name: current.table.clone(),
            county_code: current.county_code.clone(),
            period: current.period,
            state: to.as_str().to_string(),
            actor: actor.name.clone(),
            at: now_micros(),
            comment,
            source_file: current.source_file.clone(),
            rows_read: current.rows_read,
            rows_loaded: current.rows_loaded,
            rows_quarantined: current.rows_quarantined,
            table_version: None,
        };
        match action {
            Action::Submit | Action::Return => {
                self.lake.append(lake::EVENTS, event.to_batch()?).await?;
            }
            Action::Approve => self.approve(current, event).await?,
            Action::Withdraw => {
                let approval = events
                    .iter()
                    .rev()
                    .find(|e| e.submission_id == id && e.state == State::Approved.as_str())
                    .and_then(|e| e.table_version);
                let later = all.iter().any(|s| {
                    s.id != id
                        && s.state == State::Approved
                        && (&s.table, &s.county_code, s.period)
                            == (&current.table, &current.county_code, current.period)
                        && s.at > current.at
                });
                let Some(approved_version) = approval.filter(|_| !later) else {
                    return Err(refused(
                        Refusal::Conflict,
                        "a later return for the same table, county and year has been approved since; withdraw that one instead",
                    ));
                };
                let written = self
                    .lake
                    .restore_partition(
                        &current.table,
                        current.period,
                        &current.county_code,
                        approved_version - 1,
                        id,
                    )
                    .await?;
                event.table_version = Some(written);
                self.lake.append(lake::EVENTS, event.to_batch()?).await?;
            }
        }
        self.get(id, actor).await
    }

    /// Publishes a submission's staged rows, quarantine and `submissions` row as `unionstat
    /// ingest` does: the rows replace the (year, county) partition in one commit.
    async fn approve(&self, current: &Submission, event: EventRecord) -> Result<()> {
        let staged = self.staged(&current.id)?;
        let contract = unionstat_tables::contract(&current.table).ok_or_else(|| {
            refused(
                Refusal::Conflict,
                format!("`{}` is not a fact table", current.table),
            )
        })?;
        let written = copy_partition(&staged, &self.lake, contract, current).await?;
        let quarantine = match staged.table(lake::QUARANTINE).await? {
            None => None,
            Some(t) => {
                let batches = staged
                    .select(&t, lake::QUARANTINE, "SELECT * FROM quarantine")
                    .await?;
                let schema = records::quarantine_schema();
                let batches: Vec<RecordBatch> = batches
                    .iter()
                    .map(|b| conform(b, &schema))
                    .collect::<Result<_>>()?;
                Some(arrow::compute::concat_batches(&schema, &batches)?)
            }
        };
        let content_hash = self.original_hash(&current.id);
        let submission = SubmissionRecord {
            submission_id: current.id.clone(),
            table_name: current.table.clone(),
            county_code: current.county_code.clone(),
            period: current.period,
            source_file: current.source_file.clone(),
            content_hash: content_hash.unwrap_or_default(),
            outcome: if current.rows_quarantined > 0 {
                "partial"
            } else {
                "loaded"
            }
            .to_string(),
            rows_read: current.rows_read,
            rows_loaded: current.rows_loaded,
            rows_quarantined: current.rows_quarantined,
            table_version: None,
            ingested_at: event.at,
        };
        let records = Records { submission, event };
        publish::publish(&self.lake, Some(written), quarantine, records).await?;
        Ok(())
    }

    fn original_hash(&self, id: &str) -> Option<String> {
        let folder = self.folder_of(id).ok()?.join("original");
        let path = std::fs::read_dir(folder).ok()?.next()?.ok()?.path();
        let bytes = std::fs::read(path).ok()?;
        Some(blake3::hash(&bytes).to_hex().to_string())
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Submit => "submit",
        Action::Approve => "approve",
        Action::Return => "return",
        Action::Withdraw => "withdraw",
    }
}

/// The latest state of each submission, newest upload first.
fn summarise(events: &[EventRecord]) -> Vec<Submission> {
    let mut by_id: indexmap::IndexMap<&str, Submission> = indexmap::IndexMap::new();
    for e in events {
        let Some(state) = State::parse(&e.state) else {
            continue;
        };
        let entry = by_id
            .entry(e.submission_id.as_str())
            .or_insert_with(|| Submission {
                id: e.submission_id.clone(),
                state,
                table: e.table_name.clone(),
                county_code: e.county_code.clone(),
                period: e.period,
                source_file: e.source_file.clone(),
                rows_read: e.rows_read,
                rows_loaded: e.rows_loaded,
                rows_quarantined: e.rows_quarantined,
                uploaded_by: e.actor.clone(),
                uploaded_at: e.at,
                actor: e.actor.clone(),
                at: e.at,
                comment: e.comment.clone(),
            });
        entry.state = state;
        entry.actor = e.actor.clone();
        entry.at = e.at;
        entry.comment = e.comment.clone();
    }
    let mut out: Vec<Submission> = by_id.into_values().collect();
    out.sort_by(|a, b| b.uploaded_at.cmp(&a.uploaded_at).then(b.id.cmp(&a.id)));
    out
}

/// Copies the staged files of a submission into the lake's table, as files not yet committed.
async fn copy_partition(
    staged: &Lake,
    lake: &Lake,
    contract: &'static Contract,
    s: &Submission,
) -> Result<lake::Written> {
    let name = contract.spec.name;
    let from = staged
        .folder()
        .ok_or_else(|| Error::Usage("staging is not a folder".into()))?;
    let to = lake
        .folder()
        .ok_or_else(|| Error::Usage("the lake is not a folder".into()))?;
    let files = staged
        .partition_adds(name, s.period, &s.county_code)
        .await?;
    lake.ensure_fact_table(contract).await?;
    for add in &files {
        let relative = percent_decode(&add.path);
        let source = from.join(name).join(&relative);
        let target = to.join(name).join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(&source, &target).map_err(|e| Error::io(&source, e))?;
    }
    Ok(lake::Written::new(
        name,
        files,
        s.period,
        &s.county_code,
        &s.id,
    ))
}

/// A Delta log path with its `%XX` escapes decoded.
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `batch` with the columns and types of `schema` (DataFusion may hand back dictionary-encoded
/// or differently nullable columns).
fn conform(batch: &RecordBatch, schema: &arrow::datatypes::SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let column = batch.column_by_name(f.name()).ok_or_else(|| {
                Error::Usage(format!("the staged rows have no column {}", f.name()))
            })?;
            Ok(arrow::compute::cast(column, f.data_type())?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Row count and the sum of each numeric column of `contract`'s rows for (`period`, `county`).
async fn totals(
    lake: &Lake,
    contract: &Contract,
    period: i32,
    county: &str,
) -> Result<serde_json::Value> {
    let name = contract.spec.name;
    let Some(table) = lake.table(name).await? else {
        return Ok(serde_json::json!({"rows": 0}));
    };
    let numeric: Vec<String> = contract
        .spec
        .columns
        .iter()
        .filter(|c| c.kind.is_numeric() && c.name != "year")
        .map(Contract::lake_name)
        .collect();
    let mut select = vec![r#"count(*) AS "rows""#.to_string()];
    select.extend(
        numeric
            .iter()
            .map(|c| format!(r#"CAST(sum("{c}") AS DOUBLE) AS "{c}""#)),
    );
    let county = county.replace('\'', "''");
    let sql = format!(
        "SELECT {} FROM {name} WHERE year = {period} AND county_code = '{county}'",
        select.join(", ")
    );
    let batches = lake.select(&table, name, &sql).await?;
    let mut out = serde_json::Map::new();
    if let Some(b) = batches.iter().find(|b| b.num_rows() > 0) {
        for (i, field) in b.schema().fields().iter().enumerate() {
            let value = arrow::compute::cast(b.column(i), &DataType::Float64)?;
            let value = value.as_primitive::<arrow::datatypes::Float64Type>();
            let value = if value.is_null(0) {
                0.0
            } else {
                value.value(0)
            };
            // The row count is a count; the sums are amounts and counts of people.
            let value = if field.name() == "rows" {
                serde_json::Value::from(value as i64)
            } else {
                serde_json::Value::from(value)
            };
            out.insert(field.name().clone(), value);
        }
    }
    Ok(serde_json::Value::Object(out))
}

/// The name an upload is stored under: its last path component, not hidden, of sensible length.
fn safe_file_name(name: &str) -> Result<String> {
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches('.');
    if last.is_empty() || last.len() > 255 || last.chars().any(char::is_control) {
        return Err(refused(
            Refusal::BadRequest,
            "the upload has no usable file name; name the file as the county sends it, e.g. 350803永定区_基层工会组织情况_2017.xlsx",
        ));
    }
    Ok(last.to_string())
}

/// Refuses a file whose contents are not what its name says: a workbook that is not a zip (or
/// an old Excel file), text that holds NUL bytes, Parquet without its magic.
fn sniff(name: &str, bytes: &[u8]) -> std::result::Result<(), String> {
    let extension = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let fine = match extension.as_str() {
        "xlsx" => starts(b"PK\x03\x04"),
        "xls" => starts(&[0xD0, 0xCF, 0x11, 0xE0]) || starts(b"PK\x03\x04"),
        "parquet" => starts(b"PAR1"),
        "csv" | "txt" | "json" | "geojson" => {
            !bytes[..bytes.len().min(64 << 10)].contains(&0) && !starts(b"PK\x03\x04")
        }
        _ => true,
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "the file is named .{extension} but its contents are not a .{extension} file; \
             save it again from Excel (or as CSV) and upload that"
        ))
    }
}

fn hex_id() -> String {
    let mut bytes = [0u8; 8];
    // Only names a folder for the moment of an upload; the time keeps it unique if this fails.
    if getrandom_fill(&mut bytes).is_err() {
        bytes = now_micros().to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn getrandom_fill(bytes: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")?.read_exact(bytes)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
