//! The one place where Rust-side failures become Python exceptions.

use pyengine_core::SpecError;
use pyo3::create_exception;
use pyo3::exceptions::{PyAssertionError, PyException, PyKeyError, PyOSError, PyValueError};
use pyo3::PyErr;

create_exception!(
    pyengine._engine,
    InvariantError,
    PyAssertionError,
    "Raised by Engine.check_invariants() when an internal invariant is broken."
);

create_exception!(
    pyengine._engine,
    JournalError,
    PyException,
    "A journal or snapshot is damaged or cannot be recovered; the message names the file and offset."
);

/// A journal, snapshot or recovery failure.
pub fn journal_error(err: impl std::fmt::Display) -> PyErr {
    JournalError::new_err(err.to_string())
}

/// An I/O failure while writing the journal or a snapshot; input the journal
/// cannot represent (e.g. a name over its length limit) is a ValueError.
pub fn os_error(err: std::io::Error) -> PyErr {
    if err.kind() == std::io::ErrorKind::InvalidInput {
        PyValueError::new_err(err.to_string())
    } else {
        PyOSError::new_err(err.to_string())
    }
}

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
