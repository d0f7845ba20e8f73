//! The tokens of a rendered Windows event's XML, read without a general XML parser's
//! per-token costs.
//!
//! The CloudWatch agent ships a Windows event, with `event_format = "xml"`, as the event's
//! rendered XML on one line: `Event` with `System`, `EventData` and `RenderingInfo`, elements,
//! attributes in single or double quotes, text with entity and character references. This
//! reader takes that much XML: start, end and empty tags (end tags checked against their
//! start), attributes, text, references, CDATA sections, comments and processing
//! instructions. It gives up (`None`) on everything else (a document type declaration, a
//! dangling `&`, a tag without a name or an end, an end tag that closes nothing or another
//! element), and then the event is not parsed: its row keeps the message and no Windows
//! columns, as with any message no parser recognises.
//!
//! What a token means is quick-xml's meaning (the reader this replaced): references and
//! attribute values are resolved by quick-xml's own functions, and the parser built on these
//! tokens gives quick-xml's results wherever it gives one (`windows::tests`, against the
//! quick-xml implementation kept as the oracle).

use std::borrow::Cow;

/// One token of the XML; `T` is what a start or empty tag is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a, T = Tag<'a>> {
    /// `<name attributes>`.
    Start(T),
    /// `<name attributes/>`.
    Empty(T),
    /// Character data up to the next markup or reference, as written.
    Text(Cow<'a, str>),
    /// The contents of `<![CDATA[...]]>`.
    CData(Cow<'a, str>),
    /// `&name;`: the name between `&` and `;`.
    Reference(Cow<'a, str>),
    /// An end tag (checked against its start tag).
    End,
    /// The end of the text.
    Eof,
}

/// What the Windows parser asks of a start or empty tag.
pub trait XmlTag<'a> {
    /// The local name (after the first `:` of a prefixed name).
    fn local_name(&self) -> &str;
    /// The value of the attribute named `key`, normalized as XML 1.0 says; `None` when absent
    /// or unreadable.
    fn attribute(&self, key: &str) -> Option<Cow<'a, str>>;
}

/// A start or empty tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// The local name (after the first `:` of a prefixed name).
    pub name: &'a str,
    /// The raw text between the name and the tag's end.
    pub attributes: &'a str,
}

impl<'a> XmlTag<'a> for Tag<'a> {
    fn local_name(&self) -> &str {
        self.name
    }

    fn attribute(&self, key: &str) -> Option<Cow<'a, str>> {
        Tag::attribute(self, key)
    }
}

impl<'a> Tag<'a> {
    /// The value of the attribute named `key` (compared whole, prefix included), normalized
    /// as XML 1.0 says (references resolved, `\t`, `\r`, `\n` as spaces; by quick-xml when
    /// there is anything to normalize). `None` when absent, or when the attributes before it
    /// are malformed or repeat a name.
    pub fn attribute(&self, key: &str) -> Option<Cow<'a, str>> {
        let mut rest = self.attributes;
        let mut seen: Vec<&str> = Vec::new();
        loop {
            // Each attribute follows whitespace.
            let trimmed = rest.trim_start_matches(is_xml_space);
            if trimmed.len() == rest.len() || trimmed.is_empty() {
                return None;
            }
            let name_len = trimmed
                .bytes()
                .position(|b| b == b'=' || is_xml_space_byte(b))?;
            let (name, after_name) = trimmed.split_at(name_len);
            let after_equals = after_name
                .trim_start_matches(is_xml_space)
                .strip_prefix('=')?;
            let quoted = after_equals.trim_start_matches(is_xml_space);
            let quote = quoted.bytes().next().filter(|&b| b == b'"' || b == b'\'')?;
            let value_len = memchr::memchr(quote, &quoted.as_bytes()[1..])?;
            let value = &quoted[1..=value_len];
            if name.is_empty() || seen.contains(&name) {
                return None;
            }
            if name == key {
                return normalized(name, value);
            }
            seen.push(name);
            rest = &quoted[value_len + 2..];
        }
    }
}

/// An attribute value normalized as XML 1.0 says, by quick-xml when it needs any change.
fn normalized<'a>(key: &'a str, value: &'a str) -> Option<Cow<'a, str>> {
    if !value.contains(['&', '\t', '\r', '\n']) {
        return Some(Cow::Borrowed(value));
    }
    let attribute = quick_xml::events::attributes::Attribute {
        key: quick_xml::name::QName(key),
        value: Cow::Borrowed(value),
    };
    let normalized = attribute
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()?;
    Some(Cow::Owned(normalized.into_owned()))
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_xml_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Reads the tokens of one XML text in order.
#[derive(Debug)]
pub struct Tokens<'a> {
    xml: &'a str,
    at: usize,
    /// The qualified names of the open elements, innermost last.
    open: Vec<&'a str>,
}

