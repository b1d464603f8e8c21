//! Scenario tests: short scripts against the engine, one rule of
//! `docs/semantics.md` at a time (Liquibook style).
//!
//! Every step goes through [`Script::run`], which checks that seqs continue by
//! one, that every event carries the command's timestamp, and that
//! `check_invariants()` holds.

use pyengine_core::{
    AccountId, Command, Engine, Event, EventKind, InstrumentId, InstrumentSpec, NewOrder, OrderId,
    OrderType, Price, Qty, Reason, Side, Stp, Tif,
};

use Side::{Buy, Sell};

const ALICE: AccountId = 0;
const BOB: AccountId = 1;
const CAROL: AccountId = 2;
const DAVE: AccountId = 3;

/// The instrument every `Script` starts with.
const X: InstrumentId = 0;

// ---- compact event notation ----------------------------------------------

/// The essentials of one event, for readable expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    /// `accepted` for order id.
    Acc(OrderId),
    /// `rejected` (order id, reason).
    Rej(OrderId, Reason),
    /// `trade` (taker, maker, price, qty).
    Trade(OrderId, OrderId, Price, Qty),
    /// `cancelled` (order id, cancelled qty, reason).
    Cxl(OrderId, Qty, Reason),
    /// `amended` (order id, new total qty, leaves).
    Amd(OrderId, Qty, Qty),
    /// `triggered` (order id, stop price).
    Trig(OrderId, Price),
}

use Ev::{Acc, Amd, Cxl, Rej, Trade, Trig};

fn project(e: &Event) -> Ev {
    match e.kind {
        EventKind::Accepted => Acc(e.order_id),
        EventKind::Rejected => Rej(e.order_id, e.reason),
        EventKind::Trade => Trade(
            e.order_id,
            e.maker_order_id,
            e.price.expect("trade price"),
            e.qty,
        ),
        EventKind::Cancelled => Cxl(e.order_id, e.qty, e.reason),
        EventKind::Amended => Amd(e.order_id, e.qty, e.leaves_qty),
        EventKind::Triggered => Trig(e.order_id, e.price.expect("stop price")),
    }
}

// ---- order builders ---------------------------------------------------------

fn limit(id: OrderId, acct: AccountId, side: Side, qty: Qty, price: Price) -> NewOrder {
    NewOrder::limit(X, id, acct, side, qty, price)
}

fn market(id: OrderId, acct: AccountId, side: Side, qty: Qty) -> NewOrder {
    NewOrder::market(X, id, acct, side, qty)
}

/// A stop (market) order, GTC.
fn stop(id: OrderId, acct: AccountId, side: Side, qty: Qty, stop_price: Price) -> NewOrder {
    NewOrder {
        order_type: OrderType::Stop,
        tif: Tif::Gtc,
        stop_price,
        ..market(id, acct, side, qty)
    }
}

/// A stop-limit order, GTC.
fn stop_limit(
    id: OrderId,
    acct: AccountId,
    side: Side,
    qty: Qty,
    price: Price,
    stop_price: Price,
) -> NewOrder {
    NewOrder {
        order_type: OrderType::StopLimit,
        stop_price,
        ..limit(id, acct, side, qty, price)
    }
}

/// Fluent tweaks of a `NewOrder`.
trait Tweak {
    fn on(self, instrument: InstrumentId) -> Self;
    fn tif(self, tif: Tif) -> Self;
    fn ioc(self) -> Self;
    fn fok(self) -> Self;
    fn stp(self, stp: Stp) -> Self;
    fn display(self, display_qty: Qty) -> Self;
    fn post_only(self) -> Self;
}

impl Tweak for NewOrder {
    fn on(self, instrument: InstrumentId) -> Self {
        NewOrder { instrument, ..self }
    }
    fn tif(self, tif: Tif) -> Self {
        NewOrder { tif, ..self }
    }
    fn ioc(self) -> Self {
        self.tif(Tif::Ioc)
    }
    fn fok(self) -> Self {
        self.tif(Tif::Fok)
    }
    fn stp(self, stp: Stp) -> Self {
        NewOrder { stp, ..self }
    }
    fn display(self, display_qty: Qty) -> Self {
        NewOrder {
            display_qty,
            ..self
        }
    }
    fn post_only(self) -> Self {
        NewOrder {
            post_only: true,
            ..self
        }
    }
}

// ---- the script -------------------------------------------------------------

/// An engine plus the events of the last step, with checks after every step.
struct Script {
    eng: Engine,
    ts: u64,
    last: Vec<Event>,
    log: Vec<Event>,
}

impl Script {
    /// One instrument `ACME` (tick 1, lot 1, unbounded) and four accounts.
    fn new() -> Script {
        Script::with_spec(InstrumentSpec::new("ACME", 1, 1))
    }

    fn with_spec(spec: InstrumentSpec) -> Script {
        let mut eng = Engine::new();
        assert_eq!(eng.add_instrument(spec).unwrap(), X);
        for (i, name) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
            assert_eq!(eng.account_id(name), i as AccountId);
        }
        Script {
            eng,
            ts: 1_000,
            last: Vec::new(),
            log: Vec::new(),
        }
    }

    fn add_instrument(&mut self, spec: InstrumentSpec) -> InstrumentId {
        self.eng.add_instrument(spec).unwrap()
    }

    /// Sets the timestamp of the next command.
    fn at(&mut self, ts: u64) -> &mut Self {
        self.ts = ts;
        self
    }

    /// Applies one command and checks seq, ts and the invariants.
    fn run(&mut self, cmd: Command) -> &mut Self {
        let ts = self.ts;
        self.ts += 1;
        let before = self.eng.seq();
        let mut out = Vec::new();
        self.eng.process(ts, &cmd, &mut out);
        for (i, e) in out.iter().enumerate() {
            assert_eq!(e.seq, before + 1 + i as u64, "seq gap in {out:#?}");
            assert_eq!(e.ts, ts, "ts not copied in {e:?}");
        }
        assert_eq!(self.eng.seq(), before + out.len() as u64);
        if let Err(msg) = self.eng.check_invariants() {
            panic!("invariant broken after {cmd:?}: {msg}\nevents: {out:#?}");
        }
        self.log.extend_from_slice(&out);
        self.last = out;
        self
    }

    fn submit(&mut self, order: NewOrder) -> &mut Self {
        self.run(Command::Submit(order))
    }

    fn buy(&mut self, id: OrderId, acct: AccountId, qty: Qty, price: Price) -> &mut Self {
        self.submit(limit(id, acct, Buy, qty, price))
    }

    fn sell(&mut self, id: OrderId, acct: AccountId, qty: Qty, price: Price) -> &mut Self {
        self.submit(limit(id, acct, Sell, qty, price))
    }

    fn cancel(&mut self, id: OrderId) -> &mut Self {
        self.run(Command::Cancel {
            instrument: X,
            order_id: id,
        })
    }

    fn amend(&mut self, id: OrderId, qty: Option<Qty>, price: Option<Price>) -> &mut Self {
        self.run(Command::Amend {
            instrument: X,
            order_id: id,
            qty,
            price,
            stop_price: None,
        })
    }

    fn amend_stop(
        &mut self,
        id: OrderId,
        qty: Option<Qty>,
        price: Option<Price>,
        stop_price: Option<Price>,
    ) -> &mut Self {
        self.run(Command::Amend {
            instrument: X,
            order_id: id,
            qty,
            price,
            stop_price,
        })
    }

    fn mass_cancel(
        &mut self,
        account: AccountId,
        instrument: Option<InstrumentId>,
        side: Option<Side>,
    ) -> &mut Self {
        self.run(Command::MassCancel {
            account,
            instrument,
            side,
        })
    }

    /// Establishes a last trade price of `price` on `X`: bob sells the minimum
    /// quantity (order `id`) to dave (order `id + 1`).
    fn print(&mut self, id: OrderId, price: Price) -> &mut Self {
        let q = self.eng.instrument(X).unwrap().min_qty;
        self.sell(id, BOB, q, price)
            .buy(id + 1, DAVE, q, price)
            .expect_trade(id + 1, id, price, q)
    }

    /// The full events of the last step.
    fn events(&self) -> &[Event] {
        &self.last
    }

    fn expect(&mut self, expected: &[Ev]) -> &mut Self {
        let got: Vec<Ev> = self.last.iter().map(project).collect();
        assert_eq!(got, expected, "events of the last step");
        self
    }

    fn expect_trade(
        &mut self,
        taker: OrderId,
        maker: OrderId,
        price: Price,
        qty: Qty,
    ) -> &mut Self {
        let want = Trade(taker, maker, price, qty);
        assert!(
            self.last.iter().any(|e| project(e) == want),
            "no {want:?} in {:?}",
            self.last.iter().map(project).collect::<Vec<_>>()
        );
        self
    }

    fn expect_depth(
        &mut self,
        bids: &[(Price, Qty, u32)],
        asks: &[(Price, Qty, u32)],
    ) -> &mut Self {
        self.expect_depth_of(X, bids, asks)
    }

    fn expect_depth_of(
        &mut self,
        inst: InstrumentId,
        bids: &[(Price, Qty, u32)],
        asks: &[(Price, Qty, u32)],
    ) -> &mut Self {
        let (b, a) = self.eng.depth(inst, usize::MAX).expect("known instrument");
        assert_eq!(
            (b.as_slice(), a.as_slice()),
            (bids, asks),
            "depth (bids, asks)"
        );
        self
    }

    fn expect_bbo(&mut self, bid: Option<(Price, Qty)>, ask: Option<(Price, Qty)>) -> &mut Self {
        assert_eq!(self.eng.bbo(X), Some((bid, ask)));
        self
    }

    /// (qty, leaves, visible) of a live order on `X`.
    fn expect_order(&mut self, id: OrderId, qty: Qty, leaves: Qty, visible: Qty) -> &mut Self {
        let o = self
            .eng
            .order(X, id)
            .unwrap_or_else(|| panic!("order {id} is not live"));
        assert_eq!(
            (o.qty, o.leaves_qty, o.visible_qty),
            (qty, leaves, visible),
            "order {id}: {o:?}"
        );
        assert_eq!(o.filled_qty, o.qty - o.leaves_qty);
        self
    }

    fn expect_gone(&mut self, id: OrderId) -> &mut Self {
        assert!(self.eng.order(X, id).is_none(), "order {id} still live");
        self
    }

    fn hash(&self) -> u64 {
        self.eng.state_hash()
    }
}

fn lot_spec() -> InstrumentSpec {
    InstrumentSpec {
        symbol: "LOT".to_string(),
        tick_size: 5,
        lot_size: 10,
        min_qty: 20,
        max_qty: 1000,
        price_band: Some(50),
    }
}

// ---- limit orders: crossing and price-time priority ---------------------------

#[test]
fn limit_rests_when_nothing_crosses() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100)
        .expect(&[Acc(1)])
        .expect_depth(&[(100, 10, 1)], &[]);
    let e = s.events()[0];
    assert_eq!(
        (
            e.kind,
            e.instrument,
            e.order_id,
            e.account,
            e.side,
            e.price,
            e.qty,
            e.leaves_qty,
            e.reason
        ),
        (
            EventKind::Accepted,
            X,
            1,
            ALICE,
            Buy,
            Some(100),
            10,
            10,
            Reason::None
        )
    );
    s.sell(2, BOB, 5, 101)
        .expect(&[Acc(2)])
        .expect_depth(&[(100, 10, 1)], &[(101, 5, 1)]);
    s.expect_bbo(Some((100, 10)), Some((101, 5)));
    // A buy below the ask and a sell above the bid both rest.
    s.buy(3, CAROL, 1, 100)
        .sell(4, CAROL, 1, 102)
        .expect_depth(&[(100, 11, 2)], &[(101, 5, 1), (102, 1, 1)]);
}

