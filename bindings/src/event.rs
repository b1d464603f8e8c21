//! `Event`: one engine event as a Python object.

use pyengine_core::{Event, EventKind, Reason, Side};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use pyo3::{intern, IntoPyObjectExt};

/// One engine event. `kind` is "accepted", "rejected", "trade", "cancelled",
/// "amended" or "triggered". For a trade, `order_id` is the taker and
/// `maker_order_id` the resting order. Fields that do not apply are None.
#[pyclass(name = "Event", module = "pyengine", frozen)]
pub struct PyEvent {
    pub ev: Event,
    pub symbol: Py<PyString>,
    pub account: Option<Py<PyString>>,
    pub maker_account: Option<Py<PyString>>,
}

pub fn kind_str(py: Python<'_>, kind: EventKind) -> &Bound<'_, PyString> {
    match kind {
        EventKind::Accepted => intern!(py, "accepted"),
        EventKind::Rejected => intern!(py, "rejected"),
        EventKind::Trade => intern!(py, "trade"),
        EventKind::Cancelled => intern!(py, "cancelled"),
        EventKind::Amended => intern!(py, "amended"),
        EventKind::Triggered => intern!(py, "triggered"),
    }
}

pub fn side_str(py: Python<'_>, side: Side) -> &Bound<'_, PyString> {
    match side {
        Side::Buy => intern!(py, "buy"),
        Side::Sell => intern!(py, "sell"),
    }
}

impl PyEvent {
    fn is_trade(&self) -> bool {
        self.ev.kind == EventKind::Trade
    }
    fn has_order(&self) -> bool {
        self.ev.kind != EventKind::Rejected
    }
}

#[pymethods]
impl PyEvent {
    /// Engine-wide sequence number, strictly increasing.
    #[getter]
    fn seq(&self) -> u64 {
        self.ev.seq
    }
    /// The timestamp of the command that caused this event.
    #[getter]
    fn ts(&self) -> u64 {
        self.ev.ts
    }
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        kind_str(py, self.ev.kind).clone()
    }
    /// Why a command was rejected or an order cancelled; None otherwise.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        (self.ev.reason != Reason::None).then(|| self.ev.reason.as_str())
    }
    #[getter]
    fn symbol(&self, py: Python<'_>) -> Py<PyString> {
        self.symbol.clone_ref(py)
    }
    #[getter]
    fn order_id(&self) -> u64 {
        self.ev.order_id
    }
    /// Side of the order (the taker's for a trade); None on rejects.
    #[getter]
    fn side<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        self.has_order().then(|| side_str(py, self.ev.side).clone())
    }
    /// Account of the order (the taker's for a trade); None on rejects.
    #[getter]
    fn account(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.account.as_ref().map(|a| a.clone_ref(py))
    }
    #[getter]
    fn price(&self) -> Option<i64> {
        self.ev.price
    }
    #[getter]
    fn qty(&self) -> u64 {
        self.ev.qty
    }
    #[getter]
    fn leaves_qty(&self) -> u64 {
        self.ev.leaves_qty
    }
    #[getter]
    fn maker_order_id(&self) -> Option<u64> {
        self.is_trade().then_some(self.ev.maker_order_id)
    }
    #[getter]
    fn maker_account(&self, py: Python<'_>) -> Option<Py<PyString>> {
        self.maker_account.as_ref().map(|a| a.clone_ref(py))
    }
    #[getter]
    fn maker_leaves_qty(&self) -> Option<u64> {
        self.is_trade().then_some(self.ev.maker_leaves_qty)
    }

    /// All fields as a dict (the same keys `pyengine.batch.event_dicts` produces).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("seq", self.ev.seq)?;
        d.set_item("ts", self.ev.ts)?;
        d.set_item("kind", self.kind(py))?;
        d.set_item("reason", self.reason())?;
        d.set_item("symbol", self.symbol(py))?;
        d.set_item("side", self.side(py))?;
        d.set_item("order_id", self.ev.order_id)?;
        d.set_item("account", self.account(py))?;
        d.set_item("price", self.ev.price)?;
        d.set_item("qty", self.ev.qty)?;
        d.set_item("leaves_qty", self.ev.leaves_qty)?;
        d.set_item("maker_order_id", self.maker_order_id())?;
        d.set_item("maker_account", self.maker_account(py))?;
        d.set_item("maker_leaves_qty", self.maker_leaves_qty())?;
        Ok(d)
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyEvent>() else {
            return py.NotImplemented().into_py_any(py);
        };
        let other = other.get();
        let text = |s: &Option<Py<PyString>>| s.as_ref().map(|a| a.bind(py).to_string());
        let same = self.ev == other.ev
            && self.symbol.bind(py).to_string() == other.symbol.bind(py).to_string()
            && text(&self.account) == text(&other.account)
            && text(&self.maker_account) == text(&other.maker_account);
        same.into_py_any(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let mut s = format!(
            "Event(seq={}, kind={:?}, symbol={:?}, order_id={}",
            self.ev.seq,
            self.ev.kind.as_str(),
            self.symbol.bind(py).to_string(),
            self.ev.order_id
        );
        if let Some(r) = self.reason() {
            s += &format!(", reason={r:?}");
        }
        if let Some(p) = self.ev.price {
            s += &format!(", price={p}");
        }
        s += &format!(", qty={}, leaves_qty={}", self.ev.qty, self.ev.leaves_qty);
        if self.is_trade() {
            s += &format!(
                ", maker_order_id={}, maker_leaves_qty={}",
                self.ev.maker_order_id, self.ev.maker_leaves_qty
            );
        }
        s + ")"
    }
}
