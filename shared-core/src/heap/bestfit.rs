//! The arenas, and best-fit over their free ranges with coalescing: where slabs and the
//! blocks too big for a size class (up to 1 MiB) are carved, and where blocks of 1 MiB or
//! more get an arena of their own.

use std::collections::BTreeSet;
use std::ptr::NonNull;

use super::arena::Arena;
use super::{FIRST_ARENA, GRANULE, MAX_ARENA};
use crate::error::{Error, Result};
use crate::os::memory::{budget_left, page_size};

/// Free ranges too short for an aligned request's worst case that are still looked at (to
/// see whether their start happens to be aligned), so that an aligned hole is reused before
/// it is coalesced.
const ALIGNED_CANDIDATES: usize = 8;

/// The arenas of one heap and the free ranges of its shared ones.
pub(super) struct BestFit {
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
    spare: Option<u32>,
}

impl BestFit {
    pub(super) const fn new() -> BestFit {
        BestFit {
            arenas: Vec::new(),
            vacant: Vec::new(),
            by_size: BTreeSet::new(),
            shared_mapped: 0,
            spare: None,
        }
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

    /// Every mapped arena with its id.
    pub(super) fn mapped(&self) -> impl Iterator<Item = (u32, &Arena)> {
        self.arenas
            .iter()
            .enumerate()
            .filter_map(|(id, a)| Some((id as u32, a.as_ref()?)))
    }

    /// Address of the byte at `offset` in arena `id`.
    pub(super) fn ptr(&self, id: u32, offset: usize) -> NonNull<u8> {
        let arena = self.arena(id);
        assert!(offset < arena.size());
        // SAFETY: the offset is inside the mapping (asserted above).
        unsafe { arena.base().add(offset) }
    }

    /// Carves `span` bytes (a multiple of GRANULE) aligned to `align` (GRANULE..=MAX_ALIGN)
    /// out of a shared arena, mapping a new one if none has room; returns the arena and the
    /// offset.
    pub(super) fn alloc(&mut self, span: usize, align: usize) -> Result<(u32, usize)> {
        let (len, id, start) = match self.find(span, align) {
            Some(range) => range,
            None => self.grow(span + (align - GRANULE))?,
        };
        Ok((id, self.carve(id, start, len, span, align)))
    }

    /// The smallest free range that holds `span` bytes aligned to `align`.
    fn find(&self, span: usize, align: usize) -> Option<(usize, u32, usize)> {
        // Any free range this long holds the block whatever its start's alignment.
        let need = span + (align - GRANULE);
        if need > span {
            let fits = |&&(len, _, start): &&(usize, u32, usize)| {
                start.next_multiple_of(align) + span <= start + len
            };
            let shorter = self.by_size.range((span, 0, 0)..(need, 0, 0));
            if let Some(&found) = shorter.take(ALIGNED_CANDIDATES).find(fits) {
                return Some(found);
            }
        }
        self.by_size.range((need, 0, 0)..).next().copied()
    }

    /// Maps a new shared arena big enough for `need` bytes and returns its free range.
    fn grow(&mut self, need: usize) -> Result<(usize, u32, usize)> {
        let size = self
            .shared_mapped
            .clamp(FIRST_ARENA, MAX_ARENA)
            .max(need.next_multiple_of(page_size()));
        let arena = map_arena(size, need, false)?;
        self.shared_mapped += size;
        let id = self.insert(arena);
        self.add_free(id, 0, size);
        Ok((size, id, 0))
    }

    /// An arena of its own for a block of `span` bytes, which occupies all of it (whole
    /// pages); returns the arena and its size.
    pub(super) fn alloc_dedicated(&mut self, span: usize) -> Result<(u32, usize)> {
        let size = span.next_multiple_of(page_size());
        let mut arena = map_arena(size, span, true)?;
        arena.used = size;
        arena.pieces = 1;
        Ok((self.insert(arena), size))
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

    /// Takes `span` bytes aligned to `align` out of the free range `start..start + len`;
    /// returns their offset.
    fn carve(&mut self, id: u32, start: usize, len: usize, span: usize, align: usize) -> usize {
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
        arena.pieces += 1;
        aligned
    }

    /// Unmaps the arena of a block that had one of its own.
    pub(super) fn free_dedicated(&mut self, id: u32) {
        debug_assert!(self.arena(id).dedicated);
        self.arenas[id as usize] = None;
        self.vacant.push(id);
    }

    /// Returns `span` bytes at `offset` in arena `id` to the free space, coalesced with their
    /// neighbours. `dirty`: they may hold data and are cleared first (the bytes of an empty
    /// slab are zero already).
    pub(super) fn free(&mut self, id: u32, offset: usize, span: usize, dirty: bool) {
        let arena = self.arena_mut(id);
        if dirty {
            arena.zero(offset, span);
        }
        arena.used -= span;
        arena.pieces -= 1;
        let now_empty = arena.pieces == 0;
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

    /// Unmaps the empty arena kept for reuse, if any.
    pub(super) fn release_spare(&mut self) {
        if let Some(id) = self.spare.take() {
            self.release(id);
        }
    }

    /// Unmaps an empty shared arena.
    fn release(&mut self, id: u32) {
        let arena = self.arenas[id as usize]
            .take()
            .expect("released arenas are mapped");
        debug_assert_eq!(arena.pieces, 0);
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
}

fn map_arena(size: usize, requested: usize, dedicated: bool) -> Result<Arena> {
    let available = budget_left();
    if size as u64 > available {
        return Err(Error::OutOfMemory {
            requested,
            available,
        });
    }
    Arena::create(size, dedicated)
}
