//! Windows Event Log records as the CloudWatch agent ships them.
//!
//! - `event_format: xml`: the agent sends the event rendered by `EvtFormatMessage` as Event XML,
//!   `<Event xmlns='…'><System>…</System><EventData>…</EventData><RenderingInfo>…</RenderingInfo></Event>`.
//! - `event_format: text`: the agent's legacy text rendering,
//!   `[Channel] [LEVEL] [EventID] [Provider] [Computer] [Message]`.
//!
//! Level names follow the agent: 1 CRITICAL, 2 ERROR, 3 WARNING, 0 and 4 INFORMATION,
//! 5 VERBOSE, anything else UNKNOWN.

use std::borrow::Cow;

use super::event_xml::{self, Token, XmlTag};

use super::{Format, Parsed};

#[cfg(test)]
mod quick_xml_oracle;

/// The CloudWatch agent's name for a Windows event level number.
pub fn level_name(level: u8) -> &'static str {
    match level {
        1 => "CRITICAL",
        2 => "ERROR",
        3 => "WARNING",
        0 | 4 => "INFORMATION",
        5 => "VERBOSE",
        _ => "UNKNOWN",
    }
}

/// The level number the agent's text format means by a level name (INFORMATION is 4).
fn level_number(name: &str) -> Option<u8> {
    match name {
        "CRITICAL" => Some(1),
        "ERROR" => Some(2),
        "WARNING" => Some(3),
        "INFORMATION" => Some(4),
        "VERBOSE" => Some(5),
        _ => None,
    }
}

/// Collects an element's text, borrowing when it arrives in one unescaped piece.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    fn push(&mut self, piece: Cow<'a, str>) {
        self.0 = Some(match self.0.take() {
            None => piece,
            Some(mut text) => {
                text.to_mut().push_str(&piece);
                text
            }
        });
    }
}

/// Which element's text is being collected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    EventId,
    Level,
    RecordId,
    Channel,
    Computer,
    Message,
    /// `EventData/Data`: one of the event's insertion strings.
    Data,
}

/// Which child of `Event` the reader is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    System,
    EventData,
    RenderingInfo,
    Other,
}

/// The `Data` elements of `EventData`, in order: (its `Name`, or none; its text).
#[derive(Default)]
struct EventData<'a> {
    seen: bool,
    items: Vec<(Option<Cow<'a, str>>, Cow<'a, str>)>,
}

impl EventData<'_> {
    /// The items as a JSON object: each named item under its name (the first of a repeated
    /// name), each unnamed one under its position among the items (`"0"`, `"1"`, …, as
    /// PowerShell's `Properties[i]` numbers them). `None` when the event has no `EventData`.
    fn to_json(&self) -> Option<String> {
        if !self.seen {
            return None;
        }
        let mut out = Vec::with_capacity(64);
        out.push(b'{');
        // Events carry a few dozen items at most: a scan of the earlier ones finds a repeated
        // key without a set.
        let mut digits = itoa::Buffer::new();
        let mut earlier_digits = itoa::Buffer::new();
        let mut written = 0;
        for (position, (name, value)) in self.items.iter().enumerate() {
            let key: &str = match name {
                Some(name) => name,
                None => digits.format(position),
            };
            let repeated =
                self.items[..position]
                    .iter()
                    .enumerate()
                    .any(|(earlier, (earlier_name, _))| match earlier_name {
                        Some(earlier_name) => earlier_name == key,
                        None => earlier_digits.format(earlier) == key,
                    });
            if repeated {
                continue;
            }
            if written > 0 {
                out.push(b',');
            }
            crate::etl::json_out::string(&mut out, key);
            out.push(b':');
            crate::etl::json_out::string(&mut out, value);
            written += 1;
        }
        out.push(b'}');
        String::from_utf8(out).ok()
    }
}

/// Parses a rendered Event XML record, or returns `None` when it is not well-formed XML with
/// an `Event/System` element (or not XML that [`event_xml`] reads).
pub fn parse_xml(xml: &str) -> Option<Parsed<'_>> {
    let mut tokens = event_xml::Tokens::new(xml);
    parse_tokens(|| tokens.next_token())
}

