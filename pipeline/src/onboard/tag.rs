//! The management tag check. EC2 tag keys and values are case-sensitive, so the configured
//! key and value must match exactly; near misses (case, surrounding spaces) are reported as
//! such, because that is the mistake users make.

use serde::Serialize;

/// The result of looking for the management tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TagMatch {
    /// Key and value match exactly.
    Matched,
    /// No tag key comes close.
    Missing,
    /// A key matches exactly but the value does not.
    ValueDiffers {
        /// The value found.
        found: String,
        /// Whether it differs only in case or surrounding spaces.
        near_miss: bool,
    },
    /// No key matches exactly, but one differs only in case or surrounding spaces.
    KeyNearMiss {
        /// The key found.
        found_key: String,
        /// Its value.
        found_value: String,
    },
}

impl TagMatch {
    /// Whether the instance is to be onboarded.
    pub fn is_match(&self) -> bool {
        matches!(self, Self::Matched)
    }

    /// A sentence for the outcome and the logs.
    pub fn reason(&self, key: &str, value: &str) -> String {
        match self {
            Self::Matched => format!("management tag {key}={value} matched"),
            Self::Missing => {
                format!("no management tag {key}={value}: the instance has no tag {key:?}")
            }
            Self::ValueDiffers {
                found,
                near_miss: true,
            } => format!(
                "management tag {key} has value {found:?}, which differs from {value:?} only in case or spaces; tag values are case-sensitive"
            ),
            Self::ValueDiffers {
                found,
                near_miss: false,
            } => {
                format!("management tag {key} has value {found:?}, not {value:?}")
            }
            Self::KeyNearMiss {
                found_key,
                found_value,
            } => format!(
                "tag key {found_key:?} (value {found_value:?}) differs from the management tag key {key:?} only in case or spaces; tag keys are case-sensitive"
            ),
        }
    }
}

/// Looks for the tag `key`=`value` among `tags`.
pub fn match_management_tag(tags: &[(String, String)], key: &str, value: &str) -> TagMatch {
    if let Some((_, found)) = tags.iter().find(|(k, _)| k == key) {
        return if found == value {
            TagMatch::Matched
        } else {
            TagMatch::ValueDiffers {
                found: found.clone(),
                near_miss: loosely_equal(found, value),
            }
        };
    }
    match tags.iter().find(|(k, _)| loosely_equal(k, key)) {
        Some((found_key, found_value)) => TagMatch::KeyNearMiss {
            found_key: found_key.clone(),
            found_value: found_value.clone(),
        },
        None => TagMatch::Missing,
    }
}

fn loosely_equal(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_cases_users_meet() {
        let key = "CCP-Managed";
        let value = "true";
        assert_eq!(
            match_management_tag(
                &tags(&[("Name", "web"), ("CCP-Managed", "true")]),
                key,
                value
            ),
            TagMatch::Matched
        );
        assert_eq!(
            match_management_tag(&tags(&[("Name", "web")]), key, value),
            TagMatch::Missing
        );
        let key_case = match_management_tag(&tags(&[("ccp-managed", "true")]), key, value);
        assert_eq!(
            key_case.reason(key, value),
            "tag key \"ccp-managed\" (value \"true\") differs from the management tag key \"CCP-Managed\" only in case or spaces; tag keys are case-sensitive"
        );
        let value_case = match_management_tag(&tags(&[("CCP-Managed", "True")]), key, value);
        assert_eq!(
            value_case.reason(key, value),
            "management tag CCP-Managed has value \"True\", which differs from \"true\" only in case or spaces; tag values are case-sensitive"
        );
        let spaces = match_management_tag(&tags(&[("CCP-Managed ", "true")]), key, value);
        assert!(matches!(spaces, TagMatch::KeyNearMiss { .. }));
        let other_value = match_management_tag(&tags(&[("CCP-Managed", "no")]), key, value);
        assert_eq!(
            other_value,
            TagMatch::ValueDiffers {
                found: "no".to_owned(),
                near_miss: false
            }
        );
        // An exact key wins over a near miss listed before it.
        assert_eq!(
            match_management_tag(
                &tags(&[("ccp-managed", "x"), ("CCP-Managed", "true")]),
                key,
                value
            ),
            TagMatch::Matched
        );
    }

    proptest! {
        #[test]
        fn only_an_exact_pair_matches(
            key in "[A-Za-z][A-Za-z0-9:_-]{0,12}",
            value in "[A-Za-z0-9]{0,8}",
            other in proptest::collection::vec(("[A-Za-z0-9]{1,8}", "[A-Za-z0-9]{0,8}"), 0..6),
            flip in any::<prop::sample::Index>(),
        ) {
            let mut list: Vec<(String, String)> = other.into_iter().filter(|(k, _)| k.to_lowercase() != key.to_lowercase()).collect();
            prop_assert!(!match_management_tag(&list, &key, &value).is_match());
            list.push((key.clone(), value.clone()));
            prop_assert!(match_management_tag(&list, &key, &value).is_match());
            // Changing the case of one letter of the key turns a match into a near miss.
            let letters: Vec<usize> = key.char_indices().filter(|(_, c)| c.is_ascii_alphabetic()).map(|(i, _)| i).collect();
            let at = letters[flip.index(letters.len())];
            let mut flipped: Vec<char> = key.chars().collect();
            flipped[at] = if flipped[at].is_ascii_uppercase() { flipped[at].to_ascii_lowercase() } else { flipped[at].to_ascii_uppercase() };
            let flipped: String = flipped.into_iter().collect();
            if let Some(last) = list.last_mut() {
                last.0 = flipped.clone();
            }
            let result = match_management_tag(&list, &key, &value);
            prop_assert_eq!(result, TagMatch::KeyNearMiss { found_key: flipped, found_value: value.clone() });
        }
    }
}
