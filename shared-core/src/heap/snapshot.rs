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
///     (arena.size, arena.dedicated, arena.used, arena.live_blocks, arena.free.len()),
///     (2 << 20, true, 2 << 20, 1, 0)
/// );
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
    /// Bytes in live blocks.
    pub used: usize,
    /// Number of live blocks.
    pub live_blocks: usize,
    /// Free ranges as `(offset, len)`, sorted by offset.
    pub free: Vec<(usize, usize)>,
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
