//! The limits a scenario is held to: the harness's own (how fast, how many, how much), and EC2's
//! rule for tag keys.

/// Fastest simulated clock: simulated seconds per real second.
pub const MAX_SPEED: u32 = 3_600;
/// Highest rate of one source, lines per simulated minute.
pub const MAX_PER_MINUTE: f64 = 60_000.0;
/// Most instances one scenario may launch.
pub const MAX_INSTANCES: usize = 500;

/// Longest EC2 tag key.
pub const MAX_TAG_KEY_LEN: usize = 128;

/// Whether EC2 takes `key` as a tag key: 1 to 128 characters, not in the reserved `aws:`
/// namespace.
pub(super) fn is_valid_tag_key(key: &str) -> bool {
    !key.is_empty() && key.chars().count() <= MAX_TAG_KEY_LEN && !key.starts_with("aws:")
}
