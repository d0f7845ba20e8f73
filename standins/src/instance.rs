//! What the stand-ins know of an instance beyond its id: its operating system, which decides
//! the SSM document it runs and how SSM describes it.

use serde::{Deserialize, Serialize};

/// An instance's operating system (its image's platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Linux (a Linux AMI; `aws:runShellScript` steps).
    Linux,
    /// Windows (a Windows AMI; `aws:runPowerShellScript` steps).
    Windows,
}
