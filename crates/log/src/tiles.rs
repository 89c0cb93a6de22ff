//! C2SP `tlog-tiles` (<https://c2sp.org/tlog-tiles>): tile paths and entry bundles.
//!
//! Tiles have height 8: a full tile holds 256 hashes (or 256 entries); a partial tile
//! `.p/<W>` holds the first W (1–255).

use crate::merkle::MemoryHashes;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
const TILE_HEIGHT: u8 = 8;

/// Why a tile request was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileError {
    #[error(
        "`{0}` is not a tile path (expected `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`)"
    )]
    Path(String),
    #[error("tile is beyond the current tree")]
    NotAvailable,
    #[error("entry bundle is truncated")]
    Truncated,
    #[error("entry is {0} bytes; an entry bundle holds entries of at most 65535 bytes")]
    EntryTooLarge(usize),
}

/// A tile named by a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRef {
    /// `None` for an entry bundle, the tree level (0–63) for a hash tile.
    pub level: Option<u8>,
    /// The tile's index within its level.
    pub index: u64,
    /// How many hashes or entries it holds (1–256).
    pub width: u16,
}

impl TileRef {
    /// Parses a path relative to the log prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let bad = || TileError::Path(path.chars().take(80).collect());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level_s, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = if level_s == "entries" {
            None
        } else {
            let l: u8 = parse_decimal(level_s).ok_or_else(bad)?;
            if l > 63 {
                return Err(bad());
            }
            Some(l)
        };
        let (n_s, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let w: u16 = parse_decimal(w).ok_or_else(bad)?;
                if !(1..TILE_WIDTH as u16).contains(&w) {
                    return Err(bad());
                }
                (n, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let mut index: u64 = 0;
        let segments: Vec<&str> = n_s.split('/').collect();
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let digits = if last {
                *seg
            } else {
                seg.strip_prefix('x').ok_or_else(bad)?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let d: u64 = parse_decimal(digits).ok_or_else(bad)?;
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(bad)?;
        }
        let tile = Self {
            level,
            index,
            width,
        };
        // Only the canonical encoding is a valid path (no redundant leading `x000/`).
        if tile.path() != path {
            return Err(bad());
        }
        Ok(tile)
    }

    /// The canonical path of this tile.
    pub fn path(&self) -> String {
        let level = match self.level {
            None => "entries".to_owned(),
            Some(l) => l.to_string(),
        };
        let mut s = format!("tile/{level}/{}", encode_index(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Number of leaves (for level 0 and entries) or subtree hashes at this tile's level that
    /// must exist for the tile to be served, in a tree of `size` leaves.
    pub fn available_in(&self, size: u64) -> bool {
        let level = u32::from(self.level.unwrap_or(0));
        let shift = u64::from(TILE_HEIGHT as u32 * level);
        let nodes_at_level = if shift >= 64 { 0 } else { size >> shift };
        self.index
            .checked_mul(TILE_WIDTH)
            .and_then(|s| s.checked_add(u64::from(self.width)))
            .is_some_and(|end| end <= nodes_at_level)
    }

    /// The leaf indexes an entry bundle covers.
    pub fn entry_range(&self) -> std::ops::Range<u64> {
        let start = self.index.saturating_mul(TILE_WIDTH);
        start..start.saturating_add(u64::from(self.width))
    }

    /// The content of a hash tile: the concatenated 32-byte hashes.
    pub fn hash_tile(&self, hashes: &MemoryHashes, size: u64) -> Result<Vec<u8>, TileError> {
        let Some(level) = self.level else {
            return Err(TileError::NotAvailable);
        };
        if !self.available_in(size) || size > hashes.size() {
            return Err(TileError::NotAvailable);
        }
        let tile =
            tlog_tiles::Tile::new(TILE_HEIGHT, level, self.index, u32::from(self.width), false);
        tile.read_data(hashes).map_err(|_| TileError::NotAvailable)
    }
}

fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Encodes a tile index as `tlog-tiles` does: groups of three digits, all but the last
/// prefixed with `x` (`1234067` → `x001/x234/067`).
pub fn encode_index(mut n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        s = format!("x{:03}/{s}", n % 1000);
    }
    s
}

/// Encodes entries as an entry bundle: each a big-endian 16-bit length, then its bytes.
pub fn encode_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries.
pub fn decode_bundle(mut data: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let [a, b, rest @ ..] = data else {
            return Err(TileError::Truncated);
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if rest.len() < len {
            return Err(TileError::Truncated);
        }
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_the_spec() {
        let t = TileRef::parse("tile/0/x001/x234/067.p/8").unwrap();
        assert_eq!(
            t,
            TileRef {
                level: Some(0),
                index: 1_234_067,
                width: 8
            }
        );
        assert_eq!(TileRef::parse("tile/entries/000").unwrap().width, 256);
        assert_eq!(TileRef::parse("tile/3/005").unwrap().level, Some(3));
        for bad in [
            "tile/0/1",
            "tile/0/0001",
            "tile/0/x000/001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/64/000",
            "tile/entries/000.p/",
            "tile//000",
            "tile/0/x1/000",
            "tiles/0/000",
            "tile/0/000/",
            "tile/+1/000",
            "tile/0/000.p/07",
            "tile/data/000",
        ] {
            assert!(TileRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn bundles_round_trip_and_reject_truncation() {
        let entries: Vec<&[u8]> = vec![b"a", b"", b"hello"];
        let b = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(b, b"\x00\x01a\x00\x00\x00\x05hello");
        assert_eq!(decode_bundle(&b).unwrap(), entries);
        assert_eq!(decode_bundle(&b[..b.len() - 1]), Err(TileError::Truncated));
        assert_eq!(decode_bundle(b"\x00"), Err(TileError::Truncated));
    }

    #[test]
    fn availability() {
        let full = TileRef {
            level: Some(0),
            index: 0,
            width: 256,
        };
        assert!(!full.available_in(255));
        assert!(full.available_in(256));
        let l1 = TileRef {
            level: Some(1),
            index: 0,
            width: 1,
        };
        assert!(!l1.available_in(255));
        assert!(l1.available_in(256));
    }
}
