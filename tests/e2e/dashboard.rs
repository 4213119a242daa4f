//! The dashboard's HTTP API as the UI and other programs use it, against `unionstat serve` over
//! the scale-1 demo lake.

use crate::http::{get, request};
use crate::server::Server;

/// `text` percent-encoded for a query string.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The rows of a SQL answer, through the same server.
pub fn sql(addr: &str, sql: &str) -> Vec<serde_json::Value> {
    let r = request(addr, "POST", "/api/sql", &[], sql.as_bytes());
    assert_eq!(r.status, 200, "{sql}: {}", r.text());
    r.json()["rows"].as_array().expect("rows").clone()
}

fn rows(addr: &str, path: &str) -> Vec<serde_json::Value> {
    let r = get(addr, path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()["rows"].as_array().expect("rows").clone()
}

#[test]
fn every_documented_endpoint_answers_with_its_examples() {
    let server = Server::serve();
    let doc = get(&server.addr, "/api/openapi.json").json();
    let parameters = &doc["components"]["parameters"];
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "{} paths documented", paths.len());
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        // A path naming one thing (a submission, a table's template) is called on a thing that
        // exists, in the tests of that feature (dashboard/tests/it/returns.rs).
        if path.contains('{') {
            continue;
        }
        let mut query = Vec::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .expect("a $ref");
            if let Some(example) = parameters[name].get("example") {
                let value = example
                    .as_str()
                    .map_or_else(|| example.to_string(), str::to_string);
                query.push(format!("{name}={}", encode(&value)));
            }
        }
        let url = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", query.join("&"))
        };
        let r = get(&server.addr, &url);
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        let documented: Vec<&String> = op["responses"]["200"]["content"]
            .as_object()
            .map(|c| c.keys().collect())
            .unwrap_or_default();
        let media = r.header("content-type").unwrap_or_default();
        assert!(
            documented.is_empty() || documented.iter().any(|d| media.starts_with(d.as_str())),
            "{url} answered {media}, documented {documented:?}"
        );
    }
}

