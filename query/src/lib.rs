//! SQL over the unionstat lake with Apache DataFusion: one long-lived engine with the lake's
//! Delta tables (following new commits), semantic views for the figures people ask about,
//! spatial functions, time travel and guards, behind the CLI, HTTP and the Postgres protocol.
//!
//! ```no_run
//! # async fn run() -> unionstat_query::Result<()> {
//! use unionstat_query::{Engine, EngineOptions, Scope, output};
//!
//! let engine = Engine::open("data/lake", EngineOptions::default()).await?;
//! let answer = engine
//!     .sql(&Scope::local(), "SELECT county_name, members, membership_rate FROM union_coverage \
//!           WHERE grain = 'county' AND year = 2017 ORDER BY members DESC")
//!     .await?;
//! let table = output::write(&answer, output::Format::Table)?;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod audit;
pub mod bounded;
pub mod catalog;
pub mod config;
pub mod engine;
pub mod error;
pub mod group_by_code;
pub mod guard;
pub mod http;
pub mod indicators;
pub mod lru;
pub mod output;
pub mod panels;
pub mod pg;
pub mod policy;
pub mod scan;
pub mod throttle;
pub mod time_travel;
pub mod tls;
pub mod views;

pub use engine::{Answer, Engine, EngineOptions};
pub use error::{ErrorCode, QueryError, Result};
pub use guard::Limits;
pub use policy::Scope;
