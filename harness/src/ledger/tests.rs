//! The ledger's behaviour: fates, the reconciliation's counts, restarts, the ledger file, and
//! the compact store giving back what was written.

use std::collections::HashMap;

use pipeline::filter_pattern::FilterPattern;

use super::*;

fn record(instance: &str, message: &str, fate: Fate) -> LedgerRecord {
    LedgerRecord {
        instance: instance.into(),
        instance_id: "i-1".into(),
        source: "/var/log/secure".into(),
        timestamp_ms: 1_000,
        lines: vec![message.into()],
        level: None,
        event_id: None,
        fate,
    }
}

fn sent(message: &str) -> Fate {
    sent_after(message, 0)
}

fn sent_after(message: &str, restarts: u32) -> Fate {
    Fate::Sent(vec![ShippedEvent::new(
        "/var/log/secure/i-1",
        1_000,
        message.into(),
        restarts,
    )])
}

fn landed(id: &str, message: &str) -> LandedEvent<'static> {
    LandedEvent {
        log_stream: "/var/log/secure/i-1".into(),
        event_id: id.to_owned().into(),
        timestamp_ms: 1_000,
        message: message.to_owned().into(),
        arrival: None,
    }
}

#[test]
fn every_fate_is_counted_and_landed_events_are_matched_once() {
    let mut ledger = Ledger::default();
    ledger.add([
        record("a", "Failed password", sent("Failed password")),
        record("a", "Failed password", sent("Failed password")),
        record("a", "Accepted publickey", sent("Accepted publickey")),
        record("a", "x", Fate::NotCollected("level".into())),
        record("b", "y", Fate::Written),
    ]);
    let pattern = FilterPattern::parse("Failed").unwrap();
    let result = ledger.reconcile(
        &pattern,
        &[
            landed("1", "Failed password"),
            landed("1", "Failed password"),
            landed("3", "something else"),
        ],
    );
    assert_eq!(result.totals.records, 5);
    assert_eq!(result.totals.events_sent, 3);
    assert_eq!(result.totals.events_filtered, 1);
    assert_eq!(result.totals.events_expected, 2);
    assert_eq!(result.totals.not_collected, 1);
    assert_eq!(result.totals.unaccounted, 1);
    assert_eq!(result.duplicates, 1);
    assert_eq!(result.events_landed, 2);
    assert_eq!(
        result.missing, 1,
        "two identical lines were sent; one landed"
    );
    assert_eq!(result.unexpected, 1);
    assert!(result.unexpected_examples[0].contains("something else"));
    assert!(!result.is_exact());
    assert_eq!(result.reasons.get("not collected: level"), Some(&1));
}

#[test]
fn the_ledger_file_has_one_line_per_record_with_fates_and_filter_verdicts() {
    let mut ledger = Ledger::default();
    ledger.add([
        record("a", "Failed password", sent("Failed password")),
        record("a", "x", Fate::NotCollected("level".into())),
    ]);
    let mut out = Vec::new();
    ledger
        .write_ndjson(&FilterPattern::parse("Accepted").unwrap(), &mut out)
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["fate"], "sent");
    assert_eq!(lines[0]["instance_id"], "i-1");
    assert_eq!(lines[0]["events"][0]["passes_filter"], false);
    assert_eq!(lines[1]["fate"], "not_collected");
    assert_eq!(lines[1]["reason"], "level");
}

