// `offset` describes a field, not the struct.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
#[shared(offset = 0)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
