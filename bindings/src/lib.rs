//! Python bindings for pyengine-core, built by maturin as `pyengine._engine`.
//! Thin wrappers only: semantics live in the core crate.

use pyo3::prelude::*;

mod args;
mod batch;
mod durable;
mod engine;
mod errors;
mod event;
mod fast;
mod fix;
mod journal_sync;
mod journal_tools;
mod order;
mod workloads;

/// The compiled core of pyengine. Import from `pyengine`, not from here.
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<event::PyEvent>()?;
    m.add_class::<fast::Events>()?;
    m.add_class::<order::PyOrder>()?;
    m.add_class::<batch::EventRecords>()?;
    m.add_class::<journal_sync::PyJournalSync>()?;
    m.add_class::<journal_sync::PyJournalSyncer>()?;
    m.add_function(wrap_pyfunction!(workloads::generate_workload, m)?)?;
    m.add_function(wrap_pyfunction!(journal_tools::journal_inspect, m)?)?;
    m.add_function(wrap_pyfunction!(journal_tools::journal_replay, m)?)?;
    m.add_function(wrap_pyfunction!(workloads::workload_names, m)?)?;
    m.add(
        "InvariantError",
        m.py().get_type::<errors::InvariantError>(),
    )?;
    m.add("JournalError", m.py().get_type::<errors::JournalError>())?;
    m.add_class::<fix::FixFramer>()?;
    m.add_class::<fix::FixMessage>()?;
    m.add_function(wrap_pyfunction!(fix::encode_fix, m)?)?;
    m.add("FixDisconnect", m.py().get_type::<fix::FixDisconnect>())?;
    m.add("FixGarbled", m.py().get_type::<fix::FixGarbled>())?;
    m.add(
        "FixSessionReject",
        m.py().get_type::<fix::FixSessionReject>(),
    )?;
    m.add(
        "COMMAND_RECORD_SIZE",
        pyengine_core::records::COMMAND_RECORD_SIZE,
    )?;
    m.add(
        "EVENT_RECORD_SIZE",
        pyengine_core::records::EVENT_RECORD_SIZE,
    )?;
    m.add("ORDER_RECORD_BYTES", pyengine_core::ORDER_RECORD_BYTES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
