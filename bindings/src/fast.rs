//! The fast per-call API: positional integer arguments in, one `Events` out.
//!
//! `Engine.submit_limit`, `submit_market`, `cancel_order`, `amend_price` and
//! `amend_qty` take instruments and accounts as the numeric ids of
//! `Engine.instrument_id` / `Engine.account_id`, sides and times in force as
//! integer codes, and a required timestamp, all positional: no keyword
//! parsing and no name lookups per call. They return an [`Events`], a
//! read-only sequence that holds the core's events and builds an `Event`
//! object only when one is looked at.

use pyengine_core as core;
use pyengine_core::{Command, Event, NewOrder, OrderType, Side, Stp, Tif};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PySlice, PyString};
use pyo3::IntoPyObjectExt;

use crate::args;
use crate::engine::PyEngine;
use crate::event::PyEvent;

/// The result of one fast per-call command: its events, in order.
///
/// A read-only sequence of `Event` (`len`, indexing and slicing, iteration,
/// `in`, `index`, `count`, equality with another `Events` or a list of
/// `Event`). The events are kept in their compact native form; each `Event`
/// object is built when it is accessed.
#[pyclass(name = "Events", module = "pyengine", frozen, sequence, freelist = 64)]
pub struct Events {
    evs: Stored,
    /// The engine whose instrument and account names the events refer to.
    engine: Py<PyEngine>,
}

/// Up to two events (most commands) inline in the object, more on the heap.
enum Stored {
    Inline(usize, [Event; 2]),
    Heap(Vec<Event>),
}

impl Stored {
    fn new(evs: &[Event]) -> Stored {
        match evs {
            [] => Stored::Heap(Vec::new()),
            [a] => Stored::Inline(1, [*a, *a]),
            [a, b] => Stored::Inline(2, [*a, *b]),
            _ => Stored::Heap(evs.to_vec()),
        }
    }
}

impl std::ops::Deref for Stored {
    type Target = [Event];
    fn deref(&self) -> &[Event] {
        match self {
            Stored::Inline(n, evs) => &evs[..*n],
            Stored::Heap(v) => v,
        }
    }
}

impl Events {
    fn event<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyEvent>> {
        let eng = self
            .engine
            .try_borrow(py)
            .map_err(|_| PyRuntimeError::new_err("the engine is busy"))?;
        Bound::new(py, eng.event_object(py, &self.evs[i]))
    }

    fn to_vec<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyEvent>>> {
        (0..self.evs.len()).map(|i| self.event(py, i)).collect()
    }

    fn index_of(&self, i: isize) -> PyResult<usize> {
        let n = self.evs.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if (0..n).contains(&j) {
            Ok(j as usize)
        } else {
            Err(PyIndexError::new_err("Events index out of range"))
        }
    }
}

