//! The harness's port conformance suites (`conformance/`) against the in-memory adapters:
//! `MemoryLogs` (CloudWatch Logs) and `MemoryQueue` (the rule's SQS target). The same checks
//! run against LocalStack in `ports_localstack.rs`.

use crate::conformance;

use standins::cloudwatch_logs::MemoryLogs;
use standins::eventbridge::queue::MemoryQueue;

#[tokio::test]
async fn logs() {
    conformance::logs(
        &MemoryLogs::default(),
        "CCP-logs-Conformance",
        "conformance",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn queue() {
    let queue = MemoryQueue::default();
    conformance::queue(&queue, |body| {
        queue.send(body);
        async {}
    })
    .await;
}
