//! Per-resource-type reads and writes through the AWS SDK, in the template's own shape: `read`
//! returns the properties as CloudFormation would name them (None when the resource does not
//! exist), `write` applies the top-level properties that differ.

use aws_sdk_s3::types as s3t;
use serde_json::{Value, json};

use super::provision::{Clients, ProvisionError};

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

/// Order of application: what others refer to comes first.
pub(super) fn apply_order(kind: &str) -> u8 {
    match kind {
        "AWS::IAM::Role" => 0,
        "AWS::S3::Bucket" => 1,
        "AWS::S3::BucketPolicy" => 2,
        "AWS::Logs::LogGroup" => 3,
        "AWS::Logs::LogStream" => 4,
        "AWS::SSM::Parameter" => 5,
        "AWS::KinesisFirehose::DeliveryStream" => 6,
        "AWS::Events::Rule" => 7,
        _ => 9,
    }
}

/// Whether this module can read and write `kind`.
pub(super) fn supported(kind: &str) -> bool {
    apply_order(kind) < 9
}

fn err<'a, E: std::error::Error + 'static>(
    id: &'a str,
    operation: &'static str,
) -> impl FnOnce(E) -> ProvisionError + 'a {
    move |e| ProvisionError::Call {
        resource: id.to_owned(),
        operation,
        message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
    }
}

/// `Ok(None)` when the service answers that the resource does not exist.
fn existing<T, E, R>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, R>>,
    not_found: impl FnOnce(&E) -> bool,
    id: &str,
    operation: &'static str,
) -> Result<Option<T>, ProvisionError>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(not_found) => Ok(None),
        Err(e) => Err(err(id, operation)(e)),
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

fn int(value: &Value) -> i32 {
    value
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_default()
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn policy_json(text: &str) -> Value {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&percent_decode(text)))
        .unwrap_or(Value::String(text.to_owned()))
}

/// Reads a resource in the template's shape; None when it does not exist.
pub(super) async fn read(
    clients: &Clients,
    id: &str,
    kind: &str,
    desired: &Value,
) -> Result<Option<Value>, ProvisionError> {
    match kind {
        "AWS::IAM::Role" => read_role(clients, id).await,
        "AWS::S3::Bucket" => read_bucket(clients, id, &text(desired, "BucketName")).await,
        "AWS::S3::BucketPolicy" => {
            let bucket = text(desired, "Bucket");
            match clients.s3.get_bucket_policy().bucket(&bucket).send().await {
                Ok(out) => Ok(Some(
                    json!({ "Bucket": bucket, "PolicyDocument": policy_json(out.policy().unwrap_or_default()) }),
                )),
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
                Err(e) => Err(err(id, "GetBucketPolicy")(e)),
            }
        }
        "AWS::Logs::LogGroup" => {
            let name = text(desired, "LogGroupName");
            let out = clients
                .logs
                .describe_log_groups()
                .log_group_name_prefix(&name)
                .send()
                .await
                .map_err(err(id, "DescribeLogGroups"))?;
            Ok(out
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name.as_str()))
                .map(|g| {
                    let mut v = json!({ "LogGroupName": name });
                    if let Some(days) = g.retention_in_days() {
                        v["RetentionInDays"] = json!(days);
                    }
                    v
                }))
        }
        "AWS::Logs::LogStream" => {
            let (group, stream) = (
                text(desired, "LogGroupName"),
                text(desired, "LogStreamName"),
            );
            let out = clients
                .logs
                .describe_log_streams()
                .log_group_name(&group)
                .log_stream_name_prefix(&stream)
                .send()
                .await
                .map_err(err(id, "DescribeLogStreams"))?;
            Ok(out
                .log_streams()
                .iter()
                .any(|s| s.log_stream_name() == Some(stream.as_str()))
                .then(|| json!({ "LogGroupName": group, "LogStreamName": stream })))
        }
        "AWS::SSM::Parameter" => read_parameter(clients, id, &text(desired, "Name")).await,
        "AWS::KinesisFirehose::DeliveryStream" => {
            read_stream(clients, id, &text(desired, "DeliveryStreamName")).await
        }
        "AWS::Events::Rule" => read_rule(clients, id, &text(desired, "Name")).await,
        _ => Ok(None),
    }
}