#[test]
fn buy_matches_best_price_first_then_oldest_first() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 101)
        .sell(2, CAROL, 5, 100)
        .sell(3, DAVE, 5, 100)
        .sell(4, BOB, 5, 102);
    s.buy(10, ALICE, 12, 101)
        .expect(&[
            Acc(10),
            Trade(10, 2, 100, 5),
            Trade(10, 3, 100, 5),
            Trade(10, 1, 101, 2),
        ])
        .expect_depth(&[], &[(101, 3, 1), (102, 5, 1)])
        .expect_gone(10);
}

#[test]
fn sell_matches_best_price_first_then_oldest_first() {
    let mut s = Script::new();
    s.buy(1, BOB, 5, 99)
        .buy(2, CAROL, 5, 100)
        .buy(3, DAVE, 5, 100)
        .buy(4, BOB, 5, 98);
    s.sell(10, ALICE, 12, 99)
        .expect(&[
            Acc(10),
            Trade(10, 2, 100, 5),
            Trade(10, 3, 100, 5),
            Trade(10, 1, 99, 2),
        ])
        .expect_depth(&[(99, 3, 1), (98, 5, 1)], &[]);
}

#[test]
fn trade_event_reports_taker_maker_and_leaves_at_the_resting_price() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 100);
    s.buy(2, ALICE, 8, 105)
        .expect(&[Acc(2), Trade(2, 1, 100, 5)]);
    let t = s.events()[1];
    assert_eq!(t.kind, EventKind::Trade);
    assert_eq!(
        (t.order_id, t.account, t.side),
        (2, ALICE, Buy),
        "taker identity"
    );
    assert_eq!(
        (t.maker_order_id, t.maker_account),
        (1, BOB),
        "maker identity"
    );
    assert_eq!(
        (t.price, t.qty, t.leaves_qty, t.maker_leaves_qty),
        (Some(100), 5, 3, 0)
    );
    assert_eq!(t.reason, Reason::None);
    // The remainder rests at the taker's own limit.
    s.expect_depth(&[(105, 3, 1)], &[]);
    assert_eq!(s.eng.last_trade_price(X), Some(100));
}

#[test]
fn limit_never_trades_through_its_price() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 101);
    s.buy(2, ALICE, 5, 100)
        .expect(&[Acc(2)])
        .expect_depth(&[(100, 5, 1)], &[(101, 5, 1)]);
    s.sell(3, CAROL, 5, 101)
        .expect(&[Acc(3)])
        .expect_depth(&[(100, 5, 1)], &[(101, 10, 2)]);
    assert_eq!(s.eng.last_trade_price(X), None);
}

#[test]
fn partial_fill_rests_the_remainder() {
    let mut s = Script::new();
    s.sell(1, BOB, 4, 101);
    s.buy(2, ALICE, 10, 101)
        .expect(&[Acc(2), Trade(2, 1, 101, 4)])
        .expect_depth(&[(101, 6, 1)], &[]);
    s.expect_order(2, 10, 6, 6);
    assert_eq!(s.eng.order(X, 2).unwrap().status, "partially_filled");
    // The resting remainder is a maker now.
    s.sell(3, CAROL, 2, 100)
        .expect(&[Acc(3), Trade(3, 2, 101, 2)]);
    s.expect_order(2, 10, 4, 4);
    // A maker partially filled keeps its place.
    s.buy(4, DAVE, 1, 101).sell(5, CAROL, 5, 101).expect(&[
        Acc(5),
        Trade(5, 2, 101, 4),
        Trade(5, 4, 101, 1),
    ]);
    s.expect_depth(&[], &[]);
}

// ---- market orders --------------------------------------------------------------

#[test]
fn market_sweeps_levels_and_cancels_the_rest_as_no_liquidity() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 100)
        .sell(2, BOB, 5, 101)
        .sell(3, CAROL, 5, 150);
    s.submit(market(4, ALICE, Buy, 17))
        .expect(&[
            Acc(4),
            Trade(4, 1, 100, 5),
            Trade(4, 2, 101, 5),
            Trade(4, 3, 150, 5),
            Cxl(4, 2, Reason::NoLiquidity),
        ])
        .expect_depth(&[], &[])
        .expect_gone(4);
    let acc = s.events()[0];
    assert_eq!(acc.price, None, "a market order has no limit price");
    let cxl = s.events()[4];
    assert_eq!(
        (cxl.leaves_qty, cxl.price, cxl.account, cxl.side),
        (0, None, ALICE, Buy)
    );
}

#[test]
fn market_on_an_empty_side_is_cancelled_whole() {
    let mut s = Script::new();
    s.buy(1, BOB, 5, 100);
    s.submit(market(2, ALICE, Buy, 3))
        .expect(&[Acc(2), Cxl(2, 3, Reason::NoLiquidity)]);
    s.submit(market(3, ALICE, Sell, 3))
        .expect(&[Acc(3), Trade(3, 1, 100, 3)]);
    s.expect_depth(&[(100, 2, 1)], &[]);
}

#[test]
fn market_never_rests_whatever_its_tif() {
    let mut s = Script::new();
    s.sell(1, BOB, 2, 100);
    s.submit(market(2, ALICE, Buy, 5).tif(Tif::Gtc))
        .expect(&[Acc(2), Trade(2, 1, 100, 2), Cxl(2, 3, Reason::NoLiquidity)])
        .expect_depth(&[], &[])
        .expect_gone(2);
    s.submit(market(3, ALICE, Sell, 5).tif(Tif::Gtc))
        .expect(&[Acc(3), Cxl(3, 5, Reason::NoLiquidity)]);
    assert!(s.eng.open_orders(ALICE).is_empty());
}

// ---- IOC ------------------------------------------------------------------------

#[test]
fn ioc_fills_what_it_can_and_cancels_the_rest() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 100).sell(2, BOB, 5, 102);
    s.submit(limit(3, ALICE, Buy, 8, 101).ioc())
        .expect(&[Acc(3), Trade(3, 1, 100, 5), Cxl(3, 3, Reason::Ioc)])
        .expect_depth(&[], &[(102, 5, 1)]);
    assert_eq!(
        s.events()[2].price,
        Some(101),
        "a cancelled limit order reports its price"
    );
    // Nothing crossing: the whole order is cancelled.
    s.submit(limit(4, ALICE, Buy, 8, 101).ioc())
        .expect(&[Acc(4), Cxl(4, 8, Reason::Ioc)]);
    // Fully filled: no cancel.
    s.submit(limit(5, ALICE, Buy, 5, 102).ioc())
        .expect(&[Acc(5), Trade(5, 2, 102, 5)]);
    s.expect_depth(&[], &[]);
}

// ---- FOK ------------------------------------------------------------------------

#[test]
fn fok_fills_completely_across_levels() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 100)
        .sell(2, CAROL, 5, 101)
        .sell(3, CAROL, 5, 102);
    s.submit(limit(4, ALICE, Buy, 10, 101).fok())
        .expect(&[Acc(4), Trade(4, 1, 100, 5), Trade(4, 2, 101, 5)])
        .expect_depth(&[], &[(102, 5, 1)]);
}

#[test]
fn fok_that_cannot_fill_is_killed_without_fills() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 100)
        .sell(2, CAROL, 5, 101)
        .sell(3, CAROL, 50, 103);
    let before = s.eng.depth(X, 10);
    s.submit(limit(4, ALICE, Buy, 11, 101).fok())
        .expect(&[Acc(4), Cxl(4, 11, Reason::Fok)]);
    assert_eq!(
        s.eng.depth(X, 10),
        before,
        "a killed FOK leaves the book alone"
    );
    assert_eq!(s.events()[1].leaves_qty, 0);
    // Only crossing prices count: 103 is beyond the limit.
    s.submit(limit(5, ALICE, Buy, 11, 102).fok())
        .expect(&[Acc(5), Cxl(5, 11, Reason::Fok)]);
    s.submit(limit(6, ALICE, Buy, 11, 103).fok()).expect(&[
        Acc(6),
        Trade(6, 1, 100, 5),
        Trade(6, 2, 101, 5),
        Trade(6, 3, 103, 1),
    ]);
    // A market FOK counts every level.
    s.submit(market(7, ALICE, Buy, 50).fok())
        .expect(&[Acc(7), Cxl(7, 50, Reason::Fok)]);
    s.submit(market(8, ALICE, Buy, 49).fok())
        .expect(&[Acc(8), Trade(8, 3, 103, 49)]);
    s.expect_depth(&[], &[]);
}

#[test]
fn fok_counts_iceberg_reserves() {
    let mut s = Script::new();
    s.submit(limit(1, BOB, Sell, 30, 100).display(5))
        .expect_depth(&[], &[(100, 5, 1)]);
    s.submit(limit(2, ALICE, Buy, 31, 100).fok())
        .expect(&[Acc(2), Cxl(2, 31, Reason::Fok)]);
    s.submit(limit(3, ALICE, Buy, 30, 100).fok()).expect(&[
        Acc(3),
        Trade(3, 1, 100, 5),
        Trade(3, 1, 100, 5),
        Trade(3, 1, 100, 5),
        Trade(3, 1, 100, 5),
        Trade(3, 1, 100, 5),
        Trade(3, 1, 100, 5),
    ]);
    s.expect_depth(&[], &[]).expect_gone(1);
}

#[test]
fn fok_with_cancel_oldest_skips_own_orders() {
    let mut s = Script::new();
    s.sell(1, ALICE, 5, 100).sell(2, BOB, 5, 101);
    // Own 5 at 100 does not count: 10 is not available.
    s.submit(limit(3, ALICE, Buy, 10, 101).fok().stp(Stp::CancelOldest))
        .expect(&[Acc(3), Cxl(3, 10, Reason::Fok)]);
    s.expect_depth(&[], &[(100, 5, 1), (101, 5, 1)]);
    // 5 from bob is enough; the own order is cancelled on the way.
    s.submit(limit(4, ALICE, Buy, 5, 101).fok().stp(Stp::CancelOldest))
        .expect(&[Acc(4), Cxl(1, 5, Reason::SelfTrade), Trade(4, 2, 101, 5)])
        .expect_depth(&[], &[]);
}

#[test]
fn fok_with_other_stp_modes_is_killed_by_an_own_order_it_would_reach() {
    for stp in [Stp::CancelNewest, Stp::CancelBoth, Stp::Decrement] {
        let mut s = Script::new();
        s.sell(1, BOB, 5, 100)
            .sell(2, ALICE, 5, 100)
            .sell(3, BOB, 50, 101);
        // The own order sits at a level the FOK reaches (even behind enough liquidity).
        s.submit(limit(4, ALICE, Buy, 5, 100).fok().stp(stp))
            .expect(&[Acc(4), Cxl(4, 5, Reason::Fok)]);
        s.submit(limit(5, ALICE, Buy, 20, 101).fok().stp(stp))
            .expect(&[Acc(5), Cxl(5, 20, Reason::Fok)]);
        s.expect_depth(&[], &[(100, 10, 2), (101, 50, 1)]);
        // An own order beyond the levels needed does not matter.
        s.cancel(1)
            .cancel(2)
            .sell(6, ALICE, 5, 101)
            .sell(7, BOB, 5, 100);
        s.submit(limit(8, ALICE, Buy, 5, 101).fok().stp(stp))
            .expect(&[Acc(8), Trade(8, 7, 100, 5)]);
    }
}

#[test]
fn fok_without_stp_counts_and_trades_own_orders() {
    let mut s = Script::new();
    s.sell(1, ALICE, 5, 100).sell(2, BOB, 5, 101);
    s.submit(limit(3, ALICE, Buy, 10, 101).fok()).expect(&[
        Acc(3),
        Trade(3, 1, 100, 5),
        Trade(3, 2, 101, 5),
    ]);
    assert_eq!(s.events()[1].maker_account, ALICE);
}

