//! New orders: validation, the price-time match loop, self-trade prevention,
//! resting, and stop triggering.

use crate::book::Book;
use crate::command::NewOrder;
use crate::engine::Engine;
use crate::event::{Event, EventKind, Reason};
use crate::order::{Extra, Order, Placement, NIL};
use crate::types::{InstrumentId, OrderType, Price, Qty, Stp, Tif};

/// How the match loop ended for the taker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// Filled, or out of crossing liquidity; `leaves` tells which.
    Done,
    /// Self-trade prevention cancelled the taker's remainder.
    Cancelled,
}

impl Engine {
    /// Order-entry checks, in a fixed order so the first failing rule names the reason.
    fn validate_new(&self, book: &Book, o: &NewOrder) -> Result<(), Reason> {
        if o.account as usize >= self.accounts.len() {
            return Err(Reason::InvalidCommand);
        }
        if book.index.contains(o.order_id, &self.pool) {
            return Err(Reason::DuplicateOrderId);
        }
        let rests =
            matches!(o.order_type, OrderType::Limit | OrderType::StopLimit) && o.tif == Tif::Gtc;
        if o.post_only && (o.order_type != OrderType::Limit || o.tif != Tif::Gtc) {
            return Err(Reason::InvalidOrder);
        }
        let spec = &book.spec;
        spec.check_qty(o.qty)?;
        if o.display_qty != 0
            && (!rests || o.display_qty > o.qty || !o.display_qty.is_multiple_of(spec.lot_size))
        {
            return Err(Reason::InvalidDisplay);
        }
        let has_price = matches!(o.order_type, OrderType::Limit | OrderType::StopLimit);
        if has_price {
            spec.check_tick(o.price)?;
        }
        if matches!(o.order_type, OrderType::Stop | OrderType::StopLimit) {
            spec.check_tick(o.stop_price)?;
        }
        if has_price {
            spec.check_band(o.price, book.last_trade)?;
        }
        if o.post_only && book.would_take(o.side, Some(o.price)) {
            return Err(Reason::WouldTake);
        }
        let first_slice = if o.display_qty == 0 {
            o.qty
        } else {
            o.display_qty
        };
        if rests && book.ladder(o.side).would_overflow(o.price, first_slice) {
            return Err(Reason::Overflow);
        }
        Ok(())
    }

    pub(crate) fn submit(&mut self, o: &NewOrder, out: &mut Vec<Event>) {
        let Some(book) = self.books.get(o.instrument as usize) else {
            return self.reject(out, o.instrument, o.order_id, Reason::UnknownInstrument);
        };
        if self.pool.live() >= crate::engine::PREFETCH_MIN_ORDERS
            && o.order_type == OrderType::Limit
        {
            // A large book: start the fetch of the order this one would queue
            // behind now, so that it overlaps the id-index probe below.
            if let Some(level) = book.ladder(o.side).get(o.price) {
                self.pool.prefetch(level.tail);
            }
        }
        if let Err(reason) = self.validate_new(book, o) {
            return self.reject(out, o.instrument, o.order_id, reason);
        }
        let is_stop = matches!(o.order_type, OrderType::Stop | OrderType::StopLimit);
        let idx = self.pool.alloc_with(
            Order {
                order_id: o.order_id,
                price: if matches!(o.order_type, OrderType::Limit | OrderType::StopLimit) {
                    o.price
                } else {
                    0
                },
                qty: o.qty,
                leaves: o.qty,
                prev: NIL,
                next: NIL,
                acct_prev: NIL,
                acct_next: NIL,
                account: o.account,
                instrument: o.instrument,
                side: o.side,
                order_type: o.order_type,
                tif: o.tif,
                stp: o.stp,
                post_only: o.post_only,
                placement: Placement::Book,
                has_extra: false,
            },
            Extra {
                stop_price: if is_stop { o.stop_price } else { 0 },
                display: o.display_qty,
                visible: 0,
            },
        );
        let mut ev = self.order_event(EventKind::Accepted, idx);
        ev.qty = o.qty;
        ev.leaves_qty = o.qty;
        ev.price =
            matches!(o.order_type, OrderType::Limit | OrderType::StopLimit).then_some(o.price);
        self.emit(out, ev);

        if is_stop {
            self.register(idx);
            self.park_stop(idx);
        } else {
            self.execute(idx, false, out);
        }
        self.run_triggers(o.instrument, out);
    }

    /// Puts stop `idx` in its book's stop book; its arrival is the current seq.
    pub(crate) fn park_stop(&mut self, idx: u32) {
        let arrival = self.seq;
        let stop = self.pool.stop_price(idx);
        let o = &mut self.pool[idx];
        o.placement = Placement::Stop;
        let (instrument, side) = (o.instrument, o.side);
        self.books[instrument as usize]
            .stops
            .insert(side, stop, arrival, idx);
    }

