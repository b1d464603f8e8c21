//! One side of a book: price levels in a direct-mapped window plus an ordered
//! map for outliers.
//!
//! Prices map to keys in tick units, signed so that a larger key is a better
//! price on both sides. Keys inside the window `[base, base + span)` index a
//! `Vec<Level>` directly and a bitmap marks the non-empty slots, so finding,
//! adding and removing a level is O(1) and the next best level is a bit scan.
//! A price far outside the window (more than the window may grow in one step,
//! or beyond `MAX_SPAN`) goes to `far`, a BTreeMap, so a stray price can never
//! make the window huge; when the window empties it re-centres on the best
//! outlier.

use std::collections::BTreeMap;

use crate::order::{OrderPool, NIL};
use crate::types::{Price, Qty, Side};

/// A FIFO queue of orders at one price. Links live in the orders themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: Price,
    pub head: u32,
    pub tail: u32,
    /// Sum of the shown quantity of the orders in the queue.
    pub visible: Qty,
    pub count: u32,
}

const EMPTY: Level = Level {
    price: 0,
    head: NIL,
    tail: NIL,
    visible: 0,
    count: 0,
};
/// Smallest window, in ticks (a multiple of 64).
const MIN_SPAN: usize = 64;
/// Largest window, in ticks: 32 MiB of levels per side at most.
const MAX_SPAN: usize = 1 << 20;
/// A window may always grow to this size in one step, whatever its current size.
const FREE_GROWTH: usize = 512;

/// A window start for `span` slots that keeps every key of the window inside i64
/// (prices near the extremes must not overflow the window arithmetic).
fn window_base(wanted: i128, span: usize) -> i64 {
    // `base + span` (one past the window) must itself fit in i64.
    let highest = i64::MAX as i128 - span as i128;
    wanted.clamp(i64::MIN as i128, highest) as i64
}

/// Where a level lives.
#[derive(Clone, Copy)]
enum Spot {
    Slot(usize),
    Far(i64),
}

/// The levels of one side of one book.
#[derive(Clone, Debug)]
pub struct Ladder {
    side: Side,
    tick: Price,
    /// Key of `slots[0]`.
    base: i64,
    slots: Vec<Level>,
    bits: Vec<u64>,
    /// Slot of the best non-empty level in the window (valid when `in_window > 0`).
    best: usize,
    in_window: usize,
    far: BTreeMap<i64, Level>,
}

impl Ladder {
    pub fn new(side: Side, tick: Price) -> Ladder {
        Ladder {
            side,
            tick,
            base: 0,
            slots: Vec::new(),
            bits: Vec::new(),
            best: 0,
            in_window: 0,
            far: BTreeMap::new(),
        }
    }

    /// Larger key = better price. Prices are multiples of the tick and never i64::MIN.
    #[inline]
    fn key(&self, price: Price) -> i64 {
        // Tick 1 (the common case) skips a 64-bit division.
        let ticks = if self.tick == 1 {
            price
        } else {
            price / self.tick
        };
        match self.side {
            Side::Buy => ticks,
            Side::Sell => -ticks,
        }
    }

    #[inline]
    fn slot(&self, key: i64) -> Option<usize> {
        let off = key.wrapping_sub(self.base) as u64;
        (key >= self.base && off < self.slots.len() as u64).then_some(off as usize)
    }

    #[inline]
    fn top_key(&self) -> i64 {
        self.base + self.slots.len() as i64 - 1
    }

    /// Where the non-empty level at `price` is, if any.
    #[inline]
    fn spot(&self, price: Price) -> Option<Spot> {
        let key = self.key(price);
        match self.slot(key) {
            Some(i) => (self.slots[i].count > 0).then_some(Spot::Slot(i)),
            None => self.far.contains_key(&key).then_some(Spot::Far(key)),
        }
    }

    #[inline]
    fn level_mut(&mut self, spot: Spot) -> &mut Level {
        match spot {
            Spot::Slot(i) => &mut self.slots[i],
            Spot::Far(k) => self.far.get_mut(&k).expect("far level present"),
        }
    }

