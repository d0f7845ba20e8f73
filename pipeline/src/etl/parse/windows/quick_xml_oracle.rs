//! The Windows XML parser as it was written on quick-xml's event reader, kept (for tests only)
//! as the oracle for the parser on [`super::event_xml`]'s tokens: quick-xml is a general XML
//! reader, and wherever the token reader gives a result it must be quick-xml's.

use std::borrow::Cow;

use quick_xml::events::Event;

use super::{EventData, Field, Format, Parsed, Section, Text, field_for, level_name, store};

/// [`super::parse_xml`] as it was written on quick-xml's reader: the oracle the token reader's
/// results are checked against.
pub fn parse_xml_with_quick_xml(xml: &str) -> Option<Parsed<'_>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    // How deep the reader is (1: inside `Event`) and under which of `Event`'s children.
    let (mut depth, mut section) = (0_usize, Section::Other);
    let mut parsed = Parsed {
        format: Some(Format::WindowsXml),
        ..Parsed::default()
    };
    let (mut saw_system, mut field, mut text) = (false, None::<Field>, Text::default());
    let (mut data, mut data_name) = (EventData::default(), None);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let local = e.local_name();
                let name = local.as_ref();
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
                    data_name = attribute(&e, "Name");
                }
                depth += 1;
            }
            Event::Empty(e) => {
                let local = e.local_name();
                let name = local.as_ref();
                let in_system = depth == 2 && section == Section::System;
                if in_system && name == "Provider" {
                    parsed.win_provider = attribute(&e, "Name");
                } else if in_system && name == "TimeCreated" {
                    parsed.win_time_created = attribute(&e, "SystemTime");
                } else if depth == 1 && name == "EventData" {
                    data.seen = true;
                } else if field_for(depth, section, name) == Some(Field::Data) {
                    data.items.push((attribute(&e, "Name"), Cow::Borrowed("")));
                }
            }
            Event::Text(e) if field.is_some() => text.push(e.into_inner()),
            Event::CData(e) if field.is_some() => {
                text.push(e.into_inner());
            }
            Event::GeneralRef(e) if field.is_some() => {
                let name = e.into_inner();
                let resolved = quick_xml::escape::unescape(&format!("&{name};"))
                    .map(Cow::into_owned)
                    .unwrap_or_else(|_| format!("&{name};"));
                text.push(Cow::Owned(resolved));
            }
            Event::End(_) => {
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
            Event::Eof => break,
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

fn attribute<'a>(e: &quick_xml::events::BytesStart<'a>, name: &str) -> Option<Cow<'a, str>> {
    let attr = e.try_get_attribute(name).ok()??;
    attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()
        .map(|v| Cow::Owned(v.into_owned()))
}
