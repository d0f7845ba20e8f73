//! The guide's prefix examples and rules (`fixtures/aws-conformance/firehose-prefixes.toml`),
//! the object-key format, and the date-pattern evaluator.

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    prefix: Vec<PrefixRow>,
    refused: Vec<RefusedRow>,
    key: Vec<KeyRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefixRow {
    kind: String,
    section: String,
    #[serde(default)]
    error_output_type: Option<String>,
    prefix: String,
    at: String,
    expected: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedRow {
    section: String,
    prefix: String,
    rule: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRow {
    section: String,
    evaluated_prefix: String,
    stream: String,
    version: u32,
    at: String,
    uuid: String,
    extension: String,
    expected: String,
}

fn table() -> Table {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/aws-conformance/firehose-prefixes.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    toml::from_str(&text).unwrap()
}

fn instant(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

/// Whether `got` is `expected` with each `<random>` an 11-character random string.
fn matches_with_random(expected: &str, got: &str) -> bool {
    let mut pattern = String::from("^");
    for (i, part) in expected.split("<random>").enumerate() {
        if i > 0 {
            pattern.push_str("[0-9a-f]{8}-[0-9a-f]{2}");
        }
        pattern.push_str(&regex::escape(part));
    }
    pattern.push('$');
    regex::Regex::new(&pattern).unwrap().is_match(got)
}

#[test]
fn every_prefix_example_and_rule_of_the_guide_evaluates_as_stated() {
    let table = table();
    assert!(table.prefix.len() >= 12);
    let mut rng = StdRng::seed_from_u64(7);
    for row in &table.prefix {
        let use_ = row
            .error_output_type
            .as_deref()
            .map_or(PrefixUse::Data, PrefixUse::Error);
        let got = evaluate_prefix(&row.prefix, instant(&row.at), use_, &mut rng)
            .unwrap_or_else(|e| panic!("[{}] {}: {e}", row.kind, row.section));
        assert!(
            matches_with_random(&row.expected, &got),
            "[{}] {}: {:?} gave {got:?}, the guide says {:?}",
            row.kind,
            row.section,
            row.prefix,
            row.expected
        );
    }
    for row in &table.refused {
        let error = evaluate_prefix(
            &row.prefix,
            instant("2018-08-27T10:30:00Z"),
            PrefixUse::Data,
            &mut rng,
        )
        .err()
        .unwrap_or_else(|| panic!("{}: accepted {:?}", row.section, row.prefix));
        assert!(
            error.to_string().contains(&row.rule),
            "{}: {error}",
            row.section
        );
    }
}

/// "Custom Prefixes for Amazon S3 Objects": an unspecified `ErrorOutputPrefix` evaluates to
/// the `Prefix`, the error output type and the time (the guide's last example).
#[test]
fn an_unspecified_error_prefix_is_the_prefix_the_type_and_the_time() {
    let mut rng = StdRng::seed_from_u64(7);
    let got = evaluate_prefix(
        &super::unspecified_error_prefix("myFirehosePrefix/"),
        instant("2018-08-27T10:30:00Z"),
        PrefixUse::Error("processing-failed"),
        &mut rng,
    )
    .unwrap();
    assert_eq!(got, "myFirehosePrefix/processing-failed/2018/08/27/10/");
}

#[test]
fn object_keys_follow_the_documented_suffix() {
    for row in table().key {
        assert_eq!(
            object_key(
                &row.evaluated_prefix,
                &row.stream,
                row.version,
                instant(&row.at),
                &row.uuid,
                &row.extension
            ),
            row.expected,
            "{}",
            row.section
        );
    }
    let mut rng = StdRng::seed_from_u64(1);
    let uuid = uuid_v4(&mut rng);
    assert!(
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap()
            .is_match(&uuid),
        "{uuid}"
    );
}

#[test]
fn date_patterns_evaluate_letters_quotes_and_refuse_what_is_not_modelled() {
    let at = instant("2026-01-05T07:08:09.123456789Z");
    assert_eq!(
        format_java_date("yyyy-MM-dd HH:mm:ss.SSS", at).unwrap(),
        "2026-01-05 07:08:09.123"
    );
    assert_eq!(format_java_date("yy/M/d/h a", at).unwrap(), "26/1/5/7 AM");
    assert_eq!(format_java_date("'it''s' HH", at).unwrap(), "it's 07");
    assert_eq!(format_java_date("''", at).unwrap(), "'");
    let error = format_java_date("yyyy-ww", at).unwrap_err();
    assert!(error.to_string().contains("'w'"), "{error}");
}
