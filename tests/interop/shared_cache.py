#!/usr/bin/env python3
"""Points a real RFC 9111 shared cache (hishel, in shared-cache mode, in front of httpx) at a
live truce server: every answer that needs a token is fetched once with the token, then
again without one through the same cache. The second request must reach the server and be
refused (401), never be answered from the cache with the first caller's data.

Usage: shared_cache.py URL TOKEN BLOB_SHA256
"""

import sys
import tempfile

import hishel
import hishel.httpx


def main() -> int:
    url, token, blob = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    auth = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as tmp:
        storage = hishel.SqliteStorage(database_path=f"{tmp}/cache.db")
        client = hishel.httpx.CacheClient(
            storage=storage, rfc=hishel.CacheOptions(shared=True)
        )
        size = client.get(f"{url}/healthz").json()["tree_size"]
        paths = [
            "/log/checkpoint",
            "/log/tile/0/000.p/1",
            "/log/tile/entries/000.p/1",
            f"/v1/checkpoints/{size}",
            f"/v1/blobs/{blob}",
            "/v1/entries/0",
            "/v1/mechanism",
        ]
        failures = []
        for path in paths:
            first = client.get(f"{url}{path}", headers=auth)
            if first.status_code != 200:
                failures.append(f"{path}: with a token, status {first.status_code}")
                continue
            again = client.get(f"{url}{path}")
            status = again.extensions["caching"]
            from_cache = status["from_cache"] if isinstance(status, dict) else status.from_cache
            if again.status_code != 401 or from_cache:
                failures.append(
                    f"{path}: without a token, status {again.status_code}, "
                    f"from cache {from_cache} (Cache-Control "
                    f"{first.headers.get('cache-control')!r}, Vary {first.headers.get('vary')!r})"
                )
            else:
                print(f"ok   {path}: not served from the shared cache without a token")
        # What needs no token may be cached as its server says.
        client.get(f"{url}/v1/openapi.json")
        for failure in failures:
            print(f"FAIL {failure}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