proptest::proptest! {
    /// Whatever subset of the expected events lands, and however often each copy lands,
    /// the reconciliation counts exactly the missing, the duplicated and the foreign ones.
    #[test]
    fn reconciliation_counts_missing_duplicates_and_strangers(
        messages in proptest::collection::vec("[a-c]{1,2}", 0..40),
        copies in proptest::collection::vec(0usize..3, 40),
        strangers in 0usize..5,
    ) {
        let mut ledger = Ledger::default();
        ledger.add(messages.iter().map(|m| record("a", m, sent(m))));
        let mut landed_events = Vec::new();
        let mut expect_missing = 0;
        let mut expect_duplicates = 0;
        for (i, message) in messages.iter().enumerate() {
            let id = format!("{i:056}");
            match copies[i] {
                0 => expect_missing += 1,
                n => {
                    expect_duplicates += n - 1;
                    landed_events.extend((0..n).map(|_| landed(&id, message)));
                }
            }
        }
        for s in 0..strangers {
            landed_events.push(landed(&format!("x{s}"), "never written"));
        }
        let result = ledger.reconcile(&FilterPattern::match_all(), &landed_events);
        proptest::prop_assert_eq!(result.missing, expect_missing);
        proptest::prop_assert_eq!(result.duplicates, expect_duplicates);
        proptest::prop_assert_eq!(result.unexpected, strangers);
        proptest::prop_assert_eq!(result.events_landed, messages.len() - expect_missing + strangers);
    }
}

#[test]
fn every_line_is_delivered_filtered_or_dropped_and_duplicates_count_per_source() {
    let mut ledger = Ledger::default();
    // Two lines joined into one event, delivered twice.
    let mut joined = record("a", "Failed password", sent("Failed password\n  again"));
    joined.lines.push("  again".into());
    ledger.add([
        joined,
        // Filtered.
        record("a", "Accepted", sent("Accepted")),
        // Not collected: dropped by a stated rule.
        record("a", "x", Fate::NotCollected("level".into())),
        // Sent but never landed: unaccounted.
        record("a", "Failed again", sent("Failed again")),
    ]);
    let pattern = FilterPattern::parse("Failed").unwrap();
    let result = ledger.reconcile(
        &pattern,
        &[
            landed("1", "Failed password\n  again"),
            landed("1", "Failed password\n  again"),
        ],
    );
    let counts = &result.by_source["a"]["/var/log/secure"];
    assert_eq!(counts.lines, 5);
    assert_eq!(counts.lines_delivered, 2);
    assert_eq!(counts.lines_filtered, 1);
    assert_eq!(counts.lines_dropped, 1);
    assert_eq!(counts.duplicates, 1);
    assert_eq!(counts.lines_unaccounted(), 1, "the line that never landed");
    assert_eq!(result.totals.lines_delivered, 2);
}

/// A restart that carried across what AWS keeps (the log group read to its end, the bucket
/// kept) excuses nothing: an event sent before it that did not land is missing.
#[test]
fn a_restart_that_carried_its_state_across_excuses_no_loss() {
    let mut ledger = Ledger::default();
    ledger.add([record("a", "before lost", sent_after("before lost", 0))]);
    ledger.restart_completed(true);
    let result = ledger.reconcile(&FilterPattern::match_all(), &[]);
    assert_eq!((result.lost_to_restart, result.missing), (0, 1));
    assert_eq!(result.events_sent_before_restart, 0, "nothing was at risk");
    assert_eq!(result.totals.lines_unaccounted(), 1);
}

/// A restart that could not carry its state across (its drain or its bucket failed, a failed
/// check of its own) has the events sent before it that did not land put down to it by name.
#[test]
fn events_sent_before_a_restart_that_did_not_land_are_lost_to_it_by_name() {
    let mut ledger = Ledger::default();
    ledger.add([
        // Sent before the restart: one landed (read before it), one went with the state.
        record("a", "before landed", sent_after("before landed", 0)),
        record("a", "before lost", sent_after("before lost", 0)),
    ]);
    ledger.restart_completed(false);
    ledger.add([
        // Sent after it: must land; this one did not, and is missing, not excused.
        record("a", "after lost", sent_after("after lost", 1)),
        record("a", "after landed", sent_after("after landed", 1)),
    ]);
    assert_eq!(
        ledger.sent_per_stream().get("/var/log/secure/i-1"),
        Some(&2),
        "only what was sent since the restart is still in the log group"
    );
    let result = ledger.reconcile(
        &FilterPattern::match_all(),
        &[landed("1", "before landed"), landed("2", "after landed")],
    );
    assert_eq!(result.lost_to_restart, 1);
    assert_eq!(result.missing, 1);
    assert!(result.missing_examples[0].contains("after lost"));
    assert_eq!(result.totals.lines_lost_to_restart, 1);
    assert_eq!(
        result.totals.lines_unaccounted(),
        1,
        "the line sent after the restart"
    );
    assert_eq!(result.reasons.get(&restart_loss_reason(1)), Some(&1));
    let lost: Vec<_> = ledger
        .records()
        .flat_map(|r| r.events())
        .filter(|e| e.lost_at_restart.is_some())
        .collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].message, "before lost");
    assert_eq!(lost[0].lost_at_restart, Some(1));
}

