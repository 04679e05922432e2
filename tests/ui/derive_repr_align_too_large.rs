// The shared heap aligns to at most one page (4096 bytes).
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(8192))]
struct Huge {
    x: u64,
}

fn main() {}
