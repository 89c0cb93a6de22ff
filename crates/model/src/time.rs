//! Times: RFC 3339 in UTC, with an explicit precision.

use crate::refusal::Refusal;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parses an RFC 3339 timestamp that must be in UTC (`Z`).
pub fn parse_utc(field: &str, s: &str) -> Result<Timestamp, Refusal> {
    let bad = || {
        Refusal::invalid(format!(
            "{field}: `{}` is not an RFC 3339 UTC time like 2026-11-27T08:30:00Z",
            s.chars().take(60).collect::<String>()
        ))
    };
    if !s.ends_with('Z') || s.len() < 20 || s.as_bytes().get(10) != Some(&b'T') {
        return Err(bad());
    }
    s.parse::<Timestamp>().map_err(|_| bad())
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
    fn spans_are_ordered() {
        let s = TimeSpan {
            start: "2026-01-02T00:00:00Z".into(),
            end: Some("2026-01-01T00:00:00Z".into()),
            precision: TimePrecision::Day,
        };
        assert!(s.check("time").unwrap_err().detail.contains("before"));
    }
}
