//! A fact-table return validated chunk by chunk while its good rows stream into the lake: the next
//! chunk is read on one thread while the chunks before it are checked in parallel, one per core,
//! and finished in order; the Delta write consumes the batches as they come, and its files are
//! handed back for the caller to commit (with the rest of the return, see [`crate::publish`]) only
//! when the whole return has been read and is under the error threshold. Memory holds a few
//! chunks, whatever the size of the file.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use crate::lake::{self, BatchSender, Lake, Written};
use crate::read::Chunks;
use crate::run::Progress;
use crate::validate::{self, AcrossChunks, Checked, Context, Finding};
use crate::{Error, Result};
use unionstat_tables::Contract;

/// What validating a whole return found.
#[derive(Debug, Default)]
pub struct Tally {
    /// Data rows read.
    pub rows_read: usize,
    /// Rows that passed.
    pub rows_good: usize,
    /// Distinct rows quarantined.
    pub rows_bad: usize,
    /// Findings of the rejected rows, with their raw values.
    pub rejected: Vec<(Finding, String)>,
    /// Rows loaded with a warning.
    pub warnings: Vec<Finding>,
    /// More bad rows than the threshold allows: nothing of the return loads.
    pub over_threshold: bool,
}

/// One return to validate (and load).
#[derive(Debug, Clone)]
pub struct FactReturn {
    /// Its table.
    pub contract: &'static Contract,
    /// For each raw column, the contract column it carries.
    pub columns: Vec<usize>,
    /// County, period, key, lineage.
    pub ctx: Context,
    /// Share of bad rows above which the return is rejected.
    pub error_threshold: f64,
}

/// Validates every chunk of the return; when `lake` is given, streams the good rows into files
/// of its (year, county) partition, to be committed by the caller (see [`Lake::commit_written`])
/// unless the return is over the threshold. Returns the tally and the files (`None` when there
/// is nothing to commit).
pub async fn load(
    ret: FactReturn,
    chunks: Chunks,
    lake: Option<&Lake>,
    progress: Option<Arc<dyn Progress>>,
) -> Result<(Tally, Option<Written>)> {
    let chunks = read_ahead(chunks);
    let Some(lake) = lake else {
        let tally = tokio::task::spawn_blocking(move || validate_all(&ret, chunks, None, progress))
            .await
            .map_err(|e| Error::Usage(format!("validation stopped: {e}")))??;
        return Ok((tally, None));
    };
    let (sender, write) = lake.write_return_streaming(
        ret.contract.spec.name,
        ret.contract.lake_schema(),
        lake::writer_properties(ret.contract),
        ret.ctx.period,
        ret.ctx.county_code,
        &ret.ctx.submission_id,
    )?;
    let producer =
        tokio::task::spawn_blocking(move || validate_all(&ret, chunks, Some(sender), progress));
    let written = write.await;
    let tally = producer
        .await
        .map_err(|e| Error::Usage(format!("validation stopped: {e}")))??;
    if tally.over_threshold {
        return Ok((tally, None));
    }
    Ok((tally, Some(written?)))
}

/// The chunks, read and parsed on a thread of their own one chunk ahead, so that reading the
/// next chunk overlaps validating this one.
fn read_ahead(chunks: Chunks) -> Chunks {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        for chunk in chunks {
            // The validator stopped (an error, or too many bad rows): read no further.
            if sender.send(chunk).is_err() {
                break;
            }
        }
    });
    Box::new(receiver.into_iter())
}

/// Reads chunk after chunk, checks them in parallel and finishes them in order, sending good rows
/// to `sender`. A read error, or too many bad rows at the end, is sent as an error so that the
/// write is abandoned.
fn validate_all(
    ret: &FactReturn,
    chunks: Chunks,
    sender: Option<BatchSender>,
    progress: Option<Arc<dyn Progress>>,
) -> Result<Tally> {
    let abandon = |why: String| {
        if let Some(s) = &sender {
            // The writer may have stopped already; then there is no one to tell.
            let _ = s.blocking_send(Err(why));
        }
    };
    let mut across = AcrossChunks::default();
    let mut tally = Tally::default();
    let mut last_bad_row = None;
    let mut write_stopped = false;
    check_in_order(ret, chunks, |checked| {
        let validated = checked
            .and_then(|checked| {
                validate::finish(ret.contract, checked, &ret.columns, &ret.ctx, &mut across)
                    .map_err(Error::from)
            })
            .inspect_err(|e| abandon(e.to_string()))?;
        tally.rows_read += validated.rows_read;
        tally.rows_good += validated.batch.num_rows();
        for (finding, _) in &validated.rejected {
            if last_bad_row != Some(finding.row) {
                tally.rows_bad += 1;
                last_bad_row = Some(finding.row);
            }
        }
        tally.rejected.extend(validated.rejected);
        tally.warnings.extend(validated.warnings);
        if let Some(p) = &progress {
            p.rows_read(validated.rows_read);
        }
        if let Some(s) = &sender
            && validated.batch.num_rows() > 0
            && s.blocking_send(Ok(validated.batch)).is_err()
        {
            write_stopped = true;
        }
        Ok(!write_stopped)
    })?;
    if write_stopped {
        // The write failed; its error is the one to report.
        return Ok(tally);
    }
    tally.over_threshold =
        tally.rows_read > 0 && tally.rows_bad as f64 / tally.rows_read as f64 > ret.error_threshold;
    if tally.over_threshold {
        abandon("too many bad rows: the return is rejected".into());
    }
    Ok(tally)
}

