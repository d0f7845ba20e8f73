//! An in-memory account that implements all four onboarding ports: EC2 instances, SSM
//! registrations, Run Command and Parameter Store, with scriptable delays and faults. Used
//! by the handler's tests and by the harness, where a simulated SSM agent registers
//! instances (LocalStack does not implement DescribeInstanceInformation).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use super::ports::{
    CommandRequest, CommandRunner, InstanceDescription, InstanceDirectory, InvocationStatus,
    ManagedInstance, ManagedInstances, ParameterStore, PortError,
};

#[derive(Debug, Default)]
struct State {
    instances: HashMap<String, InstanceDescription>,
    hidden_lookups: HashMap<String, u32>,
    registrations: HashMap<String, (u32, ManagedInstance)>,
    parameters: BTreeMap<String, String>,
    parameter_reads: Vec<String>,
    commands: Vec<(String, CommandRequest)>,
    polls: HashMap<String, u32>,
    polls_before_result: u32,
    results: HashMap<String, InvocationStatus>,
    throttles: HashMap<&'static str, u32>,
}

/// The in-memory account. Clones share state.
#[derive(Debug, Clone, Default)]
pub struct MemoryAccount {
    state: Arc<Mutex<State>>,
}

impl MemoryAccount {
    /// An empty account.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Adds (or replaces) an instance.
    pub fn add_instance(&self, instance: InstanceDescription) {
        self.with(|s| {
            s.instances.insert(instance.instance_id.clone(), instance);
        });
    }

    /// Makes the next `lookups` DescribeInstances calls for the instance find nothing, as
    /// EC2's eventual consistency does right after a launch.
    pub fn hide_instance_for(&self, instance_id: &str, lookups: u32) {
        self.with(|s| {
            s.hidden_lookups.insert(instance_id.to_owned(), lookups);
        });
    }

    /// Registers the instance with SSM after `polls` DescribeInstanceInformation calls.
    pub fn register_after(&self, instance_id: &str, polls: u32, managed: ManagedInstance) {
        self.with(|s| {
            s.registrations
                .insert(instance_id.to_owned(), (polls, managed));
        });
    }

    /// Registers the instance with SSM, `Online`, at once.
    pub fn register(&self, instance_id: &str, platform_type: &str) {
        self.register_after(
            instance_id,
            0,
            ManagedInstance {
                ping_status: "Online".to_owned(),
                platform_type: Some(platform_type.to_owned()),
                platform_name: None,
            },
        );
    }

    /// Stores a parameter.
    pub fn put_parameter(&self, name: &str, value: &str) {
        self.with(|s| {
            s.parameters.insert(name.to_owned(), value.to_owned());
        });
    }

    /// Every command of `document` ends with `result` (instead of `Success`).
    pub fn script_result(&self, document: &str, result: InvocationStatus) {
        self.with(|s| {
            s.results.insert(document.to_owned(), result);
        });
    }

    /// Each command reports `InProgress` this many times before its result.
    pub fn set_polls_before_result(&self, polls: u32) {
        self.with(|s| s.polls_before_result = polls);
    }

    /// The next `calls` calls of `operation` fail with a retryable throttling error.
    pub fn throttle(&self, operation: &'static str, calls: u32) {
        self.with(|s| {
            s.throttles.insert(operation, calls);
        });
    }

    /// Every command sent, with its id, in order.
    pub fn sent_commands(&self) -> Vec<(String, CommandRequest)> {
        self.with(|s| s.commands.clone())
    }

    /// The command sent with `command_id`, as ListCommands would describe it.
    pub fn sent_command(&self, command_id: &str) -> Option<CommandRequest> {
        self.with(|s| {
            s.commands
                .iter()
                .find(|(id, _)| id == command_id)
                .map(|(_, request)| request.clone())
        })
    }

    /// Every parameter name read, in order.
    pub fn parameter_reads(&self) -> Vec<String> {
        self.with(|s| s.parameter_reads.clone())
    }

    fn throttled(state: &mut State, operation: &'static str) -> Result<(), PortError> {
        if let Some(left) = state.throttles.get_mut(operation)
            && *left > 0
        {
            *left -= 1;
            return Err(PortError {
                operation,
                code: "ThrottlingException".to_owned(),
                message: "Rate exceeded".to_owned(),
                retryable: true,
            });
        }
        Ok(())
    }
}

impl InstanceDirectory for MemoryAccount {
    fn describe_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceDescription>, PortError>> + Send {
        let result = self.with(|s| {
            Self::throttled(s, "DescribeInstances")?;
            if let Some(left) = s.hidden_lookups.get_mut(instance_id)
                && *left > 0
            {
                *left -= 1;
                return Ok(None);
            }
            Ok(s.instances.get(instance_id).cloned())
        });
        std::future::ready(result)
    }
}

impl ManagedInstances for MemoryAccount {
    fn describe_managed_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<ManagedInstance>, PortError>> + Send {
        let result = self.with(|s| {
            Self::throttled(s, "DescribeInstanceInformation")?;
            Ok(match s.registrations.get_mut(instance_id) {
                Some((0, managed)) => Some(managed.clone()),
                Some((left, _)) => {
                    *left -= 1;
                    None
                }
                None => None,
            })
        });
        std::future::ready(result)
    }
}

impl CommandRunner for MemoryAccount {
    fn send_command(
        &self,
        request: &CommandRequest,
    ) -> impl Future<Output = Result<String, PortError>> + Send {
        let result = self.with(|s| {
            Self::throttled(s, "SendCommand")?;
            if !s.instances.contains_key(&request.instance_id) {
                return Err(PortError {
                    operation: "SendCommand",
                    code: "InvalidInstanceId".to_owned(),
                    message: format!("{} is not a valid instance", request.instance_id),
                    retryable: false,
                });
            }
            let id = format!(
                "{:08x}-0000-4000-8000-{:012x}",
                s.commands.len() + 1,
                s.commands.len() + 1
            );
            s.commands.push((id.clone(), request.clone()));
            Ok(id)
        });
        std::future::ready(result)
    }

    fn command_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InvocationStatus>, PortError>> + Send {
        let result = self.with(|s| {
            Self::throttled(s, "GetCommandInvocation")?;
            let Some((_, request)) = s
                .commands
                .iter()
                .find(|(id, r)| id == command_id && r.instance_id == instance_id)
            else {
                return Ok(None);
            };
            let document = request.document.clone();
            let polls = s.polls.entry(command_id.to_owned()).or_insert(0);
            *polls += 1;
            if *polls <= s.polls_before_result {
                return Ok(Some(InvocationStatus {
                    status: "InProgress".to_owned(),
                    status_details: "InProgress".to_owned(),
                    response_code: -1,
                    standard_error: String::new(),
                }));
            }
            Ok(Some(s.results.get(&document).cloned().unwrap_or_else(
                || InvocationStatus {
                    status: "Success".to_owned(),
                    status_details: "Success".to_owned(),
                    response_code: 0,
                    standard_error: String::new(),
                },
            )))
        });
        std::future::ready(result)
    }
}

impl ParameterStore for MemoryAccount {
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send {
        let result = self.with(|s| {
            Self::throttled(s, "GetParameter")?;
            s.parameter_reads.push(name.to_owned());
            Ok(s.parameters.get(name).cloned())
        });
        std::future::ready(result)
    }
}
