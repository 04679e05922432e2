//! The C rules for laying out a struct, as `const fn`s the derive uses to check, at compile
//! time, that `#[repr(C)]` produced exactly what a C compiler would.

/// Offsets, size and alignment of a C struct, computed by [`c_struct_layout`].
///
/// ```
/// use sharedctypes::layout::{CStructLayout, c_struct_layout};
/// // struct { char tag; int value; } with _Alignas(16)
/// let l: CStructLayout<2> = c_struct_layout([(1, 1), (4, 4)], 16);
/// assert_eq!(l, CStructLayout { offsets: [0, 4], size: 16, align: 16 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CStructLayout<const N: usize> {
    /// Offset of each field.
    pub offsets: [usize; N],
    /// Size of the struct, trailing padding included.
    pub size: usize,
    /// Alignment of the struct.
    pub align: usize,
}

/// Lays out fields of the given `(size, align)` the way C does: each field at the next offset
/// that is a multiple of its alignment, the struct aligned to its most aligned field (or to
/// `min_align`, from `#[repr(align(N))]`, if larger), its size rounded up to its alignment.
///
/// ```
/// use sharedctypes::layout::c_struct_layout;
/// // struct { int x; double y; long long z; }
/// let l = c_struct_layout([(4, 4), (8, 8), (8, 8)], 1);
/// assert_eq!((l.offsets, l.size, l.align), ([0, 8, 16], 24, 8));
/// ```
pub const fn c_struct_layout<const N: usize>(
    fields: [(usize, usize); N],
    min_align: usize,
) -> CStructLayout<N> {
    let mut offsets = [0; N];
    let mut align = if min_align > 1 { min_align } else { 1 };
    let mut end: usize = 0;
    let mut i = 0;
    while i < N {
        let (size, field_align) = fields[i];
        offsets[i] = end.next_multiple_of(field_align);
        end = offsets[i] + size;
        if field_align > align {
            align = field_align;
        }
        i += 1;
    }
    CStructLayout {
        offsets,
        size: end.next_multiple_of(align),
        align,
    }
}
