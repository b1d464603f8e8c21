//! `Engine`: the Python face of `pyengine_core::Engine`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use pyengine_core as core;
use pyengine_core::{Command, Event, InstrumentSpec, NewOrder, OrderType};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::args;
use crate::durable::{self, Journal, OpenArgs};
use crate::errors::{bad_arg, invariant_error, os_error, spec_error, unknown_symbol};
use crate::event::PyEvent;
use crate::fast;
use crate::journal_sync::PyJournalSync;
use crate::order::PyOrder;

type Quote = Option<(i64, u64)>;
type Depth = Vec<(i64, u64, u32)>;

/// A multi-instrument price-time-priority matching engine.
///
/// Business errors (unknown order, price off tick, ...) come back as
/// "rejected" events with a reason; malformed arguments raise ValueError or
/// TypeError. Prices and quantities are integers (ticks and lots).
#[pyclass(name = "Engine", module = "pyengine", subclass)]
pub struct PyEngine {
    pub(crate) core: core::Engine,
    /// Python strings for symbols and accounts, by id, so events share them.
    pub(crate) symbols: Vec<Py<PyString>>,
    pub(crate) accounts: Vec<Py<PyString>>,
    pub(crate) events: Vec<Event>,
    pub(crate) journal: Journal,
}

/// Wall-clock nanoseconds, for commands sent without a timestamp.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl PyEngine {
    /// Wraps a core engine, building the Python name caches from its registries.
    pub(crate) fn from_core(
        py: Option<Python<'_>>,
        core: core::Engine,
        journal: Journal,
    ) -> PyEngine {
        let (symbols, accounts) = match py {
            Some(py) => (
                (0..core.instrument_count() as u32)
                    .map(|i| {
                        PyString::intern(py, &core.instrument(i).expect("dense ids").symbol)
                            .unbind()
                    })
                    .collect(),
                (0..core.account_count() as u32)
                    .map(|i| PyString::new(py, core.account_name(i).expect("dense ids")).unbind())
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        PyEngine {
            core,
            symbols,
            accounts,
            events: Vec::with_capacity(64),
            journal,
        }
    }

    fn instrument(&self, symbol: &str) -> PyResult<u32> {
        self.core
            .instrument_id(symbol)
            .ok_or_else(|| unknown_symbol(symbol))
    }

    pub(crate) fn intern_account(
        &mut self,
        py: Python<'_>,
        name: &Bound<'_, PyString>,
    ) -> PyResult<u32> {
        let text = name.to_str()?;
        if let Some(id) = self.core.find_account(text) {
            return Ok(id);
        }
        if text.is_empty() {
            return Err(bad_arg("account must not be empty"));
        }
        if let Some(w) = self.journal.writer()? {
            w.append_add_account(now_ns(), self.core.account_count() as u32, text)
                .map_err(os_error)?;
        }
        let id = self.core.account_id(text);
        self.accounts.push(PyString::new(py, text).unbind());
        Ok(id)
    }

    /// Runs one command and returns its events as a list of `Event`.
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        ts: Option<u64>,
        cmd: Command,
        symbol: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ts = ts.unwrap_or_else(now_ns);
        // Journal first: a command that cannot be journaled is not applied.
        self.journal.append(ts, &cmd)?;
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.core.process(ts, &cmd, &mut events);
        let list = self.wrap_events(py, &events, Some(symbol));
        self.events = events;
        list
    }

    pub(crate) fn wrap_events<'py>(
        &self,
        py: Python<'py>,
        events: &[Event],
        symbol: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let account = |id: u32, present: bool| {
            present
                .then(|| self.accounts.get(id as usize).map(|a| a.clone_ref(py)))
                .flatten()
        };
        let objects = events.iter().map(|ev| {
            let sym = match (self.symbols.get(ev.instrument as usize), symbol) {
                (Some(s), _) => s.clone_ref(py),
                (None, Some(s)) => s.clone().unbind(),
                (None, None) => PyString::new(py, "").unbind(),
            };
            let is_order = ev.kind != core::EventKind::Rejected;
            let is_trade = ev.kind == core::EventKind::Trade;
            Bound::new(
                py,
                PyEvent {
                    ev: *ev,
                    symbol: sym,
                    account: account(ev.account, is_order),
                    maker_account: account(ev.maker_account, is_trade),
                },
            )
        });
        let items: Vec<Bound<'py, PyEvent>> = objects.collect::<PyResult<_>>()?;
        PyList::new(py, items)
    }

    fn view(&self, py: Python<'_>, v: core::OrderView) -> PyOrder {
        PyOrder {
            symbol: self
                .core
                .instrument(v.instrument)
                .map_or_else(String::new, |s| s.symbol.clone()),
            order_id: v.order_id,
            account: self.accounts[v.account as usize].bind(py).to_string(),
            side: v.side.as_str(),
            order_type: v.order_type.as_str(),
            tif: v.tif.as_str(),
            stp: v.stp.as_str(),
            post_only: v.post_only,
            price: v.price,
            stop_price: v.stop_price,
            qty: v.qty,
            leaves_qty: v.leaves_qty,
            filled_qty: v.filled_qty,
            display_qty: (v.display_qty != 0).then_some(v.display_qty),
            visible_qty: v.visible_qty,
            status: v.status,
        }
    }
}

