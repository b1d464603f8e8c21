//! The seeded benchmark workloads of `pyengine_core::workloads`, as command arrays.

use pyengine_core::records::encode_command;
use pyengine_core::workloads;
use pyengine_core::Command;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList};

/// Packs commands into records stamped with consecutive timestamps from `first_ts`.
fn pack(commands: &[Command], first_ts: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(commands.len() * pyengine_core::records::COMMAND_RECORD_SIZE);
    for (i, cmd) in commands.iter().enumerate() {
        out.extend_from_slice(&encode_command(first_ts + i as u64, cmd));
    }
    out
}

/// Generates workload `name` (see `pyengine.workloads.NAMES`) for `seed` and
/// `size`: a dict of instrument specs, account names, and the prefill and
/// measured commands as packed command records (timestamps 1, 2, ...).
#[pyfunction]
pub fn generate_workload<'py>(
    py: Python<'py>,
    name: &str,
    seed: u64,
    size: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let w = py
        .detach(|| workloads::generate(name, seed, size))
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown workload {name:?}; expected one of {}",
                workloads::NAMES.join(", ")
            ))
        })?;
    let specs = PyList::empty(py);
    for s in &w.instruments {
        let d = PyDict::new(py);
        d.set_item("symbol", &s.symbol)?;
        d.set_item("tick_size", s.tick_size)?;
        d.set_item("lot_size", s.lot_size)?;
        d.set_item("min_qty", s.min_qty)?;
        d.set_item("max_qty", s.max_qty)?;
        d.set_item("price_band", s.price_band)?;
        specs.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("name", w.name)?;
    out.set_item("instruments", specs)?;
    out.set_item("accounts", &w.accounts)?;
    out.set_item("prefill", PyByteArray::new(py, &pack(&w.prefill, 1)))?;
    out.set_item(
        "commands",
        PyByteArray::new(py, &pack(&w.commands, 1 + w.prefill.len() as u64)),
    )?;
    Ok(out)
}

/// Names of the available workloads.
#[pyfunction]
pub fn workload_names() -> Vec<&'static str> {
    workloads::NAMES.to_vec()
}
