#!/usr/bin/env python3
"""An independent tlog-witness client, written from the C2SP spec texts, against `truce witness`.

It plays a conforming log that truce did not build: its own Ed25519 signed-note key (type 0x01),
its own RFC 6962 tree and consistency proofs (RFC 6962 section 2.1.2, written here from the
RFC's definitions), and its own `cosignature/v1` verifier (c2sp.org/tlog-cosignature). It runs
`truce witness init` and `truce witness serve` itself, then checks, over HTTP:

- every status code the spec names (200, 400, 403, 404, 409 with `text/x.tlog.size`, 422);
- that each 200 answer holds a cosignature/v1 line that verifies, with a timestamp that never
  goes backwards;
- that a fork (the same size, another root) is refused and kept as evidence with both notes;
- that the record survives a kill -9 and a restart.

Usage: witness.py PATH-TO-TRUCE
"""

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ORIGIN = "interop.example/python-log"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def b64(b):
    return base64.b64encode(b).decode()


def key_id(name, material):
    return hashlib.sha256(name.encode() + b"\n" + material).digest()[:4]


# --- the log: RFC 6962 tree (hashes from the RFC's definitions) ------------------------------


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m, leaves, complete):
    """SUBPROOF(m, D[n], b) of RFC 6962 section 2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], complete) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency(m, leaves):
    return subproof(m, leaves, True) if 0 < m < len(leaves) else []


class Log:
    def __init__(self, seed=None):
        self.sk = Ed25519PrivateKey.from_private_bytes(seed or os.urandom(32))
        pub = self.sk.public_key().public_bytes_raw()
        self.kid = key_id(ORIGIN, b"\x01" + pub)
        self.vkey = ORIGIN + "+" + self.kid.hex() + "+" + b64(b"\x01" + pub)
        self.leaves = []

    def grow(self, n, tag=b""):
        for _ in range(n):
            self.leaves.append(leaf_hash(tag + len(self.leaves).to_bytes(8, "big")))
        return self.checkpoint()

    def checkpoint(self, root=None):
        root = root or mth(self.leaves)
        text = f"{ORIGIN}\n{len(self.leaves)}\n{b64(root)}\n".encode()
        sig = self.sk.sign(text)
        return text + "\n— {} {}\n".format(ORIGIN, b64(self.kid + sig)).encode()

    def body(self, old, note, proof=None):
        proof = consistency(old, self.leaves) if proof is None else proof
        lines = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n"
        return lines.encode() + note


# --- cosignature/v1 verification (c2sp.org/tlog-cosignature) ---------------------------------


def parse_cosigner_vkey(vkey):
    name, kid, key64 = vkey.split("+", 2)
    raw = base64.b64decode(key64, validate=True)
    if raw[0] != 0x04 or len(raw) != 33:
        fail(f"witness key is not a cosignature/v1 key: {vkey}")
    if key_id(name, raw) != bytes.fromhex(kid):
        fail("witness key id does not match SHA-256(name || \\n || 0x04 || key)[:4]")
    return name, bytes.fromhex(kid), Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_cosignature(text, lines, wkey):
    """Returns the timestamp of the witness's valid cosignature among `lines`."""
    name, kid, pub = wkey
    found = None
    for line in lines.decode().splitlines():
        m = re.fullmatch(r"— (\S+) (\S+)", line)
        if not m:
            fail(f"not a note signature line: {line!r}")
        if m.group(1) != name:
            continue
        raw = base64.b64decode(m.group(2), validate=True)
        if raw[:4] != kid:
            continue
        if len(raw) != 4 + 8 + 64:
            fail("a cosignature/v1 signature is 4 + 8 + 64 bytes")
        ts = int.from_bytes(raw[4:12], "big")
        msg = b"cosignature/v1\n" + f"time {ts}\n".encode() + text
        try:
            pub.verify(raw[12:], msg)
        except InvalidSignature:
            fail("the cosignature does not verify over the cosignature/v1 message")
        found = ts
    if found is None:
        fail(f"no cosignature by {name} in {lines!r}")
    return found


# --- HTTP ---------------------------------------------------------------------------------------


def post(url, body):
    req = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def expect(got, status, what, content_type=None):
    if got[0] != status:
        fail(f"{what}: expected {status}, got {got[0]} {got[2]!r}")
    if content_type and got[1].split(";")[0].strip() != content_type:
        fail(f"{what}: expected Content-Type {content_type}, got {got[1]!r}")
    print(f"ok  {status} {what}")
    return got


