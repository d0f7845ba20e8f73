//! What landed in the bucket, read through the crawler's object-store reader: every object under
//! the delivery stream's prefix, gunzipped when Firehose compressed it (LocalStack does not),
//! read as NDJSON rows, and rows of split events joined back by `part_index` into the events the
//! ledger is reconciled against. Parquet objects (Firehose's format conversion) are read by
//! their identity columns. Events are handed on as they are read (an event in one row at
//! once, a split one when its parts are in), so that a run's landed events are never all held.
//! Objects under the error prefix are counted: Firehose writes there what it could not deliver.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use lake::Location;
use lake::crawl::{self, CrawlError, ObjectFormat};
use lake::gzip::{self, GunzipError};
use serde::Deserialize;

use pipeline::filter_pattern::FilterPattern;
use standins::firehose::LandedObject;
use standins::firehose::buffer::row_arrival_ms;

use crate::ledger::{Arrival, LandedEvent, Ledger, Reconciliation};

/// When the objects the run's Firehose model wrote landed, and when their rows arrived, by key:
/// what gives each landed event its latency ([`Arrival`]). Empty where no model wrote the
/// objects (a deployed stack's bucket).
#[derive(Debug, Default)]
pub struct ObjectTimes<'a>(HashMap<&'a str, &'a LandedObject>);

impl<'a> ObjectTimes<'a> {
    /// The times of `objects`.
    pub fn of(objects: &'a [LandedObject]) -> Self {
        Self(objects.iter().map(|o| (o.key.as_str(), o)).collect())
    }

    /// The arrival of row `row` (counted from the first) of the object at `key`.
    fn arrival(&self, key: &str, row: usize) -> Option<Arrival> {
        let object = self.0.get(key)?;
        Some(Arrival {
            firehose_ms: row_arrival_ms(&object.arrivals, row),
            landed_ms: object.landed_ms,
        })
    }
}

/// The columns of a row the reconciliation needs, borrowed from the object's text where no
/// escape has to be undone.
#[derive(Debug, Deserialize)]
struct RowIdentity<'a> {
    #[serde(borrow)]
    log_stream: Cow<'a, str>,
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    event_timestamp_ms: i64,
    part_index: u32,
    part_count: u32,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// The bucket's content.
#[derive(Debug, Default)]
pub struct Landed {
    /// Objects read under the prefix.
    pub objects: usize,
    /// Bytes stored (compressed where compressed).
    pub bytes: usize,
    /// Each object's size, bytes (S3's lifecycle treats objects by size).
    pub object_sizes: Vec<u64>,
    /// Rows read.
    pub rows: usize,
    /// Events handed on, parts joined: one per delivered copy.
    pub event_copies: usize,
    /// Of those, per log stream.
    pub copies_by_stream: BTreeMap<String, usize>,
    /// Rows or objects that could not be read, with where.
    pub unreadable: Vec<String>,
    /// Objects under the error prefix.
    pub error_objects: usize,
}

impl Landed {
    /// A row read: its event handed on when whole, held when it is one part of a split event.
    fn take(
        &mut self,
        row: RowIdentity<'_>,
        arrival: Option<Arrival>,
        split: &mut SplitEvents,
        sink: &mut impl FnMut(&LandedEvent<'_>),
    ) {
        if row.part_count <= 1 {
            self.hand_on(
                &LandedEvent {
                    log_stream: row.log_stream,
                    event_id: row.event_id,
                    timestamp_ms: row.event_timestamp_ms,
                    message: row.message,
                    arrival,
                },
                sink,
            );
        } else {
            split.add(row, arrival);
        }
    }

    /// Counts a landed event and hands it on.
    fn hand_on(&mut self, event: &LandedEvent<'_>, sink: &mut impl FnMut(&LandedEvent<'_>)) {
        self.event_copies += 1;
        match self.copies_by_stream.get_mut(event.log_stream.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.copies_by_stream
                    .insert(event.log_stream.clone().into_owned(), 1);
            }
        }
        sink(event);
    }
}

