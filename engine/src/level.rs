//! One side of a book: price levels sorted so that the best level is last.
//!
//! Levels sit inline in a sorted `Vec`, keyed so that both sides sort
//! ascending with the best price at the end: matching pops from the end, and
//! most inserts land near the touch, so the shifted tail is short.

use crate::order::{OrderPool, NIL};
use crate::types::{Price, Qty, Side};

/// A FIFO queue of orders at one price. Links live in the orders themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: Price,
    pub head: u32,
    pub tail: u32,
    /// Sum of the shown quantity of the orders in the queue.
    pub visible: Qty,
    pub count: u32,
}

/// The levels of one side of one book.
#[derive(Clone, Debug)]
pub struct Ladder {
    side: Side,
    levels: Vec<Level>,
}

impl Ladder {
    pub fn new(side: Side) -> Ladder {
        Ladder {
            side,
            levels: Vec::new(),
        }
    }

    /// Sort key: ascending in the key means ascending in attractiveness.
    #[inline]
    fn key(&self, price: Price) -> i128 {
        match self.side {
            Side::Buy => price as i128,
            Side::Sell => -(price as i128),
        }
    }

    /// Position of `price` (`Ok`) or where it would be inserted (`Err`).
    #[inline]
    fn find(&self, price: Price) -> Result<usize, usize> {
        let key = self.key(price);
        // Most lookups are at or near the touch: check the best level first.
        if let Some(last) = self.levels.last() {
            let last_key = self.key(last.price);
            if key == last_key {
                return Ok(self.levels.len() - 1);
            }
            if key > last_key {
                return Err(self.levels.len());
            }
        }
        self.levels
            .binary_search_by(|l| self.key(l.price).cmp(&key))
    }

    /// The best level, if any.
    #[inline]
    pub fn best(&self) -> Option<&Level> {
        self.levels.last()
    }

    #[inline]
    pub fn best_mut(&mut self) -> Option<&mut Level> {
        self.levels.last_mut()
    }

    pub fn get(&self, price: Price) -> Option<&Level> {
        self.find(price).ok().map(|i| &self.levels[i])
    }

    /// Levels best first.
    pub fn iter_best_first(&self) -> impl Iterator<Item = &Level> {
        self.levels.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.levels.capacity() * std::mem::size_of::<Level>()
    }

    /// Whether adding `qty` shown at `price` would overflow the level total.
    pub fn would_overflow(&self, price: Price, qty: Qty) -> bool {
        self.get(price)
            .is_some_and(|l| l.visible.checked_add(qty).is_none())
    }

    /// Appends order `idx` (already holding price and visible qty) to the back of its level.
    pub fn push_back(&mut self, pool: &mut OrderPool, idx: u32) {
        let (price, visible) = (pool[idx].price, pool[idx].visible);
        let pos = match self.find(price) {
            Ok(pos) => pos,
            Err(pos) => {
                self.levels.insert(
                    pos,
                    Level {
                        price,
                        head: NIL,
                        tail: NIL,
                        visible: 0,
                        count: 0,
                    },
                );
                pos
            }
        };
        let level = &mut self.levels[pos];
        let tail = level.tail;
        pool[idx].prev = tail;
        pool[idx].next = NIL;
        if tail == NIL {
            level.head = idx;
        } else {
            pool[tail].next = idx;
        }
        level.tail = idx;
        level.visible += visible;
        level.count += 1;
    }

    /// Unlinks order `idx` from its level, dropping the level if it empties.
    pub fn remove(&mut self, pool: &mut OrderPool, idx: u32) {
        let (price, prev, next, visible) = {
            let o = &pool[idx];
            (o.price, o.prev, o.next, o.visible)
        };
        let Ok(pos) = self.find(price) else {
            unreachable!("resting order without its level");
        };
        let level = &mut self.levels[pos];
        if prev == NIL {
            level.head = next;
        } else {
            pool[prev].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            pool[next].prev = prev;
        }
        level.visible -= visible;
        level.count -= 1;
        if level.count == 0 {
            self.levels.remove(pos);
        }
    }

    /// Lowers the shown quantity of a resting order in place (keeps priority).
    pub fn reduce_visible(&mut self, pool: &mut OrderPool, idx: u32, by: Qty) {
        let price = pool[idx].price;
        let Ok(pos) = self.find(price) else {
            unreachable!("resting order without its level");
        };
        self.levels[pos].visible -= by;
        pool[idx].visible -= by;
    }
}
