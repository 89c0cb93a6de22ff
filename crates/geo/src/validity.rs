//! Whether polygons are valid simple features, in O(n log n) time for n vertices.
//!
//! geo's `Validation` tests every edge of a ring against every other edge and relates every
//! pair of rings: quadratic, so one 850,000-vertex zone held the log's sequencer for 15 minutes.
//! This module gives the same verdicts with a Shamos–Hoey sweep: a vertical line sweeps the
//! plane left to right, keeping the edges it crosses in a balanced tree ordered bottom to top;
//! an edge is only ever tested against its neighbours in that order, and every point where
//! vertices meet is examined once, on its own. Finding whether *any* two edges cross needs no
//! more (Shamos and Hoey, 1976), so the time is O(n log n) whatever the shape, including the
//! combs and spirals that defeat bounding-box and x-overlap filters.
//!
//! The rules are geo's (and OGC's), checked for a polygon or for all members of a multipolygon
//! at once:
//! - every ring has at least 3 distinct points and does not cross or touch itself;
//! - rings may touch each other at points, but not cross and not share a stretch of boundary;
//! - holes lie inside their own shell and not inside each other;
//! - polygons of a multipolygon do not overlap (one may lie in another's hole).
//!
//! One deliberate difference: a ring whose 3 distinct points are on one line encloses nothing
//! and is refused here, where geo accepts it.
//!
//! Every predicate is exact (geo's robust `orient2d` and comparisons of the coordinates as
//! given), so the verdict is the same on every machine.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound::{Excluded, Unbounded};

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, LineString, Polygon};

/// A ring of the polygons checked together: `ring` 0 is the exterior, `k` the interior ring at
/// index `k - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingRef {
    pub(crate) polygon: usize,
    pub(crate) ring: usize,
}

/// Why polygons are not valid, with where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Invalid {
    /// A coordinate is NaN or infinite.
    NonFinite { ring: RingRef, position: usize },
    /// Fewer than 3 distinct points.
    TooFewPoints { ring: RingRef },
    /// Three distinct points on one line: no area.
    Collinear { ring: RingRef },
    /// The ring turns back on itself at a vertex.
    Spike {
        ring: RingRef,
        position: usize,
        at: Coord<f64>,
    },
    /// Two edges of one ring cross.
    EdgesCross {
        ring: RingRef,
        edges: [(usize, usize); 2],
        near: Coord<f64>,
    },
    /// A ring passes through one point twice.
    Revisits { ring: RingRef, at: Coord<f64> },
    /// Two rings cross (`exact`: at a vertex, else near a computed crossing).
    RingsCross {
        rings: [RingRef; 2],
        at: Coord<f64>,
        exact: bool,
    },
    /// Two rings run along each other from a point.
    RingsShareEdge { rings: [RingRef; 2], at: Coord<f64> },
    /// A hole is not inside its shell.
    HoleOutside { ring: RingRef },
    /// A hole lies inside another hole of its polygon.
    HoleInHole { inner: RingRef, outer: RingRef },
    /// Part of polygon `inner` lies inside polygon `outer`.
    PolygonInPolygon { inner: usize, outer: usize },
    /// Internal inconsistency (never expected): refuse rather than guess.
    Unvalidatable,
}

impl Invalid {
    /// The explanation, for a polygon (`multi` false) or a multipolygon's members (true, ring
    /// problems prefixed with the member's index). Positions are paths into `coordinates`.
    pub(crate) fn describe(&self, multi: bool) -> String {
        let role = |r: &RingRef| {
            let who = if r.ring == 0 {
                "exterior ring".to_string()
            } else {
                format!("interior ring at index {}", r.ring - 1)
            };
            if multi {
                format!("polygon {}: {who}", r.polygon)
            } else {
                who
            }
        };
        let path = |r: &RingRef, position: usize| {
            if multi {
                format!("coordinates[{}][{}][{position}]", r.polygon, r.ring)
            } else {
                format!("coordinates[{}][{position}]", r.ring)
            }
        };
        match self {
            Invalid::NonFinite { ring, position } => format!(
                "{} has a non-finite coordinate at {}",
                role(ring),
                path(ring, *position)
            ),
            Invalid::TooFewPoints { ring } => {
                format!("{} must have at least 3 distinct points", role(ring))
            }
            Invalid::Collinear { ring } => format!(
                "{} has no area: its 3 distinct points are on one line",
                role(ring)
            ),
            Invalid::Spike { ring, position, at } => format!(
                "{} has a self-intersection at {}: it turns back on itself at {}",
                role(ring),
                point(*at),
                path(ring, *position)
            ),
            Invalid::EdgesCross { ring, edges, near } => format!(
                "{} has a self-intersection near {}: the edge from {} to {} crosses the edge from {} to {}",
                role(ring),
                point(*near),
                path(ring, edges[0].0),
                path(ring, edges[0].1),
                path(ring, edges[1].0),
                path(ring, edges[1].1)
            ),
            Invalid::Revisits { ring, at } => format!(
                "{} has a self-intersection at {}: it passes through that point more than once",
                role(ring),
                point(*at)
            ),
            Invalid::RingsCross { rings, at, exact } => {
                let place = format!("{} {}", if *exact { "at" } else { "near" }, point(*at));
                let (a, b) = ordered(rings);
                if a.polygon != b.polygon {
                    format!(
                        "polygons at indices {} and {} overlap: their boundaries cross {place}",
                        a.polygon.min(b.polygon),
                        a.polygon.max(b.polygon)
                    )
                } else if a.ring == 0 || b.ring == 0 {
                    let hole = if a.ring == 0 { b } else { a };
                    format!(
                        "{} is not contained within the polygon's exterior: it crosses the exterior ring {place}",
                        role(hole)
                    )
                } else {
                    format!(
                        "{} and interior ring at index {} overlap: they cross {place}",
                        role(a),
                        b.ring - 1
                    )
                }
            }
            Invalid::RingsShareEdge { rings, at } => {
                let (a, b) = ordered(rings);
                if a.polygon != b.polygon {
                    format!(
                        "polygons at indices {} and {} touch on a line at {}",
                        a.polygon.min(b.polygon),
                        a.polygon.max(b.polygon),
                        point(*at)
                    )
                } else {
                    format!(
                        "{} and interior ring at index {} intersect on a line at {}",
                        role(a),
                        b.ring - 1,
                        point(*at)
                    )
                }
            }
            Invalid::HoleOutside { ring } => format!(
                "{} is not contained within the polygon's exterior",
                role(ring)
            ),
            Invalid::HoleInHole { inner, outer } => format!(
                "{} lies inside interior ring at index {}: holes must not overlap",
                role(inner),
                outer.ring - 1
            ),
            Invalid::PolygonInPolygon { inner, outer } => format!(
                "polygons at indices {} and {} overlap: part of polygon {inner} lies inside polygon {outer}",
                inner.min(outer),
                inner.max(outer)
            ),
            Invalid::Unvalidatable => {
                "its topology could not be validated (inconsistent geometry)".to_string()
            }
        }
    }
}

