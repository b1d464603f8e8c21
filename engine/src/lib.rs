//! # pyengine-core
//!
//! A deterministic, multi-instrument, price-time-priority matching engine.
//! Integer prices (multiples of the tick) and quantities (multiples of the
//! lot); no floats, no clock, no randomness. Python bindings live in a
//! separate crate; this one has no Python dependency.
//!
//! ```
//! use pyengine_core::{Command, Engine, InstrumentSpec, NewOrder, Side};
//! let mut eng = Engine::new();
//! let acme = eng.add_instrument(InstrumentSpec::new("ACME", 1, 1)).unwrap();
//! let (alice, bob) = (eng.account_id("alice"), eng.account_id("bob"));
//! let mut events = Vec::new();
//! eng.process(1, &Command::Submit(NewOrder::limit(acme, 1, alice, Side::Buy, 10, 100)), &mut events);
//! eng.process(2, &Command::Submit(NewOrder::limit(acme, 2, bob, Side::Sell, 4, 99)), &mut events);
//! assert_eq!(eng.bbo(acme).unwrap().0, Some((100, 6)));
//! eng.check_invariants().unwrap();
//! ```

mod book;
pub mod command;
mod engine;
pub mod event;
mod hash;
mod index;
pub mod instrument;
mod invariants;
pub mod journal;
mod level;
mod matching;
pub mod mem;
mod modify;
mod order;
pub mod records;
pub mod snapshot;
pub mod types;
pub mod workloads;
mod zeroed;

pub use command::{Command, NewOrder};
pub use engine::{
    DepthLevel, Engine, OrderView, PREFETCH_DISTANCE, PREFETCH_MIN_ORDERS, PREFETCH_STAGES,
};
pub use event::{Event, EventKind, Reason};
pub use instrument::{InstrumentSpec, SpecError};
pub use types::{
    AccountId, InstrumentId, OrderId, OrderType, Price, Qty, Side, Stp, Tif, Timestamp,
};

/// Size of one order record in the engine's slab, for memory reports.
pub const ORDER_RECORD_BYTES: usize = std::mem::size_of::<order::Order>();
