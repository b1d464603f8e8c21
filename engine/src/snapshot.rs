//! Engine snapshots: the whole engine state in one versioned, CRC-checked file.
//!
//! A snapshot restores an engine with the same `state_hash()` that behaves
//! identically afterwards (same events for the same commands): instruments,
//! accounts in id order, the event seq, and per book the last trade price,
//! the levels best first with every order's fields in queue order, and the
//! waiting stops in trigger order with their arrival keys. It records the
//! journal seq it covers (state after journal records `..= journal_seq`).
//!
//! # File
//!
//! `snapshot-<journal seq, 20 digits>.snap`, written atomically (temp file,
//! write, fsync, rename, fsync of the directory). A 40-byte header, then the body.
//!
//! | offset | field | |
//! | --- | --- | --- |
//! | 0 | magic `[u8; 8]` | `b"PYENGSNP"` |
//! | 8 | version `u16` | [`SNAPSHOT_VERSION`] (1) |
//! | 10 | flags `u16` | 0 |
//! | 12 | reserved `u32` | 0 |
//! | 16 | journal seq `u64` | equals the file name |
//! | 24 | body length `u64` | the file is exactly header + body |
//! | 32 | body CRC32C `u32` | |
//! | 36 | header CRC32C `u32` | over bytes 0..36 |
//!
//! # Body (version 1)
//!
//! `v` = unsigned LEB128 varint, `s` = zigzag signed varint, `b` = one byte,
//! `str` = `v` length + UTF-8 bytes.
//!
//! ```text
//! v engine event seq
//! v account count, then per account (id order): str name
//! v instrument count, then per instrument (id order):
//!   str symbol, s tick_size, v lot_size, v min_qty, v max_qty,
//!   b has_band [s price_band], b has_last_trade [s last_trade]
//!   for bids then asks: v level count, then per level (best first):
//!     s price, v order count, then per order (queue order): ORDER
//!   for buy stops then sell stops: v stop count, then per stop (trigger order):
//!     v arrival key, s price, ORDER
//! ORDER = v order_id, v account, v qty, v leaves, v display, v visible,
//!         s stop_price, b order_type | tif << 2 | stp << 4 | post_only << 7
//! ```
//!
//! A resting order's price is its level's. Reading validates the structure
//! (orders, ordering, uncrossed book, no due stop, unique ids, ...) as well
//! as the CRCs, and never panics on a bad file.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::engine::Engine;
use crate::instrument::InstrumentSpec;
use crate::order::{Extra, Order, OrderPool, Placement, NIL};
use crate::types::{OrderType, Price, Side, Stp, Tif};

/// Magic bytes at the start of every snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"PYENGSNP";
/// The snapshot format version this code reads and writes.
pub const SNAPSHOT_VERSION: u16 = 1;
/// Size of the snapshot header.
pub const SNAPSHOT_HEADER_SIZE: usize = 40;

/// The file name of the snapshot covering journal seq `journal_seq`.
pub fn snapshot_file_name(journal_seq: u64) -> String {
    format!("snapshot-{journal_seq:020}.snap")
}

fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What is wrong with a snapshot file.
#[derive(Debug)]
pub enum SnapshotProblem {
    Io(io::Error),
    /// The file is shorter than the header.
    TruncatedHeader {
        len: u64,
    },
    BadMagic,
    UnsupportedVersion(u16),
    BadHeaderCrc {
        stored: u32,
        computed: u32,
    },
    BadHeaderField(&'static str),
    /// The header's journal seq differs from the one in the file name.
    NameMismatch {
        name_seq: u64,
        header_seq: u64,
    },
    /// The body is not as long as the header says (truncated file or trailing bytes).
    BodyLength {
        expected: u64,
        found: u64,
    },
    BadBodyCrc {
        stored: u32,
        computed: u32,
    },
    /// The body does not describe a valid engine state.
    Invalid(String),
}

impl fmt::Display for SnapshotProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotProblem::Io(e) => write!(f, "I/O error: {e}"),
            SnapshotProblem::TruncatedHeader { len } => write!(
                f,
                "truncated header ({len} of {SNAPSHOT_HEADER_SIZE} bytes)"
            ),
            SnapshotProblem::BadMagic => write!(f, "bad magic (not a snapshot)"),
            SnapshotProblem::UnsupportedVersion(v) => write!(
                f,
                "unsupported snapshot version {v} (this build reads {SNAPSHOT_VERSION})"
            ),
            SnapshotProblem::BadHeaderCrc { stored, computed } => write!(
                f,
                "header CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            SnapshotProblem::BadHeaderField(name) => {
                write!(f, "reserved header field {name} is not zero")
            }
            SnapshotProblem::NameMismatch {
                name_seq,
                header_seq,
            } => write!(
                f,
                "header says journal seq {header_seq} but the file name says {name_seq}"
            ),
            SnapshotProblem::BodyLength { expected, found } => write!(
                f,
                "body is {found} bytes, the header says {expected} (truncated or extended file)"
            ),
            SnapshotProblem::BadBodyCrc { stored, computed } => write!(
                f,
                "body CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            SnapshotProblem::Invalid(why) => write!(f, "invalid state: {why}"),
        }
    }
}

/// A snapshot that cannot be used: which file, where, and why.
#[derive(Debug)]
pub struct SnapshotError {
    pub path: PathBuf,
    /// Byte offset in the file, where one applies.
    pub offset: Option<u64>,
    pub problem: SnapshotProblem,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot {}", self.path.display())?;
        if let Some(off) = self.offset {
            write!(f, " at byte offset {off}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            SnapshotProblem::Io(e) => Some(e),
            _ => None,
        }
    }
}

// ---- encoding ------------------------------------------------------------------

struct Enc(Vec<u8>);

