#!/usr/bin/env python3
"""DBSCAN of simulated report points by scikit-learn, for the truce-bench `fusion` binary.

Independent of truce: reads the points, runs sklearn.cluster.DBSCAN(metric="haversine",
algorithm="ball_tree", eps=<eps_km / 6371.0088 radians>, min_samples=1, n_jobs=1) on
(latitude, longitude) in radians, times the fit, and scores the clustering with B-cubed against
the truth (implemented here from its definition; `--selftest` checks the vectorised version
against the per-item definition on random clusterings).

Variants:
  all      every point at once: space only
  per-day  points partitioned by the UTC day of their time; one DBSCAN per day (time folded in)

Inputs:
  --points PATH   little-endian float64 triples (lon, lat, unix seconds), one per report
  --truth PATH    one little-endian int64 per report: its true cluster
Outputs:
  --labels PATH   one little-endian int64 per report: its DBSCAN cluster
  stdout          a JSON object: fit_s, precision, recall, f1, clusters, maxrss_kib (this
                  process's peak resident set, resource.getrusage ru_maxrss), ok, note

The process's address space is limited to --mem-gib (resource.RLIMIT_AS): past it DBSCAN fails
with MemoryError, reported as ok=false, rather than exhausting a shared machine.
"""

import argparse
import json
import resource
import sys
import time

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), as in sklearn's haversine docs


def bcubed(pred, truth):
    """B-cubed precision, recall, F1: per item, the share of its predicted cluster that shares
    its true cluster (precision) and the share of its true cluster that shares its predicted
    cluster (recall), averaged over items. Computed from the joint counts: the n items of a
    (predicted, true) cell each score n/|predicted| and n/|true|."""
    import numpy as np

    n = len(pred)
    if n == 0:
        return 1.0, 1.0, 1.0
    _, p_inv, p_count = np.unique(pred, return_inverse=True, return_counts=True)
    _, t_inv, t_count = np.unique(truth, return_inverse=True, return_counts=True)
    joint = p_inv.astype(np.int64) * np.int64(len(t_count)) + t_inv
    cells, j_inv, j_count = np.unique(joint, return_inverse=True, return_counts=True)
    cell_p = cells // len(t_count)
    cell_t = cells % len(t_count)
    precision = float(np.sum(j_count.astype(np.float64) ** 2 / p_count[cell_p]) / n)
    recall = float(np.sum(j_count.astype(np.float64) ** 2 / t_count[cell_t]) / n)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def bcubed_by_definition(pred, truth):
    """The same, item by item, straight from the definition (quadratic: for tests)."""
    n = len(pred)
    ps = rs = 0.0
    for i in range(n):
        same_p = [j for j in range(n) if pred[j] == pred[i]]
        same_t = [j for j in range(n) if truth[j] == truth[i]]
        both = sum(1 for j in same_p if truth[j] == truth[i])
        ps += both / len(same_p)
        rs += both / len(same_t)
    p, r = ps / n, rs / n
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def selftest():
    import random

    rng = random.Random(1)
    for trial in range(200):
        n = rng.randint(1, 60)
        pred = [rng.randint(0, rng.randint(0, 10)) for _ in range(n)]
        truth = [rng.randint(-3, rng.randint(0, 10)) for _ in range(n)]
        a = bcubed(pred, truth)
        b = bcubed_by_definition(pred, truth)
        if any(abs(x - y) > 1e-12 for x, y in zip(a, b)):
            print(f"trial {trial}: vectorised {a} != definition {b}", file=sys.stderr)
            return 1
    # The hand-worked example of crates/sim/src/eval/mod.rs.
    p, r, _ = bcubed(list("xxxyy"), list("aabbc"))
    assert abs(p - 8 / 15) < 1e-12 and abs(r - 0.8) < 1e-12, (p, r)
    print("B-cubed self-test passed (200 random clusterings and the hand-worked example)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points")
    ap.add_argument("--truth")
    ap.add_argument("--labels")
    ap.add_argument("--variant", choices=["all", "per-day"], default="all")
    ap.add_argument("--eps-km", type=float, default=3.0)
    ap.add_argument("--mem-gib", type=float, default=8.0)
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    if not (args.points and args.truth and args.labels):
        ap.error("--points, --truth and --labels are required")

    limit = int(args.mem_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    import numpy as np
    import sklearn
    from sklearn.cluster import DBSCAN

    pts = np.fromfile(args.points, dtype="<f8").reshape(-1, 3)
    truth = np.fromfile(args.truth, dtype="<i8")
    if len(truth) != len(pts):
        print(f"{len(pts)} points but {len(truth)} truth labels", file=sys.stderr)
        return 2
    latlon = np.radians(np.ascontiguousarray(pts[:, [1, 0]]))
    eps = args.eps_km / EARTH_RADIUS_KM
    labels = np.full(len(pts), -1, dtype=np.int64)
    out = {
        "variant": args.variant,
        "points": len(pts),
        "eps_km": args.eps_km,
        "eps_rad": eps,
        "sklearn": sklearn.__version__,
        "ok": True,
        "note": "",
    }

    def fit(x):
        return DBSCAN(
            eps=eps, min_samples=1, metric="haversine", algorithm="ball_tree", n_jobs=1
        ).fit(x).labels_

    start = time.perf_counter()
    try:
        if args.variant == "all":
            labels[:] = fit(latlon)
        else:
            day = np.floor(pts[:, 2] / 86400.0).astype(np.int64)
            order = np.argsort(day, kind="stable")
            bounds = np.flatnonzero(np.diff(day[order])) + 1
            offset = 0
            for part in np.split(order, bounds):
                lab = fit(latlon[part])
                labels[part] = lab + offset
                offset += int(lab.max()) + 1
            out["partitions"] = len(bounds) + 1
    except MemoryError:
        out["ok"] = False
        out["note"] = f"MemoryError: DBSCAN needed more than the {args.mem_gib} GiB address-space limit"
    out["fit_s"] = time.perf_counter() - start
    if out["ok"]:
        if (labels < 0).any():
            print("DBSCAN left noise points with min_samples=1", file=sys.stderr)
            return 2
        p, r, f1 = bcubed(labels, truth)
        out.update(precision=p, recall=r, f1=f1, clusters=int(len(np.unique(labels))))
        labels.astype("<i8").tofile(args.labels)
    out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