/// Two rings in the order they are stored (polygon, then ring).
fn ordered(rings: &[RingRef; 2]) -> (&RingRef, &RingRef) {
    let [a, b] = rings;
    if (a.polygon, a.ring) <= (b.polygon, b.ring) {
        (a, b)
    } else {
        (b, a)
    }
}

/// `[x, y]`, as given when exact; a computed point is rounded to 1e-7° (about a centimetre).
fn point(c: Coord<f64>) -> String {
    format!("[{}, {}]", c.x, c.y)
}

fn rounded(c: Coord<f64>) -> Coord<f64> {
    let r = |v: f64| (v * 1e7).round() / 1e7;
    Coord {
        x: r(c.x),
        y: r(c.y),
    }
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(p, q, r)
}

/// The sweep's order of points: by x, then y (as if the sweep line were turned a hair
/// counter-clockwise, so that vertical edges need no special case).
fn lex(a: Coord<f64>, b: Coord<f64>) -> Ordering {
    a.x.partial_cmp(&b.x)
        .unwrap_or(Ordering::Equal)
        .then(a.y.partial_cmp(&b.y).unwrap_or(Ordering::Equal))
}

/// A ring with consecutive repeated points removed, and without its closing repeat.
struct Ring {
    id: RingRef,
    pts: Vec<Coord<f64>>,
    /// The position (index in the GeoJSON ring) of each point.
    pos: Vec<usize>,
    /// The position of the closing repeat.
    closing: usize,
    /// Index of the point first in [`lex`] order.
    min: usize,
    /// Counter-clockwise: the interior is on the left of the ring's direction.
    ccw: bool,
    /// Index of the ring's first edge in the segment table.
    first_seg: usize,
    /// Index, in the ring table, of the exterior ring of the ring's polygon.
    shell: usize,
}

fn ring(id: RingRef, shell: usize, line: &LineString<f64>) -> Result<Ring, Invalid> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(line.0.len());
    let mut pos = Vec::with_capacity(line.0.len());
    for (i, c) in line.0.iter().enumerate() {
        if !(c.x.is_finite() && c.y.is_finite()) {
            return Err(Invalid::NonFinite {
                ring: id,
                position: i,
            });
        }
        if pts.last() != Some(c) {
            pts.push(*c);
            pos.push(i);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
        pos.pop();
    }
    let m = pts.len();
    if m < 3 {
        return Err(Invalid::TooFewPoints { ring: id });
    }
    // A ring that turns back on itself at a vertex runs along its own edge. Ruling this out
    // here means the sweep only ever sees edges of one ring meeting at their shared vertex.
    for i in 0..m {
        let (p, c, n) = (pts[(i + m - 1) % m], pts[i], pts[(i + 1) % m]);
        if orient(p, c, n) == Orientation::Collinear && turns_back(p, c, n) {
            return Err(if m == 3 {
                Invalid::Collinear { ring: id }
            } else {
                Invalid::Spike {
                    ring: id,
                    position: pos[i],
                    at: c,
                }
            });
        }
    }
    let min = (0..m)
        .min_by(|&i, &j| lex(pts[i], pts[j]))
        .unwrap_or_default();
    // The lowest vertex in sweep order is convex, so the turn there is the ring's orientation;
    // it is not collinear, as both neighbours would then lie on one side (a spike, refused).
    let ccw = orient(pts[(min + m - 1) % m], pts[min], pts[(min + 1) % m])
        == Orientation::CounterClockwise;
    Ok(Ring {
        id,
        pts,
        pos,
        closing: line.0.len().saturating_sub(1),
        min,
        ccw,
        first_seg: 0,
        shell,
    })
}

