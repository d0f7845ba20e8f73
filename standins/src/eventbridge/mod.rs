//! EventBridge as the onboarding function meets it: the rule's target queue ([`queue`]), which
//! the harness reads in Lambda's place, and the rule itself where the world has no EventBridge
//! ([`rule`]: EC2's state-change event and the rule's pattern).

pub mod queue;
pub mod rule;