// ---- post-only ------------------------------------------------------------------

#[test]
fn post_only_that_would_take_is_rejected() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 101).buy(2, BOB, 5, 99);
    for (id, side, price) in [(3, Buy, 101), (4, Buy, 105), (5, Sell, 99), (6, Sell, 90)] {
        s.submit(limit(id, ALICE, side, 5, price).post_only())
            .expect(&[Rej(id, Reason::WouldTake)])
            .expect_gone(id);
    }
    s.expect_depth(&[(99, 5, 1)], &[(101, 5, 1)]);
    let rej = s.events()[0];
    assert_eq!(
        (rej.kind, rej.instrument, rej.order_id, rej.reason),
        (EventKind::Rejected, X, 6, Reason::WouldTake)
    );
}

#[test]
fn post_only_rests_when_it_does_not_cross() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 101).buy(2, BOB, 5, 99);
    s.submit(limit(3, ALICE, Buy, 5, 100).post_only())
        .expect(&[Acc(3)]);
    s.submit(limit(4, ALICE, Sell, 5, 101).post_only())
        .expect(&[Acc(4)]);
    s.expect_depth(&[(100, 5, 1), (99, 5, 1)], &[(101, 10, 2)]);
    assert!(s.eng.order(X, 3).unwrap().post_only);
    // On an empty book post-only always rests.
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Buy, 5, 100).post_only())
        .expect(&[Acc(1)]);
}

#[test]
fn post_only_is_only_for_gtc_limit_orders() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Buy, 5, 100).post_only().ioc())
        .expect(&[Rej(1, Reason::InvalidOrder)]);
    s.submit(limit(2, ALICE, Buy, 5, 100).post_only().fok())
        .expect(&[Rej(2, Reason::InvalidOrder)]);
    s.submit(market(3, ALICE, Buy, 5).post_only())
        .expect(&[Rej(3, Reason::InvalidOrder)]);
    s.submit(market(4, ALICE, Buy, 5).post_only().tif(Tif::Gtc))
        .expect(&[Rej(4, Reason::InvalidOrder)]);
    s.submit(stop(5, ALICE, Buy, 5, 100).post_only())
        .expect(&[Rej(5, Reason::InvalidOrder)]);
    s.submit(stop_limit(6, ALICE, Buy, 5, 100, 100).post_only())
        .expect(&[Rej(6, Reason::InvalidOrder)]);
    s.expect_depth(&[], &[]);
    assert_eq!(s.eng.live_orders(), 0);
}

// ---- icebergs ---------------------------------------------------------------------

#[test]
fn iceberg_depth_shows_only_the_displayed_slice() {
    let mut s = Script::new();
    s.submit(limit(1, BOB, Sell, 30, 100).display(10))
        .expect(&[Acc(1)]);
    s.sell(2, CAROL, 4, 100)
        .expect_depth(&[], &[(100, 14, 2)])
        .expect_bbo(None, Some((100, 14)));
    s.expect_order(1, 30, 30, 10);
    assert_eq!(s.eng.order(X, 1).unwrap().display_qty, 10);
    // display == qty is a plain order.
    s.submit(limit(3, CAROL, Sell, 7, 101).display(7))
        .expect(&[Acc(3)])
        .expect_depth(&[], &[(100, 14, 2), (101, 7, 1)]);
}

#[test]
fn iceberg_refill_joins_the_back_of_the_queue() {
    let mut s = Script::new();
    s.submit(limit(1, BOB, Sell, 25, 100).display(10));
    s.sell(2, CAROL, 10, 100).expect_depth(&[], &[(100, 20, 2)]);
    // Consuming the first slice refills it behind carol.
    s.buy(3, ALICE, 10, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 10)])
        .expect_depth(&[], &[(100, 20, 2)]);
    s.expect_order(1, 25, 15, 10);
    s.buy(4, ALICE, 15, 100)
        .expect(&[Acc(4), Trade(4, 2, 100, 10), Trade(4, 1, 100, 5)]);
    s.expect_depth(&[], &[(100, 5, 1)])
        .expect_order(1, 25, 10, 5);
    // Last slices: 5 then min(display, leaves) = 5 after 10 more.
    s.buy(5, ALICE, 5, 100)
        .expect(&[Acc(5), Trade(5, 1, 100, 5)])
        .expect_order(1, 25, 5, 5);
    s.buy(6, ALICE, 5, 100)
        .expect(&[Acc(6), Trade(6, 1, 100, 5)])
        .expect_gone(1)
        .expect_depth(&[], &[]);
}

#[test]
fn iceberg_keeps_its_place_while_its_slice_is_not_used_up() {
    let mut s = Script::new();
    s.submit(limit(1, BOB, Sell, 30, 100).display(10));
    s.sell(2, CAROL, 10, 100);
    s.buy(3, ALICE, 4, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 4)])
        .expect_order(1, 30, 26, 6);
    s.buy(4, ALICE, 6, 100)
        .expect(&[Acc(4), Trade(4, 1, 100, 6)])
        .expect_order(1, 30, 20, 10);
    s.buy(5, ALICE, 1, 100)
        .expect(&[Acc(5), Trade(5, 2, 100, 1)]);
}

#[test]
fn iceberg_maker_refills_within_one_taker() {
    let mut s = Script::new();
    s.submit(limit(1, BOB, Sell, 12, 100).display(5))
        .sell(2, CAROL, 3, 100);
    s.buy(3, ALICE, 14, 100)
        .expect(&[
            Acc(3),
            Trade(3, 1, 100, 5),
            Trade(3, 2, 100, 3),
            Trade(3, 1, 100, 5),
            Trade(3, 1, 100, 1),
        ])
        .expect_depth(&[], &[(100, 1, 1)])
        .expect_order(1, 12, 1, 1);
}

#[test]
fn iceberg_taker_trades_its_full_quantity() {
    let mut s = Script::new();
    s.sell(1, BOB, 20, 100).sell(2, CAROL, 20, 101);
    s.submit(limit(3, ALICE, Buy, 35, 101).display(5))
        .expect(&[Acc(3), Trade(3, 1, 100, 20), Trade(3, 2, 101, 15)])
        .expect_depth(&[], &[(101, 5, 1)]);
    // The remainder of an iceberg taker rests showing one slice.
    s.submit(limit(4, ALICE, Buy, 50, 101).display(5))
        .expect(&[Acc(4), Trade(4, 2, 101, 5)])
        .expect_depth(&[(101, 5, 1)], &[])
        .expect_order(4, 50, 45, 5);
}

// ---- stops ------------------------------------------------------------------------

#[test]
fn stop_waits_off_book_until_triggered() {
    let mut s = Script::new();
    s.submit(stop(1, ALICE, Buy, 5, 102))
        .expect(&[Acc(1)])
        .expect_depth(&[], &[])
        .expect_bbo(None, None);
    let acc = s.events()[0];
    assert_eq!((acc.price, acc.qty, acc.leaves_qty), (None, 5, 5));
    let v = s.eng.order(X, 1).unwrap();
    assert_eq!(
        (v.status, v.stop_price, v.price, v.order_type),
        ("pending_trigger", Some(102), None, OrderType::Stop)
    );
    s.submit(stop_limit(2, ALICE, Sell, 5, 90, 95))
        .expect(&[Acc(2)]);
    assert_eq!(
        s.events()[0].price,
        Some(90),
        "accepted carries the limit price"
    );
    let v = s.eng.order(X, 2).unwrap();
    assert_eq!(
        (v.status, v.stop_price, v.price),
        ("pending_trigger", Some(95), Some(90))
    );
    assert_eq!(s.eng.live_orders(), 2);
}

#[test]
fn buy_stop_triggers_when_last_trade_reaches_it_and_enters_as_market() {
    let mut s = Script::new();
    s.sell(1, BOB, 1, 101)
        .sell(2, BOB, 1, 102)
        .sell(3, CAROL, 3, 103);
    s.submit(stop(9, ALICE, Buy, 5, 102)).expect(&[Acc(9)]);
    s.buy(10, DAVE, 1, 101)
        .expect(&[Acc(10), Trade(10, 1, 101, 1)]);
    s.buy(11, DAVE, 1, 102).expect(&[
        Acc(11),
        Trade(11, 2, 102, 1),
        Trig(9, 102),
        Trade(9, 3, 103, 3),
        Cxl(9, 2, Reason::NoLiquidity),
    ]);
    let trig = s.events()[2];
    assert_eq!(
        (
            trig.account,
            trig.side,
            trig.qty,
            trig.leaves_qty,
            trig.price
        ),
        (ALICE, Buy, 5, 5, Some(102))
    );
    s.expect_gone(9).expect_depth(&[], &[]);
}

#[test]
fn sell_stop_triggers_when_last_trade_falls_to_it() {
    let mut s = Script::new();
    s.buy(1, BOB, 1, 99)
        .buy(2, BOB, 1, 98)
        .buy(3, CAROL, 10, 97);
    s.submit(stop(9, ALICE, Sell, 5, 98));
    s.sell(10, DAVE, 1, 99)
        .expect(&[Acc(10), Trade(10, 1, 99, 1)]);
    s.sell(11, DAVE, 1, 98).expect(&[
        Acc(11),
        Trade(11, 2, 98, 1),
        Trig(9, 98),
        Trade(9, 3, 97, 5),
    ]);
    s.expect_depth(&[(97, 5, 1)], &[]);
}

#[test]
fn stop_limit_enters_as_limit_with_its_tif() {
    let mut s = Script::new();
    s.sell(1, BOB, 1, 101)
        .sell(2, BOB, 2, 102)
        .sell(3, BOB, 9, 104);
    s.submit(stop_limit(9, ALICE, Buy, 5, 102, 101))
        .expect(&[Acc(9)]);
    s.buy(10, DAVE, 1, 101).expect(&[
        Acc(10),
        Trade(10, 1, 101, 1),
        Trig(9, 101),
        Trade(9, 2, 102, 2),
    ]);
    s.expect_depth(&[(102, 3, 1)], &[(104, 9, 1)]);
    let v = s.eng.order(X, 9).unwrap();
    assert_eq!(
        (v.status, v.stop_price, v.price, v.leaves_qty),
        ("partially_filled", None, Some(102), 3)
    );

    // IOC stop-limit: the remainder is cancelled with reason ioc.
    let mut s = Script::new();
    s.sell(1, BOB, 1, 101).sell(2, BOB, 2, 102);
    s.submit(stop_limit(9, ALICE, Buy, 5, 102, 101).ioc())
        .expect(&[Acc(9)]);
    s.buy(10, DAVE, 1, 101).expect(&[
        Acc(10),
        Trade(10, 1, 101, 1),
        Trig(9, 101),
        Trade(9, 2, 102, 2),
        Cxl(9, 3, Reason::Ioc),
    ]);
    // FOK stop-limit: killed whole.
    let mut s = Script::new();
    s.sell(1, BOB, 1, 101).sell(2, BOB, 2, 102);
    s.submit(stop_limit(9, ALICE, Buy, 5, 102, 101).fok())
        .expect(&[Acc(9)]);
    s.buy(10, DAVE, 1, 101).expect(&[
        Acc(10),
        Trade(10, 1, 101, 1),
        Trig(9, 101),
        Cxl(9, 5, Reason::Fok),
    ]);
    s.expect_depth(&[], &[(102, 2, 1)]);
}

