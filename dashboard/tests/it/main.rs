//! Integration tests of the dashboard crate, in process: the server that `App::build` assembles,
//! on ports the system chooses, over a small lake that ingest built from generated returns.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod api;
mod app;
mod fixture;
mod logins;
mod returns;
