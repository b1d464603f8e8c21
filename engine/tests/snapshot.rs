//! Snapshot tests: engines (random, workload-built and hand-built with
//! icebergs, stops, several instruments and accounts) survive a snapshot with
//! the same state hash, valid invariants, byte-identical re-snapshots and
//! identical events for the same further commands; damaged or structurally
//! invalid files give clear errors and never panic; `latest_valid` skips
//! corrupt newer snapshots.

use std::fs;
use std::path::Path;

use pyengine_core::snapshot::{self, SnapshotProblem, SNAPSHOT_HEADER_SIZE};
use pyengine_core::workloads::{self, SplitMix64};
use pyengine_core::{
    AccountId, Command, Engine, Event, InstrumentId, InstrumentSpec, NewOrder, OrderType, Side,
    Stp, Tif,
};
use tempfile::TempDir;

// ---- a random command generator over every feature ----------------------------

const ACCOUNTS: u32 = 4;

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
        InstrumentSpec::new("C-with-a-longer-symbol", 2, 3),
    ]
}

fn new_engine() -> Engine {
    let mut eng = Engine::new();
    for spec in specs() {
        eng.add_instrument(spec).unwrap();
    }
    for name in ["alice", "bob", "carol", "dave"] {
        eng.account_id(name);
    }
    eng
}

fn center(inst: InstrumentId) -> i64 {
    match inst {
        1 => 500,
        _ => 100,
    }
}

/// A random command aimed (mostly) at the live orders of `eng`.
fn random_command(rng: &mut SplitMix64, eng: &Engine) -> Command {
    let inst = if rng.below(50) == 0 {
        7
    } else {
        rng.below(3) as u32
    };
    let spec = eng
        .instrument(inst)
        .cloned()
        .unwrap_or_else(|| InstrumentSpec::new("?", 1, 1));
    let tick = spec.tick_size;
    let lot = spec.lot_size;
    let c = center(inst);
    let price = |rng: &mut SplitMix64| c + (rng.below(13) as i64 - 6) * tick;
    let live: Vec<u64> = (0..ACCOUNTS)
        .flat_map(|a| eng.open_orders(a))
        .filter(|o| o.instrument == inst)
        .map(|o| o.order_id)
        .collect();
    let target = |rng: &mut SplitMix64| {
        if live.is_empty() || rng.below(6) == 0 {
            rng.range(1, 40)
        } else {
            live[rng.index(live.len())]
        }
    };
    match rng.below(100) {
        0..=59 => {
            let order_type = match rng.below(20) {
                0..=10 => OrderType::Limit,
                11..=12 => OrderType::Market,
                13..=15 => OrderType::Stop,
                _ => OrderType::StopLimit,
            };
            let tif = match rng.below(10) {
                0..=7 => Tif::Gtc,
                8 => Tif::Ioc,
                _ => Tif::Fok,
            };
            let stp = if rng.below(3) == 0 {
                Stp::ALL[rng.index(Stp::ALL.len())]
            } else {
                Stp::None
            };
            let qty = lot * rng.range(1, 8);
            let display = if rng.below(4) == 0 {
                lot * rng.range(1, 3)
            } else {
                0
            };
            Command::Submit(NewOrder {
                instrument: inst,
                order_id: rng.range(1, 40),
                account: rng.below(u64::from(ACCOUNTS)) as AccountId,
                side: rng.side(),
                order_type,
                tif,
                stp,
                post_only: rng.below(10) == 0,
                qty,
                price: price(rng),
                stop_price: price(rng),
                display_qty: display,
            })
        }
        60..=74 => Command::Cancel {
            instrument: inst,
            order_id: target(rng),
        },
        75..=96 => Command::Amend {
            instrument: inst,
            order_id: target(rng),
            qty: (rng.below(10) < 6).then(|| lot * rng.range(1, 8)),
            price: (rng.below(2) == 0).then(|| price(rng)),
            stop_price: (rng.below(4) == 0).then(|| price(rng)),
        },
        _ => Command::MassCancel {
            account: rng.below(u64::from(ACCOUNTS)) as AccountId,
            instrument: (rng.below(2) == 0).then_some(inst),
            side: (rng.below(2) == 0).then(|| rng.side()),
        },
    }
}

