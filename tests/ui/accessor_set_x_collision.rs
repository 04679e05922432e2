// Field `x` generates `set_x()`, which a field named `set_x` would generate as its getter.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    set_x: f64,
}

fn main() {}
