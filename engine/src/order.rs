//! Orders and the slab that stores them.
//!
//! Orders live in one engine-wide slab addressed by `u32` so that the links of
//! the price-level queue and of the per-account list are 4 bytes each and no
//! order is ever moved or allocated on the hot path.

use crate::types::{AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side, Stp, Tif};

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

/// A live order (resting, or a stop waiting to trigger).
#[derive(Clone, Debug)]
pub struct Order {
    pub order_id: OrderId,
    /// Limit price (unused for market and stop orders).
    pub price: Price,
    /// Stop price of a stop / stop-limit order still waiting to trigger.
    pub stop_price: Price,
    /// Total order quantity; `qty - leaves` is the filled quantity.
    pub qty: Qty,
    /// Quantity still open, shown and hidden.
    pub leaves: Qty,
    /// Iceberg display size; 0 means the whole order is shown.
    pub display: Qty,
    /// Shown part in the queue now (`<= leaves`).
    pub visible: Qty,
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
}

impl Order {
    /// Filled quantity so far.
    #[inline]
    pub fn filled(&self) -> Qty {
        self.qty - self.leaves
    }

    /// The shown size a fresh (or refilled) slice gets.
    #[inline]
    pub fn slice(&self) -> Qty {
        if self.display == 0 {
            self.leaves
        } else {
            self.display.min(self.leaves)
        }
    }
}

/// Orders per slab chunk: growth adds one chunk, never copies live orders,
/// and leaves at most one chunk of unused capacity.
const CHUNK_SHIFT: u32 = 12;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const CHUNK_MASK: u32 = CHUNK as u32 - 1;

/// Slab of orders in fixed-size chunks. Freed slots form a list threaded
/// through their `next` links, so the free list costs no memory of its own.
#[derive(Clone)]
pub struct OrderPool {
    chunks: Vec<Vec<Order>>,
    len: usize,
    free_head: u32,
    free_count: usize,
}

impl Default for OrderPool {
    fn default() -> Self {
        OrderPool {
            chunks: Vec::new(),
            len: 0,
            free_head: NIL,
            free_count: 0,
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
            return idx;
        }
        assert!(self.len < NIL as usize, "order slab full");
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room")
            .push(order);
        self.len += 1;
        (self.len - 1) as u32
    }

    /// Returns a slot to the free list.
    #[inline]
    pub fn free(&mut self, idx: u32) {
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

    /// Bytes held by the slab (capacity, not just live orders).
    pub fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.capacity()).sum::<usize>() * std::mem::size_of::<Order>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Order>>()
    }
}

impl std::ops::Index<u32> for OrderPool {
    type Output = Order;
    #[inline]
    fn index(&self, idx: u32) -> &Order {
        &self.chunks[(idx >> CHUNK_SHIFT) as usize][(idx & CHUNK_MASK) as usize]
    }
}

impl std::ops::IndexMut<u32> for OrderPool {
    #[inline]
    fn index_mut(&mut self, idx: u32) -> &mut Order {
        &mut self.chunks[(idx >> CHUNK_SHIFT) as usize][(idx & CHUNK_MASK) as usize]
    }
}
