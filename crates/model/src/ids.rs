//! Identifiers and their syntax.

use crate::refusal::Refusal;

/// `SY`, `IL`, `US`, `UNDOF`: upper-case letters and digits, 2–16 characters.
pub fn check_party_id(field: &str, id: &str) -> Result<(), Refusal> {
    let ok = (2..=16).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "{field}: `{id}` is not a party id (2-16 upper-case letters or digits, starting with a letter, e.g. `SY`)"
        )))
    }
}

/// `sy.ops-desk`, `us.admin`: lower-case letters, digits, `.`, `_`, `-`; 1–64 characters.
pub fn check_member_id(field: &str, id: &str) -> Result<(), Refusal> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "{field}: `{id}` is not a member id (1-64 of a-z 0-9 . _ -, starting with a letter or digit)"
        )))
    }
}

/// Rule and zone ids: lower-case letters, digits and `-`, 1–63 characters.
pub fn check_slug(field: &str, id: &str) -> Result<(), Refusal> {
    let ok = (1..=63).contains(&id.len())
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "{field}: `{id}` is not a valid id (1-63 of a-z 0-9 -, starting with a letter or digit)"
        )))
    }
}

/// Lowercase hex SHA-256 (64 characters).
pub fn check_sha256_hex(field: &str, s: &str) -> Result<(), Refusal> {
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "{field}: `{}` is not a lowercase hex SHA-256 (64 characters)",
            s.chars().take(80).collect::<String>()
        )))
    }
}

/// Free text: not empty (after trimming) and at most `max` characters.
pub fn check_text(field: &str, s: &str, max: usize) -> Result<(), Refusal> {
    if s.trim().is_empty() {
        return Err(Refusal::invalid(format!("{field} must not be empty")));
    }
    let n = s.chars().count();
    if n > max {
        return Err(Refusal::invalid(format!(
            "{field} is {n} characters; the limit is {max}"
        )));
    }
    Ok(())
}

/// The wire name of an enum value (`officer`, `suspended`, `force_limit`...), for messages.
pub fn wire_name(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
