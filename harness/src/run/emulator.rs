//! The emulator world: LocalStack through the real SDK. The stack is applied to it; instances
//! are launched with RunInstances and announced with PutEvents (LocalStack emits no state
//! changes), so that its rule takes `running` events to the rule's queue; the handlers reach
//! EC2, SSM and Parameter Store on it; the agents write CloudWatch Logs on it; the harness's
//! Firehose writes objects into its bucket and serves the ETL's SDK client on an endpoint of
//! its own. Every client but the provisioner's goes through the fault layer
//! ([`standins::faults::layer`]); a restart ([`crate::backend::Restarter`]) stops and starts
//! it.

use std::sync::Arc;

use aws_config::SdkConfig;
use lake::Location;
use pipeline::firehose::sdk::FirehoseSink;
use pipeline::onboard::sdk::{Ec2Directory, SsmPorts};
use stack::provision::{self, Applied, Clients};
use stack::{Deployment, Names, Placement, harness_queue_name};
use standins::cloudwatch_logs::SdkLogs;
use standins::eventbridge::queue::SdkQueue;
use standins::faults::{FaultPlan, RestartGate, Service};
use standins::firehose::{DeliveryStream, FirehoseEndpoint, S3Objects};
use standins::iam::{AccountFacts, CallLog, CallRecorder};
use standins::ssm::SdkAgentSsm;

use super::RunError;
use super::world::{FirehoseIntake, KeptObjects, World};
use crate::backend::Restarter;
use crate::catalog;
use crate::fleet::{Fleet, LaunchedInstance, PlannedInstance};
use crate::scenario::LoadedScenario;

/// LocalStack at one endpoint, with the stack of one scenario.
#[derive(Debug)]
pub struct EmulatorWorld {
    endpoint: String,
    placement: Placement,
    names: Names,
    deployment: Deployment,
    definition: stack::StackDefinition,
    /// The run's clients, through the fault layer.
    clients: Clients,
    /// Clients outside the fault layer: the stack is applied (again, after a restart) with no
    /// fault rule hitting it.
    unfaulted: Clients,
    fleet: Fleet,
    restarter: Option<Restarter>,
    /// The calls the functions made, recorded by their clients.
    calls: CallLog,
    /// The account as the recorders see it (instance tags filled in at launch).
    facts: Arc<Facts>,
    /// The harness's Glue Data Catalog and Athena (the emulator has neither): the stack's
    /// database, table, crawler, workgroup and saved queries are applied to them and audited
    /// there; served while the world lives.
    stand_ins: standins::athena::CatalogStandIns,
    /// The onboarding function's clients, each call recorded as the onboarding role's.
    onboarding_ec2: aws_sdk_ec2::Client,
    onboarding_ssm: aws_sdk_ssm::Client,
}

/// What the call recorders know of the account.
#[derive(Debug)]
struct Facts {
    placement: Placement,
    tags: std::sync::Mutex<std::collections::HashMap<String, Vec<(String, String)>>>,
}

impl AccountFacts for Facts {
    fn account_id(&self) -> &str {
        &self.placement.account_id
    }

    fn region(&self) -> &str {
        &self.placement.region
    }

    fn instance_tags(&self, instance_id: &str) -> Vec<(String, String)> {
        standins::locked(&self.tags)
            .get(instance_id)
            .cloned()
            .unwrap_or_default()
    }
}

/// The role whose permissions `function` runs with: its logical id in the template.
pub(super) fn role_of(definition: &stack::StackDefinition, function: &str) -> &'static str {
    if function == definition.onboarding.function_name {
        stack::template::ids::ONBOARDING_ROLE
    } else {
        stack::template::ids::ETL_ROLE
    }
}

