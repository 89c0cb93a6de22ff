//! Agreement rules: parsed and validated here; evaluated by the engine.

use crate::bodies::Activity;
use crate::ids::wire_name;
use crate::ids::{check_party_id, check_slug, check_text};
use crate::refusal::Refusal;
use crate::report::EventType;
use crate::time::parse_utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The rule kinds an agreement may use (docs/agreement.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Events of the given types by the bound parties are violations (in the zones, or anywhere).
    ProhibitedEvent,
    /// Forces of the bound parties must not be present in the zones.
    NoPresence,
    /// Counts of forces per party per zone must stay within `limits`.
    ForceLimit,
    /// The bound parties must have no forces in the zones after `deadline` (optionally in phases).
    Withdrawal,
    /// The `activities` in the zones need a notice at least `lead_time_hours` ahead.
    NotificationRequired,
    /// Hostile events (`event_types`) against an operation covered by an acknowledged notice.
    ProtectedNotice,
    /// The notifying party's own `activities` must stay within the scope its notice's
    /// addressees acknowledged (area, window, force caps).
    NoticeScope,
    /// Detentions/abductions of civilians must be acknowledged and resolved in time.
    CivilianProtection,
}

impl RuleKind {
    /// Every rule kind, in the order of the agreement format's documentation. The match in
    /// [`RuleKind::wire`] makes a new variant a compile error until it is listed here too.
    pub const ALL: [RuleKind; 8] = [
        RuleKind::ProhibitedEvent,
        RuleKind::NoPresence,
        RuleKind::ForceLimit,
        RuleKind::Withdrawal,
        RuleKind::NotificationRequired,
        RuleKind::ProtectedNotice,
        RuleKind::NoticeScope,
        RuleKind::CivilianProtection,
    ];

    /// The kind's name on the wire (`force_limit`).
    pub fn wire(self) -> &'static str {
        match self {
            RuleKind::ProhibitedEvent => "prohibited_event",
            RuleKind::NoPresence => "no_presence",
            RuleKind::ForceLimit => "force_limit",
            RuleKind::Withdrawal => "withdrawal",
            RuleKind::NotificationRequired => "notification_required",
            RuleKind::ProtectedNotice => "protected_notice",
            RuleKind::NoticeScope => "notice_scope",
            RuleKind::CivilianProtection => "civilian_protection",
        }
    }
}

/// How grave a violation of the rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// When a rule applies: from `from`, until `until` if given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Ceilings per party per zone (`force_limit`). Omitted categories are not limited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForceLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personnel: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tanks: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artillery: Option<u32>,
    /// No artillery whose range exceeds this many km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artillery_max_range_km: Option<u32>,
    /// Surface-to-air missile systems (0 forbids them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_defence: Option<u32>,
    /// Brigades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brigades: Option<u32>,
}

/// A phase of a withdrawal, closed by a mediator inspection when `inspection_required`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub deadline: String,
    pub zones: Vec<String>,
    #[serde(default)]
    pub inspection_required: bool,
}

/// One rule of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    pub title: String,
    /// Parties the rule binds.
    pub binds: Vec<String>,
    /// Zone ids; empty means everywhere (only for kinds that allow it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<EventType>,
    pub severity: Severity,
    pub effective: Period,
    /// Where the rule comes from (article, document).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ForceLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_within_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_within_days: Option<u32>,
}

