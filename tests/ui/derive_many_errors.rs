// Every problem of one struct is reported in one compilation.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(align(8192))]
struct Everything<'a> {
    ptr: *const u8,
    flag: bool,
    letter: char,
    pair: (u8, u8),
    callback: fn(),
    name: &'a str,
    pub get: u32,
    #[shared(offset = 48)]
    place: u32,
}

fn main() {}
