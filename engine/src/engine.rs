//! The engine: instruments, accounts, the order slab, sequencing and queries.
//!
//! Command handling is split by concern: `matching` (new orders, the match
//! loop, stops), `modify` (cancel, amend, mass cancel). This file holds the
//! shared state and the small helpers they use.

use rustc_hash::FxHashMap;

use crate::book::Book;
use crate::command::Command;
use crate::event::{Event, EventKind, Reason};
use crate::instrument::{InstrumentSpec, SpecError};
use crate::order::{Order, OrderPool, Placement, NIL};
use crate::types::{
    AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side, Stp, Tif, Timestamp,
};

/// An account: its name and the head of its intrusive list of live orders.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub(crate) head: u32,
    pub(crate) open: u32,
}

/// A read-only view of one live order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub instrument: InstrumentId,
    pub order_id: OrderId,
    pub account: AccountId,
    pub side: Side,
    pub order_type: OrderType,
    pub tif: Tif,
    pub stp: Stp,
    pub post_only: bool,
    pub price: Option<Price>,
    pub stop_price: Option<Price>,
    pub qty: Qty,
    pub leaves_qty: Qty,
    pub filled_qty: Qty,
    pub display_qty: Qty,
    pub visible_qty: Qty,
    /// `"new"`, `"partially_filled"` or `"pending_trigger"` (a stop still waiting).
    pub status: &'static str,
}

/// Commands between the prefetch stages of [`Engine::process_batch`]: the
/// last stage runs this far ahead, the one before twice as far, and so on.
pub const PREFETCH_DISTANCE: usize = 4;

/// Prefetch stages [`Engine::process_batch`] issues (see [`Engine::prefetch`]).
pub const PREFETCH_STAGES: u8 = 2;

/// Below this many live orders (4 MiB of orders, with their index and
/// ladders: about the size of a core's L2 cache) [`Engine::prefetch`] does nothing.
pub const PREFETCH_MIN_ORDERS: usize = 1 << 16;

/// One depth level: `(price, shown quantity, order count)`.
pub type DepthLevel = (Price, Qty, u32);

/// A multi-instrument price-time-priority matching engine.
///
/// Deterministic: it reads no clock and no randomness, and every output is
/// ordered by data, never by hash-map iteration.
#[derive(Clone, Default)]
pub struct Engine {
    pub(crate) books: Vec<Book>,
    symbols: FxHashMap<String, InstrumentId>,
    pub(crate) accounts: Vec<Account>,
    account_ids: FxHashMap<String, AccountId>,
    pub(crate) pool: OrderPool,
    pub(crate) seq: u64,
    pub(crate) now: Timestamp,
    pub(crate) scratch: Vec<u32>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Registers an instrument; ids are dense in registration order.
    pub fn add_instrument(&mut self, spec: InstrumentSpec) -> Result<InstrumentId, SpecError> {
        spec.validate()?;
        if self.symbols.contains_key(&spec.symbol) {
            return Err(SpecError::DuplicateSymbol(spec.symbol));
        }
        let id =
            InstrumentId::try_from(self.books.len()).map_err(|_| SpecError::TooManyInstruments)?;
        self.symbols.insert(spec.symbol.clone(), id);
        self.books.push(Book::new(spec));
        Ok(id)
    }

