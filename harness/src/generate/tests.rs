//! Every generated line parses back, with the ETL's own parsers, to the fields it was generated
//! from.

use pipeline::etl::parse::{Format, parse_message};
use proptest::prelude::*;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::syslog::bsd_timestamp;
use super::*;

/// 2020-01-01 to 2035-01-01, epoch milliseconds.
fn timestamps() -> impl Strategy<Value = i64> {
    1_577_836_800_000i64..2_051_222_400_000
}

#[test]
fn bsd_timestamps_pad_the_day_with_a_space() {
    assert_eq!(bsd_timestamp(1_795_478_400_000), "Nov 24 00:00:00");
    assert_eq!(bsd_timestamp(1_780_297_509_000), "Jun  1 07:05:09");
}

proptest! {
    #[test]
    fn syslog_lines_parse_back(seed in any::<u64>(), ts in timestamps(), secure in any::<bool>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let host = "ip-10-0-1-23";
        let generated = if secure { secure_line(&mut rng, host, ts) } else { messages_line(&mut rng, host, ts) };
        let parsed = parse_message(&generated.message);
        let f = &generated.fields;
        prop_assert_eq!(parsed.format, Some(Format::Rfc3164), "{}", generated.message);
        prop_assert_eq!(parsed.host.as_deref(), Some(f.host.as_str()));
        prop_assert_eq!(parsed.program.as_deref(), Some(f.program.as_str()));
        prop_assert_eq!(parsed.pid, f.pid);
        prop_assert_eq!(parsed.body.as_deref(), Some(f.body.as_str()));
        let written = bsd_timestamp(ts);
        prop_assert_eq!(parsed.syslog_time.as_deref(), Some(written.as_str()));
    }

    #[test]
    fn windows_events_parse_back(seed in any::<u64>(), ts in timestamps(), record in 1u64..10_000_000, which in 0u8..3) {
        let mut rng = StdRng::seed_from_u64(seed);
        let channel = [WindowsChannel::System, WindowsChannel::Application, WindowsChannel::Security][usize::from(which)];
        let generated = windows_event(&mut rng, channel, "EC2AMAZ-7TGH3K1", record, ts);
        let parsed = parse_message(&generated.message);
        let f = &generated.fields;
        prop_assert_eq!(parsed.format, Some(Format::WindowsXml), "{}", generated.message);
        prop_assert_eq!(parsed.win_channel.as_deref(), Some(channel.name()));
        prop_assert_eq!(parsed.win_provider.as_deref(), Some(f.provider.as_str()));
        prop_assert_eq!(parsed.win_event_id, Some(f.event_id));
        prop_assert_eq!(parsed.win_level, Some(f.level));
        prop_assert_eq!(parsed.win_computer.as_deref(), Some(f.computer.as_str()));
        prop_assert_eq!(parsed.win_record_id, Some(f.record_id));
        prop_assert_eq!(parsed.win_time_created.as_deref(), Some(f.time_created.as_str()));
        prop_assert_eq!(parsed.win_message.as_deref(), Some(f.message.as_str()));
    }
}
