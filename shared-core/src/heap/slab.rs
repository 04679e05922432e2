//! Slabs: runs of equal slots of one size class, carved out of the arenas by the best-fit
//! layer, from which small blocks are allocated without any search.
//!
//! Which slots of a slab are free is a bitmap in process-local memory, never a list threaded
//! through the shared slots themselves: another process that scribbles over shared memory
//! cannot corrupt this process's allocator. Each class keeps a doubly linked list (by slab
//! id, also process-local) of its slabs that have a free slot; allocating takes the lowest
//! free slot of the first of them, freeing sets a bit back. Both are O(1).

use std::ptr::NonNull;

use super::classes::{CLASSES, MAX_SLOTS, SIZE, SLOTS, slab_bytes};

/// "No slab", in the lists.
const NONE: u32 = u32::MAX;

/// Words of a slab's bitmap.
const WORDS: usize = MAX_SLOTS / 64;

/// One slab: `SLOTS[class]` slots of `SIZE[class]` bytes at `offset` in an arena.
pub(super) struct Slab {
    /// The first slot.
    base: NonNull<u8>,
    /// The arena it lies in.
    pub(super) arena: u32,
    /// Offset of the first slot in the arena.
    pub(super) offset: usize,
    /// Its size class (an index into `SIZE` and `SLOTS`).
    pub(super) class: usize,
    /// Slots handed out (quarantined ones included).
    pub(super) live: usize,
    /// Bit `i` is set while slot `i` is free.
    free: [u64; WORDS],
    /// No word of `free` before this one has a bit set.
    first: usize,
    /// Neighbours in its class's list of slabs with a free slot (`NONE` at the ends, and
    /// while the slab is full).
    prev: u32,
    next: u32,
}

// SAFETY: the pointer is only the address of a range of one of this heap's arenas, used
// under the heap mutex; it has no thread affinity.
unsafe impl Send for Slab {}

impl Slab {
    /// A slab of `class` whose first slot is at `base`, `offset` bytes into arena `arena`;
    /// its bytes must be zero (free space of the arena).
    pub(super) fn new(class: usize, arena: u32, offset: usize, base: NonNull<u8>) -> Slab {
        let mut free = [0; WORDS];
        for (w, word) in free.iter_mut().enumerate() {
            let slots_here = SLOTS[class].saturating_sub(w * 64).min(64);
            *word = if slots_here == 64 {
                u64::MAX
            } else {
                (1 << slots_here) - 1
            };
        }
        Slab {
            base,
            arena,
            offset,
            class,
            live: 0,
            free,
            first: 0,
            prev: NONE,
            next: NONE,
        }
    }

    /// Bytes of one slot.
    pub(super) fn size(&self) -> usize {
        SIZE[self.class]
    }

    /// Slots of the slab.
    pub(super) fn slots(&self) -> usize {
        SLOTS[self.class]
    }

    /// Bytes of the whole slab.
    pub(super) fn bytes(&self) -> usize {
        slab_bytes(self.class)
    }

    /// Takes the lowest free slot; the slab must have one.
    #[inline]
    fn take(&mut self) -> NonNull<u8> {
        let w = (self.first..WORDS)
            .find(|&w| self.free[w] != 0)
            .expect("a slab in its class's list has a free slot");
        let word = self.free[w];
        self.free[w] = word & (word - 1);
        self.first = w;
        self.live += 1;
        let slot = w * 64 + word.trailing_zeros() as usize;
        // SAFETY: `slot < SLOTS[class]` (only the bits of existing slots are ever set), so
        // the slot lies inside the slab, which lies inside its arena's mapping.
        unsafe { self.base.add(slot * self.size()) }
    }

    /// Clears the slot at `ptr` and marks it free.
    ///
    /// The slot was handed out by this slab and is freed now: no handle refers to it, and
    /// no process that may still use it is running (see the quarantine).
    #[inline]
    fn put(&mut self, ptr: NonNull<u8>) {
        let offset = ptr.as_ptr() as usize - self.base.as_ptr() as usize;
        let slot = offset / self.size();
        assert!(
            offset % self.size() == 0 && slot < self.slots(),
            "a freed small block is a slot of its slab"
        );
        let (w, bit) = (slot / 64, 1 << (slot % 64));
        assert!(self.free[w] & bit == 0, "a slot is freed once");
        // SAFETY: the slot lies inside the slab (asserted above), which lies inside a
        // writable shared mapping, and it belongs to a block that has just been freed, so no
        // other access of this process races with the write (nor of any other process: the
        // quarantine keeps blocks away from running descendants that may know them).
        unsafe { ptr.as_ptr().write_bytes(0, self.size()) };
        self.free[w] |= bit;
        self.first = self.first.min(w);
        self.live -= 1;
    }

