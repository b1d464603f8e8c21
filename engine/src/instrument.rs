//! Instrument specifications and the order-entry checks they imply.

use crate::event::Reason;
use crate::types::{Price, Qty};

/// Static trading parameters of one instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentSpec {
    pub symbol: String,
    /// Every price is a multiple of this (price units).
    pub tick_size: Price,
    /// Every quantity is a multiple of this (quantity units).
    pub lot_size: Qty,
    pub min_qty: Qty,
    pub max_qty: Qty,
    /// Limit prices further than this from the last trade price are refused.
    pub price_band: Option<Price>,
}

/// Why an instrument specification is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecError {
    EmptySymbol,
    DuplicateSymbol(String),
    NonPositive(&'static str),
    MinAboveMax,
    OffLot(&'static str),
    TooManyInstruments,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecError::EmptySymbol => write!(f, "symbol must not be empty"),
            SpecError::DuplicateSymbol(s) => write!(f, "instrument {s:?} already exists"),
            SpecError::NonPositive(field) => write!(f, "{field} must be positive"),
            SpecError::MinAboveMax => write!(f, "min_qty must not exceed max_qty"),
            SpecError::OffLot(field) => write!(f, "{field} must be a multiple of lot_size"),
            SpecError::TooManyInstruments => write!(f, "too many instruments"),
        }
    }
}

impl std::error::Error for SpecError {}

impl InstrumentSpec {
    /// A spec with the given tick and lot, min = one lot, max unbounded, no band.
    pub fn new(symbol: &str, tick_size: Price, lot_size: Qty) -> InstrumentSpec {
        InstrumentSpec {
            symbol: symbol.to_string(),
            tick_size,
            lot_size,
            min_qty: lot_size,
            max_qty: Qty::MAX - Qty::MAX % lot_size.max(1),
            price_band: None,
        }
    }

    /// Checks internal consistency.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.symbol.is_empty() {
            return Err(SpecError::EmptySymbol);
        }
        if self.tick_size <= 0 {
            return Err(SpecError::NonPositive("tick_size"));
        }
        if self.lot_size == 0 {
            return Err(SpecError::NonPositive("lot_size"));
        }
        if self.min_qty == 0 {
            return Err(SpecError::NonPositive("min_qty"));
        }
        if self.price_band.is_some_and(|b| b <= 0) {
            return Err(SpecError::NonPositive("price_band"));
        }
        if !self.min_qty.is_multiple_of(self.lot_size) {
            return Err(SpecError::OffLot("min_qty"));
        }
        if !self.max_qty.is_multiple_of(self.lot_size) {
            return Err(SpecError::OffLot("max_qty"));
        }
        if self.min_qty > self.max_qty {
            return Err(SpecError::MinAboveMax);
        }
        Ok(())
    }

    /// Order quantity checks: positive, on the lot, within min/max.
    #[inline]
    pub fn check_qty(&self, qty: Qty) -> Result<(), Reason> {
        if qty == 0 {
            Err(Reason::InvalidQty)
        } else if self.lot_size != 1 && !qty.is_multiple_of(self.lot_size) {
            Err(Reason::QtyOffLot)
        } else if qty < self.min_qty {
            Err(Reason::QtyBelowMin)
        } else if qty > self.max_qty {
            Err(Reason::QtyAboveMax)
        } else {
            Ok(())
        }
    }

    /// Price must sit on the tick. `i64::MIN` is refused so that negation never overflows.
    #[inline]
    pub fn check_tick(&self, price: Price) -> Result<(), Reason> {
        if price == Price::MIN {
            Err(Reason::Overflow)
        } else if self.tick_size != 1 && price % self.tick_size != 0 {
            Err(Reason::PriceOffTick)
        } else {
            Ok(())
        }
    }

    /// Limit price within the band around the last trade (no band, or no trade yet: always ok).
    #[inline]
    pub fn check_band(&self, price: Price, last_trade: Option<Price>) -> Result<(), Reason> {
        match (self.price_band, last_trade) {
            (Some(band), Some(last)) => {
                let distance = (price as i128 - last as i128).abs();
                if distance > band as i128 {
                    Err(Reason::PriceBand)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let mut s = InstrumentSpec::new("X", 5, 10);
        s.min_qty = 20;
        s.max_qty = 100;
        s.price_band = Some(50);
        assert!(s.validate().is_ok());
        assert_eq!(s.check_qty(0), Err(Reason::InvalidQty));
        assert_eq!(s.check_qty(15), Err(Reason::QtyOffLot));
        assert_eq!(s.check_qty(10), Err(Reason::QtyBelowMin));
        assert_eq!(s.check_qty(110), Err(Reason::QtyAboveMax));
        assert_eq!(s.check_qty(100), Ok(()));
        assert_eq!(s.check_tick(-15), Ok(()));
        assert_eq!(s.check_tick(7), Err(Reason::PriceOffTick));
        assert_eq!(s.check_tick(i64::MIN), Err(Reason::Overflow));
        assert_eq!(s.check_band(1000, None), Ok(()));
        assert_eq!(s.check_band(1050, Some(1000)), Ok(()));
        assert_eq!(s.check_band(1055, Some(1000)), Err(Reason::PriceBand));
        assert_eq!(
            s.check_band(i64::MAX, Some(i64::MIN + 1)),
            Err(Reason::PriceBand)
        );
    }

    #[test]
    fn invalid_specs() {
        let mut s = InstrumentSpec::new("X", 0, 1);
        assert_eq!(s.validate(), Err(SpecError::NonPositive("tick_size")));
        s.tick_size = 1;
        s.min_qty = 5;
        s.max_qty = 4;
        assert_eq!(s.validate(), Err(SpecError::MinAboveMax));
        assert_eq!(
            InstrumentSpec::new("", 1, 1).validate(),
            Err(SpecError::EmptySymbol)
        );
    }
}