impl EmulatorWorld {
    /// The emulator `config` points at, for `loaded`'s stack in its region; the run's clients
    /// meet `faults`. Finds the emulator's Linux and Windows images.
    pub async fn connect(
        config: &SdkConfig,
        loaded: &LoadedScenario,
        faults: &Arc<FaultPlan>,
        restarter: Option<Restarter>,
    ) -> Result<Self, RunError> {
        let placement = Placement::localstack(&loaded.scenario.region);
        let deployment = Deployment::new(&loaded.stack, &placement);
        let faulted = standins::faults::layer::wrap(config, faults);
        let ec2 = aws_sdk_ec2::Client::new(&faulted);
        let endpoint = config.endpoint_url().unwrap_or_default().to_owned();
        let buckets = standins::athena::S3Buckets::emulator(&endpoint, &placement.region);
        let stand_ins = standins::athena::CatalogStandIns::start(
            &placement.account_id,
            Arc::new(buckets),
            standins::athena::Ports::default(),
        )
        .await
        .map_err(|e| RunError::Call {
            operation: "starting the harness's Glue and Athena stand-ins for",
            target: loaded.scenario.name.clone(),
            message: e.to_string(),
        })?;
        let with_stand_ins =
            |config: &SdkConfig| stand_ins.attach(Clients::new(config, &deployment), config);
        let clients = with_stand_ins(&faulted);
        let calls = CallLog::default();
        let facts = Arc::new(Facts {
            placement: placement.clone(),
            tags: std::sync::Mutex::default(),
        });
        let onboarding = CallRecorder::new(
            stack::template::ids::ONBOARDING_ROLE,
            calls.clone(),
            facts.clone(),
        );
        let onboarding_ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&faulted)
                .interceptor(onboarding.clone())
                .build(),
        );
        let onboarding_ssm = aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&faulted)
                .interceptor(onboarding)
                .build(),
        );
        let fleet = Fleet::connect(
            ec2.clone(),
            clients.events.clone(),
            &placement.account_id,
            &placement.region,
        )
        .await?;
        Ok(Self {
            endpoint,
            names: deployment.names.clone(),
            definition: loaded.stack.definition.clone(),
            unfaulted: with_stand_ins(config),
            stand_ins,
            clients,
            deployment,
            placement,
            fleet,
            restarter,
            calls,
            facts,
            onboarding_ec2,
            onboarding_ssm,
        })
    }

    /// A recorder of `principal`'s calls into the run's log.
    fn recorder_for(&self, principal: &str) -> CallRecorder {
        CallRecorder::new(principal, self.calls.clone(), self.facts.clone())
    }

    /// Parameter Store as the simulated SSM agents read it (not a function's calls).
    pub(super) fn agent_parameters(&self) -> SsmPorts {
        SsmPorts::new(self.clients.ssm.clone())
    }

    /// Deletes every stream of the log group.
    async fn delete_log_streams(&self) -> Result<(), RunError> {
        let (logs, group) = (&self.clients.logs, &self.names.log_group);
        loop {
            let page = logs
                .describe_log_streams()
                .log_group_name(group)
                .send()
                .await
                .map_err(|e| RunError::call("DescribeLogStreams", group, &e))?;
            let names: Vec<String> = page
                .log_streams()
                .iter()
                .filter_map(|s| s.log_stream_name().map(str::to_owned))
                .collect();
            if names.is_empty() {
                return Ok(());
            }
            for name in names {
                logs.delete_log_stream()
                    .log_group_name(group)
                    .log_stream_name(&name)
                    .send()
                    .await
                    .map_err(|e| RunError::call("DeleteLogStream", &name, &e))?;
            }
        }
    }

    /// Deletes every object of the bucket under `prefix`.
    async fn delete_objects(&self, prefix: &str) -> Result<(), RunError> {
        let (s3, bucket) = (&self.clients.s3, &self.names.bucket);
        loop {
            let page = s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .map_err(|e| RunError::call("ListObjectsV2", bucket, &e))?;
            let keys: Vec<String> = page
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect();
            if keys.is_empty() {
                return Ok(());
            }
            for key in keys {
                s3.delete_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| RunError::call("DeleteObject", &key, &e))?;
            }
        }
    }

    /// Every object of the bucket, read outside the fault layer.
    async fn read_bucket(&self) -> Result<KeptObjects, RunError> {
        let (s3, bucket) = (&self.unfaulted.s3, &self.names.bucket);
        let mut kept = KeptObjects::default();
        let mut token: Option<String> = None;
        loop {
            let page = s3
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| RunError::call("ListObjectsV2", bucket, &e))?;
            for key in page.contents().iter().filter_map(|o| o.key()) {
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| RunError::call("GetObject", key, &e))?;
                let body = object.body.collect().await.map_err(|e| RunError::Call {
                    operation: "GetObject",
                    target: key.to_owned(),
                    message: e.to_string(),
                })?;
                kept.objects
                    .push((key.to_owned(), body.into_bytes().to_vec()));
            }
            match page.next_continuation_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(kept),
            }
        }
    }

    async fn queue_url(&self) -> Result<String, RunError> {
        let queue = harness_queue_name(&self.names);
        Ok(self
            .clients
            .sqs
            .get_queue_url()
            .queue_name(&queue)
            .send()
            .await
            .map_err(|e| RunError::call("GetQueueUrl", &queue, &e))?
            .queue_url
            .unwrap_or_default())
    }
}

