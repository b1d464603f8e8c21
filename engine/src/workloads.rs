//! Seeded benchmark workloads, one generator per workload of
//! `bench-workloads.md`.
//!
//! A workload is a function `(seed, size) -> Workload`: the instruments and
//! accounts to register, a `prefill` to apply before measuring and the
//! measured `commands`. Everything is derived from a self-contained SplitMix64
//! generator and integer arithmetic (plus a few IEEE-exact float products), so
//! a given `(name, seed, size)` yields the same commands on every platform.
//! Generators that must know which orders are live or what the last trade
//! price is (`ec_single`, `mixed_70_20_10`, `multi_symbol`) run their own
//! [`Engine`] while generating; the engine is deterministic, so replaying the
//! workload reaches exactly the states the generator saw (their output changes
//! only if the matching semantics they exercise change). The others do not
//! depend on the engine and are pinned by a test.
//!
//! Commands carry no timestamp: replay with `Engine::process(ts, ..)` and an
//! increasing counter (see [`replay`]).
//!
//! | name | prefill | measured commands (`size`) |
//! | --- | --- | --- |
//! | `ec_single` | 1,000 GTC orders on 750 levels around 100,000; 1,000 accounts | `size` commands: GTC whenever a side holds < 500 orders (emerges as ~8%), else IOC 3 : cancel 6 : reduce 4 : move 78 (one tick toward the last trade); measured mix ~8 / 3 / 6 / 80 / 3 %, book stays at 1,000 orders on ~750 levels |
//! | `liquibook_insert` | none | `size` limit orders, alternating buy 1880..=1889 / sell 1884..=1893, qty 100..=1000 |
//! | `mixed_70_20_10` | warm-up of `min(size, 200_000)` (at least 1,000) commands of the same mix | `size` of: 70% passive adds within 50 ticks of mid, 20% cancels of a random live order, 10% IOC through the touch; all 1..=100 lots |
//! | `aggressive_walk` | 50 levels x 100 orders per side, sized so that the run walks the book without emptying it | `size` market orders of 5..=20 lots |
//! | `cancel_only` | `size` resting orders, 100 per level | `size` cancels, in random order |
//! | `deep_book` | `size` resting orders, 100 per level (10M orders: 100,000 levels) | `size / 10` alternating adds at random levels and cancels of random live orders |
//! | `multi_symbol` | 10,000 instruments, `clamp(size, 40_000, 1_000_000)` resting orders spread evenly (EC-single-shaped books) | `size` EC-single commands on instruments drawn with Zipf(1) / Pareto(1) activity |
//!
//! Order ids are unique per workload (hence per instrument); prices are
//! integer ticks (tick 1) and quantities integer lots (lot 1).

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use crate::command::{Command, NewOrder};
use crate::engine::Engine;
use crate::event::{Event, EventKind};
use crate::instrument::InstrumentSpec;
use crate::types::{AccountId, InstrumentId, OrderId, Price, Qty, Side, Tif, Timestamp};

/// The workload names [`generate`] understands.
pub const NAMES: &[&str] = &[
    "ec_single",
    "liquibook_insert",
    "mixed_70_20_10",
    "aggressive_walk",
    "cancel_only",
    "deep_book",
    "multi_symbol",
];

/// Mid price of every generated book.
pub const MID: Price = 100_000;

/// A generated workload. Account ids are indexes into `accounts`.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: &'static str,
    pub instruments: Vec<InstrumentSpec>,
    pub accounts: Vec<String>,
    /// Applied before measuring (not measured).
    pub prefill: Vec<Command>,
    /// The measured commands.
    pub commands: Vec<Command>,
}

impl Workload {
    /// The journal entries that rebuild this workload's engine and run it:
    /// registrations (ts 0), then prefill and measured commands with ts 1, 2, ...
    pub fn journal_entries(&self) -> Vec<(u64, crate::journal::Entry)> {
        use crate::journal::Entry;
        let mut entries = Vec::with_capacity(
            self.instruments.len() + self.accounts.len() + self.prefill.len() + self.commands.len(),
        );
        for (i, spec) in self.instruments.iter().enumerate() {
            entries.push((
                0,
                Entry::AddInstrument {
                    id: i as u32,
                    spec: spec.clone(),
                },
            ));
        }
        for (i, name) in self.accounts.iter().enumerate() {
            entries.push((
                0,
                Entry::AddAccount {
                    id: i as u32,
                    name: name.clone(),
                },
            ));
        }
        for (ts, cmd) in (1u64..).zip(self.prefill.iter().chain(&self.commands)) {
            entries.push((ts, Entry::Command(*cmd)));
        }
        entries
    }

    /// A fresh engine with the instruments and accounts registered, no orders.
    pub fn empty_engine(&self) -> Engine {
        let mut eng = Engine::new();
        for spec in &self.instruments {
            eng.add_instrument(spec.clone())
                .expect("workload instrument spec is valid");
        }
        for (i, name) in self.accounts.iter().enumerate() {
            let id = eng.account_id(name);
            debug_assert_eq!(id as usize, i);
        }
        eng
    }

