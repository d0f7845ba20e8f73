//! CloudWatch Logs filter patterns: the parser and the evaluator.
//!
//! A subscription filter only forwards the log events its pattern matches. LocalStack community
//! ignores patterns (every event matches), so the harness evaluates them itself with this module,
//! and the stack definition validates its pattern with the same parser before anything is
//! deployed.
//!
//! The supported syntax (AWS's "Filter pattern syntax" page):
//!
//! | form | example | matches when |
//! |---|---|---|
//! | all events | `""` (empty) | always |
//! | terms | `ERROR Exception` | every term occurs (case-sensitive substring) |
//! | quoted phrase | `"Failed password"` | the exact phrase occurs |
//! | exclusion | `ERROR -ARGUMENTS` | no `-` term occurs |
//! | alternatives | `?ERROR ?WARN` | at least one `?` term occurs |
//! | regex | `%ERROR\|WARN%` | the regular expression finds a match |
//! | JSON | `{ $.level = "ERROR" && $.latency > 100 }` | the event is JSON and the expression holds |
//! | space-delimited | `[ip, user, ..., status = 4*, bytes > 1000]` | the fields line up and every condition holds |
//!
//! As the page states (each rule is a row of `fixtures/aws-conformance/filter-patterns.toml`):
//! `?` terms combined with other terms are ignored; `" "` matches every event; a
//! space-delimited pattern with fewer fields than the event gives the last field the rest of
//! the event; regexes use only the documented characters and operators (no parentheses, no
//! multi-byte characters), with `\w`, `\d`, `\s` as ASCII classes; at most two regexes in a
//! JSON or space-delimited pattern; selectors may use `$.*`, `[*]` and `['dotted.name']`, at most
//! one wildcard per selector and three per pattern.
//!
//! Where AWS's documentation is silent, the choices are ours and written down here (and in
//! docs/fidelity.md): `-` terms combine with plain terms (all plain terms, none of the `-`
//! terms); `&&` binds tighter than `||`; `!=` and the ordering operators never match a missing
//! field (use `NOT EXISTS` for that); a selector with a wildcard holds when any value it
//! selects holds; a space-delimited pattern has at most one `...`. A space is not among the
//! characters the page lets a regex use, so `%ERROR 404%` is refused (use `\s`).
//!
//! `?` terms beside plain terms: the AWS CDK renders `anyTermGroup` as `?"A" "B" ?"C" "D"` and
//! documents it as (A and B) or (C and D); the CloudWatch Logs page's own worked example
//! (`?ERROR ?ARGUMENTS REQUEST` matches `[INFO] REQUEST FAILED` and not `[ERROR 419] MISSING
//! ARGUMENTS`) contradicts that grouping and agrees with the `?` terms being ignored. The
//! service's page is the stronger source; the CDK's reading is named in docs/fidelity.md.

mod eval;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use regex::bytes::Regex;

/// Longest filter pattern `PutSubscriptionFilter` accepts, in characters.
pub const MAX_FILTER_PATTERN_LEN: usize = 1024;
/// Most regexes in one JSON or space-delimited pattern ("Filter pattern syntax", quotas).
pub const MAX_REGEXES_PER_STRUCTURED_PATTERN: usize = 2;
/// Most wildcards in one property selector.
pub const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
/// Most wildcards in one JSON pattern.
pub const MAX_WILDCARDS_PER_PATTERN: usize = 3;
/// The symbol characters a regex may contain besides letters and digits.
pub const REGEX_SYMBOLS: &str = ":_#=@/;,-";
/// The operators a regex may contain.
pub const REGEX_OPERATORS: &str = "^$?[]{}|\\*+.";

/// A parsed filter pattern. Its text is kept as written, so that what is deployed is exactly
/// what was validated.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    text: String,
    pattern: Pattern,
}

impl FilterPattern {
    /// Parses `text`; the error names the position and what was expected there.
    pub fn parse(text: &str) -> Result<Self, FilterPatternError> {
        let pattern = parse::parse(text)?;
        Ok(Self {
            text: text.to_owned(),
            pattern,
        })
    }

    /// The pattern that matches every event (the empty pattern).
    pub fn match_all() -> Self {
        Self {
            text: String::new(),
            pattern: Pattern::MatchAll,
        }
    }

    /// Whether CloudWatch Logs would forward an event with this message.
    pub fn matches(&self, message: &str) -> bool {
        eval::matches(&self.pattern, message)
    }

