//! The one way the workspace builds an AWS SDK configuration: every SDK client sends through
//! [`https_client`], rustls with ring as its crypto provider. The SDK's own default
//! (`default-https-client`) is rustls on aws-lc-rs, whose aws-lc-sys is a CMake build of a C
//! library; object_store (the Athena stand-in's reader) already brings rustls on ring, so one
//! provider serves both and the functions carry one.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The HTTPS client of every SDK client: rustls on ring, the platform's trusted roots.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK's defaults (region, credentials and endpoints from the usual chain) with
/// [`https_client`]; what a Lambda function and `loglab deploy` load.
pub fn defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client())
}

/// [`defaults`], loaded.
pub async fn load() -> aws_config::SdkConfig {
    defaults().load().await
}

#[cfg(test)]
mod tests {
    /// An SDK configuration built here can send: it has an HTTP client (without one, every
    /// call would fail with "no HTTP client was available").
    #[tokio::test]
    async fn the_loaded_configuration_has_an_https_client() {
        let config = super::defaults()
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await;
        assert!(config.http_client().is_some());
    }
}
