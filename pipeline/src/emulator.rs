//! The SDK configuration for an emulator (LocalStack, or MiniStack as the second) instead of
//! AWS: its endpoint, a region, and the test credentials it accepts. The one place those
//! credentials are written; the harness, the stack's provisioner and the tests all take them
//! from here, and the tests their emulator's endpoint.

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

/// The emulators the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulator {
    /// LocalStack community (`scripts/localstack-host.sh`).
    LocalStack,
    /// MiniStack, the second emulator (`scripts/ministack-host.sh`).
    MiniStack,
}

impl Emulator {
    /// The variable holding its endpoint.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Self::LocalStack => "LOCALSTACK_ENDPOINT",
            Self::MiniStack => "MINISTACK_ENDPOINT",
        }
    }

    /// The variable that lets a developer skip its tests (never in CI).
    pub fn skip_variable(self) -> &'static str {
        match self {
            Self::LocalStack => "LOGLAB_SKIP_LOCALSTACK",
            Self::MiniStack => "LOGLAB_SKIP_MINISTACK",
        }
    }
}

/// Why the tests have no emulator to talk to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{variable} is not set: run scripts/test.sh (it starts the emulators), or point it at a running emulator"
)]
pub struct NoEmulator {
    /// The endpoint variable that was missing.
    pub variable: &'static str,
}

/// The emulator the tests that need one use: `LOCALSTACK_ENDPOINT`. Without it, `Ok(None)`
/// (skip, said on stderr) only outside CI and only when `LOGLAB_SKIP_LOCALSTACK` asks for it;
/// otherwise [`NoEmulator`], so that CI never passes a test it did not run.
pub fn test_endpoint() -> Result<Option<String>, NoEmulator> {
    test_endpoint_of(Emulator::LocalStack)
}

/// [`test_endpoint`] for `emulator` (`MINISTACK_ENDPOINT`, `LOGLAB_SKIP_MINISTACK` for
/// MiniStack).
pub fn test_endpoint_of(emulator: Emulator) -> Result<Option<String>, NoEmulator> {
    endpoint_from(emulator, |name| std::env::var(name).ok())
}

fn endpoint_from(
    emulator: Emulator,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, NoEmulator> {
    let variable = emulator.endpoint_variable();
    if let Some(url) = var(variable) {
        return Ok(Some(url));
    }
    let skip = emulator.skip_variable();
    if var("CI").is_none() && var(skip).is_some() {
        eprintln!("SKIPPED: {skip} is set and {variable} is not");
        return Ok(None);
    }
    Err(NoEmulator { variable })
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
        let local = Emulator::LocalStack;
        let missing = NoEmulator {
            variable: "LOCALSTACK_ENDPOINT",
        };
        assert_eq!(
            endpoint_from(local, env(&[("LOCALSTACK_ENDPOINT", url)])),
            Ok(Some(url.to_owned()))
        );
        assert_eq!(
            endpoint_from(local, env(&[("LOGLAB_SKIP_LOCALSTACK", "1")])),
            Ok(None)
        );
        assert_eq!(
            endpoint_from(
                local,
                env(&[("LOGLAB_SKIP_LOCALSTACK", "1"), ("CI", "true")])
            ),
            Err(missing.clone())
        );
        assert_eq!(endpoint_from(local, env(&[])), Err(missing));
        // Each emulator has its own variables: LocalStack's endpoint is not MiniStack's.
        assert_eq!(
            endpoint_from(Emulator::MiniStack, env(&[("LOCALSTACK_ENDPOINT", url)])),
            Err(NoEmulator {
                variable: "MINISTACK_ENDPOINT"
            })
        );
        assert_eq!(
            endpoint_from(Emulator::MiniStack, env(&[("LOGLAB_SKIP_MINISTACK", "1")])),
            Ok(None)
        );
    }
}
