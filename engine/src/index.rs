//! The order-id index of one book: client order id -> order slot.
//!
//! An open-addressing table with linear probing whose buckets are one `u64`:
//! 32 bits of the id's hash and the slot + 1 (0 = empty). Eight buckets share a
//! cache line, so a lookup — hit or miss — usually reads one line of the table
//! and then the order itself, which the caller is about to touch anyway (the id
//! is confirmed there, not stored twice). Sequential ids share lines (see
//! [`hash32`]), so a stream of new orders touches a new table line only every
//! few orders. Deletion shifts the following
//! buckets back (no tombstones), so probe runs stay short at load <= 3/4.
//!
//! **Growth never stalls**: when the table passes 3/4 load, a table of twice
//! the size is allocated zeroed (fresh pages from the OS, not a memset) and the
//! old buckets move over a few at a time on every later insert
//! ([`MIGRATE_PER_INSERT`]); lookups consult the new table, then the part of
//! the old one not yet moved. The whole move is done long before the new table
//! could need to grow again. Only the stored hash bits are used to move a
//! bucket, so growth never touches the orders.

use crate::order::OrderPool;
use crate::types::OrderId;
use crate::zeroed::ZeroedSlice;

/// Old buckets moved per insert while a growth is in progress. A table of
/// `2c` buckets receives at least `3c/4` inserts before it can pass 3/4 load
/// itself, far more than the `c / MIGRATE_PER_INSERT` the move needs.
const MIGRATE_PER_INSERT: usize = 8;
/// Smallest table, in buckets.
const MIN_BUCKETS: usize = 64;
/// An old-table bucket deleted during a growth (lookups step over it).
const TOMB: u64 = u64::MAX;

/// Consecutive ids that share a home group of buckets (half a cache line).
const GROUP_BITS: u32 = 2;

