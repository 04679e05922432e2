//! Randomised heap invariants in the spirit of CPython's `_TestHeap.test_heap`: thousands of
//! random allocations and frees of random sizes and alignments; after every step each arena
//! is exactly partitioned by its free ranges, its slabs and the live blocks outside slabs,
//! and each slab by its free slots and its live blocks (so blocks never overlap and free +
//! used equals the arenas' total), neighbouring free ranges are coalesced, empty slabs go
//! back to their arena, every live block keeps its contents, and freeing everything leaks
//! nothing. Also: a million
//! alloc/free cycles keep the number of open file descriptors (one per arena) and mappings
//! bounded.
//!
//! The heap is process-wide, so this file holds its tests to one at a time (`SERIAL`) and no
//! other test binary shares its process.

use std::collections::BTreeMap;
use std::sync::Mutex;

use proptest::prelude::*;
use sharedctypes::heap::{self, Block};

static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone)]
enum Op {
    /// `count` blocks of `len` bytes aligned to `align`.
    Alloc {
        len: usize,
        align: usize,
        count: usize,
    },
    /// `count` live blocks picked at random from `pick` on.
    Free { pick: usize, count: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let len = prop_oneof![
        6 => 0usize..256,
        3 => 256usize..16_384,
        1 => 16_384usize..2_200_000, // some above the 1 MiB dedicated-arena threshold
    ];
    prop_oneof![
        6 => (len, 0u32..=12).prop_map(|(len, a)| Op::Alloc { len, align: 1 << a, count: 1 }),
        4 => any::<usize>().prop_map(|pick| Op::Free { pick, count: 1 }),
        // Bursts of one small size fill several slabs of its class, and free many at once
        // empty some of them.
        1 => (0usize..1100, 0u32..=6, 2usize..120)
            .prop_map(|(len, a, count)| Op::Alloc { len, align: 1 << a, count }),
        1 => (any::<usize>(), 2usize..120).prop_map(|(pick, count)| Op::Free { pick, count }),
    ]
}

/// A live block and the byte it was filled with.
struct Live {
    block: Block,
    fill: u8,
}

fn bytes(block: &Block) -> &[u8] {
    // SAFETY: the block is live, `len` bytes long, and only this test thread touches it.
    unsafe { std::slice::from_raw_parts(block.as_ptr(), block.len()) }
}

/// What a piece of an arena's partition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    /// A live block outside any slab.
    Block,
    /// A slab (its slots are checked separately).
    Slab,
    Free,
}

