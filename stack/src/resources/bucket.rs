//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`: the private bucket the rows land in, its
//! encryption, ownership, public-access block and lifecycle tiers, and its policy.

use async_trait::async_trait;
use aws_sdk_s3::types as s3t;
use serde_json::{Value, json};

use super::policies;
use super::sdk::{differs, err, existing, int, policy_json, text};
use super::{OnEmulator, Reference, ResourceType, Target, entry};
use crate::cfn::{ids, reference, sub};
use crate::clients::{Clients, ProvisionError};
use crate::{Names, Placement, Stack, to_cfn_sub};

/// Days a version that is no longer current (deleted, overwritten, or expired by the lifecycle)
/// is kept before S3 removes it: the window in which a deletion of security logs, by mistake or
/// by an intruder with write access, can be undone (S3 User Guide, "Retaining multiple versions
/// of objects with S3 Versioning" and lifecycle's `NoncurrentVersionExpiration`).
pub const NONCURRENT_VERSION_DAYS: i64 = 30;

/// The bucket.
pub struct Bucket;

#[async_trait]
impl ResourceType for Bucket {
    fn type_name(&self) -> &'static str {
        "AWS::S3::Bucket"
    }

    fn checkov_skips(&self) -> &'static [(&'static str, &'static str)] {
        BUCKET_CHECKOV_SKIPS
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let bucket_name = to_cfn_sub(
            &stack.definition.bucket.name,
            &stack.definition.account.name,
        );
        let mut lifecycle_rule = json!({
            "Id": "tiers-then-expire",
            "Status": "Enabled",
            "ExpirationInDays": stack.definition.bucket.expiration_days,
            "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 },
            "NoncurrentVersionExpiration": { "NoncurrentDays": NONCURRENT_VERSION_DAYS },
        });
        if !stack.definition.bucket.transitions.is_empty() {
            lifecycle_rule["Transitions"] = stack
                .definition
                .bucket
                .transitions
                .iter()
                .map(|t| json!({ "StorageClass": t.storage_class, "TransitionInDays": t.days }))
                .collect();
        }
        let properties = json!({
            "BucketName": sub(bucket_name),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true, "BlockPublicPolicy": true,
                "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
            },
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" }, "BucketKeyEnabled": true }
            ]},
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "VersioningConfiguration": { "Status": "Enabled" },
            "LifecycleConfiguration": { "Rules": [lifecycle_rule] },
        });
        vec![(ids::BUCKET.to_owned(), entry(self.type_name(), properties))]
    }

    fn apply_order(&self) -> u8 {
        1
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    fn emulator_cloudformation_drops(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "BucketEncryption.ServerSideEncryptionConfiguration[0].BucketKeyEnabled",
                "LocalStack's CloudFormation stores BucketKeyEnabled as false (PutBucketEncryption through the SDK keeps true)",
            ),
            (
                "LifecycleConfiguration",
                "LocalStack's CloudFormation drops the bucket's lifecycle rules (PutBucketLifecycleConfiguration through the SDK keeps them)",
            ),
        ]
    }

    fn references(&self, _: &Stack, names: &Names, _: &Placement) -> Vec<Reference> {
        vec![Reference::new(
            ids::BUCKET,
            &names.bucket,
            format!("arn:aws:s3:::{}", names.bucket),
        )]
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        read_bucket(clients, id, &text(desired, "BucketName")).await
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        write_bucket(at, actual).await
    }
}

/// The bucket's policy.
pub struct BucketPolicy;

#[async_trait]
impl ResourceType for BucketPolicy {
    fn type_name(&self) -> &'static str {
        "AWS::S3::BucketPolicy"
    }

    fn render(&self, stack: &Stack) -> Vec<(String, Value)> {
        let properties = json!({
            "Bucket": reference(ids::BUCKET),
            "PolicyDocument": policies::bucket_policy(stack),
        });
        vec![(
            ids::BUCKET_POLICY.to_owned(),
            entry(self.type_name(), properties),
        )]
    }

    fn apply_order(&self) -> u8 {
        2
    }

    fn on_emulator(&self) -> OnEmulator {
        OnEmulator::Provisioned
    }

    async fn read(&self, at: Target<'_>) -> Result<Option<Value>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let bucket = text(desired, "Bucket");
        match clients.s3.get_bucket_policy().bucket(&bucket).send().await {
            Ok(out) => Ok(Some(
                json!({ "Bucket": bucket, "PolicyDocument": policy_json(out.policy().unwrap_or_default()) }),
            )),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(err(id, "GetBucketPolicy")(e)),
        }
    }

    async fn write(
        &self,
        at: Target<'_>,
        actual: Option<&Value>,
    ) -> Result<Vec<String>, ProvisionError> {
        let (clients, id, desired) = (at.clients, at.id, at.desired);
        let differs = |key: &str| actual.is_none_or(|a| a.get(key) != desired.get(key));
        if !differs("PolicyDocument") {
            return Ok(Vec::new());
        }
        clients
            .s3
            .put_bucket_policy()
            .bucket(text(desired, "Bucket"))
            .policy(desired["PolicyDocument"].to_string())
            .send()
            .await
            .map_err(err(id, "PutBucketPolicy"))?;
        Ok(vec!["PolicyDocument".to_owned()])
    }
}

