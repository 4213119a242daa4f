//! Every refusal is a clear error with a stable code, and the engine keeps answering after it.

use std::time::Duration;

use unionstat_query::{Limits, Scope};

use crate::fixture;

async fn refused(engine: &unionstat_query::Engine, sql: &str) -> unionstat_query::QueryError {
    let e = engine.sql(&Scope::local(), sql).await.expect_err(sql);
    let still = fixture::scalar(engine, "SELECT count(*) FROM regions").await;
    assert!(
        still.parse::<i64>().expect("count") > 100,
        "the engine still answers after `{sql}`"
    );
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_that_write_or_read_server_files_are_refused() {
    let engine = fixture::engine().await;
    for (sql, code) in [
        (
            "CREATE EXTERNAL TABLE pw STORED AS CSV LOCATION '/etc/passwd'",
            "read_only",
        ),
        ("COPY regions TO '/tmp/regions.parquet'", "read_only"),
        (
            "INSERT INTO industries VALUES ('Z', '虚构', 'made up')",
            "read_only",
        ),
        ("DELETE FROM submissions", "read_only"),
        ("CREATE VIEW v AS SELECT 1", "read_only"),
        (
            "SET datafusion.execution.target_partitions = 1",
            "read_only",
        ),
        ("SELECT * FROM '/etc/passwd'", "file_access"),
        ("SELECT * FROM 'file:///etc/hosts'", "file_access"),
        ("SELECT * FROM no_such_table", "unknown_table"),
        ("SELEC 1", "invalid_sql"),
    ] {
        let e = refused(&engine, sql).await;
        assert_eq!(e.code, code, "{sql}: {e}");
        assert!(!e.message.is_empty());
    }
    let e = refused(&engine, "COPY regions TO '/tmp/regions.parquet'").await;
    assert!(e.message.contains("read-only"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_over_the_memory_limit_fails_cleanly() {
    let limits = Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let engine = fixture::engine_with(limits, false).await;
    let e = refused(
        &engine,
        "SELECT a.union_uscc, b.union_uscc, count(*) FROM grassroots_unions a \
         CROSS JOIN grassroots_unions b GROUP BY 1, 2",
    )
    .await;
    assert_eq!(e.code, "memory_limit", "{e}");
    assert_eq!(e.http_status(), 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_past_the_timeout_is_cancelled_and_releases_its_memory() {
    let limits = Limits {
        timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let engine = fixture::engine_with(limits, false).await;
    for sql in [
        // A filter over a cross join of 35,000 unions with itself: seconds of work.
        "SELECT a.union_uscc, count(*) FROM grassroots_unions a CROSS JOIN grassroots_unions b \
         WHERE a.members + b.members = 12345 GROUP BY 1",
        // Three of them, summed: the join emits batch after batch without waiting for input,
        // so the work must be made to yield for the cancellation to reach it.
        "SELECT sum(a.members * b.members + c.members) \
         FROM grassroots_unions a, grassroots_unions b, grassroots_unions c",
    ] {
        let e = engine
            .sql(&Scope::local(), sql)
            .await
            .expect_err("runs for long");
        assert_eq!(e.code, "timeout", "{sql}: {e}");
        // Had the work gone on in the background, it would hold the join's memory until it
        // finished, hours later.
        let mut released = false;
        for _ in 0..50 {
            if engine.memory_reserved() == 0 {
                released = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            released,
            "{sql}: memory still held: {}",
            engine.memory_reserved()
        );
        assert_eq!(fixture::scalar(&engine, "SELECT 1").await, "1");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn results_past_the_row_cap_are_refused() {
    let limits = Limits {
        max_rows: 100,
        ..Limits::default()
    };
    let engine = fixture::engine_with(limits, false).await;
    let e = refused(&engine, "SELECT * FROM grassroots_unions").await;
    assert_eq!(e.code, "too_many_rows", "{e}");
    assert!(e.message.contains("100 rows"), "{e}");
    let fits = fixture::scalar(
        &engine,
        "SELECT count(*) FROM (SELECT * FROM regions LIMIT 100)",
    )
    .await;
    assert_eq!(fits, "100");
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_beyond_the_concurrency_cap_are_refused_while_others_run() {
    let limits = Limits {
        max_concurrent: 1,
        queue_wait: Duration::from_millis(100),
        timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let engine = fixture::engine_with(limits, false).await;
    let slow = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .sql(
                    &Scope::local(),
                    // Far more rows than 3 s can count, made in batches that a timeout can stop.
                    "SELECT count(*) FROM range(1000000000000)",
                )
                .await
        })
    };
    // Other tests load the machine too: wait until the count holds the slot.
    for _ in 0..300 {
        if engine.running() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(engine.running(), 1, "the count runs until its timeout");
    let e = engine
        .sql(&Scope::local(), "SELECT 1")
        .await
        .expect_err("the only slot is taken");
    assert_eq!(e.code, "busy", "{e}");
    assert_eq!(e.http_status(), 503);
    let e = slow
        .await
        .expect("task")
        .expect_err("the count outlasts its 3 s timeout");
    assert_eq!(e.code, "timeout", "{e}");
    assert_eq!(fixture::scalar(&engine, "SELECT 1").await, "1");
}
