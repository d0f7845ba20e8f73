//! How Firehose turns incoming records into S3 objects: it buffers by size (`SizeInMBs`) and
//! interval (`IntervalInSeconds`), and "the condition satisfied first triggers data delivery"
//! (Amazon Data Firehose Developer Guide, "Data Delivery Frequency"); records are concatenated
//! as sent ("Data Delivery Format": add your own separator); the object is compressed as
//! configured and named by [`super::keys`], its time the arrival of its oldest record
//! ("Custom Prefixes": timestamps use the approximate arrival of the oldest record).
//!
//! Where the guide is silent, written down here: a record that brings the buffer to or past the
//! size hint goes into the object being closed (objects may exceed the hint by one record);
//! the interval counts from the oldest buffered record's arrival; the dynamic raising of the
//! buffer size when delivery falls behind is not modelled. Time is the harness's simulated
//! clock, in epoch milliseconds.

/// Bytes in one MiB, the unit of `SizeInMBs`.
pub const BYTES_PER_MIB: usize = 1024 * 1024;

/// How delivered objects are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectCompression {
    /// `UNCOMPRESSED`: no extension.
    Uncompressed,
    /// `GZIP`: `.gz`.
    Gzip,
}

/// A `CompressionFormat` the model does not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "CompressionFormat {0:?} is not modelled by the harness's Firehose (GZIP and UNCOMPRESSED \
     are; the stack definition allows only those)"
)]
pub struct UnmodelledCompression(pub String);

impl ObjectCompression {
    /// The stream's `CompressionFormat`; the formats not modelled are refused by name.
    pub fn from_format(format: &str) -> Result<Self, UnmodelledCompression> {
        match format {
            "UNCOMPRESSED" => Ok(Self::Uncompressed),
            "GZIP" => Ok(Self::Gzip),
            other => Err(UnmodelledCompression(other.to_owned())),
        }
    }

    /// The key's file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Uncompressed => "",
            Self::Gzip => ".gz",
        }
    }

    /// The object body for `data`, gzip at `level`.
    pub fn encode(self, data: &[u8], level: u32) -> Vec<u8> {
        match self {
            Self::Uncompressed => data.to_vec(),
            Self::Gzip => pipeline::etl::payload::gzip_at(data, level),
        }
    }
}

/// The buffering hints of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferingHints {
    /// `SizeInMBs`.
    pub size_mib: usize,
    /// `IntervalInSeconds`.
    pub interval_seconds: u64,
}

/// Records ready to become one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flushed {
    /// The oldest record's arrival, epoch milliseconds (names the object).
    pub oldest_arrival_ms: i64,
    /// The records, concatenated as sent.
    pub data: Vec<u8>,
    /// How many records.
    pub records: usize,
    /// How many newline-ended rows they hold (as counted when each was pushed).
    pub rows: usize,
    /// Where each record ends in `data` (format conversion reads record by record).
    pub record_ends: Vec<usize>,
    /// When its rows arrived, in runs of rows that arrived together.
    pub arrivals: Vec<ArrivalRun>,
    /// Why the buffer was delivered.
    pub trigger: Trigger,
}

/// Rows of a buffer that arrived at one time: those from the previous run's end up to
/// `rows_end` (counted from the buffer's first row). A row's arrival is where its latency's
/// Firehose part (buffering, then the write) begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrivalRun {
    /// The end of the run, rows from the buffer's first.
    pub rows_end: usize,
    /// When they arrived, simulated epoch milliseconds.
    pub arrival_ms: i64,
}

/// When row `row` (counted from the object's first) arrived, from its object's runs: `None`
/// past the last.
pub fn row_arrival_ms(runs: &[ArrivalRun], row: usize) -> Option<i64> {
    let run = runs.partition_point(|r| r.rows_end <= row);
    runs.get(run).map(|r| r.arrival_ms)
}

