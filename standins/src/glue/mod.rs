//! Glue's Data Catalog where the emulator has none (LocalStack community and MiniStack lack
//! Glue): databases, tables and partitions in Glue's shapes ([`catalog`]), served over Glue's
//! JSON API to real clients ([`endpoint`]), with Glue's error codes. The crawler and Athena's
//! API build on it.

pub mod catalog;
pub mod endpoint;

pub use catalog::{Catalog, GlueError};
pub use endpoint::{SharedCatalog, start};
