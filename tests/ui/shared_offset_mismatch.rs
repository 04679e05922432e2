// The declared offset must be the real one; the error names the field and both numbers.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Sample {
    id: u8,
    x: f64,
    #[shared(offset = 8)]
    y: f64,
}

fn main() {}
