//! A server with accounts, through its real sockets: who may log in, how (session cookie with
//! CSRF token, Basic, Bearer, Postgres SCRAM), and what each role and county sees through every
//! door: the dashboard's endpoints and downloads, `POST /api/sql` and the Postgres endpoint.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;
use unionstat_dashboard::app::{App, AppConfig};
use unionstat_query::accounts::{NewAccount, Role, Store};

use crate::fixture::{Reply, get, lake_location, send};

const COUNTY: &str = "350803";

/// Passwords and a token of the accounts the server knows.
struct Logins {
    admin: String,
    city: String,
    county: String,
    viewer: String,
    county_token: String,
}

fn accounts(dir: &std::path::Path) -> (PathBuf, Logins) {
    let path = dir.join("accounts.json");
    let store = Store::new(&path);
    let add = |new: NewAccount| store.update(|a| a.add(new, None)).expect("added");
    let logins = Logins {
        admin: add(NewAccount::new("it", Role::Admin)),
        city: add(NewAccount::new("analyst", Role::City)),
        county: add(NewAccount::new("yongding", Role::County).county(COUNTY)),
        viewer: add(NewAccount::new("screen", Role::Viewer)),
        county_token: store.update(|a| a.new_token("yongding")).expect("token"),
    };
    add(NewAccount::new("gone", Role::City));
    store
        .update(|a| a.set_disabled("gone", true))
        .expect("disabled");
    (path, logins)
}

fn basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

async fn sql(addr: SocketAddr, auth: &str, query: &str) -> Reply {
    send(addr, "POST", "/api/sql", &[("Authorization", auth)], query).await
}

/// The first column of a JSON answer, without repeats.
fn first_column(reply: &Reply) -> BTreeSet<String> {
    let json = reply.json();
    let column = json["columns"][0]["name"]
        .as_str()
        .expect("a column")
        .to_string();
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[&column].to_string().trim_matches('"').to_string())
        .collect()
}