    /// A fresh engine with instruments and accounts registered and the prefill applied
    /// (timestamps `1..=prefill.len()`).
    pub fn engine(&self) -> Engine {
        let mut eng = self.empty_engine();
        let mut ts = 0;
        replay(&mut eng, &self.prefill, &mut ts);
        eng
    }
}

/// What a replay produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub commands: usize,
    pub events: usize,
    pub rejects: usize,
    pub trades: usize,
}

/// Applies `commands` to `eng`, stamping them `*ts + 1, *ts + 2, ...` (and advancing `*ts`).
pub fn replay(eng: &mut Engine, commands: &[Command], ts: &mut Timestamp) -> Tally {
    let mut out = Vec::with_capacity(64);
    let mut tally = Tally::default();
    for cmd in commands {
        *ts += 1;
        out.clear();
        eng.process(*ts, cmd, &mut out);
        tally.commands += 1;
        tally.events += out.len();
        for ev in &out {
            match ev.kind {
                EventKind::Rejected => tally.rejects += 1,
                EventKind::Trade => tally.trades += 1,
                _ => {}
            }
        }
    }
    tally
}

/// Generates workload `name` (one of [`NAMES`]); `None` for an unknown name.
pub fn generate(name: &str, seed: u64, size: usize) -> Option<Workload> {
    let w = match name {
        "ec_single" => ec_single(seed, size),
        "liquibook_insert" => liquibook_insert(seed, size),
        "mixed_70_20_10" => mixed_70_20_10(seed, size),
        "aggressive_walk" => aggressive_walk(seed, size),
        "cancel_only" => cancel_only(seed, size),
        "deep_book" => deep_book(seed, size),
        "multi_symbol" => multi_symbol(seed, size),
        _ => return None,
    };
    Some(w)
}

// ---- random numbers ---------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever here.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-high (bias < n / 2^64).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform index in `0..n`.
    #[inline]
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    pub fn side(&mut self) -> Side {
        if self.next_u64() >> 63 == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }
}

// ---- shared helpers -------------------------------------------------------------

fn spec(symbol: &str) -> InstrumentSpec {
    InstrumentSpec::new(symbol, 1, 1)
}

fn account_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("acct{i:05}")).collect()
}

fn limit(
    instrument: InstrumentId,
    id: OrderId,
    account: u64,
    side: Side,
    qty: Qty,
    price: Price,
) -> Command {
    Command::Submit(NewOrder::limit(
        instrument,
        id,
        account as AccountId,
        side,
        qty,
        price,
    ))
}

fn ioc(
    instrument: InstrumentId,
    id: OrderId,
    account: u64,
    side: Side,
    qty: Qty,
    price: Price,
) -> Command {
    let order = NewOrder {
        tif: Tif::Ioc,
        ..NewOrder::limit(instrument, id, account as AccountId, side, qty, price)
    };
    Command::Submit(order)
}

/// Price of level `level` (0 = next to the mid) on `side`.
#[inline]
fn level_price(side: Side, level: usize) -> Price {
    match side {
        Side::Buy => MID - 1 - level as Price,
        Side::Sell => MID + 1 + level as Price,
    }
}

/// EC-single order size: `1 + floor(r^3)`, `r` uniform in `[0, 6)`.
#[inline]
fn ec_size(rng: &mut SplitMix64) -> Qty {
    let r = rng.unit() * 6.0;
    1 + (r * r * r) as Qty
}

/// `n` resting GTC orders around [`MID`], alternating sides, over `levels` levels
/// per side (capped at the orders per side). The first pass puts one order on
/// every level, far levels first (so each new level is the new best: cheap for a
/// sorted ladder), then the rest go to uniformly random levels. Ids `*next_id..`.
fn rest_book(
    rng: &mut SplitMix64,
    instrument: InstrumentId,
    next_id: &mut OrderId,
    n_accounts: u64,
    n: usize,
    levels: usize,
    mut qty: impl FnMut(&mut SplitMix64) -> Qty,
) -> Vec<Command> {
    let levels = levels.min(n / 2).max(1);
    let mut cmds = Vec::with_capacity(n);
    for k in 0..n {
        let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
        let j = k / 2;
        let level = if j < levels {
            levels - 1 - j
        } else {
            rng.index(levels)
        };
        let account = rng.below(n_accounts);
        let q = qty(rng);
        cmds.push(limit(
            instrument,
            *next_id,
            account,
            side,
            q,
            level_price(side, level),
        ));
        *next_id += 1;
    }
    cmds
}

/// The ids of an engine's live orders in one instrument, with O(1) insert,
/// remove and uniform pick, and live counts per side.
#[derive(Clone, Debug, Default)]
struct LiveSet {
    ids: Vec<OrderId>,
    pos: FxHashMap<OrderId, (u32, Side)>,
    per_side: [usize; 2],
}

impl LiveSet {
    fn insert(&mut self, id: OrderId, side: Side) {
        if let Entry::Vacant(e) = self.pos.entry(id) {
            e.insert((self.ids.len() as u32, side));
            self.ids.push(id);
            self.per_side[side as usize] += 1;
        }
    }

