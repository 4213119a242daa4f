//! What an ingest did, per file: loaded, partly loaded, rejected, unchanged or skipped, with the
//! rows quarantined and why. Printed as a summary, written as JSON or as a CSV of errors.

use std::collections::BTreeMap;
use std::path::Path;

use crate::rules::Rule;
use crate::validate::Finding;
use crate::{Error, Result};

/// What happened to one file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not a return (no table could be told); nothing done.
    Skipped,
    /// The same content as the return already in the lake; nothing done.
    Unchanged,
    /// Every row loaded.
    Loaded,
    /// Good rows loaded, bad rows quarantined.
    Partial,
    /// Nothing loaded: unreadable, unknown headers, or too many bad rows.
    Rejected,
}

/// The report of one file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileReport {
    /// The file as given.
    pub file: String,
    /// Fact table, if known.
    pub table: Option<String>,
    /// Reporting county, if known.
    pub county_code: Option<String>,
    /// Reporting year, if known.
    pub period: Option<i32>,
    /// What happened.
    pub outcome: Outcome,
    /// Why, for skipped and rejected files.
    pub message: Option<String>,
    /// Data rows read.
    pub rows_read: usize,
    /// Rows loaded (or that would load, in a dry run).
    pub rows_loaded: usize,
    /// Rows quarantined.
    pub rows_quarantined: usize,
    /// Every rejected row's finding.
    pub errors: Vec<Finding>,
    /// Rows loaded with a warning.
    pub warnings: Vec<Finding>,
    /// The submission's id, when one was recorded.
    pub submission_id: Option<String>,
}

impl FileReport {
    /// A report for a file before anything is known.
    pub fn new(file: &str) -> Self {
        FileReport {
            file: file.to_string(),
            table: None,
            county_code: None,
            period: None,
            outcome: Outcome::Skipped,
            message: None,
            rows_read: 0,
            rows_loaded: 0,
            rows_quarantined: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            submission_id: None,
        }
    }
}

/// The report of a whole ingest.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// One entry per file, in the order ingested.
    pub files: Vec<FileReport>,
    /// True when nothing was written.
    pub dry_run: bool,
}

impl Report {
    /// 0 all loaded, 1 some rows quarantined, 2 a return rejected.
    pub fn exit_code(&self) -> u8 {
        match self.files.iter().map(|f| f.outcome).max() {
            Some(Outcome::Rejected) => 2,
            Some(Outcome::Partial) => 1,
            _ => 0,
        }
    }

    /// A few lines for the terminal: totals, then each file that was not simply loaded.
    pub fn summary(&self) -> String {
        let count = |o: Outcome| self.files.iter().filter(|f| f.outcome == o).count();
        let loaded: usize = self.files.iter().map(|f| f.rows_loaded).sum();
        let quarantined: usize = self.files.iter().map(|f| f.rows_quarantined).sum();
        let mut out = format!(
            "{}{} files: {} loaded, {} partly loaded, {} rejected, {} unchanged, {} skipped; {} rows loaded, {} rows quarantined\n",
            if self.dry_run {
                "dry run (nothing written): "
            } else {
                ""
            },
            self.files.len(),
            count(Outcome::Loaded),
            count(Outcome::Partial),
            count(Outcome::Rejected),
            count(Outcome::Unchanged),
            count(Outcome::Skipped),
            loaded,
            quarantined
        );
        let mut by_rule: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for f in &self.files {
            for e in &f.errors {
                *by_rule.entry((e.rule.code(), e.rule.name())).or_default() += 1;
            }
        }
        for ((code, name), n) in by_rule {
            out.push_str(&format!("  {code} {name}: {n}\n"));
        }
        // Rejected returns first (they need resending), then partly loaded ones, at most 20 lines.
        let mut notable: Vec<&FileReport> = self
            .files
            .iter()
            .filter(|f| matches!(f.outcome, Outcome::Rejected | Outcome::Partial))
            .collect();
        notable.sort_by_key(|f| std::cmp::Reverse(f.outcome));
        for f in notable.iter().take(20) {
            let why = f.message.clone().unwrap_or_else(|| {
                format!("{} of {} rows quarantined", f.rows_quarantined, f.rows_read)
            });
            out.push_str(&format!("  {:?} {}: {why}\n", f.outcome, f.file));
        }
        if notable.len() > 20 {
            out.push_str(&format!(
                "  ... and {} more; --report FILE lists every row\n",
                notable.len() - 20
            ));
        }
        out
    }

    /// Writes the report: a CSV of every error when `path` ends in `.csv`, JSON otherwise.
    pub fn write(&self, path: &Path) -> Result<()> {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            let mut w = csv::Writer::from_path(path).map_err(|e| Error::io(path, e.into()))?;
            let io = |e: csv::Error| Error::io(path, e.into());
            w.write_record([
                "file",
                "row",
                "column",
                "header",
                "value",
                "rule",
                "code",
                "message_zh",
                "message_en",
            ])
            .map_err(io)?;
            for f in &self.files {
                for e in &f.errors {
                    w.write_record([
                        f.file.as_str(),
                        &e.row.to_string(),
                        &e.column,
                        &e.header,
                        &e.value,
                        &e.rule.name(),
                        e.rule.code(),
                        e.rule.message_zh(),
                        e.rule.message_en(),
                    ])
                    .map_err(io)?;
                }
            }
            w.flush().map_err(|e| Error::io(path, e))
        } else {
            let text =
                serde_json::to_string_pretty(self).map_err(|e| Error::Usage(e.to_string()))?;
            std::fs::write(path, text).map_err(|e| Error::io(path, e))
        }
    }
}

/// Counts of findings by rule, for tests and summaries.
pub fn rule_counts(findings: &[Finding]) -> BTreeMap<Rule, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.rule).or_default() += 1;
    }
    counts
}
