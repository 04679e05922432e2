//! The shared heap: one process-wide allocator that carves every shared object out of large
//! `MAP_SHARED` arenas (CPython's `multiprocessing.heap` idea).
//!
//! - Many small objects share pages: a locked `Value<i64>` costs 8 bytes for the value and
//!   56 for its lock cell, 64 in all, not a mapping each (CPython maps one file per lock and
//!   runs into the kernel's map limit near 65k locks).
//! - Arenas are memfd mappings, shared with forked children. They grow geometrically (each
//!   new arena is as big as all the others together: 64 KiB, 64 KiB, 128 KiB, … up to
//!   64 MiB); an object of 1 MiB or more gets an arena of its own, unmapped when the object
//!   is dropped. Each arena keeps its memfd open (close-on-exec), one descriptor per arena as
//!   in CPython's heap, so that its objects can be sent to other processes.
//! - Small blocks (up to 1 KiB) come from *size classes*: every multiple of [`GRANULE`]
//!   (8 bytes) up to 256 bytes, then four classes per doubling up to 1 KiB (320, 384, 448,
//!   512, 640, 768, 896, 1024). Each class allocates from *slabs*, runs of equal slots
//!   (at least 4 KiB and 16 slots) carved out of the arenas; which slots are free is a
//!   bitmap per slab, and each class keeps a list of its slabs with a free slot, so
//!   allocating or freeing a small block is a few bit operations, with no search. A slab
//!   left empty goes back to its arena (each class keeps one, so that allocating and freeing
//!   one object at a time does not carve a slab each time; [`trim`] gives it back too).
//! - Bigger blocks, and the slabs themselves, are carved best-fit from the arenas' free
//!   ranges; a freed range is coalesced with its free neighbours. An arena whose last block
//!   or slab is freed is unmapped, except for one empty arena kept for reuse (see [`trim`]).
//! - Blocks are aligned to `max(8, align)`, up to [`MAX_ALIGN`] (4096): a small block goes to
//!   the smallest class whose slot size is a multiple of the alignment (its slab is aligned
//!   so that every slot is), or best-fit if no class up to 1 KiB is. A block's
//!   [`span`](Block::span), the bytes it occupies, is its length rounded up to 8 bytes, or to
//!   its class above 256 bytes or when it is over-aligned.
//! - Every new block reads as zeroes, including reused ones: freed blocks and slots are
//!   cleared when they are freed (big ones by giving their pages back with `MADV_REMOVE`).
//! - After `fork`, the child starts a fresh heap and never allocates from the arenas it
//!   inherited, while everything it inherited stays valid (see the `fork` submodule docs).
//! - A block freed while a process forked since its allocation may still be running (a
//!   child, or a grandchild that outlived it) is *quarantined*, not reused: each fork gets a
//!   lifeline pipe whose write end the descendants hold, and the block is reused once the
//!   pipe reports them all gone — however they ended, and even if the
//!   [`Process`](crate::Process) handle was leaked. Blocks freed when no descendant can know
//!   them are reused at once. Two limits remain: a fork made when no descriptor is left for
//!   its pipe (`EMFILE`) can never be known to have ended, so what it may use stays
//!   quarantined for good (safe, but a leak); and a descendant that closes descriptors it did
//!   not open (a daemon's "close every descriptor" loop) cuts its lifeline, so blocks it still
//!   maps may be reused while it runs. Descendants that keep their inherited descriptors open
//!   are always accounted for.
//! - The total shared memory a process maps — its arenas and everything it maps from other
//!   processes — is checked against the machine's memory plus swap before each new mapping
//!   ([`Error::OutOfMemory`]), so one process cannot map more than
//!   could ever be backed. Several processes can still together, each under the bound, and
//!   the kernel's overcommit policy decides what touching the pages then costs.
//! - Thread-safe: one mutex around the bookkeeping — arenas, free ranges, slabs, their
//!   bitmaps and lists — which all lives in process-local memory, never in the shared
//!   blocks, so a misbehaving process that scribbles over shared memory cannot corrupt
//!   another process's allocator.
//!
//! Most users never touch this module: [`RawValue`](crate::RawValue),
//! [`RawArray`](crate::RawArray) and the locks allocate from it. [`Block`] is the raw
//! interface (Python's `heap.BufferWrapper`), and [`stats`] tells how much shared memory is in
//! use.
//!
//! ```
//! use sharedctypes::heap::{self, Block};
//!
//! let before = heap::stats().used_bytes;
//! let block = Block::alloc(100, 8)?;
//! assert_eq!(block.len(), 100);
//! assert_eq!(heap::stats().used_bytes, before + 104); // rounded up to 8 bytes
//! let aligned = Block::alloc(100, 64)?;
//! assert_eq!(aligned.as_ptr() as usize % 64, 0);
//! assert_eq!(aligned.span(), 128); // the smallest class that is a multiple of 64
//! let medium = Block::alloc(1500, 8)?; // above 1 KiB: best-fit, rounded up to 8 bytes
//! assert_eq!(medium.span(), 1504);
//! drop((block, aligned, medium));
//! assert_eq!(heap::stats().used_bytes, before);
//! # Ok::<(), sharedctypes::Error>(())
//! ```