async fn start(accounts: PathBuf) -> (SocketAddr, SocketAddr, tokio::task::JoinHandle<()>) {
    let app = App::build(AppConfig {
        accounts: Some(accounts),
        ..AppConfig::new(&lake_location(), "127.0.0.1:0", "127.0.0.1:0")
    })
    .await
    .expect("the server starts");
    assert!(app.requires_login());
    let http = app.http_addr();
    let (_, pg) = app.pg().expect("accounts turn the Postgres endpoint on");
    let server = tokio::spawn(async move {
        app.serve_until(std::future::pending())
            .await
            .expect("serves");
    });
    (http, pg, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_door_needs_a_login_and_a_county_sees_only_its_county() {
    let dir = tempfile::tempdir().expect("tmp");
    let (path, logins) = accounts(dir.path());
    let (http, pg, server) = start(path).await;

    // Without a login: /healthz and the login page only.
    assert_eq!(get(http, "/healthz").await.status, 200);
    let page = get(http, "/login").await;
    assert!(
        page.status == 200 && page.text().contains("登录"),
        "{}",
        page.text()
    );
    let api = get(http, "/api/overview").await;
    assert_eq!(api.status, 401);
    assert_eq!(api.json()["error"], "unauthorized");
    let home = get(http, "/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.header("location").as_deref(), Some("/login?next=/"));
    assert_eq!(
        send(http, "POST", "/api/sql", &[], "SELECT 1").await.status,
        401
    );

    // SQL over HTTP, as a county with Basic and with its token, as the city.
    let county = basic("yongding", &logins.county);
    let query = "SELECT DISTINCT county_code FROM grassroots_unions \
                 UNION SELECT county_code FROM hardship_households";
    let theirs = sql(http, &county, query).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text());
    assert_eq!(first_column(&theirs), BTreeSet::from([COUNTY.to_string()]));
    let bearer = format!("Bearer {}", logins.county_token);
    assert_eq!(
        first_column(&sql(http, &bearer, query).await),
        BTreeSet::from([COUNTY.to_string()])
    );
    let city = basic("analyst", &logins.city);
    assert_eq!(first_column(&sql(http, &city, query).await).len(), 7);

    // The dashboard's answers and downloads: asked by the city first, then by the county, which
    // must not get the city's kept answer.
    let unions = "/api/unions?year=2017&page_size=10000&format=csv";
    let by_city = send(http, "GET", unions, &[("Authorization", &city)], "").await;
    let by_county = send(http, "GET", unions, &[("Authorization", &county)], "").await;
    assert_eq!(by_city.status, 200, "{}", by_city.text());
    assert_eq!(by_county.status, 200, "{}", by_county.text());
    assert_ne!(by_city.header("etag"), by_county.header("etag"));
    // Every union listed for the county is in it; the city's list has others.
    let in_county = |line: &str| line.contains(&format!(",{COUNTY},"));
    let county_lines: Vec<String> = by_county.text().lines().skip(1).map(String::from).collect();
    assert!(county_lines.len() > 10, "{county_lines:?}");
    assert!(
        county_lines.iter().all(|l| in_county(l)),
        "{county_lines:?}"
    );
    assert!(by_city.text().lines().skip(1).any(|l| !in_county(l)));
    // A county's own client cannot use the city's ETag to get a 304 for the city's answer.
    let etag = by_city.header("etag").expect("an etag");
    let revalidated = send(
        http,
        "GET",
        unions,
        &[("Authorization", &county), ("If-None-Match", &etag)],
        "",
    )
    .await;
    assert_eq!(revalidated.status, 200);

    // The viewer: the dashboard, no SQL; /metrics and exports are the admin's.
    let viewer = basic("screen", &logins.viewer);
    let overview = send(
        http,
        "GET",
        "/api/overview",
        &[("Authorization", &viewer)],
        "",
    )
    .await;
    assert_eq!(overview.status, 200);
    let refused = sql(http, &viewer, "SELECT 1").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error"], "forbidden");
    for path in ["/metrics", "/api/exports"] {
        let as_city = send(http, "GET", path, &[("Authorization", &city)], "").await;
        assert_eq!(as_city.status, 403, "{path}");
        let as_admin = send(
            http,
            "GET",
            path,
            &[("Authorization", &basic("it", &logins.admin))],
            "",
        )
        .await;
        assert_eq!(as_admin.status, 200, "{path}");
    }

    // Personal columns: blank for the city, there for the admin.
    let personal = "SELECT count(id_number_hash) AS n FROM hardship_households";
    assert_eq!(
        first_column(&sql(http, &city, personal).await),
        BTreeSet::from(["0".to_string()])
    );
    assert_ne!(
        first_column(&sql(http, &basic("it", &logins.admin), personal).await),
        BTreeSet::from(["0".to_string()])
    );

    // Postgres: each account as itself; the viewer is refused, a wrong password too.
    let connect = |user: &str, password: &str| {
        let url = format!(
            "host={} port={} user={user} password='{password}' dbname=datafusion",
            pg.ip(),
            pg.port()
        );
        async move { tokio_postgres::connect(&url, tokio_postgres::NoTls).await }
    };
    let (client, connection) = connect("yongding", &logins.county)
        .await
        .expect("the county logs in");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT DISTINCT county_code FROM union_coverage WHERE county_code IS NOT NULL",
            &[],
        )
        .await
        .expect("a prepared statement");
    let seen: BTreeSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    assert_eq!(seen, BTreeSet::from([COUNTY.to_string()]));
    let simple = client
        .simple_query("SELECT count(DISTINCT county_code) FROM enterprises")
        .await
        .expect("a simple query");
    let count = simple.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("1"));
    let e = connect("screen", &logins.viewer)
        .await
        .err()
        .expect("the viewer is refused");
    let why = e.as_db_error().map(|d| d.message().to_string());
    assert!(
        why.as_deref().is_some_and(|m| m.contains("viewer")),
        "{e}: {why:?}"
    );
    assert!(connect("analyst", "not the password").await.is_err());
    assert!(connect("nobody", "not the password").await.is_err());

    // All of it is in the audit, which only the admin reads.
    let admin = basic("it", &logins.admin);
    let audit = sql(
        http,
        &admin,
        "SELECT event, \"user\", interface, outcome, sql FROM audit",
    )
    .await;
    assert_eq!(audit.status, 200, "{}", audit.text());
    let lines: Vec<String> = audit.json()["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["event"], r["user"], r["interface"], r["outcome"]
            )
        })
        .collect();
    for expected in [
        r#""query" "yongding" "http" "ok""#,
        r#""query" "yongding" "postgres" "ok""#,
        r#""query" "analyst" "dashboard" "ok""#,
        r#""query" "screen" "dashboard" "ok""#,
        r#""login" "yongding" "postgres" "ok""#,
        r#""login_failed" "analyst" "postgres" "unauthorized""#,
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} not in {lines:?}"
        );
    }
    let refused = sql(http, &city, "SELECT count(*) FROM audit").await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_their_csrf_token_and_end_at_logout() {
    let dir = tempfile::tempdir().expect("tmp");
    let (path, logins) = accounts(dir.path());
    let (http, _, server) = start(path).await;
    let json = |name: &str, password: &str| {
        serde_json::json!({"name": name, "password": password}).to_string()
    };

    let wrong = send(
        http,
        "POST",
        "/api/login",
        &[],
        &json("analyst", "wrong password"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let login = send(
        http,
        "POST",
        "/api/login",
        &[],
        &json("analyst", &logins.city),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let set = login.header("set-cookie").expect("a cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = set.split(';').next().expect("name=value").to_string();
    let csrf = login.json()["csrf"].as_str().expect("a token").to_string();
    assert_eq!(login.json()["role"], "city");

    let with_cookie = [("Cookie", cookie.as_str())];
    assert_eq!(
        get_with(http, "/api/overview", &with_cookie).await.status,
        200
    );
    let me = get_with(http, "/api/me", &with_cookie).await.json();
    assert_eq!(me["name"], "analyst");
    assert_eq!(me["csrf"], csrf.as_str());
    // A change without the session's token is refused, with it allowed.
    let bare = send(http, "POST", "/api/sql", &with_cookie, "SELECT 1").await;
    assert_eq!(bare.status, 403, "{}", bare.text());
    let headers = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    assert_eq!(
        send(http, "POST", "/api/sql", &headers, "SELECT 1")
            .await
            .status,
        200
    );
    let forged = [("Cookie", "unionstat_session=00ff00ff")];
    assert_eq!(get_with(http, "/api/overview", &forged).await.status, 401);

    // A form login, as the page sends it, goes where it was asked to.
    let form = send(
        http,
        "POST",
        "/api/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("name=analyst&password={}&next=%2F%3Ftab%3Dsql", logins.city),
    )
    .await;
    assert_eq!(form.status, 303);
    assert_eq!(form.header("location").as_deref(), Some("/?tab=sql"));
    let failed = send(
        http,
        "POST",
        "/api/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "name=analyst&password=nope&next=%2F",
    )
    .await;
    assert_eq!(
        failed.header("location").as_deref(),
        Some("/login?failed=1&next=/")
    );

    // Logout ends the session.
    assert_eq!(
        send(http, "POST", "/api/logout", &headers, "").await.status,
        204
    );
    assert_eq!(
        get_with(http, "/api/overview", &with_cookie).await.status,
        401
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_accounts_new_passwords_and_guessing_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let (path, logins) = accounts(dir.path());
    let store = Store::new(&path);
    let (http, _, server) = start(path).await;

    let gone = send(
        http,
        "GET",
        "/api/overview",
        &[("Authorization", &basic("gone", "whatever it was"))],
        "",
    )
    .await;
    assert_eq!(gone.status, 401);
    assert_eq!(
        sql(http, "Bearer ust_not_a_token", "SELECT 1").await.status,
        401
    );

    // Disabling an account takes effect on its next request, its token included.
    let county = basic("yongding", &logins.county);
    assert_eq!(sql(http, &county, "SELECT 1").await.status, 200);
    store
        .update(|a| a.set_disabled("yongding", true))
        .expect("disabled");
    assert_eq!(sql(http, &county, "SELECT 1").await.status, 401);
    let bearer = format!("Bearer {}", logins.county_token);
    assert_eq!(sql(http, &bearer, "SELECT 1").await.status, 401);

    // A new password ends the old one (and the sessions made with it).
    let city = basic("analyst", &logins.city);
    assert_eq!(sql(http, &city, "SELECT 1").await.status, 200);
    let new = store
        .update(|a| a.set_password("analyst", None))
        .expect("changed");
    assert_eq!(sql(http, &city, "SELECT 1").await.status, 401);
    assert_eq!(
        sql(http, &basic("analyst", &new), "SELECT 1").await.status,
        200
    );

    // Guessing: after at most five wrong passwords (from this address, counting the ones
    // above), tries are slowed down, even with the right password.
    let guess = basic("it", "a guess of 10 characters");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sql(http, &guess, "SELECT 1").await.status);
    }
    let wrong = statuses.iter().take_while(|s| **s == 401).count();
    assert!((1..=5).contains(&wrong), "{statuses:?}");
    assert!(statuses[wrong..].iter().all(|s| *s == 429), "{statuses:?}");
    let slowed = sql(http, &basic("it", &logins.admin), "SELECT 1").await;
    assert_eq!(slowed.status, 429, "{}", slowed.text());
    assert_eq!(slowed.json()["error"], "throttled");
    server.abort();
}

async fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(addr, "GET", path, headers, "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_accounts_from_the_dashboard() {
    let dir = tempfile::tempdir().expect("tmp");
    let (path, logins) = accounts(dir.path());
    let (http, _, server) = start(path).await;
    let login = |name: &str, password: &str| {
        let body = serde_json::json!({"name": name, "password": password}).to_string();
        async move {
            let reply = send(http, "POST", "/api/login", &[], &body).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let cookie = reply.header("set-cookie").expect("a cookie");
            let cookie = cookie.split(';').next().expect("name=value").to_string();
            (
                cookie,
                reply.json()["csrf"].as_str().expect("csrf").to_string(),
            )
        }
    };
    let (cookie, csrf) = login("it", &logins.admin).await;
    let admin = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];

    let listed = send(http, "GET", "/api/admin/users", &admin, "").await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let names: Vec<String> = listed
        .json()
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["name"].as_str().expect("a name").to_string())
        .collect();
    assert_eq!(names, ["it", "analyst", "yongding", "screen", "gone"]);
    assert!(!listed.text().contains("argon2"), "no secrets are listed");

    // A new county account, as the form sends it; its password works at once.
    let added = send(
        http,
        "POST",
        "/api/admin/users",
        &[("Content-Type", "application/json"), admin[0], admin[1]],
        r#"{"name": "shanghang", "role": "county", "county": "350823", "pii": false}"#,
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.text());
    let password = added.json()["password"]
        .as_str()
        .expect("a password")
        .to_string();
    let theirs = sql(
        http,
        &basic("shanghang", &password),
        "SELECT DISTINCT county_code FROM grassroots_unions",
    )
    .await;
    assert_eq!(
        first_column(&theirs),
        BTreeSet::from(["350823".to_string()])
    );
    // Without the session's CSRF token the same request is refused.
    let forged = send(
        http,
        "POST",
        "/api/admin/users",
        &[("Content-Type", "application/json"), admin[0]],
        r#"{"name": "intruder", "role": "admin"}"#,
    )
    .await;
    assert_eq!(forged.status, 403);

    // A token, then the account disabled: its token stops working too.
    let token = send(http, "POST", "/api/admin/users/shanghang/token", &admin, "").await;
    let token = token.json()["token"].as_str().expect("a token").to_string();
    assert_eq!(
        sql(http, &format!("Bearer {token}"), "SELECT 1")
            .await
            .status,
        200
    );
    let disabled = send(
        http,
        "POST",
        "/api/admin/users/shanghang/disable",
        &admin,
        "",
    )
    .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    assert_eq!(
        sql(http, &format!("Bearer {token}"), "SELECT 1")
            .await
            .status,
        401
    );
    let itself = send(http, "POST", "/api/admin/users/it/disable", &admin, "").await;
    assert_eq!(itself.status, 400);

    // Nobody else manages accounts.
    let city = basic("analyst", &logins.city);
    for (method, path) in [
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users/yongding/password"),
    ] {
        let refused = send(http, method, path, &[("Authorization", &city)], "").await;
        assert_eq!(refused.status, 403, "{path}");
    }
    assert_eq!(
        sql(http, &basic("yongding", &logins.county), "SELECT 1")
            .await
            .status,
        200
    );
    server.abort();
}