/// The stored hash bits, whose low bits are the home bucket: a fixed,
/// seedless mix (no randomness may reach engine state) of `id >> 2` that
/// spreads sequential and strided ids alike, with the id's two low bits as
/// the position in the group. Ids handed out in sequence (the common case
/// for client order ids) thus land four to a half line: the duplicate check
/// and insert of a new order usually find their line already in cache. Ids
/// of one group differ in the low bits, so the 32 bits still tell them apart.
#[inline]
fn hash32(id: OrderId) -> u32 {
    let g = id >> GROUP_BITS;
    let x = (g ^ (g >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let mixed = ((x ^ (x >> 29)) >> 32) as u32;
    (mixed << GROUP_BITS) | (id as u32 & ((1 << GROUP_BITS) - 1))
}

/// A cache-line fetch hint; a no-op where no stable intrinsic exists.
#[inline(always)]
pub(crate) fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch is a hint: it never faults and has no architectural
    // effect, and the pointer comes from a valid reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (p as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline]
fn pack(hash: u32, slot: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(slot + 1)
}

#[inline]
fn hash_of(bucket: u64) -> u32 {
    (bucket >> 32) as u32
}

#[inline]
fn slot_of(bucket: u64) -> u32 {
    (bucket as u32).wrapping_sub(1)
}

/// One linear-probing table (capacity a power of two, or 0).
#[derive(Clone, Debug, Default)]
struct Table {
    /// Zeroed without a memset even when glibc would serve it from its heap
    /// (see `zeroed`): growth must not clear megabytes inside one insert.
    buckets: ZeroedSlice<u64>,
    len: usize,
}

impl Table {
    fn with_buckets(n: usize) -> Table {
        // Large tables come as untouched zero pages: no pass over them.
        Table {
            buckets: ZeroedSlice::new(n),
            len: 0,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    #[inline]
    fn find(&self, h: u32, mut is: impl FnMut(u32) -> bool) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut p = h as usize & mask;
        loop {
            let b = self.buckets[p];
            if b == 0 {
                return None;
            }
            if hash_of(b) == h && is(slot_of(b)) {
                return Some(p);
            }
            p = (p + 1) & mask;
        }
    }

    /// Puts a bucket known to be absent (the table has a free bucket).
    #[inline]
    fn put(&mut self, bucket: u64) {
        let mask = self.mask();
        let mut p = hash_of(bucket) as usize & mask;
        while self.buckets[p] != 0 {
            p = (p + 1) & mask;
        }
        self.buckets[p] = bucket;
        self.len += 1;
    }

    /// Deletes the bucket at `p`, shifting later members of the run back.
    #[inline]
    fn delete(&mut self, p: usize) {
        let mask = self.mask();
        let mut hole = p;
        let mut q = (p + 1) & mask;
        loop {
            let b = self.buckets[q];
            if b == 0 {
                break;
            }
            let home = hash_of(b) as usize & mask;
            // `b` may fill the hole unless its home lies cyclically in (hole, q].
            if (q.wrapping_sub(home) & mask) >= (q.wrapping_sub(hole) & mask) {
                self.buckets[hole] = b;
                hole = q;
            }
            q = (q + 1) & mask;
        }
        self.buckets[hole] = 0;
        self.len -= 1;
    }

    #[inline]
    fn over_load(&self, len: usize) -> bool {
        len * 4 > self.buckets.len() * 3
    }
}

/// The part of the previous table not yet moved into the current one.
#[derive(Clone, Debug, Default)]
struct Draining {
    table: Table,
    /// Buckets below this are moved (empty or tombstones); lookups skip them.
    cursor: usize,
}

impl Draining {
    fn active(&self) -> bool {
        !self.table.buckets.is_empty()
    }

    /// Lookup in the undrained part `[cursor, len)`: a probe run that would
    /// enter the drained prefix continues at `cursor` (that prefix holds no
    /// live bucket, and no empty bucket of the run lies at or after `cursor`).
    #[inline]
    fn find(&self, h: u32, mut is: impl FnMut(u32) -> bool) -> Option<usize> {
        let n = self.table.buckets.len();
        let mut p = (h as usize & self.table.mask()).max(self.cursor);
        for _ in self.cursor..n {
            let b = self.table.buckets[p];
            if b == 0 {
                return None;
            }
            if b != TOMB && hash_of(b) == h && is(slot_of(b)) {
                return Some(p);
            }
            p += 1;
            if p == n {
                p = self.cursor;
            }
        }
        None
    }
}

/// Live orders of one book by client order id.
#[derive(Clone, Debug, Default)]
pub struct OrderIndex {
    cur: Table,
    old: Draining,
}

impl OrderIndex {
    #[inline]
    pub fn get(&self, id: OrderId, pool: &OrderPool) -> Option<u32> {
        let h = hash32(id);
        let is = |slot: u32| pool[slot].order_id == id;
        if let Some(p) = self.cur.find(h, is) {
            return Some(slot_of(self.cur.buckets[p]));
        }
        if self.old.active() {
            if let Some(p) = self.old.find(h, is) {
                return Some(slot_of(self.old.table.buckets[p]));
            }
        }
        None
    }

    #[inline]
    pub fn contains(&self, id: OrderId, pool: &OrderPool) -> bool {
        self.get(id, pool).is_some()
    }

    /// Hints the CPU to fetch the table line(s) where id `id` lives or would
    /// go (no effect on state; for lookahead over a batch of commands).
    #[inline]
    pub fn prefetch(&self, id: OrderId) {
        let h = hash32(id);
        if !self.cur.buckets.is_empty() {
            prefetch(&self.cur.buckets[h as usize & self.cur.mask()]);
        }
        if self.old.active() {
            let p = (h as usize & self.old.table.mask()).max(self.old.cursor);
            prefetch(&self.old.table.buckets[p]);
        }
    }

    /// The slot that id `id` probably occupies: the first bucket with its hash
    /// bits, unconfirmed (the order is not read). For prefetching only.
    #[inline]
    pub fn probable_slot(&self, id: OrderId) -> Option<u32> {
        let h = hash32(id);
        let any = |_: u32| true;
        if let Some(p) = self.cur.find(h, any) {
            return Some(slot_of(self.cur.buckets[p]));
        }
        if self.old.active() {
            if let Some(p) = self.old.find(h, any) {
                return Some(slot_of(self.old.table.buckets[p]));
            }
        }
        None
    }

    /// Adds slot `idx`, whose order holds id `id` (not yet present).
    #[inline]
    pub fn insert(&mut self, id: OrderId, idx: u32, _pool: &OrderPool) {
        debug_assert!(idx < u32::MAX - 1, "slot out of the index's range");
        if self.cur.over_load(self.cur.len + 1) {
            self.grow();
        }
        self.cur.put(pack(hash32(id), idx));
        if self.old.active() {
            self.migrate(MIGRATE_PER_INSERT);
        }
    }

    /// Removes id `id` and returns its slot, in one probe (a cancel looks
    /// the order up and unindexes it at once).
    #[inline]
    pub fn take(&mut self, id: OrderId, pool: &OrderPool) -> Option<u32> {
        let h = hash32(id);
        let is = |slot: u32| pool[slot].order_id == id;
        if let Some(p) = self.cur.find(h, is) {
            let slot = slot_of(self.cur.buckets[p]);
            self.cur.delete(p);
            return Some(slot);
        }
        if self.old.active() {
            if let Some(p) = self.old.find(h, is) {
                let slot = slot_of(self.old.table.buckets[p]);
                self.old.table.buckets[p] = TOMB;
                self.old.table.len -= 1;
                return Some(slot);
            }
        }
        None
    }

    /// Removes id `id`, known to be stored for slot `idx`: a slot is in the
    /// index at most once, so the bucket is recognised without reading the order.
    #[inline]
    pub fn remove(&mut self, id: OrderId, idx: u32) {
        let h = hash32(id);
        let is = |slot: u32| slot == idx;
        if let Some(p) = self.cur.find(h, is) {
            self.cur.delete(p);
        } else if self.old.active() {
            if let Some(p) = self.old.find(h, is) {
                self.old.table.buckets[p] = TOMB;
                self.old.table.len -= 1;
            }
        }
    }

    /// Starts moving into a table of twice the size (finishing a move still
    /// in progress first, which the growth arithmetic makes unreachable).
    #[cold]
    fn grow(&mut self) {
        if self.old.active() {
            self.migrate(usize::MAX);
        }
        let n = (self.cur.buckets.len() * 2).max(MIN_BUCKETS);
        let prev = std::mem::replace(&mut self.cur, Table::with_buckets(n));
        if prev.len > 0 {
            self.old = Draining {
                table: prev,
                cursor: 0,
            };
        }
    }

    /// Moves up to `budget` old buckets into the current table.
    fn migrate(&mut self, budget: usize) {
        let n = self.old.table.buckets.len();
        let end = self.old.cursor.saturating_add(budget).min(n);
        for p in self.old.cursor..end {
            let b = self.old.table.buckets[p];
            if b != 0 && b != TOMB {
                self.cur.put(b);
                self.old.table.len -= 1;
            }
        }
        self.old.cursor = end;
        if end == n || self.old.table.len == 0 {
            self.old = Draining::default();
        }
    }

    pub fn len(&self) -> usize {
        self.cur.len + self.old.table.len
    }

    /// Heap bytes: both tables' buckets (the old one only while it drains).
    pub fn heap_bytes(&self) -> usize {
        (self.cur.buckets.len() + self.old.table.buckets.len()) * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Order, NIL};
    use crate::types::{OrderType, Side, Stp, Tif};

    fn order(id: OrderId) -> Order {
        Order {
            order_id: id,
            ..Order::blank()
        }
    }

    /// Random inserts and removes (through several growths) against a model map.
    #[test]
    fn index_matches_model_through_growth() {
        let _ = (NIL, OrderType::Limit, Side::Buy, Stp::None, Tif::Gtc);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut pool = OrderPool::default();
        let mut index = OrderIndex::default();
        let mut model: std::collections::HashMap<OrderId, u32> = Default::default();
        let mut ids: Vec<OrderId> = Vec::new();
        for step in 0..200_000u32 {
            let r = next();
            if ids.is_empty() || r % 5 < 3 {
                // Clustered and sparse ids alike.
                let id = if r & 1 == 0 { u64::from(step) } else { next() };
                if model.contains_key(&id) {
                    continue;
                }
                assert!(!index.contains(id, &pool));
                let idx = pool.alloc(order(id));
                index.insert(id, idx, &pool);
                model.insert(id, idx);
                ids.push(id);
            } else {
                let k = (r >> 8) as usize % ids.len();
                let id = ids.swap_remove(k);
                let idx = model.remove(&id).unwrap();
                assert_eq!(index.get(id, &pool), Some(idx));
                if r & 2 == 0 {
                    index.remove(id, idx);
                } else {
                    assert_eq!(index.take(id, &pool), Some(idx));
                }
                assert_eq!(index.get(id, &pool), None);
                pool.free(idx);
            }
            if step % 1_013 == 0 {
                assert_eq!(index.len(), model.len());
                for (&id, &idx) in &model {
                    assert_eq!(index.get(id, &pool), Some(idx));
                }
            }
        }
        assert_eq!(index.len(), model.len());
    }
}
