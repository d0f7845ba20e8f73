//! Helpers shared by the integration tests: the repository's root, and LocalStack (its URL,
//! SDK configuration, and the EC2 and SSM set-up the tests need).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    dead_code,
    reason = "test helpers: a missing emulator must stop the test loudly; not every test uses every helper"
)]

use std::collections::HashMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration,
};

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

/// The emulator's URL (`pipeline::emulator::test_endpoint`): in CI a missing emulator fails
/// the test; elsewhere `LOGLAB_SKIP_LOCALSTACK=1` skips it, saying so.
pub fn endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint().unwrap_or_else(|e| panic!("{e}"))
}

/// The second emulator's URL (`MINISTACK_ENDPOINT`, scripts/ministack-host.sh): in CI a
/// missing one fails the test; elsewhere `LOGLAB_SKIP_MINISTACK=1` skips it, saying so.
pub fn ministack_endpoint() -> Option<String> {
    pipeline::emulator::test_endpoint_of(pipeline::emulator::Emulator::MiniStack)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// SDK configuration for the emulator at `url`, in us-east-1.
pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    pipeline::emulator::sdk_config(url, "us-east-1").await
}

/// LocalStack's EC2 and SSM, with the set-up the tests need.
pub struct Emulator {
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// SSM.
    pub ssm: aws_sdk_ssm::Client,
}

impl Emulator {
    pub async fn connect() -> Option<Self> {
        Some(Self::at(&endpoint()?).await)
    }

    /// The emulator at `url` (the second emulator's tests pass its endpoint).
    pub async fn at(url: &str) -> Self {
        let config = sdk_config(url).await;
        Self {
            ec2: aws_sdk_ec2::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
        }
    }

    pub async fn image(&self, windows: bool) -> String {
        let mut request = self.ec2.describe_images();
        if windows {
            request = request.filters(Filter::builder().name("platform").values("windows").build());
        }
        let images = request.send().await.unwrap();
        images
            .images()
            .iter()
            .find(|image| image.platform().is_some() == windows)
            .and_then(|image| image.image_id())
            .unwrap()
            .to_owned()
    }

    pub async fn launch(&self, image: &str, tags: &[(&str, &str)]) -> String {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (key, value) in tags {
            spec = spec.tags(Tag::builder().key(*key).value(*value).build());
        }
        let mut request = self
            .ec2
            .run_instances()
            .image_id(image)
            .min_count(1)
            .max_count(1);
        if !tags.is_empty() {
            request = request.tag_specifications(spec.build());
        }
        let output = request.send().await.unwrap();
        output.instances()[0].instance_id().unwrap().to_owned()
    }

    pub async fn put_parameter(&self, name: &str, value: &str) {
        self.ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    /// The command as LocalStack recorded it: document, parameters, comment.
    pub async fn command(
        &self,
        command_id: &str,
    ) -> (String, HashMap<String, Vec<String>>, String) {
        let listed = self
            .ssm
            .list_commands()
            .command_id(command_id)
            .send()
            .await
            .unwrap();
        let command = &listed.commands()[0];
        (
            command.document_name().unwrap().to_owned(),
            command.parameters().cloned().unwrap_or_default(),
            command.comment().unwrap_or_default().to_owned(),
        )
    }

    /// Every comment LocalStack holds for commands (ListCommands with no filter).
    pub async fn all_comments(&self) -> Vec<String> {
        let listed = self.ssm.list_commands().send().await.unwrap();
        listed
            .commands()
            .iter()
            .map(|c| c.comment().unwrap_or_default().to_owned())
            .collect()
    }
}

/// A name no other test run on the same emulator uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

/// A bucket and a Direct PUT delivery stream into it, on the emulator: rows under `rows/`,
/// failures under `errors/`.
pub struct DeliveryTarget {
    /// S3, path-style.
    pub s3: aws_sdk_s3::Client,
    /// Firehose.
    pub firehose: aws_sdk_firehose::Client,
    /// The bucket.
    pub bucket: String,
    /// The delivery stream.
    pub stream: String,
}

impl DeliveryTarget {
    /// Creates both, with names no other run uses, and waits until the stream is active.
    pub async fn create(url: &str) -> Self {
        let config = sdk_config(url).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let firehose = aws_sdk_firehose::Client::new(&config);
        let (bucket, stream) = (unique("loglab-it"), unique("loglab-it"));
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let destination = ExtendedS3DestinationConfiguration::builder()
            .role_arn("arn:aws:iam::000000000000:role/loglab-firehose")
            .bucket_arn(format!("arn:aws:s3:::{bucket}"))
            .prefix("rows/")
            .error_output_prefix("errors/!{firehose:error-output-type}/")
            .buffering_hints(
                BufferingHints::builder()
                    .size_in_mbs(1)
                    .interval_in_seconds(60)
                    .build(),
            )
            // LocalStack stores but does not apply compression (objects are read either way),
            // and omits CompressionFormat from DescribeDeliveryStream unless it was set here,
            // which the SDK cannot parse.
            .compression_format(CompressionFormat::Gzip)
            .build()
            .unwrap();
        firehose
            .create_delivery_stream()
            .delivery_stream_name(&stream)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(destination)
            .send()
            .await
            .unwrap();
        for _ in 0..100 {
            let described = firehose
                .describe_delivery_stream()
                .delivery_stream_name(&stream)
                .send()
                .await
                .unwrap();
            if described
                .delivery_stream_description()
                .map(|d| d.delivery_stream_status())
                == Some(&DeliveryStreamStatus::Active)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Self {
            s3,
            firehose,
            bucket,
            stream,
        }
    }

    /// Every object under `prefix`, in key order, gunzipped where gzip, concatenated.
    /// How many objects are under `prefix`.
    pub async fn object_count(&self, prefix: &str) -> usize {
        self.list(prefix).await.contents().len()
    }

    async fn list(
        &self,
        prefix: &str,
    ) -> aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output {
        self.s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap()
    }

    pub async fn objects(&self, prefix: &str) -> Vec<u8> {
        let listed = self.list(prefix).await;
        let mut out = Vec::new();
        for object in listed.contents() {
            let body = self
                .s3
                .get_object()
                .bucket(&self.bucket)
                .key(object.key().unwrap())
                .send()
                .await
                .unwrap();
            let bytes = body.body.collect().await.unwrap().into_bytes();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut plain = Vec::new();
                pipeline::etl::decode::gunzip_capped(&bytes, 1 << 30, &mut plain).unwrap();
                out.extend_from_slice(&plain);
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        out
    }
}
