//! JSON Schemas (draft 2020-12) of each kind's body, generated from the types that parse them,
//! so the documented schema and the validation cannot drift apart.

use crate::entry::Kind;
use schemars::generate::SchemaSettings;

/// Schemas are self-contained (sub-schemas inlined, no `$defs`), so they can be embedded in
/// the OpenAPI document's components as they are.
fn schema_for<T: schemars::JsonSchema>() -> schemars::Schema {
    SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The JSON Schema of a kind's body.
pub fn body_schema(kind: Kind) -> serde_json::Value {
    use crate::{agreement, bodies, report};
    let schema = match kind {
        Kind::Agreement => schema_for::<agreement::Agreement>(),
        Kind::Ratification => schema_for::<bodies::Ratification>(),
        Kind::Membership => schema_for::<bodies::Membership>(),
        Kind::Report => schema_for::<report::Report>(),
        Kind::Notice => schema_for::<bodies::Notice>(),
        Kind::Acknowledgement => schema_for::<bodies::Acknowledgement>(),
        Kind::Dispute => schema_for::<bodies::Dispute>(),
        Kind::Ruling => schema_for::<bodies::Ruling>(),
        Kind::Posture => schema_for::<bodies::Posture>(),
        Kind::Case => schema_for::<bodies::Case>(),
        Kind::Sighting => schema_for::<bodies::Sighting>(),
        Kind::Coverage => schema_for::<bodies::Coverage>(),
        Kind::Attestation => schema_for::<bodies::Attestation>(),
        Kind::Participation => schema_for::<bodies::Participation>(),
    };
    let mut v = schema.to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert("$id".into(), format!("urn:truce:schema:{kind}").into());
    }
    v
}

/// The JSON Schema of the entry payload envelope around a body.
pub fn entry_schema() -> serde_json::Value {
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:truce:schema:entry",
        "title": "Entry",
        "type": "object",
        "additionalProperties": false,
        "required": ["v", "mechanism", "kind", "author", "created", "body"],
        "properties": {
            "v": {"const": 1},
            "mechanism": {"type": "string", "description": "The log origin of the mechanism"},
            "kind": {"enum": Kind::ALL.map(Kind::as_str)},
            "author": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
            "created": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC (Z)"},
            "body": {"type": "object", "description": "Per kind: see urn:truce:schema:<kind>"}
        }
    })
}
