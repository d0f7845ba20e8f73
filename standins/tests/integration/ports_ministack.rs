//! The harness's port conformance suites against MiniStack, the second emulator
//! (scripts/ministack-host.sh), through the same SDK adapters and the same set-up as
//! `ports_localstack.rs`: CloudWatch Logs (`SdkLogs`) and SQS (`SdkQueue`) pass them whole.

use crate::support;

#[tokio::test]
async fn logs() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    super::ports_localstack::logs_suite(&url).await;
}

#[tokio::test]
async fn queue() {
    let Some(url) = support::ministack_endpoint() else {
        return;
    };
    super::ports_localstack::queue_suite(&url).await;
}
