//! The ledger as the agents' host ([`AgentHost`]): an agent reads the records its instance
//! wrote from the ledger and reports each one's fate back into it. The generation the agent
//! reads before its calls is the ledger's count of completed emulator restarts, so that an
//! event sent into a state a restart then lost can be told apart.
//!
//! A call that got no answer while the emulator was restarting (one began after the agent read
//! the generation) may have been accepted before the emulator went away: the subscription may
//! even have read its events already. Its events are recorded as sent before that restart, at
//! risk like every event sent before one: landed, they are delivered; not landed, they are
//! lost to the restart by name. Without a restart, an unanswered call is refused, as the agent
//! drops the batch on AWS.

use std::sync::{Arc, Mutex};

use standins::cloudwatch_agent::{AgentHost, EventOutcome, HostRecord};
use standins::faults::RestartGate;

use super::{Ledger, ShippedEvent};
use crate::locked;

/// The run's ledger, shared by its agents, and the emulator's restarts.
#[derive(Debug, Clone)]
pub struct LedgerHost {
    ledger: Arc<Mutex<Ledger>>,
    restarts: Arc<RestartGate>,
}

impl LedgerHost {
    /// The host of `ledger`'s records, in a run whose emulator restarts through `restarts`.
    pub fn new(ledger: Arc<Mutex<Ledger>>, restarts: Arc<RestartGate>) -> Self {
        Self { ledger, restarts }
    }
}

impl AgentHost for LedgerHost {
    fn read(&self, ids: &[usize], each: &mut dyn FnMut(usize, HostRecord<'_>)) {
        let ledger = locked(&self.ledger);
        for &id in ids {
            if let Some(record) = ledger.get(id) {
                each(
                    id,
                    HostRecord {
                        source: record.source(),
                        timestamp_ms: record.timestamp_ms(),
                        text: record.text(),
                        level: record.level(),
                        event_id: record.event_id(),
                    },
                );
            }
        }
    }

    fn not_collected(&self, decided: &[(usize, String)]) {
        let mut ledger = locked(&self.ledger);
        for (id, reason) in decided {
            ledger.not_collected(*id, reason);
        }
    }

    fn generation(&self) -> u32 {
        locked(&self.ledger).restarts()
    }

    fn settle(&self, generation: u32, outcomes: Vec<(usize, EventOutcome)>) {
        // A restart began after the generation was read: the call overlapped it.
        let restarting = self.restarts.begun() > generation;
        let mut ledger = locked(&self.ledger);
        for (id, outcome) in outcomes {
            match outcome {
                EventOutcome::Sent(event) => {
                    ledger.accepted(id, &ShippedEvent::sent(event, generation));
                }
                EventOutcome::Unanswered { event, .. } if restarting => {
                    ledger.accepted(id, &ShippedEvent::sent(event, generation));
                }
                EventOutcome::Refused(why) | EventOutcome::Unanswered { why, .. } => {
                    ledger.refused(id, &why);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use standins::cloudwatch_agent::SentEvent;
    use standins::faults::RestartRecord;

    use super::*;
    use crate::ledger::{Fate, LedgerRecord};

    fn host() -> (LedgerHost, Arc<RestartGate>) {
        let mut ledger = Ledger::default();
        ledger.add([0, 1].map(|i| LedgerRecord {
            instance: "web-1".into(),
            instance_id: "i-1".into(),
            source: "/var/log/secure".into(),
            timestamp_ms: i,
            lines: vec![format!("line {i}")],
            level: None,
            event_id: None,
            fate: Fate::Written,
        }));
        let gate = Arc::new(RestartGate::new());
        (
            LedgerHost::new(Arc::new(Mutex::new(ledger)), gate.clone()),
            gate,
        )
    }

    fn unanswered(i: i64) -> EventOutcome {
        EventOutcome::Unanswered {
            event: SentEvent {
                log_stream: "s".into(),
                timestamp_ms: i,
                message: format!("line {i}"),
                sent_ms: i,
                truncated: false,
            },
            why: "connection refused".into(),
        }
    }

    /// An unanswered call outside a restart is refused (the agent drops the batch); one that
    /// overlapped a restart is sent before it, at risk, so that its events count whether or not
    /// they land.
    #[test]
    fn an_unanswered_call_during_a_restart_is_sent_at_risk() {
        let (host, gate) = host();
        let before = host.generation();
        host.settle(before, vec![(0, unanswered(0))]);
        gate.begin();
        host.settle(before, vec![(1, unanswered(1))]);
        gate.complete(RestartRecord::default());
        locked(&host.ledger).restart_completed(false);
        let ledger = locked(&host.ledger);
        assert!(matches!(
            ledger.get(0).map(|r| r.fate().to_fate()),
            Some(Fate::Rejected(why)) if why == "connection refused"
        ));
        match ledger.get(1).map(|r| r.fate().to_fate()) {
            Some(Fate::Sent(events)) => {
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].restarts_before, 0, "sent before the restart");
            }
            other => panic!("{other:?}"),
        }
    }
}
