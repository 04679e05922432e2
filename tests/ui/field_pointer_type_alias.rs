// A pointer hidden behind a type alias escapes the syntactic check, but not the trait bound.
use sharedctypes::SharedLayout;

type P = *const u8;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Buffer {
    len: usize,
    data: P,
}

fn main() {}
