// A field of type `*const Node` cannot live in shared memory.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Node {
    value: i32,
    next: *const Node,
}

fn main() {}