/// Checks the partition of every arena; returns an error message instead of panicking so
/// that proptest can shrink.
///
/// Each arena is exactly tiled by its free ranges (never two adjacent: they are coalesced),
/// its slabs, and the live blocks that lie in no slab; each slab's slots are exactly its
/// free slots and one live block each, every block in a slab having the slot's size as its
/// span. So no two blocks overlap, and what the blocks use plus what is free is the arena.
/// A class keeps at most one empty slab: the others go back to their arena's free ranges.
fn check_partition(live: &[Live]) -> Result<(), String> {
    let arenas = heap::snapshot();
    // (arena base) -> pieces as (offset, len, kind); (arena base, slab offset) -> live slots.
    let mut pieces: BTreeMap<usize, Vec<(usize, usize, Piece)>> = BTreeMap::new();
    let mut slots: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut used: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for l in live {
        let addr = l.block.as_ptr() as usize;
        let arena = arenas
            .iter()
            .find(|a| (a.base..a.base + a.size).contains(&addr))
            .ok_or_else(|| format!("live block at {addr:#x} is in no arena"))?;
        if l.block.as_ptr() as usize % 8 != 0 {
            return Err(format!("block at {addr:#x} not 8-aligned"));
        }
        let offset = addr - arena.base;
        let span = l.block.span();
        let totals = used.entry(arena.base).or_default();
        totals.0 += span;
        totals.1 += 1;
        let slab = arena
            .slabs
            .iter()
            .find(|s| (s.offset..s.offset + s.slots * s.slot_size).contains(&offset));
        match slab {
            Some(s) => {
                if (offset - s.offset) % s.slot_size != 0 || span != s.slot_size {
                    return Err(format!(
                        "block of span {span} at {offset} is not a slot of the slab at {} \
                         ({} bytes each)",
                        s.offset, s.slot_size
                    ));
                }
                slots
                    .entry((arena.base, s.offset))
                    .or_default()
                    .push((offset - s.offset) / s.slot_size);
            }
            None => pieces
                .entry(arena.base)
                .or_default()
                .push((offset, span, Piece::Block)),
        }
    }
    let stats = heap::stats();
    if stats.used_bytes + stats.free_bytes != stats.mapped_bytes {
        return Err(format!("stats do not add up: {stats:?}"));
    }
    if stats.live_blocks != live.len() {
        return Err(format!(
            "{} live blocks, heap says {}",
            live.len(),
            stats.live_blocks
        ));
    }
    let mut empty_slabs: BTreeMap<usize, usize> = BTreeMap::new();
    for arena in &arenas {
        let (bytes, blocks) = used.remove(&arena.base).unwrap_or_default();
        if bytes != arena.used || blocks != arena.live_blocks {
            return Err(format!(
                "arena {:#x}: blocks use {bytes} bytes in {blocks} blocks, arena says {} in {}",
                arena.base, arena.used, arena.live_blocks
            ));
        }
        let mut segments = pieces.remove(&arena.base).unwrap_or_default();
        for slab in &arena.slabs {
            segments.push((slab.offset, slab.slots * slab.slot_size, Piece::Slab));
            let mut taken = slots.remove(&(arena.base, slab.offset)).unwrap_or_default();
            taken.extend(&slab.free_slots);
            taken.sort_unstable();
            if taken != (0..slab.slots).collect::<Vec<_>>() {
                return Err(format!(
                    "arena {:#x}: the slots of the slab at {} are not its free slots and one \
                     live block each: {taken:?}",
                    arena.base, slab.offset
                ));
            }
            if slab.free_slots.len() == slab.slots {
                *empty_slabs.entry(slab.slot_size).or_default() += 1;
            }
        }
        segments.extend(
            arena
                .free
                .iter()
                .map(|&(start, len)| (start, len, Piece::Free)),
        );
        segments.sort();
        let mut end = 0;
        let mut prev_free = false;
        for &(start, len, piece) in &segments {
            if start != end {
                return Err(format!(
                    "arena {:#x} (size {}): {piece:?} at {start} after one ending at {end} ({})",
                    arena.base,
                    arena.size,
                    if start < end { "overlap" } else { "gap" }
                ));
            }
            if piece == Piece::Free && prev_free {
                return Err(format!(
                    "arena {:#x}: adjacent free ranges at {start}",
                    arena.base
                ));
            }
            prev_free = piece == Piece::Free;
            end = start + len;
        }
        if end != arena.size {
            return Err(format!(
                "arena {:#x}: segments end at {end} of {}",
                arena.base, arena.size
            ));
        }
    }
    if let Some((size, count)) = empty_slabs.iter().find(|&(_, &count)| count > 1) {
        return Err(format!("{count} empty slabs of {size}-byte slots kept"));
    }
    Ok(())
}

fn check_contents(live: &[Live]) -> Result<(), String> {
    for (i, l) in live.iter().enumerate() {
        if let Some(pos) = bytes(&l.block).iter().position(|&b| b != l.fill) {
            return Err(format!(
                "block {i} ({} bytes) changed at byte {pos}",
                l.block.len()
            ));
        }
    }
    Ok(())
}

