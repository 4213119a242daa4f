//! County returns through the server's real socket: templates, uploads into staging, every step
//! of the review and its refusals, what each county can see of the others' submissions, and
//! that uploads approved give the tables `unionstat ingest` gives for the same files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use unionstat_dashboard::app::{App, AppConfig};
use unionstat_generator::generate::Generator;
use unionstat_generator::returns::{self, Options};
use unionstat_ingest::pii::HashKey;
use unionstat_query::accounts::{NewAccount, Role, Store};
use unionstat_query::{Engine, EngineOptions, Scope};

use crate::fixture::{Reply, send, send_bytes};

const YONGDING: &str = "350803";

fn key() -> HashKey {
    HashKey::new(b"a test key of sufficient length".to_vec()).expect("key")
}

fn ingest_options(lake: &Path) -> unionstat_ingest::Options {
    let mut options = unionstat_ingest::Options::new(&lake.to_string_lossy());
    options.hash_key = Some(key());
    options
}

/// Generated returns (clean, or with a share of bad rows) under `dir`.
fn generate(dir: &Path, dirty_rate: f64) -> PathBuf {
    let options = Options {
        seed: 42,
        scale: 0.2,
        dirty_rate,
        members: false,
    };
    returns::write_all(dir, &mut Generator::new(0.2, 42), &options).expect("returns");
    dir.to_path_buf()
}

/// The fact-table returns of county `code` under `data`.
fn returns_of(data: &Path, code: &str) -> Vec<PathBuf> {
    let name = unionstat_datasets::reference::county(code)
        .expect("a county")
        .name_zh;
    unionstat_ingest::run::collect_files(&[data.join("returns")])
        .expect("files")
        .into_iter()
        .filter(|p| {
            let text = p.to_string_lossy();
            (text.contains(code) || text.contains(name))
                && unionstat_ingest::identify::table_from_name(p).is_some()
        })
        .collect()
}

async fn ingest(paths: Vec<PathBuf>, lake: &Path) {
    let report = unionstat_ingest::ingest(&paths, &ingest_options(lake))
        .await
        .expect("ingest runs");
    assert!(report.exit_code() <= 1, "{}", report.summary());
}

fn basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

struct Server {
    http: SocketAddr,
    logins: std::collections::HashMap<&'static str, String>,
    _server: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(lake: &Path) -> Server {
        let accounts = lake.join("_system").join("accounts.json");
        let store = Store::new(&accounts);
        let mut logins = std::collections::HashMap::new();
        for (name, role, county) in [
            ("city", Role::City, None),
            ("yongding", Role::County, Some(YONGDING)),
            ("xinluo", Role::County, Some("350802")),
            ("screen", Role::Viewer, None),
        ] {
            let mut new = NewAccount::new(name, role);
            if let Some(c) = county {
                new = new.county(c);
            }
            let password = store.update(|a| a.add(new, None)).expect("added");
            logins.insert(name, basic(name, &password));
        }
        let app = App::build(AppConfig {
            accounts: Some(accounts),
            ingest: Some(ingest_options(lake)),
            // Small enough to test the cap; the generator's returns here are far smaller.
            max_upload_mb: Some(1),
            ..AppConfig::new(&lake.to_string_lossy(), "127.0.0.1:0", "127.0.0.1:0")
        })
        .await
        .expect("the server starts");
        let http = app.http_addr();
        let server = tokio::spawn(async move {
            app.serve_until(std::future::pending())
                .await
                .expect("serves");
        });
        Server {
            http,
            logins,
            _server: server,
        }
    }

    async fn get(&self, who: &str, path: &str) -> Reply {
        send(
            self.http,
            "GET",
            path,
            &[("Authorization", &self.logins[who])],
            "",
        )
        .await
    }