    /// Indices of the free slots, ascending.
    #[cfg(feature = "test-hooks")]
    pub(super) fn free_slots(&self) -> Vec<usize> {
        (0..self.slots())
            .filter(|&s| self.free[s / 64] & (1 << (s % 64)) != 0)
            .collect()
    }
}

/// Every slab of a heap, and for each class the list of its slabs that have a free slot.
pub(super) struct Slabs {
    /// Slabs by id; `None` for ids of slabs given back, reused via `vacant`.
    slabs: Vec<Option<Slab>>,
    vacant: Vec<u32>,
    /// First slab with a free slot of each class, or `NONE`.
    partial: [u32; CLASSES],
}

impl Slabs {
    pub(super) const fn new() -> Slabs {
        Slabs {
            slabs: Vec::new(),
            vacant: Vec::new(),
            partial: [NONE; CLASSES],
        }
    }

    pub(super) fn get(&self, id: u32) -> &Slab {
        self.slabs[id as usize]
            .as_ref()
            .expect("a live block's slab exists")
    }

    fn get_mut(&mut self, id: u32) -> &mut Slab {
        self.slabs[id as usize]
            .as_mut()
            .expect("a live block's slab exists")
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Slab> {
        self.slabs.iter().flatten()
    }

    /// A free slot of `class` and its slab's id, or `None` if no slab of the class has one.
    #[inline]
    pub(super) fn take(&mut self, class: usize) -> Option<(NonNull<u8>, u32)> {
        let id = self.partial[class];
        if id == NONE {
            return None;
        }
        let slab = self.get_mut(id);
        let ptr = slab.take();
        if slab.live == slab.slots() {
            self.unlink(id);
        }
        Some((ptr, id))
    }

    /// Adds a new (empty) slab, first in its class's list; returns its id.
    pub(super) fn insert(&mut self, slab: Slab) -> u32 {
        let id = match self.vacant.pop() {
            Some(id) => {
                self.slabs[id as usize] = Some(slab);
                id
            }
            None => {
                self.slabs.push(Some(slab));
                u32::try_from(self.slabs.len() - 1).expect("fewer than 4 billion slabs")
            }
        };
        self.link(id);
        id
    }

    /// Returns the slot at `ptr` to slab `id`. A slab left empty while its class has
    /// another slab with free slots is taken out and returned, to go back to its arena;
    /// otherwise it stays, so that a program allocating and freeing one object at a time
    /// does not carve and give back a slab each time.
    #[inline]
    pub(super) fn put(&mut self, id: u32, ptr: NonNull<u8>) -> Option<Slab> {
        let slab = self.get_mut(id);
        let was_full = slab.live == slab.slots();
        slab.put(ptr);
        let empty = slab.live == 0;
        if was_full {
            self.link(id);
        }
        if empty && !self.alone_in_list(id) {
            return Some(self.remove(id));
        }
        None
    }

    /// Takes out every empty slab (one per class at most), to go back to their arenas.
    pub(super) fn take_empty(&mut self) -> Vec<Slab> {
        let empty: Vec<u32> = (0..self.slabs.len() as u32)
            .filter(|&id| {
                self.slabs[id as usize]
                    .as_ref()
                    .is_some_and(|s| s.live == 0)
            })
            .collect();
        empty.into_iter().map(|id| self.remove(id)).collect()
    }

    fn remove(&mut self, id: u32) -> Slab {
        self.unlink(id);
        self.vacant.push(id);
        self.slabs[id as usize]
            .take()
            .expect("a removed slab exists")
    }

    /// True if `id` is the only slab in its class's list.
    fn alone_in_list(&self, id: u32) -> bool {
        let slab = self.get(id);
        slab.prev == NONE && slab.next == NONE && self.partial[slab.class] == id
    }

    /// Puts `id` first in its class's list.
    fn link(&mut self, id: u32) {
        let class = self.get(id).class;
        let head = self.partial[class];
        if head != NONE {
            self.get_mut(head).prev = id;
        }
        let slab = self.get_mut(id);
        slab.prev = NONE;
        slab.next = head;
        self.partial[class] = id;
    }

    /// Takes `id` out of its class's list (if it is in it).
    fn unlink(&mut self, id: u32) {
        let slab = self.get_mut(id);
        let (class, prev, next) = (slab.class, slab.prev, slab.next);
        slab.prev = NONE;
        slab.next = NONE;
        if prev != NONE {
            self.get_mut(prev).next = next;
        } else if self.partial[class] == id {
            self.partial[class] = next;
        }
        if next != NONE {
            self.get_mut(next).prev = prev;
        }
    }
}