    fn remove(&mut self, id: OrderId) {
        if let Some((p, side)) = self.pos.remove(&id) {
            self.per_side[side as usize] -= 1;
            let last = self.ids.pop().expect("non-empty when an id is present");
            if (p as usize) < self.ids.len() {
                self.ids[p as usize] = last;
                self.pos
                    .get_mut(&last)
                    .expect("every listed id has a position")
                    .0 = p;
            }
        }
    }

    fn pick(&self, rng: &mut SplitMix64) -> Option<OrderId> {
        (!self.ids.is_empty()).then(|| self.ids[rng.index(self.ids.len())])
    }

    fn count(&self, side: Side) -> usize {
        self.per_side[side as usize]
    }
}

/// A generator that runs its own engine to know live orders, the book and the
/// last trade price. Every command sent is recorded.
struct Sim {
    eng: Engine,
    out: Vec<Event>,
    ts: Timestamp,
    live: Vec<LiveSet>,
    touched: Vec<(InstrumentId, OrderId)>,
    cmds: Vec<Command>,
    next_id: OrderId,
}

impl Sim {
    fn new(instruments: &[InstrumentSpec], accounts: &[String]) -> Sim {
        let w = Workload {
            name: "",
            instruments: instruments.to_vec(),
            accounts: accounts.to_vec(),
            prefill: Vec::new(),
            commands: Vec::new(),
        };
        Sim {
            eng: w.empty_engine(),
            out: Vec::with_capacity(64),
            ts: 0,
            live: vec![LiveSet::default(); instruments.len()],
            touched: Vec::new(),
            cmds: Vec::new(),
            next_id: 1,
        }
    }

    fn new_id(&mut self) -> OrderId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn send(&mut self, cmd: Command) {
        self.ts += 1;
        self.out.clear();
        self.eng.process(self.ts, &cmd, &mut self.out);
        self.cmds.push(cmd);
        self.touched.clear();
        for ev in &self.out {
            self.touched.push((ev.instrument, ev.order_id));
            if ev.kind == EventKind::Trade {
                self.touched.push((ev.instrument, ev.maker_order_id));
            }
        }
        for &(instrument, id) in &self.touched {
            let Some(set) = self.live.get_mut(instrument as usize) else {
                continue;
            };
            if let Some(view) = self.eng.order(instrument, id) {
                set.insert(id, view.side);
            } else {
                set.remove(id);
            }
        }
    }

    fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.cmds)
    }

    fn best(&self, instrument: InstrumentId, side: Side) -> Option<Price> {
        let (bid, ask) = self.eng.bbo(instrument)?;
        match side {
            Side::Buy => bid.map(|b| b.0),
            Side::Sell => ask.map(|a| a.0),
        }
    }
}

// ---- EC-single ----------------------------------------------------------------------

const EC_ACCOUNTS: usize = 1_000;
/// Largest GTC distance from the last trade price for a book of 500 orders a
/// side (scaled with the book). Chosen so that the book keeps ~750 levels.
const EC_DEVIATION: f64 = 1_000.0;

/// What an EC-single command does (the mix of `bench-workloads.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EcKind {
    Gtc,
    Ioc,
    Cancel,
    Reduce,
    Move,
}

/// The non-GTC part of the mix: IOC 3, cancel 6, reduce 4, move 78 (of 91).
fn ec_kind(rng: &mut SplitMix64) -> EcKind {
    match rng.below(91) {
        0..=2 => EcKind::Ioc,
        3..=8 => EcKind::Cancel,
        9..=12 => EcKind::Reduce,
        _ => EcKind::Move,
    }
}

/// Applies `n` resting orders of the EC-single prefill shape to `instrument`.
fn ec_prefill(sim: &mut Sim, rng: &mut SplitMix64, instrument: InstrumentId, n: usize) {
    let mut next_id = sim.next_id;
    // 1,000 orders on 375 levels a side: ~750 levels.
    let cmds = rest_book(
        rng,
        instrument,
        &mut next_id,
        EC_ACCOUNTS as u64,
        n,
        n * 3 / 8,
        ec_size,
    );
    sim.next_id = next_id;
    for cmd in cmds {
        sim.send(cmd);
    }
}

/// A GTC limit order on the passive side of the last trade price, `floor(r^2 *
/// deviation)` ticks away (`r` uniform in `[0, 1)`): mostly near the touch, with
/// a long tail that spreads the book over many levels.
fn ec_gtc(
    sim: &mut Sim,
    rng: &mut SplitMix64,
    instrument: InstrumentId,
    side: Side,
    last: Price,
    deviation: f64,
) -> Command {
    let r = rng.unit();
    let off = (r * r * deviation) as Price;
    let price = match side {
        Side::Buy => last - off,
        Side::Sell => last + off,
    };
    let account = rng.below(EC_ACCOUNTS as u64);
    let qty = ec_size(rng);
    limit(instrument, sim.new_id(), account, side, qty, price)
}

