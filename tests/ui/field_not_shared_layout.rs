// No syntactic check catches `Duration`: the trait bound does, with its own message.
use sharedctypes::SharedLayout;
use std::time::Duration;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Job {
    id: u32,
    timeout: Duration,
}

fn main() {}