#[test]
fn stop_due_at_entry_triggers_at_once() {
    let mut s = Script::new();
    s.sell(1, CAROL, 100, 110).buy(2, CAROL, 100, 90);
    s.print(3, 100);
    s.submit(stop(10, ALICE, Buy, 1, 100))
        .expect(&[Acc(10), Trig(10, 100), Trade(10, 1, 110, 1)]);
    s.submit(stop(11, ALICE, Buy, 1, 90))
        .expect(&[Acc(11), Trig(11, 90), Trade(11, 1, 110, 1)]);
    // The last trade is now 110.
    s.submit(stop(12, ALICE, Buy, 1, 111)).expect(&[Acc(12)]);
    s.submit(stop(13, ALICE, Sell, 1, 110))
        .expect(&[Acc(13), Trig(13, 110), Trade(13, 2, 90, 1)]);
    // The last trade is now 90.
    s.submit(stop(14, ALICE, Sell, 1, 95))
        .expect(&[Acc(14), Trig(14, 95), Trade(14, 2, 90, 1)]);
    s.submit(stop(15, ALICE, Sell, 1, 89)).expect(&[Acc(15)]);
    s.submit(stop_limit(16, ALICE, Buy, 1, 95, 80))
        .expect(&[Acc(16), Trig(16, 80)]);
    s.expect_depth(&[(95, 1, 1), (90, 98, 1)], &[(110, 98, 1)]);
}

#[test]
fn stops_never_trigger_before_the_first_trade() {
    let mut s = Script::new();
    s.submit(stop(1, ALICE, Buy, 1, 1))
        .submit(stop(2, ALICE, Sell, 1, 1_000_000))
        .expect(&[Acc(2)]);
    s.buy(3, BOB, 5, 100)
        .sell(4, CAROL, 5, 101)
        .expect(&[Acc(4)]);
    assert_eq!(s.eng.live_orders(), 4);
}

#[test]
fn due_stops_trigger_buys_lowest_first_then_sells_highest_first_ties_by_arrival() {
    // Before the first trade stops on both sides may wait at any price; the
    // first trade makes them all due at once.
    let mut s = Script::new();
    s.buy(1, CAROL, 10, 80).sell(2, CAROL, 10, 120);
    // Stop-limits that rest without trading once triggered.
    s.submit(stop_limit(20, ALICE, Sell, 1, 110, 104));
    s.submit(stop_limit(21, ALICE, Buy, 1, 90, 96));
    s.submit(stop_limit(22, ALICE, Sell, 1, 110, 105));
    s.submit(stop_limit(23, ALICE, Buy, 1, 90, 95));
    s.submit(stop_limit(24, ALICE, Buy, 1, 90, 95));
    s.submit(stop_limit(25, ALICE, Sell, 1, 110, 104));
    s.print(3, 100).expect(&[
        Acc(4),
        Trade(4, 3, 100, 1),
        Trig(23, 95),
        Trig(24, 95),
        Trig(21, 96),
        Trig(22, 105),
        Trig(20, 104),
        Trig(25, 104),
    ]);
    s.expect_depth(&[(90, 3, 3), (80, 10, 1)], &[(110, 3, 3), (120, 10, 1)]);
    // Queue order at 90 follows trigger order.
    s.sell(5, BOB, 3, 90).expect(&[
        Acc(5),
        Trade(5, 23, 90, 1),
        Trade(5, 24, 90, 1),
        Trade(5, 21, 90, 1),
    ]);
    s.buy(6, BOB, 3, 110).expect(&[
        Acc(6),
        Trade(6, 22, 110, 1),
        Trade(6, 20, 110, 1),
        Trade(6, 25, 110, 1),
    ]);
}

#[test]
fn due_buy_stops_trigger_lowest_first_after_a_trade() {
    let mut s = Script::new();
    s.buy(1, CAROL, 10, 80)
        .sell(2, CAROL, 10, 120)
        .print(3, 100);
    s.submit(stop_limit(21, ALICE, Buy, 1, 90, 102));
    s.submit(stop_limit(22, ALICE, Buy, 1, 90, 101));
    s.submit(stop_limit(23, ALICE, Buy, 1, 90, 101));
    s.submit(stop_limit(24, ALICE, Buy, 1, 90, 104));
    s.print(5, 102).expect(&[
        Acc(6),
        Trade(6, 5, 102, 1),
        Trig(22, 101),
        Trig(23, 101),
        Trig(21, 102),
    ]);
    assert_eq!(s.eng.order(X, 24).unwrap().status, "pending_trigger");
}

#[test]
fn due_sell_stops_trigger_highest_first_after_a_trade() {
    let mut s = Script::new();
    s.buy(1, CAROL, 10, 80)
        .sell(2, CAROL, 10, 120)
        .print(3, 100);
    s.submit(stop(21, ALICE, Sell, 1, 97));
    s.submit(stop(22, ALICE, Sell, 1, 99));
    s.submit(stop(23, ALICE, Sell, 1, 99));
    s.submit(stop(24, ALICE, Sell, 1, 90));
    s.print(5, 97).expect(&[
        Acc(6),
        Trade(6, 5, 97, 1),
        Trig(22, 99),
        Trade(22, 1, 80, 1),
        Trig(23, 99),
        Trade(23, 1, 80, 1),
        Trig(21, 97),
        Trade(21, 1, 80, 1),
        // The last trade is now 80: the stop at 90 is due too (a cascade).
        Trig(24, 90),
        Trade(24, 1, 80, 1),
    ]);
    s.expect_depth(&[(80, 6, 1)], &[(120, 10, 1)]);
}

#[test]
fn triggered_stops_trades_cascade_into_further_stops() {
    let mut s = Script::new();
    s.buy(1, CAROL, 1, 100)
        .buy(2, CAROL, 5, 98)
        .buy(3, CAROL, 5, 96)
        .buy(4, CAROL, 10, 90);
    s.submit(stop(31, ALICE, Sell, 6, 99))
        .submit(stop(32, ALICE, Sell, 2, 97));
    s.sell(5, BOB, 1, 100)
        .expect(&[Acc(5), Trade(5, 1, 100, 1)]);
    s.sell(6, BOB, 1, 98).expect(&[
        Acc(6),
        Trade(6, 2, 98, 1),
        Trig(31, 99),
        Trade(31, 2, 98, 4),
        Trade(31, 3, 96, 2),
        Trig(32, 97),
        Trade(32, 3, 96, 2),
    ]);
    s.expect_depth(&[(96, 1, 1), (90, 10, 1)], &[]);
    assert_eq!(s.eng.last_trade_price(X), Some(96));
}

#[test]
fn stops_trigger_only_after_the_taker_has_finished() {
    let mut s = Script::new();
    s.sell(1, BOB, 1, 100)
        .sell(2, BOB, 1, 101)
        .sell(3, BOB, 1, 102)
        .sell(4, CAROL, 5, 110);
    s.submit(stop(9, ALICE, Buy, 1, 100));
    s.buy(10, DAVE, 3, 102).expect(&[
        Acc(10),
        Trade(10, 1, 100, 1),
        Trade(10, 2, 101, 1),
        Trade(10, 3, 102, 1),
        Trig(9, 100),
        Trade(9, 4, 110, 1),
    ]);
}

#[test]
fn cancel_of_a_waiting_stop() {
    let mut s = Script::new();
    s.submit(stop_limit(1, ALICE, Buy, 5, 105, 101))
        .submit(stop(2, ALICE, Buy, 5, 101));
    s.cancel(1).expect(&[Cxl(1, 5, Reason::User)]);
    assert_eq!(s.events()[0].price, Some(105));
    s.cancel(2).expect(&[Cxl(2, 5, Reason::User)]);
    assert_eq!(s.events()[0].price, None);
    s.expect_gone(1).expect_gone(2);
    s.print(4, 101).expect(&[Acc(5), Trade(5, 4, 101, 1)]);
    s.cancel(1).expect(&[Rej(1, Reason::UnknownOrder)]);
}

#[test]
fn amend_of_a_waiting_stop_changes_qty_prices_and_requeues() {
    let mut s = Script::new();
    s.buy(1, CAROL, 10, 80)
        .sell(2, CAROL, 10, 120)
        .print(3, 100);
    s.submit(stop_limit(10, ALICE, Buy, 5, 90, 105));
    s.submit(stop_limit(11, ALICE, Buy, 5, 90, 105));
    s.submit(stop_limit(12, ALICE, Buy, 5, 90, 104));
    // limit price: 11 stays waiting, now behind 10 at the same stop price.
    s.amend_stop(11, None, Some(85), None)
        .expect(&[Amd(11, 5, 5)]);
    assert_eq!(s.events()[0].price, Some(85));
    // qty: 10 goes behind 11.
    s.amend_stop(10, Some(3), None, None)
        .expect(&[Amd(10, 3, 3)]);
    assert_eq!(s.eng.order(X, 10).unwrap().status, "pending_trigger");
    // stop price: 12 joins 105, behind 11 and 10.
    s.amend_stop(12, Some(4), None, Some(105))
        .expect(&[Amd(12, 4, 4)]);
    assert_eq!(s.eng.order(X, 12).unwrap().stop_price, Some(105));
    s.print(5, 105).expect(&[
        Acc(6),
        Trade(6, 5, 105, 1),
        Trig(11, 105),
        Trig(10, 105),
        Trig(12, 105),
    ]);
    s.expect_depth(&[(90, 7, 2), (85, 5, 1), (80, 10, 1)], &[(120, 10, 1)]);
}

#[test]
fn amend_of_a_waiting_stop_to_a_due_stop_price_triggers_at_once() {
    let mut s = Script::new();
    s.sell(1, CAROL, 10, 120).print(3, 100);
    s.submit(stop(10, ALICE, Buy, 5, 105)).expect(&[Acc(10)]);
    s.amend_stop(10, None, None, Some(100)).expect(&[
        Amd(10, 5, 5),
        Trig(10, 100),
        Trade(10, 1, 120, 5),
    ]);
    s.submit(stop(11, ALICE, Sell, 5, 90)).expect(&[Acc(11)]);
    s.amend_stop(11, Some(2), None, Some(125)).expect(&[
        Amd(11, 2, 2),
        Trig(11, 125),
        Cxl(11, 2, Reason::NoLiquidity),
    ]);
}

#[test]
fn amend_rejects_specific_to_stops() {
    let mut s = Script::with_spec(lot_spec());
    s.submit(stop(1, ALICE, Buy, 20, 500))
        .submit(stop_limit(2, ALICE, Buy, 20, 505, 500));
    s.sell(3, BOB, 20, 600);
    // A price on an unpriced (stop) order.
    s.amend_stop(1, None, Some(505), None)
        .expect(&[Rej(1, Reason::InvalidAmend)]);
    // A stop price on an order that is not waiting.
    s.amend_stop(3, None, None, Some(505))
        .expect(&[Rej(3, Reason::InvalidAmend)]);
    // Stop price checks.
    s.amend_stop(1, None, None, Some(503))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.amend_stop(1, None, None, Some(Price::MIN))
        .expect(&[Rej(1, Reason::Overflow)]);
    s.amend_stop(2, None, Some(502), None)
        .expect(&[Rej(2, Reason::PriceOffTick)]);
    s.amend_stop(2, Some(25), None, None)
        .expect(&[Rej(2, Reason::QtyOffLot)]);
    s.amend_stop(2, Some(1010), None, None)
        .expect(&[Rej(2, Reason::QtyAboveMax)]);
    s.amend_stop(2, Some(10), None, None)
        .expect(&[Rej(2, Reason::QtyBelowMin)]);
    s.amend_stop(2, None, None, None)
        .expect(&[Rej(2, Reason::InvalidAmend)]);
    // Nothing changed by the rejects.
    let v = s.eng.order(X, 2).unwrap();
    assert_eq!((v.qty, v.price, v.stop_price), (20, Some(505), Some(500)));
    // A stop that has triggered and rests can no longer take a stop price.
    s.print(10, 500);
    s.amend_stop(2, None, None, Some(510))
        .expect(&[Rej(2, Reason::InvalidAmend)]);
    // Amending a waiting stop to qty 0 (at or below its filled 0) cancels it.
    s.submit(stop(20, ALICE, Buy, 20, 700))
        .amend_stop(20, Some(0), None, None)
        .expect(&[Cxl(20, 20, Reason::AmendFilled)]);
}

