//! An ingest killed at any moment leaves every table readable, each return either whole or absent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::helpers::{LakeSql, generate_into, options, returns_and_lake, run};

const CHILD_ENV: &str = "UNIONSTAT_CRASH_TEST_CHILD";

/// Run by the test below as a separate process, which it kills.
#[test]
#[ignore = "run as a child process by an_ingest_killed_mid_way_leaves_whole_returns_only"]
fn ingest_in_a_child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (raw, lake) = spec.split_once('|').expect("raw|lake");
    run(&[PathBuf::from(raw)], &options(std::path::Path::new(lake)));
}

#[test]
fn an_ingest_killed_mid_way_leaves_whole_returns_only() {
    let (raw, lake) = returns_and_lake();
    let files = generate_into(raw.path(), 0.2, 21, 0.0);
    let expected: HashMap<(String, String, String), u64> = files
        .iter()
        .map(|f| {
            let key = (
                f["table"].as_str().unwrap().to_string(),
                f["year"].to_string(),
                f["county_code"].as_str().unwrap().to_string(),
            );
            (key, f["rows"].as_u64().unwrap())
        })
        .collect();
    let returns = raw.path().join("returns");
    let total = expected.len();
    let mut partial_states = 0;
    for delay_ms in [700, 1500, 2600, 4000, 6000] {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "crash::ingest_in_a_child_process",
                "--ignored",
                "--nocapture",
            ])
            .env(
                CHILD_ENV,
                format!("{}|{}", returns.display(), lake.path().display()),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("child starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let db = LakeSql::open(lake.path());
        let mut whole = 0;
        for ((table, year, county), rows) in &expected {
            if !db.has(table) {
                continue;
            }
            let got = db.rows(&format!(
                "SELECT COUNT(*), COUNT(DISTINCT submission_id) FROM {table} WHERE year = {year} AND county_code = '{county}'"
            ));
            let (count, submissions): (u64, u64) =
                (got[0][0].parse().unwrap(), got[0][1].parse().unwrap());
            assert!(
                count == 0 || (count == *rows && submissions == 1),
                "after a kill at {delay_ms} ms, {table} {year} {county} holds {count} rows from {submissions} submissions, expected 0 or {rows}"
            );
            whole += usize::from(count > 0);
        }
        partial_states += usize::from(whole > 0 && whole < total);
    }
    assert!(
        partial_states > 0,
        "no kill landed mid-way through the ingest, so nothing was tested"
    );
    // Finishing the ingest afterwards completes the lake.
    run(&[returns], &options(lake.path()));
    let db = LakeSql::open(lake.path());
    let total: u64 = expected
        .iter()
        .filter(|((t, _, _), _)| t == "rights_cases")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(db.number("SELECT COUNT(*) FROM rights_cases") as u64, total);
}
