//! Douglas-Peucker simplification of a polygon coverage that keeps shared borders shared.
//!
//! Simplifying each polygon on its own moves a border two polygons share differently for each
//! of them, opening gaps and overlaps between neighbours. Here the rings are cut into arcs at
//! *nodes* (vertices where the set of polygons on the other side of the border changes, or where
//! a third polygon touches), each arc is simplified once with its ends fixed, and every ring
//! that runs along an arc gets the same simplified arc. This needs neighbours to share exact
//! vertices, as topologically clean sources such as OCHA's COD-AB do; where they do not, the
//! result is the same as simplifying each ring on its own.
//!
//! Works on planar coordinates (use a metric projection): the tolerance is a distance.

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon};

type Key = (u64, u64);

fn key(c: Coord<f64>) -> Key {
    // Normalise -0.0 so that equal coordinates have equal keys.
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

fn edge_key(a: Coord<f64>, b: Coord<f64>) -> (Key, Key) {
    let (ka, kb) = (key(a), key(b));
    if ka <= kb { (ka, kb) } else { (kb, ka) }
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.x - (a.x + t * dx)).hypot(p.y - (a.y + t * dy))
}

/// Douglas-Peucker on an open polyline with fixed ends; returns the kept points.
pub fn douglas_peucker(points: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    if points.len() <= 2 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0, points.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        let mut worst = (0.0, 0);
        for i in first + 1..last {
            let d = segment_distance(points[i], points[first], points[last]);
            if d > worst.0 {
                worst = (d, i);
            }
        }
        if worst.0 > tolerance {
            keep[worst.1] = true;
            stack.push((first, worst.1));
            stack.push((worst.1, last));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Simplifies every polygon of a planar coverage with tolerance `tolerance`, keeping borders
/// shared between polygons (by exact vertices) identical. Rings that would collapse below
/// four positions are kept unsimplified. The output has the input's structure.
pub fn simplify_coverage(polygons: &[MultiPolygon<f64>], tolerance: f64) -> Vec<MultiPolygon<f64>> {
    // Closed rings without their repeated last position, with a global ring number.
    let rings: Vec<Vec<Coord<f64>>> = polygons
        .iter()
        .flat_map(|mp| mp.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| {
            let mut v = r.0.clone();
            if v.len() > 1 && v.first() == v.last() {
                v.pop();
            }
            v
        })
        .collect();

    // Which rings use each edge, and each vertex.
    let mut edge_rings: HashMap<(Key, Key), Vec<usize>> = HashMap::new();
    let mut vertex_rings: HashMap<Key, Vec<usize>> = HashMap::new();
    for (r, ring) in rings.iter().enumerate() {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let e = edge_rings.entry(edge_key(a, b)).or_default();
            if e.last() != Some(&r) {
                e.push(r);
            }
            let v = vertex_rings.entry(key(a)).or_default();
            if v.last() != Some(&r) {
                v.push(r);
            }
        }
    }

    let mut arcs: HashMap<Vec<Key>, Vec<Coord<f64>>> = HashMap::new();
    let mut simplified: Vec<Vec<Coord<f64>>> = Vec::with_capacity(rings.len());
    for ring in &rings {
        let n = ring.len();
        if n < 3 {
            simplified.push(ring.clone());
            continue;
        }
        // Every edge and vertex was counted above; the empty fallbacks are never used.
        let none: &[usize] = &[];
        let users = |i: usize| {
            edge_rings
                .get(&edge_key(ring[i % n], ring[(i + 1) % n]))
                .map_or(none, Vec::as_slice)
        };
        let mut nodes: Vec<usize> = (0..n)
            .filter(|&i| {
                let before = users(i + n - 1);
                let after = users(i);
                before != after
                    || vertex_rings.get(&key(ring[i])).map_or(0, Vec::len) != after.len()
            })
            .collect();
        if nodes.is_empty() {
            // A ring with the same neighbours all round: cut it at its smallest vertex so
            // that every ring running along it cuts it at the same place.
            let start = (0..n).min_by_key(|&i| key(ring[i])).unwrap_or(0);
            nodes.push(start);
        }
        let mut out: Vec<Coord<f64>> = Vec::with_capacity(n);
        for (k, &start) in nodes.iter().enumerate() {
            let end = if k + 1 < nodes.len() {
                nodes[k + 1]
            } else {
                nodes[0] + n
            };
            let arc: Vec<Coord<f64>> = (start..=end).map(|i| ring[i % n]).collect();
            let forward: Vec<Key> = arc.iter().map(|c| key(*c)).collect();
            let mut backward = forward.clone();
            backward.reverse();
            let reversed = backward < forward;
            let canonical = if reversed { backward } else { forward };
            let simple = arcs.entry(canonical).or_insert_with(|| {
                let mut a = arc.clone();
                if reversed {
                    a.reverse();
                }
                douglas_peucker(&a, tolerance)
            });
            let mut piece = simple.clone();
            if reversed {
                piece.reverse();
            }
            // Each arc's last point is the next arc's first.
            piece.pop();
            out.extend(piece);
        }
        if out.len() < 3 {
            out = ring.clone();
        }
        simplified.push(out);
    }

    let mut next = simplified.into_iter().map(|mut v| {
        if let Some(first) = v.first().copied() {
            v.push(first);
        }
        LineString::new(v)
    });
    polygons
        .iter()
        .map(|mp| {
            MultiPolygon::new(
                mp.0.iter()
                    .map(|p| {
                        let exterior = next.next().unwrap_or_else(|| LineString::new(vec![]));
                        let interiors = p
                            .interiors()
                            .iter()
                            .map(|_| next.next().unwrap_or_else(|| LineString::new(vec![])))
                            .collect();
                        Polygon::new(exterior, interiors)
                    })
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps};

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn douglas_peucker_drops_small_wiggles_and_keeps_big_ones() {
        let line = [
            c(0.0, 0.0),
            c(1.0, 0.1),
            c(2.0, -0.1),
            c(3.0, 5.0),
            c(4.0, 0.0),
        ];
        assert_eq!(
            douglas_peucker(&line, 0.5),
            vec![c(0.0, 0.0), c(2.0, -0.1), c(3.0, 5.0), c(4.0, 0.0)]
        );
        assert_eq!(douglas_peucker(&line, 10.0), vec![c(0.0, 0.0), c(4.0, 0.0)]);
    }

    /// Two squares sharing a wiggly border: after simplification they still share it exactly.
    #[test]
    fn shared_borders_stay_shared() {
        let border: Vec<Coord<f64>> = (0..=100)
            .map(|i| {
                c(
                    10.0 + if i % 2 == 0 { 0.05 } else { -0.05 },
                    i as f64 / 10.0,
                )
            })
            .collect();
        let mut left = vec![c(0.0, 0.0)];
        left.extend(border.iter().copied());
        left.extend([c(0.0, 10.0), c(0.0, 0.0)]);
        let mut right: Vec<Coord<f64>> = border.iter().rev().copied().collect();
        right.extend([c(20.0, 0.0)]);
        right.push(right[0]);
        let right = {
            // Start the ring somewhere else to make the test harder.
            let mut r = right.clone();
            r.pop();
            r.rotate_left(37);
            r.push(r[0]);
            r
        };
        let a = MultiPolygon::new(vec![Polygon::new(LineString::new(left), vec![])]);
        let b = MultiPolygon::new(vec![Polygon::new(LineString::new(right), vec![])]);
        let out = simplify_coverage(&[a.clone(), b.clone()], 0.2);
        assert!(out[0].0[0].exterior().0.len() < 10, "{:?}", out[0]);
        assert!(out[1].0[0].exterior().0.len() < 10, "{:?}", out[1]);
        // No overlap, no gap: the union has the area of the two inputs together.
        assert!(out[0].intersection(&out[1]).unsigned_area() < 1e-9);
        let total = a.unsigned_area() + b.unsigned_area();
        assert!((out[0].union(&out[1]).unsigned_area() - total).abs() < 1e-6);
    }

    #[test]
    fn tiny_rings_are_kept() {
        let tri = MultiPolygon::new(vec![Polygon::new(
            LineString::new(vec![c(0.0, 0.0), c(1.0, 0.0), c(0.0, 1.0), c(0.0, 0.0)]),
            vec![],
        )]);
        let out = simplify_coverage(std::slice::from_ref(&tri), 100.0);
        assert_eq!(out[0], tri);
    }
}
