//! One conformance suite per port of the harness, written once and run against the in-memory
//! adapter (`ports_memory.rs`) and LocalStack through the SDK adapter (`ports_localstack.rs`):
//! CloudWatch Logs as the agent writes it and the subscription reads it, and the queue that
//! stands in for the onboarding function. (The pipeline's own ports have theirs in
//! `pipeline/tests/integration/conformance/`.)
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::panic,
    reason = "each runner uses its own subset; a failed check stops the test loudly"
)]

use std::collections::BTreeSet;
use std::time::Duration;

use standins::clock::wall_now_ms;
use standins::cloudwatch_logs::{LogEvent, LogsApi, LogsReader};
use standins::eventbridge::queue::EventQueue;

/// Most receives the queue suite makes to collect what it sent (SQS may return fewer
/// messages than asked, and a standard queue in any order).
const RECEIVES: usize = 10;
/// A short long-polling wait.
const SHORT_WAIT: Duration = Duration::from_secs(1);

/// Every event of `stream` read forward from `token` (the head when `None`), and the token to
/// go on from. CloudWatch Logs returns the token it was given when nothing is new.
pub async fn read_all(
    logs: &impl LogsReader,
    group: &str,
    stream: &str,
    token: Option<String>,
) -> (Vec<LogEvent>, Option<String>) {
    let (mut events, mut token) = (Vec::new(), token);
    loop {
        let page = logs
            .get_log_events(group, stream, token.as_deref())
            .await
            .unwrap();
        let done = page.events.is_empty() || page.next_forward_token == token;
        events.extend(page.events);
        token = page.next_forward_token.or(token);
        if done {
            return (events, token);
        }
    }
}

/// The names of every stream of `group`, through every page.
pub async fn stream_names(logs: &impl LogsReader, group: &str) -> BTreeSet<String> {
    let (mut names, mut token) = (BTreeSet::new(), None::<String>);
    loop {
        let page = logs
            .describe_log_streams(group, token.as_deref())
            .await
            .unwrap();
        names.extend(page.streams.into_iter().map(|s| s.name));
        token = page.next_token;
        if token.is_none() {
            return names;
        }
    }
}

/// CloudWatch Logs, written and read: creating a stream twice is not an error; what is put
/// is read back from the head whole, in order, with its timestamps; a forward token reads only
/// what came after it; the stream is listed; putting to a stream that does not exist is
/// refused with `ResourceNotFoundException`. `group` must exist.
pub async fn logs(logs: &(impl LogsApi + LogsReader), group: &str, stream: &str) {
    logs.create_log_stream(group, stream).await.unwrap();
    logs.create_log_stream(group, stream).await.unwrap();
    let now = wall_now_ms();
    let first: Vec<LogEvent> = (0..3)
        .map(|i| LogEvent {
            timestamp_ms: now - 3000 + i * 1000,
            message: format!("line {i}: café \"quoted\""),
        })
        .collect();
    let rejected = logs.put_log_events(group, stream, &first).await.unwrap();
    assert_eq!(rejected.reason(0), None, "nothing refused");
    assert!(
        stream_names(logs, group).await.contains(stream),
        "{stream} listed"
    );

    let (read, token) = read_all(logs, group, stream, None).await;
    assert_eq!(read, first, "read back from the head");
    let (again, token) = read_all(logs, group, stream, token).await;
    assert_eq!(again, [], "nothing after the forward token");

    let later = [LogEvent {
        timestamp_ms: now,
        message: "after the token".to_owned(),
    }];
    logs.put_log_events(group, stream, &later).await.unwrap();
    let (tail, _) = read_all(logs, group, stream, token).await;
    assert_eq!(tail, later, "only what came after the token");

    let error = logs
        .put_log_events(group, "no-such-stream", &later)
        .await
        .unwrap_err();
    assert_eq!(error.code, "ResourceNotFoundException", "{error}");
}

/// The rule's queue: empty, a receive returns nothing; what was sent is received (in any
/// order, over several receives if need be); deleted messages do not come back; a receipt
/// handle the queue never gave is refused. `send` puts one message, as the rule does.
pub async fn queue<F, Fut>(queue: &impl EventQueue, send: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    assert_eq!(queue.receive(10, SHORT_WAIT).await.unwrap(), []);
    let sent: BTreeSet<String> = (0..3)
        .map(|i| format!("{{\"detail\":{{\"instance-id\":\"i-{i:017x}\"}}}}"))
        .collect();
    for body in &sent {
        send(body.clone()).await;
    }
    let mut received = Vec::new();
    for _ in 0..RECEIVES {
        received.extend(queue.receive(10, SHORT_WAIT).await.unwrap());
        if received.len() >= sent.len() {
            break;
        }
    }
    let bodies: BTreeSet<String> = received.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies, sent);
    assert_eq!(received.len(), sent.len(), "each message once");
    for message in &received {
        queue.delete(&message.receipt_handle).await.unwrap();
    }
    assert_eq!(queue.receive(10, SHORT_WAIT).await.unwrap(), []);
    assert!(queue.delete("not-a-receipt-handle").await.is_err());
}
