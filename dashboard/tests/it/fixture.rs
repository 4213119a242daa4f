//! The lake the tests read: the generator's clean Longyan returns at scale 0.2, loaded by ingest
//! once per test run, and a plain HTTP/1.1 client for the server's own socket.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use unionstat_generator::generate::Generator;
use unionstat_generator::returns::{self, Options};
use unionstat_ingest::pii::HashKey;

/// The lake, built on first use.
pub fn lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-fixture");
        let _ = std::fs::remove_dir_all(&root);
        let (data, lake) = (root.join("data"), root.join("lake"));
        let options = Options {
            seed: 42,
            scale: 0.2,
            dirty_rate: 0.0,
            members: false,
        };
        returns::write_all(&data, &mut Generator::new(0.2, 42), &options).expect("returns");
        let paths = vec![data.join("reference"), data.join("returns")];
        let location = lake.to_string_lossy().to_string();
        std::thread::spawn(move || {
            let mut options = unionstat_ingest::Options::new(&location);
            options.hash_key =
                Some(HashKey::new(b"a test key of sufficient length".to_vec()).expect("key"));
            let report = tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(unionstat_ingest::ingest(&paths, &options))
                .expect("ingest runs");
            assert_eq!(report.exit_code(), 0, "{}", report.summary());
        })
        .join()
        .expect("ingest thread");
        lake
    })
}

/// The lake's location as `AppConfig` takes it.
pub fn lake_location() -> String {
    lake().to_string_lossy().to_string()
}

/// An answer: status, header and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of header `name` (the first, when several).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// `GET path` on the server at `addr`, over a connection of its own.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> Reply {
    send(addr, "GET", path, &[], "").await
}

/// `method path` with `headers` and `body` on the server at `addr`, over a connection of its own.
pub async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    send_bytes(addr, method, path, headers, body.as_bytes()).await
}

/// [`send`] with a body of any bytes.
pub async fn send_bytes(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.expect("sends");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reads");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the helper reads whole bodies only: {head}"
    );
    Reply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}
