//! What one instance writes to one source over the run: records (a log line, or a line with
//! continuation lines, or one Windows event) with their simulated timestamps, from a generator
//! or a replayed corpus. Everything is decided by the seed, before the run starts, so that the
//! same seed writes the same lines whatever the timing of the run.

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, RngExt as _, SeedableRng as _};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::generate::syslog_timestamp as bsd_timestamp;
use pipeline::agent_config::EventLevel;

use crate::generate::{self, WindowsChannel};
use crate::scenario::{GeneratorKind, SourceProfile};

/// One record as written on the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Simulated epoch milliseconds.
    pub timestamp_ms: i64,
    /// The physical lines: the first, then continuation lines.
    pub lines: Vec<String>,
    /// The Windows event level, for Windows events.
    pub level: Option<u8>,
    /// The Windows event id, for Windows events.
    pub event_id: Option<u32>,
}

/// Who writes: the host names that appear in the lines.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    /// The syslog host field (`ip-10-0-1-23`).
    pub host: &'a str,
    /// The Windows computer name.
    pub computer: &'a str,
}

/// A corpus file that cannot be replayed.
#[derive(Debug, thiserror::Error)]
#[error("corpus {path}: {message}")]
pub struct CorpusError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A seed for one instance's source, from the run's seed: stable across runs.
pub fn source_seed(seed: u64, instance: &str, source: &str) -> u64 {
    // FNV-1a over the names, mixed with the seed.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in instance.bytes().chain([0]).chain(source.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The arrival times of a source: the steady rate (jittered) from `from_ms` to `to_ms`, plus
/// the bursts, sorted.
pub fn arrivals(rng: &mut impl Rng, profile: &SourceProfile, from_ms: i64, to_ms: i64) -> Vec<i64> {
    let mut times = Vec::new();
    let interval = 60_000.0 / profile.per_minute;
    let mut t = from_ms as f64 + rng.random_range(0.0..interval);
    while t < to_ms as f64 {
        times.push(t as i64);
        t += interval * rng.random_range(0.5..1.5);
    }
    for burst in &profile.bursts {
        let at = from_ms + burst.at.as_millis();
        if at < to_ms {
            times.extend((0..burst.lines).map(|i| at + i64::try_from(i).unwrap_or(0) * 10));
        }
    }
    times.sort_unstable();
    times
}

/// The records of one source on one instance between `from_ms` and `to_ms`.
pub fn records(
    profile: &SourceProfile,
    corpus: Option<&Path>,
    writer: &Writer<'_>,
    seed: u64,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Record>, CorpusError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let times = arrivals(&mut rng, profile, from_ms, to_ms);
    if profile.generator == GeneratorKind::Corpus {
        let path = corpus.ok_or_else(|| CorpusError {
            path: String::new(),
            message: "no corpus file given".into(),
        })?;
        return replay(path, &times);
    }
    let mut record_id = rng.random_range(1_000..100_000u64);
    Ok(times
        .into_iter()
        .map(|t| {
            let whole_second = t - t.rem_euclid(1000);
            let mut generated = |channel| {
                record_id += 1;
                // Draw until the level is one the profile asks for. Validation guarantees the
                // generator writes each of them, so this ends quickly; the bound only keeps an
                // unvalidated profile from spinning.
                let mut draws = 0;
                let event = loop {
                    draws += 1;
                    let event =
                        generate::windows_event(&mut rng, channel, writer.computer, record_id, t);
                    let level = EventLevel::from_windows_level(event.fields.level);
                    match (&profile.levels, level) {
                        (Some(wanted), Some(level))
                            if !wanted.contains(&level) && draws < 1_000 => {}
                        _ => break event,
                    }
                };
                Record {
                    timestamp_ms: t,
                    lines: vec![event.message],
                    level: Some(event.fields.level),
                    event_id: Some(event.fields.event_id),
                }
            };
            match profile.generator {
                GeneratorKind::WindowsSystem => generated(WindowsChannel::System),
                GeneratorKind::WindowsApplication => generated(WindowsChannel::Application),
                GeneratorKind::WindowsSecurity => generated(WindowsChannel::Security),
                GeneratorKind::Messages | GeneratorKind::Secure | GeneratorKind::Corpus => {
                    let first = if profile.generator == GeneratorKind::Secure {
                        generate::secure_line(&mut rng, writer.host, whole_second).message
                    } else {
                        generate::messages_line(&mut rng, writer.host, whole_second).message
                    };
                    let mut lines = vec![first];
                    if rng.random_bool(profile.multi_line) {
                        lines.extend(continuation_lines(&mut rng));
                    }
                    Record {
                        timestamp_ms: whole_second,
                        lines,
                        level: None,
                        event_id: None,
                    }
                }
            }
        })
        .collect())
}

/// A kernel call trace's lines, as they follow a warning in `/var/log/messages`.
fn continuation_lines(rng: &mut impl Rng) -> Vec<String> {
    const FRAMES: [&str; 6] = [
        "dump_stack+0x63/0x90",
        "warn_slowpath_common+0x82/0xc0",
        "nvme_timeout+0x1b2/0x2f0 [nvme]",
        "blk_mq_check_expired+0x12a/0x150",
        "process_one_work+0x1f4/0x490",
        "worker_thread+0x50/0x4b0",
    ];
    let depth = rng.random_range(2..=FRAMES.len());
    std::iter::once("Call Trace:".to_owned())
        .chain(
            FRAMES[..depth]
                .iter()
                .map(|frame| format!(" [<ffffffff{:08x}>] {frame}", rng.random::<u32>())),
        )
        .collect()
}

/// The timestamp shapes a corpus line can start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// `Mmm dd hh:mm:ss` (15 characters).
    Bsd,
    /// `YYYY-MM-DD hh:mm:ss` (19 characters).
    Iso,
}

