// An `Arc<u64>` points to heap memory that is only valid in the process that allocated it.
use sharedctypes::SharedLayout;
use std::sync::Arc;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Message {
    id: u32,
    body: Arc<u64>,
}

fn main() {}
