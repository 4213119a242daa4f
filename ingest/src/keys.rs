//! The keys of a return's rows seen so far, to find rows that repeat an earlier row's key in a
//! return of any length.
//!
//! Registers list their rows in key order, so most keys are greater than every key before them.
//! Such a key cannot repeat an earlier one; it is stored front-coded (a few bytes for a member
//! number that shares most of its digits with the one before), and only a key out of order has to
//! be looked up. Keys out of order are kept as 128-bit hashes. Memory is a few bytes per row for
//! a register in order, whatever its length, instead of a hash per row.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys seen so far.
#[derive(Debug, Default)]
pub struct SeenKeys {
    /// The keys that came in rising order.
    rising: RisingKeys,
    /// Hashes of the keys that came out of order.
    others: HashSet<u128, BuildHasherDefault<Prehashed>>,
    /// The key being recorded, its parts joined.
    joined: Vec<u8>,
}

impl SeenKeys {
    /// Records the key made of `parts`; false when it was seen before.
    pub fn insert<'a>(&mut self, parts: impl Iterator<Item = &'a str>) -> bool {
        self.joined.clear();
        for part in parts {
            self.joined.extend_from_slice(part.as_bytes());
            // A byte that UTF-8 never uses keeps ("ab", "c") apart from ("a", "bc").
            self.joined.push(0xff);
        }
        if self
            .rising
            .last()
            .is_none_or(|last| self.joined.as_slice() > last)
        {
            self.rising.push(&self.joined);
            return true;
        }
        // A key out of order is new unless it is among the rising keys or the other keys. A key
        // kept among the others is below the greatest key, so it stays out of order when repeated.
        !self.rising.contains(&self.joined)
            && self
                .others
                .insert(xxhash_rust::xxh3::xxh3_128(&self.joined))
    }
}

/// Keys in rising order, front-coded in blocks of [`BLOCK_KEYS`]: each key is stored as the number
/// of leading bytes it shares with the key before it, then the length and bytes of the rest. The
/// first key of a block is stored whole, so a lookup binary-searches the blocks by their first
/// keys and decodes one block.
#[derive(Debug, Default)]
struct RisingKeys {
    blocks: Vec<Vec<u8>>,
    /// Keys in the last block.
    in_last: usize,
    /// The greatest key, whole.
    last: Vec<u8>,
}

/// Keys per block: a lookup decodes at most this many.
const BLOCK_KEYS: usize = 64;

impl RisingKeys {
    /// The greatest key so far.
    fn last(&self) -> Option<&[u8]> {
        (!self.blocks.is_empty()).then_some(self.last.as_slice())
    }

    /// Appends `key`, which is greater than every key before it.
    fn push(&mut self, key: &[u8]) {
        match self.blocks.last_mut() {
            Some(block) if self.in_last < BLOCK_KEYS => {
                let shared = self
                    .last
                    .iter()
                    .zip(key)
                    .take_while(|(a, b)| a == b)
                    .count();
                put_key(block, shared, &key[shared..]);
                self.in_last += 1;
            }
            full => {
                if let Some(full) = full {
                    full.shrink_to_fit();
                }
                let mut block = Vec::new();
                put_key(&mut block, 0, key);
                self.blocks.push(block);
                self.in_last = 1;
            }
        }
        self.last.clear();
        self.last.extend_from_slice(key);
    }

    /// Whether `key` is one of the keys.
    fn contains(&self, key: &[u8]) -> bool {
        // The block whose first key is the greatest not above `key`.
        let after = self.blocks.partition_point(|b| first_key(b) <= key);
        let Some(block) = after.checked_sub(1).map(|i| &self.blocks[i]) else {
            return false;
        };
        let mut current = Vec::with_capacity(key.len());
        let mut rest = block.as_slice();
        while !rest.is_empty() {
            let shared;
            let len;
            (shared, rest) = take_len(rest);
            (len, rest) = take_len(rest);
            current.truncate(shared);
            current.extend_from_slice(&rest[..len]);
            rest = &rest[len..];
            match current.as_slice().cmp(key) {
                Ordering::Less => {}
                Ordering::Equal => return true,
                Ordering::Greater => return false,
            }
        }
        false
    }
}

/// The first key of a block, stored whole.
fn first_key(block: &[u8]) -> &[u8] {
    let (_, rest) = take_len(block);
    let (len, rest) = take_len(rest);
    &rest[..len]
}

/// Appends a key that shares `shared` leading bytes with the key before it and goes on with `rest`.
fn put_key(block: &mut Vec<u8>, shared: usize, rest: &[u8]) {
    put_len(block, shared);
    put_len(block, rest.len());
    block.extend_from_slice(rest);
}

/// Appends `n` as an unsigned LEB128 number: one byte below 128.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The LEB128 number at the start of `bytes`, and the bytes after it.
fn take_len(bytes: &[u8]) -> (usize, &[u8]) {
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        n |= usize::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (n, &bytes[i + 1..]);
        }
    }
    (n, &[])
}

/// Hashes a key that is a hash already by keeping its low 64 bits.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_found_whether_keys_rise_or_not() {
        let mut seen = SeenKeys::default();
        for key in ["a1", "a2", "a3"] {
            assert!(seen.insert([key].into_iter()));
        }
        assert!(seen.others.is_empty(), "rising keys are not hashed");
        assert!(
            !seen.insert(["a2"].into_iter()),
            "an earlier key, out of order"
        );
        assert!(seen.insert(["a0"].into_iter()), "a new key, out of order");
        assert!(!seen.insert(["a3"].into_iter()));
        assert!(!seen.insert(["a0"].into_iter()));
        assert!(seen.insert(["a4"].into_iter()));
        assert!(!seen.insert(["a4"].into_iter()), "the key just before");

        let mut seen = SeenKeys::default();
        assert!(seen.insert(["ab", "c"].into_iter()));
        assert!(seen.insert(["a", "bc"].into_iter()), "parts are kept apart");
    }

    #[test]
    fn a_long_register_in_order_is_found_again_in_every_block() {
        let mut seen = SeenKeys::default();
        let key = |i: usize| format!("HY350802{i:08}");
        // Every other number, so that the numbers between are new keys out of order.
        for i in (0..10_000).step_by(2) {
            assert!(seen.insert([key(i).as_str()].into_iter()));
        }
        assert!(seen.others.is_empty());
        let stored: usize = seen.rising.blocks.iter().map(Vec::len).sum();
        assert!(stored < 5_000 * 6, "{stored} bytes for 5,000 keys");
        for i in (0..10_000).step_by(2) {
            assert!(!seen.insert([key(i).as_str()].into_iter()), "{i} again");
        }
        for i in (1..10_000).step_by(2) {
            assert!(seen.insert([key(i).as_str()].into_iter()), "{i} is new");
        }
        assert!(
            seen.insert(["A"].into_iter()),
            "a key below the first block"
        );
        assert!(!seen.insert(["A"].into_iter()));
        let long = "长".repeat(100);
        assert!(
            seen.insert([long.as_str()].into_iter()),
            "a key past 127 bytes"
        );
        assert!(!seen.insert([long.as_str()].into_iter()));
    }
}
