//! The evaluator: whether a log event's message matches a parsed pattern.

use serde_json::Value;

use super::{
    CompareOp, DelimitedPattern, FieldCompare, FieldCondition, JsonExpr, JsonTerm, Literal,
    Pattern, Selector, SelectorStep, Slot, TermPattern, ValueTest,
};

pub(super) fn matches(pattern: &Pattern, message: &str) -> bool {
    match pattern {
        Pattern::MatchAll => true,
        Pattern::Terms(terms) => terms_match(terms, message),
        Pattern::Regex(regex) => regex.is_match(message),
        Pattern::Json(expr) => match serde_json::from_str::<Value>(message.trim()) {
            Ok(value) => json_holds(expr, &value),
            Err(_) => false,
        },
        Pattern::Delimited(pattern) => delimited_match(pattern, message),
    }
}

fn terms_match(terms: &TermPattern, message: &str) -> bool {
    terms.required.iter().all(|t| message.contains(t.as_str()))
        && !terms.excluded.iter().any(|t| message.contains(t.as_str()))
        && (terms.any_of.is_empty() || terms.any_of.iter().any(|t| message.contains(t.as_str())))
}

/// A term holds when any value its selector selects satisfies it (a selector without a
/// wildcard selects at most one); `NOT EXISTS` when it selects none.
fn json_holds(expr: &JsonExpr, root: &Value) -> bool {
    expr.holds(&|term| match term {
        JsonTerm::Test { selector, test } => {
            let found = select(root, selector);
            match test {
                ValueTest::True => found.contains(&&Value::Bool(true)),
                ValueTest::False => found.contains(&&Value::Bool(false)),
                ValueTest::Null => found.contains(&&Value::Null),
                ValueTest::NotExists => found.is_empty(),
            }
        }
        JsonTerm::Compare {
            selector,
            op,
            value,
        } => select(root, selector)
            .into_iter()
            .any(|found| json_compare(found, *op, value)),
    })
}

