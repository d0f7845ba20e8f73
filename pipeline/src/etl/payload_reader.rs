//! A reader for the one shape CloudWatch Logs gives a subscription payload, faster than a
//! general JSON deserializer on it.
//!
//! The payload is an object with `messageType`, `owner`, `logGroup`, `logStream`,
//! `subscriptionFilters` and `logEvents`, each event an object with `id`, `timestamp` and
//! `message` (the decoded example in the Lambda Developer Guide's "Using Lambda with
//! CloudWatch Logs"), and with account-level subscription policies a `policyLevel` string
//! (Powertools for AWS Lambda's `CloudWatchLogsDecode` model), which the ETL does not use.
//! AWS does not say in what key order or spacing CloudWatch Logs writes it: this reader takes
//! any order, with or without whitespace, and finds each string's end with `memchr`. It gives up
//! (returns `None`) on anything else: an unknown, missing or repeated key, a number that is
//! not a plain integer, a string with a control character, any other JSON. The caller then
//! deserializes with `serde_json`, which accepts or refuses it and names what was wrong, so
//! this reader changes how fast a payload is read, never what is read or refused
//! (`reads_what_serde_reads` checks it).
//!
//! A string without an escape sequence is borrowed from the text; JSON's one-character
//! escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) are decoded here, and a string with
//! a `\u` escape by `serde_json`. Each event
//! keeps its message's JSON when that is how serde_json writes it, for the row to copy.

use std::borrow::Cow;

use super::json_out;
use super::payload::{LogEvent, LogsPayload};

