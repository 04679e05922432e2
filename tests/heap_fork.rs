//! The shared heap across `fork`: a child never allocates from the free space of arenas its
//! parent allocates from, inherited objects stay valid and shared, and every new object
//! starts zeroed.

use sharedctypes::heap::{self, Block};
use sharedctypes::{Process, RawArray, RawValue};

mod common;
mod quiet;
use common::wait_for;
use quiet::{alone, beside_others};

/// A value unique to (side, index): parent objects and child objects never hold each other's.
fn pattern(side: u64, i: usize) -> u64 {
    (side << 56) | (i as u64 * 0x9E37_79B9) & 0x00FF_FFFF_FFFF_FFFF
}

fn fill(side: u64, count: usize) -> Vec<RawArray<u64>> {
    (0..count)
        .map(|i| {
            // Mixed sizes so that both small and medium free ranges are exercised.
            let arr = RawArray::<u64>::zeroed(1 + i % 37).unwrap();
            assert!(arr.iter().all(|x| x == 0), "new object {i} is not zeroed");
            arr.fill(pattern(side, i));
            arr
        })
        .collect()
}

fn intact(objects: &[RawArray<u64>], side: u64) -> bool {
    objects
        .iter()
        .enumerate()
        .all(|(i, arr)| arr.iter().all(|x| x == pattern(side, i)))
}

#[test]
fn parent_and_child_allocate_without_disturbing_each_other() {
    let _quiet = beside_others();
    const PARENT: u64 = 1;
    const CHILD: u64 = 2;
    // Some objects before the fork, with free space left behind in the same arena.
    let before = fill(PARENT, 200);
    let freed: Vec<_> = fill(PARENT, 200);
    drop(freed);
    let step = RawValue::new(0u32).unwrap();

    let child = Process::start(|| {
        // The child starts with an empty heap of its own.
        assert_eq!(heap::stats().live_blocks, 0);
        let mine = fill(CHILD, 5_000);
        step.set(1);
        wait_for(&step, 2); // the parent allocates and writes meanwhile
        assert!(intact(&mine, CHILD), "child objects were overwritten");
        assert!(intact(&before, PARENT), "inherited objects changed");
        // Inherited objects are shared: a write here is seen by the parent.
        before[0].set(0, 42).unwrap();
        // Dropping an inherited object in the child does not free it in any heap.
        let inherited_view = before[1].get(0);
        assert_eq!(inherited_view, Some(pattern(PARENT, 1)));
    })
    .unwrap();

    wait_for(&step, 1);
    let after = fill(PARENT, 5_000);
    step.set(2);
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(before[0].get(0), Some(42));
    before[0].set(0, pattern(PARENT, 0)).unwrap();
    assert!(intact(&before, PARENT));
    assert!(intact(&after, PARENT), "parent objects were overwritten");
}

#[test]
fn blocks_dropped_in_a_child_are_not_freed() {
    let _quiet = beside_others();
    let value = RawValue::new(7u64).unwrap();
    let child = Process::start(move || {
        drop(value); // the child's copy: not owned by the child's heap
        let fresh = RawValue::new(0u64).unwrap();
        assert_eq!(fresh.get(), 0);
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
}

#[test]
fn every_block_starts_zeroed_even_when_reused() {
    let _quiet = beside_others();
    for round in 0..50 {
        let blocks: Vec<Block> = (1..64).map(|n| Block::alloc(n * 24, 8).unwrap()).collect();
        for b in &blocks {
            // SAFETY: a fresh block of this process, `len` bytes, not shared with anyone yet.
            let bytes = unsafe { std::slice::from_raw_parts(b.as_ptr(), b.len()) };
            assert!(
                bytes.iter().all(|&x| x == 0),
                "round {round}: block not zeroed"
            );
            // SAFETY: as above; nothing else refers to the block.
            unsafe { b.as_ptr().write_bytes(0xAB, b.len()) };
        }
    }
}

#[test]
fn big_objects_get_their_own_arena_and_are_unmapped_on_drop() {
    let _quiet = alone();
    let big = RawArray::<u8>::zeroed(8 << 20).unwrap();
    let addr = big.as_ptr() as usize;
    let arena = heap::snapshot()
        .into_iter()
        .find(|a| a.base == addr)
        .expect("a big object starts its own arena");
    assert!(arena.dedicated);
    assert_eq!(arena.size, 8 << 20);
    big.set(big.len() - 1, 7).unwrap();
    drop(big);
    assert!(heap::snapshot().iter().all(|a| a.base != addr));
}

#[test]
fn alignment_up_to_a_page() {
    let _quiet = beside_others();
    let mut align = 1;
    while align <= heap::MAX_ALIGN {
        let blocks: Vec<Block> = (0..5).map(|_| Block::alloc(3, align).unwrap()).collect();
        for b in &blocks {
            assert_eq!(b.as_ptr() as usize % align.max(8), 0, "alignment {align}");
        }
        align *= 2;
    }
}
