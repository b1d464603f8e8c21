//! `Order`: a snapshot of one live order.

use pyo3::prelude::*;

/// A live order as of the query: resting, or a stop waiting for its trigger.
/// `status` is "new", "partially_filled" or "pending_trigger".
#[pyclass(name = "Order", module = "pyengine", frozen, get_all)]
pub struct PyOrder {
    pub symbol: String,
    pub order_id: u64,
    pub account: String,
    pub side: &'static str,
    #[pyo3(name = "type")]
    pub order_type: &'static str,
    pub tif: &'static str,
    pub stp: &'static str,
    pub post_only: bool,
    pub price: Option<i64>,
    pub stop_price: Option<i64>,
    pub qty: u64,
    pub leaves_qty: u64,
    pub filled_qty: u64,
    pub display_qty: Option<u64>,
    pub visible_qty: u64,
    pub status: &'static str,
}

#[pymethods]
impl PyOrder {
    fn __repr__(&self) -> String {
        let price = self
            .price
            .map_or_else(|| "None".to_string(), |p| p.to_string());
        format!(
            "Order(symbol={:?}, order_id={}, account={:?}, side={:?}, type={:?}, price={price}, qty={}, leaves_qty={}, status={:?})",
            self.symbol, self.order_id, self.account, self.side, self.order_type, self.qty, self.leaves_qty, self.status
        )
    }
}
