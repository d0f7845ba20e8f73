//! Athena's API where the emulator has none (LocalStack community and MiniStack lack Athena),
//! over `lake` (DataFusion with Athena's dialect): workgroups ([`workgroups`]), saved queries
//! ([`named_queries`]), query executions with their states, statistics and failure reasons
//! ([`executions`]), result sets and the result files Athena writes ([`results`]), the tables
//! read from the Glue stand-in's catalog ([`engine`]), all served over Athena's JSON API to real
//! clients ([`endpoint`]) with Athena's error codes.

pub mod endpoint;
pub mod engine;
pub mod executions;
pub mod named_queries;
pub mod rest;
pub mod results;
mod stand_ins;
pub mod workgroups;

pub use endpoint::{start, start_on};
pub use engine::{Buckets, MemoryBuckets, S3Buckets};
pub use executions::Athena;
pub use stand_ins::{CatalogStandIns, Ports};

/// An error as Athena answers it: its code and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AthenaError {
    /// `InvalidRequestException`: a request Athena refuses (unknown workgroup, query execution
    /// or saved query, a missing output location, results asked of a query not done).
    #[error("InvalidRequestException: {0}")]
    InvalidRequest(String),
}

impl AthenaError {
    /// The error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequestException",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidRequest(m) => m,
        }
    }
}

/// A new identifier in the form Athena gives its query executions and saved queries (a UUID,
/// version 4).
pub fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let variant = ["8", "9", "a", "b"][usize::from(bytes[8] >> 6)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The words for a workgroup the account does not have. Athena's text ("WorkGroup <name> is
/// not found.") as quoted in users' reports; the API Reference gives only the code.
fn no_workgroup(name: &str) -> AthenaError {
    AthenaError::InvalidRequest(format!("WorkGroup {name} is not found."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_uuids() {
        let id = new_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(new_id(), id);
    }
}
