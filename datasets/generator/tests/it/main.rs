//! Integration tests of the generator: one binary, one module per concern.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod calibration;
mod returns;
