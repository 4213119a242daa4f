//! End-to-end tests of the `unionstat` binary as a user runs it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;

fn unionstat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unionstat"))
}

#[test]
fn help_lists_only_the_commands_that_work() {
    let out = unionstat().arg("--help").output().expect("unionstat runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(commands, ["generate", "help"], "{help}");
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
