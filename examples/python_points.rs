//! Rust and Python on one array, under one lock: Rust creates the named `Array<Point>` of
//! the reference program, a Python script (`examples/square_points.py`, using the pure-Python
//! module in `python/`) squares every point under the array's lock, and Rust prints them:
//!
//! ```console
//! $ cargo run --example python_points
//! [(3.515625, 39.0625), (33.0625, 4.0), (5.640625, 90.25)]
//! ```

use std::process::Command;

use sharedctypes::{Array, Lock, SharedLayout};

#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

fn main() -> sharedctypes::Result<()> {
    let name = format!("sharedctypes-example-points-{}", std::process::id());
    let a = Array::<Point, Lock>::create_named(
        &name,
        &[
            Point { x: 1.875, y: -6.25 },
            Point { x: -5.75, y: 2.0 },
            Point { x: 2.375, y: 9.5 },
        ],
    )?;

    let dir = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("python3")
        .env("PYTHONPATH", format!("{dir}/python"))
        .arg(format!("{dir}/examples/square_points.py"))
        .arg(&name)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "the Python script failed");

    let points: Vec<String> = a
        .to_vec()?
        .iter()
        .map(|p| format!("({:?}, {:?})", p.x, p.y))
        .collect();
    println!("[{}]", points.join(", "));
    Ok(())
}
