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
        // Floor, as `unix_seconds` does: before 1970 too, the millisecond at or before the time.
        let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
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
        let ms = local
            .assume_utc()
            .unix_timestamp_nanos()
            .div_euclid(1_000_000);
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

    /// The units a duration is written in, with their milliseconds, smallest first.
    pub const UNITS: [(&'static str, i64); 5] = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ];

    /// Parses `<whole number><unit>` with unit `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let explain = || {
            format!("'{s}' is not a duration: write a whole number and a unit, such as 500ms, 3s, 90m, 12h or 30d")
        };
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(explain)?;
        let (number, unit) = s.split_at(split);
        let n: i64 = number.parse().map_err(|_| explain())?;
        let (_, per_unit) = Self::UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .ok_or_else(explain)?;
        n.checked_mul(*per_unit).map(Self).ok_or_else(explain)
    }
}

impl fmt::Display for Duration {
    /// The largest unit that divides the span exactly, so that `parse(display(d)) == d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        for (unit, size) in Self::UNITS.iter().skip(1).rev() {
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
    fn fractions_before_1970_round_down() {
        // Found by `fractions_and_offsets_give_the_instant_to_the_millisecond`: the division
        // rounded toward zero, so a time before 1970 came out up to 1 ms after itself.
        let t = Timestamp::parse_rfc3339("1969-12-31T21:08:59.0001+00:00").unwrap();
        assert_eq!(t.unix_millis(), -10_261_000);
        let t = Timestamp::parse_query_time("1969-12-31T23:59:59.9999").unwrap();
        assert_eq!(t.unix_millis(), -1);
        assert_eq!(t.to_rfc3339(), "1969-12-31T23:59:59Z");
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const UNITS: [(&str, i64); 5] = Duration::UNITS;

    /// 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z in seconds: the years RFC 3339 writes.
    const FIRST_SECOND: i64 = -62_167_219_200;
    const LAST_SECOND: i64 = 253_402_300_799;

    proptest! {
        /// `<n><unit>` (leading zeros and surrounding white space allowed) is n times the
        /// unit, or refused when that does not fit in 64 bits.
        #[test]
        fn a_number_and_a_unit_give_n_times_the_unit(
            n in prop_oneof![0..1000i64, 0..=i64::MAX],
            unit in 0..UNITS.len(),
            zeros in "0{0,3}",
            before in "[ \t]{0,2}",
            after in "[ \t\n]{0,2}",
        ) {
            let (name, size) = UNITS[unit];
            let parsed = Duration::parse(&format!("{before}{zeros}{n}{name}{after}"));
            match n.checked_mul(size) {
                Some(ms) => prop_assert_eq!(parsed, Ok(Duration::from_millis(ms))),
                None => prop_assert!(parsed.is_err()),
            }
        }

        /// What a duration shows parses back to it (the config file and `--help` show them).
        #[test]
        fn a_shown_duration_parses_back(ms in prop_oneof![0..100_000_000i64, 0..=i64::MAX]) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(Duration::parse(&d.to_string()), Ok(d));
        }

        /// Whatever the text, parsing answers, and an accepted duration was written as ASCII
        /// digits and one of the five units.
        #[test]
        fn arbitrary_text_never_passes_as_a_duration(
            s in prop_oneof![any::<String>(), "[0-9]{0,25}(ms|s|m|h|d|w|S|µs|)", "[-+ 0-9.a-z]{0,12}"],
        ) {
            if let Ok(d) = Duration::parse(&s) {
                let t = s.trim();
                let unit = t.trim_start_matches(|c: char| c.is_ascii_digit());
                prop_assert!(["ms", "s", "m", "h", "d"].contains(&unit), "{s:?}");
                prop_assert!(unit.len() < t.len(), "{s:?} has no number");
                prop_assert!(d.millis() >= 0);
            }
        }

        /// A time in RFC 3339, to the second, reads back as the same instant, by both parsers.
        #[test]
        fn rfc3339_round_trips(secs in FIRST_SECOND..=LAST_SECOND) {
            let t = Timestamp::from_unix_millis(secs * 1000);
            let text = t.to_rfc3339();
            prop_assert!(!text.starts_with('@'), "{text}");
            prop_assert_eq!(Timestamp::parse_rfc3339(&text), Ok(t));
            prop_assert_eq!(Timestamp::parse_query_time(&text), Ok(t));
        }

        /// Fractional seconds and an offset: the instant is the UTC one minus the offset, cut
        /// to the millisecond at or before it (before 1970 too).
        #[test]
        fn fractions_and_offsets_give_the_instant_to_the_millisecond(
            secs in (FIRST_SECOND + 86_400)..=(LAST_SECOND - 86_400),
            fraction in "[0-9]{1,9}",
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i64),
        ) {
            let local = OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction}{sign}{:02}:{:02}",
                local.year(),
                u8::from(local.month()),
                local.day(),
                local.hour(),
                local.minute(),
                local.second(),
                offset_minutes.abs() / 60,
                offset_minutes.abs() % 60,
            );
            let millis: i64 = format!("{fraction:0<3}")[..3].parse().unwrap_or(0);
            let want = (secs - offset_minutes * 60) * 1000 + millis;
            prop_assert_eq!(Timestamp::parse_rfc3339(&text).map(Timestamp::unix_millis), Ok(want), "{}", text);
            prop_assert_eq!(Timestamp::parse_query_time(&text).map(Timestamp::unix_millis), Ok(want), "{}", text);
        }

        /// The forms a query may give a time in (without an offset, a date alone, .NET's
        /// `M/d/yyyy H:mm:ss`, padded or not) all read as that UTC time.
        #[test]
        fn the_query_time_forms_agree(
            secs in 0..=LAST_SECOND,
            padded in any::<bool>(),
            before in "[ \t]{0,2}",
        ) {
            let t = OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
            let (h, mi, s) = (t.hour(), t.minute(), t.second());
            let at = |text: String| Timestamp::parse_query_time(&format!("{before}{text}")).map(Timestamp::unix_millis);
            let midnight = (secs - i64::from(h) * 3600 - i64::from(mi) * 60 - i64::from(s)) * 1000;
            prop_assert_eq!(at(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")), Ok(secs * 1000));
            prop_assert_eq!(at(format!("{y:04}-{mo:02}-{d:02}")), Ok(midnight));
            let dotnet = if padded {
                format!("{mo:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}")
            } else {
                format!("{mo}/{d}/{y:04} {h}:{mi:02}:{s:02}")
            };
            prop_assert_eq!(at(dotnet), Ok(secs * 1000));
            let date = if padded { format!("{mo:02}/{d:02}/{y:04}") } else { format!("{mo}/{d}/{y:04}") };
            prop_assert_eq!(at(date), Ok(midnight));
        }

        /// Whatever the text, both time parsers answer without panicking.
        #[test]
        fn arbitrary_text_never_panics_the_time_parsers(
            s in prop_oneof![
                any::<String>(),
                "[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}(T[0-9:]{0,10}(\\.[0-9]{0,12})?(Z|[+-][0-9:]{0,6})?)?",
                "[0-9]{1,3}/[0-9]{1,3}/[0-9]{1,6}( [0-9:]{0,10})?",
            ],
        ) {
            let _ = Timestamp::parse_rfc3339(&s);
            let _ = Timestamp::parse_query_time(&s);
        }
    }
}
