//! Row- and column-level security through the engine: a county account sees only its county in
//! every table and view, whatever the SQL, personal columns are blank without `pii`, and an
//! answer cached for the city is never served to a county.

use datafusion::arrow::util::display::array_value_to_string;
use unionstat_query::accounts::Role;
use unionstat_query::{Answer, Engine, ErrorCode, Scope};

use crate::fixture;

const COUNTY: &str = "350803";

fn county() -> Scope {
    Scope {
        name: "yongding".into(),
        role: Role::County,
        county: Some(COUNTY.into()),
        pii: false,
        ..Scope::local()
    }
}

fn city() -> Scope {
    Scope {
        name: "analyst".into(),
        role: Role::City,
        county: None,
        pii: false,
        ..Scope::local()
    }
}

/// Every value of every row, as text.
fn rows(answer: &Answer) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for batch in answer.batches.iter() {
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| array_value_to_string(c, row).expect("text"))
                    .collect(),
            );
        }
    }
    out
}

async fn ask(engine: &Engine, scope: &Scope, sql: &str) -> Vec<Vec<String>> {
    let answer = engine
        .sql(scope, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows(&answer)
}

/// The county codes `sql`'s first column holds, without repeats.
async fn codes(engine: &Engine, scope: &Scope, sql: &str) -> Vec<String> {
    let mut codes: Vec<String> = ask(engine, scope, sql)
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_county_account_sees_only_its_county_in_every_table_and_view() {
    let engine = fixture::engine().await;
    let tables = engine.tables().await.expect("tables");
    let mut checked = 0;
    for t in &tables {
        if !t.columns.iter().any(|c| c.name == "county_code") || t.name == "regions" {
            continue;
        }
        let sql = format!("SELECT DISTINCT county_code FROM {}", t.name);
        let seen = codes(&engine, &county(), &sql).await;
        assert!(
            seen.iter().all(|c| c == COUNTY),
            "{} shows {seen:?} to {COUNTY}",
            t.name
        );
        if t.kind == "table" {
            // All of its own rows, no fewer.
            let mine = format!("SELECT count(*) FROM {}", t.name);
            let all = format!(
                "SELECT count(*) FROM {} WHERE county_code = '{COUNTY}'",
                t.name
            );
            assert_eq!(
                ask(&engine, &county(), &mine).await,
                ask(&engine, &Scope::local(), &all).await,
                "{}",
                t.name
            );
            let everyone = codes(&engine, &city(), &sql).await;
            assert!(everyone.len() > 1, "{}: the city sees {everyone:?}", t.name);
        }
        checked += 1;
    }
    assert!(
        checked >= 12,
        "only {checked} tables and views have counties"
    );
    // The city grain of a view totals the county's rows only.
    let city_members = "SELECT members FROM union_coverage WHERE grain = 'city' AND year = 2017";
    let county_members = format!(
        "SELECT members FROM union_coverage WHERE grain = 'county' AND year = 2017 \
         AND county_code = '{COUNTY}'"
    );
    assert_eq!(
        ask(&engine, &county(), city_members).await,
        ask(&engine, &Scope::local(), &county_members).await
    );
    assert_ne!(
        ask(&engine, &county(), city_members).await,
        ask(&engine, &city(), city_members).await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_written_to_escape_the_county_find_nothing_else() {
    let engine = fixture::engine().await;
    let only_mine = [
        "SELECT county_code FROM grassroots_unions WHERE county_code IN \
         (SELECT county_code FROM grassroots_unions WHERE county_code <> '350803')",
        "SELECT county_code FROM grassroots_unions UNION SELECT county_code FROM hardship_households",
        "WITH u AS (SELECT * FROM grassroots_unions) SELECT DISTINCT county_code FROM u",
        "SELECT DISTINCT county_code FROM table_at('grassroots_unions', 0)",
        "SELECT DISTINCT county_code FROM table_at('enterprises', '2100-01-01T00:00:00Z')",
        "SELECT g.county_code FROM regions r JOIN grassroots_unions g ON g.county_code = r.code",
        "SELECT county_code FROM (SELECT county_code, row_number() OVER () AS n FROM aid_disbursements) WHERE n > 0",
        "SELECT DISTINCT county_code FROM kpi_yoy WHERE county_code <> ''",
        "SELECT county_code FROM grassroots_unions WHERE EXISTS \
         (SELECT 1 FROM enterprises e WHERE e.county_code = '350802')",
    ];
    for sql in only_mine {
        let seen = codes(&engine, &county(), sql).await;
        assert!(seen.iter().all(|c| c == COUNTY), "{sql} showed {seen:?}");
    }
    // Joined to every county's outline, the other counties have no unions.
    let per_county = ask(
        &engine,
        &county(),
        "SELECT r.code, count(g.union_uscc) FROM regions r LEFT JOIN grassroots_unions g \
         ON g.county_code = r.code WHERE r.level = 'county' GROUP BY r.code ORDER BY r.code",
    )
    .await;
    assert_eq!(per_county.len(), 7, "{per_county:?}");
    for row in &per_county {
        assert_eq!(row[1] != "0", row[0] == COUNTY, "{per_county:?}");
    }
    // A condition that fails on any other county's row never meets one: the county's filter is
    // applied below it, and before it among the partition values that choose a partitioned
    // table's files. The same statement fails for an account that sees every county.
    for oracle in [
        "SELECT count(*) FROM submissions \
         WHERE period / (CASE WHEN county_code <> '350803' THEN 0 ELSE 1 END) > 0",
        "SELECT count(*) FROM grassroots_unions \
         WHERE year / (CASE WHEN county_code <> '350803' THEN 0 ELSE 1 END) > 0",
    ] {
        engine
            .sql(&county(), oracle)
            .await
            .unwrap_or_else(|e| panic!("{oracle} looked at another county: {e}"));
        let e = engine
            .sql(&city(), oracle)
            .await
            .expect_err("the city reads other counties' rows");
        assert!(
            e.message.to_lowercase().contains("divide by zero"),
            "{oracle}: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_shows_the_county_filter_and_explain_analyze_is_refused() {
    let engine = fixture::engine().await;
    let plan = ask(
        &engine,
        &county(),
        "EXPLAIN SELECT count(*) FROM grassroots_unions",
    )
    .await;
    let text = format!("{plan:?}");
    assert!(text.contains("ScopeExec: county_code = 350803"), "{text}");
    assert!(!text.contains("county_code=350802"), "{text}");
    let e = engine
        .sql(
            &county(),
            "EXPLAIN ANALYZE SELECT count(*) FROM submissions",
        )
        .await
        .expect_err("refused");
    assert_eq!(e.code, ErrorCode::Forbidden, "{e}");
    engine
        .sql(&city(), "EXPLAIN ANALYZE SELECT count(*) FROM submissions")
        .await
        .expect("the city may");
}

#[tokio::test(flavor = "multi_thread")]
async fn personal_columns_are_blank_without_pii() {
    let engine = fixture::engine().await;
    let sql = "SELECT count(id_number_hash), count(birth_date), count(gender), \
               count(DISTINCT gender) FROM hardship_households";
    let blank = ask(&engine, &city(), sql).await;
    assert_eq!(blank, [["0", "0", "0", "0"]]);
    let pii = Scope {
        pii: true,
        ..city()
    };
    let seen = ask(&engine, &pii, sql).await;
    assert_ne!(seen[0][0], "0", "{seen:?}");
    assert_eq!(seen[0][3], "2", "{seen:?}");
    // Other columns of the same rows stay: the households are counted, their reasons grouped.
    let reasons = ask(
        &engine,
        &city(),
        "SELECT count(*), count(DISTINCT hardship_reason) FROM hardship_households",
    )
    .await;
    assert_ne!(reasons[0][0], "0");
    // A filter on a blank column finds nothing to filter on.
    let by_gender = ask(
        &engine,
        &county(),
        "SELECT count(*) FROM hardship_households WHERE gender = '女'",
    )
    .await;
    assert_eq!(by_gender, [["0"]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_cached_for_the_city_is_never_served_to_a_county() {
    // The result cache and the plan cache on.
    let engine = fixture::engine_with(unionstat_query::Limits::default(), true).await;
    let sql = "SELECT count(*), count(DISTINCT county_code) FROM grassroots_unions";
    let first = ask(&engine, &city(), sql).await;
    let again = ask(&engine, &city(), sql).await;
    assert_eq!(first, again);
    let theirs = ask(&engine, &county(), sql).await;
    assert_eq!(theirs[0][1], "1", "{theirs:?}");
    assert_ne!(first, theirs);
    // And the other way round.
    let other = Scope {
        county: Some("350802".into()),
        ..county()
    };
    let second = ask(&engine, &other, sql).await;
    assert_ne!(second, theirs);
    assert_eq!(ask(&engine, &city(), sql).await, first);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_that_does_not_say_for_whom_is_refused() {
    let engine = fixture::engine().await;
    let frame = engine
        .context()
        .sql("SELECT count(*) FROM grassroots_unions")
        .await
        .expect("plans");
    let e = frame.collect().await.expect_err("refused");
    assert!(e.to_string().contains("without saying for whom"), "{e}");
}