/// Writes the top-level properties of `desired` that differ from `actual` (all of them when the
/// resource does not exist). Returns what was written.
pub(super) async fn write(
    clients: &Clients,
    id: &str,
    kind: &str,
    desired: &Value,
    actual: Option<&Value>,
) -> Result<Vec<String>, ProvisionError> {
    let differs = |key: &str| actual.is_none_or(|a| a.get(key) != desired.get(key));
    let mut written = Vec::new();
    let mut mark = |key: &str| written.push(key.to_owned());
    match kind {
        "AWS::IAM::Role" => {
            let name = clients.role_name(id);
            let assume = desired["AssumeRolePolicyDocument"].to_string();
            if actual.is_none() {
                clients
                    .iam
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(&assume)
                    .send()
                    .await
                    .map_err(err(id, "CreateRole"))?;
                mark("AssumeRolePolicyDocument");
            } else if differs("AssumeRolePolicyDocument") {
                clients
                    .iam
                    .update_assume_role_policy()
                    .role_name(&name)
                    .policy_document(&assume)
                    .send()
                    .await
                    .map_err(err(id, "UpdateAssumeRolePolicy"))?;
                mark("AssumeRolePolicyDocument");
            }
            if differs("Policies") {
                for policy in desired["Policies"].as_array().into_iter().flatten() {
                    clients
                        .iam
                        .put_role_policy()
                        .role_name(&name)
                        .policy_name(text(policy, "PolicyName"))
                        .policy_document(policy["PolicyDocument"].to_string())
                        .send()
                        .await
                        .map_err(err(id, "PutRolePolicy"))?;
                }
                mark("Policies");
            }
            if desired.get("ManagedPolicyArns").is_some() && differs("ManagedPolicyArns") {
                for arn in desired["ManagedPolicyArns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    clients
                        .iam
                        .attach_role_policy()
                        .role_name(&name)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(err(id, "AttachRolePolicy"))?;
                }
                mark("ManagedPolicyArns");
            }
        }
        "AWS::S3::Bucket" => write_bucket(clients, id, desired, actual, &mut mark).await?,
        "AWS::S3::BucketPolicy" if differs("PolicyDocument") => {
            clients
                .s3
                .put_bucket_policy()
                .bucket(text(desired, "Bucket"))
                .policy(desired["PolicyDocument"].to_string())
                .send()
                .await
                .map_err(err(id, "PutBucketPolicy"))?;
            mark("PolicyDocument");
        }
        "AWS::Logs::LogGroup" => {
            let name = text(desired, "LogGroupName");
            if actual.is_none() {
                clients
                    .logs
                    .create_log_group()
                    .log_group_name(&name)
                    .send()
                    .await
                    .map_err(err(id, "CreateLogGroup"))?;
                mark("LogGroupName");
            }
            if differs("RetentionInDays") {
                clients
                    .logs
                    .put_retention_policy()
                    .log_group_name(&name)
                    .retention_in_days(int(&desired["RetentionInDays"]))
                    .send()
                    .await
                    .map_err(err(id, "PutRetentionPolicy"))?;
                mark("RetentionInDays");
            }
        }
        "AWS::Logs::LogStream" if actual.is_none() => {
            clients
                .logs
                .create_log_stream()
                .log_group_name(text(desired, "LogGroupName"))
                .log_stream_name(text(desired, "LogStreamName"))
                .send()
                .await
                .map_err(err(id, "CreateLogStream"))?;
            mark("LogStreamName");
        }
        "AWS::SSM::Parameter"
            if ["Value", "Type", "Tier", "Description"]
                .iter()
                .any(|k| differs(k)) =>
        {
            clients
                .ssm
                .put_parameter()
                .name(text(desired, "Name"))
                .value(text(desired, "Value"))
                .r#type(aws_sdk_ssm::types::ParameterType::from(
                    text(desired, "Type").as_str(),
                ))
                .tier(aws_sdk_ssm::types::ParameterTier::from(
                    text(desired, "Tier").as_str(),
                ))
                .description(text(desired, "Description"))
                .overwrite(true)
                .send()
                .await
                .map_err(err(id, "PutParameter"))?;
            mark("Value");
        }
        "AWS::KinesisFirehose::DeliveryStream" => {
            write_stream(clients, id, desired, actual, &mut mark).await?
        }
        "AWS::Events::Rule" => {
            if ["EventPattern", "State", "Description", "Name"]
                .iter()
                .any(|k| differs(k))
            {
                clients
                    .events
                    .put_rule()
                    .name(text(desired, "Name"))
                    .event_pattern(desired["EventPattern"].to_string())
                    .state(aws_sdk_eventbridge::types::RuleState::from(
                        text(desired, "State").as_str(),
                    ))
                    .description(text(desired, "Description"))
                    .send()
                    .await
                    .map_err(err(id, "PutRule"))?;
                mark("EventPattern");
            }
            if differs("Targets") {
                for target in desired["Targets"].as_array().into_iter().flatten() {
                    let target = aws_sdk_eventbridge::types::Target::builder()
                        .id(text(target, "Id"))
                        .arn(text(target, "Arn"))
                        .build()
                        .map_err(err(id, "PutTargets"))?;
                    clients
                        .events
                        .put_targets()
                        .rule(text(desired, "Name"))
                        .targets(target)
                        .send()
                        .await
                        .map_err(err(id, "PutTargets"))?;
                }
                mark("Targets");
            }
        }
        _ => {}
    }
    Ok(written)
}

