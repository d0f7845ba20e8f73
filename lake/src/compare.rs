//! Comparing a query's rows with expected rows: as multisets unless the query orders its rows,
//! in which case order counts too. A mismatch renders as the query, both row sets, and the
//! difference (`-` expected but absent, `+` present but not expected).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The outcome of one comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Whether order was compared.
    pub ordered: bool,
    /// Expected rows absent from the actual ones (with how many copies are missing).
    pub missing: Vec<(Vec<String>, usize)>,
    /// Actual rows not expected (with how many extra copies).
    pub unexpected: Vec<(Vec<String>, usize)>,
    /// The same rows, in another order (ordered comparisons only).
    pub order_differs: bool,
}

impl Comparison {
    /// Whether the rows match.
    pub fn matches(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && !self.order_differs
    }
}

fn counts(rows: &[Vec<String>]) -> BTreeMap<&Vec<String>, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row).or_insert(0) += 1;
    }
    counts
}

fn keys<'a>(rows: &'a [Vec<String>], order: &'a [usize]) -> impl Iterator<Item = Vec<&'a str>> {
    rows.iter().map(move |row| {
        order
            .iter()
            .filter_map(|i| row.get(*i).map(String::as_str))
            .collect()
    })
}

/// Compares `actual` with `expected`: as multisets, and when `order` gives the columns the
/// query sorts on, the sequence of those columns too (rows tied on them may come in any
/// order, as in any SQL engine).
pub fn compare(
    expected: &[Vec<String>],
    actual: &[Vec<String>],
    order: Option<&[usize]>,
) -> Comparison {
    let ordered = order.is_some();
    let want = counts(expected);
    let have = counts(actual);
    let missing = want
        .iter()
        .filter_map(|(row, n)| {
            let short = n.saturating_sub(have.get(row).copied().unwrap_or(0));
            (short > 0).then(|| ((*row).clone(), short))
        })
        .collect::<Vec<_>>();
    let unexpected = have
        .iter()
        .filter_map(|(row, n)| {
            let extra = n.saturating_sub(want.get(row).copied().unwrap_or(0));
            (extra > 0).then(|| ((*row).clone(), extra))
        })
        .collect::<Vec<_>>();
    let order_differs = order.is_some_and(|order| {
        missing.is_empty()
            && unexpected.is_empty()
            && !keys(expected, order).eq(keys(actual, order))
    });
    Comparison {
        ordered,
        missing,
        unexpected,
        order_differs,
    }
}

/// At most this many rows of each side are printed.
const SHOWN_ROWS: usize = 20;

fn row_line(row: &[String]) -> String {
    format!("({})", row.join(", "))
}

/// The mismatch report: query, expected rows, actual rows, difference.
pub fn describe(
    sql: &str,
    columns: &[String],
    expected: &[Vec<String>],
    actual: &[Vec<String>],
    comparison: &Comparison,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "query:\n  {}", sql.trim().replace('\n', "\n  "));
    let _ = writeln!(out, "columns: ({})", columns.join(", "));
    for (title, rows) in [("expected", expected), ("actual", actual)] {
        let order = if comparison.ordered {
            "in order"
        } else {
            "any order"
        };
        let _ = writeln!(out, "{title} ({} rows, {order}):", rows.len());
        for row in rows.iter().take(SHOWN_ROWS) {
            let _ = writeln!(out, "  {}", row_line(row));
        }
        if rows.len() > SHOWN_ROWS {
            let _ = writeln!(out, "  … {} more", rows.len() - SHOWN_ROWS);
        }
    }
    let _ = writeln!(out, "difference:");
    for (row, n) in &comparison.missing {
        let _ = writeln!(out, "- {}{}", row_line(row), times(*n));
    }
    for (row, n) in &comparison.unexpected {
        let _ = writeln!(out, "+ {}{}", row_line(row), times(*n));
    }
    if comparison.order_differs {
        let first = expected
            .iter()
            .zip(actual)
            .position(|(e, a)| e != a)
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "  same rows, different order: row {} is {} where {} was expected",
            first + 1,
            row_line(&actual[first]),
            row_line(&expected[first])
        );
    }
    out
}

fn times(n: usize) -> String {
    if n > 1 {
        format!(" ×{n}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn unordered_rows_match_in_any_order_and_copies_count() {
        let expected = [row(&["a", "1"]), row(&["b", "2"]), row(&["b", "2"])];
        let actual = [row(&["b", "2"]), row(&["a", "1"]), row(&["c", "3"])];
        let comparison = compare(&expected, &actual, None);
        assert_eq!(comparison.missing, [(row(&["b", "2"]), 1)]);
        assert_eq!(comparison.unexpected, [(row(&["c", "3"]), 1)]);
        let text = describe(
            "SELECT x",
            &row(&["k", "n"]),
            &expected,
            &actual,
            &comparison,
        );
        assert!(text.contains("- (b, 2)\n+ (c, 3)"), "{text}");
        assert!(text.contains("expected (3 rows, any order)"), "{text}");
    }

    #[test]
    fn rows_tied_on_the_order_keys_may_come_in_any_order() {
        let expected = [row(&["a", "2"]), row(&["b", "2"]), row(&["c", "1"])];
        let actual = [row(&["b", "2"]), row(&["a", "2"]), row(&["c", "1"])];
        assert!(compare(&expected, &actual, Some(&[1])).matches());
        let swapped = [row(&["c", "1"]), row(&["a", "2"]), row(&["b", "2"])];
        assert!(!compare(&expected, &swapped, Some(&[1])).matches());
    }

    #[test]
    fn ordered_rows_must_come_in_order() {
        let expected = [row(&["a"]), row(&["b"])];
        let actual = [row(&["b"]), row(&["a"])];
        assert!(compare(&expected, &actual, None).matches());
        let comparison = compare(&expected, &actual, Some(&[0]));
        assert!(!comparison.matches());
        let text = describe(
            "SELECT x ORDER BY x",
            &row(&["x"]),
            &expected,
            &actual,
            &comparison,
        );
        assert!(
            text.contains("row 1 is (b) where (a) was expected"),
            "{text}"
        );
    }

    proptest! {
        /// Any permutation matches unordered; dropping or adding a row never does.
        #[test]
        fn permutations_match_and_edits_do_not(
            rows in proptest::collection::vec(proptest::collection::vec("[ab]{1}", 1..3), 0..12),
            seed in any::<u64>(),
        ) {
            let mut shuffled = rows.clone();
            let n = shuffled.len();
            if n > 1 {
                for i in 0..n {
                    let j = usize::try_from((seed >> (i % 60)) % n as u64).unwrap_or(0);
                    shuffled.swap(i, j);
                }
            }
            prop_assert!(compare(&rows, &shuffled, None).matches());
            let mut more = shuffled.clone();
            more.push(row(&["extra"]));
            prop_assert!(!compare(&rows, &more, None).matches());
            if !rows.is_empty() {
                let fewer = &shuffled[1..];
                let comparison = compare(&rows, fewer, None);
                prop_assert_eq!(comparison.missing.iter().map(|(_, n)| n).sum::<usize>(), 1);
            }
        }
    }
}
