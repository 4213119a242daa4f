//! End-to-end tests of the `unionstat` binary as a user runs it.
// Tests say on standard error what they skipped and what they measured.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

mod browser;
mod crash;
mod dashboard;
mod exports;
mod hostile;
mod http;
mod logins;
mod returns;
mod server;

use std::process::{Command, Output};

fn unionstat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unionstat"))
}

/// The standard output of a command that must have succeeded; on failure, the assertion
/// shows what it printed on both outputs.
fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn help_lists_only_the_commands_that_work() {
    let out = unionstat().arg("--help").output().expect("unionstat runs");
    let help = succeeded(&out);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "generate", "ingest", "schema", "sql", "serve", "export", "demo", "users", "help"
        ],
        "{help}"
    );
}

#[test]
fn generate_writes_returns_reference_files_and_manifests() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = unionstat()
        .args([
            "generate",
            "--scale",
            "0.2",
            "--seed",
            "9",
            "--dirty-rate",
            "0.02",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("unionstat runs");
    let stdout = succeeded(&out);
    assert!(stdout.contains("corrected resubmissions"), "{stdout}");
    for file in [
        "manifest.json",
        "dirty_manifest.csv",
        "reference/regions.geojson",
        "reference/industries.csv",
        "reference/published_indicators.csv",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} is missing");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let files = manifest["files"].as_array().expect("a file list");
    // 8 tables x 7 counties x 5 years, plus corrections.
    assert!(files.len() >= 8 * 7 * 5 - 10, "{} files", files.len());
    let regions: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("reference/regions.geojson")).expect("regions"),
    )
    .expect("GeoJSON");
    assert_eq!(regions["features"].as_array().map(Vec::len), Some(149));
}

#[test]
fn generated_returns_ingest_with_the_exit_code_for_quarantined_rows() {
    let (raw, lake, home) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let out = unionstat()
        .args(["generate", "--scale", "0.1", "--out"])
        .arg(raw.path())
        .output()
        .expect("unionstat runs");
    succeeded(&out);
    let report = raw.path().join("report.csv");
    let ingest = |args: &[&str]| {
        unionstat()
            .arg("ingest")
            .arg(raw.path().join("returns"))
            .arg("--lake")
            .arg(lake.path())
            .args(args)
            .env_remove("UNIONSTAT_ID_HASH_KEY")
            .env("XDG_CONFIG_HOME", home.path())
            .output()
            .expect("unionstat runs")
    };
    let out = ingest(&["--report", report.to_str().expect("utf-8 path")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Small returns (scale 0.1) can pass the 10% error threshold and be rejected whole: exit 2;
    // otherwise some rows are quarantined: exit 1.
    let expected = if stdout.contains(" 0 rejected") { 1 } else { 2 };
    assert_eq!(
        out.status.code(),
        Some(expected),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(" 0 rows quarantined"), "{stdout}");
    assert!(
        home.path().join("unionstat/id-hash.key").is_file(),
        "the ID-hash key is created on first use"
    );
    let errors = std::fs::read_to_string(&report).expect("report");
    assert!(
        errors.lines().count() > 1 && errors.starts_with("file,row,column"),
        "{errors}"
    );
    // The same returns again: the loaded ones are unchanged; rejected ones are tried again.
    let out = ingest(&[]);
    let again = String::from_utf8_lossy(&out.stdout);
    assert!(again.contains(" 0 loaded, 0 partly loaded"), "{again}");
    // Logs, not a terminal: one plain progress line per file.
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.lines().any(|l| l.starts_with("[1/")), "{progress}");

    // SQL over the lake: one query, then statements from standard input.
    let out = unionstat()
        .args(["sql", "--format", "csv", "--lake"])
        .arg(lake.path())
        .arg("SELECT count(*) > 0 AS recorded FROM submissions")
        .output()
        .expect("unionstat runs");
    assert_eq!(succeeded(&out), "recorded\ntrue\n");
    let mut repl = unionstat()
        .args(["sql", "--format", "csv", "--lake"])
        .arg(lake.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("unionstat runs");
    use std::io::Write as _;
    repl.stdin
        .take()
        .expect("stdin")
        .write_all(b"SELECT 6 * 7\n  AS answer;\nDROP TABLE submissions;\n")
        .expect("write");
    let out = repl.wait_with_output().expect("unionstat ends");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refused statement sets exit code 1"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "answer\n42\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read_only"));
}

#[test]
fn schema_prints_the_data_dictionary() {
    let out = unionstat()
        .args(["schema", "grassroots_unions"])
        .output()
        .expect("unionstat runs");
    let text = succeeded(&out);
    assert!(
        text.contains("town_code") && text.contains("会员人数") && text.contains("联合基层工会"),
        "{text}"
    );
    let out = unionstat()
        .args(["schema", "unions"])
        .output()
        .expect("unionstat runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tables are grassroots_unions"));
}

#[test]
fn bad_arguments_get_a_clear_error() {
    let out = unionstat()
        .args(["generate", "--scale", "0", "--out", "x"])
        .output()
        .expect("unionstat runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a scale"), "{stderr}");
    let out = unionstat()
        .args(["generate", "--dirty-rate", "2", "--out", "x"])
        .output()
        .expect("unionstat runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a rate"));
}
