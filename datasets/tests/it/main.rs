//! Integration tests of the datasets crate: one binary, one module per concern.

mod calibration;
mod partition;
mod peek;
