// In-browser verification of what the server says, with WebCrypto only:
// - C2SP signed-note checkpoints against the log's verifier key (Ed25519),
// - RFC 6962 inclusion proofs (leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || l || r)),
// - that a receipt's leaf hash is the hash of the entry it comes with.
// Matches crates/log (checked against web/tests/vectors.json, which that crate produces).

const enc = new TextEncoder();

export function b64decode(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat(data)));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function leafHash(entry: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([0]), entry));
}

async function nodeHash(l: Uint8Array, r: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([1]), l, r));
}

/** The root an RFC 9162 (section 2.1.3.2) inclusion proof leads to, or null if malformed. */
export async function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: Uint8Array[],
): Promise<Uint8Array | null> {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export interface VerifierKey {
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array;
}

/** Parses `<name>+<8 hex key id>+<base64(0x01 || Ed25519 public key)>` and checks the id. */
export async function parseVerifierKey(vkey: string): Promise<VerifierKey> {
  // The base64 key may itself contain '+': split at the first two only.
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  if (!m) throw new Error(`malformed verifier key ${vkey}`);
  const [, name, id, b64] = m;
  const raw = b64decode(b64);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('verifier key is not an Ed25519 key');
  const computed = (await sha256(concat(enc.encode(name), new Uint8Array([0x0a]), raw))).slice(0, 4);
  if (hex(computed) !== id) throw new Error('verifier key id does not match its key');
  return { name, keyId: computed, publicKey: raw.slice(1) };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** Names of the other signatures on the note (cosigners), unverified here. */
  otherSigners: string[];
}

/** Verifies a signed checkpoint note with the log's key; throws saying what failed. */
export async function verifyCheckpoint(note: string, vkey: string): Promise<Checkpoint> {
  const key = await parseVerifierKey(vkey);
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split('\n');
  const others: string[] = [];
  let verified = false;
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed signature line: ${line}`);
    const sig = b64decode(m[2]);
    if (m[1] !== key.name || sig.length !== 68 || !equal(sig.slice(0, 4), key.keyId)) {
      others.push(m[1]);
      continue;
    }
    const pub = await crypto.subtle.importKey('raw', concat(key.publicKey), { name: 'Ed25519' }, false, ['verify']);
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, pub, concat(sig.slice(4)), concat(enc.encode(text))))) {
      throw new Error(`the signature of ${key.name} on the checkpoint does not verify`);
    }
    verified = true;
  }
  if (!verified) throw new Error(`the checkpoint carries no signature by ${key.name}`);
  const lines = text.split('\n');
  if (lines.length < 4 || lines[0] !== key.name || !/^[0-9]+$/.test(lines[1])) {
    throw new Error('checkpoint body is malformed or for another log');
  }
  const root = b64decode(lines[2]);
  if (root.length !== 32) throw new Error('checkpoint root is not a SHA-256 hash');
  return { origin: lines[0], size: Number(lines[1]), root, otherSigners: others };
}

export interface Receipt {
  index: number;
  leaf_hash: string;
  checkpoint: string;
  inclusion_proof: string[];
}

/** Checks one entry against its receipt: its leaf hash, the proof, the checkpoint signature. */
export async function verifyReceipt(entry: string, r: Receipt, vkey: string): Promise<Checkpoint> {
  const cp = await verifyCheckpoint(r.checkpoint, vkey);
  const leaf = await leafHash(enc.encode(entry));
  if (!equal(leaf, b64decode(r.leaf_hash))) {
    throw new Error(`entry ${r.index}: its hash is not the receipt's leaf hash`);
  }
  const root = await rootFromInclusion(r.index, cp.size, leaf, r.inclusion_proof.map(b64decode));
  if (!root || !equal(root, cp.root)) {
    throw new Error(`entry ${r.index}: the inclusion proof does not lead to the checkpoint's root`);
  }
  return cp;
}

// --- C2SP tlog-cosignature (cosignature/v1) and the agreement's witness policy ----------------

export interface WitnessDecl {
  verifier_key: string;
  party: string;
}

