//! `loglab generate-event` as users drive the functions with it: each event is written by the
//! CLI and sent by cargo-lambda's own `cargo lambda invoke --data-file` to the deployed
//! function (the artifact `loglab build` made, behind cargo-lambda's Runtime API, as `loglab
//! run --lambda artifacts` runs it). The ETL's rows go to the harness's Firehose model; the
//! onboarding function gets a state it ignores, so it calls nothing.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use stack::{Deployment, Placement, StackDefinition};
use standins::firehose::{DeliveryStream, FirehoseEndpoint, MemoryObjects, StreamConfig};
use standins::lambda::{self, FunctionPool, Launch};

use crate::cli_query::tempfile_dir::Dir;
use crate::support::{self, root};

use crate::cli_query::loglab;

/// `loglab generate-event` with `args`, which must succeed: what it printed.
fn generate(args: &[&str]) -> Vec<u8> {
    let out = loglab(&[&["generate-event"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The default stack's functions, as deployed in eu-west-1.
fn specs() -> Vec<stack::FunctionSpec> {
    let stack = support::stack(StackDefinition::default());
    Deployment::new(&stack, &Placement::localstack("eu-west-1"))
        .functions()
        .unwrap()
}

/// The deployed function `binary`, its AWS calls sent to `endpoint`.
async fn function(binary: &str, endpoint: &str) -> (FunctionPool, BTreeMap<String, String>) {
    let (dir, _) = support::lambda_artifacts();
    let located = lambda::locate(&dir, &specs()).unwrap();
    let found = located
        .into_iter()
        .find(|l| l.spec.binary == binary)
        .unwrap();
    let placement = lambda::Placement {
        endpoint,
        region: "eu-west-1",
    };
    let environment = lambda::lambda_environment(&found.spec, &placement, &BTreeMap::new());
    let launch = Launch {
        cargo_lambda: root().join(stack::artifacts::CARGO_LAMBDA_SCRIPT),
        workspace: root(),
        bootstrap: found.bootstrap,
        binary: binary.to_owned(),
        environment: environment.clone(),
    };
    let pool = FunctionPool::start(launch, found.spec.timeout, 1)
        .await
        .unwrap();
    (pool, environment)
}

/// `cargo lambda invoke` of `binary` on `pool`'s Invoke API with `event`: the response.
fn cargo_lambda_invoke(pool: &FunctionPool, binary: &str, event: &Path) -> serde_json::Value {
    let port = pool.runtime_api_ports()[0];
    let out = Command::new("bash")
        .arg(root().join(stack::artifacts::CARGO_LAMBDA_SCRIPT))
        .args(["invoke", "--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(port.to_string())
        .args(["--output-format", "json", "--data-file"])
        .arg(event)
        .arg(binary)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo lambda invoke {binary}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

// Multi-threaded: the Firehose model answers the ETL while this thread waits for the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_etl_takes_a_generated_subscription_payload_through_cargo_lambda_invoke() {
    let dir = Dir::new("generate-event-etl");
    let log = dir.path().join("secure.log");
    // Fifty lines of a real OpenSSH server's log (loghub).
    let source = std::fs::read_to_string(root().join("fixtures/loghub/OpenSSH_2k.log")).unwrap();
    let lines: Vec<&str> = source.lines().filter(|l| !l.is_empty()).take(50).collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let event = dir.path().join("event.json");
    generate(&[
        "cloudwatch-logs",
        log.to_str().unwrap(),
        "--log-stream",
        "/var/log/secure/i-0123456789abcdef0",
        "--start-ms",
        "1764928800000",
        "--output",
        event.to_str().unwrap(),
    ]);

    // The ETL's Firehose: the harness's model on its own endpoint.
    let etl = specs()
        .into_iter()
        .find(|f| f.binary == "etl-lambda")
        .unwrap();
    let config = StreamConfig::from_definition(
        &StackDefinition::default(),
        &etl.environment["FIREHOSE_DELIVERY_STREAM"],
        "ccp-logs",
    )
    .unwrap();
    let stream = Arc::new(DeliveryStream::without_faults(
        config,
        Arc::new(MemoryObjects::default()),
        Arc::new(|| 1_764_928_800_000),
        1,
    ));
    let firehose = FirehoseEndpoint::serve(stream.clone()).await.unwrap();
    let (pool, _) = function("etl-lambda", firehose.url()).await;
    let response = cargo_lambda_invoke(&pool, "etl-lambda", &event);
    pool.stop().await;
    assert_eq!(response["transform"]["events"], lines.len(), "{response}");
    assert_eq!(response["transform"]["rows"], lines.len(), "{response}");
    let delivered = stream.finish().await;
    assert_eq!(delivered.rows_in, lines.len());
    assert_eq!(delivered.objects, 1);
}

#[tokio::test]
async fn the_onboarding_function_takes_a_generated_state_change_through_cargo_lambda_invoke() {
    let dir = Dir::new("generate-event-onboard");
    let event = dir.path().join("event.json");
    generate(&[
        "ec2-state-change",
        "--instance-id",
        "i-0123456789abcdef0",
        "--state",
        "stopped",
        "--region",
        "eu-west-1",
        "--output",
        event.to_str().unwrap(),
    ]);
    // Nothing is called for a state the function ignores: an unreachable endpoint proves it.
    let (pool, _) = function("onboard-lambda", "http://127.0.0.1:9").await;
    let response = cargo_lambda_invoke(&pool, "onboard-lambda", &event);
    pool.stop().await;
    assert_eq!(response["instance_id"], "i-0123456789abcdef0", "{response}");
    assert_eq!(response["event_state"], "stopped", "{response}");
    assert_eq!(response["decision"], "ignored", "{response}");
}

/// The ETL's rows as Firehose records: one record per row, each decoding to the row `loglab
/// rows --from-log` writes for the same line; the same arguments write the same event.
#[test]
fn firehose_records_are_the_etls_rows() {
    use base64::Engine as _;
    let dir = Dir::new("generate-event-firehose");
    let log = dir.path().join("messages.log");
    std::fs::write(
        &log,
        "Dec  5 10:00:01 ip-10-0-1-23 systemd[1]: Started Session 1 of user ec2-user.\n\
         Dec  5 10:00:02 ip-10-0-1-23 sshd[812]: Accepted publickey for ec2-user\n",
    )
    .unwrap();
    let args = [
        "firehose",
        log.to_str().unwrap(),
        "--start-ms",
        "1764928801000",
    ];
    let out = generate(&args);
    assert_eq!(out, generate(&args), "not reproducible");
    let event: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(event["region"], "us-east-1");
    let records = event["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    for (record, program) in records.iter().zip(["systemd", "sshd"]) {
        assert_eq!(record["approximateArrivalTimestamp"], 1_764_928_801_000_i64);
        let data = base64::engine::general_purpose::STANDARD
            .decode(record["data"].as_str().unwrap())
            .unwrap();
        assert!(data.ends_with(b"\n"), "a row ends its line");
        let row: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(row["program"], program);
        assert_eq!(row["ingest_time"], "2025-12-05T10:00:01.000Z");
    }
}

#[test]
fn bad_input_is_named() {
    let dir = Dir::new("generate-event-bad");
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "\n\n").unwrap();
    let out = loglab(&["generate-event", "cloudwatch-logs", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("empty.log is empty"), "{stderr}");
    let out = loglab(&[
        "generate-event",
        "ec2-state-change",
        "--instance-id",
        "web-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an EC2 instance id"), "{stderr}");
    // One line over Lambda's asynchronous payload limit, even compressed (random text).
    let big = dir.path().join("big.log");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let text: String = (0..1_600_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 90) as u8)
        })
        .collect();
    std::fs::write(&big, text).unwrap();
    let out = loglab(&["generate-event", "cloudwatch-logs", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("over the 1048576 bytes"), "{stderr}");
}