// ---- the round-trip check ------------------------------------------------------

/// Snapshot `eng`, restore it, and check that both behave identically under
/// `further` more random commands (from `rng`, aimed at the original's state).
fn check_round_trip(eng: &Engine, journal_seq: u64, rng: &mut SplitMix64, further: usize) {
    let tmp = TempDir::new().unwrap();
    let path = eng.write_snapshot(tmp.path(), journal_seq).unwrap();
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        snapshot::snapshot_file_name(journal_seq)
    );
    let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temp file left behind");
    let (restored, seq) = Engine::read_snapshot(&path).unwrap();
    assert_eq!(seq, journal_seq);
    assert_same(eng, &restored);
    // Identical bytes when snapshotted again: nothing was lost or reordered.
    assert!(restored.snapshot_bytes(journal_seq) == eng.snapshot_bytes(journal_seq));

    let mut a = eng.clone();
    let mut b = restored;
    let (mut ea, mut eb): (Vec<Event>, Vec<Event>) = (Vec::new(), Vec::new());
    let mut ts = 1_000_000;
    for _ in 0..further {
        let cmd = random_command(rng, &a);
        ts += 1;
        ea.clear();
        eb.clear();
        a.process(ts, &cmd, &mut ea);
        b.process(ts, &cmd, &mut eb);
        assert_eq!(ea, eb, "events differ after restore for {cmd:?}");
    }
    assert_same(&a, &b);
}

fn assert_same(a: &Engine, b: &Engine) {
    assert_eq!(a.state_hash(), b.state_hash());
    b.check_invariants().unwrap();
    assert_eq!(a.seq(), b.seq());
    assert_eq!(a.live_orders(), b.live_orders());
    assert_eq!(a.instrument_count(), b.instrument_count());
    for inst in 0..a.instrument_count() as u32 {
        assert_eq!(a.instrument(inst), b.instrument(inst));
        assert_eq!(a.depth(inst, usize::MAX), b.depth(inst, usize::MAX));
        assert_eq!(a.last_trade_price(inst), b.last_trade_price(inst));
    }
    let mut acct = 0;
    while let Some(name) = a.account_name(acct) {
        assert_eq!(b.account_name(acct), Some(name));
        assert_eq!(b.find_account(name), Some(acct));
        assert_eq!(a.open_orders(acct), b.open_orders(acct));
        acct += 1;
    }
    assert_eq!(b.account_name(acct), None);
}

// ---- round trips ---------------------------------------------------------------

#[test]
fn empty_and_fresh_engines_round_trip() {
    let mut rng = SplitMix64::new(1);
    check_round_trip(&Engine::new(), 0, &mut rng, 0);
    check_round_trip(&new_engine(), 3, &mut rng, 200);
}

#[test]
fn random_engines_round_trip() {
    let mut stops_seen = 0;
    let mut icebergs_seen = 0;
    for seed in 0..24 {
        let mut rng = SplitMix64::new(seed);
        let mut eng = new_engine();
        let mut out = Vec::new();
        let mut ts = 0;
        for step in 1..=1_500 {
            let cmd = random_command(&mut rng, &eng);
            ts += 1;
            out.clear();
            eng.process(ts, &cmd, &mut out);
            if step % 300 == 0 {
                for a in 0..ACCOUNTS {
                    for o in eng.open_orders(a) {
                        stops_seen += usize::from(o.status == "pending_trigger");
                        icebergs_seen += usize::from(
                            o.status != "pending_trigger"
                                && o.display_qty > 0
                                && o.visible_qty < o.leaves_qty,
                        );
                    }
                }
                let mut further = SplitMix64::new(seed * 1000 + step);
                check_round_trip(&eng, step, &mut further, 300);
            }
        }
    }
    // The generator really exercised waiting stops and hidden iceberg quantity.
    assert!(stops_seen > 100, "{stops_seen} waiting stops");
    assert!(
        icebergs_seen > 50,
        "{icebergs_seen} icebergs with hidden quantity"
    );
}

