//! Per-instrument state: both ladders, the order-id index and waiting stops.

use std::collections::BTreeMap;

use crate::index::OrderIndex;
use crate::instrument::InstrumentSpec;
use crate::level::Ladder;
use crate::types::{Price, Side};

/// Waiting stop orders of one book, in trigger order.
///
/// Buy stops trigger when the last trade is at or above their stop price,
/// lowest stop first; sell stops at or below, highest stop first; ties in
/// arrival order. Keys are `(stop key, arrival seq)` where the sell key is the
/// negated stop price so that both maps trigger from their first entry.
#[derive(Clone, Debug, Default)]
pub struct StopBook {
    pub buys: BTreeMap<(Price, u64), u32>,
    pub sells: BTreeMap<(Price, u64), u32>,
}

impl StopBook {
    #[inline]
    fn key(side: Side, stop_price: Price) -> Price {
        match side {
            Side::Buy => stop_price,
            Side::Sell => -stop_price,
        }
    }

    fn map(&mut self, side: Side) -> &mut BTreeMap<(Price, u64), u32> {
        match side {
            Side::Buy => &mut self.buys,
            Side::Sell => &mut self.sells,
        }
    }

    pub fn insert(&mut self, side: Side, stop_price: Price, arrival: u64, idx: u32) {
        self.map(side)
            .insert((Self::key(side, stop_price), arrival), idx);
    }

    /// Removes the stop stored for order slot `idx` at `stop_price`.
    pub fn remove(&mut self, side: Side, stop_price: Price, idx: u32) {
        let key = Self::key(side, stop_price);
        let map = self.map(side);
        let found = map
            .range((key, 0)..=(key, u64::MAX))
            .find(|(_, &v)| v == idx)
            .map(|(k, _)| *k);
        if let Some(k) = found {
            map.remove(&k);
        } else {
            unreachable!("stop order missing from the stop book");
        }
    }

    /// The next stop that `last_trade` triggers: buys before sells.
    pub fn next_triggered(&self, last_trade: Price) -> Option<(Side, u32)> {
        if let Some((&(stop, _), &idx)) = self.buys.first_key_value() {
            if stop <= last_trade {
                return Some((Side::Buy, idx));
            }
        }
        if let Some((&(neg_stop, _), &idx)) = self.sells.first_key_value() {
            if -neg_stop >= last_trade {
                return Some((Side::Sell, idx));
            }
        }
        None
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buys.len() + self.sells.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops in trigger order per side: `(side, stop price, arrival, slot)`.
    pub fn iter(&self) -> impl Iterator<Item = (Side, Price, u64, u32)> + '_ {
        let buys = self.buys.iter().map(|(&(k, a), &i)| (Side::Buy, k, a, i));
        let sells = self
            .sells
            .iter()
            .map(|(&(k, a), &i)| (Side::Sell, -k, a, i));
        buys.chain(sells)
    }
}

/// Everything the engine knows about one instrument.
#[derive(Clone, Debug)]
pub struct Book {
    pub spec: InstrumentSpec,
    pub bids: Ladder,
    pub asks: Ladder,
    /// Live orders (resting and waiting stops) by client order id.
    pub index: OrderIndex,
    pub stops: StopBook,
    pub last_trade: Option<Price>,
}

impl Book {
    pub fn new(spec: InstrumentSpec) -> Book {
        Book {
            bids: Ladder::new(Side::Buy, spec.tick_size),
            asks: Ladder::new(Side::Sell, spec.tick_size),
            spec,
            index: OrderIndex::default(),
            stops: StopBook::default(),
            last_trade: None,
        }
    }

    #[inline]
    pub fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    #[inline]
    pub fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Whether an order on `side` limited at `limit` (None = market) can trade at `price`.
    #[inline]
    pub fn crosses(side: Side, limit: Option<Price>, price: Price) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Buy, Some(l)) => price <= l,
            (Side::Sell, Some(l)) => price >= l,
        }
    }

    /// Whether a `side` order at `limit` would trade against the opposite best now.
    #[inline]
    pub fn would_take(&self, side: Side, limit: Option<Price>) -> bool {
        self.ladder(side.opposite())
            .best()
            .is_some_and(|l| Self::crosses(side, limit, l.price))
    }

    pub fn heap_bytes(&self) -> usize {
        self.bids.heap_bytes() + self.asks.heap_bytes() + self.index.heap_bytes()
    }
}
