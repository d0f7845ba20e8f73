//! How the ledger keeps millions of records in little memory: every text (a record's lines,
//! an event's message when it is not a piece of its record's text) once in one arena, every
//! name (instance, source, stream, reason) interned once and referred to by index, and records
//! and events as fixed-size rows pointing into both. A one-line record that was sent costs
//! its text plus 80 bytes here (48 for the record, 32 for the event), against ~1,100 bytes as
//! owned strings.

use std::collections::HashMap;
use std::sync::Arc;

use foldhash::fast::FixedState;

/// Names interned once, referred to by index.
#[derive(Debug, Default)]
pub(super) struct Names {
    index: HashMap<Arc<str>, u32, FixedState>,
    names: Vec<Arc<str>>,
}

impl Names {
    /// The index of `name`, interning it on first use.
    pub(super) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = to_u32(self.names.len());
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.index.insert(name, id);
        id
    }

    /// The index of `name`, if it was ever interned.
    pub(super) fn find(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name at `id`.
    pub(super) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

/// Who wrote a record: its instance's name and id, and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Writer {
    pub(super) instance: u32,
    pub(super) instance_id: u32,
    pub(super) source: u32,
}

/// A piece of the text arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u64,
    pub(super) len: u32,
}

impl Span {
    pub(super) fn end(self) -> u64 {
        self.start + u64::from(self.len)
    }
}

/// Every text the ledger holds, one after another.
#[derive(Debug, Default)]
pub(super) struct Arena {
    text: String,
}

impl Arena {
    /// Bytes held.
    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    /// Appends `parts` joined by `separator`; returns where they are.
    pub(super) fn push_joined<'a>(
        &mut self,
        parts: impl IntoIterator<Item = &'a str>,
        separator: char,
    ) -> Span {
        let start = self.text.len();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                self.text.push(separator);
            }
            self.text.push_str(part);
        }
        self.span(start)
    }

    /// Appends `text`; returns where it is.
    pub(super) fn push(&mut self, text: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(text);
        self.span(start)
    }

    fn span(&self, start: usize) -> Span {
        Span {
            start: start as u64,
            len: to_u32(self.text.len() - start),
        }
    }

    /// The text at `span`.
    pub(super) fn get(&self, span: Span) -> &str {
        let start = usize::try_from(span.start).unwrap_or(usize::MAX);
        let end = usize::try_from(span.end()).unwrap_or(usize::MAX);
        self.text.get(start..end).unwrap_or("")
    }

    /// Where `text` is in the arena at `at` (within `within`), if it is there.
    pub(super) fn find_at(&self, at: u64, within: Span, text: &str) -> Option<Span> {
        let span = Span {
            start: at,
            len: u32::try_from(text.len()).ok()?,
        };
        (at >= within.start && span.end() <= within.end() && self.get(span) == text).then_some(span)
    }
}

/// What happened to a record, in the ledger's compact form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FateCode {
    Written,
    /// The reason's name.
    NotCollected(u32),
    /// The reason's name.
    Rejected(u32),
    /// The record's events: `count` rows of the event table from `first`.
    Sent {
        first: u32,
        count: u32,
    },
}

/// One record (48 bytes: the span and the optional fields are stored flat, so that no
/// padding hides inside them).
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) timestamp_ms: i64,
    text_start: u64,
    text_len: u32,
    pub(super) lines: u32,
    pub(super) writer: u32,
    event_id: u32,
    pub(super) fate: FateCode,
    level: u8,
    flags: u8,
}

const HAS_EVENT_ID: u8 = 1;
const HAS_LEVEL: u8 = 2;

impl Record {
    pub(super) fn new(
        timestamp_ms: i64,
        text: Span,
        lines: u32,
        writer: u32,
        event_id: Option<u32>,
        level: Option<u8>,
    ) -> Self {
        Self {
            timestamp_ms,
            text_start: text.start,
            text_len: text.len,
            lines,
            writer,
            event_id: event_id.unwrap_or(0),
            fate: FateCode::Written,
            level: level.unwrap_or(0),
            flags: if event_id.is_some() { HAS_EVENT_ID } else { 0 }
                | if level.is_some() { HAS_LEVEL } else { 0 },
        }
    }

    pub(super) fn text(&self) -> Span {
        Span {
            start: self.text_start,
            len: self.text_len,
        }
    }

    pub(super) fn event_id(&self) -> Option<u32> {
        (self.flags & HAS_EVENT_ID != 0).then_some(self.event_id)
    }

    pub(super) fn level(&self) -> Option<u8> {
        (self.flags & HAS_LEVEL != 0).then_some(self.level)
    }
}

/// One event PutLogEvents accepted (40 bytes).
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub(super) timestamp_ms: i64,
    /// When PutLogEvents accepted it, simulated epoch ms (the latency's first stage).
    pub(super) sent_ms: i64,
    message_start: u64,
    message_len: u32,
    pub(super) stream: u32,
    pub(super) record: u32,
    pub(super) restarts_before: u16,
    /// Whether a restart's lost state took the event (the first after it was sent).
    pub(super) lost: bool,
    /// Whether the agent cut the event to its size limit.
    pub(super) truncated: bool,
}

impl Event {
    /// An event of `(timestamp_ms, sent_ms)`.
    pub(super) fn new(
        (timestamp_ms, sent_ms): (i64, i64),
        message: Span,
        stream: u32,
        record: u32,
        restarts_before: u16,
        truncated: bool,
    ) -> Self {
        Self {
            timestamp_ms,
            sent_ms,
            message_start: message.start,
            message_len: message.len,
            stream,
            record,
            restarts_before,
            lost: false,
            truncated,
        }
    }

    pub(super) fn message(&self) -> Span {
        Span {
            start: self.message_start,
            len: self.message_len,
        }
    }
}

/// A count or index as the ledger stores it. The ledger's tables hold at most `u32::MAX` rows
/// and texts of at most `u32::MAX` bytes: 4 billion records would need ~200 GB for the records
/// alone, and no event or record text comes near 4 GB (an event is cut at 256 KB).
pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A restart count as the ledger stores it: at most 65,535 (a restart takes seconds of real
/// time; a run cannot come near).
pub(super) fn to_u16(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_stay_small() {
        assert_eq!(std::mem::size_of::<Record>(), 48);
        assert_eq!(std::mem::size_of::<Event>(), 40);
    }

    #[test]
    fn names_intern_once_and_texts_come_back_whole() {
        let mut names = Names::default();
        let a = names.intern("web-1");
        assert_eq!(names.intern("web-1"), a);
        assert_ne!(names.intern("web-2"), a);
        assert_eq!(names.name(a), "web-1");
        assert_eq!(names.find("web-3"), None);

        let mut arena = Arena::default();
        let joined = arena.push_joined(["a", "bc", ""], '\n');
        let other = arena.push("é");
        assert_eq!(arena.get(joined), "a\nbc\n");
        assert_eq!(arena.get(other), "é");
        assert_eq!(
            arena.find_at(joined.start + 2, joined, "bc"),
            Some(Span { start: 2, len: 2 })
        );
        assert_eq!(arena.find_at(joined.start + 2, joined, "bc\nx"), None);
        assert_eq!(
            arena.find_at(other.start, joined, "é"),
            None,
            "outside the record"
        );
    }
}