async fn read_role(clients: &Clients, id: &str) -> Result<Option<Value>, ProvisionError> {
    let name = clients.role_name(id);
    let Some(role) = existing(
        clients.iam.get_role().role_name(&name).send().await,
        |s| s.is_no_such_entity_exception(),
        id,
        "GetRole",
    )?
    else {
        return Ok(None);
    };
    let assume = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(policy_json)
        .unwrap_or_default();
    let names = clients
        .iam
        .list_role_policies()
        .role_name(&name)
        .send()
        .await
        .map_err(err(id, "ListRolePolicies"))?;
    let mut policies = Vec::new();
    for policy_name in names.policy_names() {
        let doc = clients
            .iam
            .get_role_policy()
            .role_name(&name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(err(id, "GetRolePolicy"))?;
        policies.push(json!({ "PolicyName": policy_name, "PolicyDocument": policy_json(doc.policy_document()) }));
    }
    let attached = clients
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .map_err(err(id, "ListAttachedRolePolicies"))?;
    let mut value = json!({ "AssumeRolePolicyDocument": assume, "Policies": policies });
    let managed: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    if !managed.is_empty() {
        value["ManagedPolicyArns"] = json!(managed);
    }
    Ok(Some(value))
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
            if !r.transitions().is_empty() {
                rule["Transitions"] = r.transitions().iter().map(|t| json!({ "StorageClass": t.storage_class().map(|c| c.as_str()), "TransitionInDays": t.days() })).collect();
            }
            rule
        }).collect();
        value["LifecycleConfiguration"] = json!({ "Rules": rules });
    }
    Ok(Some(value))
}

