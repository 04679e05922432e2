// The declared size must be the real one; the error names both numbers.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
#[shared(size = 24)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