export interface Witnesses {
  list: WitnessDecl[];
  policy: { required: string[]; quorum: number; max_age_seconds: number };
}

export interface Cosigned {
  name: string;
  party: string;
  /** POSIX seconds, as the witness stamped it. */
  timestamp: number;
}

export interface PolicyVerdict {
  cosigned: Cosigned[];
  quorumMet: boolean;
  missingRequired: string[];
  /** The newest cosignature is within the policy's max_age_seconds of `now`. */
  fresh: boolean;
  newest: number | null;
  /** What is missing, in words, or null if the checkpoint is trusted. */
  problem: string | null;
}

/** Parses a cosigner key `<name>+<8 hex id>+<base64(0x04 || Ed25519 public key)>`; the id is
 * SHA-256(name || "\n" || 0x04 || key)[:4]. */
async function parseCosignerKey(vkey: string): Promise<VerifierKey> {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  if (!m) throw new Error(`malformed witness key ${vkey}`);
  const [, name, id, b64] = m;
  const raw = b64decode(b64);
  if (raw.length !== 33 || raw[0] !== 4) throw new Error(`witness key ${name} is not a cosignature/v1 key`);
  const computed = (await sha256(concat(enc.encode(name), new Uint8Array([0x0a]), raw))).slice(0, 4);
  if (hex(computed) !== id) throw new Error(`witness key id of ${name} does not match its key`);
  return { name, keyId: computed, publicKey: raw.slice(1) };
}

/**
 * Verifies the cosignature/v1 lines on a checkpoint note by the agreement's witnesses (each
 * over "cosignature/v1\ntime <t>\n" and the note's text) and judges them by the policy at
 * `now` (POSIX seconds). Lines by other keys are ignored; a line by a listed witness that does
 * not verify throws.
 */
export async function judgeCosignatures(note: string, witnesses: Witnesses, now: number): Promise<PolicyVerdict> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const keys = await Promise.all(witnesses.list.map(async (w) => ({ party: w.party, key: await parseCosignerKey(w.verifier_key) })));
  const found = new Map<string, Cosigned>();
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed signature line: ${line}`);
    const sig = b64decode(m[2]);
    const w = keys.find((k) => k.key.name === m[1] && equal(sig.slice(0, 4), k.key.keyId));
    if (!w) continue;
    if (sig.length !== 4 + 8 + 64) throw new Error(`the cosignature of ${m[1]} is not a cosignature/v1`);
    const view = new DataView(sig.buffer, sig.byteOffset + 4, 8);
    const ts = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    const msg = concat(enc.encode(`cosignature/v1\ntime ${ts}\n`), enc.encode(text));
    const pub = await crypto.subtle.importKey('raw', concat(w.key.publicKey), { name: 'Ed25519' }, false, ['verify']);
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, pub, concat(sig.slice(12)), msg))) {
      throw new Error(`the cosignature of ${m[1]} on the checkpoint does not verify`);
    }
    const seen = found.get(m[1]);
    if (!seen || seen.timestamp < ts) found.set(m[1], { name: m[1], party: w.party, timestamp: ts });
  }
  const cosigned = [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  const p = witnesses.policy;
  const missingRequired = p.required.filter((r) => !found.has(r));
  const quorumMet = missingRequired.length === 0 && cosigned.length >= p.quorum;
  const newest = cosigned.length ? Math.max(...cosigned.map((c) => c.timestamp)) : null;
  const fresh = newest !== null && now - newest <= p.max_age_seconds;
  let problem: string | null = null;
  if (!quorumMet) {
    problem = `${cosigned.length} of the ${p.quorum} witness cosignatures the agreement's policy needs` +
      (missingRequired.length ? `; missing the required ${missingRequired.join(', ')}` : '');
  } else if (!fresh) {
    problem = `the newest witness cosignature is older than ${p.max_age_seconds} s: the log may be withholding newer entries from you`;
  }
  return { cosigned, quorumMet, missingRequired, fresh, newest, problem };
}
