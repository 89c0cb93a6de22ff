//! Scorecards: per party, per commitment (rule) and per month, how the findings stand.

use crate::state::{CaseStatus, DeadlineStatus, Obligation, State, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// One party's record under one rule in one month (`YYYY-MM` of the violation's time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub party: String,
    pub rule: String,
    pub period: String,
    /// Findings against the party by current status.
    pub findings: BTreeMap<Status, u32>,
    pub deadlines_met: u32,
    pub deadlines_missed: u32,
    /// Disputes (and appeals) the party filed.
    pub disputes_filed: u32,
    /// Of those, ruled in the party's favour (finding dismissed) and against it (upheld).
    pub disputes_won: u32,
    pub disputes_lost: u32,
    /// Median hours from a dispute to its ruling, over the party's ruled disputes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_hours_to_ruling: Option<f64>,
    /// Under [`CASES`]: civilian cases against the party (as detaining party) reported in the
    /// month, by current status.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cases: BTreeMap<CaseStatus, u32>,
    /// Under [`PARTICIPATION`]: suspensions of participation the party made in the month, and
    /// the hours of the month (up to the log clock) during which it was suspended.
    #[serde(skip_serializing_if = "is_zero")]
    pub suspensions: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_hours: Option<f64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The `rule` of scorecards that count a party's suspensions of participation.
pub const PARTICIPATION: &str = "participation";

/// The `rule` of scorecards that count answers to notices (deadlines no rule sets).
pub const NOTICE_ANSWERS: &str = "notice-answers";
/// The `rule` of scorecards that count civilian cases.
pub const CASES: &str = "civilian-cases";

fn month(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m").to_string()
}

type Key = (String, String, String);

fn get<'a>(
    cards: &'a mut BTreeMap<Key, Scorecard>,
    party: &str,
    rule: &str,
    period: String,
) -> &'a mut Scorecard {
    let key = (party.to_owned(), rule.to_owned(), period.clone());
    cards.entry(key).or_insert_with(|| Scorecard {
        party: party.to_owned(),
        rule: rule.to_owned(),
        period,
        findings: BTreeMap::new(),
        deadlines_met: 0,
        deadlines_missed: 0,
        disputes_filed: 0,
        disputes_won: 0,
        disputes_lost: 0,
        median_hours_to_ruling: None,
        cases: BTreeMap::new(),
        suspensions: 0,
        suspended_hours: None,
    })
}

/// Every (party, rule, month) with anything to show, sorted.
pub fn scorecards(state: &State) -> Vec<Scorecard> {
    let mut cards: BTreeMap<Key, Scorecard> = BTreeMap::new();
    let mut waits: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    for f in state.findings.values().filter(|f| f.superseded.is_none()) {
        *get(&mut cards, &f.party, &f.rule, month(f.occurred))
            .findings
            .entry(f.status)
            .or_insert(0) += 1;
    }
    for d in state.deadlines.values() {
        let rule = match d.obligation {
            Obligation::NoticeAnswer { .. } => NOTICE_ANSWERS,
            _ => &d.rule,
        };
        let c = get(&mut cards, &d.party, rule, month(d.due));
        match d.status {
            DeadlineStatus::Met => c.deadlines_met += 1,
            DeadlineStatus::Missed => c.deadlines_missed += 1,
            DeadlineStatus::Pending | DeadlineStatus::Lapsed => {}
        }
    }
    for c in state.cases.values() {
        *get(&mut cards, &c.detaining_party, CASES, month(c.reported))
            .cases
            .entry(c.status)
            .or_insert(0) += 1;
    }
    for (party, recs) in &state.participation {
        use truce_model::bodies::ParticipationAction::{Resume, Suspend};
        let mut since: Option<jiff::Timestamp> = None;
        let until = state.clock;
        for r in recs {
            match r.action {
                Suspend => {
                    get(&mut cards, party, PARTICIPATION, month(r.at)).suspensions += 1;
                    since = Some(r.at);
                }
                Resume => {
                    if let Some(s) = since.take() {
                        suspended_hours(&mut cards, party, s, r.at);
                    }
                }
            }
        }
        if let (Some(s), Some(u)) = (since, until) {
            suspended_hours(&mut cards, party, s, u);
        }
    }
    for d in state.disputes.values() {
        let Some(f) = state.findings.get(&d.finding) else {
            continue;
        };
        let period = month(f.occurred);
        let c = get(&mut cards, &d.party, &f.rule, period.clone());
        c.disputes_filed += 1;
        if let Some(r) = d.ruling.and_then(|i| state.rulings.get(&i)) {
            // A dispute by the responsible party is won when the finding is dismissed; an
            // appeal by an accuser is won when it is upheld.
            let won = (r.decision == Status::Dismissed) == (d.party == f.party);
            if won {
                c.disputes_won += 1;
            } else {
                c.disputes_lost += 1;
            }
            let hours = r.at.duration_since(d.filed).as_secs_f64() / 3600.0;
            waits
                .entry((d.party.clone(), f.rule.clone(), period))
                .or_default()
                .push(hours);
        }
    }
    for (key, mut w) in waits {
        w.sort_by(f64::total_cmp);
        let n = w.len();
        let median = if n % 2 == 1 {
            w[n / 2]
        } else {
            (w[n / 2 - 1] + w[n / 2]) / 2.0
        };
        if let Some(c) = cards.get_mut(&key) {
            c.median_hours_to_ruling = Some(median);
        }
    }
    cards.into_values().collect()
}

/// Adds the hours of `from..to` to the party's participation cards, month by month.
fn suspended_hours(
    cards: &mut BTreeMap<Key, Scorecard>,
    party: &str,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) {
    let mut cur = from;
    while cur < to {
        let next_month = cur
            .to_zoned(jiff::tz::TimeZone::UTC)
            .first_of_month()
            .ok()
            .and_then(|z| z.start_of_day().ok())
            .and_then(|z| z.checked_add(jiff::Span::new().months(1)).ok())
            .map(|z| z.timestamp());
        let end = next_month.map_or(to, |n| n.min(to));
        if end <= cur {
            break;
        }
        let c = get(cards, party, PARTICIPATION, month(cur));
        let h = end.duration_since(cur).as_secs_f64() / 3600.0;
        c.suspended_hours = Some(c.suspended_hours.unwrap_or(0.0) + h);
        cur = end;
    }
}
