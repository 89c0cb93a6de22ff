//! JSON Schemas (draft 2020-12) of each kind's body, generated from the types that parse them,
//! so the documented schema and the validation cannot drift apart.

use crate::entry::{BodyTypeVisitor, Kind};
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
    struct SchemaOf;
    impl BodyTypeVisitor for SchemaOf {
        type Out = schemars::Schema;
        fn visit<T: schemars::JsonSchema>(self) -> schemars::Schema {
            schema_for::<T>()
        }
    }
    let schema = kind.visit_body_type(SchemaOf);
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
