//! Fixed-size little-endian records for commands and events.
//!
//! The batch API moves commands in and events out as arrays of these records
//! (numpy structured arrays on the Python side), and the journal stores the
//! command record. Layouts are part of the public format: never reorder.
//!
//! Command record, [`COMMAND_RECORD_SIZE`] bytes:
//! `ts u64 | order_id u64 | price i64 | stop_price i64 | qty u64 | display_qty u64 |
//!  instrument u32 | account u32 | op u8 | side u8 | order_type u8 | tif u8 | stp u8 |
//!  flags u8 | pad 2`
//!
//! Event record, [`EVENT_RECORD_SIZE`] bytes:
//! `seq u64 | ts u64 | order_id u64 | maker_order_id u64 | price i64 | qty u64 |
//!  leaves_qty u64 | maker_leaves_qty u64 | instrument u32 | account u32 |
//!  maker_account u32 | kind u8 | reason u8 | side u8 | flags u8`

use crate::command::{Command, NewOrder};
use crate::engine::{Engine, PREFETCH_DISTANCE, PREFETCH_MIN_ORDERS, PREFETCH_STAGES};
use crate::event::{Event, EventKind, Reason};
use crate::types::{OrderType, Side, Stp, Tif, Timestamp};

pub const COMMAND_RECORD_SIZE: usize = 64;
pub const EVENT_RECORD_SIZE: usize = 80;

/// `op` codes of the command record.
pub mod op {
    pub const SUBMIT: u8 = 0;
    pub const CANCEL: u8 = 1;
    pub const AMEND: u8 = 2;
    pub const MASS_CANCEL: u8 = 3;
}

/// `flags` bits of the command record.
pub mod flag {
    pub const POST_ONLY: u8 = 1;
    pub const HAS_QTY: u8 = 2;
    pub const HAS_PRICE: u8 = 4;
    pub const HAS_STOP_PRICE: u8 = 8;
    pub const HAS_INSTRUMENT: u8 = 16;
    pub const HAS_SIDE: u8 = 32;
}

/// `flags` bit of the event record: the `price` field is meaningful.
pub const EVENT_HAS_PRICE: u8 = 1;

#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// A command record that does not decode: the instrument and order id it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRecord {
    pub instrument: u32,
    pub order_id: u64,
}

/// Decodes one command record.
pub fn decode_command(b: &[u8; COMMAND_RECORD_SIZE]) -> Result<(Timestamp, Command), BadRecord> {
    let ts = u64_at(b, 0);
    let order_id = u64_at(b, 8);
    let price = u64_at(b, 16) as i64;
    let stop_price = u64_at(b, 24) as i64;
    let qty = u64_at(b, 32);
    let display_qty = u64_at(b, 40);
    let instrument = u32_at(b, 48);
    let account = u32_at(b, 52);
    let flags = b[61];
    let bad = BadRecord {
        instrument,
        order_id,
    };
    let cmd = match b[56] {
        op::SUBMIT => Command::Submit(NewOrder {
            instrument,
            order_id,
            account,
            side: Side::from_code(b[57]).ok_or(bad)?,
            order_type: OrderType::from_code(b[58]).ok_or(bad)?,
            tif: Tif::from_code(b[59]).ok_or(bad)?,
            stp: Stp::from_code(b[60]).ok_or(bad)?,
            post_only: flags & flag::POST_ONLY != 0,
            qty,
            price,
            stop_price,
            display_qty,
        }),
        op::CANCEL => Command::Cancel {
            instrument,
            order_id,
        },
        op::AMEND => Command::Amend {
            instrument,
            order_id,
            qty: (flags & flag::HAS_QTY != 0).then_some(qty),
            price: (flags & flag::HAS_PRICE != 0).then_some(price),
            stop_price: (flags & flag::HAS_STOP_PRICE != 0).then_some(stop_price),
        },
        op::MASS_CANCEL => Command::MassCancel {
            account,
            instrument: (flags & flag::HAS_INSTRUMENT != 0).then_some(instrument),
            side: if flags & flag::HAS_SIDE != 0 {
                Some(Side::from_code(b[57]).ok_or(bad)?)
            } else {
                None
            },
        },
        _ => return Err(bad),
    };
    Ok((ts, cmd))
}

