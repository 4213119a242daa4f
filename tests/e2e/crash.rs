//! A lake made whole after `unionstat ingest` is killed between a return's facts commit and
//! its quarantine, `submissions` and review rows: the rerun finishes the interrupted return
//! instead of loading it again, so nothing is missing and nothing is quarantined twice.

use std::path::Path;

use crate::{succeeded, unionstat};

fn count(lake: &Path, sql: &str) -> String {
    let out = unionstat()
        .args(["sql", "--lake"])
        .arg(lake)
        .args(["--format", "csv"])
        .arg(sql)
        .output()
        .expect("unionstat runs");
    succeeded(&out).lines().nth(1).unwrap_or("").to_string()
}

#[test]
fn an_ingest_killed_between_commits_is_finished_by_the_next() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    succeeded(
        &unionstat()
            .args([
                "generate",
                "--scale",
                "0.2",
                "--seed",
                "5",
                "--dirty-rate",
                "0.03",
                "--out",
            ])
            .arg(&data)
            .output()
            .expect("unionstat runs"),
    );
    let returns = data.join("returns").join("2017");
    let key = dir.path().join("id.key");
    let ingest = |lake: &Path, crash: bool| {
        let mut command = unionstat();
        command
            .args(["ingest", "--lake"])
            .arg(lake)
            .arg("--id-hash-key-file")
            .arg(&key)
            .arg(&returns);
        if crash {
            command.env("UNIONSTAT_CRASH_AFTER_FACTS", "1");
        }
        command.output().expect("unionstat runs")
    };
    let (whole, crashed) = (dir.path().join("whole"), dir.path().join("crashed"));
    // Exit 2 says that some returns were rejected, as some of these dirty ones are.
    let plain = ingest(&whole, false);
    assert!(
        plain.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let killed = ingest(&crashed, true);
    assert!(
        killed.status.code().is_none(),
        "the ingest was to be killed: {killed:?}"
    );
    assert!(
        std::fs::read_dir(crashed.join("_system").join("pending"))
            .is_ok_and(|mut d| d.next().is_some()),
        "the killed ingest left its journal"
    );
    let rerun = ingest(&crashed, false);
    assert!(
        rerun.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    for sql in [
        "SELECT count(*) FROM quarantine",
        "SELECT count(*) FROM submissions",
        "SELECT count(DISTINCT content_hash) FROM submissions",
        "SELECT count(*) FROM submission_events WHERE state = 'approved'",
        "SELECT count(*) FROM grassroots_unions",
        "SELECT count(*) FROM hardship_households",
    ] {
        assert_eq!(count(&crashed, sql), count(&whole, sql), "{sql}");
    }
    let quarantined = count(&whole, "SELECT count(*) FROM quarantine");
    assert!(
        quarantined.parse::<u64>().is_ok_and(|n| n > 0),
        "{quarantined}"
    );
}
