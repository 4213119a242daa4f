//! Answers tied to the lake's versions: each has an ETag made of the Delta versions of every
//! table, the caller's scope (what it may see) and the request, so a client that already holds
//! the answer gets a 304, and the body is kept until a table changes, so a busy big screen costs
//! one query per change. An answer kept for one scope is never served to another.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use unionstat_query::lru::Lru;
use unionstat_query::{QueryError, Scope};

/// A body ready to send.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Its media type.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Bytes,
    /// A file name when the body is a download.
    pub filename: Option<String>,
}

/// Answers requests through the cache.
#[derive(Debug)]
pub struct Responder {
    /// Bodies by ETag, within a budget of bytes.
    kept: Mutex<Lru<Reply>>,
}

impl Responder {
    /// A responder that keeps bodies of up to `bytes` together.
    pub fn new(bytes: usize) -> Self {
        Responder {
            kept: Mutex::new(Lru::new(bytes)),
        }
    }

    /// The reply to the request for `uri` over the lake at `versions`: 304 when the client's copy is current, the kept body
    /// when the lake has not changed, or else the body `make` computes.
    pub async fn reply<F, Fut>(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        scope: &Scope,
        versions: &BTreeMap<String, i64>,
        make: F,
    ) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Reply, QueryError>>,
    {
        let mut hash = Sha256::new();
        hash.update(format!("{}\u{0}{versions:?}\u{0}{uri}", scope.cache_key()));
        let etag = format!("W/\"{}\"", hex::encode(&hash.finalize()[..12]));
        let matches = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
        if matches {
            return with_etag(StatusCode::NOT_MODIFIED.into_response(), &etag);
        }
        let kept = self.kept.lock().ok().and_then(|mut k| k.get(&etag));
        let reply = match kept {
            Some(reply) => reply,
            None => match make().await {
                Ok(reply) => {
                    self.keep(&etag, &reply);
                    reply
                }
                Err(e) => return e.into_response(),
            },
        };
        let mut response = (
            [(header::CONTENT_TYPE, reply.content_type)],
            Body::from(reply.bytes),
        )
            .into_response();
        if let Some(name) = &reply.filename
            && let Ok(value) = HeaderValue::from_str(&format!(
                "attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
            ))
        {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        with_etag(response, &etag)
    }

    fn keep(&self, etag: &str, reply: &Reply) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.insert(etag.to_string(), reply.clone(), reply.bytes.len());
        }
    }
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    // Clients may keep the answer but must ask whether it is still current: a new return can
    // land at any time.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