    pub fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.symbols.get(symbol).copied()
    }

    pub fn instrument(&self, id: InstrumentId) -> Option<&InstrumentSpec> {
        self.books.get(id as usize).map(|b| &b.spec)
    }

    /// Number of registered accounts (ids are `0..account_count()`).
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    pub fn instrument_count(&self) -> usize {
        self.books.len()
    }

    /// The id of account `name`, registering it on first use.
    pub fn account_id(&mut self, name: &str) -> AccountId {
        if let Some(&id) = self.account_ids.get(name) {
            return id;
        }
        let id = self.accounts.len() as AccountId;
        self.accounts.push(Account {
            name: name.to_string(),
            head: NIL,
            open: 0,
        });
        self.account_ids.insert(name.to_string(), id);
        id
    }

    /// The id of an already known account.
    pub fn find_account(&self, name: &str) -> Option<AccountId> {
        self.account_ids.get(name).copied()
    }

    pub fn account_name(&self, id: AccountId) -> Option<&str> {
        self.accounts.get(id as usize).map(|a| a.name.as_str())
    }

    /// The seq of the last event emitted (0 before any).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Applies one command stamped `ts`, appending its events to `out`.
    pub fn process(&mut self, ts: Timestamp, cmd: &Command, out: &mut Vec<Event>) {
        self.now = ts;
        match *cmd {
            Command::Submit(ref order) => self.submit(order, out),
            Command::Cancel {
                instrument,
                order_id,
            } => self.cancel(instrument, order_id, out),
            Command::Amend {
                instrument,
                order_id,
                qty,
                price,
                stop_price,
            } => self.amend(instrument, order_id, qty, price, stop_price, out),
            Command::MassCancel {
                account,
                instrument,
                side,
            } => self.mass_cancel(account, instrument, side, out),
        }
    }

    /// Lookahead hint for a command that will be processed soon: fetches the
    /// memory it will touch, in three stages, each reading what the previous
    /// one fetched (issue them a few commands apart, stage 0 furthest ahead):
    ///
    /// 0. the id-index line its order id hashes to;
    /// 1. a cancel's or amend's order; for a new order, its account's newest
    ///    order (the account list is linked through it) and, if it crosses,
    ///    the first order it would trade with;
    /// 2. the neighbours the command will relink: queue and account-list
    ///    neighbours of the order it cancels or amends, or of that first
    ///    maker (and the maker's index line).
    ///
    /// [`Engine::process_batch`] issues the first [`PREFETCH_STAGES`] of
    /// them (stage 2 measured no better than none: cancels and filled makers
    /// fetch their neighbours themselves as soon as they know them).
    ///
    /// Reads state, never changes it: events and state are the same with or
    /// without hints. Stale or wrong guesses only cost a wasted fetch. Does
    /// nothing while the engine holds fewer than [`PREFETCH_MIN_ORDERS`] orders.
    #[inline]
    pub fn prefetch(&self, cmd: &Command, stage: u8) {
        if self.pool.live() < PREFETCH_MIN_ORDERS {
            // Everything is in cache already: hints would only cost time.
            return;
        }
        let (instrument, order_id) = match *cmd {
            Command::Submit(ref o) => (o.instrument, o.order_id),
            Command::Cancel {
                instrument,
                order_id,
            }
            | Command::Amend {
                instrument,
                order_id,
                ..
            } => (instrument, order_id),
            Command::MassCancel { .. } => return,
        };
        let Some(book) = self.books.get(instrument as usize) else {
            return;
        };
        if stage == 0 {
            return book.index.prefetch(order_id);
        }
        let target = match *cmd {
            Command::Submit(ref o) => {
                if stage == 1 {
                    if let Some(a) = self.accounts.get(o.account as usize) {
                        self.pool.prefetch(a.head);
                    }
                }
                let limit = matches!(o.order_type, OrderType::Limit | OrderType::StopLimit)
                    .then_some(o.price);
                match book.ladder(o.side.opposite()).best() {
                    Some(l)
                        if matches!(o.order_type, OrderType::Limit | OrderType::Market)
                            && Book::crosses(o.side, limit, l.price) =>
                    {
                        l.head
                    }
                    _ => return,
                }
            }
            _ => match book.index.probable_slot(order_id) {
                Some(slot) => slot,
                None => return,
            },
        };
        if stage == 1 {
            return self.pool.prefetch(target);
        }
        let o = self.pool.get(target);
        if let Some(o) = o {
            for link in [o.prev, o.next, o.acct_prev, o.acct_next] {
                self.pool.prefetch(link);
            }
            if !matches!(cmd, Command::Cancel { .. } | Command::Amend { .. }) {
                book.index.prefetch(o.order_id);
            }
        }
    }

    /// Applies `cmds` in order, command `i` stamped `ts(i)`, handing each
    /// command's events to `sink(i, events)` (collected in `buf`, which is
    /// cleared before every command). The same events and state as calling
    /// [`Engine::process`] for each command; in addition it prefetches the
    /// id-index lines and orders the next commands will touch
    /// ([`Engine::prefetch`]), so that their cache misses overlap with the
    /// work on the current one.
    #[inline]
    pub fn process_batch(
        &mut self,
        cmds: &[Command],
        mut ts: impl FnMut(usize) -> Timestamp,
        buf: &mut Vec<Event>,
        mut sink: impl FnMut(usize, &[Event]),
    ) {
        for (i, cmd) in cmds.iter().enumerate() {
            if self.pool.live() >= PREFETCH_MIN_ORDERS {
                for stage in 0..PREFETCH_STAGES {
                    let ahead = usize::from(PREFETCH_STAGES - stage) * PREFETCH_DISTANCE;
                    if let Some(c) = cmds.get(i + ahead) {
                        self.prefetch(c, stage);
                    }
                }
            }
            buf.clear();
            self.process(ts(i), cmd, buf);
            sink(i, buf);
        }
    }

    // ---- shared helpers -------------------------------------------------

    /// Stamps `ev` with the next seq and the command time and appends it.
    #[inline]
    pub(crate) fn emit(&mut self, out: &mut Vec<Event>, mut ev: Event) {
        self.seq += 1;
        ev.seq = self.seq;
        ev.ts = self.now;
        out.push(ev);
    }

    #[inline]
    pub(crate) fn reject(
        &mut self,
        out: &mut Vec<Event>,
        instrument: InstrumentId,
        order_id: OrderId,
        reason: Reason,
    ) {
        let mut ev = Event::new(EventKind::Rejected, instrument, order_id);
        ev.reason = reason;
        self.emit(out, ev);
    }

    /// An event about order slot `idx`, with its identity filled in.
    #[inline]
    pub(crate) fn order_event(&self, kind: EventKind, idx: u32) -> Event {
        let o = &self.pool[idx];
        let mut ev = Event::new(kind, o.instrument, o.order_id);
        ev.side = o.side;
        ev.account = o.account;
        ev
    }

    /// Emits `cancelled` for `qty` of order `idx` (leaves as the order now holds).
    #[inline]
    pub(crate) fn emit_cancel(&mut self, out: &mut Vec<Event>, idx: u32, qty: Qty, reason: Reason) {
        let mut ev = self.order_event(EventKind::Cancelled, idx);
        let o = &self.pool[idx];
        ev.reason = reason;
        ev.qty = qty;
        ev.leaves_qty = o.leaves;
        ev.price =
            matches!(o.order_type, OrderType::Limit | OrderType::StopLimit).then_some(o.price);
        self.emit(out, ev);
    }

    /// Makes order `idx` findable: order-id index and account list.
    #[inline]
    pub(crate) fn register(&mut self, idx: u32) {
        let (instrument, order_id, account) = {
            let o = &self.pool[idx];
            (o.instrument, o.order_id, o.account)
        };
        self.books[instrument as usize]
            .index
            .insert(order_id, idx, &self.pool);
        let acct = &mut self.accounts[account as usize];
        let head = acct.head;
        acct.head = idx;
        acct.open += 1;
        self.pool[idx].acct_prev = NIL;
        self.pool[idx].acct_next = head;
        if head != NIL {
            self.pool[head].acct_prev = idx;
        }
    }

    /// Forgets order `idx` (already out of ladder and stop book) and frees its slot.
    #[inline]
    pub(crate) fn retire(&mut self, idx: u32, registered: bool) {
        if registered {
            let o = &self.pool[idx];
            let (instrument, order_id) = (o.instrument, o.order_id);
            self.books[instrument as usize].index.remove(order_id, idx);
            self.unlist(idx);
        }
        self.pool.free(idx);
    }

    /// Takes order `idx` out of its account's list.
    #[inline]
    pub(crate) fn unlist(&mut self, idx: u32) {
        let o = &self.pool[idx];
        let (account, prev, next) = (o.account, o.acct_prev, o.acct_next);
        if prev == NIL {
            self.accounts[account as usize].head = next;
        } else {
            self.pool[prev].acct_next = next;
        }
        if next != NIL {
            self.pool[next].acct_prev = prev;
        }
        self.accounts[account as usize].open -= 1;
    }

    /// Takes order `idx` out of wherever it waits (ladder or stop book).
    #[inline]
    pub(crate) fn unplace(&mut self, idx: u32) {
        let o = &self.pool[idx];
        let (instrument, side, placement) = (o.instrument, o.side, o.placement);
        let book = &mut self.books[instrument as usize];
        match placement {
            Placement::Book => book.ladder_mut(side).remove(&mut self.pool, idx),
            Placement::Stop => {
                let stop_price = self.pool.stop_price(idx);
                book.stops.remove(side, stop_price, idx)
            }
        }
    }

    // ---- queries ----------------------------------------------------------

    /// Best bid and best offer as `(price, shown qty)`.
    #[allow(clippy::type_complexity)]
    pub fn bbo(
        &self,
        instrument: InstrumentId,
    ) -> Option<(Option<(Price, Qty)>, Option<(Price, Qty)>)> {
        let book = self.books.get(instrument as usize)?;
        let best = |side| {
            book.ladder(side)
                .best()
                .map(|l: &crate::level::Level| (l.price, l.visible))
        };
        Some((best(Side::Buy), best(Side::Sell)))
    }

    /// Up to `levels` levels per side, best first.
    pub fn depth(
        &self,
        instrument: InstrumentId,
        levels: usize,
    ) -> Option<(Vec<DepthLevel>, Vec<DepthLevel>)> {
        let book = self.books.get(instrument as usize)?;
        let side = |s| {
            book.ladder(s)
                .iter_best_first()
                .take(levels)
                .map(|l| (l.price, l.visible, l.count))
                .collect::<Vec<_>>()
        };
        Some((side(Side::Buy), side(Side::Sell)))
    }

    pub fn last_trade_price(&self, instrument: InstrumentId) -> Option<Price> {
        self.books.get(instrument as usize)?.last_trade
    }

    fn view(&self, idx: u32) -> OrderView {
        let o: &Order = &self.pool[idx];
        let has_price = matches!(o.order_type, OrderType::Limit | OrderType::StopLimit);
        let waiting = o.placement == Placement::Stop;
        OrderView {
            instrument: o.instrument,
            order_id: o.order_id,
            account: o.account,
            side: o.side,
            order_type: o.order_type,
            tif: o.tif,
            stp: o.stp,
            post_only: o.post_only,
            price: has_price.then_some(o.price),
            stop_price: waiting.then_some(self.pool.stop_price(idx)),
            qty: o.qty,
            leaves_qty: o.leaves,
            filled_qty: o.filled(),
            display_qty: self.pool.display(idx),
            visible_qty: self.pool.visible(idx),
            status: if waiting {
                "pending_trigger"
            } else if o.filled() > 0 {
                "partially_filled"
            } else {
                "new"
            },
        }
    }

    /// A live order (resting or waiting stop); `None` once it is filled or cancelled.
    pub fn order(&self, instrument: InstrumentId, order_id: OrderId) -> Option<OrderView> {
        let idx = self
            .books
            .get(instrument as usize)?
            .index
            .get(order_id, &self.pool)?;
        Some(self.view(idx))
    }

    /// Slots of an account's live orders, sorted by (instrument, order id).
    pub(crate) fn account_orders(&self, account: AccountId) -> Vec<u32> {
        let mut out = Vec::new();
        let Some(acct) = self.accounts.get(account as usize) else {
            return out;
        };
        let mut idx = acct.head;
        while idx != NIL {
            out.push(idx);
            idx = self.pool[idx].acct_next;
        }
        out.sort_unstable_by_key(|&i| (self.pool[i].instrument, self.pool[i].order_id));
        out
    }

    /// An account's live orders, sorted by (instrument, order id).
    pub fn open_orders(&self, account: AccountId) -> Vec<OrderView> {
        self.account_orders(account)
            .into_iter()
            .map(|i| self.view(i))
            .collect()
    }

    /// Number of live orders (resting and waiting stops) in all books.
    pub fn live_orders(&self) -> usize {
        self.pool.live()
    }

    /// Heap bytes held by orders, ladders and indexes (capacity, not just use).
    pub fn heap_bytes(&self) -> usize {
        self.pool.heap_bytes() + self.books.iter().map(Book::heap_bytes).sum::<usize>()
    }

    /// Pre-sizes the order slab for `n` orders.
    pub fn reserve_orders(&mut self, n: usize) {
        self.pool.reserve(n);
    }
}
