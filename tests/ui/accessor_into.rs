// `into()` on a view or a `Value` resolves to `Into::into` (every type has it) before an
// accessor taking `&self`, so a field named `into` (or `try_into`) is refused.
use sharedctypes::SharedLayout;

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Conversion {
    into: u32,
    try_into: u32,
}

fn main() {}