mod allocator;
mod arena;
mod bestfit;
mod classes;
mod fork;
mod lifeline;
mod slab;
#[cfg(feature = "test-hooks")]
mod snapshot;
mod transfer;

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};

use allocator::{Heap, Home};

use crate::error::{Error, Result};

#[cfg(feature = "test-hooks")]
pub use snapshot::{ArenaInfo, SlabInfo, snapshot};
pub(crate) use transfer::{MadeFile, held_lifelines, hold_lifelines, new_lifeline};

/// Block sizes are rounded up to a multiple of this many bytes, and blocks are aligned to at
/// least this much.
///
/// ```
/// use sharedctypes::heap::{Block, GRANULE};
/// assert_eq!(GRANULE, 8);
/// let block = Block::alloc(1, 1)?;
/// assert_eq!(block.span(), GRANULE); // 1 byte occupies a whole granule
/// assert_eq!(block.as_ptr() as usize % GRANULE, 0); // and is aligned to one
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub const GRANULE: usize = 8;

/// The largest alignment the heap provides (one page).
///
/// ```
/// use sharedctypes::{Error, heap::{Block, MAX_ALIGN}};
/// assert_eq!(MAX_ALIGN, 4096);
/// assert_eq!(Block::alloc(8, MAX_ALIGN)?.as_ptr() as usize % MAX_ALIGN, 0);
/// assert_eq!(
///     Block::alloc(8, 2 * MAX_ALIGN).unwrap_err(),
///     Error::UnsupportedAlignment { align: 8192, max: 4096 }
/// );
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub const MAX_ALIGN: usize = crate::os::memory::MIN_PAGE;

/// The cache line of the machines sharedctypes runs on (x86-64 and most 64-bit ARM cores):
/// what processes on different CPUs pass between them when one writes a byte another uses.
pub(crate) const CACHE_LINE: usize = 64;

/// Size of the first arena; each new arena is as big as all shared arenas mapped so far, up
/// to [`MAX_ARENA`].
const FIRST_ARENA: usize = 64 * 1024;

/// Arenas stop growing at this size.
const MAX_ARENA: usize = 64 * 1024 * 1024;

/// Blocks at least this big get a mapping of their own.
const DEDICATED_MIN: usize = 1024 * 1024;

static HEAP: Mutex<Heap> = Mutex::new(Heap::new());

fn heap_lock() -> MutexGuard<'static, Heap> {
    // Registered before the heap is first locked, so that a fork always finds the fork
    // handlers in place whenever the heap lock could be held.
    fork::ensure_registered();
    // The bookkeeping is only ever changed by code that cannot panic half-way (no user code
    // runs under this lock), so a poisoned lock still guards consistent state.
    HEAP.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A block of zero-initialised shared memory from the process-wide heap: the raw material of
/// every shared object (Python's `multiprocessing.heap.BufferWrapper`).
///
/// The block is returned to the heap when the handle drops, in the process that allocated it.
/// A forked child that inherits a block can use it, but dropping it there does not free it
/// (the parent still owns it).
///
/// A `Block` hands out only a raw pointer: another process may write the memory at any time,
/// so turning it into `&T`/`&mut T` is the caller's (unsafe) responsibility. Typed objects
/// ([`RawValue`](crate::RawValue), [`RawArray`](crate::RawArray)) do this soundly.
///
/// ```
/// use sharedctypes::heap::Block;
///
/// let block = Block::alloc(16, 16)?;
/// assert_eq!(block.as_ptr() as usize % 16, 0);
/// assert!(block.is_owned());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug)]
pub struct Block {
    ptr: NonNull<u8>,
    len: usize,
    span: usize,
    origin: Origin,
}