// ---- self-trade prevention ---------------------------------------------------------

/// bob 3 @100, alice 5 @100, carol 5 @100; then alice buys 10 @100 with `stp`.
fn stp_book() -> Script {
    let mut s = Script::new();
    s.sell(1, BOB, 3, 100)
        .sell(2, ALICE, 5, 100)
        .sell(3, CAROL, 5, 100);
    s
}

#[test]
fn stp_none_trades_with_own_orders() {
    let mut s = stp_book();
    s.buy(4, ALICE, 10, 100).expect(&[
        Acc(4),
        Trade(4, 1, 100, 3),
        Trade(4, 2, 100, 5),
        Trade(4, 3, 100, 2),
    ]);
    assert_eq!(
        (s.events()[2].account, s.events()[2].maker_account),
        (ALICE, ALICE)
    );
}

#[test]
fn stp_cancel_newest_cancels_the_incoming_remainder() {
    let mut s = stp_book();
    s.submit(limit(4, ALICE, Buy, 10, 100).stp(Stp::CancelNewest))
        .expect(&[Acc(4), Trade(4, 1, 100, 3), Cxl(4, 7, Reason::SelfTrade)])
        .expect_depth(&[], &[(100, 10, 2)])
        .expect_gone(4);
    let c = s.events()[2];
    assert_eq!((c.leaves_qty, c.account, c.price), (0, ALICE, Some(100)));
}

#[test]
fn stp_cancel_oldest_cancels_the_resting_order_and_keeps_matching() {
    let mut s = stp_book();
    s.submit(limit(4, ALICE, Buy, 15, 100).stp(Stp::CancelOldest))
        .expect(&[
            Acc(4),
            Trade(4, 1, 100, 3),
            Cxl(2, 5, Reason::SelfTrade),
            Trade(4, 3, 100, 5),
        ])
        .expect_depth(&[(100, 7, 1)], &[])
        .expect_order(4, 15, 7, 7);
}

#[test]
fn stp_cancel_both_cancels_both() {
    let mut s = stp_book();
    s.submit(limit(4, ALICE, Buy, 10, 100).stp(Stp::CancelBoth))
        .expect(&[
            Acc(4),
            Trade(4, 1, 100, 3),
            Cxl(2, 5, Reason::SelfTrade),
            Cxl(4, 7, Reason::SelfTrade),
        ])
        .expect_depth(&[], &[(100, 5, 1)]);
}

#[test]
fn stp_decrement_smaller_incoming_reduces_the_resting_order_which_keeps_priority() {
    let mut s = Script::new();
    s.sell(1, ALICE, 10, 100).sell(2, BOB, 5, 100);
    s.submit(limit(3, ALICE, Buy, 4, 100).stp(Stp::Decrement))
        .expect(&[
            Acc(3),
            Cxl(1, 4, Reason::SelfTrade),
            Cxl(3, 4, Reason::SelfTrade),
        ])
        .expect_depth(&[], &[(100, 11, 2)])
        .expect_gone(3);
    assert_eq!(
        s.events()[1].leaves_qty,
        6,
        "the reduction reports what is left"
    );
    assert_eq!(s.events()[2].leaves_qty, 0);
    // Reduced, not filled: the total shrinks with the open quantity.
    s.expect_order(1, 6, 6, 6);
    assert_eq!(s.eng.order(X, 1).unwrap().status, "new");
    s.buy(4, CAROL, 1, 100)
        .expect(&[Acc(4), Trade(4, 1, 100, 1)]);
}

#[test]
fn stp_decrement_larger_incoming_cancels_the_resting_order_and_keeps_matching() {
    let mut s = Script::new();
    s.sell(1, ALICE, 4, 100).sell(2, BOB, 5, 100);
    s.submit(limit(3, ALICE, Buy, 6, 100).stp(Stp::Decrement))
        .expect(&[
            Acc(3),
            Cxl(1, 4, Reason::SelfTrade),
            Cxl(3, 4, Reason::SelfTrade),
            Trade(3, 2, 100, 2),
        ])
        .expect_depth(&[], &[(100, 3, 1)]);
    assert_eq!(s.events()[1].leaves_qty, 0);
    assert_eq!(s.events()[2].leaves_qty, 2);
    // A reduced incoming order that rests shows only real fills as filled.
    s.sell(5, ALICE, 4, 101);
    s.submit(limit(6, ALICE, Buy, 10, 101).stp(Stp::Decrement))
        .expect(&[
            Acc(6),
            Trade(6, 2, 100, 3),
            Cxl(5, 4, Reason::SelfTrade),
            Cxl(6, 4, Reason::SelfTrade),
        ])
        .expect_depth(&[(101, 3, 1)], &[]);
    s.expect_order(6, 6, 3, 3);
    assert_eq!(s.eng.order(X, 6).unwrap().filled_qty, 3);
}

#[test]
fn stp_decrement_equal_sizes_cancels_both() {
    let mut s = Script::new();
    s.sell(1, ALICE, 5, 100).sell(2, BOB, 5, 100);
    s.submit(limit(3, ALICE, Buy, 5, 100).stp(Stp::Decrement))
        .expect(&[
            Acc(3),
            Cxl(1, 5, Reason::SelfTrade),
            Cxl(3, 5, Reason::SelfTrade),
        ])
        .expect_depth(&[], &[(100, 5, 1)]);
}

#[test]
fn stp_decrement_against_an_iceberg_cuts_its_shown_slice() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Sell, 12, 100).display(10));
    s.submit(limit(2, ALICE, Buy, 5, 100).stp(Stp::Decrement))
        .expect(&[
            Acc(2),
            Cxl(1, 5, Reason::SelfTrade),
            Cxl(2, 5, Reason::SelfTrade),
        ])
        .expect_depth(&[], &[(100, 7, 1)])
        .expect_order(1, 7, 7, 7);
    // Larger incoming: the whole iceberg (hidden part included) is its size.
    s.submit(limit(3, ALICE, Buy, 9, 100).stp(Stp::Decrement))
        .expect(&[
            Acc(3),
            Cxl(1, 7, Reason::SelfTrade),
            Cxl(3, 7, Reason::SelfTrade),
        ])
        .expect_depth(&[(100, 2, 1)], &[]);
}

#[test]
fn stp_amend_after_decrement_uses_the_reduced_total() {
    let mut s = Script::new();
    s.sell(1, ALICE, 10, 100);
    s.submit(limit(2, ALICE, Buy, 4, 100).stp(Stp::Decrement));
    // Order 1 is now 6 in total, nothing filled: a total of 4 keeps 4 open.
    s.amend(1, Some(4), None)
        .expect(&[Amd(1, 4, 4)])
        .expect_order(1, 4, 4, 4);
}

#[test]
fn stp_applies_only_between_orders_of_one_account_and_follows_the_incoming_mode() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Sell, 5, 100).stp(Stp::CancelBoth));
    // Another account: trades whatever the mode.
    s.submit(limit(2, BOB, Buy, 1, 100).stp(Stp::CancelBoth))
        .expect(&[Acc(2), Trade(2, 1, 100, 1)]);
    // Same account, incoming mode none: trades although the resting order has a mode.
    s.buy(3, ALICE, 1, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 1)]);
}

#[test]
fn stp_of_a_market_order_and_of_a_triggered_stop() {
    let mut s = Script::new();
    s.sell(1, ALICE, 2, 100).sell(2, BOB, 2, 101);
    s.submit(market(3, ALICE, Buy, 3).stp(Stp::CancelOldest))
        .expect(&[
            Acc(3),
            Cxl(1, 2, Reason::SelfTrade),
            Trade(3, 2, 101, 2),
            Cxl(3, 1, Reason::NoLiquidity),
        ]);
    // The last trade is 101.
    s.sell(4, ALICE, 5, 103).sell(5, BOB, 1, 102);
    s.submit(stop(6, ALICE, Buy, 3, 102).stp(Stp::CancelNewest))
        .expect(&[Acc(6)]);
    s.buy(7, DAVE, 1, 102).expect(&[
        Acc(7),
        Trade(7, 5, 102, 1),
        Trig(6, 102),
        Cxl(6, 3, Reason::SelfTrade),
    ]);
    s.expect_depth(&[], &[(103, 5, 1)]);
}

// ---- cancel -------------------------------------------------------------------------

#[test]
fn cancel_reports_the_open_quantity() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100).sell(2, BOB, 4, 100);
    s.cancel(1)
        .expect(&[Cxl(1, 6, Reason::User)])
        .expect_depth(&[], &[])
        .expect_gone(1);
    let c = s.events()[0];
    assert_eq!(
        (
            c.kind,
            c.account,
            c.side,
            c.price,
            c.leaves_qty,
            c.instrument
        ),
        (EventKind::Cancelled, ALICE, Buy, Some(100), 0, X)
    );
    s.cancel(1).expect(&[Rej(1, Reason::UnknownOrder)]);
    s.cancel(2).expect(&[Rej(2, Reason::UnknownOrder)]);
    s.cancel(77).expect(&[Rej(77, Reason::UnknownOrder)]);
    s.run(Command::Cancel {
        instrument: 9,
        order_id: 1,
    })
    .expect(&[Rej(1, Reason::UnknownInstrument)]);
    assert_eq!(s.events()[0].instrument, 9);
}

#[test]
fn cancel_keeps_the_queue_of_the_others() {
    let mut s = Script::new();
    s.buy(1, ALICE, 1, 100)
        .buy(2, BOB, 2, 100)
        .buy(3, CAROL, 3, 100)
        .submit(limit(4, DAVE, Buy, 9, 100).display(4));
    s.cancel(2).expect_depth(&[(100, 8, 3)], &[]);
    s.cancel(4).expect_depth(&[(100, 4, 2)], &[]);
    s.sell(5, BOB, 4, 100)
        .expect(&[Acc(5), Trade(5, 1, 100, 1), Trade(5, 3, 100, 3)]);
    s.expect_depth(&[], &[]);
}

#[test]
fn cancel_in_one_instrument_does_not_touch_another() {
    let mut s = Script::new();
    let y = s.add_instrument(InstrumentSpec::new("YY", 1, 1));
    s.buy(1, ALICE, 1, 100)
        .submit(limit(1, ALICE, Buy, 2, 100).on(y))
        .expect(&[Acc(1)]);
    s.run(Command::Cancel {
        instrument: y,
        order_id: 1,
    })
    .expect(&[Cxl(1, 2, Reason::User)]);
    assert_eq!(s.events()[0].instrument, y);
    s.expect_depth(&[(100, 1, 1)], &[])
        .expect_depth_of(y, &[], &[]);
}

// ---- amend --------------------------------------------------------------------------

#[test]
fn amend_decrease_keeps_priority() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100).buy(2, BOB, 10, 100);
    s.amend(1, Some(4), None)
        .expect(&[Amd(1, 4, 4)])
        .expect_depth(&[(100, 14, 2)], &[]);
    let a = s.events()[0];
    assert_eq!((a.price, a.account, a.side), (Some(100), ALICE, Buy));
    // Same price given explicitly, qty decreased: still first.
    s.amend(1, Some(3), Some(100)).expect(&[Amd(1, 3, 3)]);
    s.sell(3, CAROL, 4, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 3), Trade(3, 2, 100, 1)]);
}

#[test]
fn amend_to_the_same_quantity_keeps_priority() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100).buy(2, BOB, 10, 100);
    s.amend(1, Some(10), None).expect(&[Amd(1, 10, 10)]);
    s.amend(1, None, Some(100)).expect(&[Amd(1, 10, 10)]);
    s.sell(3, CAROL, 1, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 1)]);
}

