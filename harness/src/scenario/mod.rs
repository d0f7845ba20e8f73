//! Scenario files: what one replay run simulates. A scenario names the stack definition it runs
//! against, the fleet (groups of instances with their OS, tags, launch times and whether they
//! ever register with SSM), the log profile of each group (one generator per source with its
//! rate, bursts and multi-line events, or a real corpus file replayed), the simulated duration
//! and how fast the simulated clock runs, the subscription filter, and the expected per-stage
//! counts. The format is documented in `docs/scenarios.md`; every mistake is reported with its
//! key.

mod load;
mod rules;
mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use load::{LoadedScenario, ScenarioError};
pub use rules::{MAX_INSTANCES, MAX_PER_MINUTE, MAX_SPEED, MAX_TAG_KEY_LEN};
pub use standins::clock::SimDuration;
pub use standins::instance::Os;
pub use types::*;