/// Replays a workload's measured commands on both engines and compares events.
fn check_workload(name: &str, seed: u64, size: usize) {
    let w = workloads::generate(name, seed, size).unwrap();
    let mut eng = w.engine();
    let mut ts = w.prefill.len() as u64;
    let half = w.commands.len() / 2;
    workloads::replay(&mut eng, &w.commands[..half], &mut ts);
    let tmp = TempDir::new().unwrap();
    let path = eng.write_snapshot(tmp.path(), 12_345).unwrap();
    let (mut restored, seq) = Engine::read_snapshot(&path).unwrap();
    assert_eq!(seq, 12_345);
    assert_same(&eng, &restored);
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for cmd in &w.commands[half..] {
        ts += 1;
        ea.clear();
        eb.clear();
        eng.process(ts, cmd, &mut ea);
        restored.process(ts, cmd, &mut eb);
        assert_eq!(ea, eb, "{name}: events differ for {cmd:?}");
    }
    assert_same(&eng, &restored);
    // And the end state is the workload's.
    let mut reference = w.engine();
    let mut ts = w.prefill.len() as u64;
    workloads::replay(&mut reference, &w.commands, &mut ts);
    assert_eq!(restored.state_hash(), reference.state_hash());
}

#[test]
fn workload_engines_round_trip() {
    for seed in 1..=3 {
        check_workload("mixed_70_20_10", seed, 20_000);
        check_workload("ec_single", seed, 20_000);
    }
    check_workload("cancel_only", 1, 20_000);
    check_workload("multi_symbol", 1, 20_000);
}