/// Where a block's memory comes from.
#[derive(Debug)]
enum Origin {
    /// An arena of a heap: this process's, or an ancestor's inherited through `fork`.
    Heap {
        /// Its slab or arena.
        home: Home,
        /// Which process generation allocated it (see `fork`): only that one frees it.
        generation: u32,
        /// The heap epoch at allocation: which descendants can know the block.
        epoch: u64,
    },
    /// Another process's arena, mapped here when an object was sent to this process; the
    /// mapping goes when its last block does. Never freed here: the sender owns it.
    Received(std::sync::Arc<transfer::Received>),
    /// A part of another block (see [`Block::into_parts`] and [`Block::part_of`]), which
    /// lives until its last part goes and is treated as that block is (owned, exported,
    /// freed) in everything else.
    Part(std::sync::Arc<dyn Whole>),
}

/// What holds a whole block that other blocks are parts of (see [`Block::part_of`]): the
/// block itself, or an object that owns one (a lock whose cell shares its line with a
/// value), which then lives as long as its parts do.
pub(crate) trait Whole: Send + Sync + core::fmt::Debug {
    /// The whole block.
    fn whole(&self) -> &Block;
}

impl Whole for Block {
    fn whole(&self) -> &Block {
        self
    }
}

// SAFETY: a `Block` is a pointer into a shared mapping that stays mapped for as long as the
// block exists (the heap unmaps an arena only once all its blocks are freed, and a forked
// child never unmaps inherited arenas); it has no thread affinity. All bookkeeping happens
// under the heap mutex.
unsafe impl Send for Block {}
// SAFETY: `&Block` only exposes the pointer and sizes; reading through the pointer is the
// caller's business (and done with atomics by this crate's typed objects).
unsafe impl Sync for Block {}

