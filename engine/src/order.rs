//! Orders and the slab that stores them.
//!
//! Orders live in one engine-wide slab addressed by `u32` so that the links of
//! the price-level queue and of the per-account list are 4 bytes each and no
//! order is ever moved or allocated on the hot path. An order is 64 bytes,
//! aligned to a cache line, so touching an order costs one line.

use std::ptr::NonNull;

use rustc_hash::FxHashMap;

use crate::types::{AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side, Stp, Tif};
use crate::zeroed::{Zeroable, ZeroedSlice};

/// "No order": the null link.
pub const NIL: u32 = u32::MAX;

/// Where a live order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Placement {
    /// Resting in a price level of the book.
    Book = 0,
    /// Waiting off-book for its stop price.
    Stop = 1,
}

/// A live order (resting, or a stop waiting to trigger): one cache line.
///
/// The fields every order uses are here; what only stop and iceberg orders
/// need (stop price, display size, shown part) lives in [`Extra`], a side
/// table of the pool keyed by slot, flagged by `has_extra`. An order without
/// extra shows its whole open quantity while it rests (`visible == leaves`).
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub struct Order {
    pub order_id: OrderId,
    /// Limit price (unused for market and stop orders).
    pub price: Price,
    /// Total order quantity; `qty - leaves` is the filled quantity.
    pub qty: Qty,
    /// Quantity still open, shown and hidden.
    pub leaves: Qty,
    pub prev: u32,
    pub next: u32,
    pub acct_prev: u32,
    pub acct_next: u32,
    pub account: AccountId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub order_type: OrderType,
    pub tif: Tif,
    pub stp: Stp,
    pub post_only: bool,
    pub placement: Placement,
    /// Whether the pool holds an [`Extra`] for this slot.
    pub has_extra: bool,
}

/// The fields only stop and iceberg orders need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    /// Stop price of a stop / stop-limit order (kept after it triggers).
    pub stop_price: Price,
    /// Iceberg display size; 0 means the whole order is shown.
    pub display: Qty,
    /// Shown part in the queue now (`<= leaves`; 0 while waiting or taking).
    pub visible: Qty,
}

impl Order {
    /// An order with every field zero / empty (for tests and struct updates).
    #[cfg(test)]
    pub fn blank() -> Order {
        Order {
            order_id: 0,
            price: 0,
            qty: 0,
            leaves: 0,
            prev: NIL,
            next: NIL,
            acct_prev: NIL,
            acct_next: NIL,
            account: 0,
            instrument: 0,
            side: Side::Buy,
            order_type: OrderType::Limit,
            tif: Tif::Gtc,
            stp: Stp::None,
            post_only: false,
            placement: Placement::Book,
            has_extra: false,
        }
    }

    /// Filled quantity so far.
    #[inline]
    pub fn filled(&self) -> Qty {
        self.qty - self.leaves
    }
}

/// Orders per slab chunk: growth adds one chunk, never copies live orders,
/// and leaves at most one chunk (or, in a large slab, one arena) of unused capacity.
const CHUNK_SHIFT: u32 = 12;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const CHUNK_MASK: u32 = CHUNK as u32 - 1;

/// The first chunks (262,144 orders, 16 MiB) come one at a time from the
/// heap, so a small book stays small: an arena, up to 7 chunks (1.75 MiB)
/// ahead of use, adds at most 7 bytes per order beyond this size.
const SMALL_CHUNKS: usize = 64;
/// Beyond them, chunks come in arenas of this many (2 MiB: one huge page),
/// mapped 2 MiB-aligned with huge-page advice: random order loads in a deep
/// book then cost one cache miss instead of a cache miss plus a page walk
/// (`memlat`: 1 GiB, one chain, huge pages about half the 4 KiB time).
const ARENA_CHUNKS: usize = (crate::mem::HUGE_PAGE >> CHUNK_SHIFT) / std::mem::size_of::<Order>();

