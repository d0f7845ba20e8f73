//! quick-xml's event reader as a source of [`Token`]s, for tests only: the oracle the token
//! reader of [`super::event_xml`] is checked against. quick-xml is a general XML reader; run
//! through the same parser, wherever the token reader gives a result it must be quick-xml's.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

use super::{Parsed, Token, XmlTag, parse_tokens};

/// [`super::parse_xml`] with quick-xml reading the XML.
pub fn parse_xml_with_quick_xml(xml: &str) -> Option<Parsed<'_>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    parse_tokens(|| {
        loop {
            return Some(match reader.read_event().ok()? {
                Event::Start(e) => Token::Start(e),
                Event::Empty(e) => Token::Empty(e),
                Event::Text(e) => Token::Text(e.into_inner()),
                Event::CData(e) => Token::CData(e.into_inner()),
                Event::GeneralRef(e) => Token::Reference(e.into_inner()),
                Event::End(_) => Token::End,
                Event::Eof => Token::Eof,
                // Declarations, comments, processing instructions: nothing for the parser.
                _ => continue,
            });
        }
    })
}

impl<'a> XmlTag<'a> for BytesStart<'a> {
    fn local_name(&self) -> &str {
        BytesStart::local_name(self).into_inner()
    }

    fn attribute(&self, key: &str) -> Option<Cow<'a, str>> {
        let attr = self.try_get_attribute(key).ok()??;
        attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .ok()
            .map(|v| Cow::Owned(v.into_owned()))
    }
}
