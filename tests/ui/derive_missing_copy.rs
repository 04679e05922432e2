// SharedLayout values move in and out of shared memory by copy.
use sharedctypes::SharedLayout;

#[derive(Clone, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