    /// Runs order `idx` (not in any ladder) as a taker, then rests, cancels or
    /// retires it. `registered` says whether it is already in index and account list.
    pub(crate) fn execute(&mut self, idx: u32, registered: bool, out: &mut Vec<Event>) {
        let (side, order_type, tif, qty) = {
            let o = &self.pool[idx];
            (o.side, o.order_type, o.tif, o.leaves)
        };
        let limit = match order_type {
            OrderType::Limit | OrderType::StopLimit => Some(self.pool[idx].price),
            OrderType::Market | OrderType::Stop => None,
        };
        if tif == Tif::Fok && !self.fok_fillable(idx, limit, qty) {
            let leaves = self.pool[idx].leaves;
            self.pool[idx].leaves = 0;
            self.emit_cancel(out, idx, leaves, Reason::Fok);
            return self.retire(idx, registered);
        }
        if self.match_taker(idx, limit, out) == Taken::Cancelled {
            return self.retire(idx, registered);
        }
        let leaves = self.pool[idx].leaves;
        if leaves == 0 {
            return self.retire(idx, registered);
        }
        let mut rests = limit.is_some() && tif == Tif::Gtc;
        // Entry checks guard new limit orders and amends; a triggered stop-limit
        // meets its level only now, so only it is checked here (keeps the lookup
        // off the common resting path), and an overflowing remainder is cancelled.
        let overflows = rests && order_type == OrderType::StopLimit && {
            let o = &self.pool[idx];
            self.books[o.instrument as usize]
                .ladder(side)
                .would_overflow(o.price, self.pool.slice(idx))
        };
        rests &= !overflows;
        if rests {
            let slice = self.pool.slice(idx);
            self.pool.set_visible(idx, slice);
            let o = &mut self.pool[idx];
            o.placement = Placement::Book;
            let instrument = o.instrument;
            self.books[instrument as usize]
                .ladder_mut(side)
                .push_back(&mut self.pool, idx);
            if !registered {
                self.register(idx);
            }
        } else {
            let reason = if overflows {
                Reason::Overflow
            } else if limit.is_none() {
                Reason::NoLiquidity
            } else {
                Reason::Ioc
            };
            self.pool[idx].leaves = 0;
            self.emit_cancel(out, idx, leaves, reason);
            self.retire(idx, registered);
        }
    }

    /// Fill-or-kill feasibility. Self orders are skipped under `cancel_oldest`
    /// (they would be cancelled); under the other STP modes a self order at any
    /// level the order would reach makes it unfillable.
    fn fok_fillable(&self, idx: u32, limit: Option<Price>, qty: Qty) -> bool {
        let t = &self.pool[idx];
        let book = &self.books[t.instrument as usize];
        let mut need = qty;
        for level in book.ladder(t.side.opposite()).iter_best_first() {
            if !Book::crosses(t.side, limit, level.price) {
                break;
            }
            let mut available: Qty = 0;
            let mut m = level.head;
            while m != NIL {
                let maker = &self.pool[m];
                if t.stp != Stp::None && maker.account == t.account {
                    if t.stp != Stp::CancelOldest {
                        return false;
                    }
                } else {
                    available = available.saturating_add(maker.leaves);
                }
                m = maker.next;
            }
            if available >= need {
                return true;
            }
            need -= available;
        }
        false
    }

    /// The price-time match loop of taker `idx` against the opposite ladder.
    fn match_taker(&mut self, idx: u32, limit: Option<Price>, out: &mut Vec<Event>) -> Taken {
        let (instrument, side, account, stp) = {
            let t = &self.pool[idx];
            (t.instrument, t.side, t.account, t.stp)
        };
        let opposite = side.opposite();
        while self.pool[idx].leaves > 0 {
            let book = &mut self.books[instrument as usize];
            let Some(level) = book.ladder_mut(opposite).best_mut() else {
                break;
            };
            let price = level.price;
            if !Book::crosses(side, limit, price) {
                break;
            }
            let maker = level.head;
            if stp != Stp::None && self.pool[maker].account == account {
                if self.prevent_self_trade(idx, maker, stp, out) == Taken::Cancelled {
                    return Taken::Cancelled;
                }
                continue;
            }
            let maker_visible = self.pool.visible(maker);
            let fill = self.pool[idx].leaves.min(maker_visible);
            if fill == self.pool[maker].leaves {
                // The maker leaves the book: fetch the neighbours it will relink.
                self.pool.prefetch_links(maker);
            }
            level.visible -= fill;
            let m = &mut self.pool[maker];
            m.leaves -= fill;
            let (maker_leaves, maker_id, maker_account, maker_extra) =
                (m.leaves, m.order_id, m.account, m.has_extra);
            let maker_visible = maker_visible - fill;
            if maker_extra {
                self.pool.extra_mut(maker).visible = maker_visible;
            }
            self.pool[idx].leaves -= fill;
            book.last_trade = Some(price);

            let mut ev = self.order_event(EventKind::Trade, idx);
            ev.price = Some(price);
            ev.qty = fill;
            ev.leaves_qty = self.pool[idx].leaves;
            ev.maker_order_id = maker_id;
            ev.maker_account = maker_account;
            ev.maker_leaves_qty = maker_leaves;
            self.emit(out, ev);

            if maker_visible == 0 {
                let ladder = self.books[instrument as usize].ladder_mut(opposite);
                if maker_leaves == 0 {
                    ladder.remove(&mut self.pool, maker);
                    self.retire(maker, true);
                } else {
                    // Iceberg refill: a new slice at the back of the queue.
                    ladder.remove(&mut self.pool, maker);
                    let slice = self.pool.slice(maker);
                    self.pool.set_visible(maker, slice);
                    ladder.push_back(&mut self.pool, maker);
                }
            }
        }
        Taken::Done
    }

