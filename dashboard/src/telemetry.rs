//! Request counts and latencies by route for Prometheus, and one log line per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// What the server has answered since it started.
#[derive(Debug)]
pub struct Telemetry {
    started: Instant,
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            started: Instant::now(),
            series: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Middleware: times each request and logs it.
pub async fn record(
    State(telemetry): State<Arc<Telemetry>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = request.method().to_string();
    let uri = request.uri().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    if status >= 500 {
        tracing::warn!(%method, %uri, status, ms = seconds * 1e3, "request failed");
    } else if status >= 400 {
        tracing::info!(%method, %uri, status, ms = seconds * 1e3, "request refused");
    } else {
        tracing::debug!(%method, %uri, status, ms = seconds * 1e3, "request");
    }
    if let Ok(mut series) = telemetry.series.lock() {
        let s = series.entry((route, method, status)).or_default();
        s.count += 1;
        s.seconds += seconds;
        for (bucket, bound) in s.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }
    response
}

impl Telemetry {
    /// The request series in Prometheus's text format.
    pub fn render(&self, out: &mut String) {
        let series = self.series.lock().map(|s| s.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP unionstat_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(out, "# TYPE unionstat_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "unionstat_uptime_seconds {:.3}",
            self.started.elapsed().as_secs_f64()
        );
        let _ = writeln!(
            out,
            "# HELP unionstat_http_requests_total HTTP requests answered, by route, method and status."
        );
        let _ = writeln!(out, "# TYPE unionstat_http_requests_total counter");
        for ((route, method, status), s) in &series {
            let _ = writeln!(
                out,
                "unionstat_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP unionstat_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE unionstat_http_request_duration_seconds histogram"
        );
        let mut by_route: BTreeMap<&str, Series> = BTreeMap::new();
        for ((route, _, _), s) in &series {
            let r = by_route.entry(route).or_default();
            r.count += s.count;
            r.seconds += s.seconds;
            for (a, b) in r.buckets.iter_mut().zip(s.buckets) {
                *a += b;
            }
        }
        for (route, s) in by_route {
            let name = "unionstat_http_request_duration_seconds";
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {:.6}", s.seconds);
            let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", s.count);
        }
    }
}
