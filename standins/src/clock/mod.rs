//! The simulated clock: simulated time runs `speed` times faster than real time, and the run's
//! simulated window ends at the real time the run started. Every log timestamp therefore lies
//! in the past of the real clock, never more than the run's duration back, and inside
//! PutLogEvents' accepted window (at most 14 days old, never in the future), whatever the speed.
//!
//! [`wall_now_ms`] is the one place the wall clock is read (what CloudWatch Logs compares
//! timestamps with); [`SimDuration`] is a length of simulated time as scenarios write it.

mod duration;

pub use duration::SimDuration;

use std::time::Duration;

use tokio::time::Instant;

/// The real clock in epoch milliseconds (what CloudWatch Logs compares timestamps with).
pub fn wall_now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Maps real time to simulated time.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    real_start: Instant,
    sim_start_ms: i64,
    duration_ms: i64,
    speed: u32,
}

impl SimClock {
    /// A clock that starts now and covers `duration_ms` of simulated time, ending at the wall
    /// time `wall_now_ms`.
    pub fn new(wall_now_ms: i64, duration_ms: i64, speed: u32) -> Self {
        Self {
            real_start: Instant::now(),
            sim_start_ms: wall_now_ms - duration_ms,
            duration_ms,
            speed: speed.max(1),
        }
    }

    /// Simulated milliseconds per real millisecond.
    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// Simulated epoch milliseconds of the run's start.
    pub fn start_ms(&self) -> i64 {
        self.sim_start_ms
    }

    /// Simulated epoch milliseconds of the run's end.
    pub fn end_ms(&self) -> i64 {
        self.sim_start_ms + self.duration_ms
    }

    /// Simulated now, in epoch milliseconds; never past the end.
    pub fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.real_start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.sim_start_ms
            .saturating_add(elapsed.saturating_mul(i64::from(self.speed)))
            .min(self.end_ms())
    }

    /// Simulated milliseconds since the run's window ended (negative before; unlike
    /// [`Self::now_ms`], not held at the end): how long parts still working after the window,
    /// such as an agent retrying, have gone on.
    pub fn past_end_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.real_start.elapsed().as_millis()).unwrap_or(i64::MAX);
        elapsed
            .saturating_mul(i64::from(self.speed))
            .saturating_sub(self.duration_ms)
    }

    /// The real duration that `sim_ms` of simulated time takes.
    pub fn real(&self, sim_ms: i64) -> Duration {
        Duration::from_millis(u64::try_from(sim_ms.max(0)).unwrap_or(0) / u64::from(self.speed))
    }

    /// Sleeps until the simulated clock reads `sim_ms` (at once if it already has).
    pub async fn sleep_until(&self, sim_ms: i64) {
        let offset = (sim_ms - self.sim_start_ms).max(0);
        tokio::time::sleep_until(self.real_start + self.real(offset)).await;
    }

    /// Whether the simulated window is over.
    pub fn is_over(&self) -> bool {
        self.now_ms() >= self.end_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn simulated_time_runs_speed_times_faster_and_stops_at_the_end() {
        let clock = SimClock::new(1_000_000_000, 600_000, 60);
        assert_eq!(clock.now_ms(), 1_000_000_000 - 600_000);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(clock.now_ms(), 1_000_000_000 - 600_000 + 300_000);
        clock.sleep_until(clock.end_ms()).await;
        assert!(clock.is_over());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            clock.now_ms(),
            1_000_000_000,
            "never past the wall time the run started"
        );
        assert_eq!(clock.real(60_000), Duration::from_secs(1));
    }
}
