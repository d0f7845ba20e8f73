//! One conformance suite per port of the pipeline, written once and run against the in-memory
//! adapter (`ports_memory.rs`) and against LocalStack through the SDK adapter
//! (`ports_localstack.rs`), the way object_store runs one suite over InMemory and S3. Each check
//! states the behaviour the handlers rely on; a gap of the emulator is named where the runner
//! skips a check, never passed over silently.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::panic,
    reason = "each runner uses its own subset; a failed check stops the test loudly"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use pipeline::firehose::RecordSink;
use pipeline::onboard::documents::{CONFIG_PARAMETER_INPUT, DEFAULT_LINUX_DOCUMENT};
use pipeline::onboard::{
    CommandRequest, CommandRunner, InstanceDescription, InstanceDirectory, ManagedInstances,
    ParameterStore,
};

/// Polls of GetCommandInvocation before a command must show a final status.
const COMMAND_POLLS: u32 = 50;
/// Real time between two of them.
const COMMAND_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// InstanceDirectory: a known instance is described with its state, platform and tags (in any
/// order); an unknown one is `None`, not an error (EC2's `InvalidInstanceID.NotFound`).
pub async fn instance_directory(
    directory: &impl InstanceDirectory,
    known: &InstanceDescription,
    unknown_id: &str,
) {
    let found = directory
        .describe_instance(&known.instance_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{} not found", known.instance_id));
    assert_eq!(found.instance_id, known.instance_id);
    assert_eq!(found.state, known.state, "state of {}", known.instance_id);
    assert_eq!(
        found.platform, known.platform,
        "platform of {}",
        known.instance_id
    );
    let sorted = |tags: &[(String, String)]| {
        let mut tags = tags.to_vec();
        tags.sort();
        tags
    };
    assert_eq!(
        sorted(&found.tags),
        sorted(&known.tags),
        "tags of {}",
        known.instance_id
    );
    assert_eq!(directory.describe_instance(unknown_id).await.unwrap(), None);
}

/// ParameterStore: a parameter's value comes back byte for byte (newlines, quotes, multi-byte
/// characters); a missing one is `None`, not an error (`ParameterNotFound`).
pub async fn parameter_store(store: &impl ParameterStore, name: &str, value: &str, missing: &str) {
    assert_eq!(
        store.get_parameter(name).await.unwrap().as_deref(),
        Some(value)
    );
    assert_eq!(store.get_parameter(missing).await.unwrap(), None);
}

/// A value with what a CloudWatch agent configuration holds: JSON, newlines, quotes, a
/// multi-byte character.
pub const PARAMETER_VALUE: &str = "{\n  \"logs\": {\"note\": \"café \\\"quoted\\\"\"}\n}\n";

/// CommandRunner: each SendCommand gets its own id; GetCommandInvocation reaches a final
/// status for the instance it was sent to. Returns the first command's id.
pub async fn command_runner(runner: &impl CommandRunner, instance_id: &str) -> String {
    let request = CommandRequest {
        instance_id: instance_id.to_owned(),
        document: DEFAULT_LINUX_DOCUMENT.to_owned(),
        parameters: BTreeMap::from([(
            CONFIG_PARAMETER_INPUT.to_owned(),
            vec!["conformance".to_owned()],
        )]),
        comment: "port conformance".to_owned(),
        delivery_timeout_seconds: 600,
    };
    let first = runner.send_command(&request).await.unwrap();
    let second = runner.send_command(&request).await.unwrap();
    assert!(!first.is_empty());
    assert_ne!(first, second, "each command has its own id");
    let mut last = None;
    for _ in 0..COMMAND_POLLS {
        last = runner
            .command_invocation(&first, instance_id)
            .await
            .unwrap();
        if last.as_ref().is_some_and(|s| s.is_terminal()) {
            break;
        }
        tokio::time::sleep(COMMAND_POLL_INTERVAL).await;
    }
    let status = last.unwrap_or_else(|| panic!("command {first} never showed on {instance_id}"));
    assert!(status.is_terminal(), "{status:?}");
    first
}

/// An instance a command was not sent to has no invocation of it: `None`, not an error (SSM's
/// `InvocationDoesNotExist`, "The command id and instance id you specified didn't match any
/// invocations": GetCommandInvocation, AWS Systems Manager API Reference).
pub const NOT_A_TARGET: &str = "i-0fffffffffffffff0";

/// CommandRunner: [`NOT_A_TARGET`] has no invocation of `command_id`.
pub async fn no_invocation_elsewhere(runner: &impl CommandRunner, command_id: &str) {
    assert_eq!(
        runner
            .command_invocation(command_id, NOT_A_TARGET)
            .await
            .unwrap(),
        None
    );
}

/// ManagedInstances: a registered instance is `Online` with its platform type; one that never
/// registered is `None`.
pub async fn managed_instances(
    managed: &impl ManagedInstances,
    registered: &str,
    platform_type: &str,
    unregistered: &str,
) {
    let found = managed
        .describe_managed_instance(registered)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{registered} is not managed"));
    assert_eq!(found.ping_status, "Online");
    assert_eq!(found.platform_type.as_deref(), Some(platform_type));
    assert_eq!(
        managed
            .describe_managed_instance(unregistered)
            .await
            .unwrap(),
        None
    );
}

/// RecordSink: one result per record, all accepted; what was delivered is the records' bytes,
/// whole and in order (Firehose concatenates records without a separator). `delivered` reads
/// back everything the sink has delivered so far, concatenated.
pub async fn record_sink<F, Fut>(sink: &impl RecordSink, delivered: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<u8>>,
{
    let records: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("{{\"row\":{i},\"note\":\"é\"}}\n").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let results = sink.put_record_batch(&refs).await.unwrap();
    assert_eq!(results.len(), records.len(), "one result per record");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let expected = records.concat();
    let got = delivered().await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "delivered bytes"
    );
}
