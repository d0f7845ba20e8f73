//! The simulated agent against in-memory CloudWatch Logs: what it collects, how it joins lines,
//! where it ships, and how it retries throttled calls.

use std::sync::Arc;

use pipeline::agent_config::{AgentConfig, HostFacts, defaults};

use super::agent::{AgentStartError, CloudWatchAgent};
use super::host::{HostFate, MemoryHost, OwnedRecord};
use super::retry::AGENT_STOP_GRACE_MS;
use crate::clock::{SimClock, wall_now_ms};
use crate::cloudwatch_logs::MemoryLogs;

const GROUP: &str = "CCP-logs-Example-000000000000-us-east-1";

fn facts() -> HostFacts {
    HostFacts {
        instance_id: "i-0123456789abcdef0".into(),
        hostname: "ip-10-0-0-12.ec2.internal".into(),
        local_hostname: "ip-10-0-0-12".into(),
        ip_address: "10.0.0.12".into(),
        aws_region: "us-east-1".into(),
        account_id: "000000000000".into(),
        date: "2026-11-24".into(),
        environment: std::collections::BTreeMap::new(),
    }
}

fn record(source: &str, lines: &[&str], level: Option<u8>, event_id: Option<u32>) -> OwnedRecord {
    OwnedRecord {
        source: source.into(),
        timestamp_ms: wall_now_ms() - 60_000,
        lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        level,
        event_id,
    }
}

/// Starts an agent over `records` with a clock that is already over, runs it to its final
/// flush, and returns its host.
async fn ship(
    config: &AgentConfig,
    records: Vec<OwnedRecord>,
    logs: Arc<MemoryLogs>,
) -> (Arc<MemoryHost>, super::agent::AgentReport) {
    let indices: Vec<usize> = (0..records.len()).collect();
    let host = Arc::new(MemoryHost::new(records));
    let agent = CloudWatchAgent::start("web-1", config, &facts(), host.as_ref(), &indices).unwrap();
    let clock = SimClock::new(wall_now_ms(), 1, 3_600);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let report = agent.run(clock, host.clone(), logs).await;
    (host, report)
}

fn sent_messages(host: &MemoryHost, index: usize) -> Vec<(String, String)> {
    match host.fate(index) {
        HostFate::Sent(events) => events
            .into_iter()
            .map(|e| (e.log_stream, e.message))
            .collect(),
        other => panic!("record {index} was not sent: {other:?}"),
    }
}

#[tokio::test]
async fn linux_lines_ship_to_their_streams_with_continuations_joined() {
    let logs = Arc::new(MemoryLogs::default());
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![
            record(
                "/var/log/messages",
                &[
                    "Nov 24 10:00:00 h kernel: WARNING",
                    "Call Trace:",
                    " [<ffffffff>] f+0x1",
                ],
                None,
                None,
            ),
            record(
                "/var/log/secure",
                &["Nov 24 10:00:01 h sshd[1]: Failed password"],
                None,
                None,
            ),
            record(
                "/var/log/cron",
                &["Nov 24 10:00:02 h CROND[2]: run"],
                None,
                None,
            ),
        ],
        logs.clone(),
    )
    .await;
    assert_eq!(
        sent_messages(&host, 0),
        [(
            "/var/log/messages/i-0123456789abcdef0".to_owned(),
            "Nov 24 10:00:00 h kernel: WARNING\nCall Trace:\n [<ffffffff>] f+0x1".to_owned()
        )]
    );
    assert_eq!(
        sent_messages(&host, 1)[0].0,
        "/var/log/secure/i-0123456789abcdef0"
    );
    assert_eq!(
        host.fate(2),
        HostFate::NotCollected("no collect_list entry for /var/log/cron".into())
    );
    assert_eq!(
        logs.events(GROUP, "/var/log/secure/i-0123456789abcdef0")
            .len(),
        1
    );
    assert_eq!(
        (report.events_sent, report.batches, report.events_rejected),
        (2, 2, 0)
    );
}

