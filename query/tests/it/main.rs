//! Integration tests of the query crate: the engine, views, guards, HTTP and Postgres endpoints
//! over a lake that ingest built from the generator's scale-1 Longyan data.
// Tests say on standard error what they skipped.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

mod catalog;
mod fixture;
mod guards;
mod http;
mod pg;
mod policy;
mod slt;