#[test]
fn amend_increase_loses_priority() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100).buy(2, BOB, 10, 100);
    s.amend(1, Some(15), None)
        .expect(&[Amd(1, 15, 15)])
        .expect_depth(&[(100, 25, 2)], &[]);
    s.sell(3, CAROL, 12, 100)
        .expect(&[Acc(3), Trade(3, 2, 100, 10), Trade(3, 1, 100, 2)]);
}

#[test]
fn amend_price_change_loses_priority() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100).buy(2, BOB, 10, 100);
    s.amend(1, None, Some(99))
        .expect(&[Amd(1, 10, 10)])
        .expect_depth(&[(100, 10, 1), (99, 10, 1)], &[]);
    assert_eq!(s.events()[0].price, Some(99));
    s.amend(1, None, Some(100)).expect(&[Amd(1, 10, 10)]);
    s.sell(3, CAROL, 12, 100)
        .expect(&[Acc(3), Trade(3, 2, 100, 10), Trade(3, 1, 100, 2)]);
}

#[test]
fn amend_price_through_the_touch_trades_like_a_new_order() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 99)
        .sell(2, BOB, 4, 101)
        .sell(3, BOB, 4, 102);
    s.amend(1, None, Some(101))
        .expect(&[Amd(1, 10, 10), Trade(1, 2, 101, 4)]);
    s.expect_depth(&[(101, 6, 1)], &[(102, 4, 1)])
        .expect_order(1, 10, 6, 6);
    // Price and qty together, qty includes what has been filled.
    s.amend(1, Some(12), Some(102))
        .expect(&[Amd(1, 12, 8), Trade(1, 3, 102, 4)]);
    s.expect_order(1, 12, 4, 4)
        .expect_depth(&[(102, 4, 1)], &[]);
}

#[test]
fn amend_qty_is_the_total_including_fills() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100)
        .buy(2, BOB, 10, 100)
        .sell(3, CAROL, 4, 100);
    s.expect_order(1, 10, 6, 6);
    s.amend(1, Some(8), None)
        .expect(&[Amd(1, 8, 4)])
        .expect_order(1, 8, 4, 4);
    s.sell(4, CAROL, 1, 100)
        .expect(&[Acc(4), Trade(4, 1, 100, 1)]);
    // At the filled quantity: the rest is cancelled.
    s.amend(1, Some(5), None)
        .expect(&[Cxl(1, 3, Reason::AmendFilled)])
        .expect_gone(1);
    s.buy(5, ALICE, 10, 100).sell(6, CAROL, 4, 100);
    // Below the filled quantity, too.
    s.amend(2, Some(2), None)
        .expect(&[Cxl(2, 6, Reason::AmendFilled)]);
    // Zero on an unfilled order.
    s.amend(5, Some(0), None)
        .expect(&[Cxl(5, 10, Reason::AmendFilled)]);
    s.expect_depth(&[], &[]);
}

#[test]
fn amend_of_an_iceberg() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Buy, 30, 100).display(10))
        .buy(2, BOB, 5, 100);
    // A decrease below the slice cuts the slice in place.
    s.amend(1, Some(8), None)
        .expect(&[Amd(1, 8, 8)])
        .expect_order(1, 8, 8, 8);
    s.expect_depth(&[(100, 13, 2)], &[]);
    s.sell(3, CAROL, 1, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 1)]);
    // An increase requeues with a fresh slice.
    s.amend(1, Some(40), None)
        .expect(&[Amd(1, 40, 39)])
        .expect_order(1, 40, 39, 10);
    s.sell(4, CAROL, 6, 100)
        .expect(&[Acc(4), Trade(4, 2, 100, 5), Trade(4, 1, 100, 1)]);
}

#[test]
fn amend_of_post_only_through_the_touch_is_rejected_and_changes_nothing() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Buy, 5, 99).post_only())
        .buy(2, BOB, 5, 99)
        .sell(3, CAROL, 5, 101);
    let before = s.eng.order(X, 1).unwrap();
    s.amend(1, None, Some(101))
        .expect(&[Rej(1, Reason::WouldTake)]);
    s.amend(1, Some(8), Some(102))
        .expect(&[Rej(1, Reason::WouldTake)]);
    assert_eq!(s.eng.order(X, 1).unwrap(), before);
    s.expect_depth(&[(99, 10, 2)], &[(101, 5, 1)]);
    // Still first in its queue.
    s.sell(4, DAVE, 1, 99).expect(&[Acc(4), Trade(4, 1, 99, 1)]);
    // Moving it up but not through is fine.
    s.amend(1, None, Some(100))
        .expect(&[Amd(1, 5, 4)])
        .expect_depth(&[(100, 4, 1), (99, 5, 1)], &[(101, 5, 1)]);
}

#[test]
fn amend_rejects() {
    let mut s = Script::with_spec(lot_spec());
    s.buy(1, ALICE, 100, 500)
        .sell(2, BOB, 20, 510)
        .buy(3, CAROL, 20, 510);
    assert_eq!(s.eng.last_trade_price(X), Some(510));
    let before = s.eng.order(X, 1).unwrap();
    s.amend(99, Some(50), None)
        .expect(&[Rej(99, Reason::UnknownOrder)]);
    s.amend(3, Some(50), None)
        .expect(&[Rej(3, Reason::UnknownOrder)]);
    s.run(Command::Amend {
        instrument: 7,
        order_id: 1,
        qty: Some(50),
        price: None,
        stop_price: None,
    })
    .expect(&[Rej(1, Reason::UnknownInstrument)]);
    s.amend(1, None, None)
        .expect(&[Rej(1, Reason::InvalidAmend)]);
    s.amend_stop(1, None, None, Some(505))
        .expect(&[Rej(1, Reason::InvalidAmend)]);
    s.amend(1, Some(55), None)
        .expect(&[Rej(1, Reason::QtyOffLot)]);
    s.amend(1, Some(10), None)
        .expect(&[Rej(1, Reason::QtyBelowMin)]);
    s.amend(1, Some(1010), None)
        .expect(&[Rej(1, Reason::QtyAboveMax)]);
    s.amend(1, None, Some(502))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.amend(1, None, Some(Price::MIN))
        .expect(&[Rej(1, Reason::Overflow)]);
    s.amend(1, None, Some(455))
        .expect(&[Rej(1, Reason::PriceBand)]);
    s.amend(1, None, Some(565))
        .expect(&[Rej(1, Reason::PriceBand)]);
    // Quantity checks come before price checks.
    s.amend(1, Some(55), Some(502))
        .expect(&[Rej(1, Reason::QtyOffLot)]);
    s.amend(1, Some(50), Some(502))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    assert_eq!(s.eng.order(X, 1).unwrap(), before);
    // The band edges are allowed.
    s.amend(1, None, Some(460)).expect(&[Amd(1, 100, 100)]);
}

#[test]
fn amend_that_would_overflow_its_level_is_rejected() {
    let mut s = Script::new();
    let big = u64::MAX / 2 + 1;
    s.buy(1, ALICE, big, 100)
        .buy(2, BOB, big, 99)
        .buy(3, CAROL, 1, 100);
    s.amend(2, None, Some(100))
        .expect(&[Rej(2, Reason::Overflow)]);
    s.amend(3, Some(big), None)
        .expect(&[Rej(3, Reason::Overflow)]);
    // Its own shown quantity does not count twice.
    s.amend(1, Some(big + 1), None)
        .expect(&[Amd(1, big + 1, big + 1)]);
    s.expect_depth(&[(100, big + 2, 2), (99, big, 1)], &[]);
}

#[test]
fn amend_that_trades_triggers_stops() {
    let mut s = Script::new();
    s.sell(1, BOB, 5, 101).sell(2, CAROL, 5, 105).print(3, 100);
    s.submit(stop(10, ALICE, Buy, 2, 101)).buy(11, DAVE, 3, 99);
    s.amend(11, None, Some(101)).expect(&[
        Amd(11, 3, 3),
        Trade(11, 1, 101, 3),
        Trig(10, 101),
        Trade(10, 1, 101, 2),
    ]);
}

// ---- mass cancel ----------------------------------------------------------------------

/// Alice has orders in two instruments (and a waiting stop), bob one.
fn mass_book() -> (Script, InstrumentId) {
    let mut s = Script::new();
    let y = s.add_instrument(InstrumentSpec::new("YY", 1, 1));
    s.submit(limit(3, ALICE, Buy, 1, 50).on(y));
    s.buy(5, ALICE, 1, 100);
    s.submit(limit(1, ALICE, Sell, 1, 60).on(y));
    s.sell(2, ALICE, 1, 110);
    s.submit(stop(7, ALICE, Buy, 1, 120));
    s.buy(4, BOB, 1, 100);
    s.submit(stop(6, ALICE, Sell, 1, 40).on(y));
    (s, y)
}

fn cancel_events(s: &Script) -> Vec<(InstrumentId, OrderId)> {
    s.events()
        .iter()
        .map(|e| {
            assert_eq!(
                (e.kind, e.reason, e.account, e.leaves_qty),
                (EventKind::Cancelled, Reason::MassCancel, ALICE, 0)
            );
            (e.instrument, e.order_id)
        })
        .collect()
}

#[test]
fn mass_cancel_of_an_account_in_instrument_then_order_id_order() {
    let (mut s, y) = mass_book();
    s.mass_cancel(ALICE, None, None);
    assert_eq!(
        cancel_events(&s),
        vec![(X, 2), (X, 5), (X, 7), (y, 1), (y, 3), (y, 6)]
    );
    assert!(s.eng.open_orders(ALICE).is_empty());
    assert_eq!(s.eng.open_orders(BOB).len(), 1);
    s.expect_depth(&[(100, 1, 1)], &[])
        .expect_depth_of(y, &[], &[]);
    // Nothing left: no events.
    s.mass_cancel(ALICE, None, None).expect(&[]);
}

#[test]
fn mass_cancel_narrowed_by_instrument_and_side() {
    let (mut s, y) = mass_book();
    s.mass_cancel(ALICE, Some(y), None);
    assert_eq!(cancel_events(&s), vec![(y, 1), (y, 3), (y, 6)]);
    let (mut s, y) = mass_book();
    s.mass_cancel(ALICE, None, Some(Buy));
    assert_eq!(cancel_events(&s), vec![(X, 5), (X, 7), (y, 3)]);
    s.mass_cancel(ALICE, Some(X), Some(Sell));
    assert_eq!(cancel_events(&s), vec![(X, 2)]);
    s.mass_cancel(ALICE, Some(y), Some(Sell));
    assert_eq!(cancel_events(&s), vec![(y, 1), (y, 6)]);
    assert!(s.eng.open_orders(ALICE).is_empty());
    // The quantity cancelled is the open quantity (bob's 1 at 100 is ahead).
    s.buy(10, ALICE, 10, 100)
        .sell(11, CAROL, 3, 100)
        .mass_cancel(ALICE, None, None)
        .expect(&[Cxl(10, 8, Reason::MassCancel)]);
}

#[test]
fn mass_cancel_rejects_an_unknown_instrument() {
    let (mut s, _) = mass_book();
    s.mass_cancel(ALICE, Some(9), None)
        .expect(&[Rej(0, Reason::UnknownInstrument)]);
    assert_eq!(s.events()[0].instrument, 9);
    assert_eq!(s.eng.open_orders(ALICE).len(), 6);
    // An account with nothing open: no events.
    s.mass_cancel(CAROL, None, None).expect(&[]);
}

// ---- rejects of new orders ---------------------------------------------------------------

