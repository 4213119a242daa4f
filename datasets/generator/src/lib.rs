//! A calibrated generator of the returns Longyan's county unions send: five years (2013-2017) of
//! records that reproduce every figure of the federation's published review that detail data can,
//! written as each county writes its files (workbooks with merged headers, GBK or UTF-8 CSV), with
//! faults for ingest to catch and their corrections. Only the command line and tests compile it.
//!
//! ```no_run
//! use unionstat_generator::{generate::Generator, returns};
//!
//! let mut generator = Generator::new(1.0, 42);
//! let options = returns::Options { seed: 42, scale: 1.0, dirty_rate: 0.01, members: false };
//! let summary = returns::write_all("data/longyan".as_ref(), &mut generator, &options)?;
//! println!("{} returns", summary.files.len());
//! # Ok::<(), returns::Error>(())
//! ```

pub mod calibration;
pub mod generate;
pub mod returns;
pub mod table;