impl Block {
    /// Allocates `len` zeroed bytes aligned to `align` (a power of two, at most
    /// [`MAX_ALIGN`]; alignments below [`GRANULE`] are raised to it).
    ///
    /// # Errors
    /// [`Error::UnsupportedAlignment`] for a bad alignment, [`Error::SizeOverflow`] for a
    /// length that cannot be mapped, [`Error::OutOfMemory`] for more than the machine's
    /// memory and swap, [`Error::Os`] when the kernel refuses a new arena.
    ///
    /// ```
    /// use sharedctypes::{Error, heap::Block};
    /// assert_eq!(
    ///     Block::alloc(8, 3).unwrap_err(),
    ///     Error::UnsupportedAlignment { align: 3, max: 4096 }
    /// );
    /// ```
    pub fn alloc(len: usize, align: usize) -> Result<Block> {
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return Err(Error::UnsupportedAlignment {
                align,
                max: MAX_ALIGN,
            });
        }
        if len > isize::MAX as usize - 2 * MAX_ALIGN {
            return Err(Error::SizeOverflow { len, elem_size: 1 });
        }
        let span = len.max(1).next_multiple_of(GRANULE);
        let align = align.max(GRANULE);
        let isolated = ISOLATING.get() > 0;
        let mut heap = heap_lock();
        let (ptr, home, span) = heap.alloc(span, align, isolated).map_err(|e| match e {
            // Report the length asked for, not the rounded span.
            Error::OutOfMemory { available, .. } => Error::OutOfMemory {
                requested: len,
                available,
            },
            e => e,
        })?;
        Ok(Block {
            ptr,
            len,
            span,
            origin: Origin::Heap {
                home,
                generation: crate::fork::generation(),
                epoch: heap.epoch,
            },
        })
    }

    /// Allocates `len` zeroed bytes aligned to `align` in cache lines no other block
    /// touches: for what processes synchronise on (a lock cell, the state of an `Event` or
    /// a `Semaphore`). Packed beside other small blocks, two locks used by two processes
    /// would pass their shared line back and forth on every operation, each process slowing
    /// the other although neither touches the other's lock (three times slower, measured).
    ///
    /// # Errors
    /// As for [`alloc`](Self::alloc).
    pub(crate) fn alloc_own_lines(len: usize, align: usize) -> Result<Block> {
        // A small block aligned to a line goes to a class whose slots are whole lines.
        Block::alloc(len, align.max(CACHE_LINE))
    }

    /// Start of the block.
    ///
    /// ```
    /// use sharedctypes::heap::Block;
    /// let block = Block::alloc(4, 8)?;
    /// let ptr = block.as_ptr();
    /// // SAFETY: the 4 bytes are live and nothing else accesses them meanwhile.
    /// let before: [u8; 4] = core::array::from_fn(|i| unsafe { ptr.add(i).read() });
    /// assert_eq!(before, [0, 0, 0, 0]); // a new block reads as zeroes
    /// // SAFETY: as above.
    /// unsafe { ptr.add(3).write(0xAB) };
    /// // SAFETY: as above.
    /// assert_eq!(unsafe { ptr.add(3).read() }, 0xAB);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Start of the block, non-null.
    ///
    /// ```
    /// use sharedctypes::heap::Block;
    /// let block = Block::alloc(8, 8)?;
    /// let word = block.as_non_null().cast::<u64>();
    /// // SAFETY: the block is 8 bytes, 8-aligned and live, and nothing else accesses it meanwhile.
    /// unsafe { word.write(42) };
    /// // SAFETY: as above.
    /// assert_eq!(unsafe { word.read() }, 42);
    /// assert_eq!(word.as_ptr().cast::<u8>(), block.as_ptr());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_non_null(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Length asked for when the block was allocated.
    ///
    /// ```
    /// use sharedctypes::heap::Block;
    /// let block = Block::alloc(13, 1)?;
    /// assert_eq!((block.len(), block.span()), (13, 16)); // the length asked for, not the span
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a block of length 0 (which still occupies [`GRANULE`] bytes).
    ///
    /// ```
    /// use sharedctypes::heap::{Block, GRANULE};
    /// let empty = Block::alloc(0, 1)?;
    /// assert_eq!((empty.is_empty(), empty.len(), empty.span()), (true, 0, GRANULE));
    /// assert_eq!(Block::alloc(1, 1)?.is_empty(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the block occupies in its arena: the length rounded up to [`GRANULE`], or to its
    /// size class (from 257 bytes to 1 KiB, or when it is aligned to more than 8 bytes: see
    /// the [module docs](crate::heap)), or to whole pages for a block with an arena of its
    /// own.
    ///
    /// ```
    /// use sharedctypes::heap::Block;
    /// assert_eq!(Block::alloc(20, 8)?.span(), 24);
    /// assert_eq!(Block::alloc(20, 32)?.span(), 32); // a slot of the 32-byte class
    /// assert_eq!(Block::alloc(300, 8)?.span(), 320); // the class above 256 bytes
    /// let big = Block::alloc((1 << 20) + 1, 8)?; // 1 MiB or more: an arena of its own
    /// assert_eq!(big.span(), (1 << 20) + 4096); // whole pages
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn span(&self) -> usize {
        self.span
    }

    /// True if this process allocated the block (it was not inherited through `fork`), so
    /// dropping it here returns it to the heap.
    ///
    /// ```
    /// use sharedctypes::{Exit, Process, heap::Block};
    /// let block = Block::alloc(8, 8)?;
    /// assert_eq!(block.is_owned(), true);
    /// let child = Process::start(|| Exit(block.is_owned().into()))?;
    /// assert_eq!(child.join()?, 0); // inherited by the child, still owned by the parent
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_owned(&self) -> bool {
        match &self.origin {
            Origin::Heap { generation, .. } => *generation == crate::fork::generation(),
            Origin::Received(_) => false,
            Origin::Part(whole) => whole.whole().is_owned(),
        }
    }

    /// The block cut into `N` parts (`(offset, len)` each, inside it; they may overlap):
    /// for an object whose parts are used by different owners, such as a queue's state and
    /// the lock inside it. The block is freed when the last part goes.
    ///
    /// # Panics
    /// If a part does not lie inside the block (the callers' layouts are fixed).
    pub(crate) fn into_parts<const N: usize>(self, parts: [(usize, usize); N]) -> [Block; N] {
        for &(offset, len) in &parts {
            assert!(
                offset.checked_add(len).is_some_and(|end| end <= self.len),
                "part {offset}+{len} of a block of {} bytes",
                self.len
            );
        }
        let whole: std::sync::Arc<dyn Whole> = std::sync::Arc::new(self);
        parts.map(|(offset, len)| Block::part_of(whole.clone(), offset, len))
    }

    /// The `len` bytes at `offset` in the block `whole` holds, as a block that keeps `whole`
    /// alive (the block is freed when `whole` and every part of it are gone).
    ///
    /// # Panics
    /// If the part does not lie inside the block (the callers' layouts are fixed).
    pub(crate) fn part_of(whole: std::sync::Arc<dyn Whole>, offset: usize, len: usize) -> Block {
        let block = whole.whole();
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= block.len),
            "part {offset}+{len} of a block of {} bytes",
            block.len
        );
        Block {
            // Inside the block (asserted above), so inside its mapping.
            ptr: NonNull::new(block.ptr.as_ptr().wrapping_add(offset)).expect("inside a block"),
            len,
            span: len,
            origin: Origin::Part(whole),
        }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Origin::Heap {
            home,
            generation,
            epoch,
        } = self.origin
        {
            if generation == crate::fork::generation() {
                heap_lock().free(home, self.ptr, self.span, epoch);
            }
        }
    }
}

