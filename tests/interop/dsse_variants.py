#!/usr/bin/env python3
"""DSSE envelopes made by an independent library (securesystemslib's `dsse.Envelope`, signing
with its `CryptoSigner`) in every form the DSSE spec allows, submitted to a running truce server.

The DSSE envelope spec (secure-systems-lab/dsse, envelope.md) allows standard or URL-safe base64,
lets empty fields be omitted (so `keyid` may be missing or empty), and defines no other fields
(a verifier ignores them). Each variant must be accepted (201), logged in the canonical form
(standard base64 with padding, every keyid present), and a second variant of the same signed
entry must be recognised as the same entry (200, same index).

Usage: dsse_variants.py URL MEMBER_KEY_FILE
Reads send the API token in TRUCE_TOKEN.
"""

import base64
import copy
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

PAYLOAD_TYPE = "application/vnd.truce.entry+json"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def http(method, url, body=None):
    headers = {"content-type": "application/json"} if body is not None else {}
    if body is None and os.environ.get("TRUCE_TOKEN"):
        headers["authorization"] = "Bearer " + os.environ["TRUCE_TOKEN"]
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    base, key_file = sys.argv[1].rstrip("/"), sys.argv[2]
    member = json.load(open(key_file))
    sk = Ed25519PrivateKey.from_private_bytes(base64.b64decode(member["secret_key"]))
    raw_pub = sk.public_key().public_bytes_raw()
    truce_keyid = hashlib.sha256(raw_pub).hexdigest()
    # The library's key object, with truce's key id (a DSSE keyid is the application's hint).
    public = SSlibKey(truce_keyid, "ed25519", "ed25519", {"public": raw_pub.hex()})
    signer = CryptoSigner(sk, public)
    status, body = http("GET", f"{base}/v1/mechanism")
    if status != 200:
        fail(f"GET /v1/mechanism: {status}")
    origin = json.loads(body)["origin"]

    def entry(narrative):
        created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        report = {"event_type": "overflight", "time": {"start": "2026-11-20T10:00:00Z", "precision": "hour"},
                  "location": {"point": [35.9, 33.0], "precision_m": 3000}, "perpetrator": "UNKNOWN",
                  # Bytes whose standard base64 has `+` and `/`, so that URL-safe differs.
                  "narrative": narrative + " \u00fe\u00ff~~>?",
                  "grading": {"source_reliability": "C", "information_credibility": 3}}
        payload = json.dumps({"v": 1, "mechanism": origin, "kind": "report", "author": member["member"],
                              "created": created, "body": report}).encode()
        env = Envelope(payload, PAYLOAD_TYPE, {})
        env.sign(signer)
        d = env.to_dict()
        if Envelope.from_dict(copy.deepcopy(d)).payload != payload:
            fail("securesystemslib does not round-trip its own envelope")
        return d

    def urlsafe(s, pad=True):
        t = base64.urlsafe_b64encode(base64.b64decode(s)).decode()
        return t if pad else t.rstrip("=")

    variants = {
        "url-safe base64": lambda d: {**d, "payload": urlsafe(d["payload"]),
                                      "signatures": [{**s, "sig": urlsafe(s["sig"])} for s in d["signatures"]]},
        "url-safe base64 without padding": lambda d: {**d, "payload": urlsafe(d["payload"], False),
                                                      "signatures": [{**s, "sig": urlsafe(s["sig"], False)} for s in d["signatures"]]},
        "no keyid": lambda d: {**d, "signatures": [{"sig": s["sig"]} for s in d["signatures"]]},
        "empty keyid": lambda d: {**d, "signatures": [{"keyid": "", "sig": s["sig"]} for s in d["signatures"]]},
        "unknown fields": lambda d: {**d, "x-annotation": {"by": "an independent tool"},
                                     "signatures": [{**s, "x-note": 1} for s in d["signatures"]]},
    }
    for name, make in variants.items():
        d = entry(f"DSSE variant: {name}")
        canonical = d  # securesystemslib writes standard base64 with padding and the keyid
        variant = make(copy.deepcopy(d))
        if variant == canonical:
            fail(f"{name}: the variant is not different from the canonical envelope")
        status, body = http("POST", f"{base}/v1/entries", json.dumps(variant).encode())
        if status != 201:
            fail(f"{name}: expected 201, got {status} {body[:300]!r}")
        index = json.loads(body)["index"]
        status, body = http("GET", f"{base}/v1/entries/{index}")
        if status != 200:
            fail(f"{name}: GET /v1/entries/{index}: {status}")
        logged = json.loads(body)["envelope"]
        if logged["payload"] != canonical["payload"] or [s["sig"] for s in logged["signatures"]] != [s["sig"] for s in canonical["signatures"]]:
            fail(f"{name}: the log did not store the canonical base64: {logged}")
        if [s.get("keyid") for s in logged["signatures"]] != [truce_keyid]:
            fail(f"{name}: the log did not store the keyid: {logged['signatures']}")
        # The canonical form of the same signed entry is the same entry.
        status, body = http("POST", f"{base}/v1/entries", json.dumps(canonical).encode())
        if status != 200 or json.loads(body)["index"] != index:
            fail(f"{name}: the canonical envelope was not recognised as entry {index}: {status} {body[:200]!r}")
        print(f"ok  {name}: logged as entry {index} in canonical form")
    print("DSSE variants: all accepted and logged canonically")


if __name__ == "__main__":
    main()