#[pymethods]
impl Events {
    fn __len__(&self) -> usize {
        self.evs.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let ix = slice.indices(self.evs.len() as isize)?;
            let items = (0..ix.slicelength)
                .map(|k| self.event(py, (ix.start + k as isize * ix.step) as usize))
                .collect::<PyResult<Vec<_>>>()?;
            return PyList::new(py, items)?.into_py_any(py);
        }
        let i: isize = key.extract()?;
        self.event(py, self.index_of(i)?)?.into_py_any(py)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.to_vec(py)?)?
            .try_iter()
            .map(Bound::into_any)
    }

    fn __contains__(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.to_list(py)?.contains(item)
    }

    /// Position of the first event equal to `value` (within `start:stop`, as
    /// `list.index`); ValueError if there is none.
    #[pyo3(signature = (value, start=0, stop=isize::MAX, /))]
    fn index(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        start: isize,
        stop: isize,
    ) -> PyResult<usize> {
        self.to_list(py)?
            .call_method1("index", (value, start, stop))?
            .extract()
    }

    /// Number of events equal to `value`.
    #[pyo3(signature = (value, /))]
    fn count(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<usize> {
        self.to_list(py)?.call_method1("count", (value,))?.extract()
    }

    /// The events as a list of `Event`.
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.to_vec(py)?)
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if other.cast::<Events>().is_err() && other.cast::<PyList>().is_err() {
            return py.NotImplemented().into_py_any(py);
        }
        let theirs = PyList::new(py, other.try_iter()?.collect::<PyResult<Vec<_>>>()?)?;
        self.to_list(py)?.eq(theirs)?.into_py_any(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let items = self
            .to_vec(py)?
            .iter()
            .map(|e| Ok(e.repr()?.to_string()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(format!("Events([{}])", items.join(", ")))
    }
}

fn side(code: u8) -> PyResult<Side> {
    match code {
        0 => Ok(Side::Buy),
        1 => Ok(Side::Sell),
        _ => Err(PyValueError::new_err(format!(
            "side must be 0 (BUY) or 1 (SELL), got {code}"
        ))),
    }
}

fn tif(code: u8) -> PyResult<Tif> {
    match code {
        0 => Ok(Tif::Gtc),
        1 => Ok(Tif::Ioc),
        2 => Ok(Tif::Fok),
        _ => Err(PyValueError::new_err(format!(
            "tif must be 0 (GTC), 1 (IOC) or 2 (FOK), got {code}"
        ))),
    }
}

/// A small integer code argument (side, tif): anything but an int in 0..=255 is refused.
pub fn code(what: &str, value: &Bound<'_, PyAny>) -> PyResult<u8> {
    let v = args::unsigned(what, value)?;
    u8::try_from(v).map_err(|_| PyValueError::new_err(format!("{what} code out of range: {v}")))
}

impl PyEngine {
    /// The `Event` object of one core event (names from the engine's caches).
    pub(crate) fn event_object(&self, py: Python<'_>, ev: &Event) -> PyEvent {
        let name = |names: &[Py<PyString>], id: u32, present: bool| {
            present
                .then(|| names.get(id as usize).map(|a| a.clone_ref(py)))
                .flatten()
        };
        let symbol = match self.symbols.get(ev.instrument as usize) {
            Some(s) => s.clone_ref(py),
            None => PyString::new(py, "").unbind(),
        };
        let is_order = ev.kind != core::EventKind::Rejected;
        let is_trade = ev.kind == core::EventKind::Trade;
        PyEvent {
            ev: *ev,
            symbol,
            account: name(&self.accounts, ev.account, is_order),
            maker_account: name(&self.accounts, ev.maker_account, is_trade),
        }
    }

    /// An instrument id argument: a registered instrument, else ValueError.
    pub(crate) fn instrument_arg(&self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        let id = args::unsigned("instrument", value)?;
        if id < self.symbols.len() as u64 {
            Ok(id as u32)
        } else {
            Err(PyValueError::new_err(format!(
                "unknown instrument id {id} (the engine has {}; see Engine.instrument_id)",
                self.symbols.len()
            )))
        }
    }

    /// An account id argument: a registered account, else ValueError.
    pub(crate) fn account_arg(&self, value: &Bound<'_, PyAny>) -> PyResult<u32> {
        let id = args::unsigned("account", value)?;
        if id < self.accounts.len() as u64 {
            Ok(id as u32)
        } else {
            Err(PyValueError::new_err(format!(
                "unknown account id {id} (the engine has {}; register accounts with Engine.account_id)",
                self.accounts.len()
            )))
        }
    }
}

/// Runs one command on the engine behind `slf` and wraps its events.
fn run(slf: &Bound<'_, PyEngine>, eng: &mut PyEngine, ts: u64, cmd: Command) -> PyResult<Events> {
    // Journal first: a command that cannot be journaled is not applied.
    eng.journal.append(ts, &cmd)?;
    eng.events.clear();
    eng.core.process(ts, &cmd, &mut eng.events);
    Ok(Events {
        evs: Stored::new(&eng.events),
        engine: slf.clone().unbind(),
    })
}

/// The arguments of `Engine.submit_limit` / `submit_market`.
pub struct Submit<'a, 'py> {
    pub instrument: &'a Bound<'py, PyAny>,
    pub order_id: &'a Bound<'py, PyAny>,
    pub account: &'a Bound<'py, PyAny>,
    pub side: &'a Bound<'py, PyAny>,
    pub qty: &'a Bound<'py, PyAny>,
    pub price: Option<i64>,
    pub tif: &'a Bound<'py, PyAny>,
    pub ts: &'a Bound<'py, PyAny>,
}

pub fn submit(slf: &Bound<'_, PyEngine>, a: Submit<'_, '_>) -> PyResult<Events> {
    let mut eng = slf.borrow_mut();
    let order = NewOrder {
        instrument: eng.instrument_arg(a.instrument)?,
        order_id: args::unsigned("order_id", a.order_id)?,
        account: eng.account_arg(a.account)?,
        side: side(code("side", a.side)?)?,
        order_type: if a.price.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        tif: tif(code("tif", a.tif)?)?,
        stp: Stp::None,
        post_only: false,
        qty: args::unsigned("qty", a.qty)?,
        price: a.price.unwrap_or(0),
        stop_price: 0,
        display_qty: 0,
    };
    let ts = args::unsigned("ts", a.ts)?;
    run(slf, &mut eng, ts, Command::Submit(order))
}

pub fn cancel(
    slf: &Bound<'_, PyEngine>,
    instrument: &Bound<'_, PyAny>,
    order_id: &Bound<'_, PyAny>,
    ts: &Bound<'_, PyAny>,
) -> PyResult<Events> {
    let mut eng = slf.borrow_mut();
    let cmd = Command::Cancel {
        instrument: eng.instrument_arg(instrument)?,
        order_id: args::unsigned("order_id", order_id)?,
    };
    run(slf, &mut eng, args::unsigned("ts", ts)?, cmd)
}

pub fn amend(
    slf: &Bound<'_, PyEngine>,
    instrument: &Bound<'_, PyAny>,
    order_id: &Bound<'_, PyAny>,
    qty: Option<&Bound<'_, PyAny>>,
    price: Option<i64>,
    ts: &Bound<'_, PyAny>,
) -> PyResult<Events> {
    let mut eng = slf.borrow_mut();
    let cmd = Command::Amend {
        instrument: eng.instrument_arg(instrument)?,
        order_id: args::unsigned("order_id", order_id)?,
        qty: qty.map(|q| args::unsigned("qty", q)).transpose()?,
        price,
        stop_price: None,
    };
    run(slf, &mut eng, args::unsigned("ts", ts)?, cmd)
}
