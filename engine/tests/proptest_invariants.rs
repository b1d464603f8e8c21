//! Property tests: random command streams over several instruments and
//! accounts, every order type, TIF, STP mode, icebergs, cancels, amends (of
//! stops too), mass cancels and a sprinkling of invalid values.
//!
//! After every command: `check_invariants()` holds, seqs continue by exactly
//! one per event, every event carries the command's timestamp, and the live
//! orders (with their open quantity) are exactly what the events imply.
//! A second engine fed the same stream in lockstep emits the same events and
//! has the same `state_hash()`; a clone taken halfway hashes equal and keeps
//! behaving identically.

use std::collections::BTreeMap;

use proptest::prelude::*;
use pyengine_core::{
    AccountId, Command, Engine, Event, EventKind, InstrumentId, InstrumentSpec, NewOrder, OrderId,
    OrderType, Price, Qty, Side, Stp, Tif,
};

const ACCOUNTS: u32 = 4;
const UNKNOWN_ACCOUNT: AccountId = 9;
const UNKNOWN_INSTRUMENT: InstrumentId = 3;
/// Quantities above this are "huge" (they exist to hit the overflow checks).
const HUGE: Qty = 1 << 40;

/// `A`: plain; `B`: tick 5, lot 10, min 20, max 500, band 50; `C`: plain, gets huge quantities.
fn specs() -> Vec<InstrumentSpec> {
    vec![
        InstrumentSpec::new("A", 1, 1),
        InstrumentSpec {
            symbol: "B".to_string(),
            tick_size: 5,
            lot_size: 10,
            min_qty: 20,
            max_qty: 500,
            price_band: Some(50),
        },
        InstrumentSpec::new("C", 1, 1),
    ]
}

/// Price level around which each instrument trades (in ticks of that instrument).
fn center(inst: InstrumentId) -> Price {
    match inst {
        1 => 500,
        _ => 100,
    }
}

fn engine() -> Engine {
    let mut eng = Engine::new();
    for spec in specs() {
        eng.add_instrument(spec).unwrap();
    }
    for name in ["alice", "bob", "carol", "dave"] {
        eng.account_id(name);
    }
    eng
}

// ---- raw generated values and their mapping to commands ----------------------

