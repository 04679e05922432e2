//! The layout of every arena, for the heap's own tests: only built with the `test-hooks`
//! feature, which the workspace's tests turn on.

use super::heap_lock;

/// One arena as [`snapshot`] reports it (a test hook: only with the `test-hooks` feature).
///
/// ```
/// use sharedctypes::heap::{self, Block};
/// let big = Block::alloc(2 << 20, 8)?; // 2 MiB: an arena of its own
/// let arena = heap::snapshot()
///     .into_iter()
///     .find(|a| a.base == big.as_ptr() as usize)
///     .expect("a dedicated arena starts at its block");
/// assert_eq!(
///     (arena.size, arena.dedicated, arena.used, arena.live_blocks),
///     (2 << 20, true, 2 << 20, 1)
/// );
/// assert_eq!((arena.free.len(), arena.slabs.len()), (0, 0));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArenaInfo {
    /// Address of the first byte of the arena.
    pub base: usize,
    /// Size of the arena in bytes.
    pub size: usize,
    /// True for an arena that holds a single big block.
    pub dedicated: bool,
    /// Bytes in live blocks (each block counted with its [`span`](super::Block::span)).
    pub used: usize,
    /// Number of live blocks (those in slots of slabs included).
    pub live_blocks: usize,
    /// Free ranges as `(offset, len)`, sorted by offset, never adjacent to each other.
    pub free: Vec<(usize, usize)>,
    /// The slabs of small blocks carved out of the arena, sorted by offset. The free
    /// ranges, the slabs and the blocks that lie in no slab partition the arena.
    pub slabs: Vec<SlabInfo>,
}

/// A slab as [`snapshot`] reports it: a run of equal slots in an arena from which small
/// blocks of one size class are allocated (a test hook: only with the `test-hooks` feature).
/// Its slots that are not free hold exactly one live block each.
///
/// ```
/// use sharedctypes::heap::{self, Block};
/// let block = Block::alloc(56, 8)?; // a lock cell's size
/// let addr = block.as_ptr() as usize;
/// let (arena, slab) = heap::snapshot()
///     .into_iter()
///     .find_map(|a| {
///         let slab = a.slabs.iter().find(|s| {
///             let start = a.base + s.offset;
///             (start..start + s.slots * s.slot_size).contains(&addr)
///         })?;
///         Some((a.base, slab.clone()))
///     })
///     .expect("a small block lies in a slab");
/// assert_eq!((slab.slot_size, slab.slots), (56, 73)); // 4088 bytes of slots
/// let slot = (addr - arena - slab.offset) / slab.slot_size;
/// assert!(!slab.free_slots.contains(&slot));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlabInfo {
    /// Offset of the first slot in the arena.
    pub offset: usize,
    /// Bytes of each slot (the size class: every block in the slab has this span).
    pub slot_size: usize,
    /// Number of slots; the slab is `slots * slot_size` bytes long.
    pub slots: usize,
    /// Indices of the free slots, ascending.
    pub free_slots: Vec<usize>,
}

/// The layout of every arena of this process's heap, for tests and diagnostics.
///
/// ```
/// use sharedctypes::heap::{self, Block};
/// let block = Block::alloc(24, 8)?;
/// let arena = heap::snapshot()
///     .into_iter()
///     .find(|a| (a.base..a.base + a.size).contains(&(block.as_ptr() as usize)))
///     .expect("the block lies in an arena");
/// let offset = block.as_ptr() as usize - arena.base;
/// assert!(arena.free.iter().all(|&(start, len)| start + len <= offset || start >= offset + 24));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn snapshot() -> Vec<ArenaInfo> {
    heap_lock().snapshot()
}