impl<'a> Tokens<'a> {
    /// The tokens of `xml` (a UTF-8 byte order mark at its start skipped, as quick-xml does).
    pub fn new(xml: &'a str) -> Self {
        Self {
            at: if xml.starts_with('\u{feff}') { 3 } else { 0 },
            xml,
            open: Vec::with_capacity(8),
        }
    }

    /// The next token, or `None` when the XML is not in the form this reader takes.
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        let rest = &self.xml[self.at..];
        let Some(stop) = memchr::memchr2(b'<', b'&', rest.as_bytes()) else {
            self.at = self.xml.len();
            return Some(if rest.is_empty() {
                Token::Eof
            } else {
                Token::Text(Cow::Borrowed(rest))
            });
        };
        if stop > 0 {
            self.at += stop;
            return Some(Token::Text(Cow::Borrowed(&rest[..stop])));
        }
        if rest.starts_with('&') {
            return self.reference(rest);
        }
        self.markup(rest)
    }

    /// `&name;` (quick-xml refuses a `&` that another `&` or markup follows before a `;`).
    fn reference(&mut self, rest: &'a str) -> Option<Token<'a>> {
        let end = 1 + memchr::memchr3(b';', b'&', b'<', &rest.as_bytes()[1..])?;
        if rest.as_bytes()[end] != b';' {
            return None;
        }
        self.at += end + 1;
        Some(Token::Reference(Cow::Borrowed(&rest[1..end])))
    }

    fn markup(&mut self, rest: &'a str) -> Option<Token<'a>> {
        let (token, len) = if let Some(comment) = rest.strip_prefix("<!--") {
            (None, 4 + comment.find("-->")? + 3)
        } else if let Some(data) = rest.strip_prefix("<![CDATA[") {
            let end = data.find("]]>")?;
            (Some(Token::CData(Cow::Borrowed(&data[..end]))), 9 + end + 3)
        } else if rest.starts_with("<!") {
            return None;
        } else if let Some(instruction) = rest.strip_prefix("<?") {
            // A processing instruction starts with its target, a name (XML 1.0, [16]).
            let target = instruction.chars().next()?;
            if is_xml_space(target) || matches!(target, '?' | '>') {
                return None;
            }
            (None, 2 + instruction.find("?>")? + 2)
        } else if let Some(end_tag) = rest.strip_prefix("</") {
            let close = memchr::memchr(b'>', end_tag.as_bytes())?;
            let name = end_tag[..close].trim_end_matches(is_xml_space);
            if self.open.pop()? != name {
                return None;
            }
            (Some(Token::End), 2 + close + 1)
        } else {
            let close = tag_end(rest)?;
            let inside = &rest[1..close];
            let (inside, empty) = match inside.strip_suffix('/') {
                Some(inside) => (inside, true),
                None => (inside, false),
            };
            let name_len = inside
                .bytes()
                .position(is_xml_space_byte)
                .unwrap_or(inside.len());
            let (name, attributes) = inside.split_at(name_len);
            if name.is_empty() {
                return None;
            }
            let local =
                memchr::memchr(b':', name.as_bytes()).map_or(name, |colon| &name[colon + 1..]);
            let tag = Tag {
                name: local,
                attributes,
            };
            if empty {
                (Some(Token::Empty(tag)), close + 1)
            } else {
                self.open.push(name);
                (Some(Token::Start(tag)), close + 1)
            }
        };
        self.at += len;
        match token {
            Some(token) => Some(token),
            // A comment or processing instruction: nothing for the parser.
            None => self.next_token(),
        }
    }
}

/// The offset of the `>` that ends the tag starting at `tag[0]` (`>` inside a quoted
/// attribute value does not end it).
fn tag_end(tag: &str) -> Option<usize> {
    let bytes = tag.as_bytes();
    let mut at = 1;
    loop {
        at += memchr::memchr3(b'>', b'"', b'\'', &bytes[at..])?;
        let quote = bytes[at];
        if quote == b'>' {
            return Some(at);
        }
        at += 1 + memchr::memchr(quote, &bytes[at + 1..])? + 1;
    }
}

/// The text a reference stands for, as quick-xml resolves it (XML's predefined entities and
/// character references); an unknown one as written.
pub fn resolve_reference(name: &str) -> Cow<'static, str> {
    let written = format!("&{name};");
    match quick_xml::escape::unescape(&written) {
        Ok(resolved) => Cow::Owned(resolved.into_owned()),
        Err(_) => Cow::Owned(written),
    }
}