/// One EC-single command on `instrument`, sent through `sim`.
///
/// As in exchange-core's generator, the book is held at its size: when the
/// randomly chosen side has fewer than `target_per_side` live orders the command
/// is a GTC order on that side; otherwise it is drawn from the rest of the mix
/// (IOC 3, cancel 6, reduce 4, move 78 parts). The GTC share is what keeps the
/// book full, ~8-9% at 500 orders a side.
fn ec_command(
    sim: &mut Sim,
    rng: &mut SplitMix64,
    instrument: InstrumentId,
    target_per_side: usize,
) {
    let last = sim.eng.last_trade_price(instrument).unwrap_or(MID);
    let deviation = (EC_DEVIATION * target_per_side as f64 / 500.0).max(10.0);
    let side = rng.side();
    let lacking = sim.live[instrument as usize].count(side) < target_per_side;
    let kind = if lacking { EcKind::Gtc } else { ec_kind(rng) };
    let target = match kind {
        EcKind::Cancel | EcKind::Reduce | EcKind::Move => sim.live[instrument as usize].pick(rng),
        _ => None,
    };
    let cmd = match (kind, target) {
        (EcKind::Ioc, _) => {
            let through = rng.below(5) as Price;
            let price = match side {
                Side::Buy => sim.best(instrument, Side::Sell).unwrap_or(last) + through,
                Side::Sell => sim.best(instrument, Side::Buy).unwrap_or(last) - through,
            };
            let account = rng.below(EC_ACCOUNTS as u64);
            let qty = ec_size(rng);
            ioc(instrument, sim.new_id(), account, side, qty, price)
        }
        (EcKind::Cancel, Some(order_id)) => Command::Cancel {
            instrument,
            order_id,
        },
        (EcKind::Reduce | EcKind::Move, Some(order_id)) => {
            let view = sim
                .eng
                .order(instrument, order_id)
                .expect("live set tracks the engine");
            if kind == EcKind::Reduce && view.leaves_qty >= 2 {
                // New total keeps 1..leaves-1 open: an in-place reduction.
                let keep = 1 + rng.below(view.leaves_qty - 1);
                Command::Amend {
                    instrument,
                    order_id,
                    qty: Some(view.filled_qty + keep),
                    price: None,
                    stop_price: None,
                }
            } else {
                let price = view.price.expect("EC orders are limit orders");
                let step = match price.cmp(&last) {
                    std::cmp::Ordering::Less => 1,
                    std::cmp::Ordering::Greater => -1,
                    std::cmp::Ordering::Equal => {
                        if rng.next_u64() >> 63 == 0 {
                            1
                        } else {
                            -1
                        }
                    }
                };
                Command::Amend {
                    instrument,
                    order_id,
                    qty: None,
                    price: Some(price + step),
                    stop_price: None,
                }
            }
        }
        // GTC, or nothing live to cancel / amend.
        _ => ec_gtc(sim, rng, instrument, side, last, deviation),
    };
    sim.send(cmd);
}

fn ec_single(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let instruments = vec![spec("EC")];
    let accounts = account_names(EC_ACCOUNTS);
    let mut sim = Sim::new(&instruments, &accounts);
    ec_prefill(&mut sim, &mut rng, 0, 1_000);
    let prefill = sim.take();
    sim.cmds.reserve(size);
    for _ in 0..size {
        ec_command(&mut sim, &mut rng, 0, 500);
    }
    Workload {
        name: "ec_single",
        instruments,
        accounts,
        prefill,
        commands: sim.take(),
    }
}

// ---- Liquibook-insert -----------------------------------------------------------------

fn liquibook_insert(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let n_accounts = 100u64;
    let commands = (0..size)
        .map(|k| {
            let (side, price) = if k % 2 == 0 {
                (Side::Buy, rng.range(1880, 1889) as Price)
            } else {
                (Side::Sell, rng.range(1884, 1893) as Price)
            };
            let qty = rng.range(100, 1000);
            let account = rng.below(n_accounts);
            limit(0, k as OrderId + 1, account, side, qty, price)
        })
        .collect();
    Workload {
        name: "liquibook_insert",
        instruments: vec![spec("LQB")],
        accounts: account_names(n_accounts as usize),
        prefill: Vec::new(),
        commands,
    }
}

// ---- Mixed 70/20/10 -------------------------------------------------------------------

const MIXED_ACCOUNTS: u64 = 1_000;

fn mixed_command(sim: &mut Sim, rng: &mut SplitMix64) {
    let u = rng.below(100);
    let (bid, ask) = (sim.best(0, Side::Buy), sim.best(0, Side::Sell));
    let account = rng.below(MIXED_ACCOUNTS);
    let cancel = if (70..90).contains(&u) {
        sim.live[0].pick(rng)
    } else {
        None
    };
    let cmd = if let Some(order_id) = cancel {
        Command::Cancel {
            instrument: 0,
            order_id,
        }
    } else if u >= 90 {
        // Marketable: IOC limit at or through the opposite touch.
        let side = rng.side();
        let through = rng.below(3) as Price;
        let price = match side {
            Side::Buy => ask.map_or(MID, |a| a + through),
            Side::Sell => bid.map_or(MID, |b| b - through),
        };
        let qty = rng.range(1, 100);
        ioc(0, sim.new_id(), account, side, qty, price)
    } else {
        // Passive add within 50 ticks of the mid, never crossing.
        let (lo, hi) = match (bid, ask) {
            (Some(b), Some(a)) => ((b + a).div_euclid(2), (b + a + 1).div_euclid(2)),
            (Some(b), None) => (b, b + 1),
            (None, Some(a)) => (a - 1, a),
            (None, None) => (MID - 1, MID + 1),
        };
        let side = rng.side();
        let away = rng.below(50) as Price;
        let price = match side {
            Side::Buy => lo - away,
            Side::Sell => hi + away,
        };
        let qty = rng.range(1, 100);
        limit(0, sim.new_id(), account, side, qty, price)
    };
    sim.send(cmd);
}

