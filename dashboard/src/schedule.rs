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
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, Local, Timelike, Utc};
use serde_json::{Value, json};

use crate::export::{self, Options, Outcome};

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

#[derive(Debug, Default, serde::Deserialize)]
struct File {
    export: Option<ExportConfig>,
}

impl ExportConfig {
    /// The `[export]` section of the config file at `path`, if it has one.
    pub fn load(path: &Path) -> Result<Option<ExportConfig>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
        let file: File = toml::from_str(&text)
            .map_err(|e| format!("the config file {} is not valid: {e}", path.display()))?;
        if let Some(config) = &file.export {
            Cron::from_str(&config.schedule)
                .map_err(|e| format!("{}: [export] schedule: {e}", path.display()))?;
        }
        Ok(file.export)
    }
}

/// One field of a cron expression: which values it allows.
#[derive(Debug, Clone)]
struct Field {
    allowed: Vec<bool>,
    any: bool,
}

impl Field {
    fn parse(text: &str, min: u32, max: u32, name: &str) -> Result<Field, String> {
        let mut allowed = vec![false; max as usize + 1];
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (
                    r,
                    s.parse::<u32>()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| format!("bad step `{s}` in the {name} field"))?,
                ),
                None => (part, 1),
            };
            let (from, to) = if range == "*" {
                (min, max)
            } else if let Some((a, b)) = range.split_once('-') {
                (number(a, name)?, number(b, name)?)
            } else {
                let n = number(range, name)?;
                (n, if step > 1 { max } else { n })
            };
            if from < min || to > max || from > to {
                return Err(format!(
                    "`{part}` is outside {min}-{max} in the {name} field"
                ));
            }
            for v in (from..=to).step_by(step as usize) {
                allowed[v as usize] = true;
            }
        }
        Ok(Field {
            allowed,
            any: text == "*",
        })
    }

    fn has(&self, v: u32) -> bool {
        self.allowed.get(v as usize).copied().unwrap_or(false)
    }
}

fn number(text: &str, name: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a number in the {name} field"))
}

/// A cron expression: `minute hour day month weekday`, or with a leading `second` field.
#[derive(Debug, Clone)]
pub struct Cron {
    second: Field,
    minute: Field,
    hour: Field,
    day: Field,
    month: Field,
    weekday: Field,
}

impl FromStr for Cron {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let (second, rest) = match fields.len() {
            5 => ("0", &fields[..]),
            6 => (fields[0], &fields[1..]),
            n => {
                return Err(format!(
                    "`{text}` has {n} fields; write minute hour day month weekday, e.g. `0 2 * * *` for 02:00 every day"
                ));
            }
        };
        Ok(Cron {
            second: Field::parse(second, 0, 59, "second")?,
            minute: Field::parse(rest[0], 0, 59, "minute")?,
            hour: Field::parse(rest[1], 0, 23, "hour")?,
            day: Field::parse(rest[2], 1, 31, "day")?,
            month: Field::parse(rest[3], 1, 12, "month")?,
            weekday: {
                // Sunday is 0 or 7.
                let mut weekday = Field::parse(rest[4], 0, 7, "weekday")?;
                if weekday.allowed[7] {
                    weekday.allowed[0] = true;
                }
                weekday
            },
        })
    }
}

impl Cron {
    /// Whether the schedule fires in the second of `t`. As in cron, when both the day and the
    /// weekday are restricted, either may match.
    pub fn fires_at(&self, t: &DateTime<Local>) -> bool {
        let day = self.day.has(t.day());
        let weekday = self.weekday.has(t.weekday().num_days_from_sunday());
        let date = match (self.day.any, self.weekday.any) {
            (false, false) => day || weekday,
            _ => day && weekday,
        };
        date && self.second.has(t.second())
            && self.minute.has(t.minute())
            && self.hour.has(t.hour())
            && self.month.has(t.month())
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

    /// Runs the export whenever the schedule fires, until the process stops. A run that is still
    /// going when the schedule fires again makes that firing wait.
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
        let mut last = None;
        loop {
            let now = Local::now();
            let second = now.timestamp();
            if cron.fires_at(&now) && last != Some(second) {
                last = Some(second);
                let started = std::time::Instant::now();
                let started_at = Utc::now();
                let run = match export::run(&lake, &options).await {
                    Ok(Outcome::Published(r)) => Run {
                        started_at,
                        seconds: started.elapsed().as_secs_f64(),
                        outcome: "published",
                        snapshot: Some(r.snapshot),
                        rows: r.rows,
                        files: r.files,
                        bytes: r.bytes,
                        error: None,
                    },
                    Ok(Outcome::Skipped(snapshot)) => Run {
                        started_at,
                        seconds: started.elapsed().as_secs_f64(),
                        outcome: "skipped",
                        snapshot: Some(snapshot),
                        rows: 0,
                        files: 0,
                        bytes: 0,
                        error: None,
                    },
                    Err(e) => {
                        tracing::warn!("the scheduled export failed: {e}");
                        Run {
                            started_at,
                            seconds: started.elapsed().as_secs_f64(),
                            outcome: "failed",
                            snapshot: None,
                            rows: 0,
                            files: 0,
                            bytes: 0,
                            error: Some(e.to_string()),
                        }
                    }
                };
                tracing::info!(outcome = run.outcome, snapshot = ?run.snapshot, "scheduled export");
                self.record(run);
            }
            let wait = 1_000 - u64::from(Local::now().timestamp_subsec_millis().min(999));
            tokio::time::sleep(Duration::from_millis(wait)).await;
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
        assert!(e.contains("outside 0-23 in the hour field"), "{e}");
        let e = "nightly".parse::<Cron>().expect_err("not cron");
        assert!(e.contains("has 1 fields"), "{e}");
    }
}
