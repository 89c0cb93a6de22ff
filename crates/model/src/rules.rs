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
        self.spec()?;
        Ok(())
    }

    /// The rule as its kind reads it: the fields the kind needs, present, and none it does not
    /// use. [`Rule::check`] calls it, so for a rule of an admitted agreement it always succeeds.
    pub fn spec(&self) -> Result<Spec<'_>, Refusal> {
        let k = self.kind;
        let need = |what: &str| {
            Refusal::invalid(format!(
                "rule {} of kind {} needs {what}",
                self.id,
                wire_name(&k)
            ))
        };
        // Field by field, in the order of the format: a field the kind needs must be filled;
        // one it does not read must be absent.
        for field in Field::ORDER {
            match kind_reads(k).iter().find(|(f, _)| *f == field) {
                Some((_, Use::Needs)) if !self.filled(field) => {
                    return Err(need(field.needed(k)));
                }
                None if self.present(field) => {
                    return Err(Refusal::invalid(format!(
                        "rule {}: `{}` is not used by rule kind {}; remove it",
                        self.id,
                        field.name(),
                        wire_name(&k)
                    )));
                }
                _ => {}
            }
        }
        let limits = self.limits.as_ref().ok_or_else(|| need("limits"));
        Ok(match k {
            RuleKind::ProhibitedEvent => Spec::ProhibitedEvent(ProhibitedEvent {
                event_types: &self.event_types,
                zones: &self.zones,
            }),
            RuleKind::NoPresence => Spec::NoPresence(NoPresence { zones: &self.zones }),
            RuleKind::ForceLimit => Spec::ForceLimit(ForceLimit {
                zones: &self.zones,
                limits: limits?,
            }),
            RuleKind::Withdrawal => Spec::Withdrawal(Withdrawal {
                zones: &self.zones,
                deadline: parse_utc("deadline", self.deadline.as_deref().unwrap_or_default())?,
                phases: &self.phases,
            }),
            RuleKind::NotificationRequired => Spec::NotificationRequired(NotificationRequired {
                zones: &self.zones,
                activities: &self.activities,
                lead_time_hours: self.lead_time_hours.unwrap_or_default(),
            }),
            RuleKind::ProtectedNotice => Spec::ProtectedNotice(ProtectedNotice {
                event_types: &self.event_types,
            }),
            RuleKind::NoticeScope => Spec::NoticeScope(NoticeScope {
                activities: &self.activities,
            }),
            RuleKind::CivilianProtection => Spec::CivilianProtection(CivilianProtection {
                acknowledge_within_hours: self.acknowledge_within_hours.unwrap_or_default(),
                resolve_within_days: self.resolve_within_days.unwrap_or_default(),
            }),
        })
    }

    /// Whether a field is given at all.
    fn present(&self, f: Field) -> bool {
        match f {
            Field::EventTypes => !self.event_types.is_empty(),
            Field::Zones => !self.zones.is_empty(),
            Field::Limits => self.limits.is_some(),
            Field::Deadline => self.deadline.is_some(),
            Field::Phases => !self.phases.is_empty(),
            Field::Activities => !self.activities.is_empty(),
            Field::LeadTime => self.lead_time_hours.is_some(),
            Field::CaseDeadlines => {
                self.acknowledge_within_hours.is_some() || self.resolve_within_days.is_some()
            }
        }
    }

    /// Whether a field is given as its kind needs it.
    fn filled(&self, f: Field) -> bool {
        match f {
            Field::Limits => self
                .limits
                .as_ref()
                .is_some_and(|l| *l != ForceLimits::default()),
            // `notification_required` needs both, and says so at `activities`.
            Field::Activities if self.kind == RuleKind::NotificationRequired => {
                !self.activities.is_empty() && self.lead_time_hours.is_some()
            }
            Field::CaseDeadlines => {
                self.acknowledge_within_hours.is_some() && self.resolve_within_days.is_some()
            }
            _ => self.present(f),
        }
    }
}

/// The fields of a rule that only some kinds read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    EventTypes,
    Zones,
    Limits,
    Deadline,
    Phases,
    Activities,
    LeadTime,
    CaseDeadlines,
}

/// Whether a kind needs a field or may have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Needs,
    May,
}

impl Field {
    const ORDER: [Field; 8] = [
        Field::EventTypes,
        Field::Zones,
        Field::Limits,
        Field::Deadline,
        Field::Phases,
        Field::Activities,
        Field::LeadTime,
        Field::CaseDeadlines,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::EventTypes => "event_types",
            Field::Zones => "zones",
            Field::Limits => "limits",
            Field::Deadline => "deadline",
            Field::Phases => "phases",
            Field::Activities => "activities",
            Field::LeadTime => "lead_time_hours",
            Field::CaseDeadlines => "acknowledge_within_hours/resolve_within_days",
        }
    }

    /// What a refusal says the kind needs when the field is missing.
    fn needed(self, k: RuleKind) -> &'static str {
        match self {
            Field::Limits => "limits with at least one ceiling",
            Field::Activities if k == RuleKind::NotificationRequired => {
                "activities and lead_time_hours"
            }
            Field::CaseDeadlines => "acknowledge_within_hours and resolve_within_days",
            f => f.name(),
        }
    }
}

