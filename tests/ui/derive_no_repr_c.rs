// Without #[repr(C)] the field order and offsets are unspecified.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