    /// The best outlier if it beats the whole window.
    #[inline]
    fn far_above(&self) -> Option<i64> {
        if self.far.is_empty() {
            return None;
        }
        let (&k, _) = self.far.last_key_value()?;
        (self.in_window == 0 || k > self.top_key()).then_some(k)
    }

    #[inline]
    fn best_spot(&self) -> Option<Spot> {
        if let Some(k) = self.far_above() {
            return Some(Spot::Far(k));
        }
        (self.in_window > 0).then_some(Spot::Slot(self.best))
    }

    /// The best level, if any.
    #[inline]
    pub fn best(&self) -> Option<&Level> {
        match self.best_spot()? {
            Spot::Slot(i) => Some(&self.slots[i]),
            Spot::Far(k) => self.far.get(&k),
        }
    }

    #[inline]
    pub fn best_mut(&mut self) -> Option<&mut Level> {
        let spot = self.best_spot()?;
        Some(self.level_mut(spot))
    }

    /// The non-empty level at `price`, if any.
    #[inline]
    pub fn get(&self, price: Price) -> Option<&Level> {
        match self.spot(price)? {
            Spot::Slot(i) => Some(&self.slots[i]),
            Spot::Far(k) => self.far.get(&k),
        }
    }

    /// Levels best first.
    pub fn iter_best_first(&self) -> impl Iterator<Item = &Level> {
        let top = if self.slots.is_empty() {
            i64::MIN
        } else {
            self.top_key()
        };
        let above = self
            .far
            .range(top.saturating_add(1)..)
            .rev()
            .map(|(_, l)| l);
        let below = self
            .far
            .range(..self.base.min(top.saturating_add(1)))
            .rev()
            .map(|(_, l)| l);
        let mut pos = (self.in_window > 0).then_some(self.best);
        let window = std::iter::from_fn(move || {
            let i = pos?;
            pos = i
                .checked_sub(1)
                .and_then(|p| self.highest_set_at_or_below(p));
            Some(&self.slots[i])
        });
        above.chain(window).chain(below)
    }

    pub fn len(&self) -> usize {
        self.in_window + self.far.len()
    }

    pub fn heap_bytes(&self) -> usize {
        // A BTreeMap node holds up to 11 entries; count one entry plus a share of node overhead.
        let far_entry = std::mem::size_of::<(i64, Level)>() + 16;
        self.slots.capacity() * std::mem::size_of::<Level>()
            + self.bits.capacity() * 8
            + self.far.len() * far_entry
    }

    /// Whether adding `qty` shown at `price` would overflow the level total.
    pub fn would_overflow(&self, price: Price, qty: Qty) -> bool {
        self.get(price)
            .is_some_and(|l| l.visible.checked_add(qty).is_none())
    }