/// Encodes one command record.
pub fn encode_command(ts: Timestamp, cmd: &Command) -> [u8; COMMAND_RECORD_SIZE] {
    let mut b = [0u8; COMMAND_RECORD_SIZE];
    let put64 = |b: &mut [u8; COMMAND_RECORD_SIZE], at: usize, v: u64| {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes())
    };
    put64(&mut b, 0, ts);
    let (instrument, account) = match *cmd {
        Command::Submit(o) => {
            put64(&mut b, 8, o.order_id);
            put64(&mut b, 16, o.price as u64);
            put64(&mut b, 24, o.stop_price as u64);
            put64(&mut b, 32, o.qty);
            put64(&mut b, 40, o.display_qty);
            b[56] = op::SUBMIT;
            b[57] = o.side.code();
            b[58] = o.order_type.code();
            b[59] = o.tif.code();
            b[60] = o.stp.code();
            b[61] = if o.post_only { flag::POST_ONLY } else { 0 };
            (o.instrument, o.account)
        }
        Command::Cancel {
            instrument,
            order_id,
        } => {
            put64(&mut b, 8, order_id);
            b[56] = op::CANCEL;
            (instrument, 0)
        }
        Command::Amend {
            instrument,
            order_id,
            qty,
            price,
            stop_price,
        } => {
            put64(&mut b, 8, order_id);
            put64(&mut b, 16, price.unwrap_or(0) as u64);
            put64(&mut b, 24, stop_price.unwrap_or(0) as u64);
            put64(&mut b, 32, qty.unwrap_or(0));
            b[56] = op::AMEND;
            b[61] = if qty.is_some() { flag::HAS_QTY } else { 0 }
                | if price.is_some() { flag::HAS_PRICE } else { 0 }
                | if stop_price.is_some() {
                    flag::HAS_STOP_PRICE
                } else {
                    0
                };
            (instrument, 0)
        }
        Command::MassCancel {
            account,
            instrument,
            side,
        } => {
            b[56] = op::MASS_CANCEL;
            b[57] = side.map_or(0, Side::code);
            b[61] = if instrument.is_some() {
                flag::HAS_INSTRUMENT
            } else {
                0
            } | if side.is_some() { flag::HAS_SIDE } else { 0 };
            (instrument.unwrap_or(0), account)
        }
    };
    b[48..52].copy_from_slice(&instrument.to_le_bytes());
    b[52..56].copy_from_slice(&account.to_le_bytes());
    b
}

/// Appends the event record of `ev` to `out`.
#[inline]
pub fn encode_event(ev: &Event, out: &mut Vec<u8>) {
    let mut b = [0u8; EVENT_RECORD_SIZE];
    let fields = [
        ev.seq,
        ev.ts,
        ev.order_id,
        ev.maker_order_id,
        ev.price.unwrap_or(0) as u64,
        ev.qty,
        ev.leaves_qty,
        ev.maker_leaves_qty,
    ];
    for (i, v) in fields.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[64..68].copy_from_slice(&ev.instrument.to_le_bytes());
    b[68..72].copy_from_slice(&ev.account.to_le_bytes());
    b[72..76].copy_from_slice(&ev.maker_account.to_le_bytes());
    b[76] = ev.kind.code();
    b[77] = ev.reason.code();
    b[78] = ev.side.code();
    b[79] = if ev.price.is_some() {
        EVENT_HAS_PRICE
    } else {
        0
    };
    out.extend_from_slice(&b);
}

/// Decodes one event record (the inverse of [`encode_event`]).
pub fn decode_event(b: &[u8; EVENT_RECORD_SIZE]) -> Option<Event> {
    Some(Event {
        seq: u64_at(b, 0),
        ts: u64_at(b, 8),
        order_id: u64_at(b, 16),
        maker_order_id: u64_at(b, 24),
        price: (b[79] & EVENT_HAS_PRICE != 0).then_some(u64_at(b, 32) as i64),
        qty: u64_at(b, 40),
        leaves_qty: u64_at(b, 48),
        maker_leaves_qty: u64_at(b, 56),
        instrument: u32_at(b, 64),
        account: u32_at(b, 68),
        maker_account: u32_at(b, 72),
        kind: EventKind::from_code(b[76])?,
        reason: Reason::from_code(b[77])?,
        side: Side::from_code(b[78])?,
    })
}

