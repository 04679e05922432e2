// A field of type `(i32, i32)` cannot live in shared memory.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Node {
    value: i32,
    next: (i32, i32),
}

fn main() {}