#[test]
fn hand_built_state_with_icebergs_stops_and_several_instruments() {
    let mut eng = Engine::new();
    let x = eng.add_instrument(InstrumentSpec::new("X", 1, 1)).unwrap();
    let y = eng
        .add_instrument(InstrumentSpec {
            symbol: "Y".into(),
            tick_size: 5,
            lot_size: 10,
            min_qty: 10,
            max_qty: 10_000,
            price_band: Some(100),
        })
        .unwrap();
    let z = eng.add_instrument(InstrumentSpec::new("Z", 1, 1)).unwrap();
    let names = ["alice", "bob", "carol", "dave", "erin"];
    let ids: Vec<AccountId> = names.iter().map(|n| eng.account_id(n)).collect();
    let (alice, bob, carol, dave, erin) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let mut ts = 0;
    let mut out = Vec::new();
    let mut run = |eng: &mut Engine, cmd: Command| {
        ts += 1;
        out.clear();
        eng.process(ts, &cmd, &mut out);
        assert!(
            out.iter()
                .all(|e| e.kind != pyengine_core::EventKind::Rejected),
            "{cmd:?} -> {out:?}"
        );
    };
    let iceberg = |inst, id, acct, side, qty, price, display| {
        Command::Submit(NewOrder {
            display_qty: display,
            ..NewOrder::limit(inst, id, acct, side, qty, price)
        })
    };
    let stop = |inst, id, acct, side, qty, stop_price, limit: Option<i64>| {
        Command::Submit(NewOrder {
            order_type: if limit.is_some() {
                OrderType::StopLimit
            } else {
                OrderType::Stop
            },
            price: limit.unwrap_or(0),
            stop_price,
            ..NewOrder::limit(inst, id, acct, side, qty, 0)
        })
    };
    // X: icebergs on both sides, partly consumed so that slices moved to the back.
    run(&mut eng, iceberg(x, 1, alice, Side::Sell, 100, 105, 10));
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(x, 2, bob, Side::Sell, 7, 105)),
    );
    run(&mut eng, iceberg(x, 3, carol, Side::Sell, 50, 106, 20));
    run(
        &mut eng,
        Command::Submit(NewOrder::market(x, 4, dave, Side::Buy, 15)),
    );
    run(&mut eng, iceberg(x, 5, dave, Side::Buy, 60, 100, 25));
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(x, 6, erin, Side::Buy, 30, 100)),
    );
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(x, 7, alice, Side::Sell, 30, 100)),
    );
    // Waiting stops on X at equal stop prices (arrival order matters), both kinds, both sides.
    run(&mut eng, stop(x, 10, bob, Side::Buy, 5, 110, None));
    run(&mut eng, stop(x, 11, carol, Side::Buy, 6, 110, Some(112)));
    run(&mut eng, stop(x, 12, dave, Side::Buy, 7, 108, Some(109)));
    run(&mut eng, stop(x, 13, erin, Side::Sell, 8, 90, None));
    run(&mut eng, stop(x, 14, alice, Side::Sell, 9, 90, Some(89)));
    run(
        &mut eng,
        Command::Submit(NewOrder {
            display_qty: 3,
            ..match stop(x, 15, bob, Side::Sell, 9, 95, Some(94)) {
                Command::Submit(o) => o,
                _ => unreachable!(),
            }
        }),
    );
    // Amend the first 110 stop's quantity: it keeps waiting, now behind order 11.
    run(
        &mut eng,
        Command::Amend {
            instrument: x,
            order_id: 10,
            qty: Some(4),
            price: None,
            stop_price: Some(110),
        },
    );
    // Y: band, lots, a stop-limit that triggered and rests (keeps its stop price).
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(y, 1, alice, Side::Sell, 50, 500)),
    );
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(y, 2, bob, Side::Buy, 20, 500)),
    );
    run(&mut eng, stop(y, 3, carol, Side::Buy, 40, 500, Some(495)));
    run(
        &mut eng,
        Command::Submit(NewOrder {
            post_only: true,
            stp: Stp::CancelBoth,
            ..NewOrder::limit(y, 4, dave, Side::Sell, 30, 560)
        }),
    );
    run(&mut eng, stop(y, 5, erin, Side::Sell, 10, 450, None));
    // Z: untouched book, but with resting orders at far-apart prices (outliers).
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(z, 1, alice, Side::Buy, 1, 100)),
    );
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(z, 2, bob, Side::Buy, 1, -5_000_000)),
    );
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(z, 3, carol, Side::Sell, 1, 1_000_000_000)),
    );
    run(
        &mut eng,
        Command::Submit(NewOrder::limit(z, 4, dave, Side::Sell, 1, 101)),
    );
    eng.check_invariants().unwrap();

    // The state really has what it is meant to test.
    let resting_y3 = eng.order(y, 3).unwrap();
    assert_eq!(resting_y3.status, "new");
    let ice = eng.order(x, 5).unwrap();
    assert!(ice.visible_qty < ice.leaves_qty);
    assert_eq!(eng.order(x, 10).unwrap().status, "pending_trigger");
    assert_eq!(eng.last_trade_price(x), Some(100));

    let mut rng = SplitMix64::new(99);
    check_round_trip(&eng, 42, &mut rng, 0);

    // Scripted follow-up: trigger the stops in order, eat the icebergs.
    let follow = [
        // Takes every ask (iceberg refills included); last trade 106.
        Command::Submit(NewOrder::limit(x, 20, erin, Side::Buy, 200, 110)),
        // Last trade 110: buy stops 108, then 110 in arrival order (11 before amended 10).
        Command::Submit(NewOrder::limit(x, 21, alice, Side::Sell, 10, 110)),
        Command::Submit(NewOrder::limit(x, 23, erin, Side::Buy, 10, 90)),
        // Sweeps the bids down to 90: sell stops 95, then 90 in arrival order.
        Command::Submit(NewOrder::market(x, 22, bob, Side::Sell, 300)),
        Command::Submit(NewOrder::market(y, 6, erin, Side::Sell, 100)),
        Command::MassCancel {
            account: dave,
            instrument: None,
            side: None,
        },
        Command::Submit(NewOrder::limit(z, 5, erin, Side::Sell, 2, 100)),
    ];
    let tmp = TempDir::new().unwrap();
    let path = eng.write_snapshot(tmp.path(), 42).unwrap();
    let (mut restored, _) = Engine::read_snapshot(&path).unwrap();
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut triggered = 0;
    for (i, cmd) in follow.iter().enumerate() {
        eng.process(10_000 + i as u64, cmd, &mut ea);
        restored.process(10_000 + i as u64, cmd, &mut eb);
    }
    assert_eq!(ea, eb);
    triggered += ea
        .iter()
        .filter(|e| e.kind == pyengine_core::EventKind::Triggered)
        .count();
    assert_eq!(triggered, 6, "stops triggered");
    assert_same(&eng, &restored);
    // Random follow-up on top.
    check_round_trip(&eng, 43, &mut rng, 500);
}