impl Enc {
    #[inline]
    fn v(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.0.push((x as u8) | 0x80);
            x >>= 7;
        }
        self.0.push(x as u8);
    }
    #[inline]
    fn s(&mut self, x: i64) {
        self.v(((x << 1) ^ (x >> 63)) as u64);
    }
    #[inline]
    fn b(&mut self, x: u8) {
        self.0.push(x);
    }
    fn str(&mut self, s: &str) {
        self.v(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    #[inline]
    fn order(&mut self, pool: &OrderPool, idx: u32) {
        let o = &pool[idx];
        self.v(o.order_id);
        self.v(u64::from(o.account));
        self.v(o.qty);
        self.v(o.leaves);
        self.v(pool.display(idx));
        self.v(pool.visible(idx));
        self.s(pool.stop_price(idx));
        self.b(o.order_type.code()
            | o.tif.code() << 2
            | o.stp.code() << 4
            | u8::from(o.post_only) << 7);
    }
}

impl Engine {
    /// The snapshot body (see the module docs).
    fn snapshot_body(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(64 + self.pool.live() * 16));
        e.v(self.seq);
        e.v(self.accounts.len() as u64);
        for a in &self.accounts {
            e.str(&a.name);
        }
        e.v(self.books.len() as u64);
        for book in &self.books {
            let s = &book.spec;
            e.str(&s.symbol);
            e.s(s.tick_size);
            e.v(s.lot_size);
            e.v(s.min_qty);
            e.v(s.max_qty);
            match s.price_band {
                Some(band) => {
                    e.b(1);
                    e.s(band);
                }
                None => e.b(0),
            }
            match book.last_trade {
                Some(p) => {
                    e.b(1);
                    e.s(p);
                }
                None => e.b(0),
            }
            for side in [Side::Buy, Side::Sell] {
                let ladder = book.ladder(side);
                e.v(ladder.len() as u64);
                for level in ladder.iter_best_first() {
                    e.s(level.price);
                    e.v(u64::from(level.count));
                    let mut idx = level.head;
                    while idx != NIL {
                        e.order(&self.pool, idx);
                        idx = self.pool[idx].next;
                    }
                }
            }
            for map in [&book.stops.buys, &book.stops.sells] {
                e.v(map.len() as u64);
                for (&(_, arrival), &idx) in map {
                    e.v(arrival);
                    e.s(self.pool[idx].price);
                    e.order(&self.pool, idx);
                }
            }
        }
        e.0
    }

    /// The complete snapshot file contents for journal seq `journal_seq`.
    pub fn snapshot_bytes(&self, journal_seq: u64) -> Vec<u8> {
        let body = self.snapshot_body();
        let mut out = Vec::with_capacity(SNAPSHOT_HEADER_SIZE + body.len());
        out.extend_from_slice(&SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&[0u8; 6]);
        out.extend_from_slice(&journal_seq.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        let header_crc = crc32c::crc32c(&out[..36]);
        out.extend_from_slice(&header_crc.to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Writes `snapshot-<journal_seq>.snap` into `dir` atomically and returns its path.
    /// `journal_seq` is the last journal record whose effect the engine holds.
    pub fn write_snapshot(&self, dir: impl AsRef<Path>, journal_seq: u64) -> io::Result<PathBuf> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir)?;
        let name = snapshot_file_name(journal_seq);
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        let bytes = self.snapshot_bytes(journal_seq);
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            crate::journal::sync_dir(dir)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map(|()| path)
    }

    /// Reads and validates a snapshot file: the engine and the journal seq it covers.
    pub fn read_snapshot(path: impl AsRef<Path>) -> Result<(Engine, u64), SnapshotError> {
        let path = path.as_ref();
        let err = |offset, problem| SnapshotError {
            path: path.to_path_buf(),
            offset,
            problem,
        };
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| err(None, SnapshotProblem::Io(e)))?;
        let (engine, seq) = Engine::from_snapshot_bytes(&bytes).map_err(|(off, p)| err(off, p))?;
        if let Some(name_seq) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(parse_snapshot_name)
        {
            if name_seq != seq {
                return Err(err(
                    Some(16),
                    SnapshotProblem::NameMismatch {
                        name_seq,
                        header_seq: seq,
                    },
                ));
            }
        }
        Ok((engine, seq))
    }

    /// Decodes snapshot file contents; errors carry the byte offset where one applies.
    pub fn from_snapshot_bytes(
        bytes: &[u8],
    ) -> Result<(Engine, u64), (Option<u64>, SnapshotProblem)> {
        if bytes.len() < SNAPSHOT_HEADER_SIZE {
            return Err((
                Some(0),
                SnapshotProblem::TruncatedHeader {
                    len: bytes.len() as u64,
                },
            ));
        }
        let h = &bytes[..SNAPSHOT_HEADER_SIZE];
        let u64_at = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8"));
        let u32_at = |at: usize| u32::from_le_bytes(h[at..at + 4].try_into().expect("4"));
        if h[..8] != SNAPSHOT_MAGIC {
            return Err((Some(0), SnapshotProblem::BadMagic));
        }
        let version = u16::from_le_bytes([h[8], h[9]]);
        if version != SNAPSHOT_VERSION {
            return Err((Some(8), SnapshotProblem::UnsupportedVersion(version)));
        }
        let stored = u32_at(36);
        let computed = crc32c::crc32c(&h[..36]);
        if stored != computed {
            return Err((Some(36), SnapshotProblem::BadHeaderCrc { stored, computed }));
        }
        if h[10..16].iter().any(|&b| b != 0) {
            return Err((Some(10), SnapshotProblem::BadHeaderField("flags/reserved")));
        }
        let journal_seq = u64_at(16);
        let body_len = u64_at(24);
        let body = &bytes[SNAPSHOT_HEADER_SIZE..];
        if body.len() as u64 != body_len {
            return Err((
                Some(24),
                SnapshotProblem::BodyLength {
                    expected: body_len,
                    found: body.len() as u64,
                },
            ));
        }
        let stored = u32_at(32);
        let computed = crc32c::crc32c(body);
        if stored != computed {
            return Err((Some(32), SnapshotProblem::BadBodyCrc { stored, computed }));
        }
        let mut d = Dec { b: body, pos: 0 };
        let engine = restore(&mut d).map_err(|why| {
            (
                Some((SNAPSHOT_HEADER_SIZE + d.pos) as u64),
                SnapshotProblem::Invalid(why),
            )
        })?;
        Ok((engine, journal_seq))
    }
}

