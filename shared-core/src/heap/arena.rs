//! One arena: a memfd mapped `MAP_SHARED`, so that a forked child and its parent see the same
//! pages (unlike `memmap2::MmapMut::map_anon`, which is private copy-on-write).

use std::collections::BTreeMap;
use std::fs::File;
use std::ptr::NonNull;

use memmap2::{MmapOptions, MmapRaw, UncheckedAdvice};
use nix::sys::memfd::{MFdFlags, memfd_create};

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Freed ranges at least this long give their whole pages back to the kernel
/// (`MADV_REMOVE`), which also zeroes them, instead of being cleared with `memset`.
const PUNCH_HOLE_MIN: usize = 64 * 1024;

/// The largest alignment the heap guarantees: mappings are page-aligned, and pages are at
/// least this big (on machines with larger pages, mappings are aligned further still).
pub(super) const PAGE: usize = 4096;

/// This machine's page size (4 KiB on x86-64; 16 or 64 KiB on some AArch64 and POWER
/// kernels): arena sizes are multiples of it, and only whole pages are given back with
/// `MADV_REMOVE`. Cached in an atomic (not a `OnceLock`, which a fork in the middle of its
/// initialisation would leave blocked in the child).
pub(super) fn page_size() -> usize {
    static SIZE: AtomicUsize = AtomicUsize::new(0);
    match SIZE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let size = usize::try_from(size).unwrap_or(PAGE).max(PAGE);
            SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// A shared mapping and the bookkeeping of which of its bytes are free.
///
/// Invariant: every free byte of the arena is zero, so a block carved from free space starts
/// zeroed without being cleared.
pub(super) struct Arena {
    map: MmapRaw,
    /// Free ranges, `start -> len`, never adjacent (they are coalesced on free).
    pub(super) free: BTreeMap<usize, usize>,
    /// Bytes handed out in live blocks.
    pub(super) used: usize,
    /// Number of live blocks.
    pub(super) live: usize,
    /// The arena holds exactly one big block and is unmapped when it is freed.
    pub(super) dedicated: bool,
}

impl Arena {
    /// Maps `size` zeroed bytes of fresh shared memory (a multiple of [`PAGE`]).
    pub(super) fn create(size: usize, dedicated: bool) -> Result<Arena> {
        debug_assert!(size % page_size() == 0 && size > 0);
        let fd = memfd_create(c"sharedctypes-heap", MFdFlags::MFD_CLOEXEC).map_err(|errno| {
            Error::Os {
                op: "memfd_create",
                errno,
            }
        })?;
        let file = File::from(fd);
        file.set_len(size as u64)
            .map_err(|e| io_error("ftruncate (sizing a shared arena)", &e))?;
        let map = MmapOptions::new()
            .len(size)
            .map_raw(&file)
            .map_err(|e| io_error("mmap (MAP_SHARED arena)", &e))?;
        // The mapping keeps the memory alive; the descriptor is not needed any more, so an
        // arena costs no file descriptor.
        drop(file);
        Ok(Arena {
            map,
            free: BTreeMap::new(),
            used: 0,
            live: 0,
            dedicated,
        })
    }

    pub(super) fn base(&self) -> NonNull<u8> {
        NonNull::new(self.map.as_mut_ptr()).expect("mmap never returns a null mapping")
    }

    pub(super) fn size(&self) -> usize {
        self.map.len()
    }

    /// Clears `len` bytes at `offset` so that the range can go back to the free space.
    ///
    /// The caller owns the range: it was a block of this process's heap that has just been
    /// freed, so no handle to it is left in this process.
    pub(super) fn zero(&self, offset: usize, len: usize) {
        assert!(offset <= self.size() && len <= self.size() - offset);
        let end = offset + len;
        let page = page_size();
        if len >= PUNCH_HOLE_MIN && len >= 2 * page {
            // Whole pages strictly inside the block (MADV_REMOVE works on whole pages: a
            // range not aligned to the real page size would be rounded to cover neighbours).
            let page_start = offset.next_multiple_of(page);
            let page_end = end / page * page;
            // SAFETY: the range is inside the mapping (asserted above) and belongs to a block
            // that was just freed, so nothing in this process reads or writes it any more;
            // MADV_REMOVE on a shared memfd mapping frees the pages and makes them read back
            // as zeroes, which is exactly the state free space must be in.
            let punched = unsafe {
                self.map.unchecked_advise_range(
                    UncheckedAdvice::Remove,
                    page_start,
                    page_end - page_start,
                )
            };
            if punched.is_ok() {
                self.clear(offset, page_start);
                self.clear(page_end, end);
                return;
            }
        }
        self.clear(offset, end);
    }

    fn clear(&self, start: usize, end: usize) {
        if end > start {
            let ptr = self.base().as_ptr().wrapping_add(start);
            // SAFETY: `start..end` lies inside the mapping (checked by `zero`), the mapping is
            // writable, and the bytes belong to a freed block no handle in this process refers
            // to, so no other access can race with this write in this process.
            unsafe { ptr.write_bytes(0, end - start) };
        }
    }
}

/// Maps an `io::Error` from a system call to [`Error::Os`].
pub(super) fn io_error(op: &'static str, e: &std::io::Error) -> Error {
    Error::os(op, e.raw_os_error().unwrap_or(libc::EIO))
}
