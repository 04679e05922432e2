// #[repr(C, packed)] is refused too, even though it has the C field order.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C, packed)]
struct Header {
    tag: u8,
    len: u32,
}

fn main() {}