fn mixed_70_20_10(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let instruments = vec![spec("MIX")];
    let accounts = account_names(MIXED_ACCOUNTS as usize);
    let mut sim = Sim::new(&instruments, &accounts);
    let warmup = size.clamp(1_000, 200_000);
    for _ in 0..warmup {
        mixed_command(&mut sim, &mut rng);
    }
    let prefill = sim.take();
    sim.cmds.reserve(size);
    for _ in 0..size {
        mixed_command(&mut sim, &mut rng);
    }
    Workload {
        name: "mixed_70_20_10",
        instruments,
        accounts,
        prefill,
        commands: sim.take(),
    }
}

// ---- Aggressive walk --------------------------------------------------------------------

fn aggressive_walk(seed: u64, size: usize) -> Workload {
    const LEVELS: usize = 50;
    const PER_LEVEL: usize = 100;
    let mut rng = SplitMix64::new(seed);
    let n_accounts = 100u64;
    // Market orders average 12.5 lots, half of them per side; rest 25% more than
    // that so the touch walks through most of the levels without emptying a side.
    let needed_per_side = (size as u64 * 25 / 4) * 5 / 4;
    let mean = needed_per_side.div_ceil((LEVELS * PER_LEVEL) as u64).max(1);
    let (q_lo, q_hi) = ((mean / 2).max(1), mean + mean / 2);
    let mut next_id: OrderId = 1;
    let mut prefill = Vec::with_capacity(2 * LEVELS * PER_LEVEL);
    for level in (0..LEVELS).rev() {
        for _ in 0..PER_LEVEL {
            for side in [Side::Buy, Side::Sell] {
                let account = rng.below(n_accounts);
                let qty = rng.range(q_lo, q_hi);
                prefill.push(limit(
                    0,
                    next_id,
                    account,
                    side,
                    qty,
                    level_price(side, level),
                ));
                next_id += 1;
            }
        }
    }
    let commands = (0..size)
        .map(|_| {
            let side = rng.side();
            let qty = rng.range(5, 20);
            let account = rng.below(n_accounts) as AccountId;
            let id = next_id;
            next_id += 1;
            Command::Submit(NewOrder::market(0, id, account, side, qty))
        })
        .collect();
    Workload {
        name: "aggressive_walk",
        instruments: vec![spec("WALK")],
        accounts: account_names(n_accounts as usize),
        prefill,
        commands,
    }
}

// ---- Cancel-only and deep book ------------------------------------------------------------

fn cancel_only(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let n_accounts = 1_000u64;
    let mut next_id: OrderId = 1;
    let prefill = rest_book(
        &mut rng,
        0,
        &mut next_id,
        n_accounts,
        size,
        size / 200,
        |r| r.range(1, 100),
    );
    let mut ids: Vec<OrderId> = (1..next_id).collect();
    for i in (1..ids.len()).rev() {
        let j = rng.index(i + 1);
        ids.swap(i, j);
    }
    let commands = ids
        .into_iter()
        .map(|order_id| Command::Cancel {
            instrument: 0,
            order_id,
        })
        .collect();
    Workload {
        name: "cancel_only",
        instruments: vec![spec("CXL")],
        accounts: account_names(n_accounts as usize),
        prefill,
        commands,
    }
}

fn deep_book(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let n_accounts = 1_000u64;
    let levels = (size / 200).max(1);
    let mut next_id: OrderId = 1;
    let prefill = rest_book(&mut rng, 0, &mut next_id, n_accounts, size, levels, |r| {
        r.range(1, 100)
    });
    let levels = levels.min(size / 2).max(1);
    let mut live: Vec<OrderId> = (1..next_id).collect();
    let n = (size / 10).max(2);
    let mut commands = Vec::with_capacity(n);
    for k in 0..n {
        if k % 2 == 0 || live.is_empty() {
            let side = rng.side();
            let price = level_price(side, rng.index(levels));
            let account = rng.below(n_accounts);
            let qty = rng.range(1, 100);
            commands.push(limit(0, next_id, account, side, qty, price));
            live.push(next_id);
            next_id += 1;
        } else {
            let order_id = live.swap_remove(rng.index(live.len()));
            commands.push(Command::Cancel {
                instrument: 0,
                order_id,
            });
        }
    }
    Workload {
        name: "deep_book",
        instruments: vec![spec("DEEP")],
        accounts: account_names(n_accounts as usize),
        prefill,
        commands,
    }
}

// ---- Multi-symbol -------------------------------------------------------------------------

const MULTI_INSTRUMENTS: usize = 10_000;

