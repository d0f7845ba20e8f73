//! The deployed functions as `loglab run --lambda artifacts` runs them: the artifacts `loglab
//! build` made, each in an execution environment of its own behind cargo-lambda's Runtime API.
//! These need no emulator: the ETL function answers a CONTROL_MESSAGE without calling Firehose.
//!
//! What each test checks against: AWS Lambda developer guide, "Asynchronous invocation" (errors
//! are the function's, retried), "Configuring function timeout" (Lambda stops the function and
//! the invocation fails with "Task timed out after N seconds"), and "Lambda execution
//! environment lifecycle" (an init failure ends the environment with the runtime's output).
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use stack::{Deployment, Placement, StackDefinition};
use standins::lambda::{self, FunctionPool, InvokeError, LambdaError, Launch};
use standins::subscription::payload;

fn etl_launch(drop_variable: Option<&str>) -> (Launch, Duration) {
    let stack = support::stack(StackDefinition::default());
    let deployment = Deployment::new(&stack, &Placement::localstack("eu-west-1"));
    let specs = deployment.functions().unwrap();
    let (dir, _) = support::lambda_artifacts();
    let located = lambda::locate(&dir, &specs).unwrap();
    assert_eq!(located.len(), 2);
    let lambda::Located {
        spec, bootstrap, ..
    } = located
        .into_iter()
        .find(|l| l.spec.binary == "etl-lambda")
        .unwrap();
    let placement = lambda::Placement {
        // Nothing here calls AWS; an unreachable endpoint proves it.
        endpoint: "http://127.0.0.1:9",
        region: "eu-west-1",
    };
    let mut environment = lambda::lambda_environment(&spec, &placement, &BTreeMap::new());
    if let Some(name) = drop_variable {
        environment.remove(name);
    }
    let launch = Launch {
        cargo_lambda: support::root().join(stack::artifacts::CARGO_LAMBDA_SCRIPT),
        workspace: support::root(),
        bootstrap,
        binary: spec.binary.to_owned(),
        environment,
    };
    (launch, spec.timeout)
}

fn control_message() -> Vec<u8> {
    payload::lambda_event(&payload::control_message(1_700_000_000_000))
        .unwrap()
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn the_deployed_etl_answers_its_errors_and_times_out_in_lambdas_words() {
    let (launch, timeout) = etl_launch(None);
    assert_eq!(timeout, Duration::from_secs(120), "the template's Timeout");
    let pool = FunctionPool::start(launch.clone(), timeout, 1)
        .await
        .unwrap();
    // The Runtime API listens on the loopback interface only.
    let ports = pool.runtime_api_ports();
    assert_eq!(ports.len(), 1, "{ports:?}");
    crate::support::assert_loopback_only(ports[0], "the Lambda Runtime API");
    let response = pool.invoke(&control_message()).await.unwrap();
    assert_eq!(
        response["transform"]["control_messages_dropped"], 1,
        "{response}"
    );

    // The handler's own error, with its type, as Lambda reports it.
    match pool.invoke(br#"{"bad":1}"#).await {
        Err(InvokeError::Function {
            error_type,
            message,
        }) => {
            assert_eq!(error_type, "MalformedPayload");
            assert!(message.contains("awslogs.data"), "{message}");
        }
        other => panic!("expected the function's error, got {other:?}"),
    }
    pool.stop().await;

    // A timeout shorter than any invocation: the function is stopped and the invocation
    // fails in Lambda's words.
    let short = FunctionPool::start(launch, Duration::from_millis(1), 1)
        .await
        .unwrap();
    let error = short.invoke(&control_message()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Task timed out after 0.00 seconds"),
        "{error}"
    );
    let stats = short.stats();
    assert_eq!((stats.invocations, stats.timeouts), (1, 1), "{stats:?}");
    short.stop().await;
}

#[tokio::test]
async fn an_init_error_fails_with_the_functions_own_message() {
    let (launch, timeout) = etl_launch(Some("FIREHOSE_DELIVERY_STREAM"));
    match FunctionPool::start(launch, timeout, 1).await {
        Err(LambdaError::Init {
            function, output, ..
        }) => {
            assert_eq!(function, "etl-lambda");
            assert!(output.contains("FIREHOSE_DELIVERY_STREAM"), "{output}");
        }
        other => panic!("expected an init error, got {other:?}"),
    }
}

/// The harness's own handling of a process that dies mid-invocation, with a stand-in
/// bootstrap (a shell script speaking the Runtime API with curl): the invocation fails in
/// Lambda's words with what the process printed, and the pool counts a crash.
#[tokio::test]
async fn a_crash_mid_invocation_is_reported_with_the_process_output() {
    let (mut launch, _) = etl_launch(None);
    let dir = std::env::temp_dir().join(format!("loglab-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bootstrap");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         while :; do\n\
           code=$(curl -s -o /dev/null -w '%{http_code}' \"$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\")\n\
           [ \"$code\" = 200 ] && break\n\
           sleep 0.05\n\
         done\n\
         echo 'about to crash' >&2\n\
         exit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    launch.bootstrap = script;
    let pool = FunctionPool::start(launch, Duration::from_secs(30), 1)
        .await
        .unwrap();
    match pool.invoke(&control_message()).await {
        Err(error @ InvokeError::Crashed { .. }) => {
            let text = error.to_string();
            assert!(
                text.starts_with("Runtime exited with error: exit status: 3"),
                "{text}"
            );
            assert!(text.contains("about to crash"), "{text}");
        }
        other => panic!("expected a crash, got {other:?}"),
    }
    assert_eq!(pool.stats().crashes, 1);
    pool.stop().await;
}
