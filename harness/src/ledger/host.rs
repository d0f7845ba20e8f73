//! The ledger as the agents' host ([`AgentHost`]): an agent reads the records its instance
//! wrote from the ledger and reports each one's fate back into it. The generation the agent
//! reads before its calls is the ledger's count of completed emulator restarts, so that an
//! event sent into a state a restart then lost can be told apart.

use std::sync::{Arc, Mutex};

use standins::cloudwatch_agent::{AgentHost, EventOutcome, HostRecord};

use super::{Ledger, ShippedEvent};
use crate::locked;

/// The run's ledger, shared by its agents.
#[derive(Debug, Clone)]
pub struct LedgerHost(pub Arc<Mutex<Ledger>>);

impl AgentHost for LedgerHost {
    fn read(&self, ids: &[usize], each: &mut dyn FnMut(usize, HostRecord<'_>)) {
        let ledger = locked(&self.0);
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
        let mut ledger = locked(&self.0);
        for (id, reason) in decided {
            ledger.not_collected(*id, reason);
        }
    }

    fn generation(&self) -> u32 {
        locked(&self.0).restarts()
    }

    fn settle(&self, generation: u32, outcomes: Vec<(usize, EventOutcome)>) {
        let mut ledger = locked(&self.0);
        for (id, outcome) in outcomes {
            match outcome {
                Ok(event) => ledger.accepted(id, &ShippedEvent::sent(event, generation)),
                Err(why) => ledger.refused(id, &why),
            }
        }
    }
}