fn run(ops: &[Op]) -> Result<(), String> {
    let mut live: Vec<Live> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc { len, align, count } => {
                for _ in 0..count {
                    let block = Block::alloc(len, align).map_err(|e| e.to_string())?;
                    if block.as_ptr() as usize % align != 0 {
                        return Err(format!("block of {len} bytes not aligned to {align}"));
                    }
                    if let Some(pos) = bytes(&block).iter().position(|&b| b != 0) {
                        return Err(format!("new block of {len} bytes not zeroed at byte {pos}"));
                    }
                    let fill = (step % 251) as u8 + 1;
                    // SAFETY: a fresh block of `len` bytes that only this thread knows.
                    unsafe { block.as_ptr().write_bytes(fill, len) };
                    live.push(Live { block, fill });
                }
            }
            Op::Free { pick, count } => {
                for i in 0..count {
                    if live.is_empty() {
                        break;
                    }
                    let l = live.swap_remove(pick.wrapping_add(i * 7919) % live.len());
                    check_contents(std::slice::from_ref(&l))?;
                }
            }
        }
        check_partition(&live).map_err(|e| format!("after step {step} ({op:?}): {e}"))?;
        if step % 16 == 0 {
            check_contents(&live)?;
        }
    }
    check_contents(&live)?;
    drop(live);
    let stats = heap::stats();
    if stats.live_blocks != 0 || stats.used_bytes != 0 {
        return Err(format!("leaked after freeing everything: {stats:?}"));
    }
    heap::trim();
    if !heap::snapshot().is_empty() {
        return Err(format!("arenas left after trim: {:?}", heap::stats()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_allocations_keep_the_heap_consistent(ops in prop::collection::vec(op(), 1..400)) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(msg) = run(&ops) {
            return Err(TestCaseError::fail(msg));
        }
    }
}

#[test]
fn the_hole_an_aligned_block_leaves_is_reused_for_the_next_one() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let page = heap::MAX_ALIGN;
    let mut blocks: Vec<Block> = (0..3).map(|_| Block::alloc(page, page).unwrap()).collect();
    let hole = blocks[1].as_ptr();
    drop(blocks.remove(1)); // a page-sized, page-aligned free range between two blocks
    let again = Block::alloc(page, page).unwrap();
    assert_eq!(again.as_ptr(), hole);
    drop((blocks, again));
    heap::trim();
    assert_eq!(heap::snapshot(), vec![]);
}

/// Open file descriptors of the shared heap (memfds named `sharedctypes-heap`); counting
/// only those keeps the test exact under tools that open descriptors of their own (valgrind).
fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("sharedctypes-heap"))
        .count()
}

/// Mappings of the shared heap (its memfds are named `sharedctypes-heap`).
fn count_maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("sharedctypes-heap"))
        .count()
}

#[test]
fn a_million_alloc_free_cycles_keep_fds_and_mappings_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (fds, maps) = (count_fds(), count_maps());
    let mut live: Vec<Block> = Vec::new();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut max_maps = 0;
    for i in 0..1_000_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if live.len() < 100 && (seed & 1 == 0 || live.is_empty()) {
            let len = match seed % 100 {
                0 => 1 << 20, // now and then a dedicated arena
                1..=9 => (seed >> 8) as usize % 65_536,
                _ => (seed >> 8) as usize % 512,
            };
            live.push(Block::alloc(len, 8).unwrap());
        } else {
            live.swap_remove((seed >> 16) as usize % live.len());
        }
        if i % 10_000 == 0 {
            let arenas = count_maps() - maps;
            max_maps = max_maps.max(maps + arenas);
            // Each arena keeps its memfd open (to be sent to other processes), no more.
            assert_eq!(count_fds() - fds, arenas, "descriptors and arenas disagree");
        }
    }
    drop(live);
    heap::trim();
    assert_eq!(count_fds(), fds);
    assert!(
        max_maps > maps,
        "the loop mapped no arena: the test measures nothing"
    );
    assert!(
        max_maps <= maps + 20,
        "mappings grew from {maps} to {max_maps} while at most 100 blocks were live"
    );
    assert_eq!(count_maps(), maps, "mappings left after freeing everything");
}
