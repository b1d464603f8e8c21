//! Zero-filled buffers: id-index tables and order-slab chunks.
//!
//! `vec![0; n]` asks the allocator for zeroed memory (`calloc`), which skips
//! the memset only while glibc serves the request with a fresh `mmap`. glibc
//! raises its mmap threshold each time a large mmapped block is freed (up to
//! 32 MiB), so after the first id-index growth frees the old table, later
//! tables come from the heap and `calloc` clears them: an 8 MiB memset inside
//! one insert was the Mixed workload's 3.4-3.7 ms maximum latency.
//!
//! [`ZeroedSlice::new`] therefore maps buffers of [`MMAP_MIN_BYTES`] or more
//! directly (anonymous pages read as zero), 2 MiB-aligned with huge-page
//! advice from 2 MiB up: they fault in a huge page at a time on first touch
//! (4 KiB faults, one per few hundred inserts into a fresh table, had put
//! ~3 µs on Mixed's p99.9). [`ZeroedSlice::from_heap`] (small slab chunks)
//! uses the global allocator, which reuses freed memory without faults.
use std::alloc::Layout;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Buffers at least this large are mapped from the OS (Linux).
pub const MMAP_MIN_BYTES: usize = 64 << 10;

/// Types whose all-zero bit pattern is a valid value.
///
/// # Safety
/// Implementors must accept all-zero bytes as a valid value and need no drop.
pub unsafe trait Zeroable: Copy {}

// SAFETY: an integer is valid with every bit pattern.
unsafe impl Zeroable for u64 {}
// SAFETY: an array of zeroable values is zeroable.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}

/// A fixed-length, zero-initialised slice (never grows).
pub struct ZeroedSlice<T: Zeroable> {
    ptr: NonNull<T>,
    len: usize,
    /// Mapped from the OS (else from the global allocator).
    mapped: bool,
}

// SAFETY: owns its elements like a Box<[T]> does.
unsafe impl<T: Zeroable + Send> Send for ZeroedSlice<T> {}
// SAFETY: shared access only hands out &T.
unsafe impl<T: Zeroable + Sync> Sync for ZeroedSlice<T> {}

impl<T: Zeroable> ZeroedSlice<T> {
    /// `len` zero values; mapped from the OS if at least [`MMAP_MIN_BYTES`].
    pub fn new(len: usize) -> Self {
        Self::with(len, true)
    }

    /// `len` zero values from the global allocator, whatever the size.
    pub fn from_heap(len: usize) -> Self {
        Self::with(len, false)
    }

    fn with(len: usize, may_map: bool) -> Self {
        let layout = Layout::array::<T>(len).expect("buffer size overflows");
        if layout.size() == 0 {
            return ZeroedSlice {
                ptr: NonNull::dangling(),
                len,
                mapped: false,
            };
        }
        let mapped = may_map && Self::mappable(layout);
        let ptr = if mapped {
            let p = map_zeroed(layout.size());
            // Fresh pages fault in one at a time on first touch: 4 KiB pages
            // put a ~3 µs fault on one command in a few hundred while a grown
            // id index fills (p99.9); 2 MiB pages fault 512 times less often,
            // and random loads over them miss the TLB far less (`memlat`).
            if !p.is_null() {
                crate::mem::advise_huge(p, layout.size());
            }
            p
        } else {
            // SAFETY: non-zero size (checked above).
            unsafe { std::alloc::alloc_zeroed(layout) }
        };
        let Some(ptr) = NonNull::new(ptr.cast::<T>()) else {
            std::alloc::handle_alloc_error(layout);
        };
        ZeroedSlice { ptr, len, mapped }
    }

    #[inline]
    fn mappable(layout: Layout) -> bool {
        cfg!(target_os = "linux") && layout.size() >= MMAP_MIN_BYTES && layout.align() <= 4096
    }

    /// A buffer of exactly one zero value, from the global allocator.
    pub fn one() -> Self {
        Self::from_heap(1)
    }
}

impl<T: Zeroable> Default for ZeroedSlice<T> {
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T: Zeroable> Deref for ZeroedSlice<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` holds `len` initialised (zeroed or written) values.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Zeroable> DerefMut for ZeroedSlice<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, with exclusive access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Zeroable> Clone for ZeroedSlice<T> {
    fn clone(&self) -> Self {
        let mut copy = Self::with(self.len, self.mapped);
        copy.copy_from_slice(self);
        copy
    }
}

impl<T: Zeroable + std::fmt::Debug> std::fmt::Debug for ZeroedSlice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZeroedSlice(len {})", self.len)
    }
}

impl<T: Zeroable> Drop for ZeroedSlice<T> {
    fn drop(&mut self) {
        let layout = Layout::array::<T>(self.len).expect("checked at construction");
        if layout.size() == 0 {
            return;
        }
        if self.mapped {
            unmap(self.ptr.as_ptr().cast(), layout.size());
        } else {
            // SAFETY: allocated by `alloc_zeroed` with this layout.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) }
        }
    }
}

/// A fresh anonymous mapping of `size` bytes; 2 MiB-aligned when `size` is at
/// least 2 MiB, so that huge pages can back all of it (an unaligned mapping
/// would leave its first and last partial huge pages on 4 KiB pages).
#[cfg(target_os = "linux")]
fn map_zeroed(size: usize) -> *mut u8 {
    use crate::mem::HUGE_PAGE;
    let align = if size >= HUGE_PAGE { HUGE_PAGE } else { 0 };
    let Some(padded) = size.checked_add(align) else {
        return std::ptr::null_mut();
    };
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            padded,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    let start = p as usize;
    if align == 0 {
        return p.cast();
    }
    let aligned = start.next_multiple_of(align);
    let end = start + padded;
    let used_end = (aligned + size).next_multiple_of(4096);
    // SAFETY: both trimmed ranges lie inside the mapping just made and outside
    // `[aligned, aligned + size)`; page-aligned (mmap and 2 MiB alignment).
    unsafe {
        if aligned > start {
            libc::munmap(p, aligned - start);
        }
        if end > used_end {
            libc::munmap(used_end as *mut libc::c_void, end - used_end);
        }
    }
    aligned as *mut u8
}

#[cfg(not(target_os = "linux"))]
fn map_zeroed(_size: usize) -> *mut u8 {
    unreachable!("mapping is only used on Linux")
}

#[cfg(target_os = "linux")]
fn unmap(p: *mut u8, size: usize) {
    // SAFETY: `p..p + size` is a mapping made by `map_zeroed` and owned by the caller.
    unsafe {
        libc::munmap(p.cast(), size);
    }
}

#[cfg(not(target_os = "linux"))]
fn unmap(_p: *mut u8, _size: usize) {
    unreachable!("mapping is only used on Linux")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_small_and_mapped() {
        for n in [0usize, 1, 100, MMAP_MIN_BYTES / 8, 1 << 20] {
            let mut s = ZeroedSlice::<u64>::new(n);
            assert_eq!(s.len(), n);
            assert!(s.iter().all(|&x| x == 0));
            if n > 0 {
                s[n - 1] = 7;
                let c = s.clone();
                assert_eq!(c[n - 1], 7);
                assert_eq!(c.iter().sum::<u64>(), 7);
            }
        }
    }
}
