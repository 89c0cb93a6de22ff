//! The scenario's incident kinds: who commits them, where, against whom, how often, and how
//! reporters confuse them.

use super::*;

/// Who commits an incident of a kind, where, against whom, and who sees it first.
pub(crate) struct Variant {
    pub(crate) perp: &'static str,
    pub(crate) weight: u32,
    pub(crate) zones: &'static [(&'static str, u32)],
    pub(crate) target: Option<&'static str>,
    /// The party most likely to report it (the one that suffers or watches it).
    pub(crate) witness: &'static str,
}

pub(crate) struct KindSpec {
    pub(crate) event_type: EventType,
    pub(crate) sub: Option<&'static str>,
    pub(crate) weight: u32,
    /// Chance that the witness party reports it.
    pub(crate) witness_p: f64,
    /// Chance that UNDOF reports it.
    pub(crate) undof_p: f64,
    /// Whether it comes in flare-ups and has casualties.
    pub(crate) violent: bool,
    pub(crate) variants: &'static [Variant],
}

pub(crate) const EAST_SOUTH: &[(&str, u32)] = &[
    ("gov-daraa", 3),
    ("gov-quneitra", 2),
    ("aol-east-0-10", 2),
    ("aol-east-10-20", 1),
];
pub(crate) const EAST_NEAR: &[(&str, u32)] = &[("aol-east-0-10", 3), ("gov-quneitra", 1)];
pub(crate) const WEST_NEAR: &[(&str, u32)] = &[("aol-west-0-10", 3), ("aol-west-10-20", 1)];
pub(crate) const AOS: &[(&str, u32)] = &[("area-of-separation", 3), ("aol-east-0-10", 1)];

pub(crate) const KINDS: &[KindSpec] = &[
    KindSpec {
        event_type: EventType::ExplosionsRemoteViolence,
        sub: Some("air_drone_strike"),
        weight: 14,
        witness_p: 0.8,
        undof_p: 0.2,
        violent: true,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: EAST_SOUTH,
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::ExplosionsRemoteViolence,
        sub: Some("shelling_artillery_missile_attack"),
        weight: 14,
        witness_p: 0.8,
        undof_p: 0.3,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 55,
                zones: EAST_NEAR,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 45,
                zones: WEST_NEAR,
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Battles,
        sub: Some("armed_clash"),
        weight: 10,
        witness_p: 0.8,
        undof_p: 0.45,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 6,
                zones: AOS,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 4,
                zones: AOS,
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Incursion,
        sub: None,
        weight: 18,
        witness_p: 0.75,
        undof_p: 0.5,
        violent: true,
        variants: &[
            Variant {
                perp: "IL",
                weight: 3,
                zones: AOS,
                target: Some("SY"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("IL"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::DetentionAbduction,
        sub: None,
        weight: 10,
        witness_p: 0.85,
        undof_p: 0.15,
        violent: false,
        variants: &[
            Variant {
                perp: "IL",
                weight: 4,
                zones: &[("gov-quneitra", 3), ("gov-daraa", 2)],
                target: Some("CIVILIANS"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("gov-quneitra", 1), ("gov-daraa", 1)],
                target: Some("CIVILIANS"),
                witness: "IL",
            },
        ],
    },
    KindSpec {
        event_type: EventType::TroopMovement,
        sub: None,
        weight: 14,
        witness_p: 0.7,
        undof_p: 0.3,
        violent: false,
        variants: &[
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("aol-east-0-10", 2), ("aol-east-10-20", 1)],
                target: None,
                witness: "IL",
            },
            Variant {
                perp: "IL",
                weight: 1,
                zones: &[("aol-west-0-10", 2), ("aol-west-10-20", 1)],
                target: None,
                witness: "SY",
            },
        ],
    },
    KindSpec {
        event_type: EventType::Overflight,
        sub: None,
        weight: 8,
        witness_p: 0.8,
        undof_p: 0.2,
        violent: false,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: &[
                ("gov-quneitra", 2),
                ("gov-daraa", 2),
                ("aol-east-10-20", 1),
                ("aol-east-20-25", 1),
            ],
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::Fortification,
        sub: None,
        weight: 5,
        witness_p: 0.6,
        undof_p: 0.5,
        violent: false,
        variants: &[Variant {
            perp: "IL",
            weight: 1,
            zones: AOS,
            target: Some("SY"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::Protests,
        sub: Some("peaceful_protest"),
        weight: 3,
        witness_p: 0.7,
        undof_p: 0.2,
        violent: false,
        variants: &[Variant {
            perp: "CIVILIANS",
            weight: 1,
            zones: &[("gov-quneitra", 2), ("gov-daraa", 2), ("gov-as-suwayda", 1)],
            target: Some("IL"),
            witness: "SY",
        }],
    },
    KindSpec {
        event_type: EventType::AccessDenial,
        sub: None,
        weight: 4,
        witness_p: 0.1,
        undof_p: 0.95,
        violent: false,
        variants: &[
            Variant {
                perp: "IL",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("MONITORS"),
                witness: "SY",
            },
            Variant {
                perp: "SY",
                weight: 1,
                zones: &[("area-of-separation", 1)],
                target: Some("MONITORS"),
                witness: "IL",
            },
        ],
    },
];

/// Types an incident of a type is plausibly mistaken for (within fusion's families).
pub(crate) fn confusions(t: EventType) -> &'static [(EventType, Option<&'static str>)] {
    use EventType::*;
    match t {
        ExplosionsRemoteViolence => &[
            (Battles, Some("armed_clash")),
            (ViolenceAgainstCivilians, Some("attack")),
        ],
        Battles => &[(
            ExplosionsRemoteViolence,
            Some("shelling_artillery_missile_attack"),
        )],
        Incursion => &[(TroopMovement, None), (Battles, Some("armed_clash"))],
        DetentionAbduction => &[(
            ViolenceAgainstCivilians,
            Some("abduction_forced_disappearance"),
        )],
        TroopMovement => &[(Incursion, None), (Fortification, None)],
        Overflight => &[(ExplosionsRemoteViolence, Some("air_drone_strike"))],
        Fortification => &[(TroopMovement, None), (Checkpoint, None)],
        Protests => &[(Riots, Some("violent_demonstration"))],
        AccessDenial => &[(InterferenceWithMonitors, None), (Checkpoint, None)],
        _ => &[],
    }
}

pub(crate) fn narrative(t: EventType, party: &str) -> String {
    use EventType::*;
    let what = match t {
        ExplosionsRemoteViolence => "explosions / remote violence",
        Battles => "an armed clash",
        ViolenceAgainstCivilians => "violence against civilians",
        Protests => "a protest",
        Riots => "a riot",
        StrategicDevelopments => "a strategic development",
        Incursion => "an incursion",
        Overflight => "an overflight",
        Checkpoint => "a checkpoint",
        DetentionAbduction => "a detention or abduction",
        TroopMovement => "a troop movement",
        Fortification => "fortification work",
        AccessDenial => "a denial of access to monitors",
        InterferenceWithMonitors => "interference with monitors",
    };
    format!("Simulated report by {party}: {what} at the stated place and time.")
}
