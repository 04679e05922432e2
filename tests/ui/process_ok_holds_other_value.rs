// A child's `Ok` may hold plain values (dropped: exit 0), but not any type at all: the error
// lists what it may hold and how to map the value away.
use std::collections::HashMap;

use sharedctypes::{Error, Process};

fn main() {
    let child = Process::start(|| Ok::<_, Error>(HashMap::<u8, u8>::new())).unwrap();
    child.join().unwrap();
}
