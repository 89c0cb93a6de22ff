#!/usr/bin/env python3
"""Zone membership of many points by shapely 2 (GEOS), for the truce-bench `zones` binary.

Independent of truce: reads the zones GeoJSON itself, builds shapely geometries, prepares them,
and for each areal zone times `shapely.contains_xy` over all points (median of --runs runs).

Inputs:
  --points PATH   little-endian float64 pairs (lon, lat), one pair per point
  --zones PATH    RFC 7946 FeatureCollection of zones
Outputs:
  --membership PATH   one little-endian uint64 per point: bit i set when zone i (position in
                      the features array) contains the point (shapely: interior only)
  --band PATH         one uint8 per point: 1 when the point is within about 1 m of the
                      boundary of some areal zone, where the cross-check does not compare
  stdout              a JSON object with the timings

The 1 m band is measured in degrees: 1 m is taken as 1 / (111 320 m · cos(max |latitude|))
degrees, which is at least 1 m in every direction at the latitudes of the points.
"""

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import shapely


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", required=True)
    ap.add_argument("--zones", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--membership", required=True)
    ap.add_argument("--band", required=True)
    args = ap.parse_args()

    xy = np.fromfile(args.points, dtype="<f8").reshape(-1, 2)
    xs = np.ascontiguousarray(xy[:, 0])
    ys = np.ascontiguousarray(xy[:, 1])

    with open(args.zones, encoding="utf-8") as f:
        features = json.load(f)["features"]
    if len(features) > 64:
        print("more than 64 zones: the uint64 membership mask cannot hold them", file=sys.stderr)
        return 2
    areal = []
    for i, feature in enumerate(features):
        geometry = shapely.geometry.shape(feature["geometry"])
        if geometry.geom_type in ("Polygon", "MultiPolygon"):
            shapely.prepare(geometry)
            areal.append((i, feature["id"], geometry))

    membership = np.zeros(len(xs), dtype="<u8")
    runs = []
    per_zone = {zone_id: [] for _, zone_id, _ in areal}
    for run in range(max(args.runs, 1)):
        total = 0.0
        for i, zone_id, geometry in areal:
            start = time.perf_counter()
            inside = shapely.contains_xy(geometry, xs, ys)
            elapsed = time.perf_counter() - start
            total += elapsed
            per_zone[zone_id].append(elapsed)
            if run == 0:
                membership |= inside.astype("<u8") << np.uint64(i)
        runs.append(total)
    membership.tofile(args.membership)

    lat_max = float(np.max(np.abs(ys))) if len(ys) else 0.0
    one_metre_deg = 1.0 / (111_320.0 * math.cos(math.radians(min(lat_max, 89.0))))
    points = shapely.points(xs, ys)
    band = np.zeros(len(xs), dtype=np.uint8)
    for _, _, geometry in areal:
        boundary = geometry.boundary
        shapely.prepare(boundary)
        band |= shapely.dwithin(boundary, points, one_metre_deg).astype(np.uint8)
    band.tofile(args.band)

    median = statistics.median(runs)
    json.dump(
        {
            "points": len(xs),
            "areal_zones": len(areal),
            "runs_s": runs,
            "median_s": median,
            "points_per_s": len(xs) / median if median > 0 else None,
            "per_zone_median_s": {k: statistics.median(v) for k, v in per_zone.items()},
            "in_band": int(band.sum()),
            "one_metre_deg": one_metre_deg,
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
