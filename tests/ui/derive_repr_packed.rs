// Packed fields can be misaligned, and shared memory is accessed atomically.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(packed)]
struct Header {
    tag: u8,
    len: u32,
}

fn main() {}
