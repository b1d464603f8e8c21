//! Memory hints for large allocations.
//!
//! Random access over tens of megabytes (the id index, the order slab, a
//! batch's event records) pays for a page-table walk on most accesses with
//! 4 KiB pages, and for a page fault every 4 KiB as a fresh buffer is first
//! written. Where transparent huge pages are enabled in `madvise` mode (a
//! common default), [`advise_huge`] asks for 2 MiB pages on the aligned part
//! of a buffer that has not been touched yet. It is only advice: no effect on
//! contents or correctness, and a no-op elsewhere.

/// Huge page size the hint is aligned to.
pub const HUGE_PAGE: usize = 2 << 20;

/// Buffers smaller than this are left alone (they hold no whole huge page).
/// One huge page, so that an exactly aligned 2 MiB buffer (a slab arena)
/// qualifies; an unaligned one gets advice only on its aligned interior.
pub const HUGE_MIN_BYTES: usize = HUGE_PAGE;

/// Advises the kernel to back the 2 MiB-aligned interior of
/// `[ptr, ptr + len)` with transparent huge pages (Linux; otherwise a no-op).
/// Never dereferences `ptr`; the range should be memory this process owns.
#[inline]
pub fn advise_huge(ptr: *const u8, len: usize) {
    if len < HUGE_MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
    let end = (ptr as usize).saturating_add(len) / HUGE_PAGE * HUGE_PAGE;
    if end <= start {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: madvise with MADV_HUGEPAGE changes no memory contents and no
    // mapping permissions; on a bad range it just fails (ignored: advice only).
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}
