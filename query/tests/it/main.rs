//! Integration tests of the query crate: the engine, views, guards, HTTP and Postgres endpoints
//! over a lake that ingest built from the generator's scale-1 Longyan data.

mod catalog;
mod fixture;
mod guards;
mod http;
mod pg;
mod slt;
