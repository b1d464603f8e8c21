//! FIX UTCTimestamp and LocalMktDate text formats, converted to and from
//! nanoseconds since the Unix epoch. Pure arithmetic: nothing here reads a clock.

/// Nanoseconds in one second.
const NS_PER_SEC: u64 = 1_000_000_000;
/// Seconds in one day.
const SECS_PER_DAY: u64 = 86_400;

/// Length of `YYYYMMDD-HH:MM:SS.sss`, the form [`format_utc_timestamp`] writes.
pub const UTC_TIMESTAMP_LEN: usize = 21;

/// Days since 1970-01-01 to the civil date `(year, month, day)` (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The civil date `(year, month, day)` to days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn push_digits(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut v = value;
    for slot in buf[20 - width..].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[20 - width..]);
}

/// Appends `ns` (nanoseconds since the Unix epoch, UTC) to `out` as the FIX
/// UTCTimestamp `YYYYMMDD-HH:MM:SS.sss` (milliseconds, truncated).
pub fn format_utc_timestamp(ns: u64, out: &mut Vec<u8>) {
    let secs = ns / NS_PER_SEC;
    let millis = (ns % NS_PER_SEC) / 1_000_000;
    let (year, month, day) = civil_from_days((secs / SECS_PER_DAY) as i64);
    let sod = secs % SECS_PER_DAY;
    push_digits(out, year as u64, 4);
    push_digits(out, u64::from(month), 2);
    push_digits(out, u64::from(day), 2);
    out.push(b'-');
    push_digits(out, sod / 3600, 2);
    out.push(b':');
    push_digits(out, (sod / 60) % 60, 2);
    out.push(b':');
    push_digits(out, sod % 60, 2);
    out.push(b'.');
    push_digits(out, millis, 3);
}

fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0')),
    )
}

/// Parses a FIX LocalMktDate / UTCDateOnly `YYYYMMDD` into `(year, month, day)`,
/// checking that the date exists.
pub fn parse_date(b: &[u8]) -> Option<(i64, u32, u32)> {
    if b.len() != 8 {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[4..6])? as u32;
    let day = digits(&b[6..8])? as u32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((year, month, day))
}

/// Parses a FIX UTCTimestamp into nanoseconds since the Unix epoch.
///
/// Accepts `YYYYMMDD-HH:MM:SS` and, leniently, a fraction of 3 (the FIX 4.4
/// form), 6 or 9 digits. Seconds may be `60` (leap second, as FIX allows; it
/// maps onto the next minute's first second). Returns `None` for a malformed or
/// impossible date/time, or one before 1970 or past what `u64` nanoseconds hold.
pub fn parse_utc_timestamp(b: &[u8]) -> Option<u64> {
    if b.len() < 17 || b[8] != b'-' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let (year, month, day) = parse_date(&b[..8])?;
    let hour = digits(&b[9..11])?;
    let minute = digits(&b[12..14])?;
    let second = digits(&b[15..17])?;
    if hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    let frac_ns = match b.len() {
        17 => 0,
        21 | 24 | 27 if b[17] == b'.' => {
            let frac = &b[18..];
            let value = digits(frac)?;
            value * 10u64.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let secs = days
        .checked_mul(SECS_PER_DAY)?
        .checked_add(hour * 3600 + minute * 60 + second)?;
    secs.checked_mul(NS_PER_SEC)?.checked_add(frac_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ns: u64) -> String {
        let mut v = Vec::new();
        format_utc_timestamp(ns, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(fmt(0), "19700101-00:00:00.000");
        assert_eq!(fmt(1_700_000_000_123_456_789), "20231114-22:13:20.123");
        // 2000-02-29 (leap day) 23:59:59.999
        assert_eq!(fmt(951_868_799_999_000_000), "20000229-23:59:59.999");
        assert_eq!(fmt(1_700_000_000_123_456_789).len(), UTC_TIMESTAMP_LEN);
    }

    #[test]
    fn parses_known_instants() {
        assert_eq!(parse_utc_timestamp(b"19700101-00:00:00"), Some(0));
        assert_eq!(
            parse_utc_timestamp(b"20231114-22:13:20.123"),
            Some(1_700_000_000_123_000_000)
        );
        assert_eq!(
            parse_utc_timestamp(b"20231114-22:13:20.123456789"),
            Some(1_700_000_000_123_456_789)
        );
        assert_eq!(
            parse_utc_timestamp(b"20231114-22:13:20.123456"),
            Some(1_700_000_000_123_456_000)
        );
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            &b""[..],
            b"20231114 22:13:20",
            b"20231114-24:00:00",
            b"20231114-23:60:00",
            b"20231114-23:59:61",
            b"20230229-00:00:00",
            b"20231314-00:00:00",
            b"20231100-00:00:00",
            b"19691231-23:59:59",
            b"20231114-22:13:20.12",
            b"20231114-22:13:20.1234",
            b"20231114-22:13:20,123",
            b"2023111x-22:13:20",
        ] {
            assert_eq!(
                parse_utc_timestamp(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_utc_timestamp(b"20231114-23:59:60").is_some());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date(b"20240229"), Some((2024, 2, 29)));
        assert_eq!(parse_date(b"21000229"), None);
        assert_eq!(parse_date(b"2024022"), None);
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 365, 10_957, 19_675, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
