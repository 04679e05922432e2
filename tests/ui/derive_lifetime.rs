// A lifetime parameter means a reference, valid only in the process that created it.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Borrowed<'a> {
    data: &'a [u8; 4],
}

fn main() {}