async fn write_bucket(
    clients: &Clients,
    id: &str,
    desired: &Value,
    actual: Option<&Value>,
    mark: &mut impl FnMut(&str),
) -> Result<(), ProvisionError> {
    let s3 = &clients.s3;
    let name = text(desired, "BucketName");
    let differs = |key: &str| actual.is_none_or(|a| a.get(key) != desired.get(key));
    if actual.is_none() {
        create_bucket(s3, &name, &clients.region)
            .send()
            .await
            .map_err(err(id, "CreateBucket"))?;
        mark("BucketName");
    }
    if differs("PublicAccessBlockConfiguration") {
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
    if differs("BucketEncryption") {
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
    if differs("OwnershipControls") {
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
    if differs("LifecycleConfiguration") {
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
    Ok(())
}

async fn read_parameter(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let Some(out) = existing(
        clients.ssm.get_parameter().name(name).send().await,
        |s| s.is_parameter_not_found(),
        id,
        "GetParameter",
    )?
    else {
        return Ok(None);
    };
    let parameter = out.parameter();
    let mut value = json!({
        "Name": name,
        "Value": parameter.and_then(|p| p.value()),
        "Type": parameter.and_then(|p| p.r#type()).map(|t| t.as_str()),
    });
    let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .values(name)
        .build()
        .map_err(err(id, "DescribeParameters"))?;
    let described = clients
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .send()
        .await
        .map_err(err(id, "DescribeParameters"))?;
    if let Some(meta) = described.parameters().first() {
        if let Some(tier) = meta.tier() {
            value["Tier"] = json!(tier.as_str());
        }
        if let Some(description) = meta.description() {
            value["Description"] = json!(description);
        }
    }
    Ok(Some(value))
}

async fn read_stream(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let described = clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await;
    let Some(out) = existing(
        described,
        |s| s.is_resource_not_found_exception(),
        id,
        "DescribeDeliveryStream",
    )?
    else {
        return Ok(None);
    };
    let Some(description) = out.delivery_stream_description() else {
        return Ok(None);
    };
    let mut value = json!({ "DeliveryStreamName": name, "DeliveryStreamType": description.delivery_stream_type().as_str() });
    if let Some(s3) = description
        .destinations()
        .first()
        .and_then(|d| d.extended_s3_destination_description())
    {
        let mut destination = json!({
            "BucketARN": s3.bucket_arn(),
            "RoleARN": s3.role_arn(),
            "CompressionFormat": s3.compression_format().as_str(),
        });
        if let Some(prefix) = s3.prefix() {
            destination["Prefix"] = json!(prefix);
        }
        if let Some(prefix) = s3.error_output_prefix() {
            destination["ErrorOutputPrefix"] = json!(prefix);
        }
        if let Some(hints) = s3.buffering_hints() {
            destination["BufferingHints"] = json!({ "SizeInMBs": hints.size_in_mbs(), "IntervalInSeconds": hints.interval_in_seconds() });
        }
        if let Some(logging) = s3.cloud_watch_logging_options() {
            destination["CloudWatchLoggingOptions"] = json!({ "Enabled": logging.enabled(), "LogGroupName": logging.log_group_name(), "LogStreamName": logging.log_stream_name() });
        }
        value["ExtendedS3DestinationConfiguration"] = destination;
    }
    value["_version"] = json!(description.version_id());
    value["_destination"] = json!(
        description
            .destinations()
            .first()
            .map(|d| d.destination_id())
    );
    Ok(Some(value))
}

async fn write_stream(
    clients: &Clients,
    id: &str,
    desired: &Value,
    actual: Option<&Value>,
    mark: &mut impl FnMut(&str),
) -> Result<(), ProvisionError> {
    use aws_sdk_firehose::types as fh;
    let d = &desired["ExtendedS3DestinationConfiguration"];
    let hints = fh::BufferingHints::builder()
        .size_in_mbs(int(&d["BufferingHints"]["SizeInMBs"]))
        .interval_in_seconds(int(&d["BufferingHints"]["IntervalInSeconds"]))
        .build();
    let logging = fh::CloudWatchLoggingOptions::builder()
        .enabled(
            d["CloudWatchLoggingOptions"]["Enabled"]
                .as_bool()
                .unwrap_or(false),
        )
        .log_group_name(text(&d["CloudWatchLoggingOptions"], "LogGroupName"))
        .log_stream_name(text(&d["CloudWatchLoggingOptions"], "LogStreamName"))
        .build();
    let compression = fh::CompressionFormat::from(text(d, "CompressionFormat").as_str());
    match actual {
        None => {
            let config = fh::ExtendedS3DestinationConfiguration::builder()
                .bucket_arn(text(d, "BucketARN"))
                .role_arn(text(d, "RoleARN"))
                .prefix(text(d, "Prefix"))
                .error_output_prefix(text(d, "ErrorOutputPrefix"))
                .buffering_hints(hints)
                .compression_format(compression)
                .cloud_watch_logging_options(logging)
                .build()
                .map_err(err(id, "CreateDeliveryStream"))?;
            clients
                .firehose
                .create_delivery_stream()
                .delivery_stream_name(text(desired, "DeliveryStreamName"))
                .delivery_stream_type(fh::DeliveryStreamType::from(
                    text(desired, "DeliveryStreamType").as_str(),
                ))
                .extended_s3_destination_configuration(config)
                .send()
                .await
                .map_err(err(id, "CreateDeliveryStream"))?;
            mark("ExtendedS3DestinationConfiguration");
        }
        Some(actual) if actual.get("ExtendedS3DestinationConfiguration") != Some(d) => {
            let update = fh::ExtendedS3DestinationUpdate::builder()
                .bucket_arn(text(d, "BucketARN"))
                .role_arn(text(d, "RoleARN"))
                .prefix(text(d, "Prefix"))
                .error_output_prefix(text(d, "ErrorOutputPrefix"))
                .buffering_hints(hints)
                .compression_format(compression)
                .cloud_watch_logging_options(logging)
                .build();
            clients
                .firehose
                .update_destination()
                .delivery_stream_name(text(desired, "DeliveryStreamName"))
                .current_delivery_stream_version_id(text(actual, "_version"))
                .destination_id(text(actual, "_destination"))
                .extended_s3_destination_update(update)
                .send()
                .await
                .map_err(err(id, "UpdateDestination"))?;
            mark("ExtendedS3DestinationConfiguration");
        }
        Some(_) => {}
    }
    Ok(())
}

async fn read_rule(
    clients: &Clients,
    id: &str,
    name: &str,
) -> Result<Option<Value>, ProvisionError> {
    let described = clients.events.describe_rule().name(name).send().await;
    let Some(rule) = existing(
        described,
        |s| s.is_resource_not_found_exception(),
        id,
        "DescribeRule",
    )?
    else {
        return Ok(None);
    };
    let targets = clients
        .events
        .list_targets_by_rule()
        .rule(name)
        .send()
        .await
        .map_err(err(id, "ListTargetsByRule"))?;
    let targets: Vec<Value> = targets
        .targets()
        .iter()
        .map(|t| json!({ "Id": t.id(), "Arn": t.arn() }))
        .collect();
    let mut value = json!({
        "Name": name,
        "State": rule.state().map(|s| s.as_str()),
        "EventPattern": rule.event_pattern().map(policy_json),
        "Targets": targets,
    });
    if let Some(description) = rule.description() {
        value["Description"] = json!(description);
    }
    Ok(Some(value))
}