#[test]
fn an_exact_run_reconciles_cleanly() {
    let mut ledger = Ledger::default();
    ledger.add([record("a", "m", sent("m"))]);
    ledger.not_collected_by(&HashMap::from([("a", "never onboarded")]));
    let result = ledger.reconcile(&FilterPattern::match_all(), &[landed("9", "m")]);
    assert!(result.is_exact(), "{result:?}");
    assert_eq!(
        ledger.sent_per_stream().get("/var/log/secure/i-1"),
        Some(&1)
    );
}

#[test]
fn records_come_back_as_written_with_their_fates() {
    let mut ledger = Ledger::default();
    let mut windows = record(
        "dc-1",
        "<Event>\n</Event>",
        Fate::Rejected("too old".into()),
    );
    windows.source = "Security".into();
    windows.level = Some(4);
    windows.event_id = Some(4625);
    let joined = LedgerRecord {
        lines: vec!["Failed password".into(), "  again".into()],
        ..record("a", "", sent("Failed password\n  again"))
    };
    ledger.add([joined.clone(), windows.clone()]);
    assert_eq!(ledger.len(), 2);
    let first = ledger.get(0).unwrap();
    assert_eq!(
        (first.instance(), first.instance_id(), first.source()),
        ("a", "i-1", "/var/log/secure")
    );
    assert_eq!(first.text(), "Failed password\n  again");
    assert_eq!(first.lines().collect::<Vec<_>>(), joined.lines);
    assert_eq!(first.line_count(), 2);
    assert_eq!(first.fate().to_fate(), joined.fate);
    let second = ledger.get(1).unwrap();
    assert_eq!(second.line_count(), 1, "a Windows event is one record line");
    assert_eq!((second.level(), second.event_id()), (Some(4), Some(4625)));
    assert_eq!(second.fate(), FateView::Rejected("too old"));
    assert!(ledger.get(2).is_none());
}

#[test]
fn an_event_that_is_its_record_or_one_of_its_lines_is_not_stored_twice() {
    let mut ledger = Ledger::default();
    let index = ledger.write(NewRecord {
        instance: "a",
        instance_id: "i-1",
        source: "/var/log/messages",
        timestamp_ms: 5,
        lines: &["one".into(), "two".into(), "one".into()],
        level: None,
        event_id: None,
    });
    let arena = ledger.text.get(ledger.records[index].text()).len();
    for line in ["one", "two", "one"] {
        ledger.accepted(index, &ShippedEvent::new("s", 5, line.into(), 0));
    }
    let spans: Vec<_> = ledger.events.iter().map(|e| e.message()).collect();
    assert_eq!(
        spans.iter().map(|s| s.start).collect::<Vec<_>>(),
        [0, 4, 8],
        "each line's event points at its own line"
    );
    // A cut event is not in the record's text: it is stored.
    ledger.accepted(
        index,
        &ShippedEvent::new("s", 5, "on[Truncated...]".into(), 0),
    );
    let messages: Vec<_> = ledger
        .get(index)
        .unwrap()
        .events()
        .iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages, ["one", "two", "one", "on[Truncated...]"]);
    assert_eq!(arena, "one\ntwo\none".len());
}

