#!/usr/bin/env bash
# Cross-check of truce_geo::ZoneIndex::containing against shapely 2 on the Golan zones: 100,000
# seeded random points plus every vertex, edge midpoint and a point level with every vertex.
# Exits non-zero if any point outside the 1 m band around zone boundaries is answered
# differently. Quick enough for CI in a debug build.
#
# Usage: bench/zones_crosscheck.sh [PYTHON]   (a Python with "shapely>=2" and numpy; default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3}"
cargo run --quiet --locked -p truce-bench --bin zones -- --check --points 100000 --python "$python"
