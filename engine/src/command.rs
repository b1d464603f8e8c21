//! Commands: the only way to change engine state.

use crate::types::{AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side, Stp, Tif};

/// A new order. `price` is used by limit and stop-limit orders, `stop_price`
/// by stop and stop-limit orders; `display_qty` 0 means not an iceberg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub instrument: InstrumentId,
    pub order_id: OrderId,
    pub account: AccountId,
    pub side: Side,
    pub order_type: OrderType,
    pub tif: Tif,
    pub stp: Stp,
    pub post_only: bool,
    pub qty: Qty,
    pub price: Price,
    pub stop_price: Price,
    pub display_qty: Qty,
}

impl NewOrder {
    /// A GTC limit order with no extras.
    pub fn limit(
        instrument: InstrumentId,
        order_id: OrderId,
        account: AccountId,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> NewOrder {
        NewOrder {
            instrument,
            order_id,
            account,
            side,
            order_type: OrderType::Limit,
            tif: Tif::Gtc,
            stp: Stp::None,
            post_only: false,
            qty,
            price,
            stop_price: 0,
            display_qty: 0,
        }
    }

    /// A market order (never rests).
    pub fn market(
        instrument: InstrumentId,
        order_id: OrderId,
        account: AccountId,
        side: Side,
        qty: Qty,
    ) -> NewOrder {
        NewOrder {
            order_type: OrderType::Market,
            tif: Tif::Ioc,
            ..Self::limit(instrument, order_id, account, side, qty, 0)
        }
    }
}

/// Every state-changing request the engine understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Submit(NewOrder),
    Cancel {
        instrument: InstrumentId,
        order_id: OrderId,
    },
    /// `qty` is the new total quantity (filled part included), as in FIX.
    Amend {
        instrument: InstrumentId,
        order_id: OrderId,
        qty: Option<Qty>,
        price: Option<Price>,
        stop_price: Option<Price>,
    },
    MassCancel {
        account: AccountId,
        instrument: Option<InstrumentId>,
        side: Option<Side>,
    },
}
