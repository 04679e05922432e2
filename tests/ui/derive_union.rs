// No process can know which field of a union another process wrote last.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
union IntOrFloat {
    i: i32,
    f: f32,
}

fn main() {}
