//! The order-id index of one book: client order id -> order slot.
//!
//! Each bucket holds the 4-byte slot and 32 bits of the id's hash (9 bytes with
//! the control byte, against 17 for a `(u64, u32)` map). The id itself is read
//! from the order only to confirm a match, which the caller is about to touch
//! anyway; growing the table rehashes from the stored bits and never touches
//! the orders, so a resize of a multi-million-order book stays short.

use hashbrown::HashTable;

use crate::order::OrderPool;
use crate::types::OrderId;

#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: u32,
    hash: u32,
}

/// Live orders of one book by client order id.
#[derive(Clone, Debug, Default)]
pub struct OrderIndex {
    table: HashTable<Entry>,
}

/// A fixed, seedless mix (no randomness may reach engine state) that spreads
/// sequential and strided ids alike.
#[inline]
fn hash32(id: OrderId) -> u32 {
    let x = (id ^ (id >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    ((x ^ (x >> 29)) >> 32) as u32
}

/// The table hash: the stored bits in both halves, so bucket choice (low bits)
/// and control tag (top bits) both come from them.
#[inline]
fn table_hash(h: u32) -> u64 {
    (u64::from(h) << 32) | u64::from(h)
}

impl OrderIndex {
    #[inline]
    pub fn get(&self, id: OrderId, pool: &OrderPool) -> Option<u32> {
        let h = hash32(id);
        self.table
            .find(table_hash(h), |e| {
                e.hash == h && pool[e.slot].order_id == id
            })
            .map(|e| e.slot)
    }

    #[inline]
    pub fn contains(&self, id: OrderId, pool: &OrderPool) -> bool {
        self.get(id, pool).is_some()
    }

    /// Adds slot `idx`, whose order holds id `id` (not yet present).
    #[inline]
    pub fn insert(&mut self, id: OrderId, idx: u32, _pool: &OrderPool) {
        let h = hash32(id);
        self.table
            .insert_unique(table_hash(h), Entry { slot: idx, hash: h }, |e| {
                table_hash(e.hash)
            });
    }

    #[inline]
    pub fn remove(&mut self, id: OrderId, pool: &OrderPool) {
        let h = hash32(id);
        if let Ok(entry) = self.table.find_entry(table_hash(h), |e| {
            e.hash == h && pool[e.slot].order_id == id
        }) {
            entry.remove();
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Heap bytes: one entry and one control byte per bucket.
    pub fn heap_bytes(&self) -> usize {
        let buckets = if self.table.capacity() == 0 {
            0
        } else {
            (self.table.capacity() * 8 / 7).next_power_of_two()
        };
        buckets * (std::mem::size_of::<Entry>() + 1)
    }
}
