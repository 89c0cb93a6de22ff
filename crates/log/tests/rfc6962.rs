//! RFC 6962 known-answer vectors (transparency-dev/merkle `testonly/constants.go` and
//! `cmd/proofgen`) and a property cross-check against an independent implementation
//! (`ct-merkle`).

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use proptest::prelude::*;
use truce_log::merkle::{
    Hash, MemoryHashes, leaf_hash, parse_hash_hex, root_of_leaf_hashes, verify_consistency,
    verify_inclusion,
};

type Sha256 = sha2_011::Sha256;

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(s: &str) -> Hash {
    parse_hash_hex(s).expect("vector is hex")
}

fn vector_tree() -> MemoryHashes {
    let mut t = MemoryHashes::new();
    for l in LEAVES {
        t.append(leaf_hash(&hex::decode(l).unwrap())).unwrap();
    }
    t
}

#[test]
fn roots_match_the_vectors() {
    let t = vector_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(t.root(size as u64).unwrap(), h(want), "root of size {size}");
        let leaves: Vec<Hash> = LEAVES[..size]
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).unwrap()))
            .collect();
        assert_eq!(
            root_of_leaf_hashes(&leaves),
            h(want),
            "direct root of size {size}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_vectors() {
    // (0-based index, tree size, proof)
    let cases: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let t = vector_tree();
    for (index, size, proof) in cases {
        let want: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
        assert_eq!(
            t.prove_inclusion(size, index).unwrap(),
            want,
            "proof of {index} in {size}"
        );
        let leaf = leaf_hash(&hex::decode(LEAVES[index as usize]).unwrap());
        verify_inclusion(&want, size, h(ROOTS[size as usize]), index, leaf).unwrap();
        let wrong = leaf_hash(b"not the leaf");
        assert!(verify_inclusion(&want, size, h(ROOTS[size as usize]), index, wrong).is_err());
    }
}

#[test]
fn consistency_proofs_match_the_vectors() {
    let cases: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    let t = vector_tree();
    for (old, new, proof) in cases {
        let want: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
        assert_eq!(
            t.prove_consistency(new, old).unwrap(),
            want,
            "proof {old} -> {new}"
        );
        verify_consistency(
            &want,
            new,
            h(ROOTS[new as usize]),
            old,
            h(ROOTS[old as usize]),
        )
        .unwrap();
        if new > old {
            assert!(
                verify_consistency(
                    &want,
                    new,
                    h(ROOTS[new as usize]),
                    old,
                    h(ROOTS[new as usize])
                )
                .is_err()
            );
        }
    }
}

fn flatten(proof: &[Hash]) -> Vec<u8> {
    proof.iter().flat_map(|h| h.0).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Our tree and ct-merkle agree on roots and on every proof, both ways, for random trees.
    #[test]
    fn agrees_with_ct_merkle(
        leaves in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..300),
        pick in any::<prop::sample::Index>(),
        old_pick in any::<prop::sample::Index>(),
    ) {
        let mut ours = MemoryHashes::new();
        let mut theirs: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
        for l in &leaves {
            ours.append(leaf_hash(l)).unwrap();
            theirs.push(l.clone());
        }
        let n = leaves.len() as u64;
        let root = ours.root(n).unwrap();
        let their_root = theirs.root();
        prop_assert_eq!(&root.0[..], their_root.as_bytes().as_slice());

        let index = pick.index(leaves.len());
        let proof = ours.prove_inclusion(n, index as u64).unwrap();
        let their_proof = theirs.prove_inclusion(index);
        prop_assert_eq!(flatten(&proof), their_proof.as_bytes().to_vec());
        let from_ours = InclusionProof::<Sha256>::from_bytes(flatten(&proof));
        prop_assert!(their_root.verify_inclusion(&leaves[index], index as u64, &from_ours).is_ok());

        let old = old_pick.index(leaves.len()) as u64 + 1;
        let cproof = ours.prove_consistency(n, old).unwrap();
        verify_consistency(&cproof, n, root, old, ours.root(old).unwrap()).unwrap();
        if old < n {
            let their_c = theirs.prove_consistency((n - old) as usize);
            prop_assert_eq!(flatten(&cproof), their_c.as_bytes().to_vec());
            let old_root = RootHash::<Sha256>::new(
                ct_merkle::array::Array::try_from(&ours.root(old).unwrap().0[..]).unwrap(),
                old,
            );
            let c = ConsistencyProof::<Sha256>::try_from_bytes(flatten(&cproof)).unwrap();
            prop_assert!(their_root.verify_consistency(&old_root, &c).is_ok());
        }
    }
}
