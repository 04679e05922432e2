//! The reference program with the `spawn` start method: CPython's
//! `get_context('spawn').Process(target=modify, args=(n, x, s, A))`.
//!
//! The child is a fresh process of this executable — not a fork of this one — that receives
//! the shared objects as `modify`'s arguments and changes them in place; the parent prints
//! exactly what `point_modifier` prints:
//!
//! ```text
//! 49
//! 0.1111111111111111
//! HELLO WORLD
//! [(3.515625, 39.0625), (33.0625, 4.0), (5.640625, 90.25)]
//! ```
//!
//! Run it with `cargo run --example point_modifier_spawn`.

use sharedctypes::ctypes::{c_char, c_double, c_int};
use sharedctypes::{Array, CChar, Lock, Process, RawValue, Result, SharedLayout, Value};

/// `class Point(Structure): _fields_ = [('x', c_double), ('y', c_double)]`
#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Point {
    x: c_double,
    y: c_double,
}

/// The child's work (`def modify(n, x, s, A)` in Python): the objects arrive by value, and
/// are the parent's objects (the same shared memory, the same lock).
fn modify(
    n: Value<c_int>,
    x: RawValue<c_double>,
    s: Array<c_char, Lock>,
    a: Array<Point, Lock>,
) -> Result<()> {
    n.update(|n| n * n)?; // n.value **= 2
    x.update(|x| x * x); // x.value **= 2
    s.set_value(&s.value()?.to_ascii_uppercase())?; // s.value = s.value.upper()
    for p in 0..a.len() {
        // for a in A: a.x **= 2; a.y **= 2
        let p = a.at(p);
        p.set_x(p.x().powi(2));
        p.set_y(p.y().powi(2));
    }
    Ok(())
}

fn main() -> Result<()> {
    let lock = Lock::new()?;

    let n = Value::new(7)?;
    let x = RawValue::<c_double>::new(1.0 / 3.0)?;
    let s = Array::with_lock(&b"hello world".map(CChar), lock.clone())?;
    let a = Array::with_lock(
        &[
            Point { x: 1.875, y: -6.25 },
            Point { x: -5.75, y: 2.0 },
            Point { x: 2.375, y: 9.5 },
        ],
        lock.clone(),
    )?;

    let p = Process::spawn(modify, (&n, &x, &s, &a))?;
    let exitcode = p.join()?;
    assert_eq!(exitcode, 0, "the child failed");

    println!("{}", n.get()?);
    println!("{}", x.get());
    println!("{}", String::from_utf8_lossy(&s.value()?));
    let points: Vec<String> = a
        .to_vec()?
        .iter()
        .map(|p| format!("({:?}, {:?})", p.x, p.y))
        .collect();
    println!("[{}]", points.join(", "));
    Ok(())
}