/// What delivered a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The size hint was reached.
    Size,
    /// The interval passed since the oldest record arrived.
    Interval,
    /// The run ended (the stream is drained).
    End,
}

/// One stream's buffer.
#[derive(Debug)]
pub struct DeliveryBuffer {
    hints: BufferingHints,
    data: Vec<u8>,
    records: usize,
    rows: usize,
    record_ends: Vec<usize>,
    arrivals: Vec<ArrivalRun>,
    oldest_arrival_ms: Option<i64>,
}

impl DeliveryBuffer {
    /// An empty buffer with these hints.
    pub fn new(hints: BufferingHints) -> Self {
        Self {
            hints,
            data: Vec::new(),
            records: 0,
            rows: 0,
            record_ends: Vec::new(),
            arrivals: Vec::new(),
            oldest_arrival_ms: None,
        }
    }

    /// Delivers what is buffered if the interval has passed by `now_ms`, then takes the record
    /// that arrived at `now_ms` (holding `rows` rows), delivering again if that reaches the
    /// size hint.
    pub fn push(&mut self, now_ms: i64, record: &[u8], rows: usize) -> Vec<Flushed> {
        let mut out: Vec<Flushed> = self.tick(now_ms).into_iter().collect();
        self.oldest_arrival_ms.get_or_insert(now_ms);
        self.data.extend_from_slice(record);
        self.records += 1;
        self.rows += rows;
        match self.arrivals.last_mut() {
            Some(run) if run.arrival_ms == now_ms => run.rows_end = self.rows,
            _ => self.arrivals.push(ArrivalRun {
                rows_end: self.rows,
                arrival_ms: now_ms,
            }),
        }
        self.record_ends.push(self.data.len());
        if self.data.len() >= self.hints.size_mib * BYTES_PER_MIB {
            out.extend(self.take(Trigger::Size));
        }
        out
    }

    /// Delivers what is buffered if the interval has passed since the oldest record arrived.
    pub fn tick(&mut self, now_ms: i64) -> Option<Flushed> {
        let interval_ms = i64::try_from(self.hints.interval_seconds)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        match self.oldest_arrival_ms {
            Some(oldest) if now_ms.saturating_sub(oldest) >= interval_ms => {
                self.take(Trigger::Interval)
            }
            _ => None,
        }
    }

    /// Delivers whatever is left (the end of a run).
    pub fn finish(&mut self) -> Option<Flushed> {
        self.take(Trigger::End)
    }

    /// Gives a delivered buffer's storage back, so that the next object is written into memory
    /// already in use rather than freshly mapped.
    pub fn recycle(&mut self, mut data: Vec<u8>, mut record_ends: Vec<usize>) {
        if self.data.is_empty() && self.data.capacity() < data.capacity() {
            data.clear();
            self.data = data;
        }
        if self.record_ends.is_empty() && self.record_ends.capacity() < record_ends.capacity() {
            record_ends.clear();
            self.record_ends = record_ends;
        }
    }

