//! The agent's port to its host: the records the instance wrote (what the agent reads from its
//! log files and event logs), and where the agent says what became of each one. The harness's
//! ledger implements it (every record of a run, and its fate); [`MemoryHost`] is the small
//! in-memory host the agent's own tests use.

use std::sync::Mutex;

/// One record as the instance wrote it: a file's lines at one time, or one Windows event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRecord<'a> {
    /// The source: a file path or a Windows event log's name.
    pub source: &'a str,
    /// When it was written, epoch milliseconds.
    pub timestamp_ms: i64,
    /// Its lines joined by `\n` (a Windows event's rendering as one).
    pub text: &'a str,
    /// The Windows event level, for Windows events.
    pub level: Option<u8>,
    /// The Windows event id, for Windows events.
    pub event_id: Option<u32>,
}

impl<'a> HostRecord<'a> {
    /// Its physical lines.
    pub fn lines(&self) -> std::str::Split<'a, char> {
        self.text.split('\n')
    }
}

/// One event PutLogEvents accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEvent {
    /// The log stream.
    pub log_stream: String,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The message as sent.
    pub message: String,
    /// When PutLogEvents answered the call that sent it, simulated epoch milliseconds (the end
    /// of the agent's part of the event's latency: batching, the flush interval, retries).
    pub sent_ms: i64,
    /// Whether the agent cut the message to its size limit ([`super::events`]): the lines past
    /// the cut were never sent.
    pub truncated: bool,
}

/// What PutLogEvents did with one event of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// Accepted.
    Sent(SentEvent),
    /// Refused by the service, or given up, for the reason given.
    Refused(String),
    /// The call got no answer (a connection error the agent does not retry, `pusher/sender.go`):
    /// the service may have accepted the event before the connection went. The host decides
    /// what that means (the harness's ledger: accepted, at risk, when the emulator was
    /// restarting; refused otherwise, as on AWS the agent drops the batch).
    Unanswered {
        /// The event as it was sent.
        event: SentEvent,
        /// The error.
        why: String,
    },
}

/// Where the agent reads its host's records and reports their fates.
pub trait AgentHost: Send + Sync + 'static {
    /// Calls `each` with every record of `ids` that exists, in the order given.
    fn read(&self, ids: &[usize], each: &mut dyn FnMut(usize, HostRecord<'_>));

    /// The agent does not collect these records, each for the reason given.
    fn not_collected(&self, decided: &[(usize, String)]);

    /// A value the host wants back with the outcomes of the calls the agent is about to make
    /// ([`AgentHost::settle`]): read before them. (The harness counts emulator restarts with
    /// it, so that an event sent into a state that a restart then lost can be told apart.)
    fn generation(&self) -> u32;

    /// The outcome of each event of the records at their ids, every record's events together and
    /// in order: a record is sent when an event of it was accepted, refused when none was.
    fn settle(&self, generation: u32, outcomes: Vec<(usize, EventOutcome)>);
}

/// A record's fate on a [`MemoryHost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostFate {
    /// No agent has taken it.
    Written,
    /// The agent does not collect it, for the reason given.
    NotCollected(String),
    /// PutLogEvents refused it, for the reason given.
    Refused(String),
    /// PutLogEvents accepted it as these events.
    Sent(Vec<SentEvent>),
}

/// A record a [`MemoryHost`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    /// File path or event log.
    pub source: String,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// Its lines.
    pub lines: Vec<String>,
    /// Windows level.
    pub level: Option<u8>,
    /// Windows event id.
    pub event_id: Option<u32>,
}

/// An in-memory host: records and their fates.
#[derive(Debug, Default)]
pub struct MemoryHost {
    records: Mutex<Vec<(OwnedRecord, String, HostFate)>>,
}

impl MemoryHost {
    /// A host holding `records`, each written and not yet taken.
    pub fn new(records: Vec<OwnedRecord>) -> Self {
        let records = records
            .into_iter()
            .map(|record| {
                let text = record.lines.join("\n");
                (record, text, HostFate::Written)
            })
            .collect();
        Self {
            records: Mutex::new(records),
        }
    }

    /// The fate of the record at `id` (`Written` for an id it does not hold).
    pub fn fate(&self, id: usize) -> HostFate {
        crate::locked(&self.records)
            .get(id)
            .map_or(HostFate::Written, |(_, _, fate)| fate.clone())
    }
}

impl AgentHost for MemoryHost {
    fn read(&self, ids: &[usize], each: &mut dyn FnMut(usize, HostRecord<'_>)) {
        let records = crate::locked(&self.records);
        for &id in ids {
            if let Some((record, text, _)) = records.get(id) {
                each(
                    id,
                    HostRecord {
                        source: &record.source,
                        timestamp_ms: record.timestamp_ms,
                        text,
                        level: record.level,
                        event_id: record.event_id,
                    },
                );
            }
        }
    }

    fn not_collected(&self, decided: &[(usize, String)]) {
        let mut records = crate::locked(&self.records);
        for (id, reason) in decided {
            if let Some((_, _, fate)) = records.get_mut(*id) {
                *fate = HostFate::NotCollected(reason.clone());
            }
        }
    }

    fn generation(&self) -> u32 {
        0
    }

    fn settle(&self, _generation: u32, outcomes: Vec<(usize, EventOutcome)>) {
        let mut records = crate::locked(&self.records);
        for (id, outcome) in outcomes {
            let Some((_, _, fate)) = records.get_mut(id) else {
                continue;
            };
            match (outcome, &mut *fate) {
                (EventOutcome::Sent(event), HostFate::Sent(events)) => events.push(event),
                (EventOutcome::Sent(event), fate) => *fate = HostFate::Sent(vec![event]),
                (_, HostFate::Sent(_)) => {}
                (EventOutcome::Refused(why) | EventOutcome::Unanswered { why, .. }, fate) => {
                    *fate = HostFate::Refused(why);
                }
            }
        }
    }
}
