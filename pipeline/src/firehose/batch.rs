//! Records and PutRecordBatch batches.
//!
//! Rows are NDJSON lines in one contiguous buffer. Because Firehose concatenates record data
//! as it writes S3 objects, several whole rows may share one record: packing rows up to the
//! record limit cuts the number of records (Firehose bills ingestion per record, rounded up
//! to 5 KB) and of API calls, and the objects in S3 are byte-for-byte the same. A row never
//! straddles two records.

use std::ops::Range;

use super::{MAX_BYTES_PER_BATCH, MAX_RECORD_BYTES, MAX_RECORDS_PER_BATCH};

/// Record data as ranges over one buffer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Records {
    data: Vec<u8>,
    ranges: Vec<Range<usize>>,
}

/// A record larger than Firehose accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index} is {len} bytes, over Firehose's limit of {limit} bytes per record")]
pub struct RecordTooLarge {
    /// The record's position.
    pub index: usize,
    /// Its size.
    pub len: usize,
    /// The limit.
    pub limit: usize,
}

impl Records {
    /// Groups consecutive rows (given by their end offsets in `data`) into records of at most
    /// `max_record_bytes`; with `pack` false, one row per record.
    ///
    /// Fails when a single row is larger than `max_record_bytes`.
    pub fn from_rows(
        data: Vec<u8>,
        row_ends: &[usize],
        max_record_bytes: usize,
        pack: bool,
    ) -> Result<Self, RecordTooLarge> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut row_start = 0;
        for (index, &end) in row_ends.iter().enumerate() {
            let len = end - row_start;
            if len > max_record_bytes {
                return Err(RecordTooLarge {
                    index,
                    len,
                    limit: max_record_bytes,
                });
            }
            match ranges.last_mut() {
                Some(last)
                    if pack && last.end == row_start && end - last.start <= max_record_bytes =>
                {
                    last.end = end
                }
                _ => ranges.push(row_start..end),
            }
            row_start = end;
        }
        Ok(Self { data, ranges })
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The data of record `index`.
    pub fn get(&self, index: usize) -> &[u8] {
        &self.data[self.ranges[index].clone()]
    }

    /// All record data, in order (what S3 holds once everything is delivered).
    pub fn concatenated(&self) -> &[u8] {
        &self.data
    }

    /// Gives the buffer back, to reuse its allocation.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Total bytes of record data.
    pub fn total_bytes(&self) -> usize {
        self.ranges.iter().map(ExactSizeIterator::len).sum()
    }
}

/// Splits the records at `indices` into PutRecordBatch calls, in order, each within
/// [`MAX_RECORDS_PER_BATCH`] records and [`MAX_BYTES_PER_BATCH`] bytes.
///
/// Fails when a record exceeds [`MAX_RECORD_BYTES`].
pub fn plan_batches(
    records: &Records,
    indices: &[usize],
) -> Result<Vec<Vec<usize>>, RecordTooLarge> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let (mut current, mut current_bytes) = (Vec::new(), 0);
    for &index in indices {
        let len = records.get(index).len();
        if len > MAX_RECORD_BYTES {
            return Err(RecordTooLarge {
                index,
                len,
                limit: MAX_RECORD_BYTES,
            });
        }
        if current.len() == MAX_RECORDS_PER_BATCH || current_bytes + len > MAX_BYTES_PER_BATCH {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(index);
        current_bytes += len;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows(lens: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let mut data = Vec::new();
        let mut ends = Vec::new();
        for (i, &len) in lens.iter().enumerate() {
            data.extend(std::iter::repeat_n(
                b'a' + (i % 26) as u8,
                len.saturating_sub(1),
            ));
            data.push(b'\n');
            ends.push(data.len());
        }
        (data, ends)
    }

    #[test]
    fn packing_merges_whole_rows_up_to_the_limit() {
        let (data, ends) = rows(&[40, 40, 40, 100, 10]);
        let packed = Records::from_rows(data.clone(), &ends, 100, true).unwrap();
        let lens: Vec<usize> = (0..packed.len()).map(|i| packed.get(i).len()).collect();
        assert_eq!(lens, [80, 40, 100, 10]);
        let unpacked = Records::from_rows(data, &ends, 100, false).unwrap();
        assert_eq!(unpacked.len(), 5);
    }

    #[test]
    fn a_row_over_the_record_limit_is_refused() {
        let (data, ends) = rows(&[10, 101]);
        let err = Records::from_rows(data, &ends, 100, true).unwrap_err();
        assert_eq!(
            err,
            RecordTooLarge {
                index: 1,
                len: 101,
                limit: 100
            }
        );
    }

    #[test]
    fn batches_respect_both_limits() {
        let (data, ends) = rows(&[1; 1201]);
        let records = Records::from_rows(data, &ends, MAX_RECORD_BYTES, false).unwrap();
        let all: Vec<usize> = (0..records.len()).collect();
        let sizes: Vec<usize> = plan_batches(&records, &all)
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [500, 500, 201]);

        let (data, ends) = rows(&[MAX_RECORD_BYTES; 9]);
        let records = Records::from_rows(data, &ends, MAX_RECORD_BYTES, false).unwrap();
        let all: Vec<usize> = (0..records.len()).collect();
        let sizes: Vec<usize> = plan_batches(&records, &all)
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(
            sizes,
            [4, 4, 1],
            "4 records of 1000 KiB fit in 4 MiB, 5 do not"
        );
    }

    proptest! {
        #[test]
        fn batches_stay_within_limits_and_concatenate_back(
            lens in prop::collection::vec(1usize..300_000, 0..80),
            max_record in 1000usize..=MAX_RECORD_BYTES,
            pack: bool,
        ) {
            let lens: Vec<usize> = lens.into_iter().map(|l| l.min(max_record)).collect();
            let (data, ends) = rows(&lens);
            let records = Records::from_rows(data.clone(), &ends, max_record, pack).unwrap();
            let all: Vec<usize> = (0..records.len()).collect();
            let batches = plan_batches(&records, &all).unwrap();
            let mut rebuilt = Vec::new();
            for batch in &batches {
                prop_assert!(!batch.is_empty() && batch.len() <= MAX_RECORDS_PER_BATCH);
                let bytes: usize = batch.iter().map(|&i| records.get(i).len()).sum();
                prop_assert!(bytes <= MAX_BYTES_PER_BATCH);
                for &i in batch {
                    let record = records.get(i);
                    prop_assert!(record.len() <= max_record);
                    prop_assert!(record.ends_with(b"\n"), "records hold whole rows");
                    rebuilt.extend_from_slice(record);
                }
            }
            prop_assert_eq!(rebuilt, data);
        }
    }
}