/// `plugins/inputs/logfile/fileconfig.go`: without a pattern the agent uses `^[\S]`, so a line
/// that begins with whitespace joins the event before it and every other line is its own.
#[tokio::test]
async fn without_a_multi_line_pattern_the_agents_default_joins_indented_lines() {
    let mut config = defaults::linux("Example");
    let json = config
        .to_json_pretty()
        .replace("\"multi_line_start_pattern\": \"{timestamp_format}\",", "");
    config = AgentConfig::parse(&json).unwrap();
    let logs = Arc::new(MemoryLogs::default());
    let (host, _) = ship(
        &config,
        vec![record(
            "/var/log/messages",
            &["first", "second", "\tat continued", "third"],
            None,
            None,
        )],
        logs,
    )
    .await;
    let messages: Vec<_> = sent_messages(&host, 0)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(messages, ["first", "second\n\tat continued", "third"]);
}

#[tokio::test]
async fn windows_levels_and_event_ids_decide_what_is_collected() {
    let mut json: serde_json::Value =
        serde_json::from_str(&defaults::windows("Example").to_json_pretty()).unwrap();
    let list = &mut json["logs"]["logs_collected"]["windows_events"]["collect_list"];
    list[0]["event_levels"] = serde_json::json!(["ERROR", "CRITICAL"]);
    list[2].as_object_mut().unwrap().remove("event_levels");
    list[2]["event_ids"] = serde_json::json!([4625]);
    let config = AgentConfig::parse(&json.to_string()).unwrap();
    let (host, _) = ship(
        &config,
        vec![
            record("System", &["<Event>critical</Event>"], Some(1), Some(7031)),
            record("System", &["<Event>info</Event>"], Some(4), Some(7036)),
            record("Security", &["<Event>4625</Event>"], Some(0), Some(4625)),
            record("Security", &["<Event>4624</Event>"], Some(0), Some(4624)),
        ],
        Arc::new(MemoryLogs::default()),
    )
    .await;
    assert_eq!(sent_messages(&host, 0)[0].0, "System/i-0123456789abcdef0");
    assert_eq!(
        host.fate(1),
        HostFate::NotCollected("level INFORMATION not in event_levels".into())
    );
    assert_eq!(sent_messages(&host, 2)[0].0, "Security/i-0123456789abcdef0");
    assert_eq!(
        host.fate(3),
        HostFate::NotCollected("event id 4624 not in event_ids".into())
    );
}

#[tokio::test]
async fn text_format_windows_events_are_refused_at_start() {
    let json = defaults::windows("Example")
        .to_json_pretty()
        .replace("\"xml\"", "\"text\"");
    let config = AgentConfig::parse(&json).unwrap();
    let host = MemoryHost::default();
    let error = CloudWatchAgent::start("w", &config, &facts(), &host, &[]).unwrap_err();
    assert!(
        matches!(error, AgentStartError::TextFormat { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("event_format"));
}

#[tokio::test(start_paused = true)]
async fn throttled_calls_are_retried_and_given_up_calls_are_accounted() {
    let logs = Arc::new(MemoryLogs::default());
    logs.throttle(3);
    let line = ["Nov 24 10:00:01 h sshd[1]: Accepted publickey"];
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![record("/var/log/secure", &line, None, None)],
        logs.clone(),
    )
    .await;
    assert_eq!(report.put_retries, 3);
    // The long strategy of pusher/retry.go: 2 s, 4 s, then a minute, each jittered to [d/2, d).
    assert!((1_000 + 2_000 + 30_000..2_000 + 4_000 + 60_000).contains(&report.put_retry_wait_ms));
    assert_eq!(logs.calls(), 4);
    assert_eq!(sent_messages(&host, 0).len(), 1);
}

/// An endpoint that refuses connections (an outage) loses nothing: `retry.go` retries
/// connection refused, reset and timeout with the long strategy (`retry_test.go`'s
/// "connection refused" and "connection reset by peer" cases), the stream's creation included.
#[tokio::test(start_paused = true)]
async fn refused_connections_are_retried_with_the_long_strategy_and_lose_nothing() {
    let logs = Arc::new(MemoryLogs::default());
    logs.refuse(5);
    let line = ["Nov 24 10:00:01 h sshd[1]: Accepted publickey"];
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![record("/var/log/secure", &line, None, None)],
        logs.clone(),
    )
    .await;
    assert_eq!((report.put_retries, report.batches_dropped), (5, 0));
    // 2 s, 4 s, then a minute three times, each jittered to [d/2, d).
    assert!((1_000 + 2_000 + 90_000..2_000 + 4_000 + 180_000).contains(&report.put_retry_wait_ms));
    assert_eq!(sent_messages(&host, 0).len(), 1);
}

