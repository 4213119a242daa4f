//! Reference data for Longyan and a calibrated generator of the returns its county unions send.
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

pub mod calibration;
pub mod codes;
pub mod crs;
pub mod generate;
pub mod geography;
pub mod published;
pub mod reference;
pub mod returns;
pub mod rng;
pub mod schema;
pub mod table;