def start(truce, wdir):
    p = subprocess.Popen(
        [truce, "witness", "serve", "--dir", wdir, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = p.stdout.readline()
    m = re.match(r"listening on (http://\S+)", line)
    if not m:
        p.kill()
        fail(f"witness did not start: {line!r}")
    return p, m.group(1)


def main():
    truce = sys.argv[1]
    log = Log()
    with tempfile.TemporaryDirectory() as tmp:
        wdir = os.path.join(tmp, "w")
        out = subprocess.run(
            [truce, "--json", "witness", "init", "--dir", wdir, "--name", "interop.example/w1", "--log", log.vkey],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wkey = parse_cosigner_vkey(json.loads(out)["verifier_key"])
        proc, url = start(truce, wdir)
        try:
            note4 = log.grow(4)
            text4 = note4.split(b"\n\n")[0] + b"\n"
            got = expect(post(url, log.body(0, note4)), 200, "first checkpoint, old 0")
            t1 = verify_cosignature(text4, got[2], wkey)
            if abs(t1 - time.time()) > 300:
                fail(f"cosignature timestamp {t1} is not now")
            # The cosigned note verifies as a whole: the answer appended to the checkpoint.
            note9 = log.grow(5)
            expect(post(url, log.body(0, note9)), 409, "old size 0 while the witness holds 4", "text/x.tlog.size")
            got = post(url, log.body(0, note9))
            if got[2] != b"4\n":
                fail(f"409 body must be the held size and a newline, got {got[2]!r}")
            expect(post(url, log.body(10, note9, [])), 400, "old size larger than the checkpoint")
            bad = consistency(4, log.leaves)
            bad[0] = hashlib.sha256(b"wrong").digest()
            expect(post(url, log.body(4, note9, bad)), 422, "consistency proof that does not verify")
            other = Log()
            other_note = other.grow(2).replace(ORIGIN.encode(), b"interop.example/unknown")
            expect(post(url, other.body(0, other_note, [])), 404, "unknown origin")
            impostor = Log()
            impostor.leaves = list(log.leaves)
            expect(post(url, impostor.body(4, impostor.checkpoint())), 403, "signed by another key")
            expect(post(url, b"old 04\n\n" + note9), 400, "old size with a leading zero")
            expect(post(url, b"old 4\nnot base64\n\n" + note9), 400, "bad proof line")
            expect(post(url, b"old 4\n" + (b64(bad[0]) + "\n").encode() * 64 + b"\n" + note9), 400, "64 proof lines")
            got = expect(post(url, log.body(4, note9)), 200, "consistent growth 4 -> 9")
            text9 = note9.split(b"\n\n")[0] + b"\n"
            t2 = verify_cosignature(text9, got[2], wkey)
            if t2 < t1:
                fail("the cosignature timestamp went backwards")
            # A fork: the same size, another root, signed by the log's own key.
            fork = log.checkpoint(root=hashlib.sha256(b"fork").digest())
            expect(post(url, log.body(9, fork, [])), 409, "same size, another root")
            # kill -9 and restart: the witness still holds size 9.
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc, url = start(truce, wdir)
            got = expect(post(url, log.body(4, note9)), 409, "after kill -9, old 4 (it holds 9)", "text/x.tlog.size")
            if got[2] != b"9\n":
                fail(f"after a restart the witness must hold 9, got {got[2]!r}")
            note12 = log.grow(3)
            got = expect(post(url, log.body(9, note12)), 200, "growth 9 -> 12 after the restart")
            verify_cosignature(note12.split(b"\n\n")[0] + b"\n", got[2], wkey)
        finally:
            proc.kill()
            proc.wait()
        ev = json.loads(
            subprocess.run([truce, "--json", "witness", "evidence", "--dir", wdir], check=True, capture_output=True, text=True).stdout
        )["evidence"]
        kinds = sorted(e["conflict"] for e in ev)
        if "same-size-other-root" not in kinds:
            fail(f"the fork was not kept as evidence: {kinds}")
        fork_ev = next(e for e in ev if e["conflict"] == "same-size-other-root")
        if fork_ev["refused"].encode() != fork or fork_ev["held"].encode() != note9:
            fail("the evidence does not hold both signed notes")
        print(f"ok  evidence kept: {kinds}")
    print("witness interop: all checks passed")


if __name__ == "__main__":
    main()
