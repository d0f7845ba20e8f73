//! The filter-pattern parser: a hand-written recursive descent over characters, so that every
//! error can name the character where it went wrong and what would have been valid there.

use regex::bytes::RegexBuilder;

use super::{
    BoolExpr, CompareOp, DelimitedPattern, FieldCompare, FieldCondition, FilterPatternError,
    JsonExpr, JsonTerm, Literal, MAX_FILTER_PATTERN_LEN, MAX_REGEXES_PER_STRUCTURED_PATTERN,
    MAX_WILDCARDS_PER_PATTERN, MAX_WILDCARDS_PER_SELECTOR, Pattern, REGEX_OPERATORS, REGEX_SYMBOLS,
    RegexLiteral, Selector, SelectorStep, Slot, TermPattern, ValueTest,
};

/// The page every rule of this parser follows.
const SYNTAX_PAGE: &str = "AWS \"Filter pattern syntax\" page";

/// Parses a whole pattern.
pub(super) fn parse(text: &str) -> Result<Pattern, FilterPatternError> {
    let mut cursor = Cursor {
        text,
        chars: text.chars().collect(),
        pos: 0,
        field_references: Vec::new(),
        regexes: 0,
        wildcards: 0,
    };
    if cursor.chars.len() > MAX_FILTER_PATTERN_LEN {
        return Err(cursor.error_at(
            MAX_FILTER_PATTERN_LEN,
            format!(
                "a filter pattern has at most {MAX_FILTER_PATTERN_LEN} characters, this one has {}",
                cursor.chars.len()
            ),
        ));
    }
    cursor.skip_spaces();
    let pattern = match cursor.peek() {
        None => Pattern::MatchAll,
        Some('{') => Pattern::Json(cursor.json_pattern()?),
        Some('[') => Pattern::Delimited(cursor.delimited_pattern()?),
        Some('%') if cursor.is_whole_regex() => Pattern::Regex(cursor.regex_literal()?),
        Some(_) => cursor.term_pattern()?,
    };
    cursor.skip_spaces();
    if let Some(c) = cursor.peek() {
        return Err(cursor.error(format!("unexpected {c:?} after the end of the pattern")));
    }
    Ok(pattern)
}

struct Cursor<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// Field names used in space-delimited conditions, with their positions.
    field_references: Vec<(String, usize)>,
    /// Regexes read inside a JSON or space-delimited pattern.
    regexes: usize,
    /// Wildcards read in the selectors of a JSON pattern.
    wildcards: usize,
}

