//! Progress bars on standard error while a run works: simulated time with launches and
//! onboardings, then a spinner while the subscription drains. Drawn only on a terminal.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use standins::clock::SimClock;

/// Real time between two updates of the simulated-time bar.
const CLOCK_BAR_TICK: Duration = Duration::from_millis(200);
/// Real time between two frames of the drain spinner.
const SPINNER_TICK: Duration = Duration::from_millis(120);

/// The bars of one run (all hidden when progress is off).
#[derive(Debug)]
pub(super) struct Progress {
    multi: MultiProgress,
    clock_bar: ProgressBar,
    fleet_bar: ProgressBar,
    drain: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub(super) fn new(enabled: bool, clock: &SimClock, instances: usize) -> Self {
        let target = if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let seconds = u64::try_from((clock.end_ms() - clock.start_ms()) / 1000).unwrap_or(0);
        let style = |template: &str| {
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
        };
        let clock_bar = multi.add(ProgressBar::new(seconds));
        clock_bar.set_style(style("simulated {bar:30} {pos}/{len} s  {msg}"));
        let fleet_bar = multi.add(ProgressBar::new(instances as u64));
        fleet_bar.set_style(style("fleet     {bar:30} {pos}/{len} launched  {msg}"));
        let drain = ProgressBar::new_spinner();
        let ticker = enabled.then(|| {
            let (bar, clock) = (clock_bar.clone(), *clock);
            tokio::spawn(async move {
                loop {
                    bar.set_position(
                        u64::try_from((clock.now_ms() - clock.start_ms()) / 1000).unwrap_or(0),
                    );
                    if clock.is_over() {
                        return;
                    }
                    tokio::time::sleep(CLOCK_BAR_TICK).await;
                }
            })
        });
        Self {
            multi,
            clock_bar,
            fleet_bar,
            drain,
            ticker,
        }
    }

    pub(super) fn launched(&self, count: usize) {
        self.fleet_bar.set_position(count as u64);
    }

    pub(super) fn onboarded(&self, decided: usize) {
        self.fleet_bar
            .set_message(format!("{decided} onboarding outcomes"));
    }

    pub(super) fn clock_done(&self) {
        self.clock_bar.finish();
        self.fleet_bar.finish();
    }

    pub(super) fn draining(&self) {
        let drain = self.multi.add(self.drain.clone());
        drain.set_message("waiting for the subscription to deliver every event");
        drain.enable_steady_tick(SPINNER_TICK);
    }

    pub(super) fn finish(&self) {
        self.drain.finish_and_clear();
        if let Some(ticker) = &self.ticker {
            ticker.abort();
        }
    }
}
