//! Filter-pattern behaviour: a table of cases from AWS's "Filter pattern syntax" page, the
//! error table, and properties of the parser and evaluator.

use proptest::prelude::*;

use super::eval::{glob_match, split_fields};
use super::{FilterPattern, MAX_FILTER_PATTERN_LEN};

/// The four unstructured events AWS's page uses for its term examples.
const TERM_EVENTS: [&str; 4] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
];

/// The JSON event of AWS's page for property selectors and tests.
const JSON_EVENT: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "cluster.name": "c",
  "ThisFlag": true
}"#;

/// The JSON event of AWS's page for `&&` and `||`.
const COMPOUND_EVENT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
  "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1], [2, 3]]}"#;

/// The Apache access-log line of AWS's page for space-delimited patterns.
const ACCESS_LOG: &str =
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;

fn matches(pattern: &str, event: &str) -> bool {
    FilterPattern::parse(pattern)
        .unwrap_or_else(|e| panic!("{e}"))
        .matches(event)
}

fn matching_term_events(pattern: &str) -> Vec<usize> {
    (0..TERM_EVENTS.len())
        .filter(|&i| matches(pattern, TERM_EVENTS[i]))
        .collect()
}

#[test]
fn aws_term_examples() {
    let table: [(&str, &[usize]); 8] = [
        ("", &[0, 1, 2, 3]),
        ("\"\"", &[0, 1, 2, 3]),
        ("ERROR", &[0, 1, 2, 3]),
        ("ERROR ARGUMENTS", &[2, 3]),
        ("?ERROR ?ARGUMENTS", &[0, 1, 2, 3]),
        ("?REQUEST ?MISSING", &[0, 1, 2]),
        ("\"MISSING ARGUMENTS\"", &[2]),
        ("ERROR -ARGUMENTS", &[0, 1]),
    ];
    for (pattern, expected) in table {
        assert_eq!(
            matching_term_events(pattern),
            expected,
            "pattern {pattern:?}"
        );
    }
    // Matching is case-sensitive.
    assert_eq!(matching_term_events("error"), Vec::<usize>::new());
    assert_eq!(matching_term_events("%ERROR 4[01]9%"), vec![2]);
    assert_eq!(matching_term_events("%ARGUMENTS$%"), vec![2, 3]);
}

#[test]
fn aws_json_examples() {
    let table = [
        (r#"{ $.eventType = "UpdateTrail" }"#, true),
        (r#"{ $.eventType = "Update*" }"#, true),
        (r#"{ $.eventType = UpdateTrail }"#, true),
        (r#"{ $.eventType != "UpdateTrail" }"#, false),
        ("{ $.sourceIPAddress != 123.123.* }", true),
        ("{ $.sourceIPAddress = 111.111.* }", true),
        (r#"{ $.arrayKey[0] = "value" }"#, true),
        (r#"{ $.arrayKey[1] = "value" }"#, false),
        ("{ $.objectList[1].id = 2 }", true),
        ("{ $.objectList[1].id > 1 && $.objectList[0].id < 2 }", true),
        ("{ $.objectList[1].id >= 3 }", false),
        ("{ $.SomeObject IS NULL }", true),
        ("{ $.SomeOtherObject NOT EXISTS }", true),
        ("{ $.SomeObject NOT EXISTS }", false),
        ("{ $.ThisFlag IS TRUE }", true),
        ("{ $.ThisFlag IS FALSE }", false),
        ("{ $.eventType = %Update[A-Z]% }", true),
        // `!=` does not match a missing property.
        (r#"{ $.missing != "x" }"#, false),
    ];
    for (pattern, expected) in table {
        assert_eq!(matches(pattern, JSON_EVENT), expected, "pattern {pattern}");
    }
}

#[test]
fn aws_compound_json_examples() {
    let table = [
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            true,
        ),
        (
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            false,
        ),
        ("{ $.coordinates[1][0] = 2 }", true),
    ];
    for (pattern, expected) in table {
        assert_eq!(
            matches(pattern, COMPOUND_EVENT),
            expected,
            "pattern {pattern}"
        );
    }
    // A JSON pattern never matches an event that is not JSON.
    assert!(!matches("{ $.user.id = 1 }", "user.id = 1"));
}

#[test]
fn aws_space_delimited_examples() {
    let table = [
        (
            "[ip, user, username, timestamp, request, status_code, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request = \"*gif*\", status_code, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
            false,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 2*, bytes > 1000]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 404 || status_code = 200, bytes]",
            true,
        ),
        (
            "[ip, user, username, timestamp, request, status_code != 200, bytes]",
            false,
        ),
        ("[..., status_code = 200, bytes]", true),
        ("[ip = 127.0.0.1, ...]", true),
        ("[ip, ..., bytes < 1000]", false),
        (
            "[ip, user = -, username = frank, timestamp = 10/Oct/2000*, ...]",
            true,
        ),
    ];
    for (pattern, expected) in table {
        assert_eq!(matches(pattern, ACCESS_LOG), expected, "pattern {pattern}");
    }
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

    /// Terms mean: all plain terms occur, no `-` term occurs, one `?` term occurs if any.
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
        let expected = required.iter().all(|t| event.contains(t.as_str()))
            && !excluded.iter().any(|t| event.contains(t.as_str()))
            && (any_of.is_empty() || any_of.iter().any(|t| event.contains(t.as_str())));
        prop_assert_eq!(pattern.matches(&event), expected);
    }

    /// A quoted phrase matches exactly the events that contain it.
    #[test]
    fn quoted_phrases_are_substrings(phrase in "[a-z :/.]{1,12}", event in "[a-z :/.]{0,30}") {
        let escaped = phrase.replace('\\', "\\\\").replace('"', "\\\"");
        let pattern = FilterPattern::parse(&format!("\"{escaped}\"")).unwrap();
        prop_assert_eq!(pattern.matches(&event), event.contains(&phrase));
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
    /// exactly when the field has that value; `...` absorbs any number of leading fields.
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
        let too_many = format!("[{}, extra]", names.join(", "));
        let too_many_matches = matches(&too_many, &event);
        prop_assert!(!too_many_matches);
    }
}
