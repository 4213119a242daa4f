//! The lake's tables, defined once: the columns each return carries (names, Chinese headers and
//! the other headers counties write, types, what they mean), each table's key, allowed values,
//! part/whole rules and its schema in the lake. Ingest validates against these definitions, the
//! query engine describes and reads the tables by them, and the generator writes returns from them.
//!
//! ```
//! use unionstat_tables::{contract, Kind};
//!
//! let unions = contract("grassroots_unions").expect("a table");
//! assert_eq!(unions.key, ["union_uscc"]);
//! let members = &unions.spec.columns[unions.spec.index("members").expect("a column")];
//! assert_eq!((members.header_zh, members.kind), ("会员人数", Kind::Int));
//! assert!(unions.lake_schema().field_with_name("town_code").is_ok());
//! ```

mod column;
mod contract;
mod facts;

pub use column::{Column, Kind, TableSpec};
pub use contract::{CONTRACTS, Contract, PART_WHOLE, RETURN_CONSTANTS, contract, lineage_fields};
pub use facts::*;