/// The fields each kind may have (and which of them it needs); any other is refused.
/// `protected_notice` and `civilian_protection` accept `zones` but do not read them (a notice's
/// own area decides the first; a case is wherever it is), as docs/agreement.md says.
fn kind_reads(k: RuleKind) -> &'static [(Field, Use)] {
    use Field::*;
    use Use::*;
    match k {
        RuleKind::ProhibitedEvent => &[(EventTypes, Needs), (Zones, May)],
        RuleKind::NoPresence => &[(Zones, Needs)],
        RuleKind::ForceLimit => &[(Zones, Needs), (Limits, Needs)],
        RuleKind::Withdrawal => &[(Zones, Needs), (Deadline, Needs), (Phases, May)],
        RuleKind::NotificationRequired => &[(Zones, Needs), (Activities, Needs), (LeadTime, Needs)],
        RuleKind::ProtectedNotice => &[(EventTypes, Needs), (Zones, May)],
        RuleKind::NoticeScope => &[(Activities, Needs)],
        RuleKind::CivilianProtection => &[(Zones, May), (CaseDeadlines, Needs)],
    }
}

/// A rule as its kind reads it, borrowed from the [`Rule`] (see [`Rule::spec`]). The wire
/// format stays the flat [`Rule`]; this is the typed view the engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spec<'a> {
    ProhibitedEvent(ProhibitedEvent<'a>),
    NoPresence(NoPresence<'a>),
    ForceLimit(ForceLimit<'a>),
    Withdrawal(Withdrawal<'a>),
    NotificationRequired(NotificationRequired<'a>),
    ProtectedNotice(ProtectedNotice<'a>),
    NoticeScope(NoticeScope<'a>),
    CivilianProtection(CivilianProtection),
}

/// `prohibited_event`: events of these types, in the zones (anywhere when none are listed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProhibitedEvent<'a> {
    pub event_types: &'a [EventType],
    pub zones: &'a [String],
}

/// `no_presence`: no forces of the bound parties in the zones (at least one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoPresence<'a> {
    pub zones: &'a [String],
}

/// `force_limit`: counts summed over the zones within the limits (at least one ceiling).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForceLimit<'a> {
    pub zones: &'a [String],
    pub limits: &'a ForceLimits,
}

/// `withdrawal`: no forces in the zones after the deadline, and in each phase's zones after
/// the phase's deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Withdrawal<'a> {
    pub zones: &'a [String],
    pub deadline: jiff::Timestamp,
    pub phases: &'a [Phase],
}

/// `notification_required`: the activities in the zones need a notice this many hours ahead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotificationRequired<'a> {
    pub zones: &'a [String],
    pub activities: &'a [Activity],
    pub lead_time_hours: u32,
}

/// `protected_notice`: hostile events of these types against an acknowledged operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtectedNotice<'a> {
    pub event_types: &'a [EventType],
}

/// `notice_scope`: the notifying party's own activities within the acknowledged scope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoticeScope<'a> {
    pub activities: &'a [Activity],
}

/// `civilian_protection`: a case's answer and resolution deadlines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CivilianProtection {
    pub acknowledge_within_hours: u32,
    pub resolve_within_days: u32,
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
    #[test]
    fn every_kind_types_as_its_own_spec() {
        for k in RuleKind::ALL {
            let mut v = json!({"id": "r-1", "kind": k.wire(), "title": "t", "binds": ["AA"],
                "severity": "high", "effective": {"from": "2026-01-01T00:00:00Z"}, "source": "s",
                "zones": ["z"], "event_types": ["battles"], "limits": {"tanks": 1},
                "deadline": "2027-01-01T00:00:00Z", "activities": ["exercise"],
                "lead_time_hours": 24, "acknowledge_within_hours": 48, "resolve_within_days": 14});
            // Keep only what the kind may have.
            let reads = kind_reads(k);
            for f in Field::ORDER {
                if !reads.iter().any(|(r, _)| *r == f) {
                    for name in f.name().split('/') {
                        v.as_object_mut().unwrap().remove(name);
                    }
                }
            }
            let r: Rule = serde_json::from_value(v).unwrap();
            r.check("rule").unwrap();
            let spec = r.spec().unwrap();
            let kind = match spec {
                Spec::ProhibitedEvent(_) => RuleKind::ProhibitedEvent,
                Spec::NoPresence(_) => RuleKind::NoPresence,
                Spec::ForceLimit(_) => RuleKind::ForceLimit,
                Spec::Withdrawal(_) => RuleKind::Withdrawal,
                Spec::NotificationRequired(_) => RuleKind::NotificationRequired,
                Spec::ProtectedNotice(_) => RuleKind::ProtectedNotice,
                Spec::NoticeScope(_) => RuleKind::NoticeScope,
                Spec::CivilianProtection(_) => RuleKind::CivilianProtection,
            };
            assert_eq!(kind, k);
        }
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
            rule(json!({"kind": "notice_scope", "activities": ["exercise"], "zones": ["z"]}))
                .unwrap_err()
                .detail
                .contains("`zones` is not used by rule kind notice_scope")
        );
        assert!(rule(json!({"kind": "notice_scope", "activities": ["exercise"]})).is_ok());
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