/// A CreateBucket request for `region` (us-east-1 takes no location constraint; every other
/// region requires one).
pub(crate) fn create_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
) -> aws_sdk_s3::operation::create_bucket::builders::CreateBucketFluentBuilder {
    let create = s3.create_bucket().bucket(bucket);
    if region == "us-east-1" {
        return create;
    }
    create.create_bucket_configuration(
        s3t::CreateBucketConfiguration::builder()
            .location_constraint(s3t::BucketLocationConstraint::from(region))
            .build(),
    )
}

async fn read_bucket(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let s3 = &clients.s3;
    if existing(
        s3.head_bucket().bucket(name).send().await,
        |s| s.is_not_found(),
        id,
        "HeadBucket",
    )?
    .is_none()
    {
        return Ok(None);
    }
    let mut value = json!({ "BucketName": name });
    if let Ok(out) = s3.get_public_access_block().bucket(name).send().await
        && let Some(c) = out.public_access_block_configuration()
    {
        value["PublicAccessBlockConfiguration"] = json!({
            "BlockPublicAcls": c.block_public_acls(), "BlockPublicPolicy": c.block_public_policy(),
            "IgnorePublicAcls": c.ignore_public_acls(), "RestrictPublicBuckets": c.restrict_public_buckets(),
        });
    }
    if let Ok(out) = s3.get_bucket_encryption().bucket(name).send().await
        && let Some(c) = out.server_side_encryption_configuration()
    {
        let rules: Vec<Value> = c.rules().iter().map(|r| {
            let mut rule = json!({ "ServerSideEncryptionByDefault": { "SSEAlgorithm": r.apply_server_side_encryption_by_default().map(|d| d.sse_algorithm().as_str()) } });
            if let Some(key) = r.bucket_key_enabled() {
                rule["BucketKeyEnabled"] = json!(key);
            }
            rule
        }).collect();
        value["BucketEncryption"] = json!({ "ServerSideEncryptionConfiguration": rules });
    }
    if let Ok(out) = s3.get_bucket_ownership_controls().bucket(name).send().await
        && let Some(c) = out.ownership_controls()
    {
        let rules: Vec<Value> = c
            .rules()
            .iter()
            .map(|r| json!({ "ObjectOwnership": r.object_ownership().as_str() }))
            .collect();
        value["OwnershipControls"] = json!({ "Rules": rules });
    }
    if let Ok(out) = s3.get_bucket_versioning().bucket(name).send().await
        && let Some(status) = out.status()
    {
        value["VersioningConfiguration"] = json!({ "Status": status.as_str() });
    }
    if let Ok(out) = s3
        .get_bucket_lifecycle_configuration()
        .bucket(name)
        .send()
        .await
    {
        let rules: Vec<Value> = out.rules().iter().map(|r| {
            let mut rule = json!({ "Id": r.id(), "Status": r.status().as_str() });
            if let Some(days) = r.expiration().and_then(|e| e.days()) {
                rule["ExpirationInDays"] = json!(days);
            }
            if let Some(days) = r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()) {
                rule["AbortIncompleteMultipartUpload"] = json!({ "DaysAfterInitiation": days });
            }
            if let Some(days) = r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()) {
                rule["NoncurrentVersionExpiration"] = json!({ "NoncurrentDays": days });
            }
            if !r.transitions().is_empty() {
                rule["Transitions"] = r.transitions().iter().map(|t| json!({ "StorageClass": t.storage_class().map(|c| c.as_str()), "TransitionInDays": t.days() })).collect();
            }
            rule
        }).collect();
        value["LifecycleConfiguration"] = json!({ "Rules": rules });
    }
    Ok(Some(value))
}