/// Reads `text` as a subscription payload, or `None` when it is not in the shape this reader
/// takes (see the module docs); `None` says nothing about whether the text is valid.
pub fn read_payload(text: &str) -> Option<LogsPayload<'_>> {
    let mut reader = Reader { text, at: 0 };
    let payload = reader.payload()?;
    reader.skip_whitespace();
    (reader.at == text.len()).then_some(payload)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn payload(&mut self) -> Option<LogsPayload<'a>> {
        let (mut message_type, mut owner, mut log_group, mut log_stream) = (None, None, None, None);
        let (mut subscription_filters, mut log_events, mut policy_level) = (None, None, None);
        self.object(|reader, key| match key {
            "messageType" => set_once(&mut message_type, reader.string()?),
            "owner" => set_once(&mut owner, reader.string()?),
            "logGroup" => set_once(&mut log_group, reader.string()?),
            "logStream" => set_once(&mut log_stream, reader.string()?),
            "subscriptionFilters" => set_once(&mut subscription_filters, reader.strings()?),
            "logEvents" => set_once(&mut log_events, reader.events()?),
            "policyLevel" => set_once(&mut policy_level, reader.string()?),
            _ => None,
        })?;
        Some(LogsPayload {
            message_type: message_type?,
            owner: owner?,
            log_group: log_group?,
            log_stream: log_stream?,
            // serde's `default` for this field.
            subscription_filters: subscription_filters.unwrap_or_default(),
            log_events: log_events?,
        })
    }

    fn events(&mut self) -> Option<Vec<LogEvent<'a>>> {
        // An event's JSON is at least `{"id":"","timestamp":0,"message":""}`, 37 bytes.
        let mut events = Vec::with_capacity((self.text.len() - self.at) / 64);
        self.array(|reader| {
            events.push(reader.event()?);
            Some(())
        })?;
        Some(events)
    }

    fn event(&mut self) -> Option<LogEvent<'a>> {
        let start = self.at;
        if let Some(event) = self.compact_event() {
            return Some(event);
        }
        self.at = start;
        self.event_in_any_form()
    }

    /// An event written `{"id":…,"timestamp":…,"message":…}`, in that order without spaces
    /// (the keys compared as bytes instead of read as strings).
    fn compact_event(&mut self) -> Option<LogEvent<'a>> {
        self.skip_whitespace();
        self.literal(b"{\"id\":")?;
        let id = self.string()?;
        self.literal(b",\"timestamp\":")?;
        let timestamp = self.integer()?;
        self.literal(b",\"message\":")?;
        let (message, message_json) = self.string_and_json()?;
        self.literal(b"}")?;
        Some(LogEvent {
            id,
            timestamp,
            message,
            message_json,
        })
    }

    /// Consumes `expected` if the text continues with it.
    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        let found = self.text.as_bytes()[self.at..].starts_with(expected);
        self.at += if found { expected.len() } else { 0 };
        found.then_some(())
    }

    fn event_in_any_form(&mut self) -> Option<LogEvent<'a>> {
        let (mut id, mut timestamp, mut message) = (None, None, None);
        self.object(|reader, key| match key {
            "id" => set_once(&mut id, reader.string()?),
            "timestamp" => set_once(&mut timestamp, reader.integer()?),
            "message" => set_once(&mut message, reader.string_and_json()?),
            _ => None,
        })?;
        let (message, message_json) = message?;
        Some(LogEvent {
            id: id?,
            timestamp: timestamp?,
            message,
            message_json,
        })
    }

    fn strings(&mut self) -> Option<Vec<Cow<'a, str>>> {
        let mut strings = Vec::new();
        self.array(|reader| {
            strings.push(reader.string()?);
            Some(())
        })?;
        Some(strings)
    }

    /// `{ "key": value, ... }`, each value read by `member` with the key (keys without escapes
    /// only).
    fn object(&mut self, mut member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        if self.next_is(b'}') {
            return Some(());
        }
        loop {
            let Cow::Borrowed(key) = self.string()? else {
                return None;
            };
            self.expect(b':')?;
            member(self, key)?;
            if !self.next_is(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// `[ item, ... ]`, each item read by `item`.
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        if self.next_is(b']') {
            return Some(());
        }
        loop {
            item(self)?;
            if !self.next_is(b',') {
                return self.expect(b']');
            }
        }
    }

    /// A JSON string: borrowed when it has no escape sequence, decoded by serde_json when it
    /// has.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.string_and_json().map(|(string, _)| string)
    }

    /// A JSON string, and its JSON (quotes included) when that is how serde_json writes it.
    fn string_and_json(&mut self) -> Option<(Cow<'a, str>, Option<&'a str>)> {
        self.expect(b'"')?;
        let start = self.at;
        let bytes = self.text.as_bytes();
        let stop = start + memchr::memchr2(b'"', b'\\', &bytes[start..])?;
        if bytes[stop] == b'\\' {
            return self.escaped_string(start, stop);
        }
        // JSON allows no raw control character in a string.
        if has_control_byte(&bytes[start..stop]) {
            return None;
        }
        self.at = stop + 1;
        let body = self.text.get(start..stop)?;
        Some((Cow::Borrowed(body), self.text.get(start - 1..=stop)))
    }

    /// The rest of a string that has an escape sequence at `escape` (its body starts at
    /// `start`): the escapes of one character decoded here, a string with `\u` by serde_json.
    fn escaped_string(
        &mut self,
        start: usize,
        mut escape: usize,
    ) -> Option<(Cow<'a, str>, Option<&'a str>)> {
        let bytes = self.text.as_bytes();
        let mut decoded = String::with_capacity(2 * (escape - start) + 16);
        let mut run = start;
        // serde_json writes every short escape but `\/` as it is read.
        let mut as_written = true;
        let end = loop {
            decoded.push_str(self.text.get(run..escape)?);
            if bytes[escape] == b'"' {
                break escape;
            }
            let unescaped = match bytes.get(escape + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => {
                    as_written = false;
                    '/'
                }
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => return self.string_by_serde(start),
                _ => return None,
            };
            decoded.push(unescaped);
            run = escape + 2;
            escape = run + memchr::memchr2(b'"', b'\\', bytes.get(run..)?)?;
        };
        if has_control_byte(&bytes[start..end]) {
            return None;
        }
        self.at = end + 1;
        let quoted = self.text.get(start - 1..=end)?;
        Some((Cow::Owned(decoded), as_written.then_some(quoted)))
    }

    /// A string whose body starts at `start`, decoded by serde_json (`\u` escapes).
    fn string_by_serde(&mut self, start: usize) -> Option<(Cow<'a, str>, Option<&'a str>)> {
        let bytes = self.text.as_bytes();
        let mut at = start;
        let end = loop {
            let found = at + memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
            if bytes[found] == b'"' {
                break found;
            }
            // A backslash and the byte it escapes; serde_json checks the escape.
            at = found + 2;
        };
        if has_control_byte(&bytes[start..end]) {
            return None;
        }
        self.at = end + 1;
        let quoted = self.text.get(start - 1..=end)?;
        let decoded = serde_json::from_str::<String>(quoted).ok()?;
        let as_written = json_out::is_as_escaped(&bytes[start..end]);
        Some((Cow::Owned(decoded), as_written.then_some(quoted)))
    }

    /// An integer that fits an `i64`, as JSON writes it: an optional `-`, then digits with no
    /// leading zero.
    fn integer(&mut self) -> Option<i64> {
        self.skip_whitespace();
        let bytes = self.text.as_bytes();
        let negative = bytes.get(self.at) == Some(&b'-');
        let digits_start = self.at + usize::from(negative);
        // Accumulated as a negative number: i64::MIN has no positive counterpart.
        let (mut value, mut at) = (0_i64, digits_start);
        while let Some(&digit @ b'0'..=b'9') = bytes.get(at) {
            value = value
                .checked_mul(10)?
                .checked_sub(i64::from(digit - b'0'))?;
            at += 1;
        }
        let digits = at - digits_start;
        let leading_zero = digits > 1 && bytes[digits_start] == b'0';
        let fraction_follows = matches!(bytes.get(at), Some(b'.' | b'e' | b'E'));
        if digits == 0 || leading_zero || fraction_follows {
            return None;
        }
        self.at = at;
        if negative {
            Some(value)
        } else {
            value.checked_neg()
        }
    }

    /// Skips whitespace, then consumes `byte` or gives up.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.next_is(byte).then_some(())
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    fn next_is(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.text.as_bytes().get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }
}