// ---- decoding ------------------------------------------------------------------

struct Dec<'a> {
    b: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, String>;

impl Dec<'_> {
    #[inline]
    fn b(&mut self) -> R<u8> {
        let x = *self.b.get(self.pos).ok_or("body ends early")?;
        self.pos += 1;
        Ok(x)
    }
    #[inline]
    fn v(&mut self) -> R<u64> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.b()?;
            if shift == 63 && byte > 1 {
                return Err("varint overflows 64 bits".into());
            }
            x |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err("varint longer than 10 bytes".into())
    }
    #[inline]
    fn s(&mut self) -> R<i64> {
        let z = self.v()?;
        Ok((z >> 1) as i64 ^ -((z & 1) as i64))
    }
    fn u32(&mut self, what: &str) -> R<u32> {
        u32::try_from(self.v()?).map_err(|_| format!("{what} does not fit 32 bits"))
    }
    fn str(&mut self) -> R<String> {
        let len = self.v()?;
        let left = (self.b.len() - self.pos) as u64;
        if len > left {
            return Err("string runs past the end of the body".into());
        }
        let s = &self.b[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        String::from_utf8(s.to_vec()).map_err(|_| "string is not UTF-8".into())
    }
    fn flag(&mut self) -> R<bool> {
        match self.b()? {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(format!("flag byte {x} is neither 0 nor 1")),
        }
    }
}

/// An order as stored: everything but placement, links, price (resting) and instrument/side.
struct Stored {
    order_id: u64,
    account: u32,
    qty: u64,
    leaves: u64,
    display: u64,
    visible: u64,
    stop_price: Price,
    order_type: OrderType,
    tif: Tif,
    stp: Stp,
    post_only: bool,
}

fn read_order(d: &mut Dec<'_>, accounts: usize) -> R<Stored> {
    let order_id = d.v()?;
    let account = d.u32("account")?;
    if account as usize >= accounts {
        return Err(format!("order {order_id}: unknown account {account}"));
    }
    let (qty, leaves, display, visible) = (d.v()?, d.v()?, d.v()?, d.v()?);
    let stop_price = d.s()?;
    let codes = d.b()?;
    let bad = || format!("order {order_id}: bad type/tif/stp codes {codes:#04x}");
    Ok(Stored {
        order_id,
        account,
        qty,
        leaves,
        display,
        visible,
        stop_price,
        order_type: OrderType::from_code(codes & 3).ok_or_else(bad)?,
        tif: Tif::from_code((codes >> 2) & 3).ok_or_else(bad)?,
        stp: Stp::from_code((codes >> 4) & 7).ok_or_else(bad)?,
        post_only: codes & 0x80 != 0,
    })
}

impl Stored {
    fn into_order(self, instrument: u32, side: Side, price: Price, placement: Placement) -> Order {
        Order {
            order_id: self.order_id,
            price,
            qty: self.qty,
            leaves: self.leaves,
            prev: NIL,
            next: NIL,
            acct_prev: NIL,
            acct_next: NIL,
            account: self.account,
            instrument,
            side,
            order_type: self.order_type,
            tif: self.tif,
            stp: self.stp,
            post_only: self.post_only,
            placement,
            has_extra: false,
        }
    }

    fn extra(&self) -> Extra {
        Extra {
            stop_price: self.stop_price,
            display: self.display,
            visible: self.visible,
        }
    }
}

