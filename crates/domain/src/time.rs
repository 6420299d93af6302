//! Time as a value. Nothing in the domain reads a clock: callers pass `now` in.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time: milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn unix_millis(self) -> i64 {
        self.0
    }
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.millis()))
    }
    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.millis()))
    }
    /// RFC 3339 in UTC with `Z`, to the second: `2026-01-20T00:33:34Z`.
    pub fn to_rfc3339(self) -> String {
        let secs = self.unix_seconds();
        match OffsetDateTime::from_unix_timestamp(secs).map(|t| t.format(&Rfc3339)) {
            Ok(Ok(s)) => s,
            // Only reachable for years outside 0..=9999, which no clock produces.
            _ => format!("@{secs}"),
        }
    }
    /// Parses RFC 3339 (any offset, fractional seconds allowed).
    pub fn parse_rfc3339(s: &str) -> Result<Self, String> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map_err(|_| format!("'{s}' is not an RFC 3339 time such as 2026-01-20T00:33:34Z"))?;
        let ms = t.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Self)
            .map_err(|_| format!("'{s}' is out of range"))
    }

    /// Parses a time as clients put it into a query: RFC 3339 (`2026-11-30T20:04:39Z`, any
    /// offset; without one it is UTC), a plain date (`2026-11-30`, as Partner Center's
    /// documentation shows), or .NET's invariant culture (`11/30/2026 20:04:39` or
    /// `11/30/2026`, which the .NET SDK sends). A time without an offset and a date without
    /// a time are UTC, a date alone its midnight.
    pub fn parse_query_time(s: &str) -> Result<Self, String> {
        use time::macros::format_description;
        use time::{Date, PrimitiveDateTime};
        let raw = s.trim();
        if let Ok(t) = Self::parse_rfc3339(raw) {
            return Ok(t);
        }
        let local = PrimitiveDateTime::parse(
            raw,
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"),
        )
        .or_else(|_| {
            PrimitiveDateTime::parse(
                raw,
                format_description!(
                    "[month padding:none]/[day padding:none]/[year] [hour padding:none]:[minute]:[second]"
                ),
            )
        })
        .or_else(|_| {
            Date::parse(raw, format_description!("[year]-[month]-[day]"))
                .or_else(|_| {
                    Date::parse(
                        raw,
                        format_description!("[month padding:none]/[day padding:none]/[year]"),
                    )
                })
                .map(Date::midnight)
        })
        .map_err(|_| {
            format!(
                "'{s}' is not a time: give RFC 3339 (2026-01-20T00:33:34Z), a date (2026-01-20) \
                 or MM/dd/yyyy HH:mm:ss (01/20/2026 00:33:34), all UTC"
            )
        })?;
        let ms = local.assume_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Self)
            .map_err(|_| format!("'{s}' is out of range"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A span of time as operators write it: `500ms`, `3s`, `90m`, `12h`, `30d`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Duration(i64);

impl Duration {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Self(s * 1000)
    }
    pub const fn from_mins(m: i64) -> Self {
        Self(m * 60_000)
    }
    pub const fn from_hours(h: i64) -> Self {
        Self(h * 3_600_000)
    }
    pub const fn from_days(d: i64) -> Self {
        Self(d * 86_400_000)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    /// Parses `<whole number><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let explain = || {
            format!("'{s}' is not a duration: write a whole number and a unit, such as 500ms, 3s, 90m, 12h or 30d")
        };
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(explain)?;
        let (number, unit) = s.split_at(split);
        let n: i64 = number.parse().map_err(|_| explain())?;
        let per_unit = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(explain()),
        };
        n.checked_mul(per_unit).map(Self).ok_or_else(explain)
    }
}

impl fmt::Display for Duration {
    /// The largest unit that divides the span exactly, so that `parse(display(d)) == d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
        ] {
            if ms != 0 && ms % size == 0 {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("3s", 3_000),
            ("90m", 5_400_000),
            ("30d", 2_592_000_000),
            ("1h", 3_600_000),
            ("250ms", 250),
            (" 0s ", 0),
        ];
        for (s, ms) in ok {
            assert_eq!(Duration::parse(s), Ok(Duration::from_millis(ms)), "{s}");
        }
        for s in [
            "",
            "3",
            "s",
            "3 s",
            "-3s",
            "3w",
            "1.5h",
            "3S",
            "99999999999999999999d",
        ] {
            assert!(Duration::parse(s).is_err(), "{s:?} should be refused");
        }
        for d in ["30d", "90m", "3s", "250ms", "1h"] {
            assert_eq!(Duration::parse(d).unwrap().to_string(), d);
        }
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse_rfc3339("2017-01-20T00:33:34Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2017-01-20T00:33:34Z");
        let frac = Timestamp::parse_rfc3339("2017-01-20T00:33:34.250Z").unwrap();
        assert_eq!(frac.unix_millis() - t.unix_millis(), 250);
        let offset = Timestamp::parse_rfc3339("2017-01-20T02:33:34+02:00").unwrap();
        assert_eq!(offset, t);
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn query_times_in_the_forms_clients_send() {
        let at = |s: &str| Timestamp::parse_query_time(s).map(Timestamp::to_rfc3339);
        for (given, expected) in [
            ("2026-11-30T20:04:39Z", "2026-11-30T20:04:39Z"),
            ("2026-11-30T22:04:39+02:00", "2026-11-30T20:04:39Z"),
            ("2026-11-30T20:04:39", "2026-11-30T20:04:39Z"),
            ("2026-11-30T20:04:39.1234567", "2026-11-30T20:04:39Z"),
            ("2026-11-30", "2026-11-30T00:00:00Z"),
            // The .NET SDK: DateTime.ToString(CultureInfo.InvariantCulture).
            ("11/30/2026 20:04:39", "2026-11-30T20:04:39Z"),
            ("01/05/2026 07:00:00", "2026-01-05T07:00:00Z"),
            ("1/5/2026 7:00:00", "2026-01-05T07:00:00Z"),
            ("11/30/2026", "2026-11-30T00:00:00Z"),
            (" 2026-11-30 ", "2026-11-30T00:00:00Z"),
        ] {
            assert_eq!(at(given).as_deref(), Ok(expected), "{given}");
        }
        for bad in [
            "",
            "yesterday",
            "30/11/2026 20:04:39",
            "2026-13-01",
            "2026-11-30 25:00:00",
            "11/30/26",
        ] {
            let e = Timestamp::parse_query_time(bad).unwrap_err();
            assert!(e.contains("2026-01-20"), "{bad}: {e}");
        }
    }
}
