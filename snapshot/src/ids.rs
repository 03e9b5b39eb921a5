//! Duplicate-id detection that does not copy the ids.
//!
//! The ids already live in the accounts vector; this index maps a 64-bit hash
//! of each id to the position of the first account with that hash. A hash hit
//! is confirmed by comparing the ids themselves; the (astronomically rare)
//! different ids sharing a hash go to a small map keyed by the id. This keeps
//! the index at a few bytes per account for millions of accounts.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::BuildHasher;

use crate::model::Account;

#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    hasher: RandomState,
    by_hash: HashMap<u64, usize>,
    collisions: HashMap<String, usize>,
}

impl IdIndex {
    /// Records that `accounts[index]` (about to be pushed) has id `id`, or
    /// returns the index of the earlier account with the same id (and then
    /// records nothing).
    pub(crate) fn insert(&mut self, id: &str, index: usize, accounts: &[Account]) -> Option<usize> {
        match self.by_hash.entry(self.hasher.hash_one(id)) {
            Entry::Vacant(entry) => {
                entry.insert(index);
                None
            }
            Entry::Occupied(entry) if accounts[*entry.get()].id == id => Some(*entry.get()),
            Entry::Occupied(_) => match self.collisions.entry(id.to_owned()) {
                Entry::Occupied(entry) => Some(*entry.get()),
                Entry::Vacant(entry) => {
                    entry.insert(index);
                    None
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;

    fn account(id: &str) -> Account {
        Account { id: id.to_owned(), balances: Default::default(), origin: Location { file: "b.csv".into(), line: 2 } }
    }

    #[test]
    fn finds_first_occurrence() {
        let mut index = IdIndex::default();
        let mut accounts = Vec::new();
        for id in ["a", "b", "a", "c", "b", "a"] {
            let found = index.insert(id, accounts.len(), &accounts);
            accounts.push(account(id));
            let expected = match id {
                "a" if accounts.len() > 1 => Some(0),
                "b" if accounts.len() > 2 => Some(1),
                _ => None,
            };
            assert_eq!(found, expected, "{id} at {}", accounts.len() - 1);
        }
    }

    #[test]
    fn handles_hash_collisions() {
        // Force every id onto one hash bucket by pre-filling the hash map.
        let mut index = IdIndex::default();
        let accounts = vec![account("x"), account("y"), account("z")];
        index.by_hash.insert(index.hasher.hash_one("y"), 0);
        // "y" collides with account 0 ("x") but is a different id.
        assert_eq!(index.insert("y", 1, &accounts), None);
        assert_eq!(index.insert("y", 2, &accounts), Some(1));
    }
}
