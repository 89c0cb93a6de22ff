//! B-cubed precision, recall and F1 of a clustering.

use serde::Serialize;

/// B-cubed precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BCubed {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// B-cubed scores of a clustering: one `(predicted cluster, true cluster)` pair per item.
/// Every item weighs the same; with no items all three are 1 (nothing to get wrong).
pub fn bcubed<P: Ord, T: Ord>(items: &[(P, T)]) -> BCubed {
    bcubed_of(items.iter().map(|(p, t)| (p, t)).collect())
}

/// [`bcubed`] of owned pairs (references, numbers), sorted in place.
pub(crate) fn bcubed_of<P: Ord + Copy, T: Ord + Copy>(mut joint: Vec<(P, T)>) -> BCubed {
    if joint.is_empty() {
        return BCubed {
            precision: 1.0,
            recall: 1.0,
            f1: 1.0,
        };
    }
    // Sorted vectors rather than maps of counts: a million items in maps cost hundreds of
    // megabytes. The cells are summed in (p, t) order all the same.
    joint.sort_unstable();
    let mut truth: Vec<T> = joint.iter().map(|x| x.1).collect();
    truth.sort_unstable();
    let truth_size = |t: T| truth.partition_point(|x| *x <= t) - truth.partition_point(|x| *x < t);
    // Each of the n items of a (p, t) cell scores n/|p| for precision and n/|t| for recall.
    let (mut ps, mut rs) = (0.0, 0.0);
    for predicted in joint.chunk_by(|a, b| a.0 == b.0) {
        let size = predicted.len() as f64;
        for cell in predicted.chunk_by(|a, b| a.1 == b.1) {
            let n = cell.len() as f64;
            ps += n * n / size;
            rs += n * n / truth_size(cell[0].1) as f64;
        }
    }
    let total = joint.len() as f64;
    let (precision, recall) = (ps / total, rs / total);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    BCubed {
        precision,
        recall,
        f1,
    }
}
