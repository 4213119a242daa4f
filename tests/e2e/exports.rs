//! `unionstat export` and the scheduled export, read back by the programs that receive snapshots:
//! pyarrow, DuckDB, polars and GeoPandas (from the pinned `.venv` that `scripts/setup` makes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::dashboard::sql;
use crate::http::get;
use crate::server::{Server, demo_lake};
use crate::succeeded;

/// The Python with the readers, or `None` (with a notice) where `scripts/setup` has not run and
/// `CI` is unset.
pub fn python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing; scripts/setup makes it",
        python.display()
    );
    eprintln!("NOTICE: reader tests skipped: no .venv (scripts/setup makes it)");
    None
}

fn export(to: &Path, args: &[&str]) -> std::process::Output {
    let (_, lake) = demo_lake();
    Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .arg("export")
        .arg("--lake")
        .arg(lake)
        .arg("--to")
        .arg(to)
        .args(args)
        .output()
        .expect("unionstat runs")
}

fn latest(to: &Path) -> String {
    std::fs::read_to_string(to.join("LATEST"))
        .expect("LATEST")
        .trim()
        .to_string()
}

fn snapshots(to: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(to.join("snapshots"))
        .expect("snapshots")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file the manifest lists has its size and checksum, and `_SUCCESS` is there.
fn verify(snapshot: &Path) -> Value {
    assert!(
        snapshot.join("_SUCCESS").is_file(),
        "{} has no _SUCCESS",
        snapshot.display()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    for dataset in manifest["datasets"].as_array().expect("datasets") {
        for file in dataset["files"].as_array().expect("files") {
            let bytes = std::fs::read(snapshot.join(file["path"].as_str().expect("path")))
                .expect("a listed file");
            assert_eq!(Some(bytes.len() as u64), file["bytes"].as_u64());
            assert_eq!(
                Some(hex::encode(Sha256::digest(&bytes))).as_deref(),
                file["sha256"].as_str(),
                "{file}"
            );
        }
    }
    manifest
}

#[test]
fn an_export_reads_back_the_same_in_pyarrow_duckdb_polars_and_geopandas() {
    let Some(python) = python() else { return };
    let to = tempfile::tempdir().expect("tmp");
    let out = export(to.path(), &[]);
    let printed = succeeded(&out);
    assert!(
        printed.starts_with("exported 21 tables and views"),
        "{printed}"
    );
    let snapshot = to.path().join("snapshots").join(latest(to.path()));
    let manifest = verify(&snapshot);

    let read = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/readers/check_export.py"))
        .arg(&snapshot)
        .output()
        .expect("python runs");
    let found: Value = serde_json::from_str(&succeeded(&read)).expect("JSON");

    let server = Server::serve();
    for dataset in manifest["datasets"].as_array().expect("datasets") {
        let name = dataset["name"].as_str().expect("name");
        let counted = sql(&server.addr, &format!("SELECT count(*) AS n FROM {name}"));
        let rows = counted[0]["n"].as_u64();
        assert_eq!(dataset["rows"].as_u64(), rows, "{name} in the manifest");
        for reader in ["pyarrow", "duckdb", "polars"] {
            assert_eq!(
                found[name][reader].as_u64(),
                rows,
                "{name} read by {reader}"
            );
        }
    }
    let members = sql(
        &server.addr,
        "SELECT year, sum(members) AS m FROM grassroots_unions GROUP BY year ORDER BY year",
    );
    for row in members {
        let year = row["year"].to_string();
        assert_eq!(
            found["grassroots_unions"]["members_by_year"][&year], row["m"],
            "members in {year}"
        );
    }
    assert_eq!(found["grassroots_unions"]["polars_members_2017"], 514_000);
    let amount = sql(
        &server.addr,
        "SELECT CAST(sum(amount) AS DOUBLE) AS a FROM aid_disbursements",
    );
    let (ours, theirs) = (
        amount[0]["a"].as_f64().expect("sum"),
        found["aid_disbursements"]["amount"].as_f64().expect("sum"),
    );
    assert!((ours - theirs).abs() < 0.01, "aid {ours} vs {theirs}");

    for (table, kind, with_geometry) in [
        ("regions", "MultiPolygon", 141),
        ("service_sites", "Point", 20_408),
    ] {
        let geo = &found[table]["geopandas"];
        assert_eq!(geo["crs_is_wgs84_lon_lat"], true, "{table}: {geo}");
        assert_eq!(geo["types"], serde_json::json!([kind]), "{table}");
        assert_eq!(geo["inside_bbox"], true, "{table}");
        if table == "regions" {
            assert_eq!(geo["with_geometry"], with_geometry);
        }
        let meta = &found[table]["geo"];
        assert_eq!(meta["version"], "1.1.0");
        assert_eq!(meta["encoding"], "WKB");
        assert_eq!(
            meta["covering"]["bbox"]["xmin"],
            serde_json::json!(["bbox", "xmin"])
        );
    }

    // Nothing changed: no new snapshot.
    let again = export(to.path(), &[]);
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("nothing changed since snapshot"));
    assert_eq!(snapshots(to.path()).len(), 1);
}

#[test]
fn an_export_killed_half_way_leaves_the_last_snapshot_whole() {
    let to = tempfile::tempdir().expect("tmp");
    assert!(
        export(
            to.path(),
            &["--tables", "grassroots_unions,regions", "--views", "kpi"]
        )
        .status
        .success()
    );
    let first = latest(to.path());

    let (_, lake) = demo_lake();
    let mut running = Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .args(["export", "--force", "--lake"])
        .arg(lake)
        .arg("--to")
        .arg(to.path())
        .spawn()
        .expect("unionstat runs");
    let staging = to.path().join(".staging");
    let started = Instant::now();
    let has_parquet = |dir: &Path| {
        Command::new("find")
            .arg(dir)
            .args(["-name", "*.parquet"])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    };
    while !(staging.is_dir() && has_parquet(&staging)) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the export never started writing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    running.kill().expect("killed");
    running.wait().expect("ended");

    assert_eq!(
        latest(to.path()),
        first,
        "LATEST still names the whole snapshot"
    );
    assert_eq!(snapshots(to.path()), std::slice::from_ref(&first));
    verify(&to.path().join("snapshots").join(&first));
    let partial = std::fs::read_dir(&staging)
        .expect("staging")
        .next()
        .expect("the partial run")
        .expect("entry")
        .path();
    assert!(
        !partial.join("_SUCCESS").exists(),
        "a partial snapshot has no _SUCCESS"
    );

    // The next run clears the partial one and publishes; --keep 1 leaves only it.
    let out = export(
        to.path(),
        &[
            "--force",
            "--keep",
            "1",
            "--tables",
            "industries",
            "--views",
            "kpi",
        ],
    );
    succeeded(&out);
    assert!(!partial.exists());
    let names = snapshots(to.path());
    assert_eq!(names, [latest(to.path())]);
    assert_ne!(names[0], first);
}

#[test]
fn the_server_exports_on_its_schedule_and_lists_the_runs() {
    let to = tempfile::tempdir().expect("tmp");
    let config = to.path().join("unionstat.toml");
    std::fs::write(
        &config,
        format!(
            "[export]\nto = \"{}\"\nschedule = \"*/2 * * * * *\"\nkeep = 2\ntables = [\"industries\", \"regions\"]\nviews = [\"kpi\"]\n",
            to.path().join("out").display()
        ),
    )
    .expect("config");
    let server = Server::serve_with(&["--config", config.to_str().expect("utf-8")], &[]);
    let started = Instant::now();
    loop {
        let runs = get(&server.addr, "/api/exports").json();
        let outcomes: Vec<&str> = runs["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .filter_map(|r| r["outcome"].as_str())
            .collect();
        assert!(!outcomes.contains(&"failed"), "{runs}");
        if outcomes.contains(&"published") && outcomes.contains(&"skipped") {
            assert_eq!(runs["schedule"], "*/2 * * * * *");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no published and skipped run: {runs}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    verify(
        &to.path()
            .join("out/snapshots")
            .join(latest(&to.path().join("out"))),
    );
    let metrics = get(&server.addr, "/metrics").text();
    assert!(
        metrics.contains("unionstat_export_runs_total{outcome=\"published\"} 1"),
        "{metrics}"
    );
}

#[test]
fn the_notebooks_run_against_a_fresh_export_and_the_postgres_endpoint() {
    let Some(python) = python() else { return };
    let to = tempfile::tempdir().expect("tmp");
    assert!(export(to.path(), &[]).status.success());
    let server = Server::serve_with(
        &[],
        &[
            ("UNIONSTAT_PG_USER", "analyst"),
            ("UNIONSTAT_PG_PASSWORD", "notebook test"),
        ],
    );
    let pg = server
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("Postgres endpoint: postgresql://analyst@"))
        .and_then(|l| l.strip_suffix("/datafusion"))
        .expect("the Postgres address");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&python)
        .arg(root.join("tests/readers/run_notebooks.py"))
        .arg(root.join("notebooks"))
        .env("UNIONSTAT_EXPORT", to.path())
        .env(
            "UNIONSTAT_PG_URL",
            format!("postgresql://analyst:notebook%20test@{pg}/datafusion"),
        )
        .output()
        .expect("python runs");
    let printed = succeeded(&out);
    assert_eq!(
        printed
            .lines()
            .filter(|l| l.contains(" cells ran, "))
            .count(),
        3,
        "{printed}"
    );
}

#[test]
fn an_export_to_an_object_store_url_publishes_and_prunes_there() {
    // `file://` goes through the object-store path (upload, manifest, _SUCCESS, LATEST), as
    // `s3://` does, without needing a server.
    let root = tempfile::tempdir().expect("tmp");
    let url = format!("file://{}/out", root.path().display());
    let out = root.path().join("out");
    for _ in 0..2 {
        let (_, lake) = demo_lake();
        let run = Command::new(env!("CARGO_BIN_EXE_unionstat"))
            .args([
                "export",
                "--force",
                "--keep",
                "1",
                "--tables",
                "regions,industries",
                "--views",
                "kpi",
                "--lake",
            ])
            .arg(lake)
            .args(["--to", &url])
            .output()
            .expect("unionstat runs");
        succeeded(&run);
    }
    let names = snapshots(&out);
    assert_eq!(names, [latest(&out)], "one snapshot kept");
    let manifest = verify(&out.join("snapshots").join(&names[0]));
    assert_eq!(manifest["datasets"].as_array().map(Vec::len), Some(3));
}
