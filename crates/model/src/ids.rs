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

/// Characters that take no space and show nothing (Unicode general category Cf in common
/// use, and the soft hyphen): text made only of these and white space is empty.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Explicit directional formatting (embeddings, overrides, isolates and their terminators):
/// they can make a text display otherwise than it reads ("Trojan Source"). Arabic and Hebrew
/// need none of them: the Unicode bidirectional algorithm orders mixed text by itself, and the
/// implicit marks (U+200E LRM, U+200F RLM, U+061C ALM) remain allowed where it needs help.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Free text (narratives, names, titles, place names): at most `max` characters, with at
/// least one visible character (white space and invisible format characters alone are
/// empty), and none of: NUL or other control characters (but tab and line feed), and
/// explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
/// Signed text is refused, not rewritten: the signature covers it as written.
/// (docs/entries.md, "Text".)
pub fn check_text(field: &str, s: &str, max: usize) -> Result<(), Refusal> {
    if s.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(Refusal::invalid(format!(
            "{field} must not be empty (white space and invisible characters alone do not count)"
        )));
    }
    let n = s.chars().count();
    if n > max {
        return Err(Refusal::invalid(format!(
            "{field} is {n} characters; the limit is {max}"
        )));
    }
    if let Some((at, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n'))
    {
        return Err(Refusal::invalid(format!(
            "{field} has the control character U+{:04X} at character {at}; only tab and line feed are allowed",
            u32::from(c)
        )));
    }
    if let Some((at, c)) = s.chars().enumerate().find(|(_, c)| is_bidi_control(*c)) {
        return Err(Refusal::invalid(format!(
            "{field} has the bidirectional control U+{:04X} at character {at}; write the text without embeddings, overrides or isolates (marks such as U+200F are allowed)",
            u32::from(c)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_text_that_make_no_sense_regression() {
        for ok in [
            "Shelling near Quneitra",
            "قصف قرب القنيطرة",
            "הפגזה ליד קוניטרה",
            "line one\nline two\twith a tab",
            "mixed \u{200F}עברית\u{200E} text",
        ] {
            assert!(check_text("t", ok, 100).is_ok(), "{ok:?}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("   \n", "empty"),
            ("\u{200B}\u{200C}\u{200D}\u{FEFF}", "empty"),
            ("\u{2060} \u{00AD}", "empty"),
            ("nul\u{0}byte", "control character U+0000"),
            ("bell\u{7}", "control character U+0007"),
            ("carriage\rreturn", "control character U+000D"),
            ("c1\u{85}", "control character U+0085"),
            ("admin\u{202E}txt.exe", "bidirectional control U+202E"),
            ("\u{2066}isolate\u{2069}", "bidirectional control U+2066"),
            ("\u{202A}embed\u{202C}", "bidirectional control U+202A"),
        ] {
            let err = check_text("body.narrative", bad, 100).unwrap_err();
            assert!(err.detail.contains(why), "{bad:?}: {}", err.detail);
        }
    }
}
