//! The engine follows the lake: new commits are seen without a restart, and earlier versions
//! stay readable through `table_at`.

use std::time::Duration;

use unionstat_query::{Engine, EngineOptions, Scope};

use crate::fixture;

#[tokio::test(flavor = "multi_thread")]
async fn a_new_submission_is_seen_without_a_restart_and_the_old_version_stays_readable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    let first = fixture::return_file("基层工会组织情况", 2016, "350802");
    let second = fixture::return_file("基层工会组织情况", 2017, "350802");
    let enterprises = fixture::return_file("企业建会情况", 2016, "350802");
    fixture::ingest(
        vec![fixture::data().join("reference"), first, enterprises],
        &lake,
    );

    // Without the result cache, each answer is computed, from a plan kept for the versions.
    let options = EngineOptions {
        refresh_interval: Duration::from_millis(10),
        result_cache: false,
        ..EngineOptions::default()
    };
    let engine = Engine::open(&lake.to_string_lossy(), options)
        .await
        .expect("engine");
    let count = "SELECT count(*) FROM grassroots_unions";
    let before: i64 = fixture::scalar(&engine, count)
        .await
        .parse()
        .expect("count");
    assert!(before > 100, "2016 return of 新罗区 has {before} unions");
    let version = engine.refresh(true).await.expect("versions")["grassroots_unions"];

    // An ingest stopped while creating a table leaves a log folder with no commit in it:
    // the engine goes on without that table.
    let unborn = lake.join("rights_cases").join("_delta_log");
    std::fs::create_dir_all(&unborn).expect("log folder");
    std::fs::write(unborn.join("00000000000000000000.json#1"), b"{").expect("staged file");
    let versions = engine
        .refresh(true)
        .await
        .expect("refresh over an unborn table");
    assert!(!versions.contains_key("rights_cases"), "{versions:?}");

    fixture::ingest(vec![second], &lake);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after: i64 = fixture::scalar(&engine, count)
        .await
        .parse()
        .expect("count");
    assert!(
        after > before,
        "after the 2017 return: {after}, before: {before}"
    );
    let years = fixture::scalar(&engine, "SELECT count(DISTINCT year) FROM union_coverage").await;
    assert_eq!(years, "2", "views follow the new commit too");

    // A filter on a partition column that the Delta scan cannot judge file by file still
    // holds for every row.
    let shifted = fixture::scalar(
        &engine,
        "SELECT concat(count(*), ' rows of ', min(year), '-', max(year)) \
         FROM grassroots_unions WHERE year + 1 = 2018",
    )
    .await;
    assert_eq!(shifted, format!("{} rows of 2017-2017", after - before));
    let none =
        "SELECT count(*) FROM grassroots_unions WHERE year = 1990 AND county_code = '350802'";
    assert_eq!(fixture::scalar(&engine, none).await, "0");

    let old = fixture::scalar(
        &engine,
        &format!("SELECT count(*) FROM table_at('grassroots_unions', {version})"),
    )
    .await;
    assert_eq!(old.parse::<i64>().expect("count"), before);
    let future = engine
        .sql(
            &Scope::local(),
            "SELECT count(*) FROM table_at('grassroots_unions', '2000-01-01T00:00:00Z')",
        )
        .await
        .expect_err("no version existed in 2000");
    assert_eq!(future.code, "invalid_sql", "{future}");
    assert!(future.message.contains("grassroots_unions"), "{future}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_plan_runs_again_to_the_same_answer_and_time_is_never_frozen() {
    let engine = fixture::engine().await;
    let csv = async |sql: &str| {
        let answer = engine
            .sql(&Scope::local(), sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut out = Vec::new();
        let mut writer = datafusion::arrow::csv::Writer::new(&mut out);
        for batch in answer.batches.iter() {
            writer.write(batch).expect("csv");
        }
        drop(writer);
        String::from_utf8(out).expect("utf8")
    };
    // Left joins (the names of towns and industries) and a sort with a limit: operators that
    // hold state from one run.
    let sql = "SELECT town_code, town_name, industry_name, unions, formation_rate \
        FROM union_coverage WHERE grain = 'town_industry' AND year = 2017 \
        ORDER BY unions DESC, town_code, industry_name LIMIT 50";
    let first = csv(sql).await;
    assert_eq!(first.lines().count(), 51, "{first}");
    for run in 2..=4 {
        assert_eq!(csv(sql).await, first, "run {run} of the kept plan");
    }
    let now = "SELECT CAST(now() AS VARCHAR)";
    let before = csv(now).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_ne!(csv(now).await, before, "now() moves on");
    let random = "SELECT random()";
    assert_ne!(
        csv(random).await,
        csv(random).await,
        "random() is drawn each time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_and_views_are_listed_with_columns_and_comments() {
    let engine = fixture::engine().await;
    assert_eq!(
        engine.missing_views(),
        vec![],
        "every view registers over a full lake"
    );
    let tables = engine.tables().await.expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "grassroots_unions",
        "regions",
        "published_indicators",
        "union_coverage",
        "reconciliation",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let unions = tables
        .iter()
        .find(|t| t.name == "grassroots_unions")
        .expect("unions");
    assert_eq!(unions.kind, "table");
    assert!(unions.version.is_some());
    let members = unions
        .columns
        .iter()
        .find(|c| c.name == "members")
        .expect("members column");
    assert_eq!(members.data_type, "Int64");
    assert_eq!(
        members.comment.as_deref(),
        Some("会员人数 / members at year end")
    );
    let view = tables
        .iter()
        .find(|t| t.name == "union_coverage")
        .expect("view");
    assert_eq!(view.kind, "view");
    assert!(view.description.contains("建会率"));
}