/// One slab chunk. A fixed-size array (not a `Vec`) so that indexing it
/// with a masked slot needs no bounds check and no length load: every pool
/// access is one check against the chunk table, then one load.
/// Allocated zeroed (an all-zero `Order` is a valid blank one).
type Chunk = [Order; CHUNK];

// SAFETY: every field of `Order` is an integer, a `bool` or a `u8`-coded enum
// with a variant of code 0, so all-zero bytes are a valid `Order`; it is `Copy`.
unsafe impl Zeroable for Order {}

/// Slab of orders in fixed-size chunks. Freed slots form a list threaded
/// through their `next` links, so the free list costs no memory of its own.
/// Slots `len..` of the last chunk are blank and belong to no one.
pub struct OrderPool {
    /// Chunk `c` of the slab; points into `blocks`, which own the memory.
    chunks: Vec<NonNull<Chunk>>,
    /// Heap blocks of one chunk (the first [`SMALL_CHUNKS`]), then mapped
    /// arenas of [`ARENA_CHUNKS`]; the last arena may be partly in use.
    blocks: Vec<ZeroedSlice<Chunk>>,
    len: usize,
    free_head: u32,
    free_count: usize,
    /// Stop / iceberg fields by slot (only for orders with `has_extra`).
    extra: FxHashMap<u32, Extra>,
}

// SAFETY: the chunk pointers point into `blocks`, which the pool owns
// exclusively (like a Vec owns its buffer) and never shares.
unsafe impl Send for OrderPool {}
// SAFETY: `&OrderPool` only reads through the pointers.
unsafe impl Sync for OrderPool {}

impl Default for OrderPool {
    fn default() -> Self {
        OrderPool {
            chunks: Vec::new(),
            blocks: Vec::new(),
            len: 0,
            free_head: NIL,
            free_count: 0,
            extra: FxHashMap::default(),
        }
    }
}

impl Clone for OrderPool {
    fn clone(&self) -> Self {
        let blocks: Vec<ZeroedSlice<Chunk>> = self.blocks.clone();
        let mut chunks: Vec<NonNull<Chunk>> = Vec::with_capacity(self.chunks.capacity());
        // The same chunks in the same order, now in the copied blocks.
        for block in &blocks {
            for chunk in block.iter() {
                chunks.push(NonNull::from(chunk));
            }
        }
        chunks.truncate(self.chunks.len());
        OrderPool {
            chunks,
            blocks,
            len: self.len,
            free_head: self.free_head,
            free_count: self.free_count,
            extra: self.extra.clone(),
        }
    }
}

impl OrderPool {
    /// Adds chunk number `chunks.len()`: a heap block while the slab is
    /// small, else the next chunk of the current arena (a new arena if full).
    #[cold]
    fn add_chunk(&mut self) {
        let c = self.chunks.len();
        let chunk = if c < SMALL_CHUNKS {
            self.blocks.push(ZeroedSlice::one());
            NonNull::from(&mut self.blocks.last_mut().expect("just pushed")[0])
        } else {
            let k = (c - SMALL_CHUNKS) % ARENA_CHUNKS;
            if k == 0 {
                self.blocks.push(ZeroedSlice::new(ARENA_CHUNKS));
            }
            NonNull::from(&mut self.blocks.last_mut().expect("an arena")[k])
        };
        self.chunks.push(chunk);
    }

    #[inline(always)]
    fn chunk(&self, c: usize) -> &Chunk {
        // SAFETY: `chunks[c]` points into a block owned by `self` (never
        // freed or moved while `self` lives: blocks are heap buffers).
        unsafe { self.chunks[c].as_ref() }
    }

    #[inline(always)]
    fn chunk_mut(&mut self, c: usize) -> &mut Chunk {
        // SAFETY: as in `chunk`; `&mut self` makes the access exclusive and
        // no two entries of `chunks` point to the same chunk.
        unsafe { self.chunks[c].as_mut() }
    }
}