impl Rule {
    /// Checks the rule on its own: syntax, the fields its kind needs, and no fields it doesn't.
    pub fn check(&self, field: &str) -> Result<(), Refusal> {
        check_slug(&format!("{field}.id"), &self.id)?;
        let f = |name: &str| format!("{field} ({}).{name}", self.id);
        check_text(&f("title"), &self.title, 300)?;
        check_text(&f("source"), &self.source, 1000)?;
        if self.binds.is_empty() {
            return Err(Refusal::invalid(format!(
                "{} must name at least one party",
                f("binds")
            )));
        }
        for p in &self.binds {
            check_party_id(&f("binds[]"), p)?;
        }
        for z in &self.zones {
            check_slug(&f("zones[]"), z)?;
        }
        let from = parse_utc(&f("effective.from"), &self.effective.from)?;
        if let Some(u) = &self.effective.until
            && parse_utc(&f("effective.until"), u)? <= from
        {
            return Err(Refusal::invalid(format!(
                "{} must be after effective.from",
                f("effective.until")
            )));
        }
        if let Some(d) = &self.deadline {
            parse_utc(&f("deadline"), d)?;
        }
        for (i, ph) in self.phases.iter().enumerate() {
            parse_utc(&f(&format!("phases[{i}].deadline")), &ph.deadline)?;
            if ph.zones.is_empty() {
                return Err(Refusal::invalid(format!(
                    "{} must list zones",
                    f(&format!("phases[{i}]"))
                )));
            }
            for z in &ph.zones {
                check_slug(&f(&format!("phases[{i}].zones[]")), z)?;
            }
        }
        use RuleKind::*;
        let need = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(Refusal::invalid(format!(
                    "rule {} of kind {} needs {what}",
                    self.id,
                    wire_name(&self.kind)
                )))
            }
        };
        let forbid = |present: bool, what: &str| {
            if present {
                Err(Refusal::invalid(format!(
                    "rule {}: `{what}` is not used by rule kind {}; remove it",
                    self.id,
                    wire_name(&self.kind)
                )))
            } else {
                Ok(())
            }
        };
        let k = self.kind;
        need(
            !matches!(k, ProhibitedEvent | ProtectedNotice) || !self.event_types.is_empty(),
            "event_types",
        )?;
        forbid(
            !matches!(k, ProhibitedEvent | ProtectedNotice) && !self.event_types.is_empty(),
            "event_types",
        )?;
        need(
            !matches!(
                k,
                NoPresence | ForceLimit | Withdrawal | NotificationRequired
            ) || !self.zones.is_empty(),
            "zones",
        )?;
        need(
            k != ForceLimit
                || self
                    .limits
                    .as_ref()
                    .is_some_and(|l| *l != ForceLimits::default()),
            "limits with at least one ceiling",
        )?;
        forbid(k != ForceLimit && self.limits.is_some(), "limits")?;
        need(k != Withdrawal || self.deadline.is_some(), "deadline")?;
        forbid(k != Withdrawal && self.deadline.is_some(), "deadline")?;
        forbid(k != Withdrawal && !self.phases.is_empty(), "phases")?;
        need(
            k != NotificationRequired
                || (!self.activities.is_empty() && self.lead_time_hours.is_some()),
            "activities and lead_time_hours",
        )?;
        need(
            k != NoticeScope || !self.activities.is_empty(),
            "activities",
        )?;
        forbid(
            !matches!(k, NotificationRequired | NoticeScope) && !self.activities.is_empty(),
            "activities",
        )?;
        forbid(
            k != NotificationRequired && self.lead_time_hours.is_some(),
            "lead_time_hours",
        )?;
        need(
            k != CivilianProtection
                || (self.acknowledge_within_hours.is_some() && self.resolve_within_days.is_some()),
            "acknowledge_within_hours and resolve_within_days",
        )?;
        forbid(
            k != CivilianProtection
                && (self.acknowledge_within_hours.is_some() || self.resolve_within_days.is_some()),
            "acknowledge_within_hours/resolve_within_days",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_kind_is_listed_once_with_its_serde_name() {
        let names: Vec<&str> = RuleKind::ALL.iter().map(|k| k.wire()).collect();
        for (k, name) in RuleKind::ALL.iter().zip(&names) {
            assert_eq!(&wire_name(k), name);
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }
    use serde_json::json;

    fn rule(extra: serde_json::Value) -> Result<(), Refusal> {
        let mut v = json!({"id": "r-1", "title": "t", "binds": ["AA"], "severity": "high",
            "effective": {"from": "2026-01-01T00:00:00Z"}, "source": "s"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        let r: Rule = serde_json::from_value(v).map_err(|e| Refusal::invalid(e.to_string()))?;
        r.check("rule")
    }

    #[test]
    fn each_kind_needs_its_fields_and_refuses_others() {
        assert!(rule(json!({"kind": "prohibited_event", "event_types": ["battles"]})).is_ok());
        assert!(
            rule(json!({"kind": "prohibited_event"}))
                .unwrap_err()
                .detail
                .contains("needs event_types")
        );
        assert!(rule(json!({"kind": "no_presence", "zones": ["z"]})).is_ok());
        assert!(rule(json!({"kind": "no_presence"})).is_err());
        assert!(
            rule(json!({"kind": "force_limit", "zones": ["z"], "limits": {"tanks": 75}})).is_ok()
        );
        assert!(rule(json!({"kind": "force_limit", "zones": ["z"], "limits": {}})).is_err());
        assert!(
            rule(json!({"kind": "no_presence", "zones": ["z"], "limits": {"tanks": 1}}))
                .unwrap_err()
                .detail
                .contains("not used by rule kind no_presence")
        );
        assert!(rule(json!({"kind": "withdrawal", "zones": ["z"], "deadline": "2027-01-01T00:00:00Z",
            "phases": [{"deadline": "2026-06-01T00:00:00Z", "zones": ["z"], "inspection_required": true}]})).is_ok());
        assert!(rule(json!({"kind": "withdrawal", "zones": ["z"]})).is_err());
        assert!(rule(json!({"kind": "notification_required", "zones": ["z"], "activities": ["exercise"], "lead_time_hours": 24})).is_ok());
        assert!(
            rule(
                json!({"kind": "notification_required", "zones": ["z"], "activities": ["exercise"]})
            )
            .is_err()
        );
        assert!(rule(json!({"kind": "protected_notice", "event_types": ["battles"]})).is_ok());
        assert!(rule(json!({"kind": "civilian_protection", "acknowledge_within_hours": 48, "resolve_within_days": 14})).is_ok());
        assert!(
            rule(json!({"kind": "civilian_protection", "acknowledge_within_hours": 48})).is_err()
        );
        assert!(rule(json!({"kind": "prohibited_event", "event_types": ["battles"], "effective": {"from": "2026-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}})).is_err());
        assert!(
            rule(json!({"kind": "prohibited_event", "event_types": ["battles"], "binds": []}))
                .is_err()
        );
        assert!(
            rule(json!({"kind": "prohibited_event", "event_types": ["battles"], "id": "Bad Id"}))
                .is_err()
        );
    }
}
