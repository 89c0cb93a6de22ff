#!/usr/bin/env python3
"""Independent interoperability check of a running truce server.

Written from the specifications, sharing no code with truce: C2SP signed-note and
tlog-checkpoint, C2SP tlog-tiles (paths, entry bundles, hash tiles), RFC 6962/9162 hashing and
inclusion proofs, C2SP tlog-proof, DSSE v1 (PAE) with Ed25519 (pyca/cryptography).

Usage: check_server.py URL VERIFIER_KEY MEMBER_KEY_FILE [FILL]
Reads send the API token in the environment variable TRUCE_TOKEN (`truce token create`) as a
bearer token; submissions are authenticated by their signatures and sent without it.
It first submits FILL (default 300) Python-signed reports in one batch (so the log spans more
than one tile), then verifies the checkpoint, mirrors the whole log over the tiles API, recomputes the root,
checks every envelope's signature, then signs a new report in Python, submits it, and verifies
the tlog-proof the server returns for it. Exits non-zero on any mismatch.
"""
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

EM_DASH = "\u2014"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def http(url, body=None):
    if body is not None:
        headers = {"content-type": "application/json"}
    elif os.environ.get("TRUCE_TOKEN"):
        headers = {"authorization": "Bearer " + os.environ["TRUCE_TOKEN"]}
    else:
        headers = {}
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get(url):
    status, body = http(url)
    if status != 200:
        fail(f"GET {url}: {status} {body[:200]!r}")
    return body


# --- C2SP signed-note / tlog-checkpoint -------------------------------------------------------

def parse_vkey(vkey):
    name, keyid_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64)
    if raw[0] != 0x01 or len(raw) != 33:
        fail("verifier key is not an Ed25519 signed-note key")
    expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if expected.hex() != keyid_hex:
        fail("verifier key id does not match its key")
    return name, expected, Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_note(note, vkey):
    name, keyid, pub = parse_vkey(vkey)
    text = note.decode()
    body, _, sigs = text.rpartition("\n\n")
    body += "\n"
    ok = False
    for line in sigs.rstrip("\n").split("\n"):
        if not line.startswith(EM_DASH + " "):
            fail(f"bad signature line {line!r}")
        sig_name, sig_b64 = line[2:].split(" ")
        raw = base64.b64decode(sig_b64)
        if sig_name == name and raw[:4] == keyid:
            try:
                pub.verify(raw[4:], body.encode())
                ok = True
            except InvalidSignature:
                fail("checkpoint signature does not verify")
    if not ok:
        fail("checkpoint not signed by the log key")
    lines = body.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    if origin != name:
        fail("checkpoint origin differs from the key name")
    return origin, size, root


# --- RFC 6962 ------------------------------------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    # RFC 9162 section 2.1.3.2
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --- C2SP tlog-tiles -------------------------------------------------------------------------

def tile_index(n):
    s = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        s = f"x{n % 1000:03d}/" + s
    return s


def level0_paths(kind, size):
    """Paths of the tiles covering `size` leaves at level 0 (`kind` is "entries" or "0")."""
    for t in range((size + 255) // 256):
        width = min(256, size - t * 256)
        yield f"tile/{kind}/{tile_index(t)}" + ("" if width == 256 else f".p/{width}")


def fetch_entries(base, size):
    leaves = []
    for path in level0_paths("entries", size):
        data = get(f"{base}/log/{path}")
        i = 0
        while i < len(data):
            n = int.from_bytes(data[i:i + 2], "big")
            leaves.append(data[i + 2:i + 2 + n])
            i += 2 + n
    if len(leaves) != size:
        fail(f"mirrored {len(leaves)} entries, checkpoint says {size}")
    return leaves


def level0_tiles(base, size):
    hashes = []
    for path in level0_paths("0", size):
        data = get(f"{base}/log/{path}")
        hashes += [data[i:i + 32] for i in range(0, len(data), 32)]
    return hashes


# --- DSSE ------------------------------------------------------------------------------------

def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def sign_report(sk, origin, author, narrative):
    body = {"event_type": "overflight", "time": {"start": "2026-11-20T10:00:00Z", "precision": "hour"},
            "location": {"point": [35.9, 33.0], "precision_m": 3000}, "perpetrator": "UNKNOWN",
            "narrative": narrative, "grading": {"source_reliability": "C", "information_credibility": 3}}
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = json.dumps({"v": 1, "mechanism": origin, "kind": "report", "author": author,
                          "created": created, "body": body}).encode()
    ptype = "application/vnd.truce.entry+json"
    pk = sk.public_key().public_bytes_raw()
    return {"payloadType": ptype, "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": hashlib.sha256(pk).hexdigest(), "sig": base64.b64encode(sk.sign(pae(ptype, payload))).decode()}]}