/// For collinear `p`, `c`, `n` (both distinct from `c`): whether `p` and `n` lie on the same
/// side of `c`, i.e. the path goes back the way it came.
fn turns_back(p: Coord<f64>, c: Coord<f64>, n: Coord<f64>) -> bool {
    if p.x != c.x {
        (p.x < c.x) == (n.x < c.x)
    } else {
        (p.y < c.y) == (n.y < c.y)
    }
}

/// An edge, its endpoints in sweep order.
#[derive(Debug, Clone, Copy)]
struct Seg {
    a: Coord<f64>,
    b: Coord<f64>,
    ring: usize,
    /// Index of the edge in its ring: from `pts[edge]` to the next point.
    edge: usize,
    /// Whether the ring runs from `a` to `b` along this edge.
    forward: bool,
}

/// An edge in the sweep's tree, ordered bottom to top where the sweep line crosses it.
///
/// The order compares two edges where the one that starts later starts, which is where both
/// are first under the sweep line; as long as no two edges in the tree cross (the sweep stops
/// at the first crossing it meets, before passing it), that is their order all along. `id` 0
/// and `u32::MAX` are probes: a point `a == b` sorting before or after every edge through it.
#[derive(Debug, Clone, Copy)]
struct Key {
    a: Coord<f64>,
    b: Coord<f64>,
    id: u32,
}

impl Key {
    fn probe(p: Coord<f64>, id: u32) -> Key {
        Key { a: p, b: p, id }
    }
}

#[cfg(test)]
thread_local! {
    /// Comparisons made by the sweep's tree on this thread (tests measure the algorithm).
    pub(crate) static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        #[cfg(test)]
        COMPARISONS.with(|c| c.set(c.get() + 1));
        if self.id == other.id {
            return Ordering::Equal;
        }
        let (later, earlier, flip) = if lex(self.a, other.a) != Ordering::Less {
            (self, other, false)
        } else {
            (other, self, true)
        };
        let mut o = orient(earlier.a, earlier.b, later.a);
        if o == Orientation::Collinear {
            // `later` starts on `earlier`: its other end says which side it leaves to.
            o = orient(earlier.a, earlier.b, later.b);
        }
        let ord = match o {
            Orientation::CounterClockwise => Ordering::Greater,
            Orientation::Clockwise => Ordering::Less,
            // Only probes (and edges along each other, refused before they are inserted).
            Orientation::Collinear => later.id.cmp(&earlier.id),
        };
        if flip { ord.reverse() } else { ord }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Key {}

/// An edge leaving an event point, towards `to`.
#[derive(Debug, Clone, Copy)]
struct Half {
    to: Coord<f64>,
    ring: usize,
}

/// Checks a polygon (a slice of one) or the members of a multipolygon together.
pub(crate) fn check(polygons: &[Polygon<f64>]) -> Result<(), Invalid> {
    let mut rings = Vec::new();
    for (pi, p) in polygons.iter().enumerate() {
        let shell = rings.len();
        for (ri, line) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            let id = RingRef {
                polygon: pi,
                ring: ri,
            };
            rings.push(ring(id, shell, line)?);
        }
    }
    Sweep::new(rings)?.run()
}

struct Sweep {
    rings: Vec<Ring>,
    segs: Vec<Seg>,
    tree: BTreeSet<Key>,
    /// The ring immediately enclosing each ring, once the sweep has reached it.
    parent: Vec<Option<Option<usize>>>,
}

impl Sweep {
    fn new(mut rings: Vec<Ring>) -> Result<Sweep, Invalid> {
        let total: usize = rings.iter().map(|r| r.pts.len()).sum();
        // Ids 0 and u32::MAX are the probes.
        if total >= u32::MAX as usize - 1 {
            return Err(Invalid::Unvalidatable);
        }
        let mut segs = Vec::with_capacity(total);
        for (ri, r) in rings.iter_mut().enumerate() {
            r.first_seg = segs.len();
            let m = r.pts.len();
            for i in 0..m {
                let (p, q) = (r.pts[i], r.pts[(i + 1) % m]);
                let forward = lex(p, q) == Ordering::Less;
                let (a, b) = if forward { (p, q) } else { (q, p) };
                segs.push(Seg {
                    a,
                    b,
                    ring: ri,
                    edge: i,
                    forward,
                });
            }
        }
        let parent = vec![None; rings.len()];
        Ok(Sweep {
            rings,
            segs,
            tree: BTreeSet::new(),
            parent,
        })
    }

    fn key(&self, seg: usize) -> Key {
        let s = &self.segs[seg];
        Key {
            a: s.a,
            b: s.b,
            id: seg as u32 + 1,
        }
    }

    fn seg_of(&self, k: &Key) -> &Seg {
        &self.segs[k.id as usize - 1]
    }

    /// The positions at either end of an edge, for messages.
    fn edge_positions(&self, seg: &Seg) -> (usize, usize) {
        let r = &self.rings[seg.ring];
        let end = if seg.edge + 1 == r.pts.len() {
            r.closing
        } else {
            r.pos[seg.edge + 1]
        };
        (r.pos[seg.edge], end)
    }