/// Sets `slot` unless it is already set (a repeated key: serde_json refuses it, so give up).
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Whether any byte is below 0x20: eight bytes at a time, without stopping early (so the
/// loop vectorizes).
fn has_control_byte(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut words = bytes.chunks_exact(8);
    // A byte below 0x20 sets its high bit in (b - 0x20) & !b (the zero-byte trick).
    let below_space = words.by_ref().fold(0, |found, word| {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([b' '; 8]));
        found | (word.wrapping_sub(ONES * 0x20) & !word)
    });
    below_space & (ONES * 0x80) != 0 || words.remainder().iter().any(|&byte| byte < 0x20)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn serde_reads(text: &str) -> Option<LogsPayload<'_>> {
        serde_json::from_str(text).ok()
    }

    /// What serde_json reads, as the reader reads it; checked: each message's JSON, when
    /// kept, is what serde_json writes for the message.
    fn without_json(payload: Option<LogsPayload<'_>>) -> Option<LogsPayload<'_>> {
        payload.map(|mut payload| {
            for event in &mut payload.log_events {
                if let Some(json) = event.message_json.take() {
                    assert_eq!(json, serde_json::to_string(&event.message).unwrap());
                }
            }
            payload
        })
    }

    /// The decoded payload of AWS's example event (Lambda Developer Guide, "Using Lambda with
    /// CloudWatch Logs"; the same in Powertools for AWS Lambda's parser docs), its first two
    /// events, in its key order and spacing.
    const AWS_EXAMPLE: &str = r#"{
    "owner": "123456789012",
    "logGroup": "CloudTrail",
    "logStream": "123456789012_CloudTrail_us-east-1",
    "subscriptionFilters": [
        "Destination"
    ],
    "messageType": "DATA_MESSAGE",
    "logEvents": [
        {
            "id": "31953106606966983378809025079804211143289615424298221568",
            "timestamp": 1432826855000,
            "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}"
        },
        {
            "id": "31953106606966983378809025079804211143289615424298221569",
            "timestamp": 1432826865000,
            "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}"
        }
    ]
}"#;

    #[test]
    fn reads_aws_example_as_serde_does() {
        let fast = read_payload(AWS_EXAMPLE).expect("the shape CloudWatch Logs writes");
        assert_eq!(without_json(Some(fast.clone())), serde_reads(AWS_EXAMPLE));
        assert_eq!(fast.log_events.len(), 2);
        assert!(
            matches!(fast.log_events[0].message, Cow::Owned(_)),
            "it had escapes"
        );
        assert!(matches!(fast.log_group, Cow::Borrowed(_)));
    }

    #[test]
    fn gives_up_on_what_it_does_not_take() {
        let cases = [
            // Control character raw in a string.
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"a	b"}]}"#,
            // A float timestamp, a leading zero, an overflow.
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1.5,"message":"m"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":01,"message":"m"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":9223372036854775808,"message":"m"}]}"#,
            // A repeated key, an unknown key, a missing key.
            r#"{"messageType":"DATA_MESSAGE","owner":"1","owner":"2","logGroup":"g","logStream":"s","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[],"extra":1}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logEvents":[]}"#,
            // Trailing bytes, a trailing comma, an unterminated string.
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[]}x"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[],}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s\"#,
        ];
        for case in cases {
            assert!(read_payload(case).is_none(), "{case}");
        }
    }

    #[test]
    fn decodes_every_escape_and_keeps_only_json_serde_writes() {
        let text = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[
            {"id":"1","timestamp":1,"message":"tab\there \"q\" back\\slash\r\n\b\f \u0001"},
            {"id":"2","timestamp":2,"message":"a\/b"},
            {"id":"3","timestamp":3,"message":"caf\u00e9 \ud83d\ude80 \n"}]}"#;
        let fast = read_payload(text).expect("valid, in the shape");
        let kept: Vec<bool> = fast
            .log_events
            .iter()
            .map(|e| e.message_json.is_some())
            .collect();
        assert_eq!(kept, [true, false, false], "serde_json writes / and é raw");
        assert_eq!(fast.log_events[2].message, "café 🚀 \n");
        assert_eq!(without_json(Some(fast)), serde_reads(text));
    }

    #[test]
    fn takes_an_account_level_policy_payload() {
        let text = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[]}"#;
        let fast = read_payload(text).expect("policyLevel is taken");
        assert_eq!(without_json(Some(fast)), serde_reads(text));
    }

    #[test]
    fn takes_any_key_order_and_whitespace() {
        let text = " {\n \"logEvents\" : [ { \"message\" : \"m\" , \"timestamp\" : -12 , \"id\" : \"7\" } ] ,\t\"logStream\":\"s\",\"logGroup\":\"g\",\"owner\":\"1\",\"messageType\":\"CONTROL_MESSAGE\"} ";
        let fast = read_payload(text).expect("valid, in the shape");
        assert_eq!(without_json(Some(fast)), serde_reads(text));
    }

    fn payload_text() -> impl Strategy<Value = String> {
        let message = prop_oneof![any::<String>(), "[a-z \"\\\\/\u{0}-\u{1f}é🚀]{0,40}",];
        (
            prop::collection::vec((message, any::<i64>()), 0..6),
            "[a-zA-Z0-9/_\"-]{0,12}",
            any::<bool>(),
        )
            .prop_map(|(events, stream, in_struct_order)| {
                if in_struct_order {
                    // Keys in the order the payload's fields are declared (the events'
                    // `id`, `timestamp`, `message`: the reader's compact form).
                    let mut payload = LogsPayload::data_message("123456789012", "g", &stream, 0, events.iter().map(|(m, _)| m.as_str()));
                    for (event, (_, timestamp)) in payload.log_events.iter_mut().zip(&events) {
                        event.timestamp = *timestamp;
                    }
                    return String::from_utf8(payload.to_json()).unwrap();
                }
                // Keys sorted (serde_json's map): the reader's general form.
                let events: Vec<serde_json::Value> = events
                    .into_iter()
                    .enumerate()
                    .map(|(i, (message, timestamp))| {
                        serde_json::json!({"id": i.to_string(), "timestamp": timestamp, "message": message})
                    })
                    .collect();
                serde_json::json!({
                    "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g",
                    "logStream": stream, "subscriptionFilters": ["f"], "logEvents": events,
                })
                .to_string()
            })
    }

    proptest! {
        /// Whatever the reader returns is what serde_json reads from the same text; a payload
        /// as CloudWatch Logs writes it is always read; and a damaged one is read only if
        /// serde_json reads it too, to the same value.
        #[test]
        fn reads_what_serde_reads(text in payload_text(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let fast = read_payload(&text);
            prop_assert!(fast.is_some(), "compact payload not read: {text}");
            prop_assert!(fast.as_ref().is_some_and(|p| p.log_events.iter().all(|e| e.message_json.is_some())), "serde_json wrote every message: its JSON is kept");
            prop_assert_eq!(&without_json(fast), &serde_reads(&text));
            let mut damaged = text.clone().into_bytes();
            damaged[cut.index(text.len())] = byte;
            if let Ok(damaged) = std::str::from_utf8(&damaged)
                && let Some(fast) = read_payload(damaged)
            {
                prop_assert_eq!(without_json(Some(fast)), serde_reads(damaged), "{}", damaged);
            }
        }
    }
}