impl Engine {
    /// Applies a whole buffer of command records, appending event records to `out`.
    /// A record that does not decode is rejected (`invalid_command`), never skipped.
    /// `records.len()` must be a multiple of [`COMMAND_RECORD_SIZE`].
    ///
    /// Like [`Engine::process_batch`], it prefetches for the commands ahead
    /// ([`Engine::prefetch`]): each record is decoded once, into a small ring
    /// that runs `3 * PREFETCH_DISTANCE` records ahead of the one applied.
    pub fn process_records(&mut self, records: &[u8], out: &mut Vec<u8>) {
        debug_assert_eq!(records.len() % COMMAND_RECORD_SIZE, 0);
        const RING: usize = 16;
        const AHEAD: usize = PREFETCH_STAGES as usize * PREFETCH_DISTANCE;
        const _: () = assert!(AHEAD < RING);
        let rec = |i: usize| -> &[u8; COMMAND_RECORD_SIZE] {
            records[i * COMMAND_RECORD_SIZE..(i + 1) * COMMAND_RECORD_SIZE]
                .try_into()
                .expect("exact chunk")
        };
        let n = records.len() / COMMAND_RECORD_SIZE;
        let mut ring: [Option<Result<(Timestamp, Command), BadRecord>>; RING] =
            std::array::from_fn(|_| None);
        for (j, slot) in ring.iter_mut().enumerate().take(AHEAD.min(n)) {
            *slot = Some(decode_command(rec(j)));
        }
        let mut events = Vec::with_capacity(16);
        for i in 0..n {
            if i + AHEAD < n {
                ring[(i + AHEAD) % RING] = Some(decode_command(rec(i + AHEAD)));
            }
            if self.pool.live() >= PREFETCH_MIN_ORDERS {
                for stage in 0..PREFETCH_STAGES {
                    let j = i + usize::from(PREFETCH_STAGES - stage) * PREFETCH_DISTANCE;
                    if let Some(Some(Ok((_, cmd)))) = (j < n).then(|| &ring[j % RING]) {
                        self.prefetch(cmd, stage);
                    }
                }
            }
            events.clear();
            match ring[i % RING].take().expect("decoded ahead") {
                Ok((ts, cmd)) => self.process(ts, &cmd, &mut events),
                Err(bad) => {
                    self.now = u64_at(rec(i), 0);
                    self.reject(
                        &mut events,
                        bad.instrument,
                        bad.order_id,
                        Reason::InvalidCommand,
                    );
                }
            }
            for ev in &events {
                encode_event(ev, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trip() {
        let cmds = [
            Command::Submit(NewOrder {
                post_only: true,
                display_qty: 5,
                stop_price: -7,
                ..NewOrder::limit(3, 99, 4, Side::Sell, 50, -120)
            }),
            Command::Cancel {
                instrument: 1,
                order_id: u64::MAX,
            },
            Command::Amend {
                instrument: 2,
                order_id: 7,
                qty: Some(3),
                price: None,
                stop_price: Some(10),
            },
            Command::MassCancel {
                account: 9,
                instrument: None,
                side: Some(Side::Sell),
            },
            Command::MassCancel {
                account: 9,
                instrument: Some(0),
                side: None,
            },
        ];
        for (i, cmd) in cmds.iter().enumerate() {
            let rec = encode_command(i as u64 + 1, cmd);
            assert_eq!(decode_command(&rec), Ok((i as u64 + 1, *cmd)));
        }
    }

    #[test]
    fn bad_codes_are_reported() {
        let mut rec = encode_command(
            1,
            &Command::Cancel {
                instrument: 2,
                order_id: 3,
            },
        );
        rec[56] = 200;
        assert_eq!(
            decode_command(&rec),
            Err(BadRecord {
                instrument: 2,
                order_id: 3
            })
        );
        let mut rec = encode_command(
            1,
            &Command::Submit(NewOrder::limit(0, 1, 0, Side::Buy, 1, 1)),
        );
        rec[57] = 7;
        assert!(decode_command(&rec).is_err());
    }

    #[test]
    fn event_round_trip() {
        let mut ev = Event::new(EventKind::Trade, 2, 11);
        ev.seq = 5;
        ev.price = Some(-3);
        ev.qty = 4;
        ev.maker_order_id = 12;
        ev.reason = Reason::SelfTrade;
        let mut out = Vec::new();
        encode_event(&ev, &mut out);
        assert_eq!(decode_event(out[..].try_into().unwrap()), Some(ev));
    }
}