// ---- damaged files -------------------------------------------------------------

fn small_engine() -> Engine {
    let mut rng = SplitMix64::new(7);
    let mut eng = new_engine();
    let mut out = Vec::new();
    for ts in 1..=300 {
        let cmd = random_command(&mut rng, &eng);
        eng.process(ts, &cmd, &mut out);
    }
    assert!(eng.live_orders() > 10);
    eng
}

fn problem(path: &Path) -> SnapshotProblem {
    match Engine::read_snapshot(path) {
        Ok(_) => panic!("{} read fine", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            e.problem
        }
    }
}

/// Rewrites the header CRC (and, if asked, the body CRC) after tampering.
fn fix_crcs(data: &mut [u8], body_too: bool) {
    if body_too {
        let body_len = data.len() - SNAPSHOT_HEADER_SIZE;
        data[24..32].copy_from_slice(&(body_len as u64).to_le_bytes());
        let crc = crc32c::crc32c(&data[SNAPSHOT_HEADER_SIZE..]);
        data[32..36].copy_from_slice(&crc.to_le_bytes());
    }
    let crc = crc32c::crc32c(&data[..36]);
    data[36..40].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn corrupt_snapshots_give_clear_errors() {
    let eng = small_engine();
    let tmp = TempDir::new().unwrap();
    let path = eng.write_snapshot(tmp.path(), 9).unwrap();
    let good = fs::read(&path).unwrap();
    let write = |data: &[u8]| fs::write(&path, data).unwrap();

    // Every flipped byte anywhere is detected.
    for at in 0..good.len() {
        let mut data = good.clone();
        data[at] ^= 0x10;
        write(&data);
        let p = problem(&path);
        let expected = match at {
            0..=7 => matches!(p, SnapshotProblem::BadMagic),
            8..=9 => matches!(p, SnapshotProblem::UnsupportedVersion(_)),
            10..=35 => matches!(p, SnapshotProblem::BadHeaderCrc { .. }),
            36..=39 => matches!(p, SnapshotProblem::BadHeaderCrc { .. }),
            _ => matches!(p, SnapshotProblem::BadBodyCrc { .. }),
        };
        assert!(expected, "flip at {at}: {p}");
    }

    // Truncated anywhere.
    for len in [0, 1, 20, 39, 40, 41, good.len() / 2, good.len() - 1] {
        write(&good[..len]);
        let p = problem(&path);
        if len < SNAPSHOT_HEADER_SIZE {
            assert!(
                matches!(p, SnapshotProblem::TruncatedHeader { len: l } if l == len as u64),
                "{p}"
            );
        } else {
            assert!(matches!(p, SnapshotProblem::BodyLength { .. }), "{p}");
        }
    }
    // Extended.
    let mut data = good.clone();
    data.push(0);
    write(&data);
    assert!(matches!(problem(&path), SnapshotProblem::BodyLength { .. }));

    // Wrong version with a valid header CRC.
    let mut data = good.clone();
    data[8..10].copy_from_slice(&2u16.to_le_bytes());
    fix_crcs(&mut data, false);
    write(&data);
    let p = problem(&path);
    assert!(matches!(p, SnapshotProblem::UnsupportedVersion(2)), "{p}");
    assert!(p.to_string().contains("version 2"));

    // Reserved field set, valid CRC.
    let mut data = good.clone();
    data[12] = 1;
    fix_crcs(&mut data, false);
    write(&data);
    assert!(matches!(problem(&path), SnapshotProblem::BadHeaderField(_)));

    // A file renamed to another seq.
    write(&good);
    let renamed = tmp.path().join(snapshot::snapshot_file_name(10));
    fs::rename(&path, &renamed).unwrap();
    let p = problem(&renamed);
    assert!(
        matches!(
            p,
            SnapshotProblem::NameMismatch {
                name_seq: 10,
                header_seq: 9
            }
        ),
        "{p}"
    );
    // Any other name is fine.
    let other = tmp.path().join("copy.bin");
    fs::rename(&renamed, &other).unwrap();
    assert_eq!(Engine::read_snapshot(&other).unwrap().1, 9);
    // Missing file.
    assert!(matches!(
        problem(&tmp.path().join("nope.snap")),
        SnapshotProblem::Io(_)
    ));
}

#[test]
fn mutated_bodies_with_valid_crcs_never_panic() {
    let eng = small_engine();
    let good = eng.snapshot_bytes(5);
    let mut rng = SplitMix64::new(3);
    let (mut ok, mut invalid) = (0, 0);
    for _ in 0..20_000 {
        let mut data = good.clone();
        match rng.below(4) {
            0 => {
                // Random byte changes.
                for _ in 0..rng.range(1, 3) {
                    let at = SNAPSHOT_HEADER_SIZE + rng.index(data.len() - SNAPSHOT_HEADER_SIZE);
                    data[at] = rng.next_u64() as u8;
                }
            }
            1 => {
                // Small numeric tweaks (keep varints well-formed more often).
                let at = SNAPSHOT_HEADER_SIZE + rng.index(data.len() - SNAPSHOT_HEADER_SIZE);
                data[at] = data[at].wrapping_add(if rng.below(2) == 0 { 1 } else { 255 });
            }
            2 => {
                // Cut the body short.
                let len = SNAPSHOT_HEADER_SIZE + rng.index(data.len() - SNAPSHOT_HEADER_SIZE);
                data.truncate(len);
            }
            _ => {
                // Insert or remove a byte.
                let at = SNAPSHOT_HEADER_SIZE + rng.index(data.len() - SNAPSHOT_HEADER_SIZE);
                if rng.below(2) == 0 {
                    data.insert(at, rng.next_u64() as u8);
                } else {
                    data.remove(at);
                }
            }
        }
        fix_crcs(&mut data, true);
        match Engine::from_snapshot_bytes(&data) {
            Ok((restored, _)) => {
                restored.check_invariants().unwrap();
                ok += 1;
            }
            Err((offset, p)) => {
                assert!(matches!(p, SnapshotProblem::Invalid(_)), "{p}");
                assert!(offset.is_some_and(|o| o as usize <= data.len()));
                invalid += 1;
            }
        }
    }
    assert!(invalid > 10_000, "{invalid} invalid, {ok} accepted");
}

// ---- hand-written bodies: each structural rule -----------------------------------

#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn v(&mut self, mut x: u64) -> &mut Self {
        while x >= 0x80 {
            self.0.push(x as u8 | 0x80);
            x >>= 7;
        }
        self.0.push(x as u8);
        self
    }
    fn s(&mut self, x: i64) -> &mut Self {
        self.v(((x << 1) ^ (x >> 63)) as u64)
    }
    fn b(&mut self, x: u8) -> &mut Self {
        self.0.push(x);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.v(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    /// id, account, qty, leaves, display, visible, stop price, codes.
    #[allow(clippy::too_many_arguments)]
    fn order(
        &mut self,
        id: u64,
        account: u64,
        qty: u64,
        leaves: u64,
        display: u64,
        visible: u64,
        stop_price: i64,
        order_type: OrderType,
    ) -> &mut Self {
        self.v(id)
            .v(account)
            .v(qty)
            .v(leaves)
            .v(display)
            .v(visible)
            .s(stop_price);
        self.b(order_type.code())
    }
    fn file(&self, seq: u64) -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(b"PYENGSNP");
        data.extend_from_slice(&1u16.to_le_bytes());
        data.extend_from_slice(&[0; 6]);
        data.extend_from_slice(&seq.to_le_bytes());
        data.extend_from_slice(&[0; 16]);
        data.extend_from_slice(&self.0);
        fix_crcs(&mut data, true);
        data
    }
}