#[test]
fn a_record_refused_after_an_accepted_event_stays_sent_and_one_resent_later_keeps_its_events() {
    let mut ledger = Ledger::default();
    ledger.add([
        record("a", "x", Fate::Written),
        record("a", "y", Fate::Written),
    ]);
    ledger.refused(0, "too old");
    assert_eq!(ledger.get(0).unwrap().fate(), FateView::Rejected("too old"));
    ledger.accepted(0, &ShippedEvent::new("s", 1, "x".into(), 0));
    ledger.accepted(1, &ShippedEvent::new("s", 1, "y".into(), 0));
    ledger.refused(0, "too new");
    // Record 0 gets a second event after record 1's: its events move together.
    ledger.accepted(0, &ShippedEvent::new("s", 2, "x".into(), 0));
    let events = |i| {
        ledger
            .get(i)
            .unwrap()
            .events()
            .iter()
            .map(|e| e.timestamp_ms)
            .collect::<Vec<_>>()
    };
    assert_eq!(events(0), [1, 2]);
    assert_eq!(events(1), [1]);
    ledger.not_collected(1, "level");
    assert_eq!(
        ledger.get(1).unwrap().fate(),
        FateView::NotCollected("level")
    );
}

proptest::proptest! {
    /// Identical events (same stream, time and message) sent before and after a restart:
    /// whatever lands, the landed ones are matched first to those sent after it, so the ones
    /// that did not land are put down to the restart as far as they can be; the rest are
    /// missing. Each count is checked against a count made here.
    #[test]
    fn what_did_not_land_is_put_down_to_the_restart_first(
        before in 0usize..5,
        after in 0usize..5,
        landing in 0usize..10,
    ) {
        let mut ledger = Ledger::default();
        ledger.add((0..before).map(|_| record("a", "m", sent_after("m", 0))));
        ledger.restart_completed(false);
        ledger.add((0..after).map(|_| record("a", "m", sent_after("m", 1))));
        let landing = landing.min(before + after);
        let copies: Vec<_> = (0..landing).map(|i| landed(&i.to_string(), "m")).collect();
        let result = ledger.reconcile(&FilterPattern::match_all(), &copies);
        let not_landed = before + after - landing;
        proptest::prop_assert_eq!(result.lost_to_restart, not_landed.min(before));
        proptest::prop_assert_eq!(result.missing, not_landed - not_landed.min(before));
        proptest::prop_assert_eq!(result.events_sent_before_restart, before);
        let marked = ledger.records().flat_map(|r| r.events()).filter(|e| e.lost_at_restart == Some(1)).count();
        proptest::prop_assert_eq!(marked, result.lost_to_restart);
    }
}

/// The agent says which events it cut (`SentEvent::truncated`); the reconciliation names the
/// cut by that flag, never by guessing from the message's length or suffix.
#[test]
fn a_cut_event_is_named_by_the_agents_flag_not_by_its_text() {
    let mut ledger = Ledger::default();
    let cut = ShippedEvent {
        truncated: true,
        ..ShippedEvent::new("/var/log/secure/i-1", 1_000, "short".into(), 0)
    };
    let looks_cut = ShippedEvent::new("/var/log/secure/i-1", 1_000, "x[Truncated...]".into(), 0);
    ledger.add([
        record("a", "short and long", Fate::Sent(vec![cut])),
        record("a", "x[Truncated...]", Fate::Sent(vec![looks_cut])),
    ]);
    let pattern = FilterPattern::parse("").unwrap();
    let result = ledger.reconcile(
        &pattern,
        &[landed("1", "short"), landed("2", "x[Truncated...]")],
    );
    let truncated: Vec<_> = result
        .reasons
        .iter()
        .filter(|(reason, _)| reason.starts_with("sent truncated"))
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(truncated, [1], "{:?}", result.reasons);
    assert!(ledger.get(0).unwrap().events()[0].truncated);
    assert!(!ledger.get(1).unwrap().events()[0].truncated);
}