/// Rebuilds an engine from a snapshot body, validating as it goes.
fn restore(d: &mut Dec<'_>) -> R<Engine> {
    let mut eng = Engine::new();
    eng.seq = d.v()?;
    let n_accounts = d.v()?;
    for i in 0..n_accounts {
        let name = d.str()?;
        if u64::from(eng.account_id(&name)) != i {
            return Err(format!("duplicate account name {name:?}"));
        }
    }
    let accounts = eng.accounts.len();
    let n_books = d.v()?;
    for id in 0..n_books {
        let symbol = d.str()?;
        let tick_size = d.s()?;
        let lot_size = d.v()?;
        let min_qty = d.v()?;
        let max_qty = d.v()?;
        let price_band = if d.flag()? { Some(d.s()?) } else { None };
        let spec = InstrumentSpec {
            symbol: symbol.clone(),
            tick_size,
            lot_size,
            min_qty,
            max_qty,
            price_band,
        };
        let got = eng
            .add_instrument(spec)
            .map_err(|e| format!("instrument {symbol:?}: {e}"))?;
        if u64::from(got) != id {
            return Err(format!("instrument {symbol:?} got id {got}, expected {id}"));
        }
        let instrument = got;
        let last_trade = if d.flag()? { Some(d.s()?) } else { None };
        eng.books[instrument as usize].last_trade = last_trade;
        for side in [Side::Buy, Side::Sell] {
            restore_side(&mut eng, d, instrument, side, accounts)?;
        }
        let book = &eng.books[instrument as usize];
        if let (Some(bid), Some(ask)) = (book.bids.best(), book.asks.best()) {
            if bid.price >= ask.price {
                return Err(format!(
                    "{symbol}: crossed book (bid {} >= ask {})",
                    bid.price, ask.price
                ));
            }
        }
        for side in [Side::Buy, Side::Sell] {
            restore_stops(&mut eng, d, instrument, side, accounts)?;
        }
    }
    if d.pos != d.b.len() {
        return Err(format!("{} trailing bytes", d.b.len() - d.pos));
    }
    debug_assert_eq!(eng.check_invariants(), Ok(()));
    Ok(eng)
}

fn restore_side(
    eng: &mut Engine,
    d: &mut Dec<'_>,
    instrument: u32,
    side: Side,
    accounts: usize,
) -> R<()> {
    let symbol = eng.books[instrument as usize].spec.symbol.clone();
    let n_levels = d.v()?;
    let mut prev: Option<Price> = None;
    for _ in 0..n_levels {
        let price = d.s()?;
        let book = &eng.books[instrument as usize];
        book.spec
            .check_tick(price)
            .map_err(|r| format!("{symbol} {side} level {price}: {}", r.as_str()))?;
        if let Some(p) = prev {
            let better = match side {
                Side::Buy => p > price,
                Side::Sell => p < price,
            };
            if !better {
                return Err(format!("{symbol} {side} levels out of order at {price}"));
            }
        }
        prev = Some(price);
        let count = d.v()?;
        if count == 0 {
            return Err(format!("{symbol} {side} empty level at {price}"));
        }
        let mut shown: u64 = 0;
        for _ in 0..count {
            let s = read_order(d, accounts)?;
            let id = s.order_id;
            let bad = |what: &str| format!("{symbol} resting order {id}: {what}");
            if !matches!(s.order_type, OrderType::Limit | OrderType::StopLimit) || s.tif != Tif::Gtc
            {
                return Err(bad("cannot rest (type/tif)"));
            }
            if s.visible == 0 || s.visible > s.leaves || s.leaves > s.qty {
                return Err(bad("quantities inconsistent"));
            }
            if (s.display == 0 && s.visible != s.leaves)
                || (s.display != 0 && s.visible > s.display)
            {
                return Err(bad("shown quantity inconsistent with display"));
            }
            shown = shown
                .checked_add(s.visible)
                .ok_or_else(|| bad("level shown quantity overflows"))?;
            if eng.books[instrument as usize].index.contains(id, &eng.pool) {
                return Err(bad("duplicate order id"));
            }
            let extra = s.extra();
            let idx = eng.pool.alloc_with(
                s.into_order(instrument, side, price, Placement::Book),
                extra,
            );
            let Engine { books, pool, .. } = &mut *eng;
            books[instrument as usize]
                .ladder_mut(side)
                .push_back(pool, idx);
            eng.register(idx);
        }
    }
    Ok(())
}