/// Knobs for a one-instrument body: bid 99 (order 1), ask 101 (order 2), a buy stop at 105.
struct Case {
    accounts: Vec<&'static str>,
    last_trade: Option<i64>,
    bid: i64,
    ask: i64,
    ask_id: u64,
    ask_visible: u64,
    ask_account: u64,
    second_bid_level: Option<i64>,
    stop_arrival: u64,
    stop_price: i64,
    stop_type: OrderType,
    trailing: bool,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            accounts: vec!["a", "b"],
            last_trade: Some(100),
            bid: 99,
            ask: 101,
            ask_id: 2,
            ask_visible: 5,
            ask_account: 1,
            second_bid_level: None,
            stop_arrival: 3,
            stop_price: 105,
            stop_type: OrderType::Stop,
            trailing: false,
        }
    }
}

fn body(c: &Case) -> Vec<u8> {
    let mut b = Body::default();
    b.v(10);
    b.v(c.accounts.len() as u64);
    for a in &c.accounts {
        b.str(a);
    }
    b.v(1).str("X").s(1).v(1).v(1).v(1000).b(0);
    match c.last_trade {
        Some(p) => b.b(1).s(p),
        None => b.b(0),
    };
    // Bids.
    b.v(1 + u64::from(c.second_bid_level.is_some()));
    b.s(c.bid).v(1).order(1, 0, 5, 5, 0, 5, 0, OrderType::Limit);
    if let Some(p) = c.second_bid_level {
        b.s(p).v(1).order(3, 0, 5, 5, 0, 5, 0, OrderType::Limit);
    }
    // Asks.
    b.v(1).s(c.ask).v(1);
    b.order(
        c.ask_id,
        c.ask_account,
        5,
        5,
        0,
        c.ask_visible,
        0,
        OrderType::Limit,
    );
    // Buy stops, sell stops.
    b.v(1).v(c.stop_arrival).s(0);
    b.order(4, 1, 5, 5, 0, 0, c.stop_price, c.stop_type);
    b.v(0);
    if c.trailing {
        b.b(0);
    }
    b.file(77)
}