impl OrderPool {
    /// Stores `order` and returns its index, reusing a freed slot first.
    #[inline]
    pub fn alloc(&mut self, order: Order) -> u32 {
        if self.free_head != NIL {
            let idx = self.free_head;
            self.free_head = self[idx].next;
            self.free_count -= 1;
            self[idx] = order;
            // The next allocation's slot, so that its write does not wait.
            self.prefetch(self.free_head);
            return idx;
        }
        // The id index stores `slot + 1` in 32 bits, so the top two values stay unused.
        assert!(self.len < NIL as usize - 1, "order slab full");
        if self.len.is_multiple_of(CHUNK) {
            self.add_chunk();
        }
        let idx = self.len as u32;
        self.len += 1;
        self[idx] = order;
        if !self.len.is_multiple_of(CHUNK) {
            // The next fresh slot, so that its first write does not wait.
            self.prefetch(self.len as u32);
        }
        idx
    }

    /// Stores `order` with its stop / iceberg fields; `extra` is kept for stop
    /// orders and whenever it holds something (without it an order behaves as
    /// all zero there, showing its whole open quantity).
    #[inline]
    pub fn alloc_with(&mut self, mut order: Order, extra: Extra) -> u32 {
        order.has_extra = extra != Extra::default()
            || matches!(order.order_type, OrderType::Stop | OrderType::StopLimit);
        let idx = self.alloc(order);
        if self[idx].has_extra {
            self.extra.insert(idx, extra);
        }
        idx
    }

    /// The order in slot `idx`, if the slot exists (it may be free).
    #[inline]
    pub fn get(&self, idx: u32) -> Option<&Order> {
        let c = (idx >> CHUNK_SHIFT) as usize;
        (c < self.chunks.len()).then(|| &self.chunk(c)[(idx & CHUNK_MASK) as usize])
    }

    /// Hints the CPU to fetch slot `idx` (a no-op for a slot out of range).
    #[inline]
    pub fn prefetch(&self, idx: u32) {
        if let Some(o) = self.get(idx) {
            crate::index::prefetch(o);
        }
    }

    /// Hints the CPU to fetch the queue and account-list neighbours of `idx`.
    #[inline]
    pub fn prefetch_links(&self, idx: u32) {
        let o = &self[idx];
        for link in [o.prev, o.next, o.acct_prev, o.acct_next] {
            self.prefetch(link);
        }
    }

    /// Returns a slot to the free list.
    #[inline]
    pub fn free(&mut self, idx: u32) {
        if self[idx].has_extra {
            self[idx].has_extra = false;
            self.extra.remove(&idx);
        }
        self[idx].next = self.free_head;
        self.free_head = idx;
        self.free_count += 1;
    }

    /// Number of live orders.
    pub fn live(&self) -> usize {
        self.len - self.free_count
    }

    /// Reserves room for `n` more orders so that bursts do not allocate.
    pub fn reserve(&mut self, n: usize) {
        let wanted = self.len + n.saturating_sub(self.free_count);
        let chunks = wanted.div_ceil(CHUNK);
        self.chunks
            .reserve(chunks.saturating_sub(self.chunks.len()));
    }

    /// Bytes held by the slab (capacity, not just live orders) and the side table.
    pub fn heap_bytes(&self) -> usize {
        // A hashbrown bucket: the entry plus one control byte.
        let extra_bucket = std::mem::size_of::<(u32, Extra)>() + 1;
        self.blocks.iter().map(|b| b.len()).sum::<usize>() * std::mem::size_of::<Chunk>()
            + self.chunks.capacity() * std::mem::size_of::<NonNull<Chunk>>()
            + self.blocks.capacity() * std::mem::size_of::<ZeroedSlice<Chunk>>()
            + self.extra.capacity() * extra_bucket
    }

    /// The stop / iceberg fields of slot `idx` (all zero for an order without them).
    #[inline(always)]
    pub fn extra(&self, idx: u32) -> Extra {
        if self[idx].has_extra {
            self.stored_extra(idx)
        } else {
            Extra::default()
        }
    }

    /// The side-table entry of a slot flagged `has_extra` (off the common path).
    #[cold]
    #[inline(never)]
    fn stored_extra(&self, idx: u32) -> Extra {
        self.extra[&idx]
    }

