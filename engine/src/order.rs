//! Orders and the slab that stores them.
//!
//! Orders live in one engine-wide slab addressed by `u32` so that the links of
//! the price-level queue and of the per-account list are 4 bytes each and no
//! order is ever moved or allocated on the hot path. An order is 64 bytes,
//! aligned to a cache line, so touching an order costs one line.

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
/// and leaves at most one chunk of unused capacity.
const CHUNK_SHIFT: u32 = 12;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const CHUNK_MASK: u32 = CHUNK as u32 - 1;

/// One slab chunk. A fixed-size array (not a `Vec`) so that indexing it
/// with a masked slot needs no bounds check and no length load: every pool
/// access is one check against the chunk table instead of two dependent ones.
/// Allocated zeroed (an all-zero `Order` is a valid blank one) straight from
/// the OS, so a fresh chunk costs no pass over its 256 KiB: its pages are
/// touched as its slots are first used (see `zeroed`).
type Chunk = [Order; CHUNK];

// SAFETY: every field of `Order` is an integer, a `bool` or a `u8`-coded enum
// with a variant of code 0, so all-zero bytes are a valid `Order`; it is `Copy`.
unsafe impl Zeroable for Order {}

/// Slab of orders in fixed-size chunks. Freed slots form a list threaded
/// through their `next` links, so the free list costs no memory of its own.
/// Slots `len..` of the last chunk are blank and belong to no one.
#[derive(Clone)]
pub struct OrderPool {
    /// Each holds exactly one `Chunk` (`ZeroedSlice::one`).
    chunks: Vec<ZeroedSlice<Chunk>>,
    len: usize,
    free_head: u32,
    free_count: usize,
    /// Stop / iceberg fields by slot (only for orders with `has_extra`).
    extra: FxHashMap<u32, Extra>,
}

impl Default for OrderPool {
    fn default() -> Self {
        OrderPool {
            chunks: Vec::new(),
            len: 0,
            free_head: NIL,
            free_count: 0,
            extra: FxHashMap::default(),
        }
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
            self.chunks.push(ZeroedSlice::one());
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
        self.chunks
            .get((idx >> CHUNK_SHIFT) as usize)
            .map(|c| &c.first()[(idx & CHUNK_MASK) as usize])
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
        self.chunks.len() * std::mem::size_of::<Chunk>()
            + self.chunks.capacity() * std::mem::size_of::<ZeroedSlice<Chunk>>()
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
        &self.chunks[(idx >> CHUNK_SHIFT) as usize].first()[(idx & CHUNK_MASK) as usize]
    }
}

impl std::ops::IndexMut<u32> for OrderPool {
    #[inline(always)]
    fn index_mut(&mut self, idx: u32) -> &mut Order {
        &mut self.chunks[(idx >> CHUNK_SHIFT) as usize].first_mut()[(idx & CHUNK_MASK) as usize]
    }
}