    async fn post(&self, who: &str, path: &str, body: &str) -> Reply {
        send(
            self.http,
            "POST",
            path,
            &[
                ("Authorization", &self.logins[who]),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .await
    }

    /// Uploads `bytes` as `name` in the multipart field `file`.
    async fn upload(&self, who: &str, name: &str, bytes: &[u8]) -> Reply {
        let boundary = "unionstat-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        send_bytes(
            self.http,
            "POST",
            "/api/submissions",
            &[
                ("Authorization", &self.logins[who]),
                ("Content-Type", &content_type),
            ],
            &body,
        )
        .await
    }

    /// The first value of `sql` as the city sees it.
    async fn value(&self, sql: &str) -> serde_json::Value {
        let reply = self.post("city", "/api/sql", sql).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let json = reply.json();
        let column = json["columns"][0]["name"]
            .as_str()
            .expect("a column")
            .to_string();
        json["rows"][0][&column].clone()
    }
}

fn file_of(paths: &[PathBuf], stem: &str) -> PathBuf {
    paths
        .iter()
        .find(|p| p.to_string_lossy().contains(stem))
        .unwrap_or_else(|| panic!("no {stem} return in {paths:?}"))
        .clone()
}

fn name(path: &Path) -> String {
    path.file_name()
        .expect("a name")
        .to_string_lossy()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_return_is_uploaded_corrected_reviewed_approved_and_withdrawn() {
    let dir = tempfile::tempdir().expect("tmp");
    let clean = generate(&dir.path().join("clean"), 0.0);
    let dirty = generate(&dir.path().join("dirty"), 0.05);
    let lake = dir.path().join("lake");
    let unions = unionstat_tables::GRASSROOTS_UNIONS.file_stem;
    let others: Vec<PathBuf> = unionstat_ingest::run::collect_files(&[clean.join("returns")])
        .expect("files")
        .into_iter()
        .filter(|p| {
            !(returns_of(&clean, YONGDING).contains(p) && p.to_string_lossy().contains(unions))
        })
        .collect();
    ingest([vec![clean.join("reference")], others].concat(), &lake).await;
    let server = Server::start(&lake).await;
    let count =
        "SELECT count(*) AS n FROM grassroots_unions WHERE county_code = '350803' AND year = 2017";
    assert_eq!(server.value(count).await, 0);

    // The template: the county's own, as a workbook; not another county's; not for viewers.
    let template = server
        .get(
            "yongding",
            "/api/templates/grassroots_unions.xlsx?period=2017",
        )
        .await;
    assert_eq!(template.status, 200, "{}", template.text());
    assert!(template.body.starts_with(b"PK"));
    assert!(
        template
            .header("content-disposition")
            .is_some_and(|d| d.contains("350803") && d.contains("2017")),
        "{:?}",
        template.header("content-disposition")
    );
    let other = server
        .get(
            "yongding",
            "/api/templates/grassroots_unions.xlsx?county=350802",
        )
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(
        server
            .get("screen", "/api/templates/grassroots_unions.xlsx")
            .await
            .status,
        403
    );

    // The template uploaded as it comes: nothing in it is refused.
    let empty = server
        .upload(
            "yongding",
            "350803永定区_基层工会组织情况_2017.xlsx",
            &template.body,
        )
        .await;
    assert_eq!(empty.status, 201, "{}", empty.text());
    let empty = empty.json();
    assert_eq!(empty["state"], "staged");
    assert_eq!(empty["table"], "grassroots_unions");
    assert_eq!(empty["county_code"], YONGDING);
    assert_eq!(empty["period"], 2017);
    assert_eq!(empty["report"]["errors"].as_array().map(Vec::len), Some(0));

    // A return with bad rows: staged, each error with its cell; the annotated workbook.
    let bad_file = file_of(&returns_of(&dirty, YONGDING), &format!("{unions}_2017"));
    let bad = server
        .upload(
            "yongding",
            &name(&bad_file),
            &std::fs::read(&bad_file).expect("file"),
        )
        .await;
    assert_eq!(bad.status, 201, "{}", bad.text());
    let bad = bad.json();
    let bad_id = bad["id"].as_str().expect("an id").to_string();
    assert_eq!(bad["state"], "staged");
    let quarantined = bad["rows_quarantined"].as_u64().expect("a count");
    assert!(quarantined > 0, "{bad}");
    let errors = bad["errors"].as_array().expect("errors");
    assert_eq!(
        errors.len(),
        bad["report"]["errors"].as_array().expect("errors").len()
    );
    assert!(
        errors.iter().all(|e| {
            let cell = e["cell"].as_str().unwrap_or("");
            cell.ends_with(&e["row"].to_string())
                && e["message_zh"].as_str().is_some_and(|m| !m.is_empty())
        }),
        "{errors:?}"
    );
    let annotated = server
        .get(
            "yongding",
            &format!("/api/submissions/{bad_id}/annotated.xlsx"),
        )
        .await;
    assert_eq!(annotated.status, 200);
    assert!(annotated.body.starts_with(b"PK"));

    // Files refused before validation: not what the name says, and over the size cap.
    let lying = server
        .upload(
            "yongding",
            "350803永定区_基层工会组织情况_2017.xlsx",
            b"a,b\n1,2\n",
        )
        .await;
    assert_eq!(lying.status, 422, "{}", lying.text());
    assert_eq!(lying.json()["state"], "refused");
    assert!(
        lying.json()["report"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a .xlsx file")),
        "{}",
        lying.text()
    );
    let huge = server
        .upload(
            "yongding",
            "350803永定区_基层工会组织情况_2017.csv",
            &vec![b'x'; 1_200_000],
        )
        .await;
    assert_eq!(huge.status, 413, "{}", huge.text());

    // Another county sees none of it, and cannot send 350803's return.
    let theirs = server.get("xinluo", "/api/submissions").await;
    assert_eq!(theirs.status, 200);
    let theirs = theirs.json();
    let theirs = theirs.as_array().expect("a list");
    assert!(
        !theirs.is_empty(),
        "350802's returns loaded by ingest are listed as approved"
    );
    assert!(
        theirs
            .iter()
            .all(|s| s["county_code"] == "350802" && s["state"] == "approved"),
        "{theirs:?}"
    );
    for path in [
        format!("/api/submissions/{bad_id}"),
        format!("/api/submissions/{bad_id}/annotated.xlsx"),
        format!("/api/submissions/{bad_id}/original"),
    ] {
        assert_eq!(server.get("xinluo", &path).await.status, 404, "{path}");
    }
    assert_eq!(
        server
            .post("xinluo", &format!("/api/submissions/{bad_id}/submit"), "")
            .await
            .status,
        404
    );
    let wrong = server
        .upload(
            "xinluo",
            &format!("350803永定区_{}", name(&bad_file)),
            &std::fs::read(&bad_file).expect("file"),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    assert!(
        wrong.json()["report"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("350802")),
        "{}",
        wrong.text()
    );
    let events = "SELECT count(*) AS n FROM submission_events WHERE county_code = '350803'";
    let seen = send(
        server.http,
        "POST",
        "/api/sql",
        &[("Authorization", &server.logins["xinluo"])],
        events,
    )
    .await;
    assert_eq!(seen.status, 200, "{}", seen.text());
    assert_eq!(seen.json()["rows"][0]["n"], 0);
    assert_eq!(server.get("screen", "/api/submissions").await.status, 403);
    // The progress matrix of a county account has its own row only.
    let matrix = server
        .get("xinluo", "/api/submissions/matrix?period=2017")
        .await;
    assert_eq!(matrix.status, 200, "{}", matrix.text());
    let rows: Vec<serde_json::Value> = matrix.json()["counties"]
        .as_array()
        .expect("counties")
        .iter()
        .map(|c| c["county_code"].clone())
        .collect();
    assert_eq!(rows, ["350802"]);

    // Submitted, returned with a reason (not without one), never approved by the county.
    let step = |who: &'static str, id: String, action: &'static str, body: &'static str| {
        let server = &server;
        async move {
            server
                .post(who, &format!("/api/submissions/{id}/{action}"), body)
                .await
        }
    };
    let submitted = step("yongding", bad_id.clone(), "submit", "").await;
    assert_eq!(submitted.status, 200, "{}", submitted.text());
    assert_eq!(submitted.json()["state"], "submitted");
    assert_eq!(
        step("yongding", bad_id.clone(), "submit", "").await.status,
        409
    );
    assert_eq!(
        step("yongding", bad_id.clone(), "approve", "").await.status,
        403
    );
    assert_eq!(step("city", bad_id.clone(), "return", "").await.status, 400);
    let returned = step(
        "city",
        bad_id.clone(),
        "return",
        r#"{"reason": "请改正标红的行"}"#,
    )
    .await;
    assert_eq!(returned.status, 200, "{}", returned.text());
    assert_eq!(returned.json()["state"], "returned");
    assert_eq!(returned.json()["comment"], "请改正标红的行");
    assert_eq!(
        server.value(count).await,
        0,
        "nothing counts before approval"
    );

    // The correction: uploaded, submitted, approved once; the table changes only now.
    let good_file = file_of(&returns_of(&clean, YONGDING), &format!("{unions}_2017"));
    let good = server
        .upload(
            "yongding",
            &name(&good_file),
            &std::fs::read(&good_file).expect("file"),
        )
        .await;
    assert_eq!(good.status, 201, "{}", good.text());
    let good = good.json();
    let good_id = good["id"].as_str().expect("an id").to_string();
    assert_eq!(good["rows_quarantined"], 0);
    let detail = server
        .get("yongding", &format!("/api/submissions/{good_id}"))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    assert_eq!(
        detail.json()["totals"]["staged"]["rows"],
        good["rows_loaded"]
    );
    assert_eq!(detail.json()["totals"]["published"]["rows"], 0);
    assert_eq!(
        step("yongding", good_id.clone(), "submit", "").await.status,
        200
    );
    assert_eq!(
        server.value(count).await,
        0,
        "nothing counts before approval"
    );
    let approved = step("city", good_id.clone(), "approve", "").await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["state"], "approved");
    assert_eq!(
        step("city", good_id.clone(), "approve", "").await.status,
        409
    );
    assert_eq!(server.value(count).await, good["rows_loaded"]);
    let recorded = format!(
        "SELECT count(*) AS n FROM submissions WHERE submission_id = '{good_id}' AND outcome = 'loaded'"
    );
    assert_eq!(server.value(&recorded).await, 1);
    let matrix = server
        .get("city", "/api/submissions/matrix?period=2017")
        .await;
    assert_eq!(matrix.status, 200, "{}", matrix.text());
    let yongding = matrix.json()["counties"]
        .as_array()
        .expect("counties")
        .iter()
        .find(|c| c["county_code"] == YONGDING)
        .cloned()
        .expect("350803");
    assert_eq!(yongding["tables"]["grassroots_unions"]["state"], "approved");
    let steps = server
        .value(&format!(
            "SELECT string_agg(state, ',' ORDER BY at) AS s FROM submission_events WHERE submission_id = '{bad_id}'"
        ))
        .await;
    assert_eq!(steps, "staged,submitted,returned");

    // Withdrawn: the table holds what it held before, in a new commit.
    let withdrawn = step("city", good_id.clone(), "withdraw", "").await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["state"], "withdrawn");
    assert_eq!(server.value(count).await, 0);
    assert_eq!(
        step("city", good_id.clone(), "withdraw", "").await.status,
        409
    );

    // The uploaded file is kept, byte for byte, for its county.
    let original = server
        .get("yongding", &format!("/api/submissions/{good_id}/original"))
        .await;
    assert_eq!(original.status, 200);
    assert_eq!(original.body, std::fs::read(&good_file).expect("file"));
}

/// The rows of every fact table of `county`, lineage left out, sorted, as text.
async fn tables_of(lake: &Path, county: &str) -> Vec<(String, String)> {
    let engine = Engine::open(&lake.to_string_lossy(), EngineOptions::default())
        .await
        .expect("the engine opens");
    let lineage = [
        "submission_id",
        "source_file",
        "source_sheet",
        "ingested_at",
        "source_row",
    ];
    let mut out = Vec::new();
    for contract in &unionstat_tables::CONTRACTS {
        let table = contract.spec.name;
        let columns: Vec<String> = contract
            .lake_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !lineage.contains(&n.as_str()))
            .collect();
        let list = columns.join(", ");
        let sql =
            format!("SELECT {list} FROM {table} WHERE county_code = '{county}' ORDER BY {list}");
        let text = match engine.sql(&Scope::local(), &sql).await {
            Ok(answer) => arrow::util::pretty::pretty_format_batches(&answer.batches)
                .expect("printable")
                .to_string(),
            Err(e) => format!("{e}"),
        };
        out.push((table.to_string(), text));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_uploaded_and_approved_give_the_tables_ingest_gives() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = generate(&dir.path().join("data"), 0.0);
    let files = returns_of(&data, YONGDING);
    assert!(files.len() >= 8, "{files:?}");
    let (by_ingest, by_upload) = (dir.path().join("ingested"), dir.path().join("uploaded"));
    ingest(
        [vec![data.join("reference")], files.clone()].concat(),
        &by_ingest,
    )
    .await;
    ingest(vec![data.join("reference")], &by_upload).await;
    let server = Server::start(&by_upload).await;
    for file in &files {
        let reply = server
            .upload("yongding", &name(file), &std::fs::read(file).expect("file"))
            .await;
        assert_eq!(reply.status, 201, "{}: {}", file.display(), reply.text());
        let id = reply.json()["id"].as_str().expect("an id").to_string();
        let submit = server
            .post("yongding", &format!("/api/submissions/{id}/submit"), "")
            .await;
        assert_eq!(submit.status, 200, "{}", submit.text());
        let approve = server
            .post("city", &format!("/api/submissions/{id}/approve"), "")
            .await;
        assert_eq!(approve.status, 200, "{}", approve.text());
    }
    let (a, b) = (
        tables_of(&by_ingest, YONGDING).await,
        tables_of(&by_upload, YONGDING).await,
    );
    let mut compared = 0;
    for ((table, ingested), (_, uploaded)) in a.iter().zip(&b) {
        if table == unionstat_tables::MEMBERS.name {
            // The generator wrote no member registry here: neither lake has the table.
            assert_eq!(ingested, uploaded);
            continue;
        }
        compared += 1;
        assert!(ingested.lines().count() > 4, "{table}: {ingested}");
        assert!(
            ingested == uploaded,
            "{table} differs:\n{ingested}\n---\n{uploaded}"
        );
    }
    assert_eq!(compared, 8);
}
