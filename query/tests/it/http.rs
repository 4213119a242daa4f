//! `POST /api/sql` and `GET /api/tables` through a real socket.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixture;

async fn serve() -> SocketAddr {
    let engine = fixture::engine().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        // The scope the server's login layer would give a caller of a server without accounts.
        let router = unionstat_query::http::router(engine)
            .layer(axum::Extension(unionstat_query::Scope::local()));
        axum::serve(listener, router).await.expect("server runs");
    });
    addr
}

/// One HTTP/1.1 request; the status, the content type and the body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    accept: &str,
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept: {accept}\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head ends");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head[9..12].parse().expect("status");
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, content_type, response[split + 4..].to_vec())
}

const CITY_2017: &str =
    "SELECT year, unions, members FROM union_coverage WHERE grain = 'city' AND year = 2017";

#[tokio::test(flavor = "multi_thread")]
async fn a_query_answers_in_json_csv_arrow_and_parquet() {
    let addr = serve().await;
    let (status, content_type, body) = request(addr, "POST", "/api/sql", "*/*", CITY_2017).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        json["rows"],
        serde_json::json!([{"year": 2017, "unions": 7086, "members": 514000}])
    );
    assert_eq!(json["row_count"], 1);
    assert_eq!(
        json["columns"][0],
        serde_json::json!({"name": "year", "type": "Int64"})
    );

    let (status, content_type, body) =
        request(addr, "POST", "/api/sql", "text/csv", CITY_2017).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/csv; charset=utf-8")
    );
    assert_eq!(
        String::from_utf8(body).expect("UTF-8"),
        "year,unions,members\n2017,7086,514000\n"
    );

    let (status, _, body) = request(addr, "POST", "/api/sql?format=arrow", "*/*", CITY_2017).await;
    assert_eq!(status, 200);
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(body), None)
            .expect("Arrow IPC stream");
    let batches: Vec<_> = reader.collect::<Result<_, _>>().expect("batches");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("table")
        .to_string();
    assert!(text.contains("| 2017 | 7086   | 514000  |"), "{text}");

    let (status, content_type, body) =
        request(addr, "POST", "/api/sql?format=parquet", "*/*", CITY_2017).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/vnd.apache.parquet")
    );
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        axum::body::Bytes::from(body),
    )
    .expect("Parquet")
    .build()
    .expect("reader");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_json_with_a_stable_code_and_the_server_keeps_answering() {
    let addr = serve().await;
    let cases = [
        ("DROP TABLE regions", 400, "read_only"),
        ("SELECT * FROM '/etc/passwd'", 400, "file_access"),
        ("SELECT * FROM nowhere", 400, "unknown_table"),
        ("SELECT 1 +", 400, "invalid_sql"),
        ("", 400, "bad_request"),
    ];
    for (sql, status, code) in cases {
        let (got, content_type, body) = request(addr, "POST", "/api/sql", "*/*", sql).await;
        assert_eq!(got, status, "{sql}");
        assert_eq!(content_type, "application/json");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(json["error"], code, "{sql}: {json}");
        assert_eq!(json.as_object().expect("object").len(), 2, "{json}");
    }
    let (_, _, body) = request(addr, "POST", "/api/sql", "*/*", "DROP TABLE regions").await;
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({
            "error": "read_only",
            "message": "DROP TABLE is not allowed: SQL here is read-only (SELECT, WITH, EXPLAIN, SHOW); \
                        data enters the lake only through `unionstat ingest`"
        })
    );
    let (status, _, body) = request(addr, "POST", "/api/sql?format=xml", "*/*", "SELECT 1").await;
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["error"], "bad_request");
    let (status, _, _) = request(addr, "POST", "/api/sql", "*/*", CITY_2017).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_list_describes_tables_and_views() {
    let addr = serve().await;
    let (status, _, body) = request(addr, "GET", "/api/tables", "*/*", "").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let regions = json
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["name"] == "regions")
        .expect("regions");
    assert_eq!(regions["kind"], "table");
    assert!(
        regions["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .any(|c| c["name"] == "geometry")
    );
}
