//! Size classes: the spans small blocks are rounded up to, and the shape of the slabs that
//! hold each class.
//!
//! Every multiple of [`GRANULE`] up to 256 bytes is a class of its own, so the usual small
//! objects (a scalar, a lock cell, a short array or struct) occupy exactly their size rounded
//! up to 8 bytes, as they did under the best-fit allocator. From 256 bytes to [`SMALL_MAX`]
//! there are four classes per doubling (320, 384, 448, 512, 640, 768, 896, 1024): a block
//! there wastes less than a quarter of its size, and the heap keeps 40 classes, each with at
//! most one partly used slab that other classes cannot use.
//!
//! Why classes stop at 1 KiB: the best-fit search they save costs about 150 ns per
//! allocation and free, which is most of the cost of a small object but little beside what a
//! bigger one costs anyway: clearing it when it is freed, and faulting in its fresh pages
//! when it is first written (about 3 µs per 4 KiB page on the development machine). Bigger
//! classes would add waste instead (up to a quarter of each block, and for each class a
//! partly used slab of 16 KiB or more that no other class can use).

use super::{GRANULE, MAX_ALIGN};

/// Blocks with a span up to this many bytes are allocated from size classes; bigger ones
/// from the best-fit layer.
pub(super) const SMALL_MAX: usize = 1024;

/// Up to this span every multiple of [`GRANULE`] is a class.
const EXACT_MAX: usize = 256;

/// Number of size classes.
pub(super) const CLASSES: usize = EXACT_MAX / GRANULE + 8;

/// The slot size of each class, ascending.
pub(super) const SIZE: [usize; CLASSES] = sizes();

/// Slots of one slab of each class: at least 4 KiB of slots, and at least 16 of them.
pub(super) const SLOTS: [usize; CLASSES] = slots();

/// The most slots a slab has (those of the 8-byte class).
pub(super) const MAX_SLOTS: usize = 512;

/// The class of each span `8 * (i + 1)` up to [`SMALL_MAX`], at index `i`.
const CLASS_OF: [u8; SMALL_MAX / GRANULE] = class_table();

const fn sizes() -> [usize; CLASSES] {
    let mut sizes = [0; CLASSES];
    let mut i = 0;
    while i < EXACT_MAX / GRANULE {
        sizes[i] = (i + 1) * GRANULE;
        i += 1;
    }
    // Four per doubling above EXACT_MAX.
    let mut doubling = EXACT_MAX;
    while doubling < SMALL_MAX {
        let mut k = 1;
        while k <= 4 {
            sizes[i] = doubling + k * doubling / 4;
            i += 1;
            k += 1;
        }
        doubling *= 2;
    }
    assert!(i == CLASSES && sizes[CLASSES - 1] == SMALL_MAX);
    sizes
}

const fn slots() -> [usize; CLASSES] {
    let mut slots = [0; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        let per_page = MAX_ALIGN / SIZE[c];
        slots[c] = if per_page > 16 { per_page } else { 16 };
        assert!(slots[c] <= MAX_SLOTS);
        c += 1;
    }
    assert!(slots[0] == MAX_SLOTS);
    slots
}

const fn class_table() -> [u8; SMALL_MAX / GRANULE] {
    let mut table = [0; SMALL_MAX / GRANULE];
    let mut i = 0;
    let mut c = 0;
    while i < table.len() {
        while SIZE[c] < (i + 1) * GRANULE {
            c += 1;
        }
        table[i] = c as u8;
        i += 1;
    }
    table
}

/// The class for a block of `span` bytes (a multiple of [`GRANULE`]) aligned to `align` (a
/// power of two, at least [`GRANULE`]): the smallest class at least that big whose slot size
/// is a multiple of `align` (every slot of such a class is aligned to it, see
/// [`slab_align`]). `None` if the block is too big for a class.
#[inline]
pub(super) fn fitting(span: usize, align: usize) -> Option<usize> {
    if span > SMALL_MAX {
        return None;
    }
    if align == GRANULE {
        return Some(usize::from(CLASS_OF[span / GRANULE - 1]));
    }
    let span = span.next_multiple_of(align);
    if span > SMALL_MAX {
        return None;
    }
    let first = usize::from(CLASS_OF[span / GRANULE - 1]);
    (first..CLASSES).find(|&c| SIZE[c] % align == 0)
}

/// Bytes of one slab of `class`.
pub(super) const fn slab_bytes(class: usize) -> usize {
    SIZE[class] * SLOTS[class]
}

/// The alignment of a slab of `class` in its arena: the largest power of two dividing the
/// slot size (at most [`MAX_ALIGN`]), so that every slot is aligned to it too.
pub(super) const fn slab_align(class: usize) -> usize {
    let low = 1 << SIZE[class].trailing_zeros();
    if low < MAX_ALIGN { low } else { MAX_ALIGN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_exact_to_256_then_four_per_doubling() {
        assert_eq!(&SIZE[..4], &[8, 16, 24, 32]);
        assert_eq!(SIZE[6], 56);
        assert_eq!(SIZE[31], 256);
        assert_eq!(&SIZE[32..], &[320, 384, 448, 512, 640, 768, 896, 1024]);
    }

    #[test]
    fn a_span_gets_the_smallest_class_that_holds_it() {
        assert_eq!(fitting(8, 8).map(|c| SIZE[c]), Some(8));
        assert_eq!(fitting(56, 8).map(|c| SIZE[c]), Some(56));
        assert_eq!(fitting(256, 8).map(|c| SIZE[c]), Some(256));
        assert_eq!(fitting(264, 8).map(|c| SIZE[c]), Some(320));
        assert_eq!(fitting(520, 8).map(|c| SIZE[c]), Some(640));
        assert_eq!(fitting(1024, 8).map(|c| SIZE[c]), Some(1024));
        assert_eq!(fitting(1032, 8), None);
    }

    #[test]
    fn aligned_blocks_get_a_class_whose_slots_are_aligned() {
        assert_eq!(fitting(8, 64).map(|c| SIZE[c]), Some(64));
        assert_eq!(fitting(104, 64).map(|c| SIZE[c]), Some(128));
        assert_eq!(fitting(264, 128).map(|c| SIZE[c]), Some(384));
        assert_eq!(fitting(520, 256).map(|c| SIZE[c]), Some(768));
        assert_eq!(fitting(8, 1024).map(|c| SIZE[c]), Some(1024));
        assert_eq!(fitting(8, 2048), None);
        for (c, size) in SIZE.iter().enumerate() {
            assert_eq!(size % slab_align(c), 0);
        }
        assert_eq!(
            (slab_align(6), slab_align(7), slab_align(39)),
            (8, 64, 1024)
        );
    }

    #[test]
    fn slabs_hold_at_least_a_page_and_16_slots() {
        assert_eq!((SLOTS[0], slab_bytes(0)), (512, 4096));
        assert_eq!((SLOTS[6], slab_bytes(6)), (73, 4088));
        assert_eq!((SLOTS[39], slab_bytes(39)), (16, 16384));
    }
}
