//! The harness's port conformance suites (`conformance/`) against LocalStack through the SDK
//! adapters: `SdkLogs` (aws-sdk-cloudwatchlogs) and `SdkQueue` (aws-sdk-sqs). The same checks
//! run in memory in `ports_memory.rs`.
#![allow(clippy::unwrap_used, reason = "tests stop loudly")]

use crate::conformance;
use crate::support;

use pipeline::emulator::sdk_config;
use standins::cloudwatch_logs::SdkLogs;
use standins::eventbridge::queue::SdkQueue;

/// A name no other test run on the same emulator uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

#[tokio::test]
async fn logs() {
    let Some(url) = support::endpoint() else {
        return;
    };
    logs_suite(&url).await;
}

#[tokio::test]
async fn queue() {
    let Some(url) = support::endpoint() else {
        return;
    };
    queue_suite(&url).await;
}

/// The CloudWatch Logs suite on the emulator at `url`, in a log group of its own.
pub(crate) async fn logs_suite(url: &str) {
    let config = sdk_config(url, "us-east-1").await;
    let client = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = unique("CCP-logs-Conformance");
    client
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    conformance::logs(&SdkLogs::new(client.clone()), &group, "conformance").await;
    client
        .delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
}

/// The queue suite on the emulator at `url`, on a queue of its own.
pub(crate) async fn queue_suite(url: &str) {
    let config = sdk_config(url, "us-east-1").await;
    let client = aws_sdk_sqs::Client::new(&config);
    let created = client
        .create_queue()
        .queue_name(unique("loglab-conformance"))
        .send()
        .await
        .unwrap();
    let queue_url = created.queue_url().unwrap().to_owned();
    let queue = SdkQueue::new(client.clone(), &queue_url);
    conformance::queue(&queue, |body| {
        let (client, queue_url) = (client.clone(), queue_url.clone());
        async move {
            client
                .send_message()
                .queue_url(queue_url)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    client
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}
