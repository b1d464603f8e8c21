//! The one place where Rust-side failures become Python exceptions.

use pyengine_core::SpecError;
use pyo3::create_exception;
use pyo3::exceptions::{PyAssertionError, PyKeyError, PyValueError};
use pyo3::PyErr;

create_exception!(
    _engine,
    InvariantError,
    PyAssertionError,
    "Raised by Engine.check_invariants() when an internal invariant is broken."
);

/// An invalid instrument specification.
pub fn spec_error(err: SpecError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// A broken internal invariant.
pub fn invariant_error(msg: String) -> PyErr {
    InvariantError::new_err(msg)
}

/// A query about an instrument the engine does not have.
pub fn unknown_symbol(symbol: &str) -> PyErr {
    PyKeyError::new_err(format!("unknown instrument {symbol:?}"))
}

/// A malformed argument.
pub fn bad_arg(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}
