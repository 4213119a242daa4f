//! Exports on a schedule inside `unionstat serve`: the config file's `[export]` section, cron
//! expressions, and the history of runs that the dashboard and `/metrics` show.
//!
//! ```toml
//! [export]
//! to = "exports"            # a folder, or s3://bucket/prefix
//! schedule = "0 2 * * *"    # minute hour day month weekday, local time (a leading seconds field is allowed)
//! keep = 7                  # snapshots kept
//! tables = ["grassroots_unions", "regions"]   # default: all
//! views = ["union_coverage"]                  # default: all
//! ```

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use serde_json::{Value, json};

use crate::snapshot::{self, Options, Outcome};

/// The `[export]` section.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// Destination folder or URL.
    pub to: String,
    /// When to run, as a cron expression.
    pub schedule: String,
    /// Snapshots to keep (default 7).
    pub keep: Option<usize>,
    /// Tables to export (default all).
    pub tables: Option<Vec<String>>,
    /// Views to export (default all).
    pub views: Option<Vec<String>>,
}

impl ExportConfig {
    /// Checks what the types cannot: the schedule must be a cron expression.
    pub fn check(&self) -> Result<(), String> {
        Cron::from_str(&self.schedule)
            .map(|_| ())
            .map_err(|e| format!("[export] schedule: {e}"))
    }
}

/// The fields of a cron expression, with a leading seconds field or without, and what each takes.
const FIELDS: [(&str, &str); 6] = [
    ("second", "0-59"),
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("weekday", "0-7 or SUN-SAT, Sunday being 0 or 7"),
];

fn parser() -> croner::parser::CronParser {
    // `5/15` means from 5 in steps of 15, as in Vixie cron (croner asks for `5-59/15`).
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .sloppy_ranges(true)
        .build()
}

/// A cron expression: `minute hour day month weekday`, or with a leading `second` field, read by
/// croner (Vixie cron's syntax, with `L`, `W` and `#` besides).
#[derive(Debug, Clone)]
pub struct Cron(croner::Cron);

impl FromStr for Cron {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let names = match fields.len() {
            5 => &FIELDS[1..],
            6 => &FIELDS[..],
            n => {
                return Err(format!(
                    "`{text}` has {n} fields; write minute hour day month weekday, e.g. `0 2 * * *` for 02:00 every day"
                ));
            }
        };
        parser().parse(text).map(Cron).map_err(|e| {
            // croner does not say which field is wrong: the first that fails alone is.
            let alone = |k: usize| {
                let probe: Vec<&str> = (0..fields.len())
                    .map(|i| if i == k { fields[i] } else { "*" })
                    .collect();
                parser().parse(&probe.join(" ")).is_err()
            };
            match (0..fields.len()).find(|&k| alone(k)) {
                Some(k) => format!(
                    "`{}` is not valid in the {} field, which takes {} with * , - /: {e}",
                    fields[k], names[k].0, names[k].1
                ),
                None => format!("`{text}` is not a cron expression: {e}"),
            }
        })
    }
}

impl Cron {
    /// Whether the schedule fires in the second of `t`. As in cron, when both the day and the
    /// weekday are restricted, either may match.
    pub fn fires_at(&self, t: &DateTime<Local>) -> bool {
        self.0.is_time_matching(t).unwrap_or(false)
    }

    /// The first firing after `t`, if the expression ever fires again.
    pub fn next_after(&self, t: &DateTime<Local>) -> Option<DateTime<Local>> {
        self.0.find_next_occurrence(t, false).ok()
    }

    /// When to run next, after the run due at `due` finished at `finished`: at the next firing,
    /// or at once if firings came while it ran. Those are queued, not dropped, and several are one
    /// run: each would export the same lake.
    pub fn next_run(
        &self,
        due: &DateTime<Local>,
        finished: &DateTime<Local>,
    ) -> Option<DateTime<Local>> {
        let next = self.next_after(due)?;
        Some(if next <= *finished { *finished } else { next })
    }
}

/// One run, as the history keeps it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Run {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub seconds: f64,
    /// `published`, `skipped` or `failed`.
    pub outcome: &'static str,
    /// The snapshot written, or the unchanged one.
    pub snapshot: Option<String>,
    /// Rows written.
    pub rows: u64,
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// The error of a failed run.
    pub error: Option<String>,
}

/// The scheduled export and its recent runs.
#[derive(Debug, Default)]
pub struct ExportJobs {
    config: Option<ExportConfig>,
    runs: Mutex<VecDeque<Run>>,
}

const KEPT_RUNS: usize = 100;

impl ExportJobs {
    /// Jobs for `config` (none when the config file has no `[export]`).
    pub fn new(config: Option<ExportConfig>) -> Self {
        ExportJobs {
            config,
            runs: Mutex::default(),
        }
    }

    fn record(&self, run: Run) {
        if let Ok(mut runs) = self.runs.lock() {
            if runs.len() >= KEPT_RUNS {
                runs.pop_back();
            }
            runs.push_front(run);
        }
    }

    /// The schedule and the runs, newest first, for `/api/exports`.
    pub fn describe(&self) -> Value {
        let runs: Vec<Run> = self
            .runs
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        json!({
            "to": self.config.as_ref().map(|c| &c.to),
            "schedule": self.config.as_ref().map(|c| &c.schedule),
            "runs": runs,
        })
    }

