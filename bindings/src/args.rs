//! Parsing of the string and integer arguments of the Python API.

use pyengine_core::{OrderType, Qty, Side, Stp, Tif};
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyInt;

use crate::errors::bad_arg;

fn choice<T: Copy>(
    what: &str,
    text: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
    name: fn(T) -> &'static str,
) -> PyResult<T> {
    parse(text).ok_or_else(|| {
        let allowed: Vec<&str> = all.iter().map(|&v| name(v)).collect();
        bad_arg(format!(
            "unknown {what} {text:?}; expected one of {}",
            allowed.join(", ")
        ))
    })
}

pub fn side(text: &str) -> PyResult<Side> {
    choice("side", text, Side::ALL, Side::parse, Side::as_str)
}

pub fn order_type(text: &str) -> PyResult<OrderType> {
    choice(
        "order type",
        text,
        OrderType::ALL,
        OrderType::parse,
        OrderType::as_str,
    )
}

pub fn tif(text: &str) -> PyResult<Tif> {
    choice("time in force", text, Tif::ALL, Tif::parse, Tif::as_str)
}

pub fn stp(text: &str) -> PyResult<Stp> {
    choice(
        "self-trade prevention mode",
        text,
        Stp::ALL,
        Stp::parse,
        Stp::as_str,
    )
}

/// A non-negative 64-bit integer argument (quantities, order ids): negative
/// or too-large values raise ValueError naming the argument; non-integers raise TypeError.
pub fn unsigned(what: &str, value: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Some(v) = fast_u64(value) {
        return Ok(v);
    }
    if let Ok(v) = value.extract::<u64>() {
        return Ok(v);
    }
    if value.cast::<PyInt>().is_err() {
        let type_name = value.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {type_name}"
        )));
    }
    if value.lt(0)? {
        Err(bad_arg(format!("{what} must not be negative, got {value}")))
    } else {
        Err(bad_arg(format!("{what} must be below 2**64, got {value}")))
    }
}

/// An exact `int` in 0..2**64 read with `PyLong_AsUnsignedLong` (a digit loop;
/// CPython 3.11's `PyLong_AsUnsignedLongLong` goes through a byte-array
/// conversion for every multi-digit int). None, with no exception left set,
/// for anything else: the caller then takes the general path and its messages.
#[inline]
fn fast_u64(value: &Bound<'_, PyAny>) -> Option<u64> {
    if std::mem::size_of::<std::os::raw::c_ulong>() != 8 || !value.is_exact_instance_of::<PyInt>() {
        return None;
    }
    // SAFETY: `value` is a live int and the GIL is held (we hold a Bound).
    let v = unsafe { ffi::PyLong_AsUnsignedLong(value.as_ptr()) };
    if v == std::os::raw::c_ulong::MAX && PyErr::occurred(value.py()) {
        drop(PyErr::take(value.py()));
        return None;
    }
    Some(v as u64)
}

/// A quantity argument given as a plain i64 (instrument parameters).
pub fn qty(what: &str, value: i64) -> PyResult<Qty> {
    u64::try_from(value).map_err(|_| bad_arg(format!("{what} must not be negative, got {value}")))
}
