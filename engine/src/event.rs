//! What the engine reports back: one `Event` per state change, in `seq` order.

use crate::types::{AccountId, InstrumentId, OrderId, Price, Qty, Side, Timestamp};

macro_rules! named_codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:expr, $text:expr;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name { $($variant = $code),+ }

        impl $name {
            /// All variants, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable numeric code.
            #[inline]
            pub fn code(self) -> u8 { self as u8 }
            /// The variant with this code, if any.
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
            /// The stable lower-case name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

named_codes!(
    /// The kind of an event.
    EventKind {
        Accepted = 0, "accepted";
        Rejected = 1, "rejected";
        Trade = 2, "trade";
        Cancelled = 3, "cancelled";
        Amended = 4, "amended";
        Triggered = 5, "triggered";
    }
);

named_codes!(
    /// Why a command was rejected or an order cancelled. `None` (code 0) on
    /// events that carry no reason.
    Reason {
        None = 0, "";
        UnknownInstrument = 1, "unknown_instrument";
        DuplicateOrderId = 2, "duplicate_order_id";
        UnknownOrder = 3, "unknown_order";
        PriceOffTick = 4, "price_off_tick";
        QtyOffLot = 5, "qty_off_lot";
        QtyBelowMin = 6, "qty_below_min";
        QtyAboveMax = 7, "qty_above_max";
        PriceBand = 8, "price_band";
        WouldTake = 9, "would_take";
        Overflow = 10, "overflow";
        InvalidQty = 11, "invalid_qty";
        InvalidDisplay = 12, "invalid_display";
        InvalidOrder = 13, "invalid_order";
        InvalidAmend = 14, "invalid_amend";
        InvalidCommand = 15, "invalid_command";
        User = 32, "user";
        Ioc = 33, "ioc";
        NoLiquidity = 34, "no_liquidity";
        Fok = 35, "fok";
        SelfTrade = 36, "stp";
        MassCancel = 37, "mass_cancel";
        AmendFilled = 38, "amend_filled";
    }
);

/// One state change. Fields that do not apply to a kind hold zero / `None`.
///
/// * `Accepted`: the order as entered (`qty`, `leaves_qty`, `price` if limit).
/// * `Rejected`: the refused command's `order_id` and `reason`.
/// * `Trade`: `order_id` is the taker, `maker_order_id` the resting order;
///   `price`/`qty` of the fill, `leaves_qty` and `maker_leaves_qty` after it.
/// * `Cancelled`: `qty` cancelled, `reason`, `leaves_qty` 0.
/// * `Amended`: the new `price`, total `qty` and `leaves_qty`.
/// * `Triggered`: a stop order entered the book; `price` is its stop price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub ts: Timestamp,
    pub kind: EventKind,
    pub reason: Reason,
    pub side: Side,
    pub instrument: InstrumentId,
    pub order_id: OrderId,
    pub account: AccountId,
    pub price: Option<Price>,
    pub qty: Qty,
    pub leaves_qty: Qty,
    pub maker_order_id: OrderId,
    pub maker_account: AccountId,
    pub maker_leaves_qty: Qty,
}

impl Event {
    /// An event of `kind` with every optional field empty; the engine fills `seq` and `ts`.
    #[inline]
    pub(crate) fn new(kind: EventKind, instrument: InstrumentId, order_id: OrderId) -> Event {
        Event {
            seq: 0,
            ts: 0,
            kind,
            reason: Reason::None,
            side: Side::Buy,
            instrument,
            order_id,
            account: 0,
            price: None,
            qty: 0,
            leaves_qty: 0,
            maker_order_id: 0,
            maker_account: 0,
            maker_leaves_qty: 0,
        }
    }
}