/// A batch still failing when the harness stops its agents is dropped with `sender.go`'s own
/// words, counted as a dropped batch (which fails the run's checks).
#[tokio::test(start_paused = true)]
async fn a_batch_failing_past_the_stop_is_dropped_and_counted() {
    let logs = Arc::new(MemoryLogs::default());
    logs.throttle(u32::MAX);
    let line = ["Nov 24 10:00:01 h sshd[1]: Accepted publickey"];
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![record("/var/log/secure", &line, None, None)],
        logs,
    )
    .await;
    assert_eq!((report.events_rejected, report.batches_dropped), (1, 1));
    // About a retry a minute (jittered to [30 s, 60 s)) until the stop.
    let minutes = AGENT_STOP_GRACE_MS / 60_000;
    assert!(
        (minutes as usize..=2 * minutes as usize + 2).contains(&report.put_retries),
        "{}",
        report.put_retries
    );
    match host.fate(0) {
        HostFate::Refused(why) => assert!(
            why.starts_with("Stop requested after")
                && why.contains("failed for PutLogEvents, request dropped (ThrottlingException"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
}

/// `plugins/outputs/cloudwatchlogs/internal/pusher/retry.go` and `sender.go` of the agent:
/// which errors are retried with which wait, and which are dropped.
#[test]
fn the_senders_retry_rules_are_the_agents() {
    use super::retry::{
        RETRY_LONG_BASE_MS, RETRY_LONG_DOUBLINGS, RETRY_SHORT_BASE_MS, RETRY_SHORT_DOUBLINGS,
        RetryDecision, RetryStrategy, retry_decision, retry_wait_ms,
    };
    let short: Vec<i64> = (0..7)
        .map(|n| retry_wait_ms(RETRY_SHORT_BASE_MS, RETRY_SHORT_DOUBLINGS, n))
        .collect();
    assert_eq!(short, [200, 400, 800, 1_600, 3_200, 60_000, 60_000]);
    let long: Vec<i64> = (0..4)
        .map(|n| retry_wait_ms(RETRY_LONG_BASE_MS, RETRY_LONG_DOUBLINGS, n))
        .collect();
    assert_eq!(long, [2_000, 4_000, 60_000, 60_000]);
    for code in [
        "ThrottlingException",
        "ServiceUnavailableException",
        "RequestTimeout",
    ] {
        assert_eq!(
            retry_decision(code),
            RetryDecision::Retry(RetryStrategy::Long),
            "{code}"
        );
    }
    assert_eq!(
        retry_decision("ResourceNotFoundException"),
        RetryDecision::Retry(RetryStrategy::Short)
    );
    assert_eq!(
        retry_decision("InvalidParameterException"),
        RetryDecision::NotRetried
    );
    assert_eq!(
        retry_decision("DataAlreadyAcceptedException"),
        RetryDecision::NotRetried
    );
    assert_eq!(
        retry_decision("transport"),
        RetryDecision::Retry(RetryStrategy::Long)
    );
}

#[tokio::test]
async fn events_outside_the_accepted_window_are_rejected_with_the_reason() {
    let mut old = record("/var/log/secure", &["old"], None, None);
    old.timestamp_ms = wall_now_ms() - 15 * 86_400_000;
    let (host, _) = ship(
        &defaults::linux("Example"),
        vec![old],
        Arc::new(MemoryLogs::default()),
    )
    .await;
    match host.fate(0) {
        HostFate::Refused(why) => assert!(why.contains("14 days"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// `wineventlog/utils.go`, `createFilterQuery`: levels and ids together select events that
/// satisfy both; `wineventlog.go`, `getRecord`: an absent `event_format` renders XML.
#[tokio::test]
async fn windows_levels_and_event_ids_together_select_events_that_satisfy_both() {
    let json = serde_json::json!({"logs": {"logs_collected": {"windows_events": {"collect_list": [{
        "event_name": "Security",
        "event_levels": ["INFORMATION"],
        "event_ids": [4625],
        "log_group_name": GROUP,
        "log_stream_name": "Security/{instance_id}"
    }]}}}});
    let config = AgentConfig::parse(&json.to_string()).unwrap();
    let (host, _) = ship(
        &config,
        vec![
            record(
                "Security",
                &["<Event>4625 info</Event>"],
                Some(0),
                Some(4625),
            ),
            record(
                "Security",
                &["<Event>4624 info</Event>"],
                Some(0),
                Some(4624),
            ),
            record(
                "Security",
                &["<Event>4625 error</Event>"],
                Some(2),
                Some(4625),
            ),
        ],
        Arc::new(MemoryLogs::default()),
    )
    .await;
    assert_eq!(sent_messages(&host, 0).len(), 1);
    assert_eq!(
        host.fate(1),
        HostFate::NotCollected("event id 4624 not in event_ids".into())
    );
    assert_eq!(
        host.fate(2),
        HostFate::NotCollected("level ERROR not in event_levels".into())
    );
}

/// An event over 256 KiB less 26 bytes is cut to that size with `[Truncated...]`
/// (`pusher/truncation_fix_test.go`), not rejected; the host is told of the cut.
#[tokio::test]
async fn oversized_events_are_truncated_as_the_agent_truncates_them() {
    let long = format!("Nov 24 10:00:00 h app: {}", "x".repeat(300_000));
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![record("/var/log/messages", &[&long], None, None)],
        Arc::new(MemoryLogs::default()),
    )
    .await;
    let sent = sent_messages(&host, 0);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.len(), super::events::MAX_EVENT_MESSAGE_BYTES);
    assert!(sent[0].1.ends_with("[Truncated...]"));
    assert_eq!((report.events_truncated, report.events_rejected), (1, 0));
    // The host is told which event was cut, so that its accounting need not guess.
    match host.fate(0) {
        HostFate::Sent(events) => assert!(events[0].truncated),
        other => panic!("{other:?}"),
    }
}

/// `pusher/sender.go`: on `ResourceNotFoundException` the sender calls `InitTarget`, which
/// creates the stream, and retries the batch; nothing is lost.
#[tokio::test]
async fn a_stream_gone_between_calls_is_created_again_and_the_batch_retried() {
    let logs = Arc::new(MemoryLogs::default());
    logs.lose_streams_before_next_put();
    let (host, report) = ship(
        &defaults::linux("Example"),
        vec![record(
            "/var/log/secure",
            &["Nov 24 10:00:01 h sshd[1]: Failed password"],
            None,
            None,
        )],
        logs.clone(),
    )
    .await;
    assert_eq!(sent_messages(&host, 0).len(), 1);
    assert_eq!(
        logs.events(GROUP, "/var/log/secure/i-0123456789abcdef0")
            .len(),
        1
    );
    assert_eq!((report.put_retries, report.events_sent), (1, 1));
    assert!(
        report.errors[0].contains("ResourceNotFoundException"),
        "{:?}",
        report.errors
    );
}