/// Selectors drawn by proptest; `command()` turns them into values that fit
/// (mostly) the instrument.
#[derive(Clone, Debug)]
enum Op {
    New {
        head: (u8, OrderId, u8, bool, u8, u8, u8, u8),
        body: (u8, i8, u8, i8, u8, u8),
    },
    Cancel {
        inst: u8,
        id: OrderId,
    },
    Amend {
        inst: u8,
        id: OrderId,
        qty: Option<u8>,
        price: Option<(u8, i8)>,
        stop: Option<(u8, i8)>,
    },
    Mass {
        acct: u8,
        inst: Option<u8>,
        side: Option<bool>,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let id = 1u64..=20;
    let new = (
        (
            any::<u8>(),
            id.clone(),
            any::<u8>(),
            any::<bool>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
        ),
        (
            any::<u8>(),
            -6i8..=6,
            any::<u8>(),
            -6i8..=6,
            any::<u8>(),
            any::<u8>(),
        ),
    )
        .prop_map(|(head, body)| Op::New { head, body });
    let cancel = (any::<u8>(), id.clone()).prop_map(|(inst, id)| Op::Cancel { inst, id });
    let amend = (
        any::<u8>(),
        id,
        proptest::option::weighted(0.6, any::<u8>()),
        proptest::option::weighted(0.5, (any::<u8>(), -6i8..=6)),
        proptest::option::weighted(0.25, (any::<u8>(), -6i8..=6)),
    )
        .prop_map(|(inst, id, qty, price, stop)| Op::Amend {
            inst,
            id,
            qty,
            price,
            stop,
        });
    let mass = (
        any::<u8>(),
        proptest::option::of(any::<u8>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(acct, inst, side)| Op::Mass { acct, inst, side });
    prop_oneof![60 => new, 12 => cancel, 22 => amend, 3 => mass]
}

fn instrument(sel: u8) -> InstrumentId {
    match sel % 32 {
        0..=13 => 0,
        14..=23 => 1,
        24..=30 => 2,
        _ => UNKNOWN_INSTRUMENT,
    }
}

fn account(sel: u8) -> AccountId {
    if sel % 40 == 39 {
        UNKNOWN_ACCOUNT
    } else {
        u32::from(sel) % ACCOUNTS
    }
}

fn spec_of(inst: InstrumentId) -> InstrumentSpec {
    specs()
        .into_iter()
        .nth(inst as usize)
        .unwrap_or_else(|| InstrumentSpec::new("?", 1, 1))
}

/// Mostly 1..=8 lots; sometimes zero, off the lot, above the max or huge.
fn qty(inst: InstrumentId, sel: u8) -> Qty {
    let spec = spec_of(inst);
    let lots = u64::from(sel % 8) + 1;
    match sel / 8 {
        0 => 0,
        1 => spec.lot_size * lots + 1,
        2 => spec.max_qty.saturating_add(spec.lot_size),
        3 if inst == 2 => u64::MAX / 2 + u64::from(sel % 3),
        4 if inst == 2 => u64::MAX - u64::from(sel % 2),
        _ => spec.lot_size * lots,
    }
}

/// `center + off` ticks; sometimes off the tick, rarely `i64::MIN`.
fn price(inst: InstrumentId, sel: u8, off: i8) -> Price {
    let spec = spec_of(inst);
    match sel % 64 {
        0 => Price::MIN,
        1 | 2 => center(inst) + i64::from(off) * spec.tick_size + 1,
        // Far away: outside the band of `B`.
        3 => center(inst) + i64::from(off) * spec.tick_size * 20,
        _ => center(inst) + i64::from(off) * spec.tick_size,
    }
}

/// Cancels and amends mostly aim at a live order of the instrument (chosen
/// from the engine's state when the command is generated), sometimes at any id.
fn target(eng: &Engine, instrument: InstrumentId, id: OrderId) -> OrderId {
    if id.is_multiple_of(5) {
        return id;
    }
    let live: Vec<OrderId> = (0..ACCOUNTS)
        .flat_map(|a| eng.open_orders(a))
        .filter(|o| o.instrument == instrument)
        .map(|o| o.order_id)
        .collect();
    if live.is_empty() {
        id
    } else {
        live[id as usize % live.len()]
    }
}

/// The command `op` stands for, given the engine it is about to be applied to.
fn command(op: &Op, eng: &Engine) -> Command {
    match *op {
        Op::New {
            head: (inst, order_id, acct, buy, kind, tif, stp, flags),
            body: (q, p_off, s_sel, s_off, d_sel, p_sel),
        } => {
            let instrument = instrument(inst);
            let order_type = match kind % 20 {
                0..=10 => OrderType::Limit,
                11..=12 => OrderType::Market,
                13..=15 => OrderType::Stop,
                _ => OrderType::StopLimit,
            };
            let tif = match tif % 10 {
                0..=6 => Tif::Gtc,
                7 | 8 => Tif::Ioc,
                _ => Tif::Fok,
            };
            let stp = match stp % 8 {
                0..=3 => Stp::None,
                n => Stp::from_code(n - 3).unwrap(),
            };
            let lot = spec_of(instrument).lot_size;
            let qty = qty(instrument, q);
            let display_qty = match d_sel % 16 {
                0..=10 => 0,
                // A huge iceberg with a tiny slice against a huge taker trades
                // one slice at a time (2^63 trades): keep huge slices huge.
                _ if qty > HUGE => qty / 2,
                11 => lot + 1,
                12 => qty.saturating_add(lot),
                n => lot * u64::from(n - 12),
            };
            Command::Submit(NewOrder {
                instrument,
                order_id,
                account: account(acct),
                side: if buy { Side::Buy } else { Side::Sell },
                order_type,
                tif,
                stp,
                post_only: flags % 10 == 0,
                qty,
                price: price(instrument, p_sel, p_off),
                stop_price: price(instrument, s_sel, s_off),
                display_qty,
            })
        }
        Op::Cancel { inst, id } => {
            let instrument = instrument(inst);
            Command::Cancel {
                instrument,
                order_id: target(eng, instrument, id),
            }
        }
        Op::Amend {
            inst,
            id,
            qty: q,
            price: p,
            stop,
        } => {
            let instrument = instrument(inst);
            Command::Amend {
                instrument,
                order_id: target(eng, instrument, id),
                // Amends mostly stay small so that "at or below filled" happens too,
                // and never huge (an iceberg amended to 2^63 would refill forever).
                qty: q.map(|sel| {
                    let lot = spec_of(instrument).lot_size;
                    match qty(instrument, sel) {
                        _ if sel % 5 == 0 => lot * u64::from(sel % 3),
                        q if q > HUGE => lot * u64::from(sel % 8 + 1),
                        q => q,
                    }
                }),
                price: p.map(|(sel, off)| price(instrument, sel, off)),
                stop_price: stop.map(|(sel, off)| price(instrument, sel, off)),
            }
        }
        Op::Mass { acct, inst, side } => Command::MassCancel {
            account: account(acct),
            instrument: inst.map(instrument),
            side: side.map(|b| if b { Side::Buy } else { Side::Sell }),
        },
    }
}

// ---- checks ---------------------------------------------------------------------

/// `(open quantity, filled quantity)` of every live order as the events tell it.
type Shadow = BTreeMap<(InstrumentId, OrderId), (Qty, Qty)>;

fn apply_to_shadow(shadow: &mut Shadow, e: &Event) {
    let key = |id| (e.instrument, id);
    // Updates an order's open quantity (adding `filled`), forgetting it at zero.
    let mut update = |id: OrderId, leaves: Qty, filled: Qty| {
        let entry = shadow.entry(key(id)).or_insert((0, 0));
        entry.0 = leaves;
        entry.1 += filled;
        if leaves == 0 {
            shadow.remove(&key(id));
        }
    };
    match e.kind {
        EventKind::Rejected => {}
        EventKind::Accepted => {
            shadow.insert(key(e.order_id), (e.leaves_qty, 0));
        }
        EventKind::Trade => {
            update(e.order_id, e.leaves_qty, e.qty);
            update(e.maker_order_id, e.maker_leaves_qty, e.qty);
        }
        EventKind::Cancelled | EventKind::Amended | EventKind::Triggered => {
            update(e.order_id, e.leaves_qty, 0)
        }
    }
}

fn live_orders(eng: &Engine) -> Shadow {
    (0..ACCOUNTS)
        .flat_map(|a| eng.open_orders(a))
        .map(|o| ((o.instrument, o.order_id), (o.leaves_qty, o.filled_qty)))
        .collect()
}

/// Runs one command on `eng` and checks everything that must hold after it.
fn step(
    eng: &mut Engine,
    ts: u64,
    cmd: &Command,
    shadow: &mut Shadow,
) -> Result<Vec<Event>, TestCaseError> {
    let before = eng.seq();
    let mut out = Vec::new();
    eng.process(ts, cmd, &mut out);
    if let Err(msg) = eng.check_invariants() {
        return Err(TestCaseError::fail(format!(
            "invariant broken after {cmd:?}: {msg}\nevents: {out:#?}"
        )));
    }
    for (i, e) in out.iter().enumerate() {
        prop_assert_eq!(
            e.seq,
            before + 1 + i as u64,
            "seq must continue by one: {:?}",
            e
        );
        prop_assert_eq!(e.ts, ts);
        match e.kind {
            EventKind::Trade => {
                prop_assert!(e.qty > 0 && e.price.is_some(), "empty trade {:?}", e);
                prop_assert_ne!(
                    e.order_id == e.maker_order_id && e.account == e.maker_account,
                    true
                );
            }
            EventKind::Cancelled => prop_assert!(e.qty > 0, "empty cancel {:?}", e),
            _ => {}
        }
        apply_to_shadow(shadow, e);
    }
    prop_assert_eq!(eng.seq(), before + out.len() as u64);
    if !matches!(cmd, Command::MassCancel { .. }) {
        prop_assert!(!out.is_empty(), "{:?} emitted nothing", cmd);
    }
    let live = live_orders(eng);
    prop_assert_eq!(
        &live,
        shadow,
        "live orders (open, filled) differ from what the events say after {:?}",
        cmd
    );
    prop_assert_eq!(live.len(), eng.live_orders());
    Ok(out)
}

fn run_stream(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut cmds: Vec<Command> = Vec::with_capacity(ops.len());
    let mut eng = engine();
    let mut replay = engine();
    let (mut shadow, mut shadow_replay) = (Shadow::new(), Shadow::new());
    prop_assert_eq!(eng.state_hash(), replay.state_hash());
    let half = ops.len() / 2;
    let mut clone: Option<(Engine, Shadow)> = None;
    for (i, op) in ops.iter().enumerate() {
        let cmd = &command(op, &eng);
        cmds.push(*cmd);
        let ts = 1_000 + 7 * i as u64;
        if i == half {
            let c = eng.clone();
            prop_assert_eq!(c.state_hash(), eng.state_hash(), "a clone hashes equal");
            clone = Some((c, shadow.clone()));
        }
        let events = step(&mut eng, ts, cmd, &mut shadow)?;
        let again = step(&mut replay, ts, cmd, &mut shadow_replay)?;
        prop_assert_eq!(
            &events,
            &again,
            "replay diverged at command {} {:?}",
            i,
            cmd
        );
        prop_assert_eq!(
            eng.state_hash(),
            replay.state_hash(),
            "replay hash diverged at command {}",
            i
        );
    }
    // The clone, fed the second half, ends where the original did.
    if let Some((mut c, mut c_shadow)) = clone {
        for (i, cmd) in cmds.iter().enumerate().skip(half) {
            step(&mut c, 1_000 + 7 * i as u64, cmd, &mut c_shadow)?;
        }
        prop_assert_eq!(c.state_hash(), eng.state_hash());
        prop_assert_eq!(c.seq(), eng.seq());
    }
    prop_assert_eq!(eng.clone().state_hash(), eng.state_hash());
    // The whole stream through `process_batch` (lookahead prefetching) gives
    // the same events and state as one `process` call per command.
    let mut batched = engine();
    let (mut evs, mut buf) = (Vec::new(), Vec::new());
    batched.process_batch(
        &cmds,
        |i| 1_000 + 7 * i as u64,
        &mut buf,
        |_, e| evs.extend_from_slice(e),
    );
    let mut single = engine();
    let mut want = Vec::new();
    for (i, cmd) in cmds.iter().enumerate() {
        single.process(1_000 + 7 * i as u64, cmd, &mut want);
    }
    prop_assert_eq!(&evs, &want, "process_batch events differ");
    prop_assert_eq!(batched.state_hash(), eng.state_hash());
    batched.check_invariants().map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #[test]
    fn random_streams_keep_every_invariant(ops in proptest::collection::vec(op_strategy(), 1..250)) {
        run_stream(&ops)?;
    }
}

// ---- targeted streams --------------------------------------------------------------

/// Streams concentrated on one instrument and two accounts so that books get
/// deep, stops cascade and self-trade prevention fires often.
fn dense_op() -> impl Strategy<Value = Op> {
    op_strategy().prop_map(|op| match op {
        Op::New { mut head, body } => {
            head.0 = 0; // instrument A
            head.2 %= 2; // alice or bob
            Op::New { head, body }
        }
        Op::Cancel { id, .. } => Op::Cancel { inst: 0, id },
        Op::Amend {
            id,
            qty,
            price,
            stop,
            ..
        } => Op::Amend {
            inst: 0,
            id,
            qty,
            price,
            stop,
        },
        Op::Mass { acct, side, .. } => Op::Mass {
            acct: acct % 2,
            inst: Some(0),
            side,
        },
    })
}

/// Streams on instrument `C` where half the new orders are huge (around
/// `u64::MAX / 2` and `u64::MAX`) at a handful of prices, so that the level
/// overflow checks (entry, amend and triggered stop-limits) are hit.
fn huge_op() -> impl Strategy<Value = Op> {
    dense_op().prop_map(|op| match op {
        Op::New { mut head, mut body } => {
            head.0 = 24; // instrument C
            if body.0 % 2 == 0 {
                body.0 = 24 + body.0 % 16; // a huge quantity
            }
            body.1 %= 3; // prices within 100 +- 2
            body.3 %= 3;
            Op::New { head, body }
        }
        Op::Cancel { id, .. } => Op::Cancel { inst: 24, id },
        Op::Amend {
            id,
            qty,
            price,
            stop,
            ..
        } => Op::Amend {
            inst: 24,
            id,
            qty,
            price: price.map(|(sel, off)| (sel, off % 3)),
            stop,
        },
        Op::Mass { acct, side, .. } => Op::Mass {
            acct,
            inst: Some(24),
            side,
        },
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn huge_quantity_streams_keep_every_invariant(ops in proptest::collection::vec(huge_op(), 1..200)) {
        run_stream(&ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn dense_single_book_streams_keep_every_invariant(ops in proptest::collection::vec(dense_op(), 1..300)) {
        run_stream(&ops)?;
    }
}

#[test]
fn mapping_covers_the_interesting_values() {
    // Sanity of the generators themselves: every order type, tif and stp mode
    // and the invalid values are reachable.
    let mut types = std::collections::BTreeSet::new();
    let mut tifs = std::collections::BTreeSet::new();
    let mut stps = std::collections::BTreeSet::new();
    for k in 0..=255u8 {
        let op = Op::New {
            head: (0, 1, k, k % 2 == 0, k, k, k, k),
            body: (k, 0, k, 0, k, k),
        };
        if let Command::Submit(o) = command(&op, &engine()) {
            types.insert(o.order_type);
            tifs.insert(o.tif);
            stps.insert(o.stp);
        }
    }
    assert_eq!(types.len(), 4);
    assert_eq!(tifs.len(), 3);
    assert_eq!(stps.len(), 5);
    assert_eq!(qty(1, 0), 0);
    assert_eq!(qty(1, 8) % 10, 1);
    assert_eq!(qty(1, 16), 510);
    assert!(qty(2, 24) >= u64::MAX / 2);
    assert_eq!(price(0, 0, 0), Price::MIN);
    assert_eq!(price(1, 1, 0) % 5, 1);
    assert_eq!(instrument(31), UNKNOWN_INSTRUMENT);
    assert_eq!(account(39), UNKNOWN_ACCOUNT);
}

#[test]
fn generated_streams_reach_every_event_kind_and_reason() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use pyengine_core::Reason;
    let mut runner = TestRunner::deterministic();
    let mut kinds = BTreeMap::new();
    let mut reasons = BTreeMap::new();
    let streams = proptest::collection::vec(op_strategy(), 200..250);
    for _ in 0..40 {
        let ops = streams.new_tree(&mut runner).unwrap().current();
        let mut eng = engine();
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let cmd = command(op, &eng);
            eng.process(i as u64, &cmd, &mut out);
        }
        for e in &out {
            *kinds.entry(e.kind.as_str()).or_insert(0u32) += 1;
            *reasons.entry(e.reason.as_str()).or_insert(0u32) += 1;
        }
    }
    eprintln!("kinds: {kinds:?}\nreasons: {reasons:?}");
    for kind in EventKind::ALL {
        assert!(
            kinds.contains_key(kind.as_str()),
            "no {kind:?} event generated"
        );
    }
    for reason in Reason::ALL {
        assert!(
            reasons.contains_key(reason.as_str()),
            "no {reason:?} generated"
        );
    }
}
