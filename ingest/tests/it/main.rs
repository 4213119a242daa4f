//! Integration tests of ingest: one binary, one module per concern.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod concurrency;
mod crash;
mod formats;
mod generated;
mod helpers;
mod rejections;
