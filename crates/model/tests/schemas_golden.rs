//! The JSON Schemas kept in `docs/schemas/` are exactly the ones generated from the types that
//! validate entries. Regenerate with `UPDATE_SCHEMAS=1 cargo test -p truce-model --test schemas_golden`.

use std::path::PathBuf;
use truce_model::Kind;
use truce_model::schema::{body_schema, entry_schema};

#[test]
fn docs_schemas_match_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut all = vec![("entry".to_owned(), entry_schema())];
    all.extend(Kind::ALL.map(|k| (k.as_str().to_owned(), body_schema(k))));
    for (name, schema) in all {
        let path = dir.join(format!("{name}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SCHEMAS=1", path.display()));
        assert_eq!(
            committed,
            text,
            "{} is stale; run with UPDATE_SCHEMAS=1",
            path.display()
        );
    }
}
