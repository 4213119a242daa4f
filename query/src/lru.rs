//! A cache bounded in bytes: when a new entry does not fit, the least recently used leave first.
//! Used for the engine's answers and the dashboard's kept bodies, so that no sequence of
//! requests can make a server hold more than its configured budget.

use std::collections::{BTreeMap, HashMap};

/// Entries by key, each with its size in bytes and when it was last used.
#[derive(Debug)]
pub struct Lru<V> {
    budget: usize,
    used: usize,
    clock: u64,
    entries: HashMap<String, (V, usize, u64)>,
    by_use: BTreeMap<u64, String>,
}

impl<V: Clone> Lru<V> {
    /// An empty cache that holds at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Lru {
            budget,
            used: 0,
            clock: 0,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    /// The value kept under `key`, now the most recently used.
    pub fn get(&mut self, key: &str) -> Option<V> {
        self.clock += 1;
        let (value, _, used) = self.entries.get_mut(key)?;
        self.by_use.remove(used);
        *used = self.clock;
        self.by_use.insert(self.clock, key.to_string());
        Some(value.clone())
    }

    /// Keeps `value` of `bytes` under `key`, dropping the least recently used entries until it
    /// fits. A value of more than a quarter of the budget is not kept: it would push out many.
    pub fn insert(&mut self, key: String, value: V, bytes: usize) {
        let bytes = bytes + key.len();
        if bytes > self.budget / 4 {
            return;
        }
        self.remove(&key);
        while self.used + bytes > self.budget {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((_, size, _)) = self.entries.remove(&oldest) {
                self.used -= size;
            }
        }
        self.clock += 1;
        self.by_use.insert(self.clock, key.clone());
        self.entries.insert(key, (value, bytes, self.clock));
        self.used += bytes;
    }

    fn remove(&mut self, key: &str) {
        if let Some((_, size, used)) = self.entries.remove(key) {
            self.by_use.remove(&used);
            self.used -= size;
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.used
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_leave_first_and_the_budget_holds() {
        let mut lru = Lru::new(1000);
        for i in 0..10 {
            lru.insert(format!("k{i}"), i, 98);
        }
        assert_eq!(lru.bytes(), 1000);
        assert_eq!(lru.get("k0"), Some(0));
        lru.insert("k10".into(), 10, 97);
        // k1 was the least recently used; k0 was just read.
        assert_eq!(lru.get("k1"), None);
        assert_eq!(lru.get("k0"), Some(0));
        assert!(lru.bytes() <= 1000);
        for i in 0..1000 {
            lru.insert(format!("many{i}"), i, 200);
            assert!(lru.bytes() <= 1000);
        }
        assert_eq!(lru.len(), 4);
        // Too large to keep.
        lru.insert("huge".into(), 0, 300);
        assert_eq!(lru.get("huge"), None);
        // The same key again replaces, never doubles.
        lru.insert("many999".into(), 1, 200);
        assert_eq!(lru.len(), 4);
        assert_eq!(lru.get("many999"), Some(1));
    }
}
