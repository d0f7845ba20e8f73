//! Filter-pattern behaviour: a table of cases from AWS's "Filter pattern syntax" page, the
//! error table, and properties of the parser and evaluator.

use proptest::prelude::*;

use super::eval::{glob_match, split_fields};
use super::{FilterPattern, MAX_FILTER_PATTERN_LEN};

/// The Apache access-log line of AWS's page for space-delimited patterns. The page's examples
/// themselves are rows of `fixtures/aws-conformance/filter-patterns.toml`
/// (`pipeline/tests/integration/filter_pattern_conformance.rs`).
const ACCESS_LOG: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;

fn matches(pattern: &str, event: &str) -> bool {
    FilterPattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .matches(event)
}

#[test]
fn fields_split_on_spaces_quotes_and_brackets() {
    assert_eq!(
        split_fields(ACCESS_LOG),
        [
            "127.0.0.1",
            "-",
            "frank",
            "10/Oct/2000:13:25:15 -0700",
            "GET /apache_pb.gif HTTP/1.0",
            "200",
            "1534"
        ]
    );
    assert_eq!(split_fields("  a   b "), ["a", "b"]);
    assert_eq!(split_fields("\"unclosed quote"), ["\"unclosed", "quote"]);
}

#[test]
fn errors_name_position_and_remedy() {
    let table = [
        ("ERROR:", 6, "put the term in double quotes"),
        ("\"open", 1, "never closed"),
        ("{ $.level = \"ERROR\"", 20, "expected `}`"),
        ("{ level = ERROR }", 3, "starting with `$`"),
        ("{ $.level == ERROR }", 12, "expected a value"),
        ("{ $.latency > fast }", 15, "compares numbers"),
        ("{ $.a IS MAYBE }", 10, "TRUE, FALSE or NULL"),
        ("{ $.a NOT THERE }", 11, "EXISTS"),
        ("{ $.list[x] = 1 }", 10, "array index"),
        ("[a, b,]", 7, "field name"),
        ("[a, ..., b, ...]", 13, "only one `...`"),
        ("[a, a]", 5, "used twice"),
        ("[a = 1 || b = 2, c]", 11, "not a field of this pattern"),
        ("[]", 2, "at least one field"),
        ("%(ERROR)%", 2, "no groups"),
        ("%something!%", 11, "not allowed in a CloudWatch Logs regex"),
        ("%caf\u{e9}%", 5, "multi-byte"),
        ("[a = %x%, b = %y%, c = %z%]", 24, "at most 2 regexes"),
        ("{ $.a[*].b.* = 1 }", 3, "at most 1 wildcard"),
        (
            "{ $.a[*] = 1 && $.b[*] = 1 && $.c.* = 1 && $.d.* = 1 }",
            44,
            "at most 3 wildcards",
        ),
        ("{ $.['open = 1 }", 6, "never closed"),
        ("%ERR", 1, "double quotes"),
        ("ERROR }", 7, "put the term in double quotes"),
        ("{ $.a = 1 } trailing", 13, "after the end"),
    ];
    for (pattern, position, needle) in table {
        let error = FilterPattern::parse(pattern).expect_err(pattern);
        assert_eq!(error.position, position, "{pattern}: {error}");
        assert!(error.to_string().contains(needle), "{pattern}: {error}");
        assert_eq!(error.pattern, pattern);
    }
}

#[test]
fn patterns_longer_than_the_limit_are_rejected() {
    let long = "a".repeat(MAX_FILTER_PATTERN_LEN + 1);
    let error = FilterPattern::parse(&long).unwrap_err();
    assert!(error.message.contains("at most 1024"), "{error}");
    assert!(FilterPattern::parse(&"a".repeat(MAX_FILTER_PATTERN_LEN)).is_ok());
}