    /// Mutable stop / iceberg fields of slot `idx`, created on first use.
    #[inline]
    pub fn extra_mut(&mut self, idx: u32) -> &mut Extra {
        self[idx].has_extra = true;
        self.extra.entry(idx).or_default()
    }

    /// Shown quantity of order `o` in slot `idx`: the iceberg's shown part,
    /// else the whole open quantity (for a resting order; a waiting stop shows
    /// 0 through its extra).
    #[inline(always)]
    pub fn visible_of(&self, idx: u32, o: &Order) -> Qty {
        if o.has_extra {
            self.stored_extra(idx).visible
        } else {
            o.leaves
        }
    }

    /// Shown quantity of slot `idx` (see [`OrderPool::visible_of`]).
    #[inline(always)]
    pub fn visible(&self, idx: u32) -> Qty {
        self.visible_of(idx, &self[idx])
    }

    /// Iceberg display size (0 = not an iceberg).
    #[inline(always)]
    pub fn display(&self, idx: u32) -> Qty {
        self.extra(idx).display
    }

    /// Stop price (0 for orders that never had one).
    #[inline(always)]
    pub fn stop_price(&self, idx: u32) -> Price {
        self.extra(idx).stop_price
    }

    /// The shown size a fresh (or refilled) slice of order `idx` gets.
    #[inline(always)]
    pub fn slice(&self, idx: u32) -> Qty {
        let o = &self[idx];
        if o.has_extra {
            let display = self.stored_extra(idx).display;
            if display != 0 {
                return display.min(o.leaves);
            }
        }
        o.leaves
    }

    /// Sets the shown part of order `idx` (`visible` must equal its leaves
    /// unless it has extra fields: a plain order shows everything).
    #[inline(always)]
    pub fn set_visible(&mut self, idx: u32, visible: Qty) {
        if self[idx].has_extra {
            self.extra_mut(idx).visible = visible;
        } else {
            debug_assert_eq!(visible, self[idx].leaves, "plain order hides quantity");
        }
    }
}

impl std::ops::Index<u32> for OrderPool {
    type Output = Order;
    #[inline(always)]
    fn index(&self, idx: u32) -> &Order {
        // The masked offset is always inside a chunk: only the table index is checked.
        &self.chunk((idx >> CHUNK_SHIFT) as usize)[(idx & CHUNK_MASK) as usize]
    }
}

impl std::ops::IndexMut<u32> for OrderPool {
    #[inline(always)]
    fn index_mut(&mut self, idx: u32) -> &mut Order {
        &mut self.chunk_mut((idx >> CHUNK_SHIFT) as usize)[(idx & CHUNK_MASK) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heap chunks, then arenas; slot reuse; a clone is an independent equal copy.
    #[test]
    fn slab_through_arenas_and_clone() {
        let n = (SMALL_CHUNKS + 2 * ARENA_CHUNKS + 3) * CHUNK + 17;
        let mut pool = OrderPool::default();
        for i in 0..n {
            let idx = pool.alloc(Order {
                order_id: i as u64,
                ..Order::blank()
            });
            assert_eq!(idx as usize, i);
        }
        for i in (0..n).step_by(7) {
            pool.free(i as u32);
        }
        let reused = pool.alloc(Order {
            order_id: u64::MAX,
            ..Order::blank()
        });
        assert_eq!(reused as usize % 7, 0);
        let mut copy = pool.clone();
        assert_eq!(copy.live(), pool.live());
        for i in (1..n as u32).filter(|i| i % 7 != 0) {
            assert_eq!(copy[i].order_id, u64::from(i));
        }
        copy[1].order_id = 5;
        assert_eq!(pool[1].order_id, 1);
        assert!(pool.get(n as u32 + CHUNK as u32 * 9).is_none());
        let more = copy.alloc(Order::blank());
        assert_eq!(pool.live() + 1, copy.live());
        assert!(copy.get(more).is_some());
    }
}
