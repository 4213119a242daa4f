//! The JSON API through the router, in process: each panel's answer, a refused parameter, and
//! answers kept until the lake changes.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;
use unionstat_dashboard::auth::Auth;
use unionstat_export::ExportJobs;
use unionstat_query::accounts::{Directory, Store};
use unionstat_query::throttle::Throttle;
use unionstat_query::{Engine, EngineOptions};

use crate::fixture::lake_location;

async fn router() -> Router {
    let engine = Engine::open(&lake_location(), EngineOptions::default())
        .await
        .expect("the engine opens");
    let none = Store::new(std::env::temp_dir().join("unionstat-it-no-accounts/accounts.json"));
    let auth = Auth::new(
        Arc::new(Directory::open(none).expect("no accounts")),
        Arc::new(Throttle::default()),
        false,
        None,
    );
    unionstat_dashboard::router(
        Arc::new(engine),
        Arc::new(ExportJobs::new(None)),
        Arc::new(auth),
        64 << 20,
        None,
    )
}

/// Status, ETag and JSON body of `GET uri`, sending `if_none_match` when given.
async fn call(
    router: &Router,
    uri: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut request = Request::get(uri);
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("an answer");
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (status, etag, json)
}

fn rows(json: &serde_json::Value) -> &Vec<serde_json::Value> {
    json["rows"].as_array().expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_ranks_the_seven_counties_and_a_county_its_towns() {
    let router = router().await;
    let (status, _, map) = call(&router, "/api/map?metric=members&year=2017", None).await;
    assert_eq!(status, StatusCode::OK, "{map}");
    let counties = rows(&map);
    assert_eq!(counties.len(), 7, "{map}");
    assert_eq!(counties[0]["rank"], 1);
    assert!(counties.iter().all(|c| c["places"] == 7));
    let (_, _, towns) = call(
        &router,
        "/api/map?metric=members&year=2017&county=350802",
        None,
    )
    .await;
    let towns = rows(&towns);
    assert!(towns.len() > 10, "{} towns of 新罗区", towns.len());
    assert!(
        towns
            .iter()
            .all(|t| t["code"].as_str().is_some_and(|c| c.starts_with("350802")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_union_search_cannot_break_out_of_its_literal() {
    let router = router().await;
    let q = "x%27%20OR%20%271%27%3D%271"; // x' OR '1'='1
    let (status, _, answer) = call(&router, &format!("/api/unions?year=2017&q={q}"), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(rows(&answer).len(), 0, "the quote is searched for, not run");
    let (_, _, all) = call(&router, "/api/unions?year=2017&page_size=5", None).await;
    assert_eq!(rows(&all).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_parameter_is_a_400_that_names_it() {
    let router = router().await;
    let (status, _, answer) = call(&router, "/api/map?metric=members&year=20x7", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "bad_request");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("`year=20x7` is not a year")),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_answer_is_a_304() {
    let router = router().await;
    let (status, etag, _) = call(&router, "/api/overview", None).await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.expect("an ETag");
    let (status, _, _) = call(&router, "/api/overview", Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, _) = call(&router, "/api/overview?county=350802", Some(&etag)).await;
    assert_eq!(status, StatusCode::OK, "another place is another answer");
}
