// A `Box<[u8; 16]>` points to heap memory that is only valid in the process that allocated it.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Message {
    id: u32,
    body: Box<[u8; 16]>,
}

fn main() {}