fn stamp_of(line: &str) -> Option<Stamp> {
    let bytes = line.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(|c| c.is_ascii_digit()))
    };
    let bsd = bytes.len() >= 15
        && bytes[..3].iter().all(u8::is_ascii_alphabetic)
        && bytes[3] == b' '
        && bytes[6] == b' '
        && digits(7..9)
        && bytes[9] == b':'
        && digits(10..12)
        && bytes[12] == b':'
        && digits(13..15);
    let iso = bytes.len() >= 19
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b' '
        && digits(11..13)
        && bytes[13] == b':';
    if bsd {
        Some(Stamp::Bsd)
    } else if iso {
        Some(Stamp::Iso)
    } else {
        None
    }
}

fn iso_timestamp(timestamp_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(timestamp_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// Replays a corpus: its records in order, one per arrival time (as many as the rate gives,
/// at most the file's), each first line's timestamp rewritten to the simulated time and the
/// rest kept byte for byte. Lines that do not start with a timestamp continue the record
/// before them.
fn replay(path: &Path, times: &[i64]) -> Result<Vec<Record>, CorpusError> {
    let fail = |message: String| CorpusError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut records: Vec<Record> = Vec::new();
    let mut arrivals = times.iter();
    for (number, line) in text.lines().enumerate() {
        match stamp_of(line) {
            Some(stamp) => {
                let Some(&t) = arrivals.next() else { break };
                let t = t - t.rem_euclid(1000);
                let (len, new) = match stamp {
                    Stamp::Bsd => (15, bsd_timestamp(t)),
                    Stamp::Iso => (19, iso_timestamp(t)),
                };
                records.push(Record {
                    timestamp_ms: t,
                    lines: vec![format!("{new}{}", &line[len..])],
                    level: None,
                    event_id: None,
                });
            }
            None => match records.last_mut() {
                Some(record) => record.lines.push(line.to_owned()),
                None => {
                    return Err(fail(format!(
                        "line {}: the first line must start with a timestamp (`Mmm dd hh:mm:ss` or `YYYY-MM-DD hh:mm:ss`)",
                        number + 1
                    )));
                }
            },
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Burst, SimDuration};
    use std::time::Duration;

    fn profile(generator: GeneratorKind, per_minute: f64) -> SourceProfile {
        SourceProfile {
            source: "/var/log/messages".into(),
            generator,
            per_minute,
            bursts: vec![],
            multi_line: 0.0,
            levels: None,
            corpus: None,
        }
    }

    const WRITER: Writer<'static> = Writer {
        host: "ip-10-0-0-12",
        computer: "EC2AMAZ-TEST01",
    };

    #[test]
    fn the_rate_and_bursts_give_the_arrivals() {
        let mut source = profile(GeneratorKind::Messages, 60.0);
        source.bursts.push(Burst {
            at: SimDuration(Duration::from_secs(30)),
            lines: 25,
        });
        let mut rng = StdRng::seed_from_u64(3);
        let times = arrivals(&mut rng, &source, 0, 600_000);
        assert!((585..=615).contains(&(times.len() - 25)), "{}", times.len());
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            times
                .iter()
                .filter(|&&t| (30_000..30_250).contains(&t))
                .count()
                >= 25
        );
    }

    proptest::proptest! {
        /// Arrivals are sorted, inside the window, and as many as the rate gives (the jitter
        /// spaces them 0.5 to 1.5 intervals apart), plus every burst inside the window.
        #[test]
        fn arrivals_follow_the_rate_inside_the_window(
            per_minute in 0.5f64..600.0,
            window_s in 1i64..3_600,
            burst_at in 0u64..3_600,
            burst_lines in 0usize..50,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let mut source = profile(GeneratorKind::Messages, per_minute);
            source.bursts.push(Burst { at: SimDuration(Duration::from_secs(burst_at)), lines: burst_lines });
            let (from, to) = (1_700_000_000_000, 1_700_000_000_000 + window_s * 1000);
            let times = arrivals(&mut StdRng::seed_from_u64(seed), &source, from, to);
            proptest::prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
            proptest::prop_assert!(times.iter().all(|t| (from..to + 500).contains(t)));
            let burst = if burst_at * 1000 < (window_s * 1000) as u64 { burst_lines } else { 0 };
            let steady = (times.len() - burst) as f64;
            let interval_s = 60.0 / per_minute;
            let window = window_s as f64;
            proptest::prop_assert!(steady <= window / (0.5 * interval_s) + 1.0, "{} steady", steady);
            proptest::prop_assert!(steady >= (window - interval_s) / (1.5 * interval_s) - 1.0, "{} steady", steady);
        }

        /// Every record of every generator is inside the window, in order, and a multi-line
        /// share of 1 gives every file record continuation lines.
        #[test]
        fn records_stay_in_the_window_in_order(seed in proptest::prelude::any::<u64>(), kind in 0usize..5) {
            let kinds = [
                GeneratorKind::Messages,
                GeneratorKind::Secure,
                GeneratorKind::WindowsSystem,
                GeneratorKind::WindowsApplication,
                GeneratorKind::WindowsSecurity,
            ];
            let mut source = profile(kinds[kind], 120.0);
            if !kinds[kind].is_windows_events() {
                source.multi_line = 1.0;
            }
            let (from, to) = (1_700_000_000_000, 1_700_000_060_000);
            let written = records(&source, None, &WRITER, seed, from, to).unwrap();
            proptest::prop_assert!(!written.is_empty());
            proptest::prop_assert!(written.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
            proptest::prop_assert!(written.iter().all(|r| (from - 1000..to).contains(&r.timestamp_ms)));
            proptest::prop_assert!(written.iter().all(|r| r.lines.len() > 1 || kinds[kind].is_windows_events()));
        }
    }

    #[test]
    fn the_same_seed_writes_the_same_records() {
        let source = profile(GeneratorKind::Secure, 120.0);
        let a = records(&source, None, &WRITER, 9, 0, 120_000).unwrap();
        let b = records(&source, None, &WRITER, 9, 0, 120_000).unwrap();
        let c = records(&source, None, &WRITER, 10, 0, 120_000).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn multi_line_records_carry_a_call_trace() {
        let mut source = profile(GeneratorKind::Messages, 600.0);
        source.multi_line = 1.0;
        let written = records(&source, None, &WRITER, 1, 0, 60_000).unwrap();
        assert!(
            written
                .iter()
                .all(|r| r.lines.len() >= 3 && r.lines[1] == "Call Trace:")
        );
        assert!(
            written
                .iter()
                .all(|r| stamp_of(&r.lines[0]) == Some(Stamp::Bsd))
        );
        assert!(
            written
                .iter()
                .all(|r| r.lines[1..].iter().all(|l| stamp_of(l).is_none()))
        );
    }

    #[test]
    fn windows_records_carry_their_level() {
        let source = profile(GeneratorKind::WindowsSystem, 600.0);
        let written = records(&source, None, &WRITER, 1, 0, 60_000).unwrap();
        assert!(
            written
                .iter()
                .all(|r| r.level.is_some() && r.lines[0].contains("EC2AMAZ-TEST01"))
        );
    }

    #[test]
    fn each_windows_generator_writes_exactly_the_levels_it_declares() {
        for kind in [
            GeneratorKind::WindowsSystem,
            GeneratorKind::WindowsApplication,
            GeneratorKind::WindowsSecurity,
        ] {
            let written = records(&profile(kind, 6_000.0), None, &WRITER, 2, 0, 60_000).unwrap();
            let mut seen: Vec<EventLevel> = written
                .iter()
                .filter_map(|r| EventLevel::from_windows_level(r.level.unwrap()))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            let mut declared = kind.windows_levels().to_vec();
            declared.sort_unstable();
            assert_eq!(seen, declared, "{kind:?}");
        }
    }

    #[test]
    fn a_levels_list_restricts_what_is_written() {
        let mut source = profile(GeneratorKind::WindowsApplication, 600.0);
        source.levels = Some(vec![EventLevel::Error]);
        let written = records(&source, None, &WRITER, 4, 0, 60_000).unwrap();
        assert!(written.len() > 300);
        assert!(written.iter().all(|r| r.level == Some(2)));
    }

    #[test]
    fn a_corpus_replays_in_order_with_timestamps_moved_to_the_clock() {
        let dir = std::env::temp_dir().join(format!("loglab-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sample.log");
        std::fs::write(
            &file,
            "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo\n  continued\nDec 10 06:55:48 LabSZ sshd[24201]: Invalid user webmaster\n2016-09-28 04:30:30, Info CBS Loaded\n",
        )
        .unwrap();
        let mut source = profile(GeneratorKind::Corpus, 60.0);
        source.corpus = Some(file.clone());
        let start = 1_795_000_000_000;
        let written = records(&source, Some(&file), &WRITER, 1, start, start + 600_000).unwrap();
        assert_eq!(written.len(), 3, "every record of the file, no more");
        assert_eq!(written[0].lines.len(), 2);
        assert_eq!(written[0].lines[1], "  continued");
        assert!(
            written[0].lines[0]
                .ends_with(" LabSZ sshd[24200]: reverse mapping checking getaddrinfo")
        );
        assert_eq!(
            &written[0].lines[0][..15],
            bsd_timestamp(written[0].timestamp_ms)
        );
        assert_eq!(
            &written[2].lines[0][..19],
            iso_timestamp(written[2].timestamp_ms)
        );
        assert!(
            written
                .iter()
                .all(|r| (start..start + 600_000).contains(&r.timestamp_ms))
        );
        std::fs::write(&file, "no timestamp here\n").unwrap();
        let error = records(&source, Some(&file), &WRITER, 1, start, start + 600_000).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
