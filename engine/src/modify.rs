//! Changes to live orders: cancel, amend (with its priority rules), mass cancel.

use crate::engine::Engine;
use crate::event::{Event, EventKind, Reason};
use crate::order::Placement;
use crate::types::{AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side};

impl Engine {
    /// Looks up a live order, rejecting unknown instruments and ids.
    #[inline]
    fn live_slot(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        out: &mut Vec<Event>,
    ) -> Option<u32> {
        let Some(book) = self.books.get(instrument as usize) else {
            self.reject(out, instrument, order_id, Reason::UnknownInstrument);
            return None;
        };
        match book.index.get(order_id, &self.pool) {
            Some(idx) => Some(idx),
            None => {
                self.reject(out, instrument, order_id, Reason::UnknownOrder);
                None
            }
        }
    }

    pub(crate) fn cancel(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        out: &mut Vec<Event>,
    ) {
        // Look up and unindex in one probe of the id index.
        let Some(book) = self.books.get_mut(instrument as usize) else {
            return self.reject(out, instrument, order_id, Reason::UnknownInstrument);
        };
        match book.index.take(order_id, &self.pool) {
            Some(idx) => self.cancel_live(idx, Reason::User, false, out),
            None => self.reject(out, instrument, order_id, Reason::UnknownOrder),
        }
    }

    /// Amend. `qty` is the new total quantity. A decrease at the same price keeps
    /// time priority; a price change or an increase re-enters the order (it may
    /// trade); a quantity at or below the filled quantity cancels the rest.
    pub(crate) fn amend(
        &mut self,
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Option<Qty>,
        price: Option<Price>,
        stop_price: Option<Price>,
        out: &mut Vec<Event>,
    ) {
        let Some(idx) = self.live_slot(instrument, order_id, out) else {
            return;
        };
        let o = &self.pool[idx];
        let (old_qty, old_price, filled, waiting) =
            (o.qty, o.price, o.filled(), o.placement == Placement::Stop);
        let new_qty = qty.unwrap_or(old_qty);
        let new_price = price.unwrap_or(old_price);
        if let Err(reason) = self.validate_amend(idx, qty, price, stop_price) {
            return self.reject(out, instrument, order_id, reason);
        }
        if new_qty <= filled {
            return self.cancel_resting(idx, Reason::AmendFilled, out);
        }
        if waiting {
            return self.amend_stop(idx, new_qty, new_price, stop_price, out);
        }
        if new_price == old_price && new_qty <= old_qty {
            self.reduce_resting(idx, old_qty - new_qty);
            self.pool[idx].qty = new_qty;
            self.emit_amended(idx, out);
            return;
        }
        self.unplace(idx);
        let o = &mut self.pool[idx];
        o.price = new_price;
        o.qty = new_qty;
        o.leaves = new_qty - filled;
        self.emit_amended(idx, out);
        self.execute(idx, true, out);
        self.run_triggers(instrument, out);
    }

    fn validate_amend(
        &self,
        idx: u32,
        qty: Option<Qty>,
        price: Option<Price>,
        stop_price: Option<Price>,
    ) -> Result<(), Reason> {
        let o = &self.pool[idx];
        let book = &self.books[o.instrument as usize];
        let spec = &book.spec;
        let waiting = o.placement == Placement::Stop;
        let priced = matches!(o.order_type, OrderType::Limit | OrderType::StopLimit);
        if (qty.is_none() && price.is_none() && stop_price.is_none())
            || (price.is_some() && !priced)
            || (stop_price.is_some() && !waiting)
        {
            return Err(Reason::InvalidAmend);
        }
        if let Some(q) = qty {
            if q % spec.lot_size != 0 {
                return Err(Reason::QtyOffLot);
            }
            if q > o.filled() {
                spec.check_qty(q)?;
            }
        }
        if let Some(p) = price {
            spec.check_tick(p)?;
        }
        if let Some(s) = stop_price {
            spec.check_tick(s)?;
        }
        if let Some(p) = price {
            spec.check_band(p, book.last_trade)?;
            if o.post_only && p != o.price && book.would_take(o.side, Some(p)) {
                return Err(Reason::WouldTake);
            }
        }
        let new_qty = qty.unwrap_or(o.qty);
        let new_price = price.unwrap_or(o.price);
        let requeues = new_price != o.price || new_qty > o.qty;
        if !waiting && requeues && new_qty > o.filled() {
            let display = self.pool.display(idx);
            let slice = if display == 0 {
                new_qty - o.filled()
            } else {
                display.min(new_qty - o.filled())
            };
            let ladder = book.ladder(o.side);
            // The order leaves its own level first, so only other orders count.
            let others = ladder.get(new_price).map_or(0, |l| {
                if new_price == o.price {
                    l.visible - self.pool.visible(idx)
                } else {
                    l.visible
                }
            });
            if others.checked_add(slice).is_none() {
                return Err(Reason::Overflow);
            }
        }
        Ok(())
    }

    /// Amends a waiting stop: it keeps waiting, behind stops already at its new stop price.
    fn amend_stop(
        &mut self,
        idx: u32,
        qty: Qty,
        price: Price,
        stop_price: Option<Price>,
        out: &mut Vec<Event>,
    ) {
        self.unplace(idx);
        if let Some(s) = stop_price {
            self.pool.extra_mut(idx).stop_price = s;
        }
        let o = &mut self.pool[idx];
        o.qty = qty;
        o.leaves = qty;
        o.price = price;
        let instrument = o.instrument;
        self.emit_amended(idx, out);
        self.park_stop(idx);
        self.run_triggers(instrument, out);
    }

    fn emit_amended(&mut self, idx: u32, out: &mut Vec<Event>) {
        let mut ev = self.order_event(EventKind::Amended, idx);
        let o = &self.pool[idx];
        ev.price =
            matches!(o.order_type, OrderType::Limit | OrderType::StopLimit).then_some(o.price);
        ev.qty = o.qty;
        ev.leaves_qty = o.leaves;
        self.emit(out, ev);
    }

    /// Cancels an account's live orders (waiting stops included), optionally only
    /// in one instrument and on one side, in (instrument, order id) order.
    pub(crate) fn mass_cancel(
        &mut self,
        account: AccountId,
        instrument: Option<InstrumentId>,
        side: Option<Side>,
        out: &mut Vec<Event>,
    ) {
        if let Some(i) = instrument {
            if i as usize >= self.books.len() {
                return self.reject(out, i, 0, Reason::UnknownInstrument);
            }
        }
        let mut slots = std::mem::take(&mut self.scratch);
        slots.clear();
        slots.extend(self.account_orders(account).into_iter().filter(|&i| {
            let o = &self.pool[i];
            instrument.is_none_or(|x| x == o.instrument) && side.is_none_or(|s| s == o.side)
        }));
        for &idx in &slots {
            self.cancel_resting(idx, Reason::MassCancel, out);
        }
        self.scratch = slots;
    }
}
