//! A Rust producer feeds a Python consumer through a named [`Queue`] of 64-byte records, and
//! a named [`Event`] tells it the producer is done (`examples/python_queue_consumer.py`,
//! which imports the pure-Python package in `python/`).
//!
//! ```console
//! $ cargo run --example python_queue_consumer
//! rust: sent 100000 readings through a queue of 1024
//! python: 100000 readings (Reading), in order, sum of values[0] = 2.49998e+09
//! ```
//!
//! `SHAREDCTYPES_PYTHON=/path/to/python3` chooses the interpreter (default `python3`, 3.9 or
//! later). Without one, the example says so and exits successfully.

use std::process::Command;

use sharedctypes::{Event, Queue, SharedLayout};

/// One sensor reading: 64 bytes, the same `ctypes` structure on the Python side.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Reading {
    seq: u64,
    sensor: u32,
    flags: u32,
    values: [f64; 6],
}

fn main() -> sharedctypes::Result<()> {
    let python = std::env::var("SHAREDCTYPES_PYTHON").unwrap_or_else(|_| "python3".into());
    let usable = Command::new(&python)
        .args(["-c", "import sys; assert sys.version_info >= (3, 9)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !usable {
        println!(
            "{python} (3.9 or later) was not found: nothing to run (set SHAREDCTYPES_PYTHON to choose one)"
        );
        return Ok(());
    }

    let id = std::process::id();
    let readings =
        Queue::<Reading>::create_named(&format!("sharedctypes-example-readings-{id}"), 1024)?;
    let done = Event::create_named(&format!("sharedctypes-example-done-{id}"))?;
    let mut consumer = Command::new(&python)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/python_queue_consumer.py"
        ))
        .args([readings.name(), done.name()])
        .spawn()
        .expect("python runs");

    let n = 100_000u64;
    let sent = (|| -> sharedctypes::Result<()> {
        for seq in 0..n {
            let x = seq as f64 / 2.0;
            readings.put(Reading {
                seq,
                sensor: (seq % 4) as u32,
                flags: 0,
                values: [x, x + 1.0, x + 2.0, x + 3.0, x + 4.0, x + 5.0],
            })?; // waits while the queue is full
        }
        Ok(())
    })();
    if sent.is_ok() {
        println!(
            "rust: sent {n} readings through a queue of {}",
            readings.capacity()
        );
    }
    done.set();
    let status = consumer.wait().expect("python ends");
    sent?;
    if !status.success() {
        eprintln!("the Python consumer failed ({status})");
        std::process::exit(1);
    }
    Ok(()) // the named objects drop: their names are removed
}