def main():
    base, vkey, key_file = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    fill = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    member = json.load(open(key_file))
    sk = Ed25519PrivateKey.from_private_bytes(base64.b64decode(member["secret_key"]))
    origin = verify_note(get(f"{base}/log/checkpoint"), vkey)[0]
    if fill:
        batch = [sign_report(sk, origin, member["member"], f"interop fill {i}") for i in range(fill)]
        status, answer = http(f"{base}/v1/entries/batch", json.dumps(batch).encode())
        results = json.loads(answer)["results"] if status == 200 else []
        if len(results) != fill or any(r["status"] != 201 for r in results):
            fail(f"batch of Python-signed reports not admitted: {status} {answer[:300]!r}")
    origin, size, root = verify_note(get(f"{base}/log/checkpoint"), vkey)
    leaves = fetch_entries(base, size)
    hashes = [leaf_hash(l) for l in leaves]
    if mth(hashes) != root:
        fail("root recomputed from the mirrored entries differs from the checkpoint")
    if level0_tiles(base, size) != hashes:
        fail("level-0 hash tiles differ from the hashes of the entries")

    mechanism = json.loads(get(f"{base}/v1/mechanism"))
    keys = {m["key_id"]: Ed25519PublicKey.from_public_bytes(base64.b64decode(m["public_key"]))
            for m in mechanism["members"]}
    countersigned = 0
    for i, leaf in enumerate(leaves):
        env = json.loads(leaf)
        compact = json.dumps({"payloadType": env["payloadType"], "payload": env["payload"],
                              "signatures": [{"keyid": s["keyid"], "sig": s["sig"]} for s in env["signatures"]]},
                             separators=(",", ":")).encode()
        if compact != leaf:
            fail(f"entry {i} is not in the compact form")
        # The author's signature, then any countersignatures (membership entries the
        # mediator countersigned): each must verify over the same PAE.
        for sig in env["signatures"]:
            if hashlib.sha256(keys[sig["keyid"]].public_bytes_raw()).hexdigest() != sig["keyid"]:
                fail(f"entry {i}: key id is not SHA-256 of the key")
            try:
                keys[sig["keyid"]].verify(base64.b64decode(sig["sig"]), pae(env["payloadType"], base64.b64decode(env["payload"])))
            except InvalidSignature:
                fail(f"entry {i}: signature by {sig['keyid'][:12]} does not verify")
        countersigned += len(env["signatures"]) > 1

    # A party's own system: sign a report here and submit it (pretty-printed: the server
    # must store the compact form).
    envelope = sign_report(sk, origin, member["member"], "interop check: unidentified aircraft observed")
    status, answer = http(f"{base}/v1/entries", json.dumps(envelope, indent=2).encode())
    if status != 201:
        fail(f"submission signed in Python refused: {status} {answer[:300]!r}")
    receipt = json.loads(answer)

    # The tlog-proof for it, verified from scratch.
    proof_text = get(f"{base}/v1/entries/{receipt['index']}/tlog-proof").decode()
    head, _, checkpoint = proof_text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1" or not lines[1].startswith("index "):
        fail("malformed tlog-proof")
    index = int(lines[1][6:])
    proof = [base64.b64decode(l) for l in lines[2:]]
    _, psize, proot = verify_note(checkpoint.encode(), vkey)
    compact = json.dumps(envelope, separators=(",", ":")).encode()
    if not verify_inclusion(index, psize, leaf_hash(compact), proof, proot):
        fail("tlog-proof does not prove the submitted entry")
    print(f"OK: {origin}: checkpoint, {size} mirrored entries ({countersigned} countersigned), their signatures and root verified; "
          f"a Python-signed report was admitted as entry {index} and its tlog-proof verified")


if __name__ == "__main__":
    main()
