//! Publishing a return: its facts, its quarantined rows, its `submissions` row and its
//! `submission_events` row are four commits to four Delta tables, and a process killed between
//! them must not leave one without the others. Before the facts are committed, what the other
//! three will hold is written to a journal in `_system/pending/`; the journal is removed once all
//! four are in. Whoever next writes to the lake (an ingest, an upload, a review) first finishes
//! what a journal describes: when the facts commit landed, it adds whichever of the other rows
//! are missing; when it did not, it drops the journal, and nothing of the return is visible.
//! A rerun of the same returns then finds them applied, instead of quarantining their bad rows
//! twice.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;

use crate::lake::{self, Lake, Written};
use crate::records::{self, EventRecord, SubmissionRecord};
use crate::{Error, Result};

/// What a return adds besides its facts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Records {
    /// Its `submissions` row (its table version is filled in once committed).
    pub submission: SubmissionRecord,
    /// Its `submission_events` row.
    pub event: EventRecord,
}

/// A journal: the records, and where to look for the facts commit.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Journal {
    records: Records,
    /// Whether a facts commit belongs to this return.
    facts: bool,
    /// The version of the fact table before the commit, where the search for it starts.
    base_version: Option<i64>,
}

/// The journal folder of a lake on this machine.
fn pending_folder(lake: &Lake) -> Option<PathBuf> {
    lake.folder().map(|f| f.join("_system").join("pending"))
}

fn write_journal(
    folder: &Path,
    journal: &Journal,
    quarantine: Option<&RecordBatch>,
) -> Result<PathBuf> {
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let id = &journal.records.event.submission_id;
    if let Some(batch) = quarantine {
        let path = folder.join(format!("{id}.arrow"));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = arrow::ipc::writer::FileWriter::try_new(&file, &batch.schema())?;
        writer.write(batch)?;
        writer.finish()?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
    }
    // The journal itself last, written whole then renamed: a journal that exists is complete.
    let path = folder.join(format!("{id}.json"));
    let partial = folder.join(format!("{id}.json.partial"));
    let text = serde_json::to_vec_pretty(journal)
        .map_err(|e| Error::Usage(format!("cannot write the journal: {e}")))?;
    std::fs::write(&partial, text).map_err(|e| Error::io(&partial, e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

fn remove_journal(journal: &Path) {
    let _ = std::fs::remove_file(journal.with_extension("arrow"));
    let _ = std::fs::remove_file(journal);
}

/// Commits `written` (when given) and then adds `quarantine`, the `submissions` row and the
/// event of `records`, journalled so that a crash in between is finished by [`recover`].
/// Returns the fact table's new version.
pub async fn publish(
    lake: &Lake,
    written: Option<Written>,
    quarantine: Option<RecordBatch>,
    records: Records,
) -> Result<Option<i64>> {
    let base_version = match &written {
        Some(w) => lake.version(w.table()).await?,
        None => None,
    };
    let journal = Journal {
        records,
        facts: written.is_some(),
        base_version,
    };
    let journal_file = match pending_folder(lake) {
        Some(folder) => Some(write_journal(&folder, &journal, quarantine.as_ref())?),
        None => None,
    };
    let version = match written {
        Some(w) => Some(lake.commit_written(w).await?),
        None => None,
    };
    complete(lake, journal.records, quarantine, version).await?;
    if let Some(file) = journal_file {
        remove_journal(&file);
    }
    Ok(version)
}

/// Ends the process at once, as a power cut or `kill -9` would, after a return's facts (and
/// quarantine) are committed and before its `submissions` row, when `UNIONSTAT_CRASH_AFTER_FACTS`
/// names this lake's folder: the worst moment, after which a rerun without [`recover`] would load
/// the return again and quarantine its bad rows twice. How the tests prove that `recover` makes
/// such a lake whole (naming the lake keeps an upload's staging lake out of it); nothing else
/// sets it.
fn crash_point(lake: &Lake) {
    let Some(target) = std::env::var_os("UNIONSTAT_CRASH_AFTER_FACTS") else {
        return;
    };
    let here = lake.folder().and_then(|f| f.canonicalize().ok());
    if here.is_some() && here == Path::new(&target).canonicalize().ok() {
        tracing::error!("UNIONSTAT_CRASH_AFTER_FACTS names this lake: stopping between commits");
        std::process::abort();
    }
}

/// Adds whichever of a step's rows are not in the lake yet.
async fn complete(
    lake: &Lake,
    mut records: Records,
    quarantine: Option<RecordBatch>,
    version: Option<i64>,
) -> Result<()> {
    let id = records.event.submission_id.clone();
    let this = format!("submission_id = '{}'", id.replace('\'', "''"));
    if let Some(batch) = quarantine
        && batch.num_rows() > 0
        && !lake.any_row(lake::QUARANTINE, &this).await?
    {
        lake.append(lake::QUARANTINE, batch).await?;
    }
    if version.is_some() {
        crash_point(lake);
    }
    if !lake.any_row(lake::SUBMISSIONS, &this).await? {
        records.submission.table_version = version.or(records.submission.table_version);
        lake.append(lake::SUBMISSIONS, records.submission.to_batch()?)
            .await?;
    }
    let state = format!(
        "{this} AND state = '{}'",
        records.event.state.replace('\'', "''")
    );
    if !lake.any_row(lake::EVENTS, &state).await? {
        records.event.table_version = version.or(records.event.table_version);
        lake.append(lake::EVENTS, records.event.to_batch()?).await?;
    }
    Ok(())
}

/// Finishes or drops what journals left by an interrupted writer describe. Call it holding the
/// lake's write lock, before writing.
pub async fn recover(lake: &Lake) -> Result<()> {
    let Some(folder) = pending_folder(lake) else {
        return Ok(());
    };
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(());
    };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    journals.sort();
    for journal in journals {
        let text = std::fs::read(&journal).map_err(|e| Error::io(&journal, e))?;
        let Journal {
            records,
            facts,
            base_version,
        } = serde_json::from_slice(&text).map_err(|e| {
            Error::Usage(format!(
                "{}: an unreadable journal ({e}); move it aside and check the return it names",
                journal.display()
            ))
        })?;
        let id = records.event.submission_id.clone();
        let version = if facts {
            match lake
                .version_of(&records.event.table_name, &id, base_version)
                .await?
            {
                Some(v) => Some(v),
                None => {
                    tracing::warn!(submission = %id, "a return's facts were never committed; nothing of it is visible");
                    remove_journal(&journal);
                    continue;
                }
            }
        } else {
            None
        };
        let quarantine = read_quarantine(&journal.with_extension("arrow"))?;
        tracing::warn!(submission = %id, "finishing a return an interrupted writer left half recorded");
        complete(lake, records, quarantine, version).await?;
        remove_journal(&journal);
    }
    Ok(())
}

fn read_quarantine(path: &Path) -> Result<Option<RecordBatch>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let reader = arrow::ipc::reader::FileReader::try_new(file, None)?;
    let batches: Vec<RecordBatch> = reader.collect::<std::result::Result<_, _>>()?;
    if batches.is_empty() {
        return Ok(None);
    }
    Ok(Some(arrow::compute::concat_batches(
        &records::quarantine_schema(),
        &batches,
    )?))
}
