//! The generator's returns ingest in order: every fault is quarantined with the right rule and no
//! other row is, every quirk is repaired, and after the corrections the lake holds the clean data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use unionstat_generator::generate;
use unionstat_ingest::report::Outcome;
use unionstat_tables::Contract;
use unionstat_tables::{FACT_TABLES, Kind};

use crate::helpers::{LakeSql, generate_into, options, returns_and_lake, run};

#[test]
fn generated_returns_load_faults_are_quarantined_quirks_repaired_and_corrections_replace() {
    let (raw, lake) = returns_and_lake();
    let (scale, seed) = (1.0, 42);
    let files = generate_into(raw.path(), scale, seed, 0.01);
    let originals: Vec<PathBuf> = files
        .iter()
        .filter(|f| f["correction"] == false)
        .map(|f| raw.path().join(f["path"].as_str().expect("path")))
        .collect();
    let corrections: Vec<PathBuf> = files
        .iter()
        .filter(|f| f["correction"] == true)
        .map(|f| raw.path().join(f["path"].as_str().expect("path")))
        .collect();
    let opts = options(lake.path());

    // 1. The returns as first sent: faults go to quarantine, nothing else does.
    let report = run(&originals, &opts);
    assert!(
        report
            .files
            .iter()
            .all(|f| matches!(f.outcome, Outcome::Loaded | Outcome::Partial)),
        "{}",
        report.summary()
    );
    let mut faults: BTreeSet<(String, u64, String)> = BTreeSet::new();
    let mut quirks: Vec<csv::StringRecord> = Vec::new();
    let mut log =
        csv::Reader::from_path(raw.path().join("dirty_manifest.csv")).expect("dirty manifest");
    for rec in log.records() {
        let rec = rec.expect("record");
        let file = raw.path().join(&rec[0]).to_string_lossy().to_string();
        if &rec[8] == "fault" {
            faults.insert((file, rec[2].parse().expect("row"), rec[9].to_string()));
        } else {
            quirks.push(rec);
        }
    }
    let mut quarantined: BTreeMap<(String, u64), BTreeSet<String>> = BTreeMap::new();
    for f in &report.files {
        for e in &f.errors {
            quarantined
                .entry((f.file.clone(), e.row))
                .or_default()
                .insert(e.rule.name());
        }
    }
    for (file, row, rule) in &faults {
        let rules = quarantined
            .get(&(file.clone(), *row))
            .unwrap_or_else(|| panic!("fault {rule} at {file} row {row} was loaded"));
        assert!(
            rules.contains(rule),
            "{file} row {row}: expected {rule}, quarantined for {rules:?}"
        );
    }
    let fault_rows: BTreeSet<(String, u64)> =
        faults.iter().map(|(f, r, _)| (f.clone(), *r)).collect();
    let extra: Vec<_> = quarantined
        .keys()
        .filter(|k| !fault_rows.contains(*k))
        .take(5)
        .collect();
    assert!(
        extra.is_empty(),
        "rows quarantined that had no fault: {extra:?} {:?}",
        extra.first().map(|k| &quarantined[*k])
    );
    let db = LakeSql::open(lake.path());
    let in_table = db.number(
        "SELECT COUNT(DISTINCT source_file || '#' || CAST(source_row AS VARCHAR)) FROM quarantine",
    );
    assert_eq!(
        in_table as usize,
        fault_rows.len(),
        "the quarantine table holds every rejected row"
    );

    // Every quirk is repaired to the clean value: each table read once, rows looked up by lineage.
    let mut by_table: BTreeMap<String, Vec<&csv::StringRecord>> = BTreeMap::new();
    for q in &quirks {
        by_table.entry(q[5].to_string()).or_default().push(q);
    }
    for (table, qs) in by_table {
        let contract = unionstat_tables::contract(&table).expect("a table");
        let names: Vec<String> = contract
            .spec
            .columns
            .iter()
            .map(|c| format!("\"{}\"", Contract::lake_name(c)))
            .collect();
        let rows = db.rows(&format!(
            "SELECT source_file, source_row, {} FROM {table}",
            names.join(", ")
        ));
        let loaded: BTreeMap<(String, String), Vec<String>> = rows
            .into_iter()
            .map(|mut r| ((r.remove(0), r.remove(0)), r))
            .collect();
        for q in qs {
            let i = contract.spec.index(&q[3]).expect("a column");
            let file = raw.path().join(&q[0]).to_string_lossy().to_string();
            let row = loaded
                .get(&(file.clone(), q[2].to_string()))
                .unwrap_or_else(|| panic!("{file} row {} (quirk {}) was not loaded", &q[2], &q[9]));
            let (got, want) = (&row[i], &q[11]);
            let same = match contract.spec.columns[i].kind {
                Kind::Int | Kind::Money => got.parse::<f64>().ok() == want.parse::<f64>().ok(),
                _ => got == want,
            };
            assert!(
                same,
                "{file} row {} {}: quirk {} {:?} loaded as {got:?}, expected {want}",
                &q[2], &q[3], &q[9], &q[10]
            );
        }
    }

    // 2. The corrections replace the faulty returns; the lake now equals the clean data.
    let report = run(&corrections, &opts);
    assert!(
        report.files.iter().all(|f| f.outcome == Outcome::Loaded),
        "{}",
        report.summary()
    );
    let clean = generate::clean(scale, seed);
    let db = LakeSql::open(lake.path());
    for spec in FACT_TABLES {
        let table = clean.table(spec.name).expect("clean table");
        let rows = db.number(&format!("SELECT COUNT(*) FROM {}", spec.name));
        assert_eq!(rows as usize, table.rows.len(), "{}: row count", spec.name);
        for c in spec.columns.iter().filter(|c| c.kind.is_numeric()) {
            let want = table.sum(c.name, |_| true);
            let got = db.number(&format!(
                "SELECT SUM(CAST(\"{}\" AS DOUBLE)) FROM {}",
                c.name, spec.name
            ));
            assert!(
                (got - want).abs() < 0.005,
                "{}.{}: lake {got}, clean {want}",
                spec.name,
                c.name
            );
        }
    }

    // 3. Sending the same returns again changes nothing.
    let versions = db.number("SELECT COUNT(*) FROM submissions");
    let report = run(&corrections[..3], &opts);
    assert!(
        report.files.iter().all(|f| f.outcome == Outcome::Unchanged),
        "{}",
        report.summary()
    );
    assert_eq!(
        LakeSql::open(lake.path()).number("SELECT COUNT(*) FROM submissions"),
        versions
    );

    // 4. No raw ID number is anywhere in the lake: not in any value, nor in any byte of its files.
    let ids: BTreeSet<String> = clean
        .table("hardship_households")
        .expect("households")
        .rows
        .iter()
        .map(|r| r.values[2].text().to_string())
        .collect();
    assert_eq!(ids.len(), 2202);
    for table in ["hardship_households", "quarantine"] {
        for row in db.rows(&format!("SELECT * FROM {table}")) {
            for v in row {
                assert!(
                    !ids.iter().any(|id| v.contains(id.as_str())),
                    "{table} holds a raw ID number in {v}"
                );
            }
        }
    }
    let mut stack = vec![lake.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = String::from_utf8_lossy(&std::fs::read(&p).expect("file")).to_string();
                assert!(
                    !ids.iter().any(|id| bytes.contains(id.as_str())),
                    "{} holds a raw ID number",
                    p.display()
                );
            }
        }
    }
}