/// Every value the selector reaches.
fn select<'v>(root: &'v Value, selector: &Selector) -> Vec<&'v Value> {
    let mut current = vec![root];
    for step in &selector.steps {
        current = current
            .into_iter()
            .flat_map(|value| -> Vec<&'v Value> {
                match step {
                    SelectorStep::Key(key) => value.get(key.as_str()).into_iter().collect(),
                    SelectorStep::Index(i) => value
                        .as_array()
                        .and_then(|a| a.get(*i))
                        .into_iter()
                        .collect(),
                    SelectorStep::AnyKey => value
                        .as_object()
                        .map(|o| o.values().collect())
                        .unwrap_or_default(),
                    SelectorStep::AnyIndex => value
                        .as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
    }
    current
}

fn json_compare(found: &Value, op: CompareOp, literal: &Literal) -> bool {
    match found {
        Value::Number(n) => match n.as_f64() {
            Some(n) => number_compare(n, op, literal),
            None => false,
        },
        Value::String(s) => text_compare(s, op, literal),
        Value::Bool(b) => text_compare(if *b { "true" } else { "false" }, op, literal),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// Compares a field that is a number. A text literal (possibly with `*`) is compared with the
/// number's written form, so `4*` matches 404.
fn number_compare(n: f64, op: CompareOp, literal: &Literal) -> bool {
    match literal {
        Literal::Number(m) => match op {
            CompareOp::Eq => n == *m,
            CompareOp::Ne => n != *m,
            CompareOp::Lt => n < *m,
            CompareOp::Le => n <= *m,
            CompareOp::Gt => n > *m,
            CompareOp::Ge => n >= *m,
        },
        Literal::Text(_) | Literal::Regex(_) => text_compare(&format_number(n), op, literal),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// Compares a field that is text. A number literal matches text that parses to that number.
fn text_compare(s: &str, op: CompareOp, literal: &Literal) -> bool {
    let equal = match literal {
        Literal::Text(glob) => glob_match(glob, s),
        Literal::Regex(regex) => regex.is_match(s),
        Literal::Number(_) => {
            return match s.trim().parse::<f64>() {
                Ok(n) => number_compare(n, op, literal),
                // Text that is not a number is unequal to every number, and unordered.
                Err(_) => op == CompareOp::Ne,
            };
        }
    };
    match op {
        CompareOp::Eq => equal,
        CompareOp::Ne => !equal,
        // Ordering operators only take numbers (the parser enforces it).
        CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge => false,
    }
}

/// `*` matches any run of characters (including none); everything else is literal.
pub(super) fn glob_match(glob: &str, text: &str) -> bool {
    let mut parts = glob.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty(); // no `*` at all: exact match
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Splits a message into space-delimited fields: runs of spaces separate fields, and text in
/// `"..."` or `[...]` is one field (without the quotes or brackets).
#[cfg(test)]
pub(super) fn split_fields(message: &str) -> Vec<&str> {
    split_fields_at(message)
        .into_iter()
        .map(|(_, f)| f)
        .collect()
}

/// [`split_fields`] with the byte offset where each field's text begins.
fn split_fields_at(message: &str) -> Vec<(usize, &str)> {
    let mut fields = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            i += 1;
            continue;
        }
        let close = match bytes[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close
            && let Some(len) = bytes[i + 1..].iter().position(|&b| b == close)
        {
            fields.push((i, &message[i + 1..i + 1 + len]));
            i += len + 2;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
            i += 1;
        }
        fields.push((start, &message[start..i]));
    }
    fields
}

fn delimited_match(pattern: &DelimitedPattern, message: &str) -> bool {
    let message = message.trim_end_matches(['\n', '\r']);
    let Some(named) = name_fields(&pattern.slots, message) else {
        return false;
    };
    pattern
        .conditions
        .iter()
        .all(|condition| field_condition_holds(condition, &named))
}

/// The named fields' values, when the message's fields line up with the pattern.
pub(super) fn delimited_fields(
    pattern: &DelimitedPattern,
    message: &str,
) -> Option<Vec<(String, String)>> {
    let message = message.trim_end_matches(['\n', '\r']);
    let named = name_fields(&pattern.slots, message)?;
    Some(
        named
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    )
}

/// Pairs each named slot with its field; `None` when the event has fewer fields than the
/// pattern names. Without `...`, an event with more fields than the pattern gives the last
/// field the rest of the event, from where that field begins (AWS's `[w1=ERROR, w2]` example).
fn name_fields<'p, 'm>(slots: &'p [Slot], message: &'m str) -> Option<Vec<(&'p str, &'m str)>> {
    let located = split_fields_at(message);
    let mut fields: Vec<&str> = located.iter().map(|&(_, f)| f).collect();
    let ellipsis = slots.iter().position(|s| *s == Slot::Ellipsis);
    let named = slots.len() - usize::from(ellipsis.is_some());
    if fields.len() < named || named == 0 && ellipsis.is_none() {
        return None;
    }
    if ellipsis.is_none() && fields.len() > named {
        let (start, _) = located[named - 1];
        fields.truncate(named - 1);
        fields.push(message[start..].trim_end());
    }
    let mut out = Vec::with_capacity(named);
    let after_ellipsis = ellipsis.map_or(0, |e| slots.len() - e - 1);
    for (i, slot) in slots.iter().enumerate() {
        if let Slot::Field(name) = slot {
            let field = match ellipsis {
                Some(e) if i > e => fields[fields.len() - after_ellipsis + (i - e - 1)],
                _ => fields[i],
            };
            out.push((name.as_str(), field));
        }
    }
    Some(out)
}

fn field_condition_holds(condition: &FieldCondition, named: &[(&str, &str)]) -> bool {
    condition.holds(&|FieldCompare { field, op, value }| {
        named
            .iter()
            .find(|(name, _)| name == field)
            .is_some_and(|(_, text)| text_compare(text, *op, value))
    })
}
