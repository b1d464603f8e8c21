//! Small value types shared by commands, orders and events.
//!
//! Every enum has a stable `u8` code (used by the packed batch records and the
//! state hash) and a stable lower-case name (used by the Python API).

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:expr, $text:expr;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($variant = $code),+ }

        impl $name {
            /// All variants, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable numeric code of this variant.
            #[inline]
            pub fn code(self) -> u8 { self as u8 }

            /// The variant with this numeric code, if any.
            #[inline]
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The stable lower-case name of this variant.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the lower-case name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum!(
    /// Which side of the book an order is on.
    Side { Buy = 0, "buy"; Sell = 1, "sell"; }
);

coded_enum!(
    /// Order type. Stops wait off-book until the last trade price reaches their
    /// stop price, then enter as `Market` (`Stop`) or `Limit` (`StopLimit`).
    OrderType { Limit = 0, "limit"; Market = 1, "market"; Stop = 2, "stop"; StopLimit = 3, "stop_limit"; }
);

coded_enum!(
    /// Time in force.
    Tif { Gtc = 0, "gtc"; Ioc = 1, "ioc"; Fok = 2, "fok"; }
);

coded_enum!(
    /// Self-trade prevention mode, taken from the incoming (taking) order.
    Stp {
        None = 0, "none";
        CancelNewest = 1, "cancel_newest";
        CancelOldest = 2, "cancel_oldest";
        CancelBoth = 3, "cancel_both";
        Decrement = 4, "decrement";
    }
);

impl Side {
    /// The other side.
    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// Price in instrument price units (a multiple of the instrument's tick size).
pub type Price = i64;
/// Quantity in instrument quantity units (a multiple of the lot size).
pub type Qty = u64;
/// Client-assigned order id, unique among the live orders of one instrument.
pub type OrderId = u64;
/// Dense instrument id, assigned in registration order.
pub type InstrumentId = u32;
/// Dense account id, assigned by `Engine::account_id` in first-seen order.
pub type AccountId = u32;
/// Caller-supplied timestamp (nanoseconds by convention); the engine never reads a clock.
pub type Timestamp = u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for &s in Stp::ALL {
            assert_eq!(Stp::from_code(s.code()), Some(s));
            assert_eq!(Stp::parse(s.as_str()), Some(s));
        }
        for &t in OrderType::ALL {
            assert_eq!(OrderType::parse(&t.to_string()), Some(t));
        }
        assert_eq!(Side::parse("BUY"), None);
        assert_eq!(Tif::from_code(9), None);
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }
}
