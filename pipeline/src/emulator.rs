//! The SDK configuration for an emulator (LocalStack) instead of AWS: its endpoint, a region,
//! and the test credentials it accepts. The one place those credentials are written; the
//! harness, the stack's provisioner and the tests all take them from here.

/// The access key id LocalStack accepts (any value works; `test` is its documented default).
pub const ACCESS_KEY_ID: &str = "test";
/// The secret access key LocalStack accepts.
pub const SECRET_ACCESS_KEY: &str = "test";

/// SDK configuration for the emulator at `endpoint` in `region`, with its test credentials.
/// S3 clients built from it still need path-style addressing (an emulator has no per-bucket
/// host names).
pub async fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    crate::aws_sdk::defaults()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_firehose::config::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "emulator",
        ))
        .load()
        .await
}

/// Why the tests have no emulator to talk to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "LOCALSTACK_ENDPOINT is not set: run scripts/test.sh (it starts LocalStack), or point it at a running emulator"
)]
pub struct NoEmulator;

/// The emulator the tests that need one use: `LOCALSTACK_ENDPOINT`. Without it, `Ok(None)`
/// (skip, said on stderr) only outside CI and only when `LOGLAB_SKIP_LOCALSTACK` asks for it;
/// otherwise [`NoEmulator`], so that CI never passes a test it did not run.
pub fn test_endpoint() -> Result<Option<String>, NoEmulator> {
    endpoint_from(|name| std::env::var(name).ok())
}

fn endpoint_from(var: impl Fn(&str) -> Option<String>) -> Result<Option<String>, NoEmulator> {
    if let Some(url) = var("LOCALSTACK_ENDPOINT") {
        return Ok(Some(url));
    }
    if var("CI").is_none() && var("LOGLAB_SKIP_LOCALSTACK").is_some() {
        eprintln!("SKIPPED: LOGLAB_SKIP_LOCALSTACK is set and LOCALSTACK_ENDPOINT is not");
        return Ok(None);
    }
    Err(NoEmulator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn ci_never_skips_a_test_that_needs_the_emulator() {
        let url = "http://127.0.0.1:4566";
        assert_eq!(
            endpoint_from(env(&[("LOCALSTACK_ENDPOINT", url)])),
            Ok(Some(url.to_owned()))
        );
        assert_eq!(
            endpoint_from(env(&[("LOGLAB_SKIP_LOCALSTACK", "1")])),
            Ok(None)
        );
        assert_eq!(
            endpoint_from(env(&[("LOGLAB_SKIP_LOCALSTACK", "1"), ("CI", "true")])),
            Err(NoEmulator)
        );
        assert_eq!(endpoint_from(env(&[])), Err(NoEmulator));
    }
}
