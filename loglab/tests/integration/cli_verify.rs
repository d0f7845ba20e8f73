//! `loglab verify` as a user runs it against an emulator: the stack's resources provisioned on
//! LocalStack with the harness's Glue and Athena stand-ins, a CloudFormation stack naming them
//! in its outputs, and the command given only the stack name, with the endpoints, region and
//! credentials in the environment as for any AWS tool (`--deliver harness`, since the emulator
//! runs no subscription filter). It writes, reconciles, runs the saved queries, cleans up,
//! prints PASSED and exits 0.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests stop loudly")]

use stack::provision;

use crate::support;
use crate::with_stand_ins::{WithStandIns, with_stand_ins};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_against_the_emulator_with_only_the_stack_name() {
    let Some(url) = support::endpoint() else {
        return;
    };
    let region = "mx-central-1";
    let WithStandIns {
        stack,
        deployment,
        stand_ins,
        config,
        clients,
    } = with_stand_ins(&url, region, "CliVerify", support::stack).await;
    provision::apply(&clients, &deployment).await.unwrap();
    let stack_name = format!("loglab-cli-verify-{}", std::process::id());
    let (names, d) = (&deployment.names, &stack.definition);
    support::outputs_stack(
        &aws_sdk_cloudformation::Client::new(&config),
        &stack_name,
        &[
            ("BucketName", &names.bucket),
            ("LogGroupName", &names.log_group),
            ("GlueDatabaseName", &d.catalog.database),
            ("AthenaWorkGroupName", &d.athena.workgroup),
        ],
    )
    .await;
    // The scenario names the stack definition it was deployed from: the quickstart's, with
    // this test's account name.
    let dir = std::env::temp_dir().join(format!("loglab-cli-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pipeline_toml = std::fs::read_to_string(support::root().join("pipeline.toml")).unwrap();
    let pipeline_toml = pipeline_toml.replacen("name = \"Example\"", "name = \"CliVerify\"", 1);
    std::fs::write(dir.join("pipeline.toml"), pipeline_toml).unwrap();
    let scenario = std::fs::read_to_string(support::root().join("scenarios/quickstart.toml"))
        .unwrap()
        .replace("stack = \"../pipeline.toml\"", "stack = \"pipeline.toml\"");
    std::fs::write(dir.join("quickstart.toml"), scenario).unwrap();

    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_loglab"))
        .current_dir(&dir)
        .args(["verify", "quickstart.toml", "--stack-name", &stack_name])
        .args(["--deliver", "harness", "--wait", "2m"])
        .env("AWS_ENDPOINT_URL", &url)
        .env(
            "AWS_ENDPOINT_URL_ATHENA",
            &stand_ins.athena_endpoint.endpoint,
        )
        .env("AWS_REGION", region)
        .env("AWS_ACCESS_KEY_ID", pipeline::emulator::ACCESS_KEY_ID)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            pipeline::emulator::SECRET_ACCESS_KEY,
        )
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        printed.contains(" 0 missing, 0 duplicated, 0 unexpected"),
        "{printed}"
    );
    assert_eq!(
        printed.matches("saved query ").count(),
        d.athena.saved_queries.len(),
        "{printed}"
    );
    assert!(printed.trim_end().ends_with("PASSED"), "{printed}");
    let reports: Vec<_> = std::fs::read_dir(dir.join(".loglab/verify"))
        .unwrap()
        .collect();
    assert_eq!(reports.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
