//! The allocator proper: blocks from the arenas (best-fit, see `bestfit`), and the
//! quarantine of blocks freed while forked descendants may still use them.

use super::bestfit::BestFit;
use super::lifeline::{self, Lifeline};
use super::{DEDICATED_MIN, HeapStats};
use crate::error::Result;
use std::ptr::NonNull;

/// Allocations between two looks at the lifelines while blocks are in quarantine.
const RECLAIM_EVERY: u32 = 64;

/// A block freed while a forked descendant that may use it could still be running.
struct Quarantined {
    arena: u32,
    ptr: NonNull<u8>,
    span: usize,
    epoch: u64,
}

// SAFETY: the pointer is only an address inside one of this heap's arenas, used under the
// heap mutex; it has no thread affinity.
unsafe impl Send for Quarantined {}

/// The allocator's bookkeeping. Lives in process-local memory.
pub(super) struct Heap {
    /// The arenas, and best-fit over their free ranges.
    pub(super) fit: BestFit,
    /// Counts this process's forks: a block allocated at epoch `e` can be known to every
    /// child forked at an epoch `>= e`.
    pub(super) epoch: u64,
    /// One per fork whose descendants may still be running, oldest first.
    pub(super) lifelines: Vec<Lifeline>,
    /// Blocks freed while descendants that may use them could still run; reused once
    /// [`reclaim`](Self::reclaim) finds those descendants gone.
    quarantine: Vec<Quarantined>,
    allocs_since_reclaim: u32,
    /// Arenas inherited through `fork` from ancestors (see `transfer`).
    pub(super) inherited: Vec<super::transfer::Inherited>,
    /// Arenas of other processes mapped here, while objects from them are alive.
    pub(super) received: Vec<std::sync::Weak<super::transfer::Received>>,
    /// Lifeline write ends this process holds for its ancestors (never closed).
    pub(super) held: Vec<std::os::fd::RawFd>,
}

impl Heap {
    pub(super) const fn new() -> Heap {
        Heap {
            fit: BestFit::new(),
            epoch: 0,
            lifelines: Vec::new(),
            quarantine: Vec::new(),
            allocs_since_reclaim: 0,
            inherited: Vec::new(),
            received: Vec::new(),
            held: Vec::new(),
        }
    }

    /// True if the block `id` is the only one of its arena (which then maps nothing else).
    pub(super) fn is_dedicated(&self, id: u32) -> bool {
        self.fit.arena(id).dedicated
    }

    /// Allocates `span` bytes (a multiple of GRANULE) aligned to `align` (GRANULE..=MAX_ALIGN);
    /// returns the block, its arena, and the bytes it occupies.
    pub(super) fn alloc(
        &mut self,
        span: usize,
        align: usize,
        isolated: bool,
    ) -> Result<(NonNull<u8>, u32, usize)> {
        if !self.quarantine.is_empty() {
            self.allocs_since_reclaim += 1;
            if self.allocs_since_reclaim >= RECLAIM_EVERY {
                self.reclaim();
            }
        }
        if span >= DEDICATED_MIN || isolated {
            let (id, size) = self.fit.alloc_dedicated(span)?;
            return Ok((self.fit.ptr(id, 0), id, size));
        }
        let (id, offset) = self.fit.alloc(span, align)?;
        Ok((self.fit.ptr(id, offset), id, span))
    }

    /// Frees a block allocated at `epoch`. A block that a running descendant may know is
    /// quarantined instead: reusing it now would hand out bytes another process still writes.
    /// (A dedicated arena is unmapped at once: the descendants keep their own mapping, and
    /// its memory is never handed out again.)
    pub(super) fn free(&mut self, id: u32, ptr: NonNull<u8>, span: usize, epoch: u64) {
        if self.is_dedicated(id) {
            self.fit.free_dedicated(id);
            return;
        }
        if self.lifelines.last().is_some_and(|l| l.epoch >= epoch) {
            self.quarantine.push(Quarantined {
                arena: id,
                ptr,
                span,
                epoch,
            });
            return;
        }
        self.release_block(id, ptr, span);
    }

    /// Looks at the lifelines, forgets the forks whose descendants are all gone, and frees
    /// the quarantined blocks no running descendant can know any more.
    pub(super) fn reclaim(&mut self) {
        self.allocs_since_reclaim = 0;
        lifeline::prune(&mut self.lifelines);
        let newest = self.lifelines.last().map(|l| l.epoch);
        let (done, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.quarantine)
            .into_iter()
            .partition(|q| newest.is_none_or(|n| n < q.epoch));
        self.quarantine = kept;
        for q in done {
            self.release_block(q.arena, q.ptr, q.span);
        }
    }

    /// Returns a block's bytes to the free space: zeroed, coalesced with its neighbours.
    fn release_block(&mut self, id: u32, ptr: NonNull<u8>, span: usize) {
        let base = self.fit.arena(id).base().as_ptr() as usize;
        self.fit.free(id, ptr.as_ptr() as usize - base, span);
    }

    /// Unmaps the empty arena kept for reuse: after every block has been freed, the heap
    /// maps nothing.
    pub(super) fn trim(&mut self) {
        self.reclaim();
        self.fit.release_spare();
    }

    pub(super) fn stats(&self) -> HeapStats {
        let mut stats = HeapStats::default();
        for (_, arena) in self.fit.mapped() {
            stats.arenas += 1;
            stats.mapped_bytes += arena.size();
            stats.used_bytes += arena.used;
            stats.live_blocks += arena.live;
        }
        stats.free_bytes = stats.mapped_bytes - stats.used_bytes;
        stats.quarantined_blocks = self.quarantine.len();
        stats.quarantined_bytes = self.quarantine.iter().map(|q| q.span).sum();
        stats
    }

    #[cfg(feature = "test-hooks")]
    pub(super) fn snapshot(&self) -> Vec<super::ArenaInfo> {
        self.fit
            .mapped()
            .map(|(_, arena)| super::ArenaInfo {
                base: arena.base().as_ptr() as usize,
                size: arena.size(),
                dedicated: arena.dedicated,
                used: arena.used,
                live_blocks: arena.live,
                free: arena.free.iter().map(|(&s, &l)| (s, l)).collect(),
            })
            .collect()
    }
}
