//! Helpers shared by the integration tests: the repository's root, and LocalStack.
#![allow(
    clippy::panic,
    dead_code,
    reason = "test helpers: a missing emulator must stop the test loudly; not every test uses every helper"
)]

/// The repository's root, through the `CARGO_MANIFEST_DIR` cargo sets when it runs the test
/// (the compile-time path only as a fallback), so a test binary reused from a clone at another
/// path in a shared target dir reads this checkout's files.
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("..")
}

/// The emulator's URL. Missing it fails the test unless skipping was asked for explicitly
/// outside CI: in CI a missing emulator is always a failure, never a silent skip.
pub fn endpoint() -> Option<String> {
    if let Ok(url) = std::env::var("LOCALSTACK_ENDPOINT") {
        return Some(url);
    }
    let in_ci = std::env::var_os("CI").is_some();
    if !in_ci && std::env::var_os("LOGLAB_SKIP_LOCALSTACK").is_some() {
        eprintln!("SKIPPED: LOGLAB_SKIP_LOCALSTACK is set and LOCALSTACK_ENDPOINT is not");
        return None;
    }
    panic!(
        "LOCALSTACK_ENDPOINT is not set: run scripts/test.sh (it starts LocalStack), or point it at a running emulator"
    );
}

pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "localstack",
        ))
        .load()
        .await
}
