//! One arena: a memfd mapped `MAP_SHARED` (memmap2's `MmapRaw` over the memfd), so that a
//! forked child and its parent see the same pages (memmap2's `map_anon` would not: it is
//! private copy-on-write). The memfd stays open (close-on-exec) so that the arena can be sent
//! to a spawned process.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;

use crate::error::Result;
use crate::os::memory::{self, Mapping, page_size};

/// Freed ranges at least this long give their whole pages back to the kernel
/// (`MADV_REMOVE`), which also zeroes them, instead of being cleared with `memset`.
const PUNCH_HOLE_MIN: usize = 64 * 1024;

/// A shared mapping and the bookkeeping of which of its bytes are free.
///
/// Invariant: every free byte of the arena is zero, so a block or slab carved from free space
/// starts zeroed without being cleared (and so is every free slot of a slab).
pub(super) struct Arena {
    map: Mapping,
    /// Kept open (close-on-exec) so that the arena can be handed to other processes.
    fd: OwnedFd,
    /// Free ranges, `start -> len`, never adjacent (they are coalesced on free).
    pub(super) free: BTreeMap<usize, usize>,
    /// Bytes carved out: blocks of the best-fit layer and slabs.
    pub(super) used: usize,
    /// Number of those blocks and slabs; the arena is empty when it reaches 0.
    pub(super) pieces: usize,
    /// The arena holds exactly one big block and is unmapped when it is freed.
    pub(super) dedicated: bool,
}

impl Arena {
    /// Maps `size` zeroed bytes of fresh shared memory (a multiple of the page size).
    pub(super) fn create(size: usize, dedicated: bool) -> Result<Arena> {
        debug_assert!(size % page_size() == 0 && size > 0);
        let fd = memory::memfd(c"sharedctypes-heap", size)?;
        let map = Mapping::shared(fd.as_fd(), 0, size)?;
        Ok(Arena {
            map,
            fd,
            free: BTreeMap::new(),
            used: 0,
            pieces: 0,
            dedicated,
        })
    }

    pub(super) fn base(&self) -> NonNull<u8> {
        self.map.base()
    }

    pub(super) fn size(&self) -> usize {
        self.map.len()
    }

    /// The memfd behind the arena.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Clears `len` bytes at `offset` so that the range can go back to the free space.
    ///
    /// The caller owns the range: it was a block of this process's heap that has just been
    /// freed, and no process that may still use it is running (see the quarantine).
    pub(super) fn zero(&self, offset: usize, len: usize) {
        assert!(offset <= self.size() && len <= self.size() - offset);
        let end = offset + len;
        let page = page_size();
        if len >= PUNCH_HOLE_MIN && len >= 2 * page {
            // Whole pages strictly inside the block (MADV_REMOVE works on whole pages: a
            // range not aligned to the real page size would be rounded to cover neighbours).
            let page_start = offset.next_multiple_of(page);
            let page_end = end / page * page;
            // SAFETY: the range is inside the mapping (asserted above), page-aligned, and
            // belongs to a block that was just freed, which no process uses any more; its
            // pages read back as zeroes, exactly the state free space must be in.
            let punched = unsafe { self.map.remove_pages(page_start, page_end - page_start) };
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
            // writable, and the bytes belong to a freed block no handle refers to, so no
            // other access can race with this write.
            unsafe { ptr.write_bytes(0, end - start) };
        }
    }
}
