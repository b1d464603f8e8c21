//! Parsing of the string and integer arguments of the Python API.

use pyo3::PyResult;
use pyengine_core::{OrderType, Qty, Side, Stp, Tif};

use crate::errors::bad_arg;

fn choice<T: Copy>(what: &str, text: &str, all: &[T], parse: fn(&str) -> Option<T>, name: fn(T) -> &'static str) -> PyResult<T> {
    parse(text).ok_or_else(|| {
        let allowed: Vec<&str> = all.iter().map(|&v| name(v)).collect();
        bad_arg(format!("unknown {what} {text:?}; expected one of {}", allowed.join(", ")))
    })
}

pub fn side(text: &str) -> PyResult<Side> {
    choice("side", text, Side::ALL, Side::parse, Side::as_str)
}

pub fn order_type(text: &str) -> PyResult<OrderType> {
    choice("order type", text, OrderType::ALL, OrderType::parse, OrderType::as_str)
}

pub fn tif(text: &str) -> PyResult<Tif> {
    choice("time in force", text, Tif::ALL, Tif::parse, Tif::as_str)
}

pub fn stp(text: &str) -> PyResult<Stp> {
    choice("self-trade prevention mode", text, Stp::ALL, Stp::parse, Stp::as_str)
}

/// A quantity argument: non-negative (zero is a business reject, not an argument error).
pub fn qty(what: &str, value: i64) -> PyResult<Qty> {
    u64::try_from(value).map_err(|_| bad_arg(format!("{what} must not be negative, got {value}")))
}

/// An order id argument: non-negative.
pub fn order_id(value: i64) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| bad_arg(format!("order_id must not be negative, got {value}")))
}
