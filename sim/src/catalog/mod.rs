//! The catalog stand-in (what the Glue crawler or partition projection gives Athena): the
//! partitions of the delivered objects ([`partitions`]) and the schema of their rows
//! ([`schema`]). The DataFusion tables over them come with issue 6.

pub mod partitions;
pub mod schema;