    /// Prometheus lines: runs by outcome and the time of the last published snapshot.
    pub fn render(&self, out: &mut String) {
        let runs: Vec<Run> = self
            .runs
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default();
        out.push_str("# HELP unionstat_export_runs_total Scheduled export runs, by outcome.\n");
        out.push_str("# TYPE unionstat_export_runs_total counter\n");
        for outcome in ["published", "skipped", "failed"] {
            let n = runs.iter().filter(|r| r.outcome == outcome).count();
            out.push_str(&format!(
                "unionstat_export_runs_total{{outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        if let Some(last) = runs.iter().find(|r| r.outcome == "published") {
            out.push_str("# HELP unionstat_export_last_published_timestamp_seconds When the newest snapshot was started.\n");
            out.push_str("# TYPE unionstat_export_last_published_timestamp_seconds gauge\n");
            out.push_str(&format!(
                "unionstat_export_last_published_timestamp_seconds {}\n",
                last.started_at.timestamp()
            ));
        }
    }

    /// Runs the export whenever the schedule fires, until the process stops. A firing that comes
    /// while a run is going is queued: the next run starts as soon as that one ends.
    pub async fn run_on_schedule(self: Arc<Self>, lake: String) {
        let Some(config) = self.config.clone() else {
            return;
        };
        let Ok(cron) = Cron::from_str(&config.schedule) else {
            return;
        };
        let options = Options {
            to: config.to.clone(),
            tables: config.tables.clone(),
            views: config.views.clone(),
            keep: config.keep.unwrap_or(7),
            force: false,
        };
        tracing::info!(schedule = %config.schedule, to = %config.to, "exports scheduled");
        let mut next = cron.next_after(&Local::now());
        while let Some(due) = next {
            // Sleep in steps of at most a minute, so that a change of the clock is noticed.
            while Local::now() < due {
                let left = (due - Local::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left.min(Duration::from_secs(60))).await;
            }
            let run = self.run_once(&lake, &options).await;
            tracing::info!(outcome = run.outcome, snapshot = ?run.snapshot, "scheduled export");
            self.record(run);
            next = cron.next_run(&due, &Local::now());
        }
        tracing::warn!(schedule = %config.schedule, "the export schedule never fires again");
    }

    async fn run_once(&self, lake: &str, options: &Options) -> Run {
        let started = std::time::Instant::now();
        let started_at = Utc::now();
        let ended = |outcome, snapshot, (rows, files, bytes), error| Run {
            started_at,
            seconds: started.elapsed().as_secs_f64(),
            outcome,
            snapshot,
            rows,
            files,
            bytes,
            error,
        };
        match snapshot::run(lake, options).await {
            Ok(Outcome::Published(r)) => ended(
                "published",
                Some(r.snapshot),
                (r.rows, r.files, r.bytes),
                None,
            ),
            Ok(Outcome::Skipped(snapshot)) => ended("skipped", Some(snapshot), (0, 0, 0), None),
            Err(e) => {
                tracing::warn!("the scheduled export failed: {e}");
                ended("failed", None, (0, 0, 0), Some(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Local> {
        Local
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("a local time")
    }

    #[test]
    fn nightly_fires_once_a_day_at_two() {
        let cron: Cron = "0 2 * * *".parse().expect("valid");
        assert!(cron.fires_at(&at(2026, 11, 25, 2, 0, 0)));
        assert!(!cron.fires_at(&at(2026, 11, 25, 2, 0, 1)));
        assert!(!cron.fires_at(&at(2026, 11, 25, 3, 0, 0)));
    }

    #[test]
    fn steps_ranges_lists_and_weekdays_work_as_in_cron() {
        let cron: Cron = "*/15 8-18 * * 1-5".parse().expect("valid");
        assert!(cron.fires_at(&at(2026, 11, 25, 8, 45, 0)), "a Wednesday");
        assert!(!cron.fires_at(&at(2026, 11, 29, 8, 45, 0)), "a Sunday");
        let cron: Cron = "*/2 * * * * *".parse().expect("valid with seconds");
        assert!(cron.fires_at(&at(2026, 11, 25, 8, 45, 4)));
        assert!(!cron.fires_at(&at(2026, 11, 25, 8, 45, 5)));
        let cron: Cron = "0 0 1,15 * 0".parse().expect("valid");
        assert!(cron.fires_at(&at(2026, 11, 15, 0, 0, 0)), "the 15th");
        assert!(cron.fires_at(&at(2026, 11, 29, 0, 0, 0)), "a Sunday");
    }

    #[test]
    fn a_bad_expression_says_what_is_wrong() {
        let e = "0 25 * * *".parse::<Cron>().expect_err("no hour 25");
        assert!(
            e.contains("`25` is not valid in the hour field, which takes 0-23"),
            "{e}"
        );
        let e = "nightly".parse::<Cron>().expect_err("not cron");
        assert!(e.contains("has 1 fields"), "{e}");
    }

    #[test]
    fn a_firing_during_a_run_is_queued_not_dropped() {
        let cron: Cron = "* * * * *".parse().expect("every minute");
        let due = at(2026, 11, 25, 2, 0, 0);
        assert_eq!(
            cron.next_run(&due, &at(2026, 11, 25, 2, 0, 10)),
            Some(at(2026, 11, 25, 2, 1, 0)),
            "a short run waits for the next firing"
        );
        assert_eq!(
            cron.next_run(&due, &at(2026, 11, 25, 2, 3, 30)),
            Some(at(2026, 11, 25, 2, 3, 30)),
            "the firings at 02:01, 02:02 and 02:03 came during the run: one run starts at once"
        );
    }
}