/// The Windows columns of an event's XML, read from its tokens (`next` gives `None` when the
/// XML cannot be read).
fn parse_tokens<'a, T: XmlTag<'a>>(
    mut next: impl FnMut() -> Option<Token<'a, T>>,
) -> Option<Parsed<'a>> {
    // How deep the reader is (1: inside `Event`) and under which of `Event`'s children.
    let (mut depth, mut section) = (0_usize, Section::Other);
    let mut parsed = Parsed {
        format: Some(Format::WindowsXml),
        ..Parsed::default()
    };
    let (mut saw_system, mut field, mut text) = (false, None::<Field>, Text::default());
    let (mut data, mut data_name) = (EventData::default(), None);
    loop {
        match next()? {
            Token::Start(tag) => {
                let name = tag.local_name();
                field = field_for(depth, section, name);
                text = Text::default();
                if depth == 1 {
                    section = match name {
                        "System" => Section::System,
                        "EventData" => Section::EventData,
                        "RenderingInfo" => Section::RenderingInfo,
                        _ => Section::Other,
                    };
                    saw_system |= section == Section::System;
                    data.seen |= section == Section::EventData;
                }
                if field == Some(Field::Data) {
                    data_name = tag.attribute("Name");
                }
                depth += 1;
            }
            Token::Empty(tag) => {
                let name = tag.local_name();
                let in_system = depth == 2 && section == Section::System;
                if in_system && name == "Provider" {
                    parsed.win_provider = tag.attribute("Name");
                } else if in_system && name == "TimeCreated" {
                    parsed.win_time_created = tag.attribute("SystemTime");
                } else if depth == 1 && name == "EventData" {
                    data.seen = true;
                } else if field_for(depth, section, name) == Some(Field::Data) {
                    data.items.push((tag.attribute("Name"), Cow::Borrowed("")));
                }
            }
            Token::Text(piece) | Token::CData(piece) if field.is_some() => {
                text.push(piece);
            }
            Token::Reference(name) if field.is_some() => {
                text.push(event_xml::resolve_reference(&name));
            }
            Token::End => {
                match field.take() {
                    Some(Field::Data) => data
                        .items
                        .push((data_name.take(), text.0.take().unwrap_or_default())),
                    Some(done) => store(&mut parsed, done, text.0.take()),
                    None => {}
                }
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    section = Section::Other;
                }
            }
            Token::Eof => break,
            _ => {}
        }
    }
    if !saw_system || depth != 0 {
        return None;
    }
    parsed.win_level_name = parsed.win_level.map(|l| Cow::Borrowed(level_name(l)));
    parsed.win_event_data = data.to_json().map(Cow::Owned);
    Some(parsed)
}

/// The field an element at `depth` under `section` holds, by its local name.
fn field_for(depth: usize, section: Section, name: &str) -> Option<Field> {
    if depth != 2 {
        return None;
    }
    match (section, name) {
        (Section::System, "EventID") => Some(Field::EventId),
        (Section::System, "Level") => Some(Field::Level),
        (Section::System, "EventRecordID") => Some(Field::RecordId),
        (Section::System, "Channel") => Some(Field::Channel),
        (Section::System, "Computer") => Some(Field::Computer),
        (Section::RenderingInfo, "Message") => Some(Field::Message),
        (Section::EventData, "Data") => Some(Field::Data),
        _ => None,
    }
}

fn store<'a>(parsed: &mut Parsed<'a>, field: Field, text: Option<Cow<'a, str>>) {
    let Some(text) = text else { return };
    match field {
        Field::EventId => parsed.win_event_id = text.trim().parse().ok(),
        Field::Level => parsed.win_level = text.trim().parse().ok(),
        Field::RecordId => parsed.win_record_id = text.trim().parse().ok(),
        Field::Channel => parsed.win_channel = Some(text),
        Field::Computer => parsed.win_computer = Some(text),
        Field::Message => parsed.win_message = Some(text),
        Field::Data => {}
    }
}