/// The bucket could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("reading the delivered objects back: {0}")]
pub struct LandedError(#[from] CrawlError);

/// Most text one delivered object may decompress to: Firehose buffers at most 128 MiB
/// (`SizeInMBs`) before it compresses, so this leaves room without letting a damaged or hostile
/// object fill memory.
pub const MAX_OBJECT_TEXT: u64 = 1 << 30;

/// Reads every object under `data`'s root (and counts those under `errors`' root), through
/// the same object-store reader as the crawler, and hands each landed event to `sink`.
pub async fn read(
    data: &Location,
    errors: &Location,
    times: &ObjectTimes<'_>,
    sink: &mut (impl FnMut(&LandedEvent<'_>) + Send),
) -> Result<Landed, LandedError> {
    read_since(data, errors, None, times, sink).await
}

/// [`read`], of the objects last modified at or after `since_ms` (epoch ms) only, when given:
/// what a run against a bucket that holds more than its own rows reads.
pub async fn read_since(
    data: &Location,
    errors: &Location,
    since_ms: Option<i64>,
    times: &ObjectTimes<'_>,
    sink: &mut (impl FnMut(&LandedEvent<'_>) + Send),
) -> Result<Landed, LandedError> {
    let error_root = errors.root.clone();
    let excluded = if error_root.starts_with(&data.root) && error_root != data.root {
        vec![error_root]
    } else {
        Vec::new()
    };
    let mut landed = Landed {
        error_objects: crawl::list(errors, &[]).await?.len(),
        ..Landed::default()
    };
    let mut split = SplitEvents::default();
    for (key, meta) in crawl::list(data, &excluded).await? {
        if since_ms.is_some_and(|since| meta.last_modified.timestamp_millis() < since) {
            continue;
        }
        let bytes = crawl::read(data, &meta).await?;
        landed.objects += 1;
        landed.bytes += bytes.len();
        landed.object_sizes.push(bytes.len() as u64);
        let where_ = format!("{}/{key}", data.url.trim_end_matches('/'));
        if ObjectFormat::of_key(&key) == ObjectFormat::Parquet {
            match parquet_rows(bytes) {
                Ok(rows) => {
                    for (index, row) in rows.into_iter().enumerate() {
                        landed.rows += 1;
                        landed.take(row, times.arrival(&key, index), &mut split, sink);
                    }
                }
                Err(why) => landed.unreadable.push(format!("{where_}: {why}")),
            }
            continue;
        }
        let text = match decode_object(&bytes) {
            Ok(text) => text,
            Err(why) => {
                landed.unreadable.push(format!("{where_}: {why}"));
                continue;
            }
        };
        let non_empty = text.lines().enumerate().filter(|(_, l)| !l.is_empty());
        for (index, (number, line)) in non_empty.enumerate() {
            landed.rows += 1;
            match serde_json::from_str::<RowIdentity>(line) {
                Ok(row) => landed.take(row, times.arrival(&key, index), &mut split, sink),
                Err(e) => landed
                    .unreadable
                    .push(format!("{where_} line {}: {e}", number + 1)),
            }
        }
    }
    for event in split.join(&mut landed.unreadable) {
        landed.hand_on(&event, sink);
    }
    Ok(landed)
}

/// Reads the bucket back ([`read`]) and reconciles each landed event with `ledger` under
/// `pattern` as it is read; marks in the ledger what a restart took.
pub async fn read_and_reconcile(
    data: &Location,
    errors: &Location,
    times: &ObjectTimes<'_>,
    ledger: &mut Ledger,
    pattern: &FilterPattern,
) -> Result<(Landed, Reconciliation), LandedError> {
    let mut reconciler = ledger.reconciler(pattern);
    let landed = read(data, errors, times, &mut |event| reconciler.landed(event)).await?;
    let (reconciliation, lost) = reconciler.finish();
    ledger.mark_lost(&lost);
    Ok((landed, reconciliation))
}

/// Why a delivered object is not text.
#[derive(Debug, thiserror::Error)]
enum ObjectError {
    #[error(transparent)]
    Gzip(#[from] GunzipError),
    #[error("not UTF-8: {0}")]
    NotUtf8(#[from] std::string::FromUtf8Error),
}

/// Why a Parquet object's rows could not be read back.
#[derive(Debug, thiserror::Error)]
enum ParquetRowsError {
    #[error("not Parquet: {0}")]
    NotParquet(datafusion::parquet::errors::ParquetError),
    #[error("Parquet: {0}")]
    Read(#[from] datafusion::arrow::error::ArrowError),
    #[error("Parquet: no column {0}")]
    MissingColumn(&'static str),
    #[error("Parquet: the identity columns have other types than the table's")]
    ColumnTypes,
    #[error("Parquet: row {0} lacks an identity column")]
    NullIdentity(usize),
}

/// An object's text: gunzipped when it is gzip (Firehose's compression; LocalStack writes
/// plain objects), as it is otherwise.
fn decode_object(bytes: &[u8]) -> Result<String, ObjectError> {
    let text = if gzip::is_gzip(bytes) {
        gzip::gunzip(bytes, MAX_OBJECT_TEXT)?
    } else {
        bytes.to_vec()
    };
    Ok(String::from_utf8(text)?)
}

/// The identity columns of every row of a Parquet object (Firehose's format conversion), read
/// with only those columns decoded.
fn parquet_rows(bytes: bytes::Bytes) -> Result<Vec<RowIdentity<'static>>, ParquetRowsError> {
    use datafusion::arrow::array::{Array as _, AsArray as _, RecordBatch};
    use datafusion::arrow::datatypes::{Int32Type, Int64Type};
    use datafusion::parquet::arrow::ProjectionMask;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    const COLUMNS: [&str; 6] = [
        "log_stream",
        "event_id",
        "event_timestamp_ms",
        "part_index",
        "part_count",
        "message",
    ];
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(ParquetRowsError::NotParquet)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), COLUMNS);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(ParquetRowsError::NotParquet)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch?;
        let column = |name: &'static str| {
            batch
                .column_by_name(name)
                .ok_or(ParquetRowsError::MissingColumn(name))
        };
        let (stream, id, time, index, count, message) = (
            column("log_stream")?,
            column("event_id")?,
            column("event_timestamp_ms")?,
            column("part_index")?,
            column("part_count")?,
            column("message")?,
        );
        let typed = || -> Option<_> {
            Some((
                stream.as_string_opt::<i32>()?,
                id.as_string_opt::<i32>()?,
                time.as_primitive_opt::<Int64Type>()?,
                index.as_primitive_opt::<Int32Type>()?,
                count.as_primitive_opt::<Int32Type>()?,
                message.as_string_opt::<i32>()?,
            ))
        };
        let (stream, id, time, index, count, message) =
            typed().ok_or(ParquetRowsError::ColumnTypes)?;
        for i in 0..batch.num_rows() {
            if stream.is_null(i) || id.is_null(i) || time.is_null(i) || message.is_null(i) {
                return Err(ParquetRowsError::NullIdentity(i));
            }
            rows.push(RowIdentity {
                log_stream: stream.value(i).to_owned().into(),
                event_id: id.value(i).to_owned().into(),
                event_timestamp_ms: time.value(i),
                part_index: u32::try_from(index.value(i)).unwrap_or(0),
                part_count: u32::try_from(count.value(i)).unwrap_or(0),
                message: message.value(i).to_owned().into(),
            });
        }
    }
    Ok(rows)
}

/// Rows of events split into parts, held until every row is read, per (stream, event id).
#[derive(Debug, Default)]
struct SplitEvents {
    grouped: BTreeMap<(String, String), SplitEvent>,
}

/// One split event's rows.
#[derive(Debug)]
struct SplitEvent {
    timestamp_ms: i64,
    part_count: u32,
    /// Each part's copies.
    parts: BTreeMap<u32, Vec<String>>,
    /// The latest of its rows' arrivals (the event is whole when its last part is); `None`
    /// when any part's is not known.
    arrival: Option<Arrival>,
}

impl SplitEvents {
    fn add(&mut self, row: RowIdentity<'_>, arrival: Option<Arrival>) {
        let entry = self
            .grouped
            .entry((row.log_stream.into_owned(), row.event_id.into_owned()))
            .or_insert_with(|| SplitEvent {
                timestamp_ms: row.event_timestamp_ms,
                part_count: row.part_count,
                parts: BTreeMap::new(),
                arrival,
            });
        entry.arrival = match (entry.arrival, arrival) {
            (Some(a), Some(b)) => Some(a.latest(b)),
            _ => None,
        };
        entry
            .parts
            .entry(row.part_index)
            .or_default()
            .push(row.message.into_owned());
    }

    /// The events, parts joined: an event delivered twice yields two copies; one with parts
    /// missing is named in `unreadable`.
    fn join(self, unreadable: &mut Vec<String>) -> Vec<LandedEvent<'static>> {
        let mut events = Vec::new();
        for ((log_stream, event_id), event) in self.grouped {
            let SplitEvent {
                timestamp_ms,
                part_count,
                parts,
                arrival,
            } = event;
            let copies = parts.values().map(Vec::len).min().unwrap_or(0);
            if u32::try_from(parts.len()).unwrap_or(u32::MAX) != part_count.max(1) {
                unreadable.push(format!(
                    "{log_stream} event {event_id}: {} of {part_count} parts landed",
                    parts.len()
                ));
                continue;
            }
            for copy in 0..copies {
                let message: String = parts.values().map(|p| p[copy].as_str()).collect();
                events.push(LandedEvent {
                    log_stream: log_stream.clone().into(),
                    event_id: event_id.clone().into(),
                    timestamp_ms,
                    message: message.into(),
                    arrival,
                });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, index: u32, count: u32, message: &str) -> RowIdentity<'static> {
        RowIdentity {
            log_stream: "s/i-1".into(),
            event_id: id.to_owned().into(),
            event_timestamp_ms: 5,
            part_index: index,
            part_count: count,
            message: message.to_owned().into(),
        }
    }

    #[test]
    fn parts_join_in_order_and_copies_are_kept() {
        let mut unreadable = Vec::new();
        let mut split = SplitEvents::default();
        for row in [
            row("2", 1, 2, "world"),
            row("2", 0, 2, "hello "),
            row("1", 0, 1, "a"),
            row("1", 0, 1, "a"),
            row("3", 0, 2, "half"),
        ] {
            split.add(row, None);
        }
        let events = split.join(&mut unreadable);
        let messages: Vec<_> = events
            .iter()
            .map(|e| (e.event_id.as_ref(), e.message.as_ref()))
            .collect();
        assert_eq!(messages, [("1", "a"), ("1", "a"), ("2", "hello world")]);
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].contains("1 of 2 parts"));
    }

    #[test]
    fn gzip_and_plain_objects_both_read() {
        let plain = b"{\"a\":1}\n";
        assert_eq!(decode_object(plain).unwrap(), "{\"a\":1}\n");
        let zipped = pipeline::etl::decode::gzip(plain);
        assert_eq!(decode_object(&zipped).unwrap(), "{\"a\":1}\n");
        assert!(
            decode_object(&[0x1f, 0x8b, 0, 1])
                .unwrap_err()
                .to_string()
                .starts_with("gzip")
        );
    }
}