    fn run(mut self) -> Result<(), Invalid> {
        // Every edge starts (at `a`) and ends (at `b`); `true` marks an end.
        let mut events: Vec<(Coord<f64>, usize, bool)> = Vec::with_capacity(2 * self.segs.len());
        for (i, s) in self.segs.iter().enumerate() {
            events.push((s.a, i, false));
            events.push((s.b, i, true));
        }
        events.sort_unstable_by(|x, y| lex(x.0, y.0));
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        let mut i = 0;
        while i < events.len() {
            let p = events[i].0;
            starts.clear();
            ends.clear();
            while i < events.len() && events[i].0 == p {
                let (_, seg, end) = events[i];
                if end {
                    ends.push(seg);
                } else {
                    starts.push(seg);
                }
                i += 1;
            }
            self.event(p, &starts, &ends)?;
        }
        self.nesting()
    }

    /// Handles every edge starting, ending or passing at `p`.
    fn event(&mut self, p: Coord<f64>, starts: &[usize], ends: &[usize]) -> Result<(), Invalid> {
        let (lo, hi) = (Key::probe(p, 0), Key::probe(p, u32::MAX));
        // The edges under the sweep line that contain `p`: those ending here and those passing
        // through; they are next to each other in the tree.
        let at_p: Vec<Key> = self.tree.range(lo..=hi).copied().collect();
        if at_p.iter().filter(|k| k.b == p).count() != ends.len() {
            return Err(Invalid::Unvalidatable);
        }
        let mut half = Vec::with_capacity(at_p.len() * 2 + starts.len());
        for k in &at_p {
            let ring = self.seg_of(k).ring;
            half.push(Half { to: k.a, ring });
            if k.b != p {
                half.push(Half { to: k.b, ring });
            }
        }
        for &s in starts {
            half.push(Half {
                to: self.segs[s].b,
                ring: self.segs[s].ring,
            });
        }
        // Two half-edges are one ring's vertex, the usual case; more need a closer look.
        if half.len() > 2 {
            self.meeting(p, &mut half)?;
        }
        for &s in ends {
            if !self.tree.remove(&self.key(s)) {
                return Err(Invalid::Unvalidatable);
            }
        }
        for &s in starts {
            if !self.tree.insert(self.key(s)) {
                return Err(Invalid::Unvalidatable);
            }
        }
        // New neighbours in the tree: the edges just below and above those at `p` (edges at
        // `p` meet only at `p`, which `meeting` has judged).
        let below = self.tree.range(..lo).next_back().copied();
        let above = self.tree.range((Excluded(hi), Unbounded)).next().copied();
        let mut block = self.tree.range(lo..=hi);
        match (block.next(), block.next_back()) {
            (Some(&first), last) => {
                let last = last.copied().unwrap_or(first);
                if let Some(b) = below {
                    self.neighbours(&b, &first)?;
                }
                if let Some(a) = above {
                    self.neighbours(&last, &a)?;
                }
            }
            (None, _) => {
                if let (Some(b), Some(a)) = (below, above) {
                    self.neighbours(&b, &a)?;
                }
            }
        }
        self.enclosing(p, starts)
    }

    /// Judges the rings meeting at `p`: each may pass once, and no two may cross there or
    /// leave along the same line.
    fn meeting(&self, p: Coord<f64>, half: &mut [Half]) -> Result<(), Invalid> {
        half.sort_unstable_by_key(|h| h.ring);
        let mut rings = 0;
        for run in half.chunk_by(|x, y| x.ring == y.ring) {
            match run.len() {
                2 => rings += 1,
                n if n > 2 => {
                    return Err(Invalid::Revisits {
                        ring: self.rings[run[0].ring].id,
                        at: p,
                    });
                }
                _ => return Err(Invalid::Unvalidatable),
            }
        }
        if rings < 2 {
            return Ok(());
        }
        half.sort_unstable_by(|u, v| around(p, u.to, v.to));
        for w in half.windows(2) {
            if around(p, w[0].to, w[1].to) == Ordering::Equal {
                let (a, b) = (self.rings[w[0].ring].id, self.rings[w[1].ring].id);
                return Err(if w[0].ring == w[1].ring {
                    Invalid::Revisits { ring: a, at: p }
                } else {
                    Invalid::RingsShareEdge {
                        rings: [a, b],
                        at: p,
                    }
                });
            }
        }
        // Read around `p`, each ring's two half-edges must pair up like brackets; a ring whose
        // second half-edge comes while another ring is still open crosses that ring here.
        let mut open: Vec<usize> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for h in half.iter() {
            if open.last() == Some(&h.ring) {
                open.pop();
            } else if seen.insert(h.ring) {
                open.push(h.ring);
            } else {
                let other = open.last().copied().unwrap_or(h.ring);
                return Err(Invalid::RingsCross {
                    rings: [self.rings[h.ring].id, self.rings[other].id],
                    at: p,
                    exact: true,
                });
            }
        }
        Ok(())
    }

    /// Tests two edges that have just become neighbours in the tree for a proper crossing
    /// (meeting at an endpoint is judged at that point's event).
    fn neighbours(&self, s: &Key, t: &Key) -> Result<(), Invalid> {
        let strictly = |p, q, r| {
            let o = orient(p, q, r);
            (o != Orientation::Collinear).then_some(o)
        };
        let crosses = (|| {
            let (o1, o2) = (strictly(s.a, s.b, t.a)?, strictly(s.a, s.b, t.b)?);
            let (o3, o4) = (strictly(t.a, t.b, s.a)?, strictly(t.a, t.b, s.b)?);
            Some(o1 != o2 && o3 != o4)
        })()
        .unwrap_or(false);
        if !crosses {
            return Ok(());
        }
        let near = rounded(crossing(s, t));
        let (ss, ts) = (self.seg_of(s), self.seg_of(t));
        if ss.ring == ts.ring {
            let mut edges = [self.edge_positions(ss), self.edge_positions(ts)];
            edges.sort_unstable();
            Err(Invalid::EdgesCross {
                ring: self.rings[ss.ring].id,
                edges,
                near,
            })
        } else {
            Err(Invalid::RingsCross {
                rings: [self.rings[ss.ring].id, self.rings[ts.ring].id],
                at: near,
                exact: false,
            })
        }
    }

