//! Glue's Data Catalog where the emulator has none (LocalStack community and MiniStack lack
//! Glue): databases, tables and partitions in Glue's shapes ([`catalog`]) and crawlers
//! ([`crawlers`]), served over Glue's JSON API to real clients ([`endpoint`]), with Glue's
//! error codes. Athena's API builds on it.

pub mod catalog;
pub mod crawlers;
pub mod endpoint;

pub use catalog::{Catalog, GlueError};
pub use endpoint::{SharedCatalog, start, start_on};
