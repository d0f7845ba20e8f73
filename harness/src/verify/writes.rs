//! The run's own log lines: the scenario's sources on each of its fleet's instances, generated
//! as `loglab run` generates them, written with PutLogEvents to the stack's log group under
//! run-unique streams (`<source>/<instance-id>`, the id made of the run's id, as the agent
//! configurations name streams), and kept in the ledger.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use super::VerifyError;
use crate::ledger::{Ledger, NewRecord, ShippedEvent};
use crate::scenario::LoadedScenario;
use crate::workload::{self, Writer};

/// At most this many events in one PutLogEvents call (the CloudWatch Logs API Reference:
/// 10,000 events, 1,048,576 bytes counting 26 bytes per event).
const MAX_EVENTS_PER_CALL: usize = 10_000;
const MAX_BYTES_PER_CALL: usize = 1_048_576;
const EVENT_OVERHEAD_BYTES: usize = 26;

/// One stream's events, in time order: ledger index, timestamp, message.
#[derive(Debug, Default)]
pub struct StreamWrites {
    /// The stream.
    pub stream: String,
    /// The events.
    pub events: Vec<(usize, i64, String)>,
}

/// A run-unique instance id: `i-` and 17 hex digits from the run id and the instance's number.
pub fn instance_id(run_id: u64, number: usize) -> String {
    format!("i-{:017x}", run_id.wrapping_shl(8) | (number as u64 & 0xff))
}

/// Generates every source of every instance of `loaded`'s fleet over `[from_ms, to_ms]` into
/// `ledger`: one stream per instance and source.
pub fn generate(
    loaded: &LoadedScenario,
    run_id: u64,
    from_ms: i64,
    to_ms: i64,
    ledger: &mut Ledger,
) -> Result<Vec<StreamWrites>, VerifyError> {
    let scenario = &loaded.scenario;
    let mut streams = Vec::new();
    let mut number = 0;
    for group in &scenario.fleet {
        for n in 1..=group.count {
            number += 1;
            let name = format!("{}-{n}", group.name);
            let id = instance_id(run_id, number);
            let host =
                crate::fleet::host_name(&format!("10.0.{}.{}", number / 250, number % 250 + 1));
            let computer = crate::fleet::computer_name(&id);
            let writer = Writer {
                host: &host,
                computer: &computer,
            };
            for source in scenario.profiles.get(&group.profile).into_iter().flatten() {
                let records = workload::records(
                    source,
                    loaded.corpus_path(source).as_deref(),
                    &writer,
                    workload::source_seed(scenario.seed ^ run_id, &name, &source.source),
                    from_ms,
                    to_ms,
                )
                .map_err(|e| VerifyError::Workload(e.to_string()))?;
                let mut writes = StreamWrites {
                    stream: format!("{}/{id}", source.source),
                    events: Vec::new(),
                };
                for record in records {
                    let index = ledger.write(NewRecord {
                        instance: &name,
                        instance_id: &id,
                        source: &source.source,
                        timestamp_ms: record.timestamp_ms,
                        lines: &record.lines,
                        level: record.level,
                        event_id: record.event_id,
                    });
                    writes
                        .events
                        .push((index, record.timestamp_ms, record.lines.join("\n")));
                }
                writes.events.sort_by_key(|(_, t, _)| *t);
                streams.push(writes);
            }
        }
    }
    Ok(streams)
}

/// Creates `writes.stream` in `log_group` and puts its events in calls within PutLogEvents'
/// limits; each accepted event is marked in `ledger`, each refused one with CloudWatch Logs'
/// reason.
pub async fn put(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    writes: &StreamWrites,
    ledger: &mut Ledger,
) -> Result<(), VerifyError> {
    logs.create_log_stream()
        .log_group_name(log_group)
        .log_stream_name(&writes.stream)
        .send()
        .await
        .map_err(|e| VerifyError::call("CreateLogStream", &writes.stream, &e))?;
    for batch in batches(&writes.events) {
        let events: Vec<InputLogEvent> = batch
            .iter()
            .filter_map(|(_, t, m)| {
                InputLogEvent::builder()
                    .timestamp(*t)
                    .message(m)
                    .build()
                    .ok()
            })
            .collect();
        let answer = logs
            .put_log_events()
            .log_group_name(log_group)
            .log_stream_name(&writes.stream)
            .set_log_events(Some(events))
            .send()
            .await
            .map_err(|e| VerifyError::call("PutLogEvents", &writes.stream, &e))?;
        let rejected = answer.rejected_log_events_info();
        for (position, (index, timestamp, message)) in batch.iter().enumerate() {
            let position = position as i32;
            let refused = rejected.and_then(|r| {
                if r.too_old_log_event_end_index()
                    .is_some_and(|end| position < end)
                {
                    Some("too old (before the log group's retention or 14 days)")
                } else if r
                    .too_new_log_event_start_index()
                    .is_some_and(|start| position >= start)
                {
                    Some("too new (more than 2 hours ahead)")
                } else if r
                    .expired_log_event_end_index()
                    .is_some_and(|end| position < end)
                {
                    Some("expired (older than the log group's retention)")
                } else {
                    None
                }
            });
            match refused {
                Some(why) => ledger.refused(*index, why),
                None => ledger.accepted(
                    *index,
                    &ShippedEvent::new(&writes.stream, *timestamp, message.clone(), 0),
                ),
            }
        }
    }
    Ok(())
}

/// `events` cut into PutLogEvents calls.
fn batches(events: &[(usize, i64, String)]) -> Vec<&[(usize, i64, String)]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, _, message)) in events.iter().enumerate() {
        let size = message.len() + EVENT_OVERHEAD_BYTES;
        if i > start && (i - start == MAX_EVENTS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL) {
            batches.push(&events[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        batches.push(&events[start..]);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_instance_ids_are_instance_ids_and_differ_by_run() {
        let id = instance_id(0xdead_beef, 3);
        assert!(pipeline::etl::stream_name::is_instance_id(&id), "{id}");
        assert_ne!(id, instance_id(0xdead_bef0, 3));
    }

    #[test]
    fn batches_keep_within_putlogevents_limits() {
        let events: Vec<(usize, i64, String)> =
            (0..25_000).map(|i| (i, i as i64, "x".repeat(10))).collect();
        let sizes: Vec<usize> = batches(&events).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        let big: Vec<(usize, i64, String)> = (0..3).map(|i| (i, 0, "y".repeat(600_000))).collect();
        assert_eq!(batches(&big).len(), 3);
    }
}
