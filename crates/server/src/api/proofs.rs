//! Merkle proofs: inclusion and consistency.

use super::*;

#[derive(Deserialize)]
pub(super) struct InclusionQuery {
    index: Option<String>,
    leaf_hash: Option<String>,
    tree_size: Option<String>,
}

pub(super) async fn inclusion_proof(
    State(s): State<LogService>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = InclusionQuery {
        index: q.get("index").cloned(),
        leaf_hash: q.get("leaf_hash").cloned(),
        tree_size: q.get("tree_size").cloned(),
    };
    let size = match &q.tree_size {
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| Problem::bad_request("tree_size must be a non-negative integer"))?,
        None => s.checkpoint().size,
    };
    let index = match (&q.index, &q.leaf_hash) {
        (Some(i), None) => parse_index(i)?,
        (None, Some(h)) => {
            let hash = parse_hash_b64(h)
                .or_else(|| parse_hash_hex(h))
                .ok_or_else(|| {
                    Problem::bad_request("leaf_hash must be a SHA-256 in base64 or hex")
                })?;
            s.find_leaf(&hash)
                .ok_or_else(|| Problem::not_found("no entry has that leaf hash"))?
        }
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of `index` or `leaf_hash`",
            ));
        }
    };
    let (proof, leaf) = s
        .with_hashes(|h, committed| {
            if size > committed {
                return Err(Problem::bad_request(format!(
                    "tree_size {size} is beyond the latest checkpoint ({committed})"
                )));
            }
            let proof = h
                .prove_inclusion(size, index)
                .map_err(|e| Problem::bad_request(e.to_string()))?;
            Ok((proof, h.read_leaf_hash(index)))
        })
        .map_err(Problem::from)??;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "index": index,
            "tree_size": size,
            "leaf_hash": leaf.map(|h| h.to_string()),
            "proof": proof.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        }),
    ))
}

pub(super) async fn consistency_proof(
    State(s): State<LogService>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let num = |k: &str| -> Result<u64, Problem> {
        q.get(k)
            .ok_or_else(|| Problem::bad_request(format!("query parameter `{k}` is required")))?
            .parse::<u64>()
            .map_err(|_| Problem::bad_request(format!("`{k}` must be a non-negative integer")))
    };
    let (from, to) = (num("from")?, num("to")?);
    let proof = s
        .with_hashes(|h, committed| {
            if to > committed {
                return Err(Problem::bad_request(format!(
                    "`to` {to} is beyond the latest checkpoint ({committed})"
                )));
            }
            h.prove_consistency(to, from)
                .map_err(|e| Problem::bad_request(e.to_string()))
        })
        .map_err(Problem::from)??;
    Ok(json_response(
        StatusCode::OK,
        &json!({"from": from, "to": to, "proof": proof.iter().map(|h| h.to_string()).collect::<Vec<_>>()}),
    ))
}
