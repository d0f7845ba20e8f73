//! The simulated fleet: the scenario's groups expanded into instances, launched with
//! RunInstances on the emulator (a Linux or Windows image, the group's tags), and their
//! `pending` and `running` state-change events put on EventBridge, as EC2 would emit them
//! (LocalStack emits none).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use pipeline::onboard::event::{DETAIL_TYPE, SOURCE};

use crate::scenario::{Os, Scenario};

/// One instance the scenario launches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedInstance {
    /// `<group>-<n>`, numbered from 1.
    pub name: String,
    /// The group's index in the scenario.
    pub group: usize,
    /// Operating system.
    pub os: Os,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Whether its SSM agent registers.
    pub registers: bool,
    /// Its log profile.
    pub profile: String,
    /// Its agent's environment variables.
    pub environment: BTreeMap<String, String>,
    /// Simulated milliseconds after the start of the run.
    pub launch_offset_ms: i64,
}

impl PlannedInstance {
    /// How EC2 describes this instance once running as `instance_id`: its tags, and the
    /// platform its image gives (where the harness describes it itself).
    pub fn description(&self, instance_id: &str) -> pipeline::onboard::InstanceDescription {
        let windows = self.os == Os::Windows;
        pipeline::onboard::InstanceDescription {
            instance_id: instance_id.to_owned(),
            state: "running".to_owned(),
            platform: windows.then(|| "windows".to_owned()),
            platform_details: Some(if windows { "Windows" } else { "Linux/UNIX" }.to_owned()),
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// A launched instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchedInstance {
    /// What was planned.
    pub plan: PlannedInstance,
    /// EC2's id.
    pub instance_id: String,
    /// Its private IPv4 address.
    pub private_ip: String,
    /// Simulated epoch milliseconds of the launch.
    pub launched_at_ms: i64,
}

impl LaunchedInstance {
    /// When its SSM agent comes online, `delay_ms` after the launch (the scenario's
    /// `onboarding.registration_delay`).
    pub fn registered_at_ms(&self, delay_ms: i64) -> i64 {
        self.launched_at_ms + delay_ms
    }

    /// The syslog host name, `ip-10-0-1-23`.
    pub fn host(&self) -> String {
        host_name(&self.private_ip)
    }

    /// The Windows computer name, `EC2AMAZ-` and seven characters of the id.
    pub fn computer(&self) -> String {
        computer_name(&self.instance_id)
    }
}

/// The syslog host name of an instance at `private_ip`, `ip-10-0-1-23`.
pub fn host_name(private_ip: &str) -> String {
    format!("ip-{}", private_ip.replace('.', "-"))
}

/// The Windows computer name of `instance_id`, `EC2AMAZ-` and seven characters of the id.
pub fn computer_name(instance_id: &str) -> String {
    let tail: String = instance_id
        .trim_start_matches("i-")
        .chars()
        .take(7)
        .collect();
    format!("EC2AMAZ-{}", tail.to_uppercase())
}

/// The instances of a scenario, in launch order.
pub fn plan(scenario: &Scenario) -> Vec<PlannedInstance> {
    let mut planned: Vec<PlannedInstance> = scenario
        .fleet
        .iter()
        .enumerate()
        .flat_map(|(index, group)| {
            (0..group.count).map(move |n| PlannedInstance {
                name: format!("{}-{}", group.name, n + 1),
                group: index,
                os: group.os,
                tags: group.tags.clone(),
                registers: group.registers,
                profile: group.profile.clone(),
                environment: group.environment.clone(),
                launch_offset_ms: group.launch_at.as_millis()
                    + group.launch_every.as_millis() * i64::try_from(n).unwrap_or(0),
            })
        })
        .collect();
    planned.sort_by_key(|p| p.launch_offset_ms);
    planned
}

/// A failed fleet call.
#[derive(Debug, thiserror::Error)]
#[error("{operation} for {instance}: {message}")]
pub struct FleetError {
    /// The EC2 or EventBridge operation.
    pub operation: &'static str,
    /// The instance (scenario name or id).
    pub instance: String,
    /// What the service said.
    pub message: String,
}

/// Launches instances and announces their state changes.
#[derive(Debug, Clone)]
pub struct Fleet {
    ec2: aws_sdk_ec2::Client,
    events: aws_sdk_eventbridge::Client,
    linux_image: String,
    windows_image: String,
    account: String,
    region: String,
}

impl Fleet {
    /// Finds a Linux and a Windows image on the emulator.
    pub async fn connect(
        ec2: aws_sdk_ec2::Client,
        events: aws_sdk_eventbridge::Client,
        account: &str,
        region: &str,
    ) -> Result<Self, FleetError> {
        let fail = |message: String| FleetError {
            operation: "DescribeImages",
            instance: "fleet".into(),
            message,
        };
        let images = ec2
            .describe_images()
            .send()
            .await
            .map_err(|e| fail(aws_sdk_ec2::error::DisplayErrorContext(e).to_string()))?;
        let linux = images
            .images()
            .iter()
            .find(|i| i.platform().is_none())
            .and_then(|i| i.image_id());
        let windows_images = ec2
            .describe_images()
            .filters(Filter::builder().name("platform").values("windows").build())
            .send()
            .await
            .map_err(|e| fail(aws_sdk_ec2::error::DisplayErrorContext(e).to_string()))?;
        let windows = windows_images
            .images()
            .iter()
            .find(|i| i.platform().is_some())
            .and_then(|i| i.image_id());
        let (Some(linux), Some(windows)) = (linux, windows) else {
            return Err(fail(
                "the emulator lists no Linux or no Windows image".into(),
            ));
        };
        Ok(Self {
            linux_image: linux.to_owned(),
            windows_image: windows.to_owned(),
            ec2,
            events,
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }

    /// RunInstances for one planned instance.
    pub async fn launch(
        &self,
        plan: &PlannedInstance,
        launched_at_ms: i64,
    ) -> Result<LaunchedInstance, FleetError> {
        let image = match plan.os {
            Os::Linux => &self.linux_image,
            Os::Windows => &self.windows_image,
        };
        let mut request = self
            .ec2
            .run_instances()
            .image_id(image)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1);
        if !plan.tags.is_empty() {
            let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
            for (key, value) in &plan.tags {
                spec = spec.tags(Tag::builder().key(key).value(value).build());
            }
            request = request.tag_specifications(spec.build());
        }
        let output = request.send().await.map_err(|e| FleetError {
            operation: "RunInstances",
            instance: plan.name.clone(),
            message: aws_sdk_ec2::error::DisplayErrorContext(e).to_string(),
        })?;
        let instance = output.instances().first().ok_or_else(|| FleetError {
            operation: "RunInstances",
            instance: plan.name.clone(),
            message: "no instance in the response".into(),
        })?;
        Ok(LaunchedInstance {
            plan: plan.clone(),
            instance_id: instance.instance_id().unwrap_or_default().to_owned(),
            private_ip: instance
                .private_ip_address()
                .unwrap_or("10.0.0.10")
                .to_owned(),
            launched_at_ms,
        })
    }

    /// Puts the state-change event EC2 emits for `instance_id` entering `state`.
    pub async fn announce(&self, instance_id: &str, state: &str) -> Result<(), FleetError> {
        let fail = |message: String| FleetError {
            operation: "PutEvents",
            instance: instance_id.to_owned(),
            message,
        };
        let detail = serde_json::json!({"instance-id": instance_id, "state": state}).to_string();
        let entry = PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(detail)
            .resources(format!(
                "arn:aws:ec2:{}:{}:instance/{instance_id}",
                self.region, self.account
            ))
            .build();
        let output = self
            .events
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| fail(aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string()))?;
        if output.failed_entry_count() > 0 {
            let why = output
                .entries()
                .iter()
                .filter_map(|e| e.error_message())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(fail(why));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_expand_into_named_instances_in_launch_order() {
        let scenario: Scenario = toml::from_str(
            r#"
            name = "t"
            duration = "10m"
            [[fleet]]
            name = "late"
            os = "windows"
            launch_at = "2m"
            profile = "p"
            [[fleet]]
            name = "web"
            count = 3
            os = "linux"
            launch_every = "30s"
            tags = { CCP-Managed = "true" }
            profile = "p"
            [profiles]
            p = []
            "#,
        )
        .unwrap();
        let planned = plan(&scenario);
        let names: Vec<_> = planned
            .iter()
            .map(|p| (p.name.as_str(), p.launch_offset_ms))
            .collect();
        assert_eq!(
            names,
            [
                ("web-1", 0),
                ("web-2", 30_000),
                ("web-3", 60_000),
                ("late-1", 120_000)
            ]
        );
        assert_eq!(
            planned[0].tags.get("CCP-Managed").map(String::as_str),
            Some("true")
        );
        assert!(planned[3].tags.is_empty());
    }
}
