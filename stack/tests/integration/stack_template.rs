//! The checked-in stack: `pipeline.toml` is valid, and `deploy/template.json` is exactly what it
//! renders to (run with `UPDATE_EXPECTED=1` to rewrite it after a deliberate change). The
//! template's security-relevant properties are checked one by one, so a rendering change that
//! weakens them fails here even when the snapshot is refreshed.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a broken fixture must stop the test loudly"
)]

use crate::support;

use std::path::Path;

use serde_json::{Value, json};
use stack::template::{self, ids};
use stack::{CatalogMode, Stack, StackDefinition};

fn checked_in_stack() -> Stack {
    Stack::load(&support::root().join("pipeline.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn resource<'t>(template: &'t Value, id: &str) -> &'t Value {
    template["Resources"]
        .get(id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

#[test]
fn the_checked_in_definition_is_the_default() {
    assert_eq!(checked_in_stack().definition, StackDefinition::default());
}

#[test]
fn deploy_template_is_current() {
    check_current(&checked_in_stack(), "deploy/template.json");
}

#[test]
fn deploy_crawler_template_is_current() {
    let stack =
        Stack::load(&support::root().join("deploy/crawler.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stack.definition.catalog.mode, CatalogMode::Crawler);
    check_current(&stack, "deploy/template-crawler.json");
}

#[test]
fn deploy_parquet_template_is_current() {
    let stack =
        Stack::load(&support::root().join("deploy/parquet.toml")).unwrap_or_else(|e| panic!("{e}"));
    let template = template::render(&stack).0;
    let destination = &resource(&template, ids::DELIVERY_STREAM)["Properties"]["ExtendedS3DestinationConfiguration"];
    let conversion = &destination["DataFormatConversionConfiguration"];
    assert_eq!(conversion["Enabled"], json!(true));
    assert_eq!(
        conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]["Compression"],
        json!("SNAPPY")
    );
    assert_eq!(
        conversion["SchemaConfiguration"]["TableName"],
        json!({ "Ref": ids::TABLE })
    );
    assert_eq!(destination["CompressionFormat"], json!("UNCOMPRESSED"));
    let table = &resource(&template, ids::TABLE)["Properties"]["TableInput"];
    assert_eq!(
        table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
        json!("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
    );
    let role =
        serde_json::to_string(&resource(&template, ids::FIREHOSE_ROLE)["Properties"]).unwrap();
    assert!(
        role.contains("glue:GetTableVersions"),
        "Firehose may read the table's schema"
    );
    check_current(&stack, "deploy/template-parquet.json");
}

/// The file at `relative` is exactly what `stack` renders to (UPDATE_EXPECTED=1 rewrites it).
fn check_current(stack: &Stack, relative: &str) {
    let rendered = template::render(stack).to_json_pretty();
    let path = support::root().join(relative);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_EXPECTED=1 writes it)", path.display()));
    assert!(
        stored == rendered,
        "{relative} is stale: it differs from what its definition renders to; run this test with \
         UPDATE_EXPECTED=1 (or `loglab render`)"
    );
}

#[test]
fn bucket_is_private_encrypted_tls_only_and_tiered() {
    let template = template::render(&checked_in_stack()).0;
    let bucket = &resource(&template, ids::BUCKET)["Properties"];
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "AES256"
    );
    let rule = &bucket["LifecycleConfiguration"]["Rules"][0];
    assert_eq!(
        rule["Transitions"],
        json!([{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}, {"StorageClass": "GLACIER_IR", "TransitionInDays": 60}])
    );
    assert_eq!(rule["ExpirationInDays"], 90);
    // Versioned, so that a deletion can be undone for 30 days, then the old version goes.
    assert_eq!(
        bucket["VersioningConfiguration"],
        json!({"Status": "Enabled"})
    );
    assert_eq!(
        rule["NoncurrentVersionExpiration"],
        json!({"NoncurrentDays": 30})
    );

    let statements =
        resource(&template, ids::BUCKET_POLICY)["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
    let deny = &statements[0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
    // Only the Firehose role may write; nobody is granted anything with a wildcard principal.
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        assert_ne!(statement["Principal"], json!("*"));
        let writes = statement["Action"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "s3:PutObject");
        if writes {
            assert_eq!(
                statement["Principal"]["AWS"],
                json!({"Fn::GetAtt": [ids::FIREHOSE_ROLE, "Arn"]})
            );
        }
    }
}

/// Readers read the rows only (not the error prefix, not Athena's results), and only
/// principals of this account; `ReaderRoleArn` takes a role's ARN or nothing; the ETL role may
/// call only the Firehose action the function uses.
#[test]
fn readers_read_only_the_rows_and_only_from_this_account() {
    let seed_like =
        Stack::load(&support::root().join("deploy/crawler.toml")).unwrap_or_else(|e| panic!("{e}"));
    let template = template::render(&seed_like).0;
    let statements =
        resource(&template, ids::BUCKET_POLICY)["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap();
    let readers = statements
        .iter()
        .find(|s| s["Sid"] == "ReadersRead")
        .unwrap();
    assert_eq!(
        readers["Resource"],
        json!([{"Fn::GetAtt": [ids::BUCKET, "Arn"]}, {"Fn::Sub": "${LogBucket.Arn}/logs/*"}])
    );
    assert_eq!(
        readers["Condition"],
        json!({"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}})
    );
    let pattern = regex::Regex::new(template::READER_ROLE_PATTERN).unwrap();
    assert_eq!(
        template["Parameters"]["ReaderRoleArn"]["AllowedPattern"],
        template::READER_ROLE_PATTERN
    );
    for accepted in [
        "",
        "arn:aws:iam::123456789012:role/analysts",
        "arn:aws-cn:iam::123456789012:role/team/athena",
    ] {
        assert!(pattern.is_match(accepted), "{accepted}");
    }
    for refused in [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/bob",
        "*",
        "arn:aws:iam::*:role/x",
    ] {
        assert!(!pattern.is_match(refused), "{refused}");
    }
    let etl = &resource(&template, ids::ETL_ROLE)["Properties"]["Policies"];
    let text = etl.to_string();
    assert!(text.contains("firehose:PutRecordBatch"), "{text}");
    assert!(!text.contains("\"firehose:PutRecord\""), "{text}");
}

#[test]
fn log_group_subscription_and_functions_follow_the_definition() {
    let template = template::render(&checked_in_stack()).0;
    let group = &resource(&template, ids::LOG_GROUP)["Properties"];
    assert_eq!(group["RetentionInDays"], 3);
    assert_eq!(
        group["LogGroupName"],
        json!({"Fn::Sub": "CCP-logs-Example-${AWS::AccountId}-${AWS::Region}"})
    );
    let subscription = resource(&template, ids::SUBSCRIPTION);
    assert_eq!(subscription["DependsOn"], ids::ETL_PERMISSION);
    assert_eq!(
        subscription["Properties"]["DestinationArn"],
        json!({"Fn::GetAtt": [ids::ETL_FUNCTION, "Arn"]})
    );
    let permission = &resource(&template, ids::ETL_PERMISSION)["Properties"];
    assert_eq!(permission["Principal"], "logs.amazonaws.com");
    for id in [ids::ETL_FUNCTION, ids::ONBOARDING_FUNCTION] {
        let function = &resource(&template, id)["Properties"];
        assert_eq!(function["Runtime"], "provided.al2023");
        assert_eq!(function["Code"]["S3Bucket"], json!({"Ref": "CodeBucket"}));
    }
    let env =
        &resource(&template, ids::ONBOARDING_FUNCTION)["Properties"]["Environment"]["Variables"];
    assert_eq!(env["MANAGEMENT_TAG_KEY"], "CCP-Managed");
    let rule = &resource(&template, ids::RULE)["Properties"];
    assert_eq!(rule["EventPattern"]["detail"]["state"], json!(["running"]));
    let firehose = &resource(&template, ids::DELIVERY_STREAM)["Properties"]["ExtendedS3DestinationConfiguration"];
    assert_eq!(
        firehose["BufferingHints"],
        json!({"SizeInMBs": 5, "IntervalInSeconds": 300})
    );
    assert_eq!(firehose["CompressionFormat"], "GZIP");
    assert_eq!(firehose["Prefix"], "logs/!{timestamp:yyyy/MM/dd/HH}/");
}

#[test]
fn agent_configs_are_stored_as_parameters_verbatim() {
    let stack = checked_in_stack();
    let template = template::render(&stack).0;
    let linux = &resource(&template, ids::LINUX_PARAMETER)["Properties"];
    assert_eq!(
        linux["Name"],
        "AmazonCloudWatch-coslinuxloggingconfiguration"
    );
    let stored =
        std::fs::read_to_string(support::root().join("fixtures/agent-config/linux.json")).unwrap();
    assert_eq!(linux["Value"], stored.as_str());
}

/// No role of either catalog design grants a wildcard action or a managed policy (the crawler
/// role's AWSGlueServiceRole granted glue:* on *).
#[test]
fn roles_grant_no_wildcard_actions() {
    let crawler =
        Stack::load(&support::root().join("deploy/crawler.toml")).unwrap_or_else(|e| panic!("{e}"));
    for stack in [checked_in_stack(), crawler] {
        roles_of_grant_no_wildcard_actions(&template::render(&stack).0);
    }
}

fn roles_of_grant_no_wildcard_actions(template: &Value) {
    for (id, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        assert!(
            resource["Properties"].get("ManagedPolicyArns").is_none(),
            "{id}: a managed policy"
        );
        for policy in resource["Properties"]["Policies"].as_array().unwrap() {
            for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
                let actions = match &statement["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Array(list) => list
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                    other => panic!("{id}: action {other}"),
                };
                assert!(
                    actions.iter().all(|a| !a.contains('*')),
                    "{id}: {actions:?}"
                );
            }
        }
    }
}

/// Glue refuses a crawler whose incremental recrawl (`CRAWL_NEW_FOLDERS_ONLY`) comes with any
/// schema-change behaviour but LOG ("The SchemaChangePolicy for "Crawl new folders only"
/// Amazon S3 target can have only LOG DeleteBehavior value and LOG UpdateBehavior value"): the
/// crawler variant's (deploy/crawler.toml) is such a pair, and a full crawl renders what it asks for.
#[test]
fn the_crawler_pairs_its_recrawl_and_schema_policy_as_glue_accepts() {
    let seed_like =
        Stack::load(&support::root().join("deploy/crawler.toml")).unwrap_or_else(|e| panic!("{e}"));
    let template = template::render(&seed_like).0;
    let crawler = &resource(&template, ids::CRAWLER)["Properties"];
    assert_eq!(
        crawler["RecrawlPolicy"],
        json!({ "RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY" })
    );
    assert_eq!(
        crawler["SchemaChangePolicy"],
        json!({ "UpdateBehavior": "LOG", "DeleteBehavior": "LOG" })
    );
    let mut definition = seed_like.definition.clone();
    definition.catalog.recrawl = stack::Recrawl::Everything;
    definition.catalog.schema_update = "UPDATE_IN_DATABASE".into();
    let full = Stack::from_definition(definition, Path::new("pipeline.toml")).unwrap();
    let template = template::render(&full).0;
    let crawler = &resource(&template, ids::CRAWLER)["Properties"];
    assert_eq!(
        crawler["RecrawlPolicy"]["RecrawlBehavior"],
        "CRAWL_EVERYTHING"
    );
    assert_eq!(
        crawler["SchemaChangePolicy"]["UpdateBehavior"],
        "UPDATE_IN_DATABASE"
    );
}

#[test]
fn projection_mode_renders_a_projected_table_and_no_crawler() {
    let mut definition = StackDefinition::default();
    definition.catalog.mode = CatalogMode::Projection;
    definition.firehose.prefix = "logs/!{timestamp:yyyy/MM/dd/HH}/".into();
    definition.firehose.error_prefix =
        "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/".into();
    let stack = Stack::from_definition(definition, Path::new("pipeline.toml")).unwrap();
    let template = template::render(&stack).0;
    assert!(template["Resources"].get(ids::CRAWLER).is_none());
    let table = &resource(&template, ids::TABLE)["Properties"]["TableInput"];
    assert_eq!(
        table["Parameters"]["projection.datehour.format"],
        "yyyy/MM/dd/HH"
    );
    assert_eq!(
        table["Parameters"]["storage.location.template"],
        json!({"Fn::Sub": "s3://${LogBucket}/logs/${!datehour}/"})
    );
    assert_eq!(
        table["StorageDescriptor"]["Columns"]
            .as_array()
            .unwrap()
            .len(),
        pipeline::etl::row::ROW_COLUMNS.len(),
        "every row column, declared"
    );
}

/// AWS Lambda developer guide, "Asynchronous invocation": after two retries Lambda discards a
/// failed event unless the function has a dead-letter queue (or an on-failure destination);
/// the execution role needs `sqs:SendMessage` on it.
#[test]
fn each_function_sends_failed_asynchronous_events_to_its_own_dead_letter_queue() {
    let template = template::render(&checked_in_stack()).0;
    for (function, queue, role) in [
        (ids::ETL_FUNCTION, ids::ETL_DEAD_LETTERS, ids::ETL_ROLE),
        (
            ids::ONBOARDING_FUNCTION,
            ids::ONBOARDING_DEAD_LETTERS,
            ids::ONBOARDING_ROLE,
        ),
    ] {
        let properties = &resource(&template, function)["Properties"];
        assert_eq!(
            properties["DeadLetterConfig"]["TargetArn"],
            json!({"Fn::GetAtt": [queue, "Arn"]})
        );
        let dlq = &resource(&template, queue)["Properties"];
        assert_eq!(dlq["MessageRetentionPeriod"], 1_209_600, "SQS's maximum");
        assert_eq!(dlq["SqsManagedSseEnabled"], true);
        let statements =
            &resource(&template, role)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert!(
            statements
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["Action"] == "sqs:SendMessage"
                    && s["Resource"] == json!({"Fn::GetAtt": [queue, "Arn"]})),
            "{role} may send to {queue}"
        );
    }
}

/// Every checkov finding the stack does not fix is suppressed where it applies, with a reason
/// (checkov reads `Metadata.checkov.skip[].id` and `.comment`).
#[test]
fn checkov_suppressions_carry_their_reasons() {
    let template = template::render(&checked_in_stack()).0;
    let mut skipped = Vec::new();
    for (id, resource) in template["Resources"].as_object().unwrap() {
        for skip in resource["Metadata"]["checkov"]["skip"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(comment.len() > 40, "{id}: {skip}: a reason, not a label");
            skipped.push(format!("{id}:{}", skip["id"].as_str().unwrap()));
        }
    }
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "EtlDeadLetterQueue:CKV_AWS_27",
            "EtlFunction:CKV_AWS_115",
            "EtlFunction:CKV_AWS_117",
            "EtlFunction:CKV_AWS_173",
            "EtlLogGroup:CKV_AWS_158",
            "FirehoseErrorLogGroup:CKV_AWS_158",
            "LogBucket:CKV_AWS_18",
            "LogGroup:CKV_AWS_158",
            "OnboardingDeadLetterQueue:CKV_AWS_27",
            "OnboardingFunction:CKV_AWS_117",
            "OnboardingFunction:CKV_AWS_173",
            "OnboardingLogGroup:CKV_AWS_158",
        ]
    );
}

#[test]
fn the_localstack_subset_drops_what_refers_to_removed_resources() {
    let full = template::render(&checked_in_stack());
    let (subset, removed) = full.without(&stack::resources::absent_from_emulator());
    assert!(
        removed.contains(&ids::DATABASE.to_owned()) && removed.contains(&ids::WORKGROUP.to_owned())
    );
    assert!(removed.iter().any(|id| id.starts_with("SavedQuery")));
    for dependent in [
        ids::ETL_PERMISSION,
        ids::SUBSCRIPTION,
        ids::RULE,
        ids::ONBOARDING_PERMISSION,
    ] {
        assert!(
            removed.contains(&dependent.to_owned()),
            "{dependent} refers to a function"
        );
    }
    // The bucket, its policy and Firehose stay (projection mode has no crawler or its role).
    assert!(!full.resources().unwrap().contains_key(ids::CRAWLER_ROLE));
    for kept in [
        ids::BUCKET,
        ids::BUCKET_POLICY,
        ids::DELIVERY_STREAM,
        ids::LOG_GROUP,
    ] {
        assert!(
            subset.resources().unwrap().contains_key(kept),
            "{kept} stays"
        );
    }
    let outputs = subset.0["Outputs"].as_object().unwrap();
    assert!(!outputs.contains_key("GlueDatabaseName") && outputs.contains_key("BucketName"));
    for resource in subset.resources().unwrap().values() {
        let kind = resource["Type"].as_str().unwrap();
        assert!(
            !kind.starts_with("AWS::Glue::")
                && !kind.starts_with("AWS::Athena::")
                && kind != "AWS::Lambda::Function"
        );
    }
}

/// The Parquet variant on the emulator: the Glue table goes, the stream stays without its
/// format conversion (the harness's Firehose model converts instead).
#[test]
fn the_localstack_subset_keeps_a_converting_stream_without_its_conversion() {
    let stack =
        Stack::load(&support::root().join("deploy/parquet.toml")).unwrap_or_else(|e| panic!("{e}"));
    let (subset, removed) =
        template::render(&stack).without(&stack::resources::absent_from_emulator());
    assert!(removed.contains(&ids::TABLE.to_owned()));
    assert!(!removed.contains(&ids::DELIVERY_STREAM.to_owned()));
    let destination = &resource(&subset.0, ids::DELIVERY_STREAM)["Properties"]["ExtendedS3DestinationConfiguration"];
    assert!(
        destination
            .get("DataFormatConversionConfiguration")
            .is_none()
    );
    assert!(destination.get("BufferingHints").is_some());
}

/// EventBridge's undeliverable events (EventBridge user guide, "Using dead-letter queues to
/// process undelivered events") go to the onboarding dead-letter queue, whose policy lets
/// `events.amazonaws.com` send only for this rule; the retry policy is written out.
#[test]
fn the_rules_undeliverable_events_go_to_the_onboarding_dead_letter_queue() {
    let template = template::render(&checked_in_stack()).0;
    let target = &resource(&template, ids::RULE)["Properties"]["Targets"][0];
    assert_eq!(
        target["DeadLetterConfig"],
        json!({"Arn": {"Fn::GetAtt": [ids::ONBOARDING_DEAD_LETTERS, "Arn"]}})
    );
    assert_eq!(
        target["RetryPolicy"],
        json!({"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400})
    );
    let policy = &resource(&template, ids::ONBOARDING_DEAD_LETTERS_POLICY)["Properties"];
    assert_eq!(
        policy["Queues"],
        json!([{"Ref": ids::ONBOARDING_DEAD_LETTERS}])
    );
    let statement = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(
        statement["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [ids::RULE, "Arn"]}}})
    );
}