impl Cursor<'_> {
    fn error(&self, message: impl Into<String>) -> FilterPatternError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> FilterPatternError {
        FilterPatternError {
            pattern: self.text.to_owned(),
            position: pos + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n
            && s.chars().zip(&self.chars[self.pos..]).all(|(a, b)| a == *b)
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str, what: &str) -> Result<(), FilterPatternError> {
        self.skip_spaces();
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.describe_here())))
        }
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "the end of the pattern".to_owned(),
            Some(c) => format!("{c:?}"),
        }
    }

    /// `%...%` followed only by spaces: a regex pattern rather than a term starting with `%`.
    fn is_whole_regex(&self) -> bool {
        let rest: String = self.chars[self.pos + 1..].iter().collect();
        rest.trim_end().ends_with('%') && rest.trim_end().len() > 1
    }

    // ---- unstructured terms ----

    fn term_pattern(&mut self) -> Result<Pattern, FilterPatternError> {
        let mut terms = TermPattern::default();
        while self.peek().is_some() {
            let list = match self.peek() {
                Some('-') if self.peek_at(1).is_some_and(|c| !c.is_whitespace()) => {
                    self.pos += 1;
                    &mut terms.excluded
                }
                Some('?') => {
                    self.pos += 1;
                    &mut terms.any_of
                }
                _ => &mut terms.required,
            };
            let start = self.pos;
            let term = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let mut word = String::new();
                while let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
                    if !(c.is_alphanumeric() || c == '_') {
                        return Err(self.error(format!(
                            "{c:?} cannot appear in an unquoted term; put the term in double \
                             quotes (\"...\") to match it literally"
                        )));
                    }
                    word.push(c);
                    self.pos += 1;
                }
                word
            };
            if term.is_empty() && start == self.pos {
                return Err(self.error("expected a term after `-` or `?`"));
            }
            if !term.is_empty() {
                list.push(term);
            }
            self.skip_spaces();
        }
        // AWS: `?` terms combined with other terms are ignored.
        if !terms.required.is_empty() || !terms.excluded.is_empty() {
            terms.any_of.clear();
        }
        // AWS: a phrase of spaces (`" "`) matches every event, as the empty pattern does.
        let blank = |t: &String| t.trim().is_empty();
        terms.required.retain(|t| !blank(t));
        if terms.any_of.iter().any(blank) {
            terms.any_of.clear();
        }
        if terms == TermPattern::default() {
            return Ok(Pattern::MatchAll);
        }
        Ok(Pattern::Terms(terms))
    }

    /// A double-quoted string; `\"` and `\\` are escapes.
    fn quoted(&mut self) -> Result<String, FilterPatternError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at(open, "this quote is never closed")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c @ ('"' | '\\')) => out.push(c),
                    Some(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    None => return Err(self.error_at(open, "this quote is never closed")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    // ---- regex ----

    fn regex_literal(&mut self) -> Result<RegexLiteral, FilterPatternError> {
        let open = self.pos;
        self.pos += 1;
        let mut source = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error_at(open, "this `%` regex is never closed with `%`")),
                Some('%') => break,
                Some('\\') => {
                    source.push('\\');
                    match self.bump() {
                        Some(c) => source.push(c),
                        None => return Err(self.error_at(open, "this `%` regex is never closed")),
                    }
                }
                Some(c @ ('(' | ')')) => {
                    return Err(self.error_at(
                        self.pos - 1,
                        format!(
                            "{c:?} is not supported in CloudWatch Logs regex patterns (no \
                             groups); use alternatives with `|` or a character class \
                             ({SYNTAX_PAGE})"
                        ),
                    ));
                }
                Some(c) if !c.is_ascii() => {
                    return Err(self.error_at(
                        self.pos - 1,
                        format!(
                            "{c:?}: multi-byte characters are not supported in regex patterns \
                             ({SYNTAX_PAGE})"
                        ),
                    ));
                }
                Some(' ') => {
                    return Err(self.error_at(
                        self.pos - 1,
                        format!(
                            "' ' is not allowed in a CloudWatch Logs regex: only letters, \
                             digits, the symbols {REGEX_SYMBOLS} and the operators \
                             {REGEX_OPERATORS}; match a space with `\\s` ({SYNTAX_PAGE})"
                        ),
                    ));
                }
                Some(c) if !regex_char_allowed(c) => {
                    return Err(self.error_at(
                        self.pos - 1,
                        format!(
                            "{c:?} is not allowed in a CloudWatch Logs regex: only letters, \
                             digits, the symbols {REGEX_SYMBOLS} and the operators \
                             {REGEX_OPERATORS} ({SYNTAX_PAGE})"
                        ),
                    ));
                }
                Some(c) => source.push(c),
            }
        }
        if source.is_empty() {
            return Err(self.error_at(open, "an empty regex `%%` matches nothing useful"));
        }
        let regex = RegexBuilder::new(&source)
            .unicode(false)
            .build()
            .map_err(|e| {
                self.error_at(open, format!("the regex {source:?} does not compile: {e}"))
            })?;
        Ok(RegexLiteral { source, regex })
    }

    // ---- JSON ----

    fn json_pattern(&mut self) -> Result<JsonExpr, FilterPatternError> {
        self.pos += 1; // `{`
        let expr = self.json_or()?;
        self.expect("}", "`}` closing the JSON pattern, `&&` or `||`")?;
        Ok(expr)
    }

    /// `term (('&&' term)* ('||' ...))`: `||` of `&&` chains, each term read by `term`.
    fn disjunction<T>(
        &mut self,
        term: &mut impl FnMut(&mut Self) -> Result<BoolExpr<T>, FilterPatternError>,
    ) -> Result<BoolExpr<T>, FilterPatternError> {
        let mut left = self.conjunction(term)?;
        loop {
            self.skip_spaces();
            if !self.eat("||") {
                return Ok(left);
            }
            let right = self.conjunction(term)?;
            left = BoolExpr::Or(Box::new(left), Box::new(right));
        }
    }

    fn conjunction<T>(
        &mut self,
        term: &mut impl FnMut(&mut Self) -> Result<BoolExpr<T>, FilterPatternError>,
    ) -> Result<BoolExpr<T>, FilterPatternError> {
        let mut left = term(self)?;
        loop {
            self.skip_spaces();
            if !self.eat("&&") {
                return Ok(left);
            }
            let right = term(self)?;
            left = BoolExpr::And(Box::new(left), Box::new(right));
        }
    }

    fn json_or(&mut self) -> Result<JsonExpr, FilterPatternError> {
        self.disjunction(&mut Self::json_primary)
    }

    fn json_primary(&mut self) -> Result<JsonExpr, FilterPatternError> {
        self.skip_spaces();
        if self.eat("(") {
            let inner = self.json_or()?;
            self.expect(")", "`)`, `&&` or `||`")?;
            return Ok(inner);
        }
        let selector = self.selector()?;
        self.skip_spaces();
        if self.eat("IS") {
            self.skip_spaces();
            let test = if self.eat("TRUE") {
                ValueTest::True
            } else if self.eat("FALSE") {
                ValueTest::False
            } else if self.eat("NULL") {
                ValueTest::Null
            } else {
                return Err(self.error(format!(
                    "expected TRUE, FALSE or NULL after IS, found {}",
                    self.describe_here()
                )));
            };
            return Ok(BoolExpr::Term(JsonTerm::Test { selector, test }));
        }
        if self.eat("NOT") {
            self.expect("EXISTS", "EXISTS after NOT")?;
            return Ok(BoolExpr::Term(JsonTerm::Test {
                selector,
                test: ValueTest::NotExists,
            }));
        }
        let op = self.compare_op()?;
        let value = self.literal(op)?;
        Ok(BoolExpr::Term(JsonTerm::Compare {
            selector,
            op,
            value,
        }))
    }

    fn selector(&mut self) -> Result<Selector, FilterPatternError> {
        let start = self.pos;
        if !self.eat("$") {
            return Err(self.error(format!(
                "expected a property selector starting with `$` (for example `$.level`), found {}",
                self.describe_here()
            )));
        }
        let mut steps = Vec::new();
        loop {
            if self.eat(".") {
                if self.eat("*") {
                    steps.push(SelectorStep::AnyKey);
                } else if self.peek() == Some('[') {
                    continue;
                } else {
                    steps.push(SelectorStep::Key(self.property_name()?));
                }
            } else if self.eat("[") {
                steps.push(self.bracket_step()?);
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(self.error("a selector names a property: `$.name`, `$.list[0]`"));
        }
        let wildcards = steps
            .iter()
            .filter(|s| matches!(s, SelectorStep::AnyKey | SelectorStep::AnyIndex))
            .count();
        if wildcards > MAX_WILDCARDS_PER_SELECTOR {
            return Err(self.error_at(
                start,
                format!(
                    "a property selector may contain at most {MAX_WILDCARDS_PER_SELECTOR} \
                     wildcard; this one has {wildcards} ({SYNTAX_PAGE})"
                ),
            ));
        }
        self.wildcards += wildcards;
        if self.wildcards > MAX_WILDCARDS_PER_PATTERN {
            return Err(self.error_at(
                start,
                format!(
                    "a JSON pattern may contain at most {MAX_WILDCARDS_PER_PATTERN} wildcards; \
                     this selector brings it to {} ({SYNTAX_PAGE})",
                    self.wildcards
                ),
            ));
        }
        Ok(Selector { steps })
    }

    fn property_name(&mut self) -> Result<String, FilterPatternError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '@')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error("expected a property name, `*` or `[` after `.`"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// After `[`: `*`, an index, or a quoted property name (`['cluster.name']`).
    fn bracket_step(&mut self) -> Result<SelectorStep, FilterPatternError> {
        let step = if self.eat("*") {
            SelectorStep::AnyIndex
        } else if let Some(quote @ ('\'' | '"')) = self.peek() {
            let open = self.pos;
            self.pos += 1;
            let start = self.pos;
            while self.peek().is_some_and(|c| c != quote) {
                self.pos += 1;
            }
            if self.peek().is_none() {
                return Err(self.error_at(open, "this quoted property name is never closed"));
            }
            let name: String = self.chars[start..self.pos].iter().collect();
            self.pos += 1;
            SelectorStep::Key(name)
        } else {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let digits: String = self.chars[start..self.pos].iter().collect();
            let index = digits.parse().map_err(|_| {
                self.error_at(
                    start,
                    "expected an array index such as `[0]`, `[*]` or a quoted name `['a.b']`",
                )
            })?;
            SelectorStep::Index(index)
        };
        if !self.eat("]") {
            return Err(self.error("expected `]`"));
        }
        Ok(step)
    }

    fn compare_op(&mut self) -> Result<CompareOp, FilterPatternError> {
        self.skip_spaces();
        for (symbol, op) in [
            ("!=", CompareOp::Ne),
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("=", CompareOp::Eq),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ] {
            if self.eat(symbol) {
                return Ok(op);
            }
        }
        Err(self.error(format!(
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS), found {}",
            self.describe_here()
        )))
    }

    /// A value after an operator: `"quoted"`, a number, `%regex%` or an unquoted word, which
    /// ends at a space, `,`, `)`, `]`, `}`, `&&` or `||`.
    fn literal(&mut self, op: CompareOp) -> Result<Literal, FilterPatternError> {
        self.skip_spaces();
        let start = self.pos;
        let literal = match self.peek() {
            Some('"') => Literal::Text(self.quoted()?),
            Some('%') => {
                self.regexes += 1;
                if self.regexes > MAX_REGEXES_PER_STRUCTURED_PATTERN {
                    return Err(self.error(format!(
                        "a JSON or space-delimited pattern may contain at most \
                         {MAX_REGEXES_PER_STRUCTURED_PATTERN} regexes; this is regex number {} \
                         ({SYNTAX_PAGE})",
                        self.regexes
                    )));
                }
                Literal::Regex(self.regex_literal()?)
            }
            Some(c @ ('=' | '!' | '<' | '>')) => {
                return Err(self.error(format!(
                    "expected a value after `{}`, found {c:?} (operators are =, !=, <, <=, >, >=)",
                    op.symbol()
                )));
            }
            Some(_) => {
                while let Some(c) = self.peek() {
                    if c.is_whitespace()
                        || matches!(c, ',' | ')' | ']' | '}')
                        || self.chars[self.pos..].starts_with(&['&', '&'])
                        || self.chars[self.pos..].starts_with(&['|', '|'])
                    {
                        break;
                    }
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                if word.is_empty() {
                    return Err(self.error(format!(
                        "expected a value after `{}`, found {}",
                        op.symbol(),
                        self.describe_here()
                    )));
                }
                match word.parse::<f64>() {
                    Ok(n) if n.is_finite() => Literal::Number(n),
                    _ => Literal::Text(word),
                }
            }
            None => {
                return Err(self.error(format!(
                    "expected a value after `{}`, found the end of the pattern",
                    op.symbol()
                )));
            }
        };
        if op.is_ordering() && !matches!(literal, Literal::Number(_)) {
            return Err(self.error_at(
                start,
                format!(
                    "`{}` compares numbers; the value here is not a number",
                    op.symbol()
                ),
            ));
        }
        if matches!(literal, Literal::Regex(_)) && op != CompareOp::Eq && op != CompareOp::Ne {
            return Err(self.error_at(start, "a regex can only be compared with `=` or `!=`"));
        }
        Ok(literal)
    }

    // ---- space-delimited ----

    fn delimited_pattern(&mut self) -> Result<DelimitedPattern, FilterPatternError> {
        self.pos += 1; // `[`
        let mut slots = Vec::new();
        let mut conditions = Vec::new();
        loop {
            self.skip_spaces();
            if slots.is_empty() && self.eat("]") {
                return Err(self.error_at(
                    self.pos - 1,
                    "a space-delimited pattern names at least one field",
                ));
            }
            if self.eat("...") {
                if slots.contains(&Slot::Ellipsis) {
                    return Err(
                        self.error_at(self.pos - 3, "only one `...` is supported per pattern")
                    );
                }
                slots.push(Slot::Ellipsis);
            } else {
                let name = self.field_name()?;
                if slots.contains(&Slot::Field(name.clone())) {
                    return Err(self.error_at(
                        self.pos - name.chars().count(),
                        format!("the field name {name:?} is used twice"),
                    ));
                }
                slots.push(Slot::Field(name.clone()));
                self.skip_spaces();
                if !matches!(self.peek(), Some(',' | ']')) {
                    conditions.push(self.field_or(name)?);
                }
            }
            self.skip_spaces();
            if self.eat(",") {
                continue;
            }
            self.expect("]", "`,` or `]`")?;
            break;
        }
        for (field, position) in &self.field_references {
            if !slots.contains(&Slot::Field(field.clone())) {
                return Err(self.error_at(
                    *position,
                    format!("the condition names {field:?}, which is not a field of this pattern"),
                ));
            }
        }
        Ok(DelimitedPattern { slots, conditions })
    }

    fn field_name(&mut self) -> Result<String, FilterPatternError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error(format!(
                "expected a field name (letters, digits, `_`) or `...`, found {}",
                self.describe_here()
            )));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// Conditions inside one slot; the first names the slot's own field, already read.
    fn field_or(&mut self, first: String) -> Result<FieldCondition, FilterPatternError> {
        let mut first = Some(first);
        self.disjunction(&mut |cursor: &mut Self| {
            cursor.field_compare(first.take()).map(BoolExpr::Term)
        })
    }

    fn field_compare(&mut self, name: Option<String>) -> Result<FieldCompare, FilterPatternError> {
        let field = match name {
            Some(name) => name,
            None => {
                self.skip_spaces();
                let position = self.pos;
                let name = self.field_name()?;
                self.field_references.push((name.clone(), position));
                name
            }
        };
        let op = self.compare_op()?;
        let value = self.literal(op)?;
        Ok(FieldCompare { field, op, value })
    }
}

/// Whether a regex may contain `c`: letters, digits, the documented symbols and operators, and
/// a space (AWS's list is silent on spaces; accepting them is our choice, named in
/// docs/fidelity.md).
fn regex_char_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || REGEX_SYMBOLS.contains(c) || REGEX_OPERATORS.contains(c)
}
