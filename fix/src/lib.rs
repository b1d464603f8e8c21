//! # pyengine-fix
//!
//! A FIX 4.4 tag=value codec for pyengine's order-entry gateway, in pure Rust
//! so the hot path never parses FIX text in Python. No clock, no I/O.
//!
//! - [`Framer`] splits a received byte stream into checked [`Message`]s and
//!   sorts problems into disconnect ([`FrameError::Fatal`]), ignore
//!   ([`FrameError::Garbled`]) and session Reject ([`FrameError::Reject`]).
//! - [`Message`] gives typed access to fields (integers, exact [`Decimal`]s,
//!   timestamps).
//! - [`Encoder`] builds outbound messages with BodyLength and CheckSum.
//! - [`spec`] knows the supported message types, their required tags and the
//!   formats of the tags the gateway reads.
//!
//! ```
//! use pyengine_fix::{Decimal, Encoder, Framer, UtcTimestamp};
//! let mut enc = Encoder::new();
//! enc.begin("D")
//!     .field(11, "ord-1")
//!     .field(55, "ACME")
//!     .field(54, '1')
//!     .field(60, UtcTimestamp(1_700_000_000_000_000_000))
//!     .field(38, 100u64)
//!     .field(40, '2')
//!     .field_decimal(44, 10125, 2);
//! let wire = enc.finish(1, "CLIENT", "GW", 1_700_000_000_000_000_000);
//!
//! let mut framer = Framer::new();
//! framer.push(&wire);
//! let msg = framer.next_message().unwrap().unwrap();
//! assert_eq!(msg.msg_type(), Some(&b"D"[..]));
//! assert_eq!(msg.get_decimal(44), Ok(Decimal::new(10125, 2)));
//! assert_eq!(msg.get_u64(38), Ok(100));
//! ```

pub mod decode;
pub mod encode;
pub mod message;
pub mod spec;
pub mod time;

#[cfg(test)]
mod proptests;

pub use decode::{
    FatalError, FrameError, Framer, FramerConfig, Garbled, GarbledKind, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use encode::{checksum, Encoder, FieldValue, UtcTimestamp};
pub use message::{tags, Decimal, FieldError, Message, SOH};
pub use spec::{validate, validate_comp_ids, MsgType, Reject, SessionRejectReason};
