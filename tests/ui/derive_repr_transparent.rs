// #[repr(transparent)] is not the C struct layout.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(transparent)]
struct Meters(f64);

fn main() {}
