//! Integration tests of the datasets crate: one binary, one module per concern.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod partition;
