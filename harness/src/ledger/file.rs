//! The ledger file (`loglab run --ledger`): one NDJSON line per record, with its fate and each
//! sent event's filter verdict.

use pipeline::filter_pattern::FilterPattern;
use serde::Serialize;

use super::{FateView, Ledger};

/// One ledger record as a line of the ledger file.
#[derive(Debug, Serialize)]
struct RecordLine<'a> {
    instance: &'a str,
    instance_id: &'a str,
    source: &'a str,
    timestamp_ms: i64,
    lines: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_level: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_event_id: Option<u32>,
    /// `written`, `not_collected`, `rejected` or `sent`.
    fate: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The events PutLogEvents accepted, with whether the filter pattern passes each.
    events: Vec<EventLine<'a>>,
}

#[derive(Debug, Serialize)]
struct EventLine<'a> {
    log_stream: &'a str,
    timestamp_ms: i64,
    message: &'a str,
    /// When PutLogEvents accepted it, simulated epoch ms.
    sent_ms: i64,
    passes_filter: bool,
    /// The restart whose lost state took the event (set by the reconciliation).
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_at_restart: Option<u32>,
}

impl Ledger {
    /// Writes the ledger as NDJSON, one record per line, with each sent event and whether the
    /// filter `pattern` passes it: what a later check (or a person) needs to know what should
    /// be in the bucket, without the pipeline.
    pub fn write_ndjson(
        &self,
        pattern: &FilterPattern,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        for record in self.records() {
            let (fate, reason, events) = match record.fate() {
                FateView::Written => ("written", None, Vec::new()),
                FateView::NotCollected(why) => ("not_collected", Some(why), Vec::new()),
                FateView::Rejected(why) => ("rejected", Some(why), Vec::new()),
                FateView::Sent(events) => (
                    "sent",
                    None,
                    events
                        .iter()
                        .map(|e| EventLine {
                            log_stream: e.log_stream,
                            timestamp_ms: e.timestamp_ms,
                            message: e.message,
                            sent_ms: e.sent_ms,
                            passes_filter: pattern.matches(e.message),
                            lost_at_restart: e.lost_at_restart,
                        })
                        .collect(),
                ),
            };
            let line = RecordLine {
                instance: record.instance(),
                instance_id: record.instance_id(),
                source: record.source(),
                timestamp_ms: record.timestamp_ms(),
                lines: record.line_count(),
                windows_level: record.level(),
                windows_event_id: record.event_id(),
                fate,
                reason,
                events,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}
