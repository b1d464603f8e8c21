//! `state_hash()`: a digest of the logical engine state.
//!
//! Walks books in instrument order, levels best first, queues in time order
//! and stops in trigger order, so equal states hash equal however they were
//! reached; slab positions and hash-map layout never enter it.

use crate::engine::Engine;
use crate::order::{OrderPool, NIL};
use crate::types::Side;

/// FNV-1a, 64-bit: tiny, dependency-free and stable across platforms and releases.
struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }
}

impl Engine {
    /// A deterministic 64-bit digest of the whole state: equal states give equal hashes.
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.u64(self.seq);
        h.u64(self.accounts.len() as u64);
        for a in &self.accounts {
            h.str(&a.name);
        }
        h.u64(self.books.len() as u64);
        for book in &self.books {
            let s = &book.spec;
            h.str(&s.symbol);
            h.i64(s.tick_size);
            h.u64(s.lot_size);
            h.u64(s.min_qty);
            h.u64(s.max_qty);
            h.i64(s.price_band.unwrap_or(0));
            h.i64(book.last_trade.map_or(i64::MIN, |p| p));
            for side in [Side::Buy, Side::Sell] {
                let ladder = book.ladder(side);
                h.u64(ladder.len() as u64);
                for level in ladder.iter_best_first() {
                    h.i64(level.price);
                    h.u64(u64::from(level.count));
                    let mut idx = level.head;
                    while idx != NIL {
                        hash_order(&mut h, &self.pool, idx);
                        idx = self.pool[idx].next;
                    }
                }
            }
            h.u64(book.stops.len() as u64);
            // Trigger order is what matters; the arrival stamps themselves are
            // path-dependent (any increasing numbering gives the same behaviour).
            for (_, stop, _, idx) in book.stops.iter() {
                h.i64(stop);
                hash_order(&mut h, &self.pool, idx);
            }
        }
        h.0
    }
}

fn hash_order(h: &mut Fnv, pool: &OrderPool, idx: u32) {
    let o = &pool[idx];
    let extra = pool.extra(idx);
    // A plain order keeps no extra fields: stop price and display 0, all shown.
    let visible = if o.has_extra { extra.visible } else { o.leaves };
    h.u64(o.order_id);
    h.i64(o.price);
    h.i64(extra.stop_price);
    h.u64(o.qty);
    h.u64(o.leaves);
    h.u64(extra.display);
    h.u64(visible);
    h.u64(u64::from(o.account));
    h.bytes(&[
        o.side.code(),
        o.order_type.code(),
        o.tif.code(),
        o.stp.code(),
        u8::from(o.post_only),
        o.placement as u8,
    ]);
}
