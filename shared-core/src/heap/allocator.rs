//! The allocator proper: small blocks from the slots of size-class slabs, bigger ones
//! best-fit from the arenas' free ranges, the biggest in arenas of their own; and the
//! quarantine of blocks freed while forked descendants may still use them.

use super::bestfit::BestFit;
use super::classes::{self, SIZE};
use super::lifeline::{self, Lifeline};
use super::slab::{Slab, Slabs};
use super::{DEDICATED_MIN, HeapStats};
use crate::error::Result;
use std::ptr::NonNull;

/// Allocations between two looks at the lifelines while blocks are in quarantine.
const RECLAIM_EVERY: u32 = 64;

/// Where a block of this heap lies, which is how it is freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Home {
    /// A slot of the slab with this id.
    Slab(u32),
    /// A block of the best-fit layer, or the only block of a dedicated arena: the arena id.
    Arena(u32),
}

/// A block freed while a forked descendant that may use it could still be running.
struct Quarantined {
    home: Home,
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
    /// The slabs of the size classes, carved from the arenas.
    pub(super) slabs: Slabs,
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
            slabs: Slabs::new(),
            epoch: 0,
            lifelines: Vec::new(),
            quarantine: Vec::new(),
            allocs_since_reclaim: 0,
            inherited: Vec::new(),
            received: Vec::new(),
            held: Vec::new(),
        }
    }

    /// The arena a block lies in.
    pub(super) fn arena_of(&self, home: Home) -> u32 {
        match home {
            Home::Slab(id) => self.slabs.get(id).arena,
            Home::Arena(id) => id,
        }
    }

    /// True if the block is the only one of its arena (which then maps nothing else).
    pub(super) fn is_dedicated(&self, home: Home) -> bool {
        match home {
            Home::Slab(_) => false,
            Home::Arena(id) => self.fit.arena(id).dedicated,
        }
    }

    /// Allocates `span` bytes (a multiple of GRANULE) aligned to `align` (GRANULE..=MAX_ALIGN);
    /// returns the block, where it lies, and the bytes it occupies.
    #[inline]
    pub(super) fn alloc(
        &mut self,
        span: usize,
        align: usize,
        isolated: bool,
    ) -> Result<(NonNull<u8>, Home, usize)> {
        if !self.quarantine.is_empty() {
            self.allocs_since_reclaim += 1;
            if self.allocs_since_reclaim >= RECLAIM_EVERY {
                self.reclaim();
            }
        }
        if !isolated {
            if let Some(class) = classes::fitting(span, align) {
                let (ptr, id) = match self.slabs.take(class) {
                    Some(slot) => slot,
                    None => self.new_slab(class)?,
                };
                return Ok((ptr, Home::Slab(id), SIZE[class]));
            }
        }
        if span >= DEDICATED_MIN || isolated {
            let (id, size) = self.fit.alloc_dedicated(span)?;
            return Ok((self.fit.ptr(id, 0), Home::Arena(id), size));
        }
        let (id, offset) = self.fit.alloc(span, align)?;
        Ok((self.fit.ptr(id, offset), Home::Arena(id), span))
    }

    /// Carves a new slab of `class` and takes its first slot.
    #[cold]
    fn new_slab(&mut self, class: usize) -> Result<(NonNull<u8>, u32)> {
        let (arena, offset) = self
            .fit
            .alloc(classes::slab_bytes(class), classes::slab_align(class))?;
        let base = self.fit.ptr(arena, offset);
        self.slabs.insert(Slab::new(class, arena, offset, base));
        Ok(self.slabs.take(class).expect("a new slab has free slots"))
    }

    /// Frees a block allocated at `epoch`. A block that a running descendant may know is
    /// quarantined instead: reusing it now would hand out bytes another process still writes.
    /// (A dedicated arena is unmapped at once: the descendants keep their own mapping, and
    /// its memory is never handed out again.)
    #[inline]
    pub(super) fn free(&mut self, home: Home, ptr: NonNull<u8>, span: usize, epoch: u64) {
        if self.is_dedicated(home) {
            let Home::Arena(id) = home else {
                unreachable!("only arenas are dedicated")
            };
            self.fit.free_dedicated(id);
            return;
        }
        if self.lifelines.last().is_some_and(|l| l.epoch >= epoch) {
            self.quarantine.push(Quarantined {
                home,
                ptr,
                span,
                epoch,
            });
            return;
        }
        self.release_block(home, ptr, span);
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
            self.release_block(q.home, q.ptr, q.span);
        }
    }

    /// Returns a block's bytes to the free space, zeroed: a slot to its slab (and a slab
    /// left empty to its arena), a best-fit block to its arena's free ranges.
    fn release_block(&mut self, home: Home, ptr: NonNull<u8>, span: usize) {
        match home {
            Home::Slab(id) => {
                if let Some(empty) = self.slabs.put(id, ptr) {
                    self.release_slab(&empty);
                }
            }
            Home::Arena(id) => {
                let base = self.fit.arena(id).base().as_ptr() as usize;
                self.fit.free(id, ptr.as_ptr() as usize - base, span, true);
            }
        }
    }

    /// Gives an empty slab's range back to its arena (its bytes are zero already: every
    /// slot was cleared when it was freed).
    fn release_slab(&mut self, slab: &Slab) {
        self.fit.free(slab.arena, slab.offset, slab.bytes(), false);
    }

    /// Gives every empty slab back to its arena, and unmaps the empty arena kept for reuse:
    /// after every block has been freed, the heap maps nothing.
    pub(super) fn trim(&mut self) {
        self.reclaim();
        for slab in self.slabs.take_empty() {
            self.release_slab(&slab);
        }
        self.fit.release_spare();
    }

    pub(super) fn stats(&self) -> HeapStats {
        let mut stats = HeapStats::default();
        for (_, arena) in self.fit.mapped() {
            stats.arenas += 1;
            stats.mapped_bytes += arena.size();
            stats.used_bytes += arena.used;
            stats.live_blocks += arena.pieces;
        }
        // A slab counts as one piece of its arena, all of it used; what is really used is
        // its live slots.
        for slab in self.slabs.iter() {
            stats.used_bytes = stats.used_bytes - slab.bytes() + slab.live * slab.size();
            stats.live_blocks = stats.live_blocks - 1 + slab.live;
        }
        stats.free_bytes = stats.mapped_bytes - stats.used_bytes;
        stats.quarantined_blocks = self.quarantine.len();
        stats.quarantined_bytes = self.quarantine.iter().map(|q| q.span).sum();
        stats
    }

    #[cfg(feature = "test-hooks")]
    pub(super) fn snapshot(&self) -> Vec<super::ArenaInfo> {
        let mut arenas: Vec<super::ArenaInfo> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (id, arena) in self.fit.mapped() {
            index.insert(id, arenas.len());
            arenas.push(super::ArenaInfo {
                base: arena.base().as_ptr() as usize,
                size: arena.size(),
                dedicated: arena.dedicated,
                used: arena.used,
                live_blocks: arena.pieces,
                free: arena.free.iter().map(|(&s, &l)| (s, l)).collect(),
                slabs: Vec::new(),
            });
        }
        for slab in self.slabs.iter() {
            let info = &mut arenas[index[&slab.arena]];
            info.used = info.used - slab.bytes() + slab.live * slab.size();
            info.live_blocks = info.live_blocks - 1 + slab.live;
            info.slabs.push(super::SlabInfo {
                offset: slab.offset,
                slot_size: slab.size(),
                slots: slab.slots(),
                free_slots: slab.free_slots(),
            });
        }
        for info in &mut arenas {
            info.slabs.sort_by_key(|s| s.offset);
        }
        arenas
    }
}
