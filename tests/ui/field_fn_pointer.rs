// A field of type `fn(i32) -> i32` cannot live in shared memory.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Node {
    value: i32,
    next: fn(i32) -> i32,
}

fn main() {}
