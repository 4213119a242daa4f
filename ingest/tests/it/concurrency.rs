//! Two ingests into one lake at the same time: both land, and nothing is lost or doubled.
//! Of the same returns, each is applied once.

use std::path::PathBuf;

use unionstat_ingest::report::Outcome;

use crate::helpers::{LakeSql, generate_into, options, returns_and_lake, run};

#[test]
fn two_ingests_at_once_both_land_whole() {
    let (raw, lake) = returns_and_lake();
    let files = generate_into(raw.path(), 0.2, 8, 0.0);
    // Two counties' returns of the same tables, so both writers race to create and commit them.
    let of = |county: &str| -> Vec<PathBuf> {
        files
            .iter()
            .filter(|f| {
                f["county_code"] == county
                    && matches!(
                        f["table"].as_str(),
                        Some("aid_disbursements" | "rights_cases")
                    )
            })
            .map(|f| raw.path().join(f["path"].as_str().expect("path")))
            .collect()
    };
    let (a, b) = (of("350802"), of("350881"));
    let opts = options(lake.path());
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| run(&a, &opts));
        let hb = s.spawn(|| run(&b, &opts));
        (
            ha.join().expect("first ingest"),
            hb.join().expect("second ingest"),
        )
    });
    for r in [&ra, &rb] {
        assert!(
            r.files.iter().all(|f| f.outcome == Outcome::Loaded),
            "{}",
            r.summary()
        );
    }
    let loaded: usize = ra
        .files
        .iter()
        .chain(&rb.files)
        .filter(|f| f.table.as_deref() == Some("aid_disbursements"))
        .map(|f| f.rows_loaded)
        .sum();
    let db = LakeSql::open(lake.path());
    assert_eq!(
        db.number("SELECT COUNT(*) FROM aid_disbursements") as usize,
        loaded
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM submissions") as usize,
        a.len() + b.len()
    );
    assert_eq!(
        db.number("SELECT COUNT(DISTINCT submission_id) FROM aid_disbursements") as usize,
        10
    );
}

#[test]
fn two_ingests_of_the_same_returns_apply_each_once() {
    let (raw, lake) = returns_and_lake();
    let files = generate_into(raw.path(), 0.2, 9, 0.05);
    let paths: Vec<PathBuf> = files
        .iter()
        .filter(|f| f["county_code"] == "350802" || f["county_code"] == "350821")
        .map(|f| raw.path().join(f["path"].as_str().expect("path")))
        .collect();
    let opts = options(lake.path());
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| run(&paths, &opts));
        let hb = s.spawn(|| run(&paths, &opts));
        (
            ha.join().expect("first ingest"),
            hb.join().expect("second ingest"),
        )
    });
    // Each return was applied by one of the two; the other found it applied. (A rejected
    // return is applied by neither, and each ingest reports and records its refusal.)
    let applied = |r: &unionstat_ingest::Report, i: usize| {
        matches!(r.files[i].outcome, Outcome::Loaded | Outcome::Partial)
    };
    for (i, path) in paths.iter().enumerate() {
        let rejected = ra.files[i].outcome == Outcome::Rejected;
        let times = usize::from(applied(&ra, i)) + usize::from(applied(&rb, i));
        assert_eq!(
            times,
            usize::from(!rejected),
            "{}: {:?} and {:?}",
            path.display(),
            ra.files[i].outcome,
            rb.files[i].outcome
        );
    }
    let recorded = ra
        .files
        .iter()
        .chain(&rb.files)
        .filter(|f| f.outcome != Outcome::Unchanged)
        .count();
    let quarantined: usize = ra
        .files
        .iter()
        .chain(&rb.files)
        .map(|f| f.rows_quarantined)
        .sum();
    let db = LakeSql::open(lake.path());
    assert_eq!(
        db.number("SELECT COUNT(*) FROM submissions") as usize,
        recorded
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM quarantine") as usize,
        quarantined
    );
}