#[test]
fn reject_unknown_instrument_and_unknown_account() {
    let mut s = Script::new();
    s.submit(limit(1, ALICE, Buy, 1, 100).on(5))
        .expect(&[Rej(1, Reason::UnknownInstrument)]);
    assert_eq!(s.events()[0].instrument, 5);
    s.submit(limit(1, 42, Buy, 1, 100))
        .expect(&[Rej(1, Reason::InvalidCommand)]);
    // unknown instrument comes first
    s.submit(limit(1, 42, Buy, 0, 100).on(5))
        .expect(&[Rej(1, Reason::UnknownInstrument)]);
    assert_eq!(s.eng.live_orders(), 0);
}

#[test]
fn reject_duplicate_order_id_only_while_live_and_per_instrument() {
    let mut s = Script::new();
    let y = s.add_instrument(InstrumentSpec::new("YY", 1, 1));
    s.buy(1, ALICE, 5, 100);
    s.buy(1, BOB, 5, 99)
        .expect(&[Rej(1, Reason::DuplicateOrderId)]);
    s.submit(market(1, BOB, Sell, 1))
        .expect(&[Rej(1, Reason::DuplicateOrderId)]);
    // Another instrument may use the same id.
    s.submit(limit(1, BOB, Buy, 5, 99).on(y)).expect(&[Acc(1)]);
    // Waiting stops are live.
    s.submit(stop(2, ALICE, Buy, 5, 200))
        .submit(limit(2, ALICE, Buy, 5, 90))
        .expect(&[Rej(2, Reason::DuplicateOrderId)]);
    // Duplicate beats the later checks.
    s.submit(limit(1, ALICE, Buy, 0, 100).ioc().post_only())
        .expect(&[Rej(1, Reason::DuplicateOrderId)]);
    // Unknown account comes before duplicate.
    s.submit(limit(1, 42, Buy, 5, 100))
        .expect(&[Rej(1, Reason::InvalidCommand)]);
    // Finished ids may be reused: filled, cancelled, rejected.
    s.sell(3, BOB, 5, 100)
        .expect(&[Acc(3), Trade(3, 1, 100, 5)]);
    s.buy(1, CAROL, 2, 98).expect(&[Acc(1)]);
    s.cancel(2)
        .submit(stop(2, CAROL, Sell, 1, 50))
        .expect(&[Acc(2)]);
    s.submit(market(4, CAROL, Sell, 1))
        .submit(market(4, CAROL, Sell, 1))
        .expect(&[Acc(4), Trade(4, 1, 98, 1)]);
}

#[test]
fn reject_invalid_quantities() {
    let mut s = Script::with_spec(lot_spec());
    s.buy(1, ALICE, 0, 500)
        .expect(&[Rej(1, Reason::InvalidQty)]);
    s.buy(1, ALICE, 25, 500)
        .expect(&[Rej(1, Reason::QtyOffLot)]);
    s.buy(1, ALICE, 10, 500)
        .expect(&[Rej(1, Reason::QtyBelowMin)]);
    s.buy(1, ALICE, 1010, 500)
        .expect(&[Rej(1, Reason::QtyAboveMax)]);
    s.submit(market(1, ALICE, Buy, 5))
        .expect(&[Rej(1, Reason::QtyOffLot)]);
    s.submit(stop(1, ALICE, Buy, 2000, 500))
        .expect(&[Rej(1, Reason::QtyAboveMax)]);
    // In this order: zero, lot, min, max.
    s.buy(1, ALICE, 5, 500).expect(&[Rej(1, Reason::QtyOffLot)]);
    s.buy(1, ALICE, 1005, 500)
        .expect(&[Rej(1, Reason::QtyOffLot)]);
    // Quantity before display and price.
    s.submit(limit(1, ALICE, Buy, 0, 503).display(15))
        .expect(&[Rej(1, Reason::InvalidQty)]);
    // Bounds are inclusive.
    s.buy(1, ALICE, 20, 500).expect(&[Acc(1)]);
    s.buy(2, ALICE, 1000, 495).expect(&[Acc(2)]);
    // post_only misuse is checked before quantities.
    s.submit(limit(3, ALICE, Buy, 0, 500).ioc().post_only())
        .expect(&[Rej(3, Reason::InvalidOrder)]);
}