impl World for EmulatorWorld {
    type Instances = Ec2Directory;
    type Commands = SsmPorts;
    type Parameters = SsmPorts;
    type AgentSsm = SdkAgentSsm;
    type Logs = SdkLogs;
    type Queue = SdkQueue;
    type Writer = S3Objects;
    type Sink = FirehoseSink;
    type Restarter = Restarter;
    type DeadLetters = SdkQueue;

    fn describe(&self) -> String {
        format!("LocalStack at {}", self.endpoint)
    }

    fn injects(&self, _service: Service) -> bool {
        true
    }

    async fn provision(&self) -> Result<Vec<Applied>, RunError> {
        Ok(provision::apply(&self.unfaulted, &self.deployment).await?)
    }

    async fn audit(&self) -> Result<Option<Vec<stack::audit::Finding>>, RunError> {
        let origin = stack::audit::Origin::Provisioned;
        Ok(Some(
            stack::audit::audit(&self.unfaulted, &self.deployment, &origin).await?,
        ))
    }

    /// The log group's streams, the objects under the delivery and error prefixes (each
    /// prefix's static folder: a prefix with `!{…}` names no key as written), and the queue's
    /// messages; the resources themselves stay.
    async fn reset(&self) -> Result<(), RunError> {
        self.delete_log_streams().await?;
        let firehose = &self.definition.firehose;
        self.delete_objects(&catalog::table_root(&firehose.prefix))
            .await?;
        self.delete_objects(&catalog::table_root(&firehose.error_prefix))
            .await?;
        let url = self.queue_url().await?;
        self.clients
            .sqs
            .purge_queue()
            .queue_url(&url)
            .send()
            .await
            .map_err(|e| RunError::call("PurgeQueue", &url, &e))?;
        Ok(())
    }

