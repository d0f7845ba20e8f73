//! Recovering the instance id and the log source from a log stream name.
//!
//! Our agent configurations name streams `<source>/<instance-id>`: `/var/log/messages/i-0abc…`
//! for a file, `System/i-0abc…` for a Windows channel. The instance id is always the last
//! segment, so sources may contain `/` themselves (file paths, channels such as
//! `Microsoft-Windows-Sysmon/Operational`). The agent's own default, a bare `{instance_id}`,
//! yields the instance id and no source. Any other name yields neither.

/// What a stream name says about where its events came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamOrigin<'a> {
    /// The EC2 instance id, when the stream name carries one.
    pub instance_id: Option<&'a str>,
    /// The log file path or Windows channel, when the stream name carries one.
    pub source: Option<&'a str>,
}

/// Whether `s` is an EC2 instance id: `i-` and 8 or 17 lowercase hex digits.
pub fn is_instance_id(s: &str) -> bool {
    let Some(hex) = s.strip_prefix("i-") else {
        return false;
    };
    matches!(hex.len(), 8 | 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Splits a stream name following the `<source>/<instance-id>` convention.
pub fn parse_stream_name(name: &str) -> StreamOrigin<'_> {
    match name.rsplit_once('/') {
        Some((source, last)) if is_instance_id(last) && !source.is_empty() => StreamOrigin {
            instance_id: Some(last),
            source: Some(source),
        },
        None if is_instance_id(name) => StreamOrigin {
            instance_id: Some(name),
            source: None,
        },
        _ => StreamOrigin::default(),
    }
}

/// Builds a stream name following the convention (the inverse of [`parse_stream_name`]).
pub fn stream_name(source: &str, instance_id: &str) -> String {
    format!("{source}/{instance_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn recognises_the_convention_and_the_agent_default() {
        let id = "i-0123456789abcdef0";
        let cases = [
            (
                "/var/log/messages/i-0123456789abcdef0",
                Some(id),
                Some("/var/log/messages"),
            ),
            ("System/i-0123456789abcdef0", Some(id), Some("System")),
            (
                "Microsoft-Windows-Sysmon/Operational/i-0123456789abcdef0",
                Some(id),
                Some("Microsoft-Windows-Sysmon/Operational"),
            ),
            ("i-0123456789abcdef0", Some(id), None),
            ("i-1234abcd", Some("i-1234abcd"), None),
            ("/i-0123456789abcdef0", None, None),
            ("i-0123456789ABCDEF0", None, None),
            (
                "2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7",
                None,
                None,
            ),
            ("123456789012_CloudTrail_us-east-1", None, None),
            ("", None, None),
        ];
        for (name, instance_id, source) in cases {
            assert_eq!(
                parse_stream_name(name),
                StreamOrigin {
                    instance_id,
                    source
                },
                "{name}"
            );
        }
    }

    proptest! {
        #[test]
        fn stream_name_round_trips(source in "[^:*]{1,40}", hex in "[0-9a-f]{17}") {
            let id = format!("i-{hex}");
            let name = stream_name(&source, &id);
            let origin = parse_stream_name(&name);
            prop_assert_eq!(origin.instance_id, Some(id.as_str()));
            prop_assert_eq!(origin.source, Some(source.as_str()));
        }
    }
}