    /// For a space-delimited pattern, the value of each named field in `message` (in pattern
    /// order), as `aws logs test-metric-filter` reports them; `None` for other patterns and
    /// for messages whose fields do not line up.
    pub fn extract_fields(&self, message: &str) -> Option<Vec<(String, String)>> {
        match &self.pattern {
            Pattern::Delimited(pattern) => eval::delimited_fields(pattern, message),
            _ => None,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this pattern forwards every event.
    pub fn is_match_all(&self) -> bool {
        matches!(self.pattern, Pattern::MatchAll)
    }

    /// The parsed form.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }
}

impl PartialEq for FilterPattern {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl FromStr for FilterPattern {
    type Err = FilterPatternError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for FilterPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for FilterPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A filter pattern that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter pattern {pattern:?}, at character {position}: {message}")]
pub struct FilterPatternError {
    /// The whole pattern.
    pub pattern: String,
    /// 1-based character position of the problem.
    pub position: usize,
    /// What was wrong and what would be valid.
    pub message: String,
}

/// The parsed forms of a filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// The empty pattern.
    MatchAll,
    /// Terms, phrases, exclusions and alternatives.
    Terms(TermPattern),
    /// `%regex%`.
    Regex(RegexLiteral),
    /// `{ ... }`.
    Json(JsonExpr),
    /// `[ ... ]`.
    Delimited(DelimitedPattern),
}

/// An unstructured pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TermPattern {
    /// Terms that must all occur.
    pub required: Vec<String>,
    /// `-` terms, none of which may occur.
    pub excluded: Vec<String>,
    /// `?` terms, at least one of which must occur when there are any.
    pub any_of: Vec<String>,
}

/// A regular expression written between `%` signs, compiled without Unicode so that `\w`,
/// `\d` and `\s` are the ASCII classes AWS documents.
#[derive(Debug, Clone)]
pub struct RegexLiteral {
    /// The expression as written, without the `%` signs.
    pub source: String,
    regex: Regex,
}

impl RegexLiteral {
    fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text.as_bytes())
    }
}

impl PartialEq for RegexLiteral {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Terms joined with `&&` and `||` (`&&` binds tighter), as JSON patterns and space-delimited
/// conditions both write them.
#[derive(Debug, Clone, PartialEq)]
pub enum BoolExpr<T> {
    /// Both hold.
    And(Box<BoolExpr<T>>, Box<BoolExpr<T>>),
    /// Either holds.
    Or(Box<BoolExpr<T>>, Box<BoolExpr<T>>),
    /// One term.
    Term(T),
}

impl<T> BoolExpr<T> {
    /// Whether the expression holds, given whether each term does.
    pub fn holds(&self, term_holds: &impl Fn(&T) -> bool) -> bool {
        match self {
            Self::And(a, b) => a.holds(term_holds) && b.holds(term_holds),
            Self::Or(a, b) => a.holds(term_holds) || b.holds(term_holds),
            Self::Term(term) => term_holds(term),
        }
    }
}

/// A JSON pattern's boolean expression.
pub type JsonExpr = BoolExpr<JsonTerm>;

/// One term of a JSON pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTerm {
    /// `selector op value`.
    Compare {
        /// The property.
        selector: Selector,
        /// The comparison.
        op: CompareOp,
        /// The value compared with.
        value: Literal,
    },
    /// `selector IS TRUE|FALSE|NULL` or `selector NOT EXISTS`.
    Test {
        /// The property.
        selector: Selector,
        /// The test.
        test: ValueTest,
    },
}

/// A JSON property path such as `$.users[0].email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The steps after `$`.
    pub steps: Vec<SelectorStep>,
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorStep {
    /// `.name` or `['name']`
    Key(String),
    /// `[n]`
    Index(usize),
    /// `.*`: every property of an object.
    AnyKey,
    /// `[*]`: every element of an array.
    AnyIndex,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn is_ordering(self) -> bool {
        !matches!(self, Self::Eq | Self::Ne)
    }
}

/// `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueTest {
    /// `IS TRUE`
    True,
    /// `IS FALSE`
    False,
    /// `IS NULL`
    Null,
    /// `NOT EXISTS`
    NotExists,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number (compared numerically).
    Number(f64),
    /// A string, quoted or not, where `*` matches any run of characters.
    Text(String),
    /// `%regex%`.
    Regex(RegexLiteral),
}

/// A space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct DelimitedPattern {
    /// The named fields, with at most one `...`.
    pub slots: Vec<Slot>,
    /// Conditions, all of which must hold.
    pub conditions: Vec<FieldCondition>,
}

/// One position of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// A named field.
    Field(String),
    /// `...`: any number of fields.
    Ellipsis,
}

/// Conditions on fields, joined with `&&` and `||`.
pub type FieldCondition = BoolExpr<FieldCompare>;

/// `field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCompare {
    /// The field's name.
    pub field: String,
    /// The comparison.
    pub op: CompareOp,
    /// The value compared with.
    pub value: Literal,
}
