// A field of type `&'static i32` cannot live in shared memory.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Node {
    value: i32,
    next: &'static i32,
}

fn main() {}
