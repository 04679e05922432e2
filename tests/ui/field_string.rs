// A `String` points to heap memory that is only valid in the process that allocated it.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Message {
    id: u32,
    body: String,
}

fn main() {}