/// Writes what differs; returns the top-level properties written.
async fn write_bucket(
    at: Target<'_>,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let (clients, id, desired) = (at.clients, at.id, at.desired);
    let s3 = &clients.s3;
    let name = text(desired, "BucketName");
    let mut written = Vec::new();
    let mut mark = |key: &str| written.push(key.to_owned());
    if actual.is_none() {
        create_bucket(s3, &name, &clients.region)
            .send()
            .await
            .map_err(err(id, "CreateBucket"))?;
        mark("BucketName");
    }
    if differs(actual, desired, "PublicAccessBlockConfiguration") {
        let c = &desired["PublicAccessBlockConfiguration"];
        let flag = |k: &str| c[k].as_bool().unwrap_or(false);
        let config = s3t::PublicAccessBlockConfiguration::builder()
            .block_public_acls(flag("BlockPublicAcls"))
            .block_public_policy(flag("BlockPublicPolicy"))
            .ignore_public_acls(flag("IgnorePublicAcls"))
            .restrict_public_buckets(flag("RestrictPublicBuckets"))
            .build();
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(config)
            .send()
            .await
            .map_err(err(id, "PutPublicAccessBlock"))?;
        mark("PublicAccessBlockConfiguration");
    }
    if differs(actual, desired, "BucketEncryption") {
        let rule = &desired["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
        let by_default = s3t::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(s3t::ServerSideEncryption::from(
                rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
                    .as_str()
                    .unwrap_or("AES256"),
            ))
            .build()
            .map_err(err(id, "PutBucketEncryption"))?;
        let rule = s3t::ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(by_default)
            .bucket_key_enabled(rule["BucketKeyEnabled"].as_bool().unwrap_or(false))
            .build();
        let config = s3t::ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .map_err(err(id, "PutBucketEncryption"))?;
        s3.put_bucket_encryption()
            .bucket(&name)
            .server_side_encryption_configuration(config)
            .send()
            .await
            .map_err(err(id, "PutBucketEncryption"))?;
        mark("BucketEncryption");
    }
    if differs(actual, desired, "OwnershipControls") {
        let ownership = desired["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
            .as_str()
            .unwrap_or("BucketOwnerEnforced");
        let rule = s3t::OwnershipControlsRule::builder()
            .object_ownership(s3t::ObjectOwnership::from(ownership))
            .build()
            .map_err(err(id, "PutBucketOwnershipControls"))?;
        let controls = s3t::OwnershipControls::builder()
            .rules(rule)
            .build()
            .map_err(err(id, "PutBucketOwnershipControls"))?;
        s3.put_bucket_ownership_controls()
            .bucket(&name)
            .ownership_controls(controls)
            .send()
            .await
            .map_err(err(id, "PutBucketOwnershipControls"))?;
        mark("OwnershipControls");
    }
    if differs(actual, desired, "VersioningConfiguration") {
        let status = text(&desired["VersioningConfiguration"], "Status");
        s3.put_bucket_versioning()
            .bucket(&name)
            .versioning_configuration(
                s3t::VersioningConfiguration::builder()
                    .status(s3t::BucketVersioningStatus::from(status.as_str()))
                    .build(),
            )
            .send()
            .await
            .map_err(err(id, "PutBucketVersioning"))?;
        mark("VersioningConfiguration");
    }
    if differs(actual, desired, "LifecycleConfiguration") {
        let mut rules = Vec::new();
        for rule in desired["LifecycleConfiguration"]["Rules"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut builder = s3t::LifecycleRule::builder()
                .id(text(rule, "Id"))
                .status(s3t::ExpirationStatus::from(text(rule, "Status").as_str()))
                .filter(s3t::LifecycleRuleFilter::builder().prefix("").build())
                .expiration(
                    s3t::LifecycleExpiration::builder()
                        .days(int(&rule["ExpirationInDays"]))
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    s3t::AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(int(
                            &rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
                        ))
                        .build(),
                );
            if let Some(days) = rule["NoncurrentVersionExpiration"]["NoncurrentDays"].as_i64() {
                builder = builder.noncurrent_version_expiration(
                    s3t::NoncurrentVersionExpiration::builder()
                        .noncurrent_days(i32::try_from(days).unwrap_or(i32::MAX))
                        .build(),
                );
            }
            for t in rule["Transitions"].as_array().into_iter().flatten() {
                builder = builder.transitions(
                    s3t::Transition::builder()
                        .days(int(&t["TransitionInDays"]))
                        .storage_class(s3t::TransitionStorageClass::from(
                            text(t, "StorageClass").as_str(),
                        ))
                        .build(),
                );
            }
            rules.push(
                builder
                    .build()
                    .map_err(err(id, "PutBucketLifecycleConfiguration"))?,
            );
        }
        let config = s3t::BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build()
            .map_err(err(id, "PutBucketLifecycleConfiguration"))?;
        s3.put_bucket_lifecycle_configuration()
            .bucket(&name)
            .lifecycle_configuration(config)
            .send()
            .await
            .map_err(err(id, "PutBucketLifecycleConfiguration"))?;
        mark("LifecycleConfiguration");
    }
    Ok(written)
}

/// checkov findings on the bucket that the stack does not fix, with why.
const BUCKET_CHECKOV_SKIPS: &[(&str, &str)] = &[(
    "CKV_AWS_18",
    "No server access logging: it needs a second bucket outside this stack's lifecycle. Audit object access with CloudTrail S3 data events, which the account owns.",
)];