#[test]
fn reject_invalid_display() {
    let mut s = Script::with_spec(lot_spec());
    s.submit(market(1, ALICE, Buy, 50).display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(market(1, ALICE, Buy, 50).tif(Tif::Gtc).display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(stop(1, ALICE, Buy, 50, 500).display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(limit(1, ALICE, Buy, 50, 500).ioc().display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(limit(1, ALICE, Buy, 50, 500).fok().display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(stop_limit(1, ALICE, Buy, 50, 500, 500).ioc().display(20))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(limit(1, ALICE, Buy, 50, 500).display(60))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    s.submit(limit(1, ALICE, Buy, 50, 500).display(15))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    // Display before price.
    s.submit(limit(1, ALICE, Buy, 50, 503).display(15))
        .expect(&[Rej(1, Reason::InvalidDisplay)]);
    // A display below min_qty is fine as long as it is on the lot; so is a GTC stop-limit iceberg.
    s.submit(limit(1, ALICE, Buy, 50, 500).display(10))
        .expect(&[Acc(1)]);
    s.submit(stop_limit(2, ALICE, Buy, 50, 500, 600).display(10))
        .expect(&[Acc(2)]);
    s.expect_depth(&[(500, 10, 1)], &[]);
}

#[test]
fn reject_prices_off_tick_and_overflowing() {
    let mut s = Script::with_spec(lot_spec());
    s.buy(1, ALICE, 20, 502)
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.buy(1, ALICE, 20, -3)
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.buy(1, ALICE, 20, Price::MIN)
        .expect(&[Rej(1, Reason::Overflow)]);
    s.submit(stop(1, ALICE, Buy, 20, 503))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.submit(stop(1, ALICE, Sell, 20, Price::MIN))
        .expect(&[Rej(1, Reason::Overflow)]);
    s.submit(stop_limit(1, ALICE, Buy, 20, 500, 503))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    s.submit(stop_limit(1, ALICE, Buy, 20, 502, 500))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    // The limit price is checked before the stop price.
    s.submit(stop_limit(1, ALICE, Buy, 20, Price::MIN, 503))
        .expect(&[Rej(1, Reason::Overflow)]);
    s.submit(stop_limit(1, ALICE, Buy, 20, 502, Price::MIN))
        .expect(&[Rej(1, Reason::PriceOffTick)]);
    // Market and stop orders ignore the limit price field.
    s.submit(NewOrder {
        price: 3,
        ..market(1, ALICE, Buy, 20)
    })
    .expect(&[Acc(1), Cxl(1, 20, Reason::NoLiquidity)]);
    s.submit(NewOrder {
        price: 3,
        ..stop(2, ALICE, Buy, 20, 600)
    })
    .expect(&[Acc(2)]);
    // Negative prices on the tick are fine.
    s.buy(3, ALICE, 20, -500).expect(&[Acc(3)]);
    s.expect_depth(&[(-500, 20, 1)], &[]);
}

#[test]
fn reject_price_band_after_the_first_trade_only() {
    let mut s = Script::with_spec(lot_spec());
    // No trade yet: anything goes.
    s.buy(1, ALICE, 20, 5)
        .sell(2, ALICE, 20, 100_000)
        .expect(&[Acc(2)]);
    s.sell(3, BOB, 20, 500)
        .buy(4, CAROL, 20, 500)
        .expect(&[Acc(4), Trade(4, 3, 500, 20)]);
    s.buy(5, ALICE, 20, 445)
        .expect(&[Rej(5, Reason::PriceBand)]);
    s.sell(5, ALICE, 20, 555)
        .expect(&[Rej(5, Reason::PriceBand)]);
    s.submit(stop_limit(5, ALICE, Buy, 20, 555, 520))
        .expect(&[Rej(5, Reason::PriceBand)]);
    // Tick before band.
    s.buy(5, ALICE, 20, 443)
        .expect(&[Rej(5, Reason::PriceOffTick)]);
    // The band edges pass; market and stop orders have no limit price to check.
    s.buy(5, ALICE, 20, 450).expect(&[Acc(5)]);
    s.sell(6, ALICE, 20, 550).expect(&[Acc(6)]);
    s.submit(stop(7, ALICE, Buy, 20, 9_000)).expect(&[Acc(7)]);
    s.submit(market(8, BOB, Sell, 20))
        .expect(&[Acc(8), Trade(8, 5, 450, 20)]);
    // The band follows the last trade.
    s.buy(9, ALICE, 20, 400).expect(&[Acc(9)]);
    // Band before would_take.
    s.submit(limit(10, BOB, Sell, 20, 395).post_only())
        .expect(&[Rej(10, Reason::PriceBand)]);
    s.submit(limit(10, BOB, Sell, 20, 400).post_only())
        .expect(&[Rej(10, Reason::WouldTake)]);
}

#[test]
fn no_band_means_no_price_limit() {
    let mut s = Script::new();
    s.print(1, 100);
    s.buy(3, ALICE, 1, 1)
        .sell(4, ALICE, 1, 1_000_000)
        .expect(&[Acc(4)]);
}

#[test]
fn reject_overflow_of_a_levels_shown_quantity() {
    let mut s = Script::new();
    s.buy(1, ALICE, u64::MAX - 1, 100).expect(&[Acc(1)]);
    s.buy(2, BOB, 2, 100).expect(&[Rej(2, Reason::Overflow)]);
    // An iceberg counts only its first slice.
    s.submit(limit(2, BOB, Buy, u64::MAX, 100).display(1))
        .expect(&[Acc(2)]);
    s.buy(3, BOB, 1, 100).expect(&[Rej(3, Reason::Overflow)]);
    s.expect_depth(&[(100, u64::MAX, 2)], &[]);
    // Other levels are independent.
    s.buy(3, BOB, u64::MAX, 99).expect(&[Acc(3)]);
    // A crossing order trades instead of resting on the full level.
    s.sell(4, CAROL, 5, 100)
        .expect(&[Acc(4), Trade(4, 1, 100, 5)]);
    s.buy(5, BOB, 5, 100).expect(&[Acc(5)]);
}

#[test]
fn triggered_stop_limit_that_would_overflow_its_level_is_cancelled() {
    let mut s = Script::new();
    s.submit(stop_limit(1, ALICE, Buy, 5, 100, 101))
        .expect(&[Acc(1)]);
    s.buy(2, BOB, u64::MAX - 1, 100).sell(3, CAROL, 1, 101);
    s.buy(4, DAVE, 1, 101).expect(&[
        Acc(4),
        Trade(4, 3, 101, 1),
        Trig(1, 101),
        Cxl(1, 5, Reason::Overflow),
    ]);
    s.expect_gone(1)
        .expect_depth(&[(100, u64::MAX - 1, 1)], &[]);
}

#[test]
fn reject_reasons_have_a_fixed_precedence() {
    let mut s = Script::with_spec(lot_spec());
    s.sell(1, BOB, 20, 500)
        .buy(2, CAROL, 20, 500)
        .sell(3, BOB, 20, 510);
    let cases: Vec<(NewOrder, Reason)> = vec![
        (limit(9, 42, Buy, 0, 503).on(7), Reason::UnknownInstrument),
        (limit(3, 42, Buy, 0, 503), Reason::InvalidCommand),
        (
            limit(3, ALICE, Buy, 0, 503).ioc().post_only(),
            Reason::DuplicateOrderId,
        ),
        (
            limit(9, ALICE, Buy, 0, 503).ioc().post_only(),
            Reason::InvalidOrder,
        ),
        (limit(9, ALICE, Buy, 0, 503).display(15), Reason::InvalidQty),
        (limit(9, ALICE, Buy, 15, 503).display(15), Reason::QtyOffLot),
        (
            limit(9, ALICE, Buy, 10, 503).display(15),
            Reason::QtyBelowMin,
        ),
        (
            limit(9, ALICE, Buy, 2000, 503).display(15),
            Reason::QtyAboveMax,
        ),
        (
            limit(9, ALICE, Buy, 50, 503).display(15),
            Reason::InvalidDisplay,
        ),
        (
            stop_limit(9, ALICE, Buy, 50, 503, 503),
            Reason::PriceOffTick,
        ),
        (
            stop_limit(9, ALICE, Buy, 50, 900, 503),
            Reason::PriceOffTick,
        ),
        (limit(9, ALICE, Buy, 50, 900).post_only(), Reason::PriceBand),
        (limit(9, ALICE, Buy, 50, 510).post_only(), Reason::WouldTake),
    ];
    for (order, reason) in cases {
        s.submit(order).expect(&[Rej(order.order_id, reason)]);
    }
    assert_eq!(s.eng.live_orders(), 1);
}

#[test]
fn a_reject_changes_nothing_but_seq() {
    let mut s = Script::new();
    s.buy(1, ALICE, 5, 100);
    let mut twin = Script::new();
    twin.buy(1, ALICE, 5, 100);
    s.buy(1, ALICE, 5, 100)
        .expect(&[Rej(1, Reason::DuplicateOrderId)]);
    assert_ne!(s.hash(), twin.hash(), "seq is part of the state");
    twin.cancel(9).expect(&[Rej(9, Reason::UnknownOrder)]);
    assert_eq!(s.hash(), twin.hash());
    let r = s.events()[0];
    assert_eq!(
        (r.price, r.qty, r.leaves_qty, r.maker_order_id),
        (None, 0, 0, 0)
    );
}

// ---- sequencing and time -------------------------------------------------------------------

#[test]
fn seq_starts_at_one_and_increases_by_one_per_event_ts_is_copied() {
    let mut s = Script::new();
    assert_eq!(s.eng.seq(), 0);
    s.at(500).sell(1, BOB, 5, 100);
    assert_eq!((s.events()[0].seq, s.events()[0].ts), (1, 500));
    // Time may even go backwards: the engine copies it and never reads a clock.
    s.at(7).buy(2, ALICE, 3, 100);
    assert!(s.events().iter().all(|e| e.ts == 7));
    s.at(7).cancel(99).at(1 << 62).cancel(1);
    assert_eq!(s.events()[0].ts, 1 << 62);
    let seqs: Vec<u64> = s.log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=s.log.len() as u64).collect::<Vec<_>>());
    assert_eq!(s.eng.seq(), s.log.len() as u64);
    // Commands without events do not consume seqs.
    s.mass_cancel(DAVE, None, None).expect(&[]);
    assert_eq!(s.eng.seq(), s.log.len() as u64);
}

// ---- queries ---------------------------------------------------------------------------------

#[test]
fn queries_bbo_and_depth() {
    let mut s = Script::new();
    assert_eq!(s.eng.bbo(X), Some((None, None)));
    assert_eq!(s.eng.bbo(3), None);
    assert_eq!(s.eng.depth(3, 5), None);
    s.buy(1, ALICE, 5, 98)
        .buy(2, BOB, 5, 99)
        .buy(3, CAROL, 2, 99)
        .buy(4, ALICE, 1, 97);
    s.sell(5, ALICE, 4, 101)
        .sell(6, BOB, 1, 103)
        .submit(limit(7, BOB, Sell, 10, 102).display(3));
    s.expect_bbo(Some((99, 7)), Some((101, 4)));
    let (bids, asks) = s.eng.depth(X, 2).unwrap();
    assert_eq!(bids, vec![(99, 7, 2), (98, 5, 1)]);
    assert_eq!(asks, vec![(101, 4, 1), (102, 3, 1)]);
    assert_eq!(s.eng.depth(X, 0).unwrap(), (vec![], vec![]));
    s.expect_depth(
        &[(99, 7, 2), (98, 5, 1), (97, 1, 1)],
        &[(101, 4, 1), (102, 3, 1), (103, 1, 1)],
    );
    assert_eq!(s.eng.last_trade_price(X), None);
    assert_eq!(s.eng.last_trade_price(3), None);
}

#[test]
fn queries_order_and_open_orders() {
    let mut s = Script::new();
    let y = s.add_instrument(InstrumentSpec::new("YY", 1, 1));
    s.submit(limit(9, ALICE, Buy, 5, 50).on(y));
    s.submit(
        limit(4, ALICE, Sell, 30, 101)
            .display(10)
            .stp(Stp::Decrement),
    );
    s.submit(stop_limit(2, ALICE, Buy, 3, 104, 103).tif(Tif::Ioc));
    s.submit(limit(1, ALICE, Buy, 5, 99).on(y));
    s.buy(7, BOB, 8, 101).expect(&[Acc(7), Trade(7, 4, 101, 8)]);

    let v = s.eng.order(X, 4).unwrap();
    assert_eq!(
        v,
        pyengine_core::OrderView {
            instrument: X,
            order_id: 4,
            account: ALICE,
            side: Sell,
            order_type: OrderType::Limit,
            tif: Tif::Gtc,
            stp: Stp::Decrement,
            post_only: false,
            price: Some(101),
            stop_price: None,
            qty: 30,
            leaves_qty: 22,
            filled_qty: 8,
            display_qty: 10,
            visible_qty: 2,
            status: "partially_filled",
        }
    );
    let w = s.eng.order(X, 2).unwrap();
    assert_eq!(
        (
            w.status,
            w.tif,
            w.price,
            w.stop_price,
            w.filled_qty,
            w.visible_qty
        ),
        ("pending_trigger", Tif::Ioc, Some(104), Some(103), 0, 0)
    );
    assert_eq!(s.eng.order(y, 9).unwrap().status, "new");
    assert_eq!(s.eng.order(X, 7), None);
    assert_eq!(s.eng.order(X, 9), None, "ids are per instrument");
    assert_eq!(s.eng.order(5, 4), None);

    let open: Vec<(InstrumentId, OrderId)> = s
        .eng
        .open_orders(ALICE)
        .iter()
        .map(|o| (o.instrument, o.order_id))
        .collect();
    assert_eq!(open, vec![(X, 2), (X, 4), (y, 1), (y, 9)]);
    assert!(s.eng.open_orders(BOB).is_empty());
    assert!(s.eng.open_orders(77).is_empty());
    assert_eq!(s.eng.live_orders(), 4);
}

#[test]
fn instruments_and_accounts_registry() {
    let mut eng = Engine::new();
    let a = eng.add_instrument(InstrumentSpec::new("A", 1, 1)).unwrap();
    let b = eng.add_instrument(lot_spec()).unwrap();
    assert_eq!((a, b), (0, 1));
    assert!(eng.add_instrument(InstrumentSpec::new("A", 1, 1)).is_err());
    assert!(eng.add_instrument(InstrumentSpec::new("Z", 0, 1)).is_err());
    assert_eq!(eng.instrument_id("LOT"), Some(b));
    assert_eq!(eng.instrument(b).unwrap().tick_size, 5);
    assert_eq!(eng.instrument_count(), 2);
    let x = eng.account_id("x");
    assert_eq!(eng.account_id("x"), x);
    assert_eq!(eng.find_account("x"), Some(x));
    assert_eq!(eng.find_account("y"), None);
    assert_eq!(eng.account_name(x), Some("x"));
}

// ---- state hash ----------------------------------------------------------------------------------

#[test]
fn state_hash_is_equal_for_equal_states_reached_by_different_paths() {
    // Order 1 lands in a different slab slot in each path.
    let mut a = Script::new();
    a.buy(1, ALICE, 10, 100).buy(2, BOB, 5, 99).cancel(2);
    let mut b = Script::new();
    b.buy(3, BOB, 5, 98).buy(1, ALICE, 10, 100).cancel(3);
    assert_eq!(a.hash(), b.hash());

    // A decrease by amend equals entering the smaller order (plus a reject for the seq).
    let mut a = Script::new();
    a.buy(1, ALICE, 10, 100).amend(1, Some(6), None);
    let mut b = Script::new();
    b.buy(1, ALICE, 6, 100).cancel(1).buy(1, ALICE, 6, 100);
    let mut c = Script::new();
    c.buy(1, ALICE, 6, 100).cancel(42);
    assert_ne!(a.hash(), b.hash(), "different seq");
    assert_eq!(a.hash(), c.hash());

    // Queues by time order, whatever the slots: cancel/re-enter vs. enter in order.
    let mut a = Script::new();
    a.buy(1, ALICE, 1, 100)
        .buy(2, BOB, 1, 100)
        .cancel(1)
        .buy(1, ALICE, 1, 100);
    let mut b = Script::new();
    b.buy(3, CAROL, 1, 90)
        .buy(2, BOB, 1, 100)
        .buy(1, ALICE, 1, 100)
        .cancel(3);
    assert_eq!(a.hash(), b.hash());

    // A waiting stop entered before or after a resting order.
    let mut a = Script::new();
    a.submit(stop(1, ALICE, Buy, 5, 110)).buy(2, BOB, 5, 100);
    let mut b = Script::new();
    b.buy(2, BOB, 5, 100).submit(stop(1, ALICE, Buy, 5, 110));
    assert_eq!(a.hash(), b.hash());
}

#[test]
fn state_hash_differs_for_different_states() {
    let base = || {
        let mut s = Script::new();
        s.buy(1, ALICE, 10, 100).sell(2, BOB, 10, 105);
        s
    };
    let h0 = base().hash();
    assert_eq!(h0, base().hash());
    let variants: Vec<Script> = vec![
        {
            let mut s = Script::new();
            s.buy(1, ALICE, 10, 101).sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.buy(1, ALICE, 11, 100).sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.buy(1, CAROL, 10, 100).sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.buy(3, ALICE, 10, 100).sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.submit(limit(1, ALICE, Buy, 10, 100).display(5))
                .sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.submit(limit(1, ALICE, Buy, 10, 100).post_only())
                .sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.submit(limit(1, ALICE, Buy, 10, 100).stp(Stp::CancelBoth))
                .sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.submit(stop_limit(1, ALICE, Buy, 10, 100, 120))
                .sell(2, BOB, 10, 105);
            s
        },
        {
            let mut s = Script::new();
            s.sell(2, BOB, 10, 105).buy(1, ALICE, 10, 100);
            s.eng.account_id("erin");
            s
        },
    ];
    for (i, v) in variants.iter().enumerate() {
        assert_ne!(v.hash(), h0, "variant {i}");
    }
    // Queue order matters.
    let mut a = Script::new();
    a.buy(1, ALICE, 1, 100).buy(2, BOB, 1, 100);
    let mut b = Script::new();
    b.buy(2, BOB, 1, 100).buy(1, ALICE, 1, 100);
    assert_ne!(a.hash(), b.hash());
    // Fills and the last trade price matter.
    let mut a = Script::new();
    a.buy(1, ALICE, 10, 100).sell(2, BOB, 3, 100);
    let mut b = Script::new();
    b.buy(1, ALICE, 7, 100).buy(3, BOB, 1, 90).cancel(3);
    assert_ne!(a.hash(), b.hash());
}

#[test]
fn a_clone_has_the_same_hash_and_behaves_the_same() {
    let mut s = Script::new();
    s.buy(1, ALICE, 10, 100)
        .sell(2, BOB, 4, 100)
        .submit(stop(3, CAROL, Sell, 2, 95))
        .submit(limit(4, DAVE, Sell, 9, 103).display(3));
    let mut twin = Script {
        eng: s.eng.clone(),
        ts: s.ts,
        last: Vec::new(),
        log: Vec::new(),
    };
    assert_eq!(twin.hash(), s.hash());
    s.sell(5, BOB, 10, 95);
    twin.sell(5, BOB, 10, 95);
    assert_eq!(s.events(), twin.events());
    assert_eq!(s.hash(), twin.hash());
    twin.cancel(4);
    assert_ne!(s.hash(), twin.hash());
}