#[test]
fn serde_keeps_the_text_and_validates() {
    let pattern: FilterPattern = serde_json::from_str(r#""?ERROR ?WARN""#).unwrap();
    assert_eq!(
        serde_json::to_string(&pattern).unwrap(),
        r#""?ERROR ?WARN""#
    );
    let error = serde_json::from_str::<FilterPattern>(r#""{ $.a""#).unwrap_err();
    assert!(error.to_string().contains("filter pattern"), "{error}");
}

#[test]
fn glob_stars_match_any_run() {
    assert!(glob_match("*", ""));
    assert!(glob_match("4*", "404"));
    assert!(glob_match("*html*", "GET /index.html HTTP/1.0"));
    assert!(glob_match("a*b*c", "abc"));
    assert!(!glob_match("ab*ba", "aba"));
    assert!(!glob_match("abc", "abcd"));
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,6}"
}

proptest! {
    /// The parser answers every input with a pattern or an error, never a panic.
    #[test]
    fn parser_never_panics(text in "\\PC{0,40}") {
        if let Ok(pattern) = FilterPattern::parse(&text) {
            let _ = pattern.matches(&text);
        }
    }

    /// Same, with inputs built from the pattern syntax's own characters.
    #[test]
    fn parser_never_panics_on_syntax_soup(text in "[\\[\\]{}()$.=!<>&|?%\" *,a1-]{0,30}") {
        if let Ok(pattern) = FilterPattern::parse(&text) {
            let _ = pattern.matches("a 1 {\"a\": 1}");
        }
    }

    /// Terms mean: all plain terms occur and no `-` term occurs; `?` terms count only when
    /// they stand alone (AWS ignores them beside other terms), and then one must occur.
    #[test]
    fn terms_follow_the_reference(
        required in proptest::collection::vec(word(), 0..3),
        excluded in proptest::collection::vec(word(), 0..3),
        any_of in proptest::collection::vec(word(), 0..3),
        event_words in proptest::collection::vec(word(), 0..8),
    ) {
        let mut text = Vec::new();
        text.extend(required.iter().cloned());
        text.extend(excluded.iter().map(|t| format!("-{t}")));
        text.extend(any_of.iter().map(|t| format!("?{t}")));
        let pattern = FilterPattern::parse(&text.join(" ")).unwrap();
        let event = event_words.join(" ");
        let alone = required.is_empty() && excluded.is_empty();
        let expected = required.iter().all(|t| event.contains(t.as_str()))
            && !excluded.iter().any(|t| event.contains(t.as_str()))
            && (!alone || any_of.is_empty() || any_of.iter().any(|t| event.contains(t.as_str())));
        prop_assert_eq!(pattern.matches(&event), expected);
    }

    /// A quoted phrase matches exactly the events that contain it; a phrase of spaces matches
    /// every event.
    #[test]
    fn quoted_phrases_are_substrings(phrase in "[a-z :/.]{1,12}", event in "[a-z :/.]{0,30}") {
        let escaped = phrase.replace('\\', "\\\\").replace('"', "\\\"");
        let pattern = FilterPattern::parse(&format!("\"{escaped}\"")).unwrap();
        let expected = phrase.trim().is_empty() || event.contains(&phrase);
        prop_assert_eq!(pattern.matches(&event), expected);
    }

    /// `a && b` and `a || b` agree with the two halves evaluated alone.
    #[test]
    fn json_connectives_compose(
        level in "(ERROR|WARN|INFO)",
        latency in 0u32..2000,
        want_level in "(ERROR|WARN|INFO)",
        bound in 0u32..2000,
    ) {
        let event = format!(r#"{{"level": "{level}", "latency": {latency}}}"#);
        let left = format!(r#"$.level = "{want_level}""#);
        let right = format!("$.latency > {bound}");
        let one = |expr: &str| matches(&format!("{{ {expr} }}"), &event);
        let (l, r) = (one(&left), one(&right));
        prop_assert_eq!(l, level == want_level);
        prop_assert_eq!(r, latency > bound);
        prop_assert_eq!(one(&format!("{left} && {right}")), l && r);
        prop_assert_eq!(one(&format!("{left} || {right}")), l || r);
        prop_assert_eq!(one(&format!("({left}) && ({right})")), l && r);
    }

    /// A space-delimited pattern with one name per field matches; a condition on a field holds
    /// exactly when the field has that value; `...` absorbs any number of leading fields; with
    /// fewer names than fields, the last name takes the rest of the event.
    #[test]
    fn delimited_fields_line_up(
        fields in proptest::collection::vec("[a-z0-9.:/]{1,8}", 1..8),
        pick in any::<proptest::sample::Index>(),
        other in "[a-z0-9.:/]{1,8}",
    ) {
        let event = fields.join(" ");
        let names: Vec<String> = (0..fields.len()).map(|i| format!("f{i}")).collect();
        let i = pick.index(fields.len());
        let all_named = format!("[{}]", names.join(", "));
        prop_assert!(matches(&all_named, &event));
        let mut with_condition = names.clone();
        with_condition[i] = format!("f{i} = \"{other}\"");
        prop_assert_eq!(
            matches(&format!("[{}]", with_condition.join(", ")), &event),
            fields[i] == other
        );
        let tail = format!("[..., last = \"{}\"]", fields[fields.len() - 1]);
        prop_assert!(matches(&tail, &event));
        if fields.len() > 1 {
            let rest = fields[1..].join(" ");
            let first_and_rest = format!("[head, rest = \"{rest}\"]");
            prop_assert!(matches(&first_and_rest, &event), "{} on {}", first_and_rest, event);
        }
        let too_many = format!("[{}, extra]", names.join(", "));
        let too_many_matches = matches(&too_many, &event);
        prop_assert!(!too_many_matches);
    }
}
