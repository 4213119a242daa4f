//! How `unionstat ingest` shows its progress: a bar on a terminal, one plain line per file when
//! the output goes to a log or a pipe.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use unionstat_ingest::Progress;
use unionstat_ingest::report::FileReport;

/// Progress of one ingest, on standard error.
#[derive(Debug)]
pub struct IngestProgress {
    bar: Option<ProgressBar>,
    /// The current file's name, index and total, and rows read so far.
    current: Mutex<(String, usize, usize, usize)>,
}

impl IngestProgress {
    /// A bar when standard error is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed} {wide_msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        IngestProgress {
            bar,
            current: Mutex::new((String::new(), 0, 0, 0)),
        }
    }
}

impl Progress for IngestProgress {
    fn file_started(&self, index: usize, total: usize, path: &Path) {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(index as u64);
            bar.set_message(name.clone());
        }
        if let Ok(mut c) = self.current.lock() {
            *c = (name, index, total, 0);
        }
    }

    fn rows_read(&self, rows: usize) {
        if let Ok(mut c) = self.current.lock() {
            c.3 += rows;
            if let Some(bar) = &self.bar {
                bar.set_message(format!("{} {} rows", c.0, c.3));
            }
        }
    }

    fn file_done(&self, report: &FileReport) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if bar.position() >= bar.length().unwrap_or(0) {
                    bar.finish_and_clear();
                }
            }
            None => {
                let (index, total) = self.current.lock().map_or((0, 0), |c| (c.1, c.2));
                eprintln!(
                    "[{}/{total}] {:?} {}: {} rows loaded, {} quarantined",
                    index + 1,
                    report.outcome,
                    report.file,
                    report.rows_loaded,
                    report.rows_quarantined
                );
            }
        }
    }
}
