//! The allocator proper: best-fit over the free ranges of shared arenas, with coalescing,
//! and the quarantine of blocks freed while forked descendants may still use them.

use super::arena::Arena;
use super::lifeline::{self, Lifeline};
use super::{DEDICATED_MIN, FIRST_ARENA, GRANULE, HeapStats, MAX_ARENA};
use crate::error::{Error, Result};
use crate::os::memory::{budget_left, page_size};
use std::collections::BTreeSet;
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
    /// Arenas by id; `None` for ids of unmapped arenas, reused via `vacant`.
    arenas: Vec<Option<Arena>>,
    vacant: Vec<u32>,
    /// Every free range of every shared (non-dedicated) arena as `(len, arena, start)`, for
    /// best-fit search.
    by_size: BTreeSet<(usize, u32, usize)>,
    /// Bytes mapped by shared (non-dedicated) arenas; the next arena is as big as all of
    /// them together (geometric growth that shrinks back when arenas are unmapped).
    shared_mapped: usize,
    /// An empty arena kept mapped for reuse.
    pub(super) spare: Option<u32>,
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
            arenas: Vec::new(),
            vacant: Vec::new(),
            by_size: BTreeSet::new(),
            shared_mapped: 0,
            spare: None,
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
        self.arena(id).dedicated
    }

    pub(super) fn arena(&self, id: u32) -> &Arena {
        self.arenas[id as usize]
            .as_ref()
            .expect("a live block's arena is mapped")
    }

    fn arena_mut(&mut self, id: u32) -> &mut Arena {
        self.arenas[id as usize]
            .as_mut()
            .expect("a live block's arena is mapped")
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
            return self.alloc_dedicated(span);
        }
        // Any free range this long can hold the block whatever its start's alignment.
        let need = span + (align - GRANULE);
        let found = self.by_size.range((need, 0, 0)..).next().copied();
        let (len, id, start) = match found {
            Some(range) => range,
            None => self.grow(need)?,
        };
        let (ptr, id) = self.carve(id, start, len, span, align);
        Ok((ptr, id, span))
    }

    /// Maps a new shared arena big enough for `need` bytes and returns its free range.
    fn grow(&mut self, need: usize) -> Result<(usize, u32, usize)> {
        let size = self
            .shared_mapped
            .clamp(FIRST_ARENA, MAX_ARENA)
            .max(need.next_multiple_of(page_size()));
        let arena = self.map_arena(size, need, false)?;
        self.shared_mapped += size;
        let id = self.insert(arena);
        self.add_free(id, 0, size);
        Ok((size, id, 0))
    }

    /// A block with an arena of its own; it occupies the whole arena (whole pages).
    fn alloc_dedicated(&mut self, span: usize) -> Result<(NonNull<u8>, u32, usize)> {
        let size = span.next_multiple_of(page_size());
        let mut arena = self.map_arena(size, span, true)?;
        arena.used = size;
        arena.live = 1;
        let ptr = arena.base();
        Ok((ptr, self.insert(arena), size))
    }

    fn map_arena(&self, size: usize, requested: usize, dedicated: bool) -> Result<Arena> {
        let available = budget_left();
        if size as u64 > available {
            return Err(Error::OutOfMemory {
                requested,
                available,
            });
        }
        Arena::create(size, dedicated)
    }

    fn insert(&mut self, arena: Arena) -> u32 {
        match self.vacant.pop() {
            Some(id) => {
                self.arenas[id as usize] = Some(arena);
                id
            }
            None => {
                self.arenas.push(Some(arena));
                u32::try_from(self.arenas.len() - 1).expect("fewer than 4 billion arenas")
            }
        }
    }

    /// Takes `span` bytes aligned to `align` out of the free range `start..start + len`.
    fn carve(
        &mut self,
        id: u32,
        start: usize,
        len: usize,
        span: usize,
        align: usize,
    ) -> (NonNull<u8>, u32) {
        self.remove_free(id, start, len);
        let aligned = start.next_multiple_of(align);
        if aligned > start {
            self.add_free(id, start, aligned - start);
        }
        let end = aligned + span;
        if start + len > end {
            self.add_free(id, end, start + len - end);
        }
        if self.spare == Some(id) {
            self.spare = None;
        }
        let arena = self.arena_mut(id);
        arena.used += span;
        arena.live += 1;
        // SAFETY: `aligned + span <= start + len <= arena size`, so the offset stays inside
        // the mapping.
        let ptr = unsafe { arena.base().add(aligned) };
        (ptr, id)
    }

    /// Frees a block allocated at `epoch`. A block that a running descendant may know is
    /// quarantined instead: reusing it now would hand out bytes another process still writes.
    /// (A dedicated arena is unmapped at once: the descendants keep their own mapping, and
    /// its memory is never handed out again.)
    pub(super) fn free(&mut self, id: u32, ptr: NonNull<u8>, span: usize, epoch: u64) {
        if self.arena(id).dedicated {
            self.arenas[id as usize] = None;
            self.vacant.push(id);
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
        let arena = self.arena_mut(id);
        let offset = ptr.as_ptr() as usize - arena.base().as_ptr() as usize;
        arena.zero(offset, span);
        arena.used -= span;
        arena.live -= 1;
        let now_empty = arena.live == 0;
        let prev = arena
            .free
            .range(..offset)
            .next_back()
            .map(|(&s, &l)| (s, l))
            .filter(|&(s, l)| s + l == offset);
        let next = arena.free.get(&(offset + span)).copied();
        let (mut start, mut len) = (offset, span);
        if let Some((s, l)) = prev {
            self.remove_free(id, s, l);
            start = s;
            len += l;
        }
        if let Some(l) = next {
            self.remove_free(id, offset + span, l);
            len += l;
        }
        self.add_free(id, start, len);
        if now_empty {
            self.retire(id);
        }
    }

    /// Keeps the bigger of `id` and the current spare as the spare empty arena; unmaps the
    /// other.
    fn retire(&mut self, id: u32) {
        let keep = match self.spare {
            Some(spare) if self.arena(spare).size() >= self.arena(id).size() => {
                self.release(id);
                spare
            }
            Some(spare) => {
                self.release(spare);
                id
            }
            None => id,
        };
        self.spare = Some(keep);
    }

    /// Unmaps an empty shared arena.
    pub(super) fn release(&mut self, id: u32) {
        let arena = self.arenas[id as usize]
            .take()
            .expect("released arenas are mapped");
        debug_assert_eq!(arena.live, 0);
        self.shared_mapped -= arena.size();
        for (&start, &len) in &arena.free {
            self.by_size.remove(&(len, id, start));
        }
        self.vacant.push(id);
    }

    fn add_free(&mut self, id: u32, start: usize, len: usize) {
        self.arena_mut(id).free.insert(start, len);
        self.by_size.insert((len, id, start));
    }

    fn remove_free(&mut self, id: u32, start: usize, len: usize) {
        self.arena_mut(id).free.remove(&start);
        self.by_size.remove(&(len, id, start));
    }

    pub(super) fn mapped(&self) -> impl Iterator<Item = &Arena> {
        self.arenas.iter().flatten()
    }

    pub(super) fn stats(&self) -> HeapStats {
        let mut stats = HeapStats::default();
        for arena in self.mapped() {
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
        self.mapped()
            .map(|arena| super::ArenaInfo {
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
