//! `check_invariants()`: every structural rule of the engine, checked from scratch.

use std::collections::HashSet;

use crate::book::Book;
use crate::engine::Engine;
use crate::order::{Placement, NIL};
use crate::types::{OrderType, Side, Tif};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

impl Engine {
    /// Verifies every internal invariant; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen = HashSet::new();
        for (id, book) in self.books.iter().enumerate() {
            self.check_book(id as u32, book, &mut seen)?;
        }
        ensure!(
            seen.len() == self.pool.live(),
            "slab holds {} live orders, books reach {}",
            self.pool.live(),
            seen.len()
        );
        let mut listed = 0usize;
        for (aid, acct) in self.accounts.iter().enumerate() {
            let (mut idx, mut prev, mut n) = (acct.head, NIL, 0u32);
            while idx != NIL {
                let o = &self.pool[idx];
                ensure!(
                    seen.contains(&idx),
                    "account {} lists a dead order slot {idx}",
                    acct.name
                );
                ensure!(
                    o.account as usize == aid,
                    "order {} in the wrong account list",
                    o.order_id
                );
                ensure!(
                    o.acct_prev == prev,
                    "account list back link broken at order {}",
                    o.order_id
                );
                prev = idx;
                idx = o.acct_next;
                n += 1;
            }
            ensure!(
                n == acct.open,
                "account {} counts {} open orders, lists {n}",
                acct.name,
                acct.open
            );
            listed += n as usize;
        }
        ensure!(
            listed == seen.len(),
            "account lists hold {listed} orders, books {}",
            seen.len()
        );
        Ok(())
    }

    fn check_book(&self, id: u32, book: &Book, seen: &mut HashSet<u32>) -> Result<(), String> {
        let sym = &book.spec.symbol;
        let mut in_book = 0usize;
        for side in [Side::Buy, Side::Sell] {
            let mut prev_price = None;
            for level in book.ladder(side).iter_best_first() {
                if let Some(p) = prev_price {
                    let better = if side == Side::Buy {
                        p > level.price
                    } else {
                        p < level.price
                    };
                    ensure!(
                        better,
                        "{sym} {side} levels out of order at {}",
                        level.price
                    );
                }
                prev_price = Some(level.price);
                ensure!(level.count > 0, "{sym} empty level at {}", level.price);
                let (mut idx, mut prev, mut n, mut shown) = (level.head, NIL, 0u32, 0u64);
                while idx != NIL {
                    let o = &self.pool[idx];
                    let (visible, display) = (self.pool.visible(idx), self.pool.display(idx));
                    ensure!(seen.insert(idx), "{sym} order slot {idx} reached twice");
                    ensure!(
                        o.instrument == id && o.side == side,
                        "{sym} order {} on the wrong book or side",
                        o.order_id
                    );
                    ensure!(
                        o.price == level.price,
                        "{sym} order {} at {} in level {}",
                        o.order_id,
                        o.price,
                        level.price
                    );
                    ensure!(
                        o.prev == prev,
                        "{sym} queue back link broken at order {}",
                        o.order_id
                    );
                    ensure!(
                        o.placement == Placement::Book,
                        "{sym} order {} placement",
                        o.order_id
                    );
                    ensure!(
                        visible > 0 && visible <= o.leaves,
                        "{sym} order {} shows {} of {}",
                        o.order_id,
                        visible,
                        o.leaves
                    );
                    ensure!(
                        display == 0 || visible <= display,
                        "{sym} iceberg {} shows more than its display",
                        o.order_id
                    );
                    ensure!(
                        display != 0 || visible == o.leaves,
                        "{sym} order {} hides quantity",
                        o.order_id
                    );
                    ensure!(
                        o.leaves <= o.qty,
                        "{sym} order {} leaves exceed qty",
                        o.order_id
                    );
                    ensure!(
                        o.tif == Tif::Gtc
                            && matches!(o.order_type, OrderType::Limit | OrderType::StopLimit),
                        "{sym} order {} cannot rest",
                        o.order_id
                    );
                    ensure!(
                        book.index.get(o.order_id, &self.pool) == Some(idx),
                        "{sym} order {} not indexed",
                        o.order_id
                    );
                    shown += visible;
                    n += 1;
                    prev = idx;
                    idx = o.next;
                }
                ensure!(level.tail == prev, "{sym} level {} tail link", level.price);
                ensure!(
                    n == level.count,
                    "{sym} level {} counts {} orders, holds {n}",
                    level.price,
                    level.count
                );
                ensure!(
                    shown == level.visible,
                    "{sym} level {} shows {} but orders show {shown}",
                    level.price,
                    level.visible
                );
                in_book += n as usize;
            }
        }
        if let (Some(bid), Some(ask)) = (book.bids.best(), book.asks.best()) {
            ensure!(
                bid.price < ask.price,
                "{sym} crossed book: bid {} >= ask {}",
                bid.price,
                ask.price
            );
        }
        for (side, stop, _, idx) in book.stops.iter() {
            let o = &self.pool[idx];
            ensure!(seen.insert(idx), "{sym} stop slot {idx} reached twice");
            ensure!(
                o.placement == Placement::Stop
                    && o.side == side
                    && o.has_extra
                    && self.pool.stop_price(idx) == stop
                    && self.pool.visible(idx) == 0,
                "{sym} stop {} misfiled",
                o.order_id
            );
            ensure!(
                matches!(o.order_type, OrderType::Stop | OrderType::StopLimit),
                "{sym} non-stop {} waits",
                o.order_id
            );
            ensure!(
                o.leaves == o.qty,
                "{sym} waiting stop {} has fills",
                o.order_id
            );
            ensure!(
                book.index.get(o.order_id, &self.pool) == Some(idx),
                "{sym} stop {} not indexed",
                o.order_id
            );
            if let Some(last) = book.last_trade {
                let due = if side == Side::Buy {
                    last >= stop
                } else {
                    last <= stop
                };
                ensure!(
                    !due,
                    "{sym} stop {} should have triggered (stop {stop}, last {last})",
                    o.order_id
                );
            }
            in_book += 1;
        }
        ensure!(
            book.index.len() == in_book,
            "{sym} index holds {} ids, book {in_book}",
            book.index.len()
        );
        Ok(())
    }
}
