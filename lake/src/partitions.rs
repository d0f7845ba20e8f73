//! Partitions as the Glue crawler infers them from object keys, or as partition projection
//! defines them.
//!
//! Crawler rules (AWS's "How crawlers determine partitions"): below the table's root, every
//! folder level is a partition column. A level of `name=value` folders is the column `name`;
//! a level of plain folders (Firehose's default `YYYY/MM/DD/HH/`) becomes `partition_0`,
//! `partition_1`, … by depth. Objects at different depths, or a level mixing both forms, do not
//! make one table: that is reported with example keys, where the crawler would silently split
//! the data into several tables.
//!
//! Projection (the stack's `catalog.mode = "projection"`): one column `datehour` whose value is
//! the `yyyy/MM/dd/HH` folder path. A key that does not fit is listed as unreachable, because
//! Athena never looks there.

use std::collections::BTreeMap;

/// How partitions are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Inferred from the folders, as the crawler does.
    Crawler,
    /// Partition projection on `datehour` = `yyyy/MM/dd/HH`.
    Projection,
}

/// The projected partition column.
pub const PROJECTED_COLUMN: &str = "datehour";

/// The partitions of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partitions {
    /// Partition columns, outermost first.
    pub columns: Vec<String>,
    /// Each partition's values (one per column) and its object keys.
    pub partitions: BTreeMap<Vec<String>, Vec<String>>,
    /// Keys under the root that no partition reaches (projection only).
    pub unreachable: Vec<String>,
}

/// Objects that do not make one table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// Objects at different folder depths.
    #[error(
        "objects under {root} are at different depths: {first} has {first_depth} folder levels, {other} has {other_depth}; a crawler would make several tables"
    )]
    MixedDepths {
        /// The table's root.
        root: String,
        /// A key at one depth.
        first: String,
        /// Its depth.
        first_depth: usize,
        /// A key at another depth.
        other: String,
        /// Its depth.
        other_depth: usize,
    },
    /// A level mixes `name=value` and plain folders, or two names.
    #[error(
        "folder level {level} under {root} is `{first}` in one key and `{other}` in another; name every folder at a level the same way"
    )]
    MixedLevel {
        /// The table's root.
        root: String,
        /// The level, 0 outermost.
        level: usize,
        /// One folder.
        first: String,
        /// A folder that does not match it.
        other: String,
    },
}

/// The `name` of a `name=value` folder.
fn named(folder: &str) -> Option<(&str, &str)> {
    folder.split_once('=').filter(|(name, _)| !name.is_empty())
}

/// Infers the partitions of the objects `keys` under `root` (a prefix ending in `/`, or
/// empty). Keys outside the root are ignored.
pub fn infer(root: &str, keys: &[String], layout: Layout) -> Result<Partitions, PartitionError> {
    let under: Vec<(&String, Vec<&str>)> = keys
        .iter()
        .filter_map(|key| {
            let rest = key.strip_prefix(root)?;
            let mut parts: Vec<&str> = rest.split('/').collect();
            parts.pop();
            Some((key, parts))
        })
        .collect();
    match layout {
        Layout::Crawler => crawler(root, &under),
        Layout::Projection => Ok(projection(&under)),
    }
}

fn crawler(root: &str, under: &[(&String, Vec<&str>)]) -> Result<Partitions, PartitionError> {
    let Some((first_key, first_folders)) = under.first() else {
        return Ok(Partitions::default());
    };
    if let Some((other, folders)) = under.iter().find(|(_, f)| f.len() != first_folders.len()) {
        return Err(PartitionError::MixedDepths {
            root: root.to_owned(),
            first: (*first_key).clone(),
            first_depth: first_folders.len(),
            other: (*other).clone(),
            other_depth: folders.len(),
        });
    }
    let mut columns = Vec::new();
    for (level, folder) in first_folders.iter().enumerate() {
        let name = named(folder).map(|(name, _)| name);
        if let Some((_, other)) = under
            .iter()
            .find(|(_, folders)| named(folders[level]).map(|(n, _)| n) != name)
        {
            return Err(PartitionError::MixedLevel {
                root: root.to_owned(),
                level,
                first: (*folder).to_owned(),
                other: other[level].to_owned(),
            });
        }
        columns.push(name.map_or_else(|| format!("partition_{level}"), str::to_owned));
    }
    let mut partitions: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (key, folders) in under {
        let values = folders
            .iter()
            .map(|f| named(f).map_or(*f, |(_, value)| value).to_owned())
            .collect();
        partitions.entry(values).or_default().push((*key).clone());
    }
    Ok(Partitions {
        columns,
        partitions,
        unreachable: Vec::new(),
    })
}