    /// For each ring whose first vertex in sweep order is `p`: the ring immediately enclosing
    /// it, read from the edge just below its lower edge there.
    fn enclosing(&mut self, p: Coord<f64>, starts: &[usize]) -> Result<(), Invalid> {
        let mut arriving: Vec<(Key, usize)> = Vec::new();
        for &s in starts {
            let seg = self.segs[s];
            let r = &self.rings[seg.ring];
            if seg.edge == r.min && r.pts[r.min] == p {
                let m = r.pts.len();
                let other = self.key(r.first_seg + (r.min + m - 1) % m);
                arriving.push((self.key(s).min(other), seg.ring));
            }
        }
        // Bottom to top, so that a ring below is placed before the rings it may enclose.
        arriving.sort_unstable_by_key(|x| x.0);
        for (lower, ring) in arriving {
            let parent = match self.tree.range(..lower).next_back() {
                None => None,
                Some(k) => {
                    let seg = *self.seg_of(k);
                    // Just above that edge is inside its ring if the ring's interior is on
                    // that side; otherwise it is where that ring itself lies.
                    if self.rings[seg.ring].ccw == seg.forward {
                        Some(seg.ring)
                    } else {
                        self.parent[seg.ring].ok_or(Invalid::Unvalidatable)?
                    }
                }
            };
            self.parent[ring] = Some(parent);
        }
        Ok(())
    }

    /// With no boundaries crossing, the rings nest; checks that holes lie directly in their
    /// own shell and shells in nothing or in another polygon's hole.
    fn nesting(&self) -> Result<(), Invalid> {
        let n = self.rings.len();
        let mut parent = Vec::with_capacity(n);
        for p in &self.parent {
            parent.push(p.ok_or(Invalid::Unvalidatable)?);
        }
        // Entry and exit times of a depth-first walk of the nesting forest: `a` encloses `b`
        // when `b`'s interval lies within `a`'s.
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (r, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(r),
                None => roots.push(r),
            }
        }
        let (mut enter, mut exit) = (vec![0usize; n], vec![0usize; n]);
        let mut clock = 0;
        let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|r| (r, 0)).collect();
        while let Some((r, next)) = stack.pop() {
            if next == 0 {
                enter[r] = clock;
                clock += 1;
            }
            if let Some(&c) = children[r].get(next) {
                stack.push((r, next + 1));
                stack.push((c, 0));
            } else {
                exit[r] = clock;
                clock += 1;
            }
        }
        if clock != 2 * n {
            // A cycle: impossible for rings placed in sweep order.
            return Err(Invalid::Unvalidatable);
        }
        let encloses = |a: usize, b: usize| enter[a] < enter[b] && exit[b] < exit[a];
        // Each polygon on its own first...
        for (r, ring) in self.rings.iter().enumerate() {
            if ring.id.ring == 0 {
                continue;
            }
            let own = ring.shell;
            match parent[r] {
                Some(p) if p == own => {}
                Some(p) if self.rings[p].id.polygon == ring.id.polygon => {
                    return Err(Invalid::HoleInHole {
                        inner: ring.id,
                        outer: self.rings[p].id,
                    });
                }
                _ if !encloses(own, r) => return Err(Invalid::HoleOutside { ring: ring.id }),
                _ => {}
            }
        }
        // ...then the polygons against each other.
        for (r, ring) in self.rings.iter().enumerate() {
            let Some(p) = parent[r] else { continue };
            let outer = &self.rings[p];
            if ring.id.ring == 0 && outer.id.ring == 0 {
                // A shell may only lie in nothing or in another polygon's hole: just inside
                // this one is inside both.
                return Err(Invalid::PolygonInPolygon {
                    inner: ring.id.polygon,
                    outer: outer.id.polygon,
                });
            }
            if ring.id.ring != 0 && p != ring.shell {
                // A hole lies directly in its own shell: the other polygon's ring between
                // them is inside this polygon, and next to it is the other polygon.
                return Err(Invalid::PolygonInPolygon {
                    inner: outer.id.polygon,
                    outer: ring.id.polygon,
                });
            }
        }
        Ok(())
    }
}

/// Orders directions from `p` counter-clockwise from the positive x axis; equal means the same
/// direction.
fn around(p: Coord<f64>, u: Coord<f64>, v: Coord<f64>) -> Ordering {
    let half = |q: Coord<f64>| !(q.y > p.y || (q.y == p.y && q.x > p.x));
    half(u).cmp(&half(v)).then_with(|| match orient(p, u, v) {
        Orientation::CounterClockwise => Ordering::Less,
        Orientation::Clockwise => Ordering::Greater,
        Orientation::Collinear => Ordering::Equal,
    })
}