#[test]
fn structural_rules_are_checked() {
    let (eng, seq) =
        Engine::from_snapshot_bytes(&body(&Case::default())).unwrap_or_else(|(_, p)| panic!("{p}"));
    assert_eq!(seq, 77);
    eng.check_invariants().unwrap();
    assert_eq!(eng.live_orders(), 3);
    assert_eq!(eng.bbo(0).unwrap(), (Some((99, 5)), Some((101, 5))));

    let cases: Vec<(&str, Case)> = vec![
        (
            "duplicate account",
            Case {
                accounts: vec!["a", "a"],
                ..Case::default()
            },
        ),
        (
            "crossed book",
            Case {
                bid: 101,
                ask: 100,
                ..Case::default()
            },
        ),
        (
            "crossed book",
            Case {
                bid: 101,
                ask: 101,
                ..Case::default()
            },
        ),
        (
            "duplicate order id",
            Case {
                ask_id: 1,
                ..Case::default()
            },
        ),
        (
            "quantities",
            Case {
                ask_visible: 6,
                ..Case::default()
            },
        ),
        (
            "quantities",
            Case {
                ask_visible: 0,
                ..Case::default()
            },
        ),
        (
            "unknown account",
            Case {
                ask_account: 2,
                ..Case::default()
            },
        ),
        (
            "out of order",
            Case {
                second_bid_level: Some(99),
                ..Case::default()
            },
        ),
        (
            "out of order",
            Case {
                second_bid_level: Some(100),
                ..Case::default()
            },
        ),
        (
            "already due",
            Case {
                stop_price: 100,
                ..Case::default()
            },
        ),
        (
            "arrival",
            Case {
                stop_arrival: 11,
                ..Case::default()
            },
        ),
        (
            "not a stop",
            Case {
                stop_type: OrderType::Limit,
                ..Case::default()
            },
        ),
        (
            "trailing",
            Case {
                trailing: true,
                ..Case::default()
            },
        ),
    ];
    for (what, case) in cases {
        match Engine::from_snapshot_bytes(&body(&case)) {
            Ok(_) => panic!("{what}: accepted"),
            Err((offset, SnapshotProblem::Invalid(msg))) => {
                assert!(msg.contains(what), "{what}: {msg}");
                assert!(offset.is_some());
            }
            Err((_, p)) => panic!("{what}: {p}"),
        }
    }
    // A second bid level below the first is fine; no last trade makes any stop fine.
    for case in [
        Case {
            second_bid_level: Some(98),
            ..Case::default()
        },
        Case {
            last_trade: None,
            stop_price: 50,
            ..Case::default()
        },
    ] {
        let (eng, _) =
            Engine::from_snapshot_bytes(&body(&case)).unwrap_or_else(|(_, p)| panic!("{p}"));
        eng.check_invariants().unwrap();
    }
}

