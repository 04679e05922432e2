// The layout is proven once, at compile time: it must not depend on a type parameter.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

fn main() {}