/// The threads that check chunks, one per core, kept for the whole run.
#[allow(
    clippy::expect_used,
    reason = "a process that cannot start threads cannot ingest anything either"
)]
static CHECKERS: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("unionstat-check-{i}"))
        .build()
        .expect("cannot start the threads that check returns")
});

/// Checks the chunks on [`CHECKERS`], one chunk per checker at a time, and hands each outcome to
/// `take` in the order of the chunks, until the chunks end or `take` answers false.
fn check_in_order(
    ret: &FactReturn,
    chunks: Chunks,
    mut take: impl FnMut(Result<Checked>) -> Result<bool>,
) -> Result<()> {
    let in_flight = CHECKERS.current_num_threads();
    let (done, outcomes) = std::sync::mpsc::channel();
    CHECKERS.in_place_scope(|scope| {
        let mut chunks = chunks.enumerate();
        // Outcomes that came before the one awaited, by chunk number.
        let mut early = BTreeMap::new();
        let (mut started, mut next) = (0, 0);
        loop {
            while started < next + in_flight
                && let Some((index, chunk)) = chunks.next()
            {
                let done = done.clone();
                scope.spawn(move |_| {
                    // A checker that panicked would otherwise leave its chunk awaited forever.
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        chunk.and_then(|raw| {
                            validate::check(ret.contract, raw, &ret.columns, &ret.ctx)
                                .map_err(Error::from)
                        })
                    }))
                    .unwrap_or_else(|_| {
                        Err(Error::Usage(format!(
                            "checking rows of chunk {} stopped unexpectedly",
                            index + 1
                        )))
                    });
                    // Nobody waits for it once `take` has stopped.
                    let _ = done.send((index, checked));
                });
                started += 1;
            }
            if next == started {
                return Ok(());
            }
            let checked = loop {
                if let Some(checked) = early.remove(&next) {
                    break checked;
                }
                let (index, checked) = outcomes
                    .recv()
                    .map_err(|_| Error::Usage("checking a chunk stopped unexpectedly".into()))?;
                early.insert(index, checked);
            };
            next += 1;
            if !take(checked)? {
                return Ok(());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{ArrayRef, StringArray};
    use unionstat_datasets::crs::Crs;

    use super::*;
    use crate::pii::HashKey;
    use crate::read::RawTable;

    const HEADERS: [&str; 9] = [
        "会员编号",
        "工会社会信用代码",
        "镇（街道、园区）",
        "性别",
        "出生年月",
        "身份证号码",
        "联系电话",
        "农民工",
        "入会日期",
    ];

    /// A chunk of member-registry rows with these member numbers, starting at line `first_line`.
    fn chunk(numbers: &[u64], first_line: u64) -> RawTable {
        let cells = |value: &dyn Fn(u64) -> String| {
            Arc::new(StringArray::from_iter_values(
                numbers.iter().map(|&n| value(n)),
            )) as ArrayRef
        };
        let columns = vec![
            cells(&|n| format!("HY350802{n:08}")),
            cells(&|_| "81350802957890599B".into()),
            cells(&|_| "东城街道".into()),
            cells(&|_| "女".into()),
            cells(&|_| "1971-03-24".into()),
            cells(&|_| "350802197103240823".into()),
            cells(&|_| "13637946826".into()),
            cells(&|_| "是".into()),
            cells(&|_| "2013-08-08".into()),
        ];
        let lines = (first_line..first_line + numbers.len() as u64).collect();
        RawTable::new(HEADERS.map(String::from).to_vec(), columns, lines)
    }

    /// Chunks finish checking in whatever order the threads take, but duplicates are judged in
    /// the order of the file: a member number repeated at the start of each chunk is rejected
    /// there, not at its first appearance at the end of the chunk before.
    #[test]
    fn chunks_checked_in_parallel_are_finished_in_file_order() {
        let contract = unionstat_tables::contract("members").expect("the member registry");
        let columns = HEADERS
            .iter()
            .map(|h| crate::headers::resolve(contract, h, &HashMap::new()).expect("a known header"))
            .collect();
        let ret = FactReturn {
            contract,
            columns,
            ctx: Context {
                county_code: "350802",
                period: 2017,
                key: HashKey::new(b"a key for this test only".to_vec()).expect("a key"),
                default_crs: Crs::Wgs84,
                submission_id: "members-350802-2017-test".into(),
                source_file: "350802新罗区_会员名册_2017.csv".into(),
                ingested_at: 0,
            },
            error_threshold: 0.5,
        };
        let (chunks_n, rows) = (40u64, 200u64);
        let mut expected = Vec::new();
        let chunks: Vec<Result<RawTable>> = (0..chunks_n)
            .map(|c| {
                let first_line = 2 + c * (rows + 1);
                // Each chunk after the first opens with the last member number of the one before.
                let mut numbers: Vec<u64> = Vec::new();
                if c > 0 {
                    numbers.push(c * rows - 1);
                    expected.push(first_line);
                }
                numbers.extend(c * rows..(c + 1) * rows);
                Ok(chunk(&numbers, first_line))
            })
            .collect();
        let tally =
            validate_all(&ret, Box::new(chunks.into_iter()), None, None).expect("validated");
        let rejected: Vec<u64> = tally.rejected.iter().map(|(f, _)| f.row).collect();
        assert_eq!(rejected, expected);
        assert!(
            tally
                .rejected
                .iter()
                .all(|(f, _)| f.rule == crate::rules::Rule::DuplicateRow)
        );
        assert_eq!(tally.rows_read as u64, chunks_n * rows + chunks_n - 1);
        assert_eq!(tally.rows_good as u64, chunks_n * rows);
    }
}
