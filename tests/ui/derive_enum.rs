// A byte written by another process may be an invalid discriminant.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(u8)]
enum Color {
    Red,
    Green,
    Blue,
}

fn main() {}