/// Where two properly crossing edges cross (for messages only).
fn crossing(s: &Key, t: &Key) -> Coord<f64> {
    let (d1, d2) = (s.b - s.a, t.b - t.a);
    let den = d1.x * d2.y - d1.y * d2.x;
    let w = t.a - s.a;
    let u = (w.x * d2.y - w.y * d2.x) / den;
    let c = s.a + d1 * u;
    if c.x.is_finite() && c.y.is_finite() {
        c
    } else {
        s.a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Validation};
    use proptest::prelude::*;

    fn ring_of(points: &[(f64, f64)]) -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = points.iter().map(|&(x, y)| Coord { x, y }).collect();
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString::new(coords)
    }

    fn polygon(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
        Polygon::new(
            ring_of(exterior),
            holes.iter().map(|h| ring_of(h)).collect(),
        )
    }

    fn one(p: Polygon<f64>) -> Result<(), String> {
        check(std::slice::from_ref(&p)).map_err(|e| e.describe(false))
    }

    fn many(ps: Vec<Polygon<f64>>) -> Result<(), String> {
        check(&ps).map_err(|e| e.describe(true))
    }

    const SQUARE: [(f64, f64); 4] = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];

    #[test]
    fn valid_shapes_pass() {
        // Either orientation, holes touching the shell and each other at points.
        assert_eq!(one(polygon(&SQUARE, &[])), Ok(()));
        let mut cw = SQUARE;
        cw.reverse();
        assert_eq!(one(polygon(&cw, &[])), Ok(()));
        let touching_shell: &[(f64, f64)] = &[(0.0, 5.0), (4.0, 4.0), (4.0, 6.0)];
        let touching_hole: &[(f64, f64)] = &[(4.0, 4.0), (8.0, 2.0), (8.0, 6.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[touching_shell, touching_hole])),
            Ok(())
        );
        // A hole whose vertices all touch the shell's edges.
        let diamond: &[(f64, f64)] = &[(5.0, 0.0), (10.0, 5.0), (5.0, 10.0), (0.0, 5.0)];
        assert_eq!(one(polygon(&SQUARE, &[diamond])), Ok(()));
        // An island in a lake, and two parts meeting at a corner.
        let lake: &[(f64, f64)] = &[(2.0, 2.0), (8.0, 2.0), (8.0, 8.0), (2.0, 8.0)];
        let island = polygon(&[(3.0, 3.0), (7.0, 3.0), (7.0, 7.0), (3.0, 7.0)], &[]);
        let corner = polygon(&[(10.0, 10.0), (20.0, 10.0), (20.0, 20.0)], &[]);
        assert_eq!(
            many(vec![polygon(&SQUARE, &[lake]), island, corner]),
            Ok(())
        );
        // Vertical edges, and a vertex in the middle of a straight run.
        assert_eq!(
            one(polygon(
                &[(0.0, 0.0), (0.0, 5.0), (0.0, 10.0), (3.0, 10.0), (3.0, 0.0)],
                &[]
            )),
            Ok(())
        );
    }

    #[test]
    fn each_problem_is_found_and_placed() {
        let bowtie = polygon(&[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)], &[]);
        assert_eq!(
            one(bowtie),
            Err("exterior ring has a self-intersection near [5, 5]: the edge from coordinates[0][0] to coordinates[0][1] crosses the edge from coordinates[0][2] to coordinates[0][3]".into())
        );
        // A figure eight through one vertex, and a vertex on the ring's own edge.
        let eight = polygon(
            &[
                (0.0, 0.0),
                (5.0, 5.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (5.0, 5.0),
                (0.0, 10.0),
            ],
            &[],
        );
        assert_eq!(
            one(eight),
            Err("exterior ring has a self-intersection at [5, 5]: it passes through that point more than once".into())
        );
        let t = polygon(
            &[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (5.0, 0.0),
                (0.0, 10.0),
            ],
            &[],
        );
        assert_eq!(
            one(t),
            Err("exterior ring has a self-intersection at [5, 0]: it passes through that point more than once".into())
        );
        let spike = polygon(
            &[
                (0.0, 0.0),
                (10.0, 0.0),
                (15.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
            ],
            &[],
        );
        assert_eq!(
            one(spike),
            Err("exterior ring has a self-intersection at [15, 0]: it turns back on itself at coordinates[0][2]".into())
        );
        assert_eq!(
            one(polygon(&[(0.0, 0.0), (5.0, 5.0), (10.0, 10.0)], &[])),
            Err("exterior ring has no area: its 3 distinct points are on one line".into())
        );
        assert_eq!(
            one(polygon(&[(0.0, 0.0), (0.0, 0.0), (1.0, 1.0)], &[])),
            Err("exterior ring must have at least 3 distinct points".into())
        );
        let crossing_hole: &[(f64, f64)] = &[(5.0, 5.0), (15.0, 5.0), (15.0, 7.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[crossing_hole])),
            Err("interior ring at index 0 is not contained within the polygon's exterior: it crosses the exterior ring near [10, 5]".into())
        );
        let outside: &[(f64, f64)] = &[(20.0, 0.0), (30.0, 0.0), (30.0, 10.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[outside])),
            Err("interior ring at index 0 is not contained within the polygon's exterior".into())
        );
        // Outside, touching the shell at a corner.
        let touching_outside: &[(f64, f64)] = &[(10.0, 10.0), (20.0, 10.0), (20.0, 20.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[touching_outside])),
            Err("interior ring at index 0 is not contained within the polygon's exterior".into())
        );
        let on_edge: &[(f64, f64)] = &[(0.0, 2.0), (0.0, 6.0), (3.0, 4.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[on_edge])),
            Err("exterior ring and interior ring at index 0 intersect on a line at [0, 2]".into())
        );
        let big: &[(f64, f64)] = &[(1.0, 1.0), (9.0, 1.0), (9.0, 9.0), (1.0, 9.0)];
        let small: &[(f64, f64)] = &[(2.0, 2.0), (8.0, 2.0), (8.0, 8.0)];
        assert_eq!(
            one(polygon(&SQUARE, &[small, big])),
            Err("interior ring at index 0 lies inside interior ring at index 1: holes must not overlap".into())
        );
        // Two holes crossing at a vertex they share (and again, further right, at [8, 5]).
        let h1: &[(f64, f64)] = &[(5.0, 5.0), (8.0, 3.0), (8.0, 7.0)];
        let h2: &[(f64, f64)] = &[
            (3.0, 5.0),
            (5.0, 5.0),
            (7.0, 5.0),
            (9.0, 5.0),
            (9.0, 9.0),
            (3.0, 9.0),
        ];
        assert_eq!(
            one(polygon(&SQUARE, &[h1, h2])),
            Err("interior ring at index 0 and interior ring at index 1 overlap: they cross at [5, 5]".into())
        );
        // Multipolygons: a part inside another, parts sharing an edge, a hole's parent.
        let inner = polygon(&[(2.0, 2.0), (3.0, 2.0), (3.0, 3.0)], &[]);
        assert_eq!(
            many(vec![polygon(&SQUARE, &[]), inner]),
            Err(
                "polygons at indices 0 and 1 overlap: part of polygon 1 lies inside polygon 0"
                    .into()
            )
        );
        let neighbour = polygon(&[(10.0, 2.0), (20.0, 2.0), (10.0, 8.0)], &[]);
        assert_eq!(
            many(vec![polygon(&SQUARE, &[]), neighbour]),
            Err("polygons at indices 0 and 1 touch on a line at [10, 2]".into())
        );
        // Polygon 1 surrounds polygon 0's hole, inside polygon 0.
        let hole: &[(f64, f64)] = &[(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)];
        let around = polygon(&[(3.0, 3.0), (7.0, 3.0), (7.0, 7.0), (3.0, 7.0)], &[]);
        assert_eq!(
            many(vec![polygon(&SQUARE, &[hole]), around]),
            Err(
                "polygons at indices 0 and 1 overlap: part of polygon 1 lies inside polygon 0"
                    .into()
            )
        );
        assert_eq!(
            many(vec![
                polygon(&SQUARE, &[]),
                polygon(&[(0.0, 0.0), (0.0, 1.0), (0.0, 2.0)], &[])
            ]),
            Err(
                "polygon 1: exterior ring has no area: its 3 distinct points are on one line"
                    .into()
            )
        );
    }

    /// Up to `max_len` points of the grid `lo..=hi` squared: small, so that shared vertices,
    /// touching edges and collinear runs are common.
    fn grid_ring(lo: u8, hi: u8, max_len: usize) -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop::collection::vec((lo..=hi, lo..=hi), 3..=max_len).prop_map(|v| {
            v.into_iter()
                .map(|(x, y)| (f64::from(x), f64::from(y)))
                .collect()
        })
    }

    /// Points sorted by angle around their mean: usually a simple ring, sometimes one with
    /// the degenerate contacts a grid produces.
    fn star_ring(lo: u8, hi: u8, max_len: usize) -> impl Strategy<Value = Vec<(f64, f64)>> {
        grid_ring(lo, hi, max_len).prop_map(|mut v| {
            let n = v.len() as f64;
            let (cx, cy) = v
                .iter()
                .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
            v.sort_by(|p, q| {
                let ap = (p.1 - cy).atan2(p.0 - cx);
                let aq = (q.1 - cy).atan2(q.0 - cx);
                ap.total_cmp(&aq)
            });
            v.dedup();
            v
        })
    }

    /// A rectangle on a 9 × 9 grid (in either orientation): rectangles nest, touch along
    /// edges and at corners, and overlap.
    fn boxed() -> impl Strategy<Value = Vec<(f64, f64)>> {
        (0u8..8, 0u8..8, 1u8..9, 1u8..9, any::<bool>()).prop_map(|(x, y, w, h, cw)| {
            let (x0, y0) = (f64::from(x), f64::from(y));
            let (x1, y1) = (
                f64::from(x.saturating_add(w).min(8)),
                f64::from(y.saturating_add(h).min(8)),
            );
            let mut r = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            if cw {
                r.reverse();
            }
            r
        })
    }

    fn shifted(ring: Vec<(f64, f64)>, dx: u8, dy: u8) -> Vec<(f64, f64)> {
        ring.into_iter()
            .map(|(x, y)| (x + f64::from(dx), y + f64::from(dy)))
            .collect()
    }

    /// Any ring on a 6 × 6 grid, or a shell on a 12 × 12 grid with small holes placed in it.
    fn any_polygon() -> impl Strategy<Value = Polygon<f64>> {
        let small = prop_oneof![star_ring(0, 5, 8), star_ring(0, 5, 8), grid_ring(0, 5, 6)];
        let holes = prop::collection::vec(small.clone(), 0..3);
        let loose = (small, holes).prop_map(|(e, holes)| (e, holes));
        let hole = (star_ring(0, 4, 6), 0u8..9, 0u8..9).prop_map(|(r, dx, dy)| shifted(r, dx, dy));
        let placed = (star_ring(0, 12, 10), prop::collection::vec(hole, 0..4));
        let boxes = (boxed(), prop::collection::vec(boxed(), 0..4));
        prop_oneof![loose, placed, boxes].prop_map(|(e, holes)| {
            let holes: Vec<&[(f64, f64)]> = holes.iter().map(|h| h.as_slice()).collect();
            polygon(&e, &holes)
        })
    }

    /// Concentric squares (levels 0 to 8, each 1 inside the last) dealt out as shells and
    /// holes of up to three polygons: every way of nesting rings, valid and not.
    fn nested_polygons() -> impl Strategy<Value = Vec<Polygon<f64>>> {
        let level = (0u8..9, 0usize..3, any::<bool>(), any::<bool>());
        prop::collection::vec(level, 1..7).prop_map(|levels| {
            let mut shells: Vec<Option<Vec<(f64, f64)>>> = vec![None; 3];
            let mut holes: Vec<Vec<Vec<(f64, f64)>>> = vec![Vec::new(); 3];
            let mut used = [false; 9];
            for (l, p, shell, cw) in levels {
                if std::mem::replace(&mut used[l as usize], true) {
                    continue;
                }
                let (lo, hi) = (f64::from(l), f64::from(18 - l));
                let mut r = vec![(lo, lo), (hi, lo), (hi, hi), (lo, hi)];
                if cw {
                    r.reverse();
                }
                if shell && shells[p].is_none() {
                    shells[p] = Some(r);
                } else {
                    holes[p].push(r);
                }
            }
            shells
                .into_iter()
                .zip(holes)
                .filter_map(|(e, hs)| {
                    let hs: Vec<&[(f64, f64)]> = hs.iter().map(|h| h.as_slice()).collect();
                    e.map(|e| polygon(&e, &hs))
                })
                .collect()
        })
    }

    /// One to three polygons, each shifted somewhere on a 24 × 24 grid: apart, touching,
    /// overlapping or one in another's hole.
    fn any_polygons() -> impl Strategy<Value = Vec<Polygon<f64>>> {
        prop::collection::vec((any_polygon(), 0u8..12, 0u8..12), 1..4).prop_map(|v| {
            v.into_iter()
                .map(|(p, dx, dy)| {
                    use geo::Translate;
                    p.translate(f64::from(dx), f64::from(dy))
                })
                .collect()
        })
    }

    /// Whether a ring is three distinct points on one line: refused here, accepted by geo.
    fn flat(line: &LineString<f64>) -> bool {
        let mut pts = line.0.clone();
        pts.dedup();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts.len() == 3 && orient(pts[0], pts[1], pts[2]) == Orientation::Collinear
    }

    fn any_flat(ps: &[Polygon<f64>]) -> bool {
        ps.iter()
            .any(|p| flat(p.exterior()) || p.interiors().iter().any(flat))
    }

    /// geo's verdict, as the parser used to reach it: members first (geo's multipolygon check
    /// can panic on an invalid member), `None` if geo panics anyway.
    fn geo_verdict(ps: &[Polygon<f64>]) -> Option<bool> {
        std::panic::catch_unwind(|| {
            if ps.len() == 1 {
                ps[0].is_valid()
            } else {
                ps.iter().all(|p| p.is_valid()) && MultiPolygon::new(ps.to_vec()).is_valid()
            }
        })
        .ok()
    }

    /// Every polygon of the fuzzing corpora, of the Golan scenario's zones and of the real
    /// boundaries it is built from gets geo's verdict.
    #[test]
    fn same_verdicts_as_geo_validation_on_corpora_and_sources() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut compared = 0;
        for dir in [
            "fuzz/corpus/geometry",
            "fuzz/corpus/zones",
            "scenarios/golan-1974",
            "scenarios/golan-1974/sources",
        ] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .expect("corpus directory")
                .map(|e| e.expect("corpus entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "geojson"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).expect("corpus file");
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let geometries: Vec<&serde_json::Value> = match value["features"].as_array() {
                    Some(features) => features.iter().map(|f| &f["geometry"]).collect(),
                    None => vec![&value],
                };
                for g in geometries {
                    let polygons = match crate::parse::geometry_structure(g, "g") {
                        Ok(geo::Geometry::Polygon(p)) => vec![p],
                        Ok(geo::Geometry::MultiPolygon(mp)) => mp.0,
                        _ => continue,
                    };
                    // geo's check is quadratic: the largest governorates would take minutes.
                    let vertices: usize = polygons.iter().map(|p| p.exterior().0.len()).sum();
                    if vertices > 1_500 {
                        continue;
                    }
                    let ours = check(&polygons);
                    if any_flat(&polygons) {
                        assert!(ours.is_err(), "{}", file.display());
                    } else if let Some(valid) = geo_verdict(&polygons) {
                        assert_eq!(ours.is_ok(), valid, "{}: {ours:?}", file.display());
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared >= 40, "only {compared} polygons compared");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn same_verdicts_as_geo_validation(ps in prop_oneof![any_polygons(), nested_polygons()]) {
            let ours = check(&ps);
            if any_flat(&ps) {
                prop_assert!(ours.is_err(), "a flat ring was accepted: {ps:?}");
            } else if let Some(valid) = geo_verdict(&ps) {
                prop_assert_eq!(ours.is_ok(), valid, "{:?} on {:?}", ours, ps);
            }
        }
    }
}
