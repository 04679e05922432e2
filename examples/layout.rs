//! Prints what `#[derive(SharedLayout)]` knows about a struct: its pahole-style layout table,
//! the equivalent C declaration and the equivalent Python `ctypes.Structure`.
//!
//! Run it with `cargo run --example layout`.

use sharedctypes::ctypes::{c_double, c_int, c_longlong};
use sharedctypes::{CChar, SharedLayout};

/// The reference program's point.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
#[shared(size = 16, align = 8)]
struct Point {
    x: c_double,
    y: c_double,
}

/// CPython's test struct `_Foo`: a hole after `x`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Foo {
    x: c_int,
    y: c_double,
    z: c_longlong,
}

/// Nesting, a char array and trailing padding.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(16))]
struct Particle {
    pos: Point,
    id: u32,
    tag: [CChar; 3],
}

fn main() {
    println!("{}\n", Point::LAYOUT);
    println!("{}\n", Foo::LAYOUT);
    println!("{}\n", Particle::LAYOUT);
    println!("{}", Particle::LAYOUT.to_c());
    println!("{}", Particle::LAYOUT.to_ctypes());
}
