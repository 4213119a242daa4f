//! Refuses requests that change state or run SQL when a browser sends them from another site.
//! Any web page a user opens could otherwise POST SQL to the server on `localhost` (a
//! cross-origin `text/plain` POST needs no preflight); browsers name the page's origin in
//! `Origin` and `Sec-Fetch-Site`, so such a request is told apart from the dashboard's own and
//! from clients that are not browsers (curl, pandas, scripts), which send neither.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Passes reads, and writes from the dashboard's own pages or from clients that are not
/// browsers; refuses writes a browser sends from another origin with `403 cross_origin`.
pub async fn same_origin(request: Request, next: Next) -> Response {
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if reads || !foreign(request.headers()) {
        return next.run(request).await;
    }
    let body = serde_json::json!({
        "error": "cross_origin",
        "message": "this request came from a page on another site and was refused; \
                    open the dashboard itself, or send the request from a script or a SQL client",
    });
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

/// Whether a browser says the request comes from a page of another origin.
fn foreign(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => false,
        (Some(origin), Some(host)) => {
            let authority = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            authority != Some(host)
        }
        (Some(_), None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_browsers_on_other_sites_are_foreign() {
        assert!(!foreign(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(!foreign(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(foreign(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(foreign(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(foreign(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!foreign(&headers(&[("sec-fetch-site", "same-origin")])));
    }
}
