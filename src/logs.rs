//! Logs of every subcommand, on standard error, through `tracing`. `RUST_LOG` chooses what is
//! logged with its usual syntax of levels by target (`info`, `warn,unionstat_query=debug`, ...);
//! `UNIONSTAT_LOG` is read when `RUST_LOG` is not set, and a bare level there (`debug`) applies to
//! unionstat's own crates only. `UNIONSTAT_LOG_FORMAT=json` writes one JSON object a line, for log
//! collectors.
//!
//! The filter is `tracing_subscriber`'s `Targets`, which reads the target and level directives of
//! `RUST_LOG` but not its span and field filters: those need regular expressions, and the
//! `env-filter` feature that brings them changes the features of `regex` that DataFusion is built
//! with, so that everything above it is compiled twice.

use std::io::IsTerminal as _;
use std::str::FromStr as _;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Starts logging; `default` is the filter when neither variable is set: `warn,unionstat=info`
/// for servers, `warn` for commands that print their own progress.
pub fn init(default: &str) {
    let directives = match (std::env::var("RUST_LOG"), std::env::var("UNIONSTAT_LOG")) {
        (Ok(filter), _) => filter,
        (Err(_), Ok(level)) if is_bare_level(&level) => format!("warn,unionstat={level}"),
        (Err(_), Ok(filter)) => filter,
        (Err(_), Err(_)) => default.to_string(),
    };
    let filter = Targets::from_str(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter `{directives}` ({e}); logging `{default}`");
        Targets::from_str(default).unwrap_or_default()
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let json = std::env::var("UNIONSTAT_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(layer.json()).try_init()
    } else {
        registry.with(layer).try_init()
    };
}

fn is_bare_level(text: &str) -> bool {
    ["trace", "debug", "info", "warn", "error", "off"]
        .iter()
        .any(|l| text.eq_ignore_ascii_case(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_level_is_told_from_a_filter() {
        assert!(is_bare_level("debug"));
        assert!(is_bare_level("WARN"));
        assert!(!is_bare_level("warn,unionstat_query=debug"));
        let filter = Targets::from_str("warn,unionstat=debug").expect("a filter");
        assert!(filter.would_enable("unionstat_query::engine", &tracing::Level::DEBUG));
        assert!(!filter.would_enable("datafusion::physical_plan", &tracing::Level::INFO));
    }
}
