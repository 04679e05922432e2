// A field named `get` would make an accessor that collides with the view's own `get()`.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Counter {
    get: u64,
    put: u64,
}

fn main() {}