#[pymethods]
impl PyEngine {
    #[new]
    fn new() -> Self {
        PyEngine::from_core(None, core::Engine::new(), Journal::Off)
    }

    /// Registers an instrument and returns its numeric id (used by the batch API).
    /// `min_qty` defaults to one lot; `max_qty` to unbounded; `price_band` (price
    /// units) refuses limit prices further than that from the last trade.
    #[pyo3(signature = (symbol, tick_size=1, lot_size=1, min_qty=None, max_qty=None, price_band=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_instrument(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        tick_size: i64,
        lot_size: i64,
        min_qty: Option<&Bound<'_, PyAny>>,
        max_qty: Option<&Bound<'_, PyAny>>,
        price_band: Option<i64>,
    ) -> PyResult<u32> {
        let lot = args::qty("lot_size", lot_size)?;
        let mut spec = InstrumentSpec::new(symbol, tick_size, lot);
        if let Some(m) = min_qty {
            spec.min_qty = args::unsigned("min_qty", m)?;
        }
        if let Some(m) = max_qty {
            spec.max_qty = args::unsigned("max_qty", m)?;
        }
        spec.price_band = price_band;
        spec.validate().map_err(spec_error)?;
        if self.core.instrument_id(symbol).is_some() {
            return Err(spec_error(core::SpecError::DuplicateSymbol(
                symbol.to_string(),
            )));
        }
        if let Some(w) = self.journal.writer()? {
            w.append_add_instrument(now_ns(), self.core.instrument_count() as u32, &spec)
                .map_err(os_error)?;
        }
        let id = self.core.add_instrument(spec).map_err(spec_error)?;
        self.symbols.push(PyString::intern(py, symbol).unbind());
        Ok(id)
    }

    /// Submits a new order. `type` is "limit" (needs `price`), "market",
    /// "stop" (needs `stop_price`) or "stop_limit" (needs both); `tif` "gtc",
    /// "ioc" or "fok"; `stp` "none", "cancel_newest", "cancel_oldest",
    /// "cancel_both" or "decrement"; `display_qty` makes an iceberg.
    #[pyo3(
        signature = (symbol, order_id, account, side, qty, price=None, *, r#type="limit", tif="gtc", post_only=false, display_qty=None, stop_price=None, stp="none", ts=None),
        text_signature = "(self, /, symbol, order_id, account, side, qty, price=None, *, type='limit', tif='gtc', post_only=False, display_qty=None, stop_price=None, stp='none', ts=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn submit<'py>(
        &mut self,
        py: Python<'py>,
        symbol: &Bound<'py, PyString>,
        order_id: &Bound<'py, PyAny>,
        account: &Bound<'py, PyString>,
        side: &str,
        qty: &Bound<'py, PyAny>,
        price: Option<i64>,
        r#type: &str,
        tif: &str,
        post_only: bool,
        display_qty: Option<&Bound<'py, PyAny>>,
        stop_price: Option<i64>,
        stp: &str,
        ts: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let order_type = args::order_type(r#type)?;
        let needs_price = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_stop = matches!(order_type, OrderType::Stop | OrderType::StopLimit);
        if needs_price != price.is_some() {
            return Err(bad_arg(if needs_price {
                format!("{} orders need a price", order_type.as_str())
            } else {
                format!("{} orders take no price", order_type.as_str())
            }));
        }
        if needs_stop != stop_price.is_some() {
            return Err(bad_arg(if needs_stop {
                format!("{} orders need a stop_price", order_type.as_str())
            } else {
                format!("{} orders take no stop_price", order_type.as_str())
            }));
        }
        let display_qty = match display_qty {
            Some(d) => match args::unsigned("display_qty", d)? {
                0 => return Err(bad_arg("display_qty must be positive, got 0")),
                d => d,
            },
            None => 0,
        };
        let (order_id, side, tif, stp) = (
            args::unsigned("order_id", order_id)?,
            args::side(side)?,
            args::tif(tif)?,
            args::stp(stp)?,
        );
        let qty = args::unsigned("qty", qty)?;
        let instrument = self
            .core
            .instrument_id(symbol.to_str()?)
            .unwrap_or(u32::MAX);
        // Registered last, so that a call refused with an exception changes nothing.
        let account = self.intern_account(py, account)?;
        let order = NewOrder {
            instrument,
            order_id,
            account,
            side,
            order_type,
            tif,
            stp,
            post_only,
            qty,
            price: price.unwrap_or(0),
            stop_price: stop_price.unwrap_or(0),
            display_qty,
        };
        self.run(py, ts, Command::Submit(order), symbol)
    }

    /// Cancels a live order (resting or waiting stop).
    #[pyo3(signature = (symbol, order_id, *, ts=None))]
    fn cancel<'py>(
        &mut self,
        py: Python<'py>,
        symbol: &Bound<'py, PyString>,
        order_id: &Bound<'py, PyAny>,
        ts: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let order_id = args::unsigned("order_id", order_id)?;
        let instrument = self
            .core
            .instrument_id(symbol.to_str()?)
            .unwrap_or(u32::MAX);
        self.run(
            py,
            ts,
            Command::Cancel {
                instrument,
                order_id,
            },
            symbol,
        )
    }

    /// Amends a live order: `qty` is the new total quantity (filled part included).
    /// Lowering qty keeps time priority; a new price or a larger qty loses it.
    #[pyo3(signature = (symbol, order_id, *, qty=None, price=None, stop_price=None, ts=None))]
    #[allow(clippy::too_many_arguments)]
    fn amend<'py>(
        &mut self,
        py: Python<'py>,
        symbol: &Bound<'py, PyString>,
        order_id: &Bound<'py, PyAny>,
        qty: Option<&Bound<'py, PyAny>>,
        price: Option<i64>,
        stop_price: Option<i64>,
        ts: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        if qty.is_none() && price.is_none() && stop_price.is_none() {
            return Err(bad_arg(
                "amend needs at least one of qty, price, stop_price",
            ));
        }
        let instrument = self
            .core
            .instrument_id(symbol.to_str()?)
            .unwrap_or(u32::MAX);
        let cmd = Command::Amend {
            instrument,
            order_id: args::unsigned("order_id", order_id)?,
            qty: qty.map(|q| args::unsigned("qty", q)).transpose()?,
            price,
            stop_price,
        };
        self.run(py, ts, cmd, symbol)
    }

    /// Cancels an account's live orders, optionally only in one instrument and on one side.
    #[pyo3(signature = (account, *, symbol=None, side=None, ts=None))]
    fn mass_cancel<'py>(
        &mut self,
        py: Python<'py>,
        account: &Bound<'py, PyString>,
        symbol: Option<&Bound<'py, PyString>>,
        side: Option<&str>,
        ts: Option<u64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let side = side.map(args::side).transpose()?;
        let instrument = match symbol {
            Some(s) => Some(self.core.instrument_id(s.to_str()?).unwrap_or(u32::MAX)),
            None => None,
        };
        let Some(account) = self.core.find_account(account.to_str()?) else {
            // An account never seen has no orders: nothing to cancel, unless the symbol is bad.
            if instrument == Some(u32::MAX) {
                let sym = symbol.expect("instrument implies symbol");
                return self.run(
                    py,
                    ts,
                    Command::MassCancel {
                        account: u32::MAX,
                        instrument,
                        side,
                    },
                    sym,
                );
            }
            return Ok(PyList::empty(py));
        };
        let fallback = PyString::new(py, "");
        self.run(
            py,
            ts,
            Command::MassCancel {
                account,
                instrument,
                side,
            },
            symbol.unwrap_or(&fallback),
        )
    }

    /// Best bid and offer: `((bid_price, bid_qty) | None, (ask_price, ask_qty) | None)`.
    fn bbo(&self, symbol: &str) -> PyResult<(Quote, Quote)> {
        Ok(self
            .core
            .bbo(self.instrument(symbol)?)
            .expect("known instrument"))
    }

    /// Depth: `(bids, asks)`, each a list of `(price, qty, order_count)`, best first.
    #[pyo3(signature = (symbol, levels=10))]
    fn depth(&self, symbol: &str, levels: usize) -> PyResult<(Depth, Depth)> {
        Ok(self
            .core
            .depth(self.instrument(symbol)?, levels)
            .expect("known instrument"))
    }

    /// Price of the last trade, or None before the first.
    fn last_trade_price(&self, symbol: &str) -> PyResult<Option<i64>> {
        Ok(self.core.last_trade_price(self.instrument(symbol)?))
    }

    /// A live order, or None if unknown, filled or cancelled.
    fn order(
        &self,
        py: Python<'_>,
        symbol: &str,
        order_id: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyOrder>> {
        let id = args::unsigned("order_id", order_id)?;
        Ok(self
            .core
            .order(self.instrument(symbol)?, id)
            .map(|v| self.view(py, v)))
    }

    /// An account's live orders, by instrument (registration order) then order id.
    fn open_orders(&self, py: Python<'_>, account: &str) -> Vec<PyOrder> {
        match self.core.find_account(account) {
            Some(id) => self
                .core
                .open_orders(id)
                .into_iter()
                .map(|v| self.view(py, v))
                .collect(),
            None => Vec::new(),
        }
    }

    /// A deterministic 64-bit digest of the whole state; equal states give equal hashes.
    fn state_hash(&self) -> u64 {
        self.core.state_hash()
    }

    /// Raises InvariantError if any internal invariant is broken.
    fn check_invariants(&self) -> PyResult<()> {
        self.core.check_invariants().map_err(invariant_error)
    }

    /// Symbols in registration order (index = instrument id).
    fn instruments(&self, py: Python<'_>) -> Vec<Py<PyString>> {
        self.symbols.iter().map(|s| s.clone_ref(py)).collect()
    }

    /// Account names in first-seen order (index = account id).
    fn accounts(&self, py: Python<'_>) -> Vec<Py<PyString>> {
        self.accounts.iter().map(|s| s.clone_ref(py)).collect()
    }

    /// The numeric id of an instrument (for the batch API).
    fn instrument_id(&self, symbol: &str) -> PyResult<u32> {
        self.instrument(symbol)
    }

    /// The numeric id of an account, registering it on first use (for the batch API).
    fn account_id(&mut self, py: Python<'_>, account: &Bound<'_, PyString>) -> PyResult<u32> {
        self.intern_account(py, account)
    }

    /// Seq of the last event emitted (0 before any).
    #[getter]
    fn seq(&self) -> u64 {
        self.core.seq()
    }

    /// Number of live orders (resting plus waiting stops).
    #[getter]
    fn live_orders(&self) -> usize {
        self.core.live_orders()
    }

    /// Heap bytes held by orders, price levels and order indexes.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.core.heap_bytes()
    }

    /// Applies many commands in one call. `commands` is a numpy array of
    /// `pyengine.COMMAND_DTYPE` (or a bytes-like buffer of packed command
    /// records); returns a numpy array of `pyengine.EVENT_DTYPE`, exactly the
    /// events the per-call API gives for the same commands. Account and
    /// instrument fields are numeric ids (see `account_id`, `instrument_id`).
    ///
    /// `out`, a one-dimensional writable numpy array of `EVENT_DTYPE`, receives
    /// the events from its start and `out[:n]` is returned, so a caller that
    /// streams commands in batches reuses one buffer and allocates nothing per
    /// batch. If the events do not fit, `out` may be left partly written and a new
    /// array with all of them is returned instead (compare `len(result)` and
    /// `result.base`; one command's events are never split).
    #[pyo3(signature = (commands, out=None))]
    fn submit_batch<'py>(
        &mut self,
        py: Python<'py>,
        commands: &Bound<'py, PyAny>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::batch::submit_batch(&mut self.core, &mut self.journal, py, commands, out)
    }

    /// Opens the durable engine in directory `path`: recovers it (newest valid
    /// snapshot + journal tail; a torn last record is truncated) and journals
    /// every later state change before applying it. `fsync` is "always" (every
    /// command fdatasync'd before its events return), "batch" (group commit:
    /// one fdatasync per `commit()`, per `submit_batch`, or when
    /// `batch_max_records` / `batch_interval_ms` is reached) or "none".
    /// `auto_commit=False` turns the automatic commits off, for a caller that
    /// commits (or `flush_journal()`s) every batch itself and must never wait
    /// for an fdatasync inside a command.
    #[staticmethod]
    #[pyo3(signature = (path, *, fsync="batch", segment_max_bytes=None, batch_max_records=None, batch_interval_ms=None, auto_commit=true))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        fsync: &str,
        segment_max_bytes: Option<u64>,
        batch_max_records: Option<usize>,
        batch_interval_ms: Option<f64>,
        auto_commit: bool,
    ) -> PyResult<PyEngine> {
        let args = OpenArgs {
            fsync: durable::fsync_policy(fsync)?,
            segment_max_bytes,
            batch_max_records,
            batch_interval_ms,
            auto_commit,
        };
        let (core, journal) = py.detach(|| durable::open(path, args))?;
        Ok(PyEngine::from_core(Some(py), core, journal))
    }

    /// Makes every journaled command durable under the fsync policy (group
    /// commit); returns the journal seq now durable.
    fn commit(&mut self) -> PyResult<u64> {
        let (w, _) = self.journal.open_writer()?;
        w.commit().map_err(os_error)?;
        Ok(w.durable_seq())
    }

    /// The first half of a pipelined group commit: hands every journaled
    /// command to the OS and returns a `JournalSync` whose `sync()` (run it on
    /// a worker thread; it releases the GIL) makes them durable, while this
    /// engine goes on taking commands. Report the finished sync with
    /// `mark_durable`.
    fn flush_journal(&mut self) -> PyResult<PyJournalSync> {
        let (w, _) = self.journal.open_writer()?;
        let ticket = w.flush().map_err(os_error)?;
        Ok(PyJournalSync {
            ticket,
            synced: AtomicBool::new(false),
        })
    }

    /// Counts the records of a finished `JournalSync` as durable; returns the
    /// journal seq now durable. A sync that has not completed is a ValueError;
    /// pass `failed=True` after its `sync()` raised, which stops the journal
    /// (every later state change raises OSError until the engine is reopened).
    #[pyo3(signature = (sync, *, failed=false))]
    fn mark_durable(&mut self, sync: &PyJournalSync, failed: bool) -> PyResult<u64> {
        let (w, _) = self.journal.open_writer()?;
        if failed {
            w.mark_failed();
        } else if !sync.synced.load(Ordering::Acquire) {
            return Err(bad_arg(format!(
                "JournalSync(upto={}) has not been synced; call its sync() first",
                sync.ticket.upto()
            )));
        } else {
            w.mark_synced(&sync.ticket);
        }
        Ok(w.durable_seq())
    }

    /// Commits, then writes a snapshot of the whole state covering the journal
    /// so far (atomically: temp file, fsync, rename, fsync directory). Returns its path.
    fn snapshot(&mut self) -> PyResult<PathBuf> {
        let (w, dir) = self.journal.open_writer()?;
        w.commit().map_err(os_error)?;
        let seq = w.last_seq();
        let dir = dir.clone();
        self.core.write_snapshot(&dir, seq).map_err(os_error)
    }

    /// Commits and closes the journal; later state changes raise RuntimeError.
    fn close(&mut self) -> PyResult<()> {
        if let Journal::Open { .. } = self.journal {
            let Journal::Open { writer, .. } =
                std::mem::replace(&mut self.journal, Journal::Closed)
            else {
                unreachable!("checked above");
            };
            writer.close().map_err(os_error)?;
        }
        Ok(())
    }

    /// Last journal record seq appended (None without an open journal).
    #[getter]
    fn journal_seq(&mut self) -> Option<u64> {
        self.journal.writer().ok().flatten().map(|w| w.last_seq())
    }

    /// Last journal record seq known durable (None without an open journal).
    #[getter]
    fn durable_seq(&mut self) -> Option<u64> {
        self.journal
            .writer()
            .ok()
            .flatten()
            .map(|w| w.durable_seq())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&mut self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }

    /// An independent copy of the whole engine (for what-if simulation).
    fn clone(&self, py: Python<'_>) -> PyEngine {
        PyEngine {
            core: self.core.clone(),
            symbols: self.symbols.iter().map(|s| s.clone_ref(py)).collect(),
            accounts: self.accounts.iter().map(|s| s.clone_ref(py)).collect(),
            events: Vec::with_capacity(64),
            journal: Journal::Off,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(instruments={}, live_orders={}, seq={})",
            self.symbols.len(),
            self.core.live_orders(),
            self.core.seq()
        )
    }

    /// Fast per-call API: a limit order, all arguments positional integers:
    /// `instrument` and `account` ids (`instrument_id`, `account_id`), `side`
    /// 0 buy / 1 sell (`pyengine.BUY`, `SELL`), `tif` 0 GTC / 1 IOC / 2 FOK,
    /// `ts` the command's timestamp. Same matching and events as `submit`,
    /// returned as one `Events` sequence. Unknown ids and out-of-range codes
    /// raise ValueError; business errors come back as "rejected" events.
    #[pyo3(signature = (instrument, order_id, account, side, qty, price, tif, ts, /))]
    #[allow(clippy::too_many_arguments)]
    fn submit_limit(
        slf: &Bound<'_, Self>,
        instrument: &Bound<'_, PyAny>,
        order_id: &Bound<'_, PyAny>,
        account: &Bound<'_, PyAny>,
        side: &Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        price: i64,
        tif: &Bound<'_, PyAny>,
        ts: &Bound<'_, PyAny>,
    ) -> PyResult<fast::Events> {
        let price = Some(price);
        fast::submit(
            slf,
            fast::Submit {
                instrument,
                order_id,
                account,
                side,
                qty,
                price,
                tif,
                ts,
            },
        )
    }

    /// Fast per-call API: a market order (arguments and codes as `submit_limit`,
    /// no price); the same events as `submit(..., type="market", tif=...)`.
    #[pyo3(signature = (instrument, order_id, account, side, qty, tif, ts, /))]
    #[allow(clippy::too_many_arguments)]
    fn submit_market(
        slf: &Bound<'_, Self>,
        instrument: &Bound<'_, PyAny>,
        order_id: &Bound<'_, PyAny>,
        account: &Bound<'_, PyAny>,
        side: &Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        tif: &Bound<'_, PyAny>,
        ts: &Bound<'_, PyAny>,
    ) -> PyResult<fast::Events> {
        let price = None;
        fast::submit(
            slf,
            fast::Submit {
                instrument,
                order_id,
                account,
                side,
                qty,
                price,
                tif,
                ts,
            },
        )
    }

    /// Fast per-call API: cancels a live order (`instrument` id, `order_id`, `ts`).
    #[pyo3(signature = (instrument, order_id, ts, /))]
    fn cancel_order(
        slf: &Bound<'_, Self>,
        instrument: &Bound<'_, PyAny>,
        order_id: &Bound<'_, PyAny>,
        ts: &Bound<'_, PyAny>,
    ) -> PyResult<fast::Events> {
        fast::cancel(slf, instrument, order_id, ts)
    }

    /// Fast per-call API: moves a live order to a new price (it loses time priority).
    #[pyo3(signature = (instrument, order_id, price, ts, /))]
    fn amend_price(
        slf: &Bound<'_, Self>,
        instrument: &Bound<'_, PyAny>,
        order_id: &Bound<'_, PyAny>,
        price: i64,
        ts: &Bound<'_, PyAny>,
    ) -> PyResult<fast::Events> {
        fast::amend(slf, instrument, order_id, None, Some(price), ts)
    }

    /// Fast per-call API: sets a live order's total quantity (filled part
    /// included); lowering it keeps time priority, raising it loses it.
    #[pyo3(signature = (instrument, order_id, qty, ts, /))]
    fn amend_qty(
        slf: &Bound<'_, Self>,
        instrument: &Bound<'_, PyAny>,
        order_id: &Bound<'_, PyAny>,
        qty: &Bound<'_, PyAny>,
        ts: &Bound<'_, PyAny>,
    ) -> PyResult<fast::Events> {
        fast::amend(slf, instrument, order_id, Some(qty), None, ts)
    }
}
