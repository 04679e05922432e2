// An unknown #[shared] key is refused, and the error lists the valid keys.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
#[shared(foo = 1)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
