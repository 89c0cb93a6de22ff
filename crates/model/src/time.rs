//! Times: RFC 3339 in UTC, with an explicit precision.

use crate::refusal::Refusal;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Earliest year a time may name: the profile is for events of the modern record, and it
/// keeps out the years 0000 and 0001 that some libraries write for "no time".
pub const MIN_YEAR: i16 = 1900;

/// Parses a time in truce's RFC 3339 profile: `YYYY-MM-DDTHH:MM:SSZ`, optionally with a
/// fraction of 1 to 9 digits after a full stop (`.123Z`); upper-case `T` and `Z`; UTC only;
/// years [`MIN_YEAR`]..=9999; seconds 00–59 (a leap second `:60` is refused, since UTC
/// timestamps on the wire cannot be compared across it); no comma fractions, no lower-case
/// separators, no offsets (docs/entries.md, "Times").
pub fn parse_utc(field: &str, s: &str) -> Result<Timestamp, Refusal> {
    let shown = s.chars().take(60).collect::<String>();
    let bad = |why: &str| {
        Refusal::invalid(format!(
            "{field}: `{shown}` is not an RFC 3339 UTC time like 2026-11-27T08:30:00Z ({why})"
        ))
    };
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return Err(bad(
            "the form is YYYY-MM-DDTHH:MM:SS, then an optional .fraction, then Z",
        ));
    }
    match &b[19..] {
        [b'Z'] => {}
        [b'.', frac @ .., b'Z']
            if (1..=9).contains(&frac.len()) && frac.iter().all(u8::is_ascii_digit) => {}
        _ => {
            return Err(bad(
                "after the seconds comes an optional .fraction of 1-9 digits, then Z",
            ));
        }
    }
    if &s[17..19] == "60" {
        return Err(bad("leap seconds (:60) are not accepted"));
    }
    let year: i16 = s[0..4].parse().map_err(|_| bad("the year"))?;
    if year < MIN_YEAR {
        return Err(bad(&format!("years before {MIN_YEAR} are not accepted")));
    }
    s.parse::<Timestamp>()
        .map_err(|_| bad("no such date or time of day"))
}

/// How precisely a time is known (ACLED/UCDP style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecision {
    Exact,
    Hour,
    Day,
    Week,
    Month,
}

/// A time or interval with its precision. `end` is omitted for a point in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSpan {
    /// RFC 3339 UTC, e.g. `2026-11-20T14:00:00Z`.
    pub start: String,
    /// RFC 3339 UTC, not before `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    pub precision: TimePrecision,
}

impl TimeSpan {
    /// Checks the times parse and are ordered; returns (start, end).
    pub fn check(&self, field: &str) -> Result<(Timestamp, Timestamp), Refusal> {
        let start = parse_utc(&format!("{field}.start"), &self.start)?;
        let end = match &self.end {
            Some(e) => parse_utc(&format!("{field}.end"), e)?,
            None => start,
        };
        if end < start {
            return Err(Refusal::invalid(format!(
                "{field}.end is before {field}.start"
            )));
        }
        Ok((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_utc_rfc3339() {
        assert!(parse_utc("t", "2026-11-27T08:30:00Z").is_ok());
        assert!(parse_utc("t", "2026-11-27T08:30:00.123Z").is_ok());
        for bad in [
            "2026-11-27T08:30:00+02:00",
            "2026-11-27",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-27 08:30:00Z",
        ] {
            assert!(parse_utc("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_that_make_no_sense_regression() {
        for ok in [
            "1974-05-31T00:00:00Z",
            "2026-11-27T08:30:00.1Z",
            "2026-11-27T08:30:00.123456789Z",
            "2028-02-29T23:59:59Z",
        ] {
            assert!(parse_utc("t", ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("0000-01-01T00:00:00Z", "years before 1900"),
            ("0001-01-01T00:00:00Z", "years before 1900"),
            ("2016-12-31T23:59:60Z", "leap seconds"),
            ("2026-11-27T08:30:00,5Z", "optional .fraction"),
            ("2026-11-27t08:30:00Z", "the form is"),
            ("2026-11-27T08:30:00z", "optional .fraction"),
            ("2026-11-27T08:30:00.Z", "optional .fraction"),
            ("2026-11-27T08:30:00.1234567890Z", "optional .fraction"),
            ("2026-02-30T08:30:00Z", "no such date"),
            ("2026-11-27T24:00:00Z", "no such date"),
            ("+2026-11-27T08:30:00Z", "the form is"),
            ("2026-11-27T08:30:00+00:00", "optional .fraction"),
            ("２０２６-11-27T08:30:00Z", "the form is"),
        ] {
            let err = parse_utc("t", bad).unwrap_err();
            assert!(err.detail.contains(why), "{bad}: {}", err.detail);
        }
    }

    #[test]
    fn spans_are_ordered() {
        let s = TimeSpan {
            start: "2026-01-02T00:00:00Z".into(),
            end: Some("2026-01-01T00:00:00Z".into()),
            precision: TimePrecision::Day,
        };
        assert!(s.check("time").unwrap_err().detail.contains("before"));
    }
}
