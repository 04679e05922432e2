// A field of type `bool` cannot live in shared memory.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Node {
    value: i32,
    next: bool,
}

fn main() {}
