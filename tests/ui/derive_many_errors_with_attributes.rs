// Errors in #[shared(...)] attributes and errors in the struct itself are reported together.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[shared(foo = 1, size = 32)]
struct Everything {
    #[shared(offset = 0, bar = 2)]
    ptr: *const u8,
    flag: bool,
}

fn main() {}