    /// Highest non-empty slot at or below `pos`.
    #[inline]
    fn highest_set_at_or_below(&self, pos: usize) -> Option<usize> {
        let mut w = pos / 64;
        let mut word = self.bits[w] & (u64::MAX >> (63 - pos % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + 63 - word.leading_zeros() as usize);
            }
            if w == 0 {
                return None;
            }
            w -= 1;
            word = self.bits[w];
        }
    }

    /// Rebuilds the window as `[base, base + span)`, moving levels between window and outliers.
    fn rebuild(&mut self, base: i64, span: usize) {
        let mut levels: Vec<(i64, Level)> = Vec::with_capacity(self.in_window);
        for i in 0..self.slots.len() {
            if self.slots[i].count > 0 {
                levels.push((
                    self.base + i as i64,
                    std::mem::replace(&mut self.slots[i], EMPTY),
                ));
            }
        }
        let top = base + span as i64;
        let mut inside = self.far.split_off(&base);
        let mut above = inside.split_off(&top);
        self.far.append(&mut above);
        levels.extend(inside);
        self.base = base;
        self.slots.clear();
        self.slots.resize(span, EMPTY);
        self.bits.clear();
        self.bits.resize(span / 64, 0);
        self.in_window = 0;
        for (key, level) in levels {
            match self.slot(key) {
                Some(i) => {
                    self.slots[i] = level;
                    self.bits[i / 64] |= 1 << (i % 64);
                    self.in_window += 1;
                }
                None => {
                    self.far.insert(key, level);
                }
            }
        }
        self.best = if self.in_window > 0 {
            self.highest_set_at_or_below(span - 1).unwrap_or(0)
        } else {
            0
        };
    }

    /// Re-centres an empty window on the best outlier so matching runs on the fast path again.
    fn recentre(&mut self) {
        if let Some((&top, _)) = self.far.last_key_value() {
            let span = self.slots.len().max(MIN_SPAN);
            self.rebuild(
                window_base(top as i128 - (span - span / 4) as i128 + 1, span),
                span,
            );
        }
    }

    /// The spot for a new level at `key`: grows or moves the window when that is cheap,
    /// otherwise files the level as an outlier.
    fn place_new(&mut self, key: i64, price: Price) -> Spot {
        if self.slot(key).is_none() {
            if self.in_window == 0 && self.far.is_empty() {
                let span = self.slots.len().max(MIN_SPAN);
                self.rebuild(window_base(key as i128 - (span / 2) as i128, span), span);
            } else if !self.slots.is_empty() {
                let lo = (self.base as i128).min(key as i128);
                let hi = (self.top_key() as i128).max(key as i128);
                let needed = (hi - lo + 1) as u128;
                let allowed = (self.slots.len() * 2).clamp(FREE_GROWTH, MAX_SPAN) as u128;
                if needed <= allowed {
                    let span = (needed as usize)
                        .next_power_of_two()
                        .clamp(MIN_SPAN, MAX_SPAN);
                    let slack = (span as i128 - needed as i128) / 2;
                    self.rebuild(window_base(lo - slack, span), span);
                }
            }
        }
        match self.slot(key) {
            Some(i) => {
                let was_empty = self.in_window == 0;
                self.slots[i] = Level { price, ..EMPTY };
                self.bits[i / 64] |= 1 << (i % 64);
                self.in_window += 1;
                if was_empty || i > self.best {
                    self.best = i;
                }
                Spot::Slot(i)
            }
            None => {
                self.far.insert(key, Level { price, ..EMPTY });
                Spot::Far(key)
            }
        }
    }

    /// Appends order `idx` (already holding price and visible qty) to the back of its level.
    #[inline]
    pub fn push_back(&mut self, pool: &mut OrderPool, idx: u32) {
        let o = &pool[idx];
        let (price, visible) = (o.price, pool.visible_of(idx, o));
        let key = self.key(price);
        let spot = match self.slot(key) {
            Some(i) if self.slots[i].count > 0 => Spot::Slot(i),
            _ if self.far.contains_key(&key) => Spot::Far(key),
            _ => self.place_new(key, price),
        };
        let level = self.level_mut(spot);
        let tail = level.tail;
        level.tail = idx;
        level.visible += visible;
        level.count += 1;
        if tail == NIL {
            level.head = idx;
        } else {
            pool[tail].next = idx;
        }
        pool[idx].prev = tail;
        pool[idx].next = NIL;
    }

    /// Unlinks order `idx` from its level, dropping the level if it empties.
    #[inline]
    pub fn remove(&mut self, pool: &mut OrderPool, idx: u32) {
        let (price, prev, next, visible) = {
            let o = &pool[idx];
            (o.price, o.prev, o.next, pool.visible_of(idx, o))
        };
        let Some(spot) = self.spot(price) else {
            unreachable!("resting order without its level");
        };
        let level = self.level_mut(spot);
        if prev == NIL {
            level.head = next;
        } else {
            pool[prev].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            pool[next].prev = prev;
        }
        level.visible -= visible;
        level.count -= 1;
        if level.count > 0 {
            return;
        }
        match spot {
            Spot::Far(k) => {
                self.far.remove(&k);
            }
            Spot::Slot(i) => {
                self.slots[i] = EMPTY;
                self.bits[i / 64] &= !(1 << (i % 64));
                self.in_window -= 1;
                if self.in_window == 0 {
                    self.recentre();
                } else if i == self.best {
                    self.best = self.highest_set_at_or_below(i).expect("window has levels");
                }
            }
        }
    }

    /// Lowers the shown quantity of a resting order in place (keeps priority).
    pub fn reduce_visible(&mut self, pool: &mut OrderPool, idx: u32, by: Qty) {
        let Some(spot) = self.spot(pool[idx].price) else {
            unreachable!("resting order without its level");
        };
        self.level_mut(spot).visible -= by;
        if pool[idx].has_extra {
            pool.extra_mut(idx).visible -= by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Order;

    fn order(pool: &mut OrderPool, side: Side, price: Price) -> u32 {
        pool.alloc(Order {
            order_id: price as u64,
            price,
            qty: 1,
            leaves: 1,
            side,
            ..Order::blank()
        })
    }

    /// Window and outliers agree with a sorted model whatever the price pattern.
    #[test]
    fn far_prices_window_moves_and_recentring() {
        for side in [Side::Buy, Side::Sell] {
            let mut pool = OrderPool::default();
            let mut ladder = Ladder::new(side, 5);
            let prices = [
                1000,
                1005,
                5_000_000,
                -20_000_000,
                995,
                1_000_000_000,
                1010,
                60_000,
                2_000_000_000_000,
            ];
            let mut live = Vec::new();
            for &p in &prices {
                let idx = order(&mut pool, side, p);
                ladder.push_back(&mut pool, idx);
                live.push((p, idx));
                check(&ladder, side, &live);
            }
            while let Some(best) = ladder.best().map(|l| l.price) {
                let pos = live.iter().position(|&(p, _)| p == best).unwrap();
                let (_, idx) = live.remove(pos);
                ladder.remove(&mut pool, idx);
                check(&ladder, side, &live);
            }
            assert_eq!(ladder.len(), 0);
        }
    }

    /// Random adds and removes over prices near and very far apart, against a sorted model.
    #[test]
    fn random_walk_against_model() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for side in [Side::Buy, Side::Sell] {
            let mut pool = OrderPool::default();
            let mut ladder = Ladder::new(side, 1);
            let mut live: Vec<(Price, u32)> = Vec::new();
            for step in 0..20_000 {
                let r = next();
                if live.is_empty() || r % 3 != 0 {
                    let spread = [10i64, 300, 5_000, 3_000_000, 1 << 40][(r >> 8) as usize % 5];
                    let price = 1_000_000 + (next() % (2 * spread as u64)) as i64 - spread;
                    let idx = order(&mut pool, side, price);
                    ladder.push_back(&mut pool, idx);
                    live.push((price, idx));
                } else {
                    let (_, idx) = live.swap_remove((r >> 16) as usize % live.len());
                    ladder.remove(&mut pool, idx);
                    pool.free(idx);
                }
                if step % 97 == 0 {
                    check(&ladder, side, &live);
                }
            }
            check(&ladder, side, &live);
        }
    }

    /// Levels at the extreme keys: the window must never claim a key it files as an outlier.
    #[test]
    fn extreme_prices_cancel_cleanly() {
        for side in [Side::Buy, Side::Sell] {
            let mut pool = OrderPool::default();
            let mut ladder = Ladder::new(side, 1);
            let mut live = Vec::new();
            for p in [100, i64::MAX, i64::MIN + 1, i64::MAX - 1, 101, i64::MIN + 2] {
                let idx = order(&mut pool, side, p);
                ladder.push_back(&mut pool, idx);
                live.push((p, idx));
                check(&ladder, side, &live);
            }
            while let Some((_, idx)) = live.pop() {
                ladder.remove(&mut pool, idx);
                check(&ladder, side, &live);
            }
        }
    }

    fn check(ladder: &Ladder, side: Side, live: &[(Price, u32)]) {
        let mut want: Vec<Price> = live.iter().map(|&(p, _)| p).collect();
        want.sort_unstable();
        want.dedup();
        if side == Side::Buy {
            want.reverse();
        }
        let got: Vec<Price> = ladder.iter_best_first().map(|l| l.price).collect();
        assert_eq!(got, want);
        assert_eq!(ladder.best().map(|l| l.price), want.first().copied());
        assert_eq!(ladder.len(), want.len());
        for &p in &want {
            assert_eq!(ladder.get(p).map(|l| l.price), Some(p));
        }
    }
}
