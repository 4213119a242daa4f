//! Reference data for Longyan: its counties, towns and parks with their codes and boundaries, the
//! industry sections, the figures of the federation's five-year review, and the checks of the codes
//! returns carry. The synthetic returns are made apart from it, by `unionstat-generator`
//! (`datasets/generator`), which only the command line and tests compile.
//!
//! ```
//! use unionstat_datasets::{geography, published, reference};
//!
//! assert_eq!(reference::towns().len(), 141); // 133 towns and street offices, 8 parks
//! let xinluo = geography::region("350802").expect("a county");
//! assert!(xinluo.area_km2 > 2500.0);
//! let unions = published::indicator("grassroots_unions").expect("a published figure");
//! assert_eq!(unions.value, 7086.0);
//! ```

pub mod codes;
pub mod crs;
pub mod geography;
pub mod published;
pub mod reference;
pub mod rng;
