// A `Rc<u64>` points to heap memory that is only valid in the process that allocated it.
use sharedctypes::SharedLayout;
use std::rc::Rc;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Message {
    id: u32,
    body: Rc<u64>,
}

fn main() {}