    async fn put_parameter(&self, name: &str, value: &str) -> Result<(), RunError> {
        self.unfaulted
            .ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| RunError::call("PutParameter", name, &e))?;
        Ok(())
    }

    async fn launch(
        &self,
        plan: &PlannedInstance,
        _index: usize,
        launched_at_ms: i64,
    ) -> Result<LaunchedInstance, RunError> {
        let launched = self.fleet.launch(plan, launched_at_ms).await?;
        standins::locked(&self.facts.tags).insert(
            launched.instance_id.clone(),
            plan.tags.clone().into_iter().collect(),
        );
        Ok(launched)
    }

    async fn announce(
        &self,
        instance: &LaunchedInstance,
        state: &str,
        _at_ms: i64,
    ) -> Result<(), RunError> {
        Ok(self.fleet.announce(&instance.instance_id, state).await?)
    }

    fn instances(&self) -> Ec2Directory {
        Ec2Directory::new(self.onboarding_ec2.clone())
    }

    fn commands(&self) -> SsmPorts {
        SsmPorts::new(self.onboarding_ssm.clone())
    }

    fn parameters(&self) -> SsmPorts {
        SsmPorts::new(self.onboarding_ssm.clone())
    }

    fn calls(&self) -> Option<CallLog> {
        Some(self.calls.clone())
    }

    fn recorder(&self, principal: &str) -> Option<CallRecorder> {
        Some(self.recorder_for(principal))
    }

    fn record_crawl(&self, name: &str, started_ms: i64) {
        if let Err(error) = standins::locked(&self.stand_ins.catalog)
            .crawlers
            .record_crawl(name, started_ms)
        {
            tracing::warn!(%error, "the crawler's last run was not recorded in the Glue stand-in");
        }
    }

    fn record_crawled_table(&self, crawler: &str, table: &super::queries::CatalogSummary) {
        let Some((database, name)) = table.table.split_once('.') else {
            return;
        };
        let input = standins::glue::crawlers::crawled_table_input(
            crawler,
            name,
            &table.location,
            &table.columns,
            &table.partition_columns,
        );
        let now = standins::clock::wall_now_ms() as f64 / 1000.0;
        if let Err(error) =
            standins::locked(&self.stand_ins.catalog).put_crawled_table(database, &input, now)
        {
            tracing::warn!(%error, "the crawled table was not recorded in the Glue stand-in");
        }
    }

    fn agent_ssm(&self) -> SdkAgentSsm {
        SdkAgentSsm::new(self.clients.ssm.clone())
    }

    fn logs(&self) -> Arc<SdkLogs> {
        Arc::new(SdkLogs::new(self.clients.logs.clone()))
    }

    async fn queue(&self) -> Result<SdkQueue, RunError> {
        Ok(SdkQueue::new(
            self.clients.sqs.clone(),
            self.queue_url().await?,
        ))
    }

    async fn dead_letter_queue(&self, function: &str) -> Result<SdkQueue, RunError> {
        let name = stack::dead_letter_queue_name(function);
        let url = self
            .clients
            .sqs
            .get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| RunError::call("GetQueueUrl", &name, &e))?
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        // Lambda sends the dead letters with the function's role; the harness's own reads of
        // the queue (counting, redriving) are not the function's calls.
        let sends = aws_sdk_sqs::Client::from_conf(
            self.clients
                .sqs
                .config()
                .to_builder()
                .interceptor(
                    self.recorder_for(role_of(&self.definition, function))
                        .only(&["SendMessage"]),
                )
                .build(),
        );
        Ok(SdkQueue::new(sends, url))
    }

    fn object_writer(&self, restarts: Arc<RestartGate>) -> S3Objects {
        S3Objects {
            client: self.clients.s3.clone(),
            restarts: Some(restarts),
        }
    }

    async fn firehose_intake(
        &self,
        stream: Arc<DeliveryStream<S3Objects>>,
        name: &str,
    ) -> Result<FirehoseIntake<FirehoseSink>, RunError> {
        let endpoint = FirehoseEndpoint::serve(stream)
            .await
            .map_err(|e| RunError::Call {
                operation: "starting the harness's Firehose endpoint for",
                target: name.to_owned(),
                message: e.to_string(),
            })?;
        let sdk = pipeline::emulator::sdk_config(endpoint.url(), &self.placement.region).await;
        let etl = aws_sdk_firehose::Client::from_conf(
            aws_sdk_firehose::config::Builder::from(&sdk)
                .interceptor(self.recorder_for(stack::template::ids::ETL_ROLE))
                .build(),
        );
        Ok(FirehoseIntake {
            sink: FirehoseSink::new(etl, name),
            endpoint: Some(endpoint),
        })
    }

    fn bucket(&self) -> Result<Location, RunError> {
        Ok(catalog::bucket_location(
            &self.names.bucket,
            &self.definition,
            &self.placement.region,
            Some(&self.endpoint),
        )?)
    }

    fn endpoint(&self) -> Option<String> {
        Some(self.endpoint.clone())
    }

    fn restarter(&self) -> Option<Restarter> {
        self.restarter.clone()
    }

    async fn keep_bucket(&self) -> Result<KeptObjects, RunError> {
        self.read_bucket().await
    }

    async fn restore_bucket(&self, kept: &KeptObjects) -> Result<(), RunError> {
        let (s3, bucket) = (&self.unfaulted.s3, &self.names.bucket);
        for (key, body) in &kept.objects {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(body.clone().into())
                .send()
                .await
                .map_err(|e| RunError::call("PutObject", key, &e))?;
        }
        Ok(())
    }
}
