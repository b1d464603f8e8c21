//! The order-id index of one book: client order id -> order slot.
//!
//! The table stores only the 4-byte slot; the id is read from the order itself
//! when probing. That keeps the index at 5 bytes per bucket (slot + control
//! byte) instead of 17 for a `(u64, u32)` map, which matters at millions of
//! resting orders; the probe touches the order, which the caller is about to
//! touch anyway.

use hashbrown::HashTable;

use crate::order::OrderPool;
use crate::types::OrderId;

/// Live orders of one book by client order id.
#[derive(Clone, Debug, Default)]
pub struct OrderIndex {
    table: HashTable<u32>,
}

/// A fixed, seedless mix (no randomness may reach engine state) that spreads
/// sequential and strided ids alike.
#[inline]
fn hash(id: OrderId) -> u64 {
    let x = (id ^ (id >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 29)
}

impl OrderIndex {
    #[inline]
    pub fn get(&self, id: OrderId, pool: &OrderPool) -> Option<u32> {
        self.table
            .find(hash(id), |&s| pool[s].order_id == id)
            .copied()
    }

    #[inline]
    pub fn contains(&self, id: OrderId, pool: &OrderPool) -> bool {
        self.get(id, pool).is_some()
    }

    /// Adds slot `idx`, whose order holds id `id` (not yet present).
    #[inline]
    pub fn insert(&mut self, id: OrderId, idx: u32, pool: &OrderPool) {
        self.table
            .insert_unique(hash(id), idx, |&s| hash(pool[s].order_id));
    }

    #[inline]
    pub fn remove(&mut self, id: OrderId, pool: &OrderPool) {
        if let Ok(entry) = self.table.find_entry(hash(id), |&s| pool[s].order_id == id) {
            entry.remove();
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Heap bytes: one u32 slot and one control byte per bucket.
    pub fn heap_bytes(&self) -> usize {
        let buckets = if self.table.capacity() == 0 {
            0
        } else {
            (self.table.capacity() * 8 / 7).next_power_of_two()
        };
        buckets * (std::mem::size_of::<u32>() + 1)
    }
}
