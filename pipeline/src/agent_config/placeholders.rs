//! The agent's placeholders in log group and stream names, resolved for one host.
//!
//! The agent replaces `{instance_id}`, `{hostname}`, `{local_hostname}`, `{ip_address}`,
//! `{aws_region}`, `{account_id}` and `{date}` (the host's local date, `YYYY-MM-DD`, when the
//! agent loads its configuration: `ResolvePlaceholder` in the agent's `translator/util`
//! formats `time.Now()`) and leaves anything else
//! as written. This module does the same replacement but treats any other `{…}` as an
//! error, because braces are not valid in a log group name and a typo such as
//! `{instance-id}` would silently send logs to a stream nobody queries. The harness uses
//! this function, so its streams are named exactly as the agent names them.

/// Every placeholder the agent knows.
pub const KNOWN_PLACEHOLDERS: [&str; 7] = [
    "instance_id",
    "hostname",
    "local_hostname",
    "ip_address",
    "aws_region",
    "account_id",
    "date",
];

/// The agent's stream name when neither the entry nor the `logs` section names one.
pub const DEFAULT_STREAM_NAME: &str = "{instance_id}";

/// What the agent knows about its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// `i-0123456789abcdef0`.
    pub instance_id: String,
    /// The EC2 hostname (`ip-10-0-0-12.ec2.internal`).
    pub hostname: String,
    /// The operating system's host name.
    pub local_hostname: String,
    /// The primary private IPv4 address.
    pub ip_address: String,
    /// The region, `eu-west-1`.
    pub aws_region: String,
    /// The 12-digit account id.
    pub account_id: String,
    /// The host's local date when the agent loads its configuration, `YYYY-MM-DD`.
    pub date: String,
}

/// A name that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// `{name}` is not one of [`KNOWN_PLACEHOLDERS`].
    #[error("unknown placeholder {{{name}}} in {template:?}; the agent knows {{{}}}", KNOWN_PLACEHOLDERS.join("}, {"))]
    Unknown {
        /// The placeholder's name, without braces.
        name: String,
        /// The whole name it appeared in.
        template: String,
    },
    /// A `{` without its `}`.
    #[error("unclosed '{{' in {template:?}")]
    Unclosed {
        /// The whole name.
        template: String,
    },
    /// An entry that names no log group.
    #[error(
        "{entry} has no log_group_name, so the agent would not send it to the pipeline's group"
    )]
    MissingGroup {
        /// What the entry collects.
        entry: String,
    },
}

/// The placeholder names used in `template`, in order, or the first problem.
pub fn placeholders_in(template: &str) -> Result<Vec<&str>, PlaceholderError> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| PlaceholderError::Unclosed {
            template: template.to_owned(),
        })?;
        let name = &after[..close];
        if !KNOWN_PLACEHOLDERS.contains(&name) {
            return Err(PlaceholderError::Unknown {
                name: name.to_owned(),
                template: template.to_owned(),
            });
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Replaces every placeholder in `template` with the host's value.
pub fn resolve_placeholders(template: &str, facts: &HostFacts) -> Result<String, PlaceholderError> {
    placeholders_in(template)?;
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        out.push_str(value_of(&after[..close], facts));
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// `template` with every placeholder replaced by a sample value of the same shape, for
/// checking what characters the resolved name will hold.
pub(crate) fn with_sample_values(template: &str) -> Result<String, PlaceholderError> {
    resolve_placeholders(
        template,
        &HostFacts {
            instance_id: "i-0123456789abcdef0".to_owned(),
            hostname: "ip-10-0-0-1.ec2.internal".to_owned(),
            local_hostname: "host".to_owned(),
            ip_address: "10.0.0.1".to_owned(),
            aws_region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            date: "2026-01-01".to_owned(),
        },
    )
}

fn value_of<'a>(name: &str, facts: &'a HostFacts) -> &'a str {
    match name {
        "instance_id" => &facts.instance_id,
        "hostname" => &facts.hostname,
        "local_hostname" => &facts.local_hostname,
        "ip_address" => &facts.ip_address,
        "aws_region" => &facts.aws_region,
        "account_id" => &facts.account_id,
        _ => &facts.date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            instance_id: "i-0abc".to_owned(),
            hostname: "ip-10-1-2-3.ec2.internal".to_owned(),
            local_hostname: "web-1".to_owned(),
            ip_address: "10.1.2.3".to_owned(),
            aws_region: "eu-west-1".to_owned(),
            account_id: "111122223333".to_owned(),
            date: "2026-11-24".to_owned(),
        }
    }

    #[test]
    fn every_known_placeholder_resolves() {
        let got = resolve_placeholders(
            "{instance_id}|{hostname}|{local_hostname}|{ip_address}|{aws_region}|{account_id}|{date}",
            &facts(),
        )
        .unwrap();
        assert_eq!(
            got,
            "i-0abc|ip-10-1-2-3.ec2.internal|web-1|10.1.2.3|eu-west-1|111122223333|2026-11-24"
        );
        assert_eq!(
            resolve_placeholders("/var/log/messages/{instance_id}", &facts()).unwrap(),
            "/var/log/messages/i-0abc"
        );
        assert_eq!(resolve_placeholders("plain", &facts()).unwrap(), "plain");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_errors() {
        let err = resolve_placeholders("x/{instance-id}", &facts()).unwrap_err();
        assert!(err.to_string().starts_with(
            "unknown placeholder {instance-id} in \"x/{instance-id}\"; the agent knows {instance_id}, {hostname}"
        ), "{err}");
        assert_eq!(
            resolve_placeholders("x/{instance_id", &facts()).unwrap_err(),
            PlaceholderError::Unclosed {
                template: "x/{instance_id".to_owned()
            }
        );
    }
}