impl Block {
    /// True if the shared-memory file the block lies in holds nothing but this block (an
    /// arena of its own), or nothing but the parts of one named object: handing that file
    /// to another program hands over nothing else. A part of a block (see
    /// [`into_parts`](Self::into_parts)) is alone only if it is all of a block that is: the
    /// file of a smaller one holds the other parts too.
    pub(crate) fn alone_in_its_file(&self) -> bool {
        match &self.origin {
            Origin::Received(received) => received.alone(self.ptr.as_ptr() as usize, self.len),
            Origin::Part(whole) => {
                let whole = whole.whole();
                self.ptr == whole.ptr && self.len == whole.len && whole.alone_in_its_file()
            }
            Origin::Heap { home, .. } if self.is_owned() => heap_lock().is_dedicated(*home),
            Origin::Heap { .. } => {
                let addr = self.ptr.as_ptr() as usize;
                heap_lock()
                    .inherited
                    .iter()
                    .any(|a| a.dedicated && (a.base..a.base + a.size).contains(&addr))
            }
        }
    }
}

thread_local! {
    /// Above zero while this thread runs inside [`isolated`].
    static ISOLATING: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

/// True while this thread runs inside [`isolated`]: each block it allocates then is a file
/// for one program, and an object must not put two of its parts in one such block (sharing
/// one part with a program would hand it the other).
pub(crate) fn isolating() -> bool {
    ISOLATING.get() > 0
}

/// Runs `f`, giving every block allocated meanwhile *by this thread* a shared-memory file of
/// its own (whole pages), instead of a place among other objects in a common arena.
///
/// Objects handed to another program with [`Process::command`](crate::Process::command)
/// must be created this way (or by name): the program receives the file the object lies in,
/// and can read and write all of it, so it must hold nothing the program was not given.
/// Objects for forked and spawned children (the same program) need not be.
///
/// Each such object costs a descriptor, a mapping and at least one page.
///
/// ```
/// use sharedctypes::{Value, heap};
///
/// let before = heap::stats().arenas;
/// let counter = heap::isolated(|| Value::new(0u64))?; // the value and its lock
/// assert_eq!(heap::stats().arenas, before + 2); // a file of its own each
/// counter.update(|n| n + 1)?;
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn isolated<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            ISOLATING.set(ISOLATING.get() - 1);
        }
    }
    ISOLATING.set(ISOLATING.get() + 1);
    let _leave = Leave;
    f()
}