/// Whether `folders` are `yyyy`, `MM`, `dd`, `HH` with values in range.
fn is_datehour(folders: &[&str]) -> bool {
    let number = |text: &str, len: usize, range: std::ops::RangeInclusive<u32>| {
        text.len() == len
            && text.bytes().all(|b| b.is_ascii_digit())
            && text.parse::<u32>().is_ok_and(|n| range.contains(&n))
    };
    matches!(folders, [year, month, day, hour]
        if number(year, 4, 0..=9999)
            && number(month, 2, 1..=12)
            && number(day, 2, 1..=31)
            && number(hour, 2, 0..=23))
}

fn projection(under: &[(&String, Vec<&str>)]) -> Partitions {
    let mut result = Partitions {
        columns: vec![PROJECTED_COLUMN.to_owned()],
        ..Partitions::default()
    };
    for (key, folders) in under {
        if is_datehour(folders) {
            result
                .partitions
                .entry(vec![folders.join("/")])
                .or_default()
                .push((*key).clone());
        } else {
            result.unreachable.push((*key).clone());
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn firehose_folders_become_unnamed_partition_columns() {
        let found = infer(
            "logs/",
            &keys(&[
                "logs/2026/11/24/17/ccp-logs-to-s3-1-2026-11-24-17-00-00-abc.gz",
                "logs/2026/11/24/17/ccp-logs-to-s3-1-2026-11-24-17-05-00-def.gz",
                "logs/2026/11/24/18/ccp-logs-to-s3-1-2026-11-24-18-00-00-ghi.gz",
                "errors/processing-failed/2026/11/24/18/x.gz",
            ]),
            Layout::Crawler,
        )
        .unwrap();
        assert_eq!(
            found.columns,
            ["partition_0", "partition_1", "partition_2", "partition_3"]
        );
        assert_eq!(found.partitions.len(), 2);
        assert_eq!(
            found.partitions[&keys(&["2026", "11", "24", "17"])].len(),
            2
        );
    }

    #[test]
    fn named_folders_become_named_columns() {
        let found = infer(
            "t/",
            &keys(&[
                "t/region=eu-west-1/day=2026-11-24/a.json",
                "t/region=us-east-1/day=2026-11-24/b.json",
            ]),
            Layout::Crawler,
        )
        .unwrap();
        assert_eq!(found.columns, ["region", "day"]);
        assert!(
            found
                .partitions
                .contains_key(&keys(&["us-east-1", "2026-11-24"]))
        );
    }

    #[test]
    fn layouts_that_do_not_make_one_table_are_named() {
        let error = infer(
            "t/",
            &keys(&["t/2026/a.gz", "t/2026/11/b.gz"]),
            Layout::Crawler,
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                PartitionError::MixedDepths {
                    first_depth: 1,
                    other_depth: 2,
                    ..
                }
            ),
            "{error}"
        );
        let error = infer(
            "t/",
            &keys(&["t/region=x/a.gz", "t/2026/b.gz"]),
            Layout::Crawler,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`region=x` in one key and `2026`"),
            "{error}"
        );
    }

    #[test]
    fn projection_reads_datehour_and_lists_what_it_cannot_reach() {
        let found = infer(
            "logs/",
            &keys(&[
                "logs/2026/11/24/17/a.gz",
                "logs/2026/13/24/17/b.gz",
                "logs/c.gz",
            ]),
            Layout::Projection,
        )
        .unwrap();
        assert_eq!(found.columns, [PROJECTED_COLUMN]);
        assert_eq!(
            found.partitions[&keys(&["2026/11/24/17"])],
            keys(&["logs/2026/11/24/17/a.gz"])
        );
        assert_eq!(
            found.unreachable,
            keys(&["logs/2026/13/24/17/b.gz", "logs/c.gz"])
        );
    }

    proptest! {
        /// Every key under the root lands in exactly one partition (or is unreachable), and the
        /// values rebuild the key's folders.
        #[test]
        fn every_key_lands_in_one_partition(
            hours in proptest::collection::vec((2020u32..2030, 1u32..=12, 1u32..=28, 0u32..24, 0u32..1000), 1..40),
        ) {
            let list: Vec<String> = hours
                .iter()
                .map(|(y, m, d, h, n)| format!("logs/{y:04}/{m:02}/{d:02}/{h:02}/file-{n}.gz"))
                .collect();
            for layout in [Layout::Crawler, Layout::Projection] {
                let found = infer("logs/", &list, layout).unwrap();
                let total: usize = found.partitions.values().map(Vec::len).sum();
                prop_assert_eq!(total + found.unreachable.len(), list.len());
                prop_assert!(found.unreachable.is_empty());
                for (values, members) in &found.partitions {
                    for key in members {
                        let folders = key.strip_prefix("logs/").unwrap().rsplit_once('/').unwrap().0;
                        prop_assert_eq!(values.join("/"), folders);
                    }
                }
            }
        }
    }
}