// ---- latest_valid ----------------------------------------------------------------

#[test]
fn latest_valid_skips_corrupt_newer_snapshots() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    assert!(snapshot::latest_valid(dir).is_none());
    assert!(snapshot::latest_valid(dir.join("missing")).is_none());

    let mut rng = SplitMix64::new(11);
    let mut eng = new_engine();
    let mut out = Vec::new();
    let mut hashes = Vec::new();
    for (i, seq) in [10u64, 20, 30].into_iter().enumerate() {
        for ts in 0..200 {
            let cmd = random_command(&mut rng, &eng);
            eng.process(i as u64 * 1000 + ts, &cmd, &mut out);
        }
        eng.write_snapshot(dir, seq).unwrap();
        hashes.push(eng.state_hash());
    }
    // Unrelated files are ignored.
    fs::write(
        dir.join("snapshot-00000000000000000099.snap.tmp"),
        b"partial",
    )
    .unwrap();
    fs::write(dir.join("notes.txt"), b"hello").unwrap();

    let (path, restored, seq) = snapshot::latest_valid(dir).unwrap();
    assert_eq!(seq, 30);
    assert_eq!(path, dir.join(snapshot::snapshot_file_name(30)));
    assert_eq!(restored.state_hash(), hashes[2]);

    // Corrupt the newest: the one before is used, and the skip is reported.
    let newest = dir.join(snapshot::snapshot_file_name(30));
    let mut data = fs::read(&newest).unwrap();
    let n = data.len();
    data[n - 3] ^= 1;
    fs::write(&newest, data).unwrap();
    // A truncated, even newer one.
    let newer = dir.join(snapshot::snapshot_file_name(40));
    fs::write(
        &newer,
        &fs::read(dir.join(snapshot::snapshot_file_name(20))).unwrap()[..30],
    )
    .unwrap();

    let latest = snapshot::latest_valid_report(dir).unwrap();
    let (path, restored, seq) = latest.found.unwrap();
    assert_eq!(
        (seq, path),
        (20, dir.join(snapshot::snapshot_file_name(20)))
    );
    assert_eq!(restored.state_hash(), hashes[1]);
    let skipped: Vec<_> = latest.skipped.iter().map(|e| e.path.clone()).collect();
    assert_eq!(skipped, vec![newer.clone(), newest.clone()]);
    assert!(matches!(
        latest.skipped[0].problem,
        SnapshotProblem::TruncatedHeader { .. }
    ));
    assert!(matches!(
        latest.skipped[1].problem,
        SnapshotProblem::BadBodyCrc { .. }
    ));
    assert_eq!(snapshot::latest_valid(dir).unwrap().2, 20);

    // Nothing valid at all.
    for seq in [10, 20] {
        let p = dir.join(snapshot::snapshot_file_name(seq));
        fs::write(&p, b"PYENGSNP").unwrap();
    }
    let latest = snapshot::latest_valid_report(dir).unwrap();
    assert!(latest.found.is_none());
    assert_eq!(latest.skipped.len(), 4);
    assert!(snapshot::latest_valid(dir).is_none());
}

#[test]
fn rewriting_a_snapshot_replaces_it_atomically() {
    let tmp = TempDir::new().unwrap();
    let mut eng = new_engine();
    let p1 = eng.write_snapshot(tmp.path(), 5).unwrap();
    let mut out = Vec::new();
    eng.process(
        1,
        &Command::Submit(NewOrder::limit(0, 1, 0, Side::Buy, 1, 100)),
        &mut out,
    );
    let p2 = eng.write_snapshot(tmp.path(), 5).unwrap();
    assert_eq!(p1, p2);
    assert_eq!(
        Engine::read_snapshot(&p2).unwrap().0.state_hash(),
        eng.state_hash()
    );
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    // The directory is created if needed.
    let nested = tmp.path().join("a/b");
    let p3 = eng.write_snapshot(&nested, 6).unwrap();
    assert!(p3.starts_with(&nested));
}
