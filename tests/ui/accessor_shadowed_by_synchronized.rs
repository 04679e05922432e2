// A field named like a method of `Synchronized` (`lock`, `update`, `get_lock`, ...) would get
// a locked accessor that `Value<Door>` never reaches (the inherent method wins over `Deref`),
// so the derive refuses it at the definition.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Door {
    lock: u32,
    open: u32,
}

fn main() {}