#[test]
fn the_map_shows_what_the_semantic_views_compute() {
    let server = Server::serve();
    let addr = &server.addr;
    let counties = rows(addr, "/api/map?metric=formation_rate&year=2017");
    let expected = sql(
        addr,
        "SELECT county_code AS code, formation_rate AS value FROM union_coverage \
         WHERE grain = 'county' AND year = 2017 ORDER BY formation_rate DESC",
    );
    assert_eq!(counties.len(), 7);
    for (shown, computed) in counties.iter().zip(&expected) {
        assert_eq!(shown["code"], computed["code"]);
        assert_eq!(shown["value"], computed["value"]);
    }
    assert_eq!(counties[0]["rank"], 1);
    assert_eq!(counties[6]["rank"], 7);
    let table: Vec<serde_json::Value> = counties
        .iter()
        .map(|r| serde_json::json!({"code": r["code"], "name_zh": r["name_zh"], "rank": r["rank"]}))
        .collect();
    insta::assert_json_snapshot!("map_counties_2017", table);

    // The county outlines, and the towns of 新罗区 with their schematic outlines.
    let outlines = get(addr, "/api/regions").json();
    assert_eq!(outlines["features"].as_array().map(Vec::len), Some(7));
    let towns = get(addr, "/api/regions?county=350802").json();
    let features = towns["features"].as_array().expect("features");
    let with_outline = sql(
        addr,
        "SELECT count(*) AS n FROM regions WHERE parent_code = '350802' AND geometry IS NOT NULL",
    );
    assert_eq!(Some(features.len() as u64), with_outline[0]["n"].as_u64());
    assert!(features.iter().all(|f| {
        f["properties"]["geometry_source"] == "schematic"
            && f["geometry"]["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("Polygon"))
    }));

    // Towns ranked: the top is the highest town value the view holds.
    let ranked = rows(addr, "/api/rankings?metric=members&year=2017&limit=5");
    let highest = sql(
        addr,
        "SELECT max(members) AS m FROM union_coverage WHERE grain = 'town' AND year = 2017",
    );
    assert_eq!(ranked[0]["value"].as_f64(), highest[0]["m"].as_f64());
    assert_eq!(ranked.len(), 10, "five at each end");

    // Industry filter: manufacturing only.
    let manufacturing = rows(addr, "/api/map?metric=members&year=2017&industry=C");
    let expected = sql(
        addr,
        "SELECT sum(members) AS m FROM union_coverage WHERE grain = 'county_industry' \
         AND year = 2017 AND industry_code = 'C'",
    );
    let total: f64 = manufacturing
        .iter()
        .filter_map(|r| r["value"].as_f64())
        .sum();
    assert_eq!(Some(total), expected[0]["m"].as_f64());

    // KPI cards: every year of the headline figures, with 同比.
    let overview = rows(addr, "/api/overview");
    let members: Vec<&serde_json::Value> = overview
        .iter()
        .filter(|r| r["metric"] == "members")
        .collect();
    assert_eq!(members.len(), 5);
    assert_eq!(
        members[4]["value"], 514_000.0,
        "the published 51.4万 members"
    );
    assert!(members[4]["yoy"].as_f64().is_some());
}

#[test]
fn bad_parameters_get_a_400_that_says_what_to_send() {
    let server = Server::serve();
    let mut answers = Vec::new();
    for path in [
        "/api/map?year=2017",
        "/api/map?metric=formation_rate&year=20x7",
        "/api/map?metric=formation_rate&year=2017&county=3508",
        "/api/map?metric=formation_rate&year=2017&industry=Z",
        "/api/map?metric=aid_amount&year=2017&industry=C",
        "/api/map?metric=formation_rate&year=2017&yeer=2016",
        "/api/unions?year=2017&page_size=0",
        "/api/overview?format=arrow",
        "/api/sites?year=2017&kind=%E9%A3%9F%E5%A0%82",
        "/api/nothing",
    ] {
        let r = get(&server.addr, path);
        assert!(
            r.status == 400 || (path == "/api/nothing" && r.status == 404),
            "{path}: {}",
            r.status
        );
        answers.push(serde_json::json!({"path": path, "status": r.status, "body": r.json()}));
    }
    insta::assert_json_snapshot!("bad_parameters", answers);
}

#[test]
fn unchanged_answers_are_304s_and_tables_download_as_files() {
    let server = Server::serve();
    let addr = &server.addr;
    let path = "/api/map?metric=membership_rate&year=2016";
    let first = get(addr, path);
    let etag = first.header("etag").expect("an ETag").to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = request(addr, "GET", path, &[("If-None-Match", &etag)], b"");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let other = request(
        addr,
        "GET",
        "/api/map?metric=members&year=2016",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(other.status, 200, "another question is not the same answer");

    let csv = get(addr, &format!("{path}&format=csv"));
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.contains("map.csv"))
    );
    assert!(
        csv.text()
            .starts_with("code,name_zh,name_en,value,rank,places\n"),
        "{}",
        csv.text()
    );
    assert_eq!(csv.text().lines().count(), 8);
    let xlsx = get(addr, &format!("{path}&format=xlsx"));
    assert!(xlsx.body.starts_with(b"PK"), "an XLSX file is a zip");
    let parquet = get(addr, &format!("{path}&format=parquet"));
    assert!(parquet.body.starts_with(b"PAR1") && parquet.body.ends_with(b"PAR1"));

    // The server's own warm-up requests count too, so only the 304 is known exactly.
    let metrics = get(addr, "/metrics").text();
    for line in [
        "unionstat_http_requests_total{route=\"/api/map\",method=\"GET\",status=\"304\"} 1",
        "unionstat_http_request_duration_seconds_bucket{route=\"/api/map\",le=\"+Inf\"}",
        "unionstat_table_version{table=\"grassroots_unions\"}",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}

#[test]
fn the_server_finishes_and_exits_on_sigterm() {
    let mut server = Server::serve();
    assert_eq!(get(&server.addr, "/healthz").json()["status"], "ok");
    let status = server.stop();
    assert!(status.success(), "exit status {status}");
}