/// Parses the agent's text format `[Channel] [LEVEL] [EventID] [Provider] [Computer] [Message]`.
/// The message is everything between the sixth `[` and the final `]`, newlines included.
pub fn parse_text(line: &str) -> Option<Parsed<'_>> {
    let mut rest = line;
    let mut fields: [&str; 5] = [""; 5];
    for slot in &mut fields {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find("] ")?;
        *slot = &inner[..end];
        rest = &inner[end + 2..];
    }
    let message = rest.strip_prefix('[')?.strip_suffix(']')?;
    let [channel, level, event_id, provider, computer] = fields;
    let event_id = event_id.parse().ok()?;
    Some(Parsed {
        format: Some(Format::WindowsText),
        win_event_id: Some(event_id),
        win_provider: Some(Cow::Borrowed(provider)),
        win_level: level_number(level),
        win_level_name: Some(Cow::Borrowed(level)),
        win_channel: Some(Cow::Borrowed(channel)),
        win_computer: Some(Cow::Borrowed(computer)),
        win_message: Some(Cow::Borrowed(message)),
        ..Parsed::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE_STARTED: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Service Control Manager' Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' EventSourceName='Service Control Manager'/><EventID Qualifiers='16384'>7036</EventID><Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords><TimeCreated SystemTime='2021-11-11T21:29:54.1234567Z'/><EventRecordID>4213</EventRecordID><Correlation/><Execution ProcessID='636' ThreadID='4400'/><Channel>System</Channel><Computer>EC2AMAZ-4ID9K2C</Computer><Security/></System><EventData><Data Name='param1'>Windows Update</Data><Data Name='param2'>running</Data></EventData><RenderingInfo Culture='en-US'><Message>The Windows Update service entered the running state.</Message><Level>Information</Level><Task></Task><Opcode></Opcode><Channel>System</Channel><Provider>Microsoft-Windows-Service Control Manager</Provider><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo></Event>";

    #[test]
    fn xml_system_fields_and_message() {
        let x = parse_xml(SERVICE_STARTED).unwrap();
        assert_eq!(x.format, Some(Format::WindowsXml));
        assert_eq!(x.win_event_id, Some(7036));
        assert_eq!(x.win_provider.as_deref(), Some("Service Control Manager"));
        assert_eq!(x.win_level, Some(4));
        assert_eq!(x.win_level_name.as_deref(), Some("INFORMATION"));
        assert_eq!(x.win_channel.as_deref(), Some("System"));
        assert_eq!(x.win_computer.as_deref(), Some("EC2AMAZ-4ID9K2C"));
        assert_eq!(x.win_record_id, Some(4213));
        assert_eq!(
            x.win_time_created.as_deref(),
            Some("2021-11-11T21:29:54.1234567Z")
        );
        assert_eq!(
            x.win_message.as_deref(),
            Some("The Windows Update service entered the running state.")
        );
    }

    #[test]
    fn xml_entities_are_unescaped_and_nested_levels_ignored() {
        let xml = "<Event xmlns='x'><System><Provider Name='A &amp; B'/><EventID>1</EventID><Level>0</Level><Channel>Security</Channel><Computer>c</Computer></System><RenderingInfo><Message>a &lt;b&gt; &#233;\r\nline 2</Message><Level>Information</Level></RenderingInfo></Event>";
        let x = parse_xml(xml).unwrap();
        assert_eq!(x.win_provider.as_deref(), Some("A & B"));
        assert_eq!(
            x.win_level,
            Some(0),
            "RenderingInfo/Level must not override System/Level"
        );
        assert_eq!(x.win_level_name.as_deref(), Some("INFORMATION"));
        assert_eq!(x.win_message.as_deref(), Some("a <b> \u{e9}\r\nline 2"));
    }

    #[test]
    fn event_data_becomes_a_json_object_by_name_or_position() {
        let x = parse_xml(SERVICE_STARTED).unwrap();
        assert_eq!(
            x.win_event_data.as_deref(),
            Some(r#"{"param1":"Windows Update","param2":"running"}"#)
        );
        let xml = "<Event xmlns='x'><System><EventID>4625</EventID></System><EventData><Data Name='IpAddress'>203.0.113.5</Data><Data>unnamed &amp; \"quoted\"</Data><Data Name='Empty'/><Data Name='IpAddress'>again</Data></EventData></Event>";
        let x = parse_xml(xml).unwrap();
        assert_eq!(
            x.win_event_data.as_deref(),
            Some(r#"{"IpAddress":"203.0.113.5","1":"unnamed & \"quoted\"","Empty":""}"#),
            "named by name, unnamed by position, the first of a repeated name"
        );
        let value: serde_json::Value =
            serde_json::from_str(x.win_event_data.as_deref().unwrap_or_default()).unwrap();
        assert_eq!(value["IpAddress"], "203.0.113.5");
        let none = "<Event xmlns='x'><System><EventID>1</EventID></System></Event>";
        assert_eq!(
            parse_xml(none).unwrap().win_event_data,
            None,
            "no EventData, null"
        );
        let empty = "<Event xmlns='x'><System><EventID>1</EventID></System><EventData/></Event>";
        assert_eq!(
            parse_xml(empty).unwrap().win_event_data.as_deref(),
            Some("{}")
        );
    }

    #[test]
    fn malformed_xml_is_not_parsed() {
        for xml in [
            "<Event><System><EventID>1</EventID>",
            "<Event><NoSystem/></Event>",
            "<Event><System></Sys></Event>",
            "<Eventually",
        ] {
            assert_eq!(parse_xml(xml), None, "{xml}");
        }
    }

    #[test]
    fn agent_text_format() {
        let line = "[System] [INFORMATION] [7036] [Service Control Manager] [EC2AMAZ-4ID9K2C] [The Windows Update service entered the running state.\r\n[more] text]";
        let x = parse_text(line).unwrap();
        assert_eq!(x.format, Some(Format::WindowsText));
        assert_eq!(x.win_channel.as_deref(), Some("System"));
        assert_eq!(x.win_level, Some(4));
        assert_eq!(x.win_level_name.as_deref(), Some("INFORMATION"));
        assert_eq!(x.win_event_id, Some(7036));
        assert_eq!(x.win_provider.as_deref(), Some("Service Control Manager"));
        assert_eq!(x.win_computer.as_deref(), Some("EC2AMAZ-4ID9K2C"));
        assert_eq!(
            x.win_message.as_deref(),
            Some("The Windows Update service entered the running state.\r\n[more] text")
        );
        assert_eq!(
            parse_text("[System] [INFORMATION] [notanumber] [p] [c] [m]"),
            None
        );
        assert_eq!(parse_text("[just brackets]"), None);
    }

    /// The fixtures' events (rendered as the agent ships them) parse as quick-xml parsed them.
    #[test]
    fn fixture_events_parse_as_with_quick_xml() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/cloudwatch-logs/payloads");
        let mut checked = 0;
        for name in [
            "windows-system-xml.json",
            "windows-application-xml.json",
            "windows-security-xml.json",
        ] {
            let payload: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap();
            for event in payload["logEvents"].as_array().unwrap() {
                let xml = event["message"].as_str().unwrap();
                let parsed = parse_xml(xml);
                assert!(parsed.is_some(), "{name}: not parsed");
                assert_eq!(
                    parsed,
                    quick_xml_oracle::parse_xml_with_quick_xml(xml),
                    "{name}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 3);
        assert_eq!(
            parse_xml(SERVICE_STARTED),
            quick_xml_oracle::parse_xml_with_quick_xml(SERVICE_STARTED)
        );
    }

    mod against_quick_xml {
        use proptest::prelude::*;

        use super::super::quick_xml_oracle::parse_xml_with_quick_xml;
        use super::super::*;

        /// Character data: plain text, whitespace, references (known, numeric, unknown),
        /// CDATA, a comment, a processing instruction.
        fn text() -> impl Strategy<Value = String> {
            prop::collection::vec(
                prop_oneof![
                    4 => "[a-zA-Z0-9 .:/{}\t\r\n'\"-]{0,12}",
                    1 => prop::sample::select(vec!["&lt;", "&amp;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x1F680;", "&bogus;", "&#xD800;"]).prop_map(str::to_owned),
                    1 => "<!\\[CDATA\\[[a-z<>&]{0,8}\\]\\]>",
                    1 => prop::sample::select(vec!["<!-- note -->", "<?pi data?>", "<b>x</b>", "<i/>"]).prop_map(str::to_owned),
                ],
                0..4,
            )
            .prop_map(|pieces| pieces.concat())
        }

        /// An attribute value in either quote, with what normalization changes.
        fn attribute(name: &'static str) -> impl Strategy<Value = String> {
            (
                prop_oneof![Just('\''), Just('"')],
                prop::collection::vec(prop_oneof![
                    4 => "[a-zA-Z0-9 ./{}>-]{0,8}",
                    1 => prop::sample::select(vec!["&amp;", "&#10;", "\t", "\r\n", "&bad;"]).prop_map(str::to_owned),
                ], 0..3),
                prop_oneof![Just(" "), Just("  "), Just("\n")],
            )
                .prop_map(move |(quote, value, space)| format!("{space}{name}={quote}{}{quote}", value.concat().replace(quote, "")))
        }

        /// An element `name` with text, maybe prefixed, maybe with spaces in its tags.
        fn element(
            name: &'static str,
            attributes: BoxedStrategy<String>,
        ) -> impl Strategy<Value = String> {
            (
                attributes,
                text(),
                any::<bool>(),
                prop_oneof![Just(""), Just(" "), Just("\t")],
                prop_oneof![Just(""), Just("e:")],
            )
                .prop_map(move |(attributes, text, empty, space, prefix)| {
                    if empty && text.is_empty() {
                        format!("<{prefix}{name}{attributes}{space}/>")
                    } else {
                        format!("<{prefix}{name}{attributes}{space}>{text}</{prefix}{name}{space}>")
                    }
                })
        }

        fn none() -> BoxedStrategy<String> {
            Just(String::new()).boxed()
        }

        /// Events shaped as Windows renders them: System, EventData, RenderingInfo, in any
        /// order, some elements missing or repeated.
        fn event() -> impl Strategy<Value = String> {
            let number = || prop_oneof![3 => "[0-9]{1,6}", 1 => text()].boxed();
            let system = prop::collection::vec(
                prop_oneof![
                    (attribute("Name"), attribute("Guid"))
                        .prop_map(|(n, g)| format!("<Provider{n}{g}/>")),
                    number().prop_map(|n| format!("<EventID Qualifiers='0'>{n}</EventID>")),
                    number().prop_map(|n| format!("<Level>{n}</Level>")),
                    number().prop_map(|n| format!("<EventRecordID>{n}</EventRecordID>")),
                    attribute("SystemTime").prop_map(|t| format!("<TimeCreated{t}/>")),
                    element("Channel", none()),
                    element("Computer", none()),
                    Just("<Security/>".to_owned()),
                ],
                0..9,
            );
            let data = prop::collection::vec(
                prop_oneof![
                    element("Data", attribute("Name").boxed()),
                    element("Data", none()),
                    element("Binary", none())
                ],
                0..5,
            );
            let rendering = prop::collection::vec(
                prop_oneof![element("Message", none()), element("Level", none())],
                0..3,
            );
            (system, data, rendering, any::<bool>(), prop::sample::select(vec!["'", "\""]))
                .prop_map(|(system, data, rendering, empty_data, quote)| {
                    let data = if empty_data && data.is_empty() { "<EventData/>".to_owned() } else { format!("<EventData>{}</EventData>", data.concat()) };
                    format!(
                        "<Event xmlns={quote}http://schemas.microsoft.com/win/2004/08/events/event{quote}><System>{}</System>{data}<RenderingInfo Culture='en-US'>{}</RenderingInfo></Event>",
                        system.concat(),
                        rendering.concat()
                    )
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// On well-formed events, the token reader's parser gives quick-xml's result; on
            /// damaged ones it gives quick-xml's result or none.
            #[test]
            fn parses_as_quick_xml_does(xml in event(), cut in any::<prop::sample::Index>(), byte in prop::sample::select(b"<>/&;'\"= x!?-[]".to_vec())) {
                let ours = parse_xml(&xml);
                prop_assert_eq!(&ours, &parse_xml_with_quick_xml(&xml), "{}", xml);
                let mut damaged = xml.clone().into_bytes();
                damaged[cut.index(xml.len())] = byte;
                if let Ok(damaged) = String::from_utf8(damaged)
                    && let Some(ours) = parse_xml(&damaged)
                {
                    prop_assert_eq!(Some(ours), parse_xml_with_quick_xml(&damaged), "{}", damaged);
                }
                let cut_short = &xml[..xml.floor_char_boundary(cut.index(xml.len()))];
                if let Some(ours) = parse_xml(cut_short) {
                    prop_assert_eq!(Some(ours), parse_xml_with_quick_xml(cut_short), "{}", cut_short);
                }
            }
        }
    }
}