fn multi_symbol(seed: u64, size: usize) -> Workload {
    let mut rng = SplitMix64::new(seed);
    let instruments: Vec<InstrumentSpec> = (0..MULTI_INSTRUMENTS)
        .map(|i| spec(&format!("S{i:05}")))
        .collect();
    let accounts = account_names(EC_ACCOUNTS);
    let mut sim = Sim::new(&instruments, &accounts);
    let resting = size.clamp(40_000, 1_000_000);
    let per_instrument = (resting / MULTI_INSTRUMENTS).max(4);
    for i in 0..MULTI_INSTRUMENTS {
        ec_prefill(&mut sim, &mut rng, i as InstrumentId, per_instrument);
    }
    let prefill = sim.take();
    // Activity of the instrument of rank k is proportional to 1/k (Zipf(1), the
    // rank form of a Pareto(1) tail: the top 20% of instruments get ~84%).
    let mut cumulative = Vec::with_capacity(MULTI_INSTRUMENTS);
    let mut total = 0u64;
    for k in 1..=MULTI_INSTRUMENTS as u64 {
        total += (1u64 << 40) / k;
        cumulative.push(total);
    }
    sim.cmds.reserve(size);
    for _ in 0..size {
        let r = rng.below(total);
        let instrument = cumulative.partition_point(|&c| c <= r) as InstrumentId;
        ec_command(&mut sim, &mut rng, instrument, per_instrument / 2);
    }
    Workload {
        name: "multi_symbol",
        instruments,
        accounts,
        prefill,
        commands: sim.take(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OrderType;

    const SIZE: usize = 3_000;

    #[test]
    fn unknown_name() {
        assert!(generate("nope", 1, 10).is_none());
        for &name in NAMES {
            assert_eq!(generate(name, 1, 10).unwrap().name, name);
        }
    }

    #[test]
    fn splitmix_is_fixed() {
        // Reference values of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            let q = ec_size(&mut r);
            assert!((1..=216).contains(&q));
        }
    }

    /// FNV-1a over the fields of commands that do not depend on engine state.
    fn digest(cmds: &[Command]) -> u64 {
        let mut h = 0xCBF2_9CE4_8422_2325u64;
        let mut eat = |x: u64| {
            for b in x.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
            }
        };
        for cmd in cmds {
            match cmd {
                Command::Submit(o) => {
                    eat(o.order_id);
                    eat(u64::from(o.account));
                    eat(u64::from(o.side.code()));
                    eat(o.price as u64);
                    eat(o.qty);
                }
                Command::Cancel { order_id, .. } => eat(*order_id),
                _ => eat(u64::MAX),
            }
        }
        h
    }

    #[test]
    fn generators_are_pinned() {
        // Changing these values changes every published benchmark: don't.
        let got: Vec<u64> = [
            "liquibook_insert",
            "cancel_only",
            "aggressive_walk",
            "deep_book",
        ]
        .iter()
        .map(|name| {
            let w = generate(name, 2024, 1_000).unwrap();
            digest(&w.prefill) ^ digest(&w.commands).rotate_left(1)
        })
        .collect();
        assert_eq!(got, PINNED, "{got:#x?}");
    }

    const PINNED: [u64; 4] = [
        0xb8f8_cea4_631f_1635,
        0x5398_238e_5cb6_2192,
        0x1405_6a5f_54f6_b79b,
        0x7aae_da54_b64c_9098,
    ];

    #[test]
    fn same_seed_same_commands() {
        for &name in NAMES {
            let a = generate(name, 42, SIZE).unwrap();
            let b = generate(name, 42, SIZE).unwrap();
            assert_eq!(a.prefill, b.prefill, "{name}");
            assert_eq!(a.commands, b.commands, "{name}");
            assert_eq!(a.instruments, b.instruments, "{name}");
            assert_eq!(a.accounts, b.accounts, "{name}");
        }
    }

    #[test]
    fn different_seeds_differ() {
        for &name in NAMES {
            let a = generate(name, 1, SIZE).unwrap();
            let b = generate(name, 2, SIZE).unwrap();
            assert_ne!(a.commands, b.commands, "{name}");
        }
    }

    #[test]
    fn replay_is_valid() {
        for &name in NAMES {
            let w = generate(name, 3, SIZE).unwrap();
            let mut eng = w.empty_engine();
            let mut ts = 0;
            let pre = replay(&mut eng, &w.prefill, &mut ts);
            assert_eq!(pre.rejects, 0, "{name} prefill rejects");
            eng.check_invariants()
                .unwrap_or_else(|e| panic!("{name} after prefill: {e}"));
            assert_eq!(eng.state_hash(), w.engine().state_hash(), "{name}");
            let run = replay(&mut eng, &w.commands, &mut ts);
            eng.check_invariants()
                .unwrap_or_else(|e| panic!("{name} after run: {e}"));
            assert!(
                run.rejects * 100 <= run.commands,
                "{name}: {} rejects in {}",
                run.rejects,
                run.commands
            );
            assert!(!w.commands.is_empty(), "{name}");
        }
    }

    /// `process_batch` (with its lookahead prefetching) and one `process` per
    /// command agree on every event and the final state, through index growth.
    #[test]
    fn batch_equals_per_command() {
        for &name in NAMES {
            let w = generate(name, 3, SIZE).unwrap();
            let (mut a, mut b) = (w.engine(), w.engine());
            let (mut got, mut buf) = (Vec::new(), Vec::new());
            a.process_batch(
                &w.commands,
                |i| i as u64 + 1,
                &mut buf,
                |_, evs| got.extend_from_slice(evs),
            );
            let mut want = Vec::new();
            for (i, cmd) in w.commands.iter().enumerate() {
                b.process(i as u64 + 1, cmd, &mut want);
            }
            assert!(got == want, "{name}: events differ");
            assert_eq!(a.state_hash(), b.state_hash(), "{name}");
            a.check_invariants().unwrap();
        }
    }

    /// The same with books large enough for prefetching to be on, through the
    /// packed-record path too.
    #[test]
    fn batch_equals_per_command_large_books() {
        use crate::records::{encode_command, encode_event};
        for (name, size) in [("deep_book", 100_000), ("mixed_70_20_10", 200_000)] {
            let w = generate(name, 4, size).unwrap();
            let base = w.engine();
            assert!(
                base.live_orders() >= crate::engine::PREFETCH_MIN_ORDERS,
                "{name}"
            );
            let (mut a, mut b, mut c) = (base.clone(), base.clone(), base);
            let (mut got, mut buf) = (Vec::new(), Vec::new());
            a.process_batch(
                &w.commands,
                |i| i as u64 + 1,
                &mut buf,
                |_, evs| got.extend_from_slice(evs),
            );
            let mut want = Vec::new();
            for (i, cmd) in w.commands.iter().enumerate() {
                b.process(i as u64 + 1, cmd, &mut want);
            }
            assert!(got == want, "{name}: events differ");
            assert_eq!(a.state_hash(), b.state_hash(), "{name}");
            let mut records = Vec::new();
            for (i, cmd) in w.commands.iter().enumerate() {
                records.extend_from_slice(&encode_command(i as u64 + 1, cmd));
            }
            let mut packed = Vec::new();
            c.process_records(&records, &mut packed);
            let mut want_packed = Vec::new();
            for ev in &want {
                encode_event(ev, &mut want_packed);
            }
            assert!(packed == want_packed, "{name}: event records differ");
            assert_eq!(c.state_hash(), b.state_hash(), "{name}");
            a.check_invariants().unwrap();
        }
    }

    #[test]
    fn ids_unique() {
        for &name in NAMES {
            let w = generate(name, 5, SIZE).unwrap();
            let mut seen = std::collections::HashSet::new();
            for cmd in w.prefill.iter().chain(&w.commands) {
                if let Command::Submit(o) = cmd {
                    assert!(
                        seen.insert((o.instrument, o.order_id)),
                        "{name}: id {} reused",
                        o.order_id
                    );
                }
            }
        }
    }

    fn pct(n: usize, total: usize) -> f64 {
        100.0 * n as f64 / total as f64
    }

    #[test]
    fn ec_single_mix() {
        let n = 20_000;
        let w = generate("ec_single", 11, n).unwrap();
        assert_eq!(w.prefill.len(), 1_000);
        let levels = |pre: &[Command]| {
            let mut prices: Vec<Price> = pre
                .iter()
                .map(|c| match c {
                    Command::Submit(o) => o.price,
                    _ => unreachable!(),
                })
                .collect();
            prices.sort_unstable();
            prices.dedup();
            prices.len()
        };
        assert_eq!(levels(&w.prefill), 750);
        let (mut gtc, mut ioc, mut cancel, mut moves, mut reduce) = (0, 0, 0, 0, 0);
        for cmd in &w.commands {
            match cmd {
                Command::Submit(o) if o.tif == Tif::Gtc => gtc += 1,
                Command::Submit(_) => ioc += 1,
                Command::Cancel { .. } => cancel += 1,
                Command::Amend { price: Some(_), .. } => moves += 1,
                Command::Amend { qty: Some(_), .. } => reduce += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        let within = |got: usize, want: f64, tol: f64| (pct(got, n) - want).abs() <= tol;
        assert!(within(gtc, 9.0, 2.0), "gtc {}", pct(gtc, n));
        assert!(within(ioc, 3.0, 0.6), "ioc {}", pct(ioc, n));
        assert!(within(cancel, 6.0, 0.8), "cancel {}", pct(cancel, n));
        assert!(
            within(moves + reduce, 82.0, 2.5),
            "move+reduce {}",
            pct(moves + reduce, n)
        );
        assert!(
            (1.5..=5.0).contains(&pct(reduce, n)),
            "reduce {}",
            pct(reduce, n)
        );
        // The book stays at ~1,000 orders on ~750 levels, and it trades.
        let mut eng = w.engine();
        let mut ts = 0;
        let tally = replay(&mut eng, &w.commands, &mut ts);
        assert!(tally.trades > n / 50, "{} trades", tally.trades);
        let live = eng.live_orders();
        assert!((950..=1_050).contains(&live), "{live} live orders");
        let (bids, asks) = eng.depth(0, usize::MAX).unwrap();
        assert!(
            (550..=950).contains(&(bids.len() + asks.len())),
            "{} levels",
            bids.len() + asks.len()
        );
    }

    #[test]
    fn mixed_mix() {
        let n = 20_000;
        let w = generate("mixed_70_20_10", 12, n).unwrap();
        assert_eq!(w.prefill.len(), 20_000);
        let (mut add, mut cancel, mut take) = (0, 0, 0);
        for cmd in &w.commands {
            match cmd {
                Command::Submit(o) if o.tif == Tif::Gtc => add += 1,
                Command::Submit(o) => {
                    assert!((1..=100).contains(&o.qty));
                    take += 1
                }
                Command::Cancel { .. } => cancel += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((pct(add, n) - 70.0).abs() <= 1.5, "add {}", pct(add, n));
        assert!(
            (pct(cancel, n) - 20.0).abs() <= 1.5,
            "cancel {}",
            pct(cancel, n)
        );
        assert!((pct(take, n) - 10.0).abs() <= 1.0, "take {}", pct(take, n));
        // Passive adds never trade on arrival; IOCs mostly do.
        let mut eng = w.engine();
        let mut out = Vec::new();
        let (mut passive_trades, mut ioc_trades) = (0, 0);
        for (i, cmd) in w.commands.iter().enumerate() {
            out.clear();
            eng.process(i as u64 + 1, cmd, &mut out);
            let traded = out.iter().any(|e| e.kind == EventKind::Trade);
            if let Command::Submit(o) = cmd {
                if o.tif == Tif::Gtc {
                    passive_trades += usize::from(traded);
                } else {
                    ioc_trades += usize::from(traded);
                }
            }
        }
        assert_eq!(passive_trades, 0);
        assert!(
            ioc_trades * 10 >= take * 9,
            "{ioc_trades} of {take} IOCs traded"
        );
    }

    #[test]
    fn liquibook_shape() {
        let w = generate("liquibook_insert", 13, 1_000).unwrap();
        for (k, cmd) in w.commands.iter().enumerate() {
            let Command::Submit(o) = cmd else {
                panic!("not an insert")
            };
            assert_eq!(o.side, if k % 2 == 0 { Side::Buy } else { Side::Sell });
            let range = if o.side == Side::Buy {
                1880..=1889
            } else {
                1884..=1893
            };
            assert!(range.contains(&o.price));
            assert!((100..=1000).contains(&o.qty));
        }
    }

    #[test]
    fn walk_never_empties_the_book() {
        let w = generate("aggressive_walk", 14, 20_000).unwrap();
        assert_eq!(w.prefill.len(), 10_000);
        let mut eng = w.engine();
        assert_eq!(eng.depth(0, 100).unwrap().0.len(), 50);
        let mut out = Vec::new();
        let mut no_liquidity = 0;
        for (i, cmd) in w.commands.iter().enumerate() {
            let Command::Submit(o) = cmd else {
                panic!("not an order")
            };
            assert_eq!(o.order_type, OrderType::Market);
            assert!((5..=20).contains(&o.qty));
            out.clear();
            eng.process(i as u64 + 1, cmd, &mut out);
            no_liquidity += out
                .iter()
                .filter(|e| e.reason == crate::event::Reason::NoLiquidity)
                .count();
        }
        assert_eq!(no_liquidity, 0);
        // The touch walked: at most half the levels are left on some side.
        let (bids, asks) = eng.depth(0, 100).unwrap();
        assert!(
            bids.len().min(asks.len()) < 25,
            "{} / {} levels left",
            bids.len(),
            asks.len()
        );
        assert!(!bids.is_empty() && !asks.is_empty());
    }

    #[test]
    fn cancel_only_empties_the_book() {
        let w = generate("cancel_only", 15, 5_000).unwrap();
        let mut eng = w.engine();
        assert_eq!(eng.live_orders(), 5_000);
        let (bids, asks) = eng.depth(0, usize::MAX).unwrap();
        assert_eq!(bids.len() + asks.len(), 5_000 / 100);
        let mut ts = 0;
        let tally = replay(&mut eng, &w.commands, &mut ts);
        assert_eq!(tally.commands, 5_000);
        assert_eq!(tally.rejects, 0);
        assert_eq!(eng.live_orders(), 0);
    }

    #[test]
    fn deep_book_shape() {
        let w = generate("deep_book", 16, 20_000).unwrap();
        let eng = w.engine();
        assert_eq!(eng.live_orders(), 20_000);
        let (bids, asks) = eng.depth(0, usize::MAX).unwrap();
        assert_eq!((bids.len(), asks.len()), (100, 100));
        assert_eq!(w.commands.len(), 2_000);
    }

    #[test]
    fn multi_symbol_is_skewed() {
        let w = generate("multi_symbol", 17, 10_000).unwrap();
        assert_eq!(w.instruments.len(), MULTI_INSTRUMENTS);
        assert_eq!(w.engine().live_orders(), 40_000);
        let mut per = vec![0usize; MULTI_INSTRUMENTS];
        for cmd in &w.commands {
            let i = match cmd {
                Command::Submit(o) => o.instrument,
                Command::Cancel { instrument, .. } | Command::Amend { instrument, .. } => {
                    *instrument
                }
                Command::MassCancel { .. } => unreachable!(),
            };
            per[i as usize] += 1;
        }
        let top: usize = per[..MULTI_INSTRUMENTS / 5].iter().sum();
        assert!(
            pct(top, w.commands.len()) > 75.0,
            "top 20% get {}%",
            pct(top, w.commands.len())
        );
        assert!(per[0] > per[100] && per[0] > w.commands.len() / 20);
    }
}
