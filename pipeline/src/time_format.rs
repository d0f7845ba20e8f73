//! ISO-8601 UTC timestamps with millisecond precision, written without allocation.
//!
//! Rows carry epoch-millisecond timestamps from CloudWatch Logs; Athena and humans want
//! `2021-11-11T21:29:54.123Z`. This is on the hot path (two per row), so it is a small
//! civil-calendar conversion rather than a general date library.

use std::fmt;

/// Milliseconds since the Unix epoch, displayed as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
///
/// Only years 0000..=9999 can be written in that form: [`IsoMillis::new`] returns `None`
/// outside that range so callers can record a null instead of a wrong value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoMillis(i64);

/// 0000-01-01T00:00:00.000Z in epoch milliseconds.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z in epoch milliseconds.
const MAX_MILLIS: i64 = 253_402_300_799_999;

impl IsoMillis {
    /// Wraps `epoch_millis` when it falls in years 0000..=9999.
    pub fn new(epoch_millis: i64) -> Option<Self> {
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&epoch_millis)
            .then_some(Self(epoch_millis))
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(MAX_MILLIS))
            .unwrap_or(0);
        Self(millis.clamp(MIN_MILLIS, MAX_MILLIS))
    }

    /// The wrapped epoch milliseconds.
    pub fn epoch_millis(self) -> i64 {
        self.0
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl IsoMillis {
    /// The 24 ASCII bytes `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub(crate) fn to_ascii(self) -> [u8; 24] {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (m, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1_000, rest % 1_000);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: i64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, i64::from(month));
        put(8, 2, i64::from(day));
        put(11, 2, h);
        put(14, 2, m);
        put(17, 2, s);
        put(20, 3, ms);
        out
    }
}

impl fmt::Display for IsoMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ascii = self.to_ascii();
        f.write_str(std::str::from_utf8(&ascii).map_err(|_| fmt::Error)?)
    }
}

impl serde::Serialize for IsoMillis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ascii = self.to_ascii();
        // Only ASCII digits and punctuation are ever written.
        serializer.serialize_str(std::str::from_utf8(&ascii).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_432_826_855_000, "2015-05-28T15:27:35.000Z"),
            (1_552_518_348_220, "2019-03-13T23:05:48.220Z"),
            (951_782_400_001, "2000-02-29T00:00:00.001Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (MIN_MILLIS, "0000-01-01T00:00:00.000Z"),
            (MAX_MILLIS, "9999-12-31T23:59:59.999Z"),
        ];
        for (millis, want) in cases {
            assert_eq!(
                IsoMillis::new(millis).unwrap().to_string(),
                want,
                "{millis}"
            );
        }
    }

    #[test]
    fn rejects_years_outside_four_digits() {
        assert_eq!(IsoMillis::new(MAX_MILLIS + 1), None);
        assert_eq!(IsoMillis::new(MIN_MILLIS - 1), None);
        assert_eq!(IsoMillis::new(i64::MAX), None);
        assert_eq!(IsoMillis::new(i64::MIN), None);
    }

    proptest! {
        #[test]
        fn agrees_with_the_time_crate(millis in MIN_MILLIS..=MAX_MILLIS) {
            let ours = IsoMillis::new(millis).unwrap().to_string();
            let nanos = i128::from(millis) * 1_000_000;
            let theirs = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
            let format = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            prop_assert_eq!(ours, theirs.format(&format).unwrap());
        }
    }
}