/// Totals of the shared heap of this process.
///
/// ```
/// use sharedctypes::{Value, heap};
/// let v = Value::new(0i64)?;
/// let stats = heap::stats();
/// assert!(stats.live_blocks >= 1); // the value and its lock: one block (one cache line)
/// assert_eq!(stats.used_bytes + stats.free_bytes, stats.mapped_bytes);
/// # drop(v);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapStats {
    /// Arenas currently mapped.
    pub arenas: usize,
    /// Bytes of shared memory mapped by those arenas.
    pub mapped_bytes: usize,
    /// Bytes in live blocks (each counted with its [`span`](Block::span)), quarantined ones
    /// included.
    pub used_bytes: usize,
    /// Bytes not in any live block (`mapped_bytes - used_bytes`).
    pub free_bytes: usize,
    /// Number of live blocks, quarantined ones included.
    pub live_blocks: usize,
    /// Blocks freed while a forked child that may use them could still be running: they are
    /// reused only once every process forked since they were allocated has exited (or
    /// exec'd).
    pub quarantined_blocks: usize,
    /// Bytes in those blocks.
    pub quarantined_bytes: usize,
}

/// Current totals of this process's heap (blocks inherited through `fork` are not counted).
///
/// ```
/// use sharedctypes::{RawArray, heap};
/// let before = heap::stats();
/// let arr = RawArray::<u8>::zeroed(100)?;
/// let after = heap::stats();
/// assert_eq!(after.live_blocks, before.live_blocks + 1);
/// assert_eq!(after.used_bytes, before.used_bytes + 104); // 100 rounded up to 8
/// drop(arr);
/// assert_eq!(heap::stats().used_bytes, before.used_bytes);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn stats() -> HeapStats {
    heap_lock().stats()
}

/// Gives the empty slab each size class keeps back to its arena, and unmaps the empty arena
/// the heap keeps for reuse, if any. After every object has been dropped and `trim` called,
/// the heap maps nothing.
///
/// ```
/// use sharedctypes::heap;
/// heap::trim();
/// let stats = heap::stats();
/// assert!(stats.used_bytes > 0 || stats.arenas == 0);
/// ```
pub fn trim() {
    heap_lock().trim();
}

/// Reuses the blocks freed while forked descendants were running, if those descendants are
/// gone now (called when a [`Process`](crate::Process) is reaped; allocation also checks now
/// and then).
pub(crate) fn reclaim() {
    heap_lock().reclaim();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of a block share its memory, are exported at their own offsets in its
    /// file, and keep it (one owner among them) until the last one goes.
    #[test]
    fn a_block_cut_into_parts_lives_until_the_last_part_goes() {
        let block = Block::alloc(256, 64).unwrap();
        let base = block.as_ptr() as usize;
        let whole_at = block.export().unwrap().offset;
        let [all, cell] = block.into_parts([(0, 256), (192, 56)]);
        assert_eq!((all.as_ptr() as usize, all.len()), (base, 256));
        assert_eq!((cell.as_ptr() as usize, cell.len()), (base + 192, 56));
        assert_eq!(cell.export().unwrap().offset, whole_at + 192);
        assert!(all.is_owned() && cell.is_owned());
        // SAFETY: byte 200 lies in both parts, which are live and used by nothing else.
        unsafe { cell.as_ptr().wrapping_add(8).write(0x5a) };
        // SAFETY: as above.
        assert_eq!(unsafe { all.as_ptr().wrapping_add(200).read() }, 0x5a);
        let holders = |b: &Block| match &b.origin {
            Origin::Part(whole) => std::sync::Arc::strong_count(whole),
            _ => 0,
        };
        assert_eq!(holders(&cell), 2);
        drop(all);
        assert_eq!(holders(&cell), 1, "the block lives on with its last part");
    }

    /// A part of a block of a file of its own is alone in that file only if it is the whole
    /// block: a program handed a smaller part would get the other parts too.
    #[test]
    fn only_a_whole_part_of_an_isolated_block_is_alone_in_its_file() {
        let block = isolated(|| Block::alloc(256, 64)).unwrap();
        assert!(block.alone_in_its_file());
        let [all, cell] = block.into_parts([(0, 256), (192, 56)]);
        assert!(all.alone_in_its_file());
        assert!(!cell.alone_in_its_file());
        let shared = Block::alloc(256, 64).unwrap();
        let [all] = shared.into_parts([(0, 256)]);
        assert!(
            !all.alone_in_its_file(),
            "a block among others is never alone"
        );
    }
}
