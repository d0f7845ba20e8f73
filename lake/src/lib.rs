//! The Athena stand-in. [`crawl`] catalogues the objects under a table's root as the Glue
//! crawler (or partition projection) would ([`partitions`], [`schema`]); [`table`] serves a
//! catalogued table to DataFusion straight from its store, pruning partitions;
//! [`session`] runs SQL over the tables with Athena's functions added ([`dialect`]);
//! [`output`] prints results and [`compare`] checks them against expected rows; [`gzip`]
//! decompresses the objects, [`store`] reaches them.

pub mod analysis;
pub mod compare;
pub mod crawl;
pub mod crawler;
pub mod dialect;
pub mod gzip;
pub mod output;
pub mod partitions;
pub mod schema;
pub mod serde_json_source;
pub mod session;
pub mod store;
pub mod table;

pub use crawl::{CrawlOptions, Location, TableEntry, crawl};
pub use session::{Lake, QueryError, QueryResult};