fn restore_stops(
    eng: &mut Engine,
    d: &mut Dec<'_>,
    instrument: u32,
    side: Side,
    accounts: usize,
) -> R<()> {
    let symbol = eng.books[instrument as usize].spec.symbol.clone();
    let n_stops = d.v()?;
    let mut prev: Option<(Price, u64)> = None;
    for _ in 0..n_stops {
        let arrival = d.v()?;
        let price = d.s()?;
        let s = read_order(d, accounts)?;
        let id = s.order_id;
        let bad = |what: &str| format!("{symbol} waiting stop {id}: {what}");
        if !matches!(s.order_type, OrderType::Stop | OrderType::StopLimit) {
            return Err(bad("not a stop order"));
        }
        if s.qty == 0 || s.leaves != s.qty || s.visible != 0 {
            return Err(bad("quantities inconsistent"));
        }
        let book = &eng.books[instrument as usize];
        book.spec
            .check_tick(s.stop_price)
            .map_err(|r| bad(&format!("stop price: {}", r.as_str())))?;
        if s.order_type == OrderType::StopLimit {
            book.spec
                .check_tick(price)
                .map_err(|r| bad(&format!("limit price: {}", r.as_str())))?;
        }
        if arrival > eng.seq {
            return Err(bad("arrival key after the engine seq"));
        }
        let key = match side {
            Side::Buy => (s.stop_price, arrival),
            Side::Sell => (-s.stop_price, arrival),
        };
        if prev.is_some_and(|p| p >= key) {
            return Err(bad("stops out of trigger order"));
        }
        prev = Some(key);
        if let Some(last) = book.last_trade {
            let due = match side {
                Side::Buy => last >= s.stop_price,
                Side::Sell => last <= s.stop_price,
            };
            if due {
                return Err(bad("already due at the last trade price"));
            }
        }
        if book.index.contains(id, &eng.pool) {
            return Err(bad("duplicate order id"));
        }
        let stop_price = s.stop_price;
        let extra = s.extra();
        let idx = eng.pool.alloc_with(
            s.into_order(instrument, side, price, Placement::Stop),
            extra,
        );
        eng.register(idx);
        eng.books[instrument as usize]
            .stops
            .insert(side, stop_price, arrival, idx);
    }
    Ok(())
}

// ---- directory -----------------------------------------------------------------

/// Snapshot files of `dir` as `(journal seq, path)`, newest first.
pub fn list(dir: impl AsRef<Path>) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(seq) = entry.file_name().to_str().and_then(parse_snapshot_name) {
            out.push((seq, entry.path()));
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// The result of looking for the newest valid snapshot.
#[derive(Default)]
pub struct Latest {
    /// The newest snapshot that validates: path, engine, journal seq.
    pub found: Option<(PathBuf, Engine, u64)>,
    /// Newer snapshots that did not validate, newest first.
    pub skipped: Vec<SnapshotError>,
}

impl fmt::Debug for Latest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latest")
            .field(
                "found",
                &self
                    .found
                    .as_ref()
                    .map(|(p, e, s)| (p, s, format!("state_hash {:#018x}", e.state_hash()))),
            )
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Finds the newest snapshot in `dir` that validates, collecting the newer ones that did not.
/// A missing directory holds no snapshot.
pub fn latest_valid_report(dir: impl AsRef<Path>) -> io::Result<Latest> {
    let dir = dir.as_ref();
    let files = match list(dir) {
        Ok(files) => files,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut latest = Latest::default();
    for (_, path) in files {
        match Engine::read_snapshot(&path) {
            Ok((engine, seq)) => {
                latest.found = Some((path, engine, seq));
                break;
            }
            Err(e) => latest.skipped.push(e),
        }
    }
    Ok(latest)
}

/// The newest snapshot in `dir` that validates: path, engine and journal seq.
/// Corrupt newer snapshots are skipped and reported on stderr (use
/// [`latest_valid_report`] to get them as values).
pub fn latest_valid(dir: impl AsRef<Path>) -> Option<(PathBuf, Engine, u64)> {
    match latest_valid_report(dir) {
        Ok(latest) => {
            for e in &latest.skipped {
                eprintln!("pyengine: skipping unusable {e}");
            }
            latest.found
        }
        Err(e) => {
            eprintln!("pyengine: cannot list snapshots: {e}");
            None
        }
    }
}
