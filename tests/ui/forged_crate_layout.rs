// `#[shared(crate = "...")]` cannot forge the layout the generated unsafe code relies on: the
// offsets come from `::core::mem::offset_of!`, and a forged `c_struct_layout` that disagrees
// with them fails the compile-time layout check.
use sharedctypes::SharedLayout;

mod forged {
    pub mod __private {
        pub use sharedctypes::__private::*;
        pub const fn c_struct_layout<const N: usize>(
            fields: [(usize, usize); N],
            min_align: usize,
        ) -> sharedctypes::layout::CStructLayout<N> {
            let real = sharedctypes::layout::c_struct_layout(fields, min_align);
            sharedctypes::layout::CStructLayout {
                offsets: [4096; N],
                size: real.size,
                align: real.align,
            }
        }
    }
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
#[shared(crate = "forged")]
struct Victim {
    a: u64,
    b: u64,
}

fn main() {}