    /// Applies `stp` when taker `t` meets its own resting order `m`.
    fn prevent_self_trade(&mut self, t: u32, m: u32, stp: Stp, out: &mut Vec<Event>) -> Taken {
        let (tl, ml) = (self.pool[t].leaves, self.pool[m].leaves);
        let (cancel_taker, cancel_maker) = match stp {
            Stp::None => unreachable!("no prevention requested"),
            Stp::CancelNewest => (true, false),
            Stp::CancelOldest => (false, true),
            Stp::CancelBoth => (true, true),
            Stp::Decrement => (tl <= ml, ml <= tl),
        };
        if cancel_maker {
            self.cancel_resting(m, Reason::SelfTrade, out);
        } else if stp == Stp::Decrement {
            // Maker is larger: it keeps its place, smaller by the taker's size.
            self.reduce_resting(m, tl);
            self.emit_cancel(out, m, tl, Reason::SelfTrade);
        }
        if cancel_taker {
            self.pool[t].leaves = 0;
            self.emit_cancel(out, t, tl, Reason::SelfTrade);
            return Taken::Cancelled;
        }
        if stp == Stp::Decrement {
            // Reduced, not filled: the total shrinks with the open quantity.
            self.pool[t].qty -= ml;
            self.pool[t].leaves -= ml;
            self.emit_cancel(out, t, ml, Reason::SelfTrade);
        }
        Taken::Done
    }

    /// Removes a resting order entirely, reporting the cancelled remainder.
    #[inline]
    pub(crate) fn cancel_resting(&mut self, idx: u32, reason: Reason, out: &mut Vec<Event>) {
        self.cancel_live(idx, reason, true, out);
    }

    /// [`Engine::cancel_resting`], for an order still in the id index
    /// (`indexed`) or already taken out of it ([`OrderIndex::take`]).
    ///
    /// [`OrderIndex::take`]: crate::index::OrderIndex::take
    #[inline]
    pub(crate) fn cancel_live(
        &mut self,
        idx: u32,
        reason: Reason,
        indexed: bool,
        out: &mut Vec<Event>,
    ) {
        // The four neighbours to relink are independent loads: start them all now.
        self.pool.prefetch_links(idx);
        self.unplace(idx);
        let leaves = self.pool[idx].leaves;
        self.pool[idx].leaves = 0;
        self.emit_cancel(out, idx, leaves, reason);
        if indexed {
            self.retire(idx, true);
        } else {
            self.unlist(idx);
            self.pool.free(idx);
        }
    }

    /// Lowers a resting order's total and open quantity by `by` (< leaves),
    /// keeping its priority and its filled quantity.
    pub(crate) fn reduce_resting(&mut self, idx: u32, by: Qty) {
        let shown = self.pool.visible(idx);
        let o = &mut self.pool[idx];
        o.qty -= by;
        o.leaves -= by;
        let shown_cut = shown.saturating_sub(o.leaves);
        if o.placement == Placement::Book && shown_cut > 0 {
            let (instrument, side) = (o.instrument, o.side);
            self.books[instrument as usize]
                .ladder_mut(side)
                .reduce_visible(&mut self.pool, idx, shown_cut);
        }
    }

    /// Triggers waiting stops of `instrument` while the last trade reaches them.
    /// Runs after every new order and amend: the common "no stops" case is an
    /// inlined check, the loop stays out of line.
    #[inline(always)]
    pub(crate) fn run_triggers(&mut self, instrument: InstrumentId, out: &mut Vec<Event>) {
        if self.books[instrument as usize].stops.is_empty() {
            return;
        }
        self.trigger_stops(instrument, out);
    }

    #[inline(never)]
    fn trigger_stops(&mut self, instrument: InstrumentId, out: &mut Vec<Event>) {
        loop {
            let book = &self.books[instrument as usize];
            if book.stops.is_empty() {
                return;
            }
            let Some(last) = book.last_trade else {
                return;
            };
            let Some((side, idx)) = book.stops.next_triggered(last) else {
                return;
            };
            let stop_price = self.pool.stop_price(idx);
            self.books[instrument as usize]
                .stops
                .remove(side, stop_price, idx);
            self.pool[idx].placement = Placement::Book;
            let mut ev = self.order_event(EventKind::Triggered, idx);
            ev.price = Some(stop_price);
            ev.qty = self.pool[idx].qty;
            ev.leaves_qty = self.pool[idx].leaves;
            self.emit(out, ev);
            self.execute(idx, true, out);
        }
    }
}
