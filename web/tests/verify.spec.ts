// The in-browser verifier against vectors made by the Rust log crate
// (crates/log/tests/web_vectors.rs), run in the test runner's own WebCrypto.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { judgeCosignatures, verifyCheckpoint, verifyReceipt, Receipt } from '../src/verify';

const vectors = JSON.parse(readFileSync(new URL('vectors.json', import.meta.url), 'utf8')) as {
  verifier_key: string;
  cases: { leaf: string; receipt: Receipt }[];
};

test('every receipt made by crates/log verifies', async () => {
  expect(vectors.cases.length).toBe(7);
  for (const c of vectors.cases) {
    const cp = await verifyReceipt(c.leaf, c.receipt, vectors.verifier_key);
    expect(cp.size).toBe(7);
  }
});

test('a changed entry, proof, root or signature fails', async () => {
  const c = vectors.cases[3];
  await expect(verifyReceipt(c.leaf.replace('3', '4'), c.receipt, vectors.verifier_key)).rejects.toThrow(/leaf hash/);
  const proof = [...c.receipt.inclusion_proof];
  proof[0] = vectors.cases[0].receipt.leaf_hash;
  await expect(verifyReceipt(c.leaf, { ...c.receipt, inclusion_proof: proof }, vectors.verifier_key)).rejects.toThrow(/inclusion proof/);
  await expect(verifyReceipt(c.leaf, { ...c.receipt, inclusion_proof: proof.slice(1) }, vectors.verifier_key)).rejects.toThrow(/inclusion proof/);
  const note = c.receipt.checkpoint.replace('\n7\n', '\n8\n');
  await expect(verifyCheckpoint(note, vectors.verifier_key)).rejects.toThrow(/does not verify/);
  await expect(verifyCheckpoint(c.receipt.checkpoint, 'Other+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).rejects.toThrow(/key id/);
});

test('the C2SP signed-note example verifies', async () => {
  // c2sp.org/signed-note "Example" (also in crates/log/src/checkpoint.rs): not a checkpoint body,
  // so the signature verifies and the body check then refuses it.
  const vkey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const msg = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
  await expect(verifyCheckpoint(msg, vkey)).rejects.toThrow(/body is malformed/);
  await expect(verifyCheckpoint(msg.replace('example message', 'Example message'), vkey)).rejects.toThrow(/does not verify/);
});

test('a cosignature/v1 made by another implementation verifies, and the policy is judged', async () => {
  // fuzz/corpus/cosignature: a checkpoint cosigned with Python's `cryptography` from the C2SP
  // tlog-cosignature text (time 1700000000), and that witness's key; crates/log checks the
  // same files.
  const root = new URL('../../fuzz/corpus/cosignature/', import.meta.url);
  const note = readFileSync(new URL('cosigned_checkpoint.txt', root), 'utf8');
  const vkey = readFileSync(new URL('verifier_key.txt', root), 'utf8').trim();
  const policy = (quorum: number, maxAge = 600) => ({
    list: [{ verifier_key: vkey, party: 'SY' }],
    policy: { required: ['fuzz.example/witness'], quorum, max_age_seconds: maxAge },
  });
  const v = await judgeCosignatures(note, policy(1), 1_700_000_100);
  expect(v.cosigned).toEqual([{ name: 'fuzz.example/witness', party: 'SY', timestamp: 1_700_000_000 }]);
  expect(v.problem).toBeNull();
  // Stale: a possible slow-down.
  expect((await judgeCosignatures(note, policy(1), 1_700_000_601)).problem).toMatch(/withholding/);
  // A flipped bit in the cosigned text fails.
  await expect(judgeCosignatures(note.replace('20852163', '20852164'), policy(1), 1_700_000_100)).rejects.toThrow(/does not verify/);
  // Without the witness's line: the required witness is missing.
  const bare = note.split('\n').filter((l) => !l.startsWith('\u2014 fuzz.example')).join('\n');
  expect((await judgeCosignatures(bare, policy(1), 1_700_000_100)).problem).toMatch(/missing the required fuzz.example\/witness/);
});