    fn take(&mut self, trigger: Trigger) -> Option<Flushed> {
        let oldest_arrival_ms = self.oldest_arrival_ms.take()?;
        let records = std::mem::take(&mut self.records);
        Some(Flushed {
            oldest_arrival_ms,
            data: std::mem::take(&mut self.data),
            records,
            rows: std::mem::take(&mut self.rows),
            record_ends: std::mem::take(&mut self.record_ends),
            arrivals: std::mem::take(&mut self.arrivals),
            trigger,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    const MIB: usize = BYTES_PER_MIB;

    fn hints(size_mib: usize, interval_seconds: u64) -> BufferingHints {
        BufferingHints {
            size_mib,
            interval_seconds,
        }
    }

    /// "Data Delivery Frequency": the condition satisfied first triggers delivery. With the
    /// stack's defaults (5 MiB, 300 s), a trickle is delivered by the interval.
    #[test]
    fn the_interval_delivers_a_trickle() {
        let mut buffer = DeliveryBuffer::new(hints(5, 300));
        assert!(buffer.push(0, b"a\n", 1).is_empty());
        assert!(buffer.push(299_999, b"b\n", 1).is_empty());
        let flushed = buffer.push(300_000, b"c\n", 1);
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].data, b"a\nb\n");
        assert_eq!(flushed[0].record_ends, [2, 4]);
        assert_eq!(flushed[0].oldest_arrival_ms, 0);
        assert_eq!(flushed[0].trigger, Trigger::Interval);
        let rest = buffer.finish().unwrap();
        assert_eq!(
            (rest.data.as_slice(), rest.oldest_arrival_ms),
            (&b"c\n"[..], 300_000)
        );
        assert_eq!(buffer.finish(), None);
    }

    /// Rows keep their arrival through the buffer: the runs say when each row of the object
    /// arrived (its latency's Firehose part starts there).
    #[test]
    fn each_row_keeps_its_arrival() {
        let mut buffer = DeliveryBuffer::new(hints(5, 300));
        assert!(buffer.push(1_000, b"a\nb\n", 2).is_empty());
        assert!(buffer.push(1_000, b"c\n", 1).is_empty());
        assert!(buffer.push(4_000, b"d\n", 1).is_empty());
        let flushed = buffer.finish().unwrap();
        let arrivals: Vec<Option<i64>> = (0..5)
            .map(|row| row_arrival_ms(&flushed.arrivals, row))
            .collect();
        assert_eq!(
            arrivals,
            [Some(1_000), Some(1_000), Some(1_000), Some(4_000), None]
        );
        assert!(buffer.push(9_000, b"e\n", 1).is_empty());
        let next = buffer.finish().unwrap();
        assert_eq!(row_arrival_ms(&next.arrivals, 0), Some(9_000));
    }

    #[test]
    fn the_size_hint_delivers_a_burst_before_the_interval() {
        let mut buffer = DeliveryBuffer::new(hints(1, 900));
        let record = vec![b'x'; 300 * 1024];
        let mut objects = Vec::new();
        for i in 0..10 {
            objects.extend(buffer.push(i, &record, 1));
        }
        objects.extend(buffer.finish());
        let sizes: Vec<usize> = objects.iter().map(|o| o.data.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 10 * 300 * 1024);
        assert!(
            objects[..objects.len() - 1]
                .iter()
                .all(|o| o.trigger == Trigger::Size)
        );
        assert!(sizes[0] >= MIB && sizes[0] < MIB + 300 * 1024, "{sizes:?}");
        assert_eq!(objects.iter().map(|o| o.records).sum::<usize>(), 10);
    }

    #[test]
    fn gzip_objects_decompress_to_the_records_and_other_formats_are_refused_by_name() {
        let body = ObjectCompression::Gzip.encode(b"{\"a\":1}\n{\"a\":2}\n", 6);
        let mut text = String::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(ObjectCompression::Gzip.extension(), ".gz");
        assert_eq!(ObjectCompression::Uncompressed.extension(), "");
        let error = ObjectCompression::from_format("Snappy").unwrap_err();
        assert!(error.to_string().contains("not modelled"), "{error}");
    }

    /// Firehose's objects carry XFL 0 in their gzip headers (neither zlib's fastest nor its
    /// best): so do the model's, at Firehose's level and at the memory world's.
    #[test]
    fn objects_carry_the_gzip_header_byte_firehose_writes() {
        const XFL: usize = 8;
        for level in [crate::firehose::FIREHOSE_GZIP_LEVEL, 2] {
            let body = ObjectCompression::Gzip.encode(b"{\"a\":1}\n", level);
            assert_eq!(body.get(XFL), Some(&0), "level {level}");
        }
        assert_eq!(ObjectCompression::Gzip.encode(b"{}", 1).get(XFL), Some(&4));
    }
}
