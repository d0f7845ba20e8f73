//! Gunzip with a size cap, for the objects Firehose writes (`.gz`, possibly several gzip members
//! one after the other). The one decoder of the read side: the crawler's samples, the run's
//! read-back of the bucket. (The ETL function has its own in `pipeline::etl::decode`: the
//! deployed Lambda code does not depend on this crate.)

use std::io::Read as _;

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why an object could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum GunzipError {
    /// The stream is damaged or ends early.
    #[error("gzip: {source} (after {decoded} bytes)")]
    Damaged {
        /// Bytes decoded before the error.
        decoded: usize,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// The text is larger than the cap.
    #[error("gzip: more than {limit} bytes decompressed")]
    TooLarge {
        /// The cap.
        limit: u64,
    },
}

/// Whether `bytes` starts like gzip.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decompresses all of `bytes`; fails when the stream is damaged or gives more than `limit`
/// bytes.
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, GunzipError> {
    let (text, error) = decode(bytes, limit);
    match error {
        Some(source) => Err(GunzipError::Damaged {
            decoded: text.len(),
            source,
        }),
        None if text.len() as u64 > limit => Err(GunzipError::TooLarge { limit }),
        None => Ok(text),
    }
}

/// Decompresses what it can of the start of `bytes` (a sample cut off at any byte), at most
/// `limit` bytes: the end of a cut stream is not an error.
pub fn gunzip_prefix(bytes: &[u8], limit: u64) -> Vec<u8> {
    let (mut text, _) = decode(bytes, limit);
    text.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    text
}

/// Decodes up to `limit + 1` bytes (one more than allowed shows the cap was passed); the text
/// decoded and the error that stopped it, if any.
fn decode(bytes: &[u8], limit: u64) -> (Vec<u8>, Option<std::io::Error>) {
    let mut text = Vec::with_capacity(expected_size(bytes, limit));
    let error = flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut text)
        .err();
    (text, error)
}

/// The size to reserve for a stream's text: its last member's `ISIZE` (the uncompressed size
/// modulo 2^32, RFC 1952), which is the whole text's for a one-member stream, as Firehose
/// writes them; never more than the cap allows, nor than a thousand times the bytes (a
/// damaged or hostile trailer reserves nothing it could not fill).
fn expected_size(bytes: &[u8], limit: u64) -> usize {
    let Some(trailer) = bytes.len().checked_sub(4).and_then(|at| bytes.get(at..)) else {
        return 0;
    };
    let isize = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let most = limit.saturating_add(1).min(bytes.len() as u64 * 1000);
    usize::try_from(u64::from(isize).min(most)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap_or_default();
        encoder.finish().unwrap_or_default()
    }

    #[test]
    fn whole_objects_decode_and_the_cap_holds() {
        let text = b"{\"a\":1}\n{\"a\":2}\n".repeat(100);
        let zipped = gzip(&text);
        assert!(is_gzip(&zipped));
        assert_eq!(gunzip(&zipped, text.len() as u64).ok(), Some(text.clone()));
        assert!(matches!(
            gunzip(&zipped, text.len() as u64 - 1),
            Err(GunzipError::TooLarge { .. })
        ));
        // Two members, as Firehose may concatenate them.
        let mut two = zipped.clone();
        two.extend_from_slice(&zipped);
        assert_eq!(
            gunzip(&two, u64::MAX).map(|t| t.len()).ok(),
            Some(2 * text.len())
        );
    }

    #[test]
    fn a_cut_stream_is_an_error_whole_and_a_prefix_as_a_sample() {
        let text = b"0123456789".repeat(1000);
        let zipped = gzip(&text);
        let cut = &zipped[..zipped.len() / 2];
        let error = gunzip(cut, u64::MAX).map(|_| ()).unwrap_err().to_string();
        assert!(error.starts_with("gzip:"), "{error}");
        let sample = gunzip_prefix(cut, u64::MAX);
        assert!(!sample.is_empty() && text.starts_with(&sample));
        assert_eq!(gunzip_prefix(&zipped, 7), b"0123456");
    }
}
