//! Rust fills an array, plain CPython computes on it with numpy, without a copy and without
//! importing anything of ours: `RawArray::<f64>::create_shm` makes a POSIX shared-memory
//! block with no header, which CPython's `multiprocessing.shared_memory.SharedMemory(name)`
//! attaches to and `np.ndarray((n,), np.float64, buffer=shm.buf)` wraps
//! (`examples/numpy_from_rust.py`; without numpy it uses a `memoryview` of doubles).
//!
//! ```console
//! $ cargo run --example numpy_from_rust
//! rust: created /dev/shm/sharedctypes-example-numpy-4242: 1000000 f64 (8000000 bytes), a[i] = i
//! python (numpy 2.4.6): 1000000 elements, sum 499999500000, max 999999; squared them in place
//! rust: a[3] = 9, a[999999] = 999998000001
//! ```
//!
//! `SHAREDCTYPES_PYTHON=/path/to/python3` chooses the interpreter (default `python3`, 3.8 or
//! later). Without one, the example says so and exits successfully.
//!
//! The script attaches with `SharedMemory(name, track=False)` from Python 3.13, and before
//! that unregisters the block from its resource tracker, which would otherwise unlink it when
//! the script exits (CPython gh-82300). The Rust handle removes the name when it drops.

use std::process::Command;

use sharedctypes::RawArray;

fn main() -> sharedctypes::Result<()> {
    let python = std::env::var("SHAREDCTYPES_PYTHON").unwrap_or_else(|_| "python3".into());
    let usable = Command::new(&python)
        .args(["-c", "import multiprocessing.shared_memory"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !usable {
        println!(
            "{python} (3.8 or later, with multiprocessing.shared_memory) was not found: nothing to run (set SHAREDCTYPES_PYTHON to choose one)"
        );
        return Ok(());
    }

    let n = 1_000_000;
    let name = format!("sharedctypes-example-numpy-{}", std::process::id());
    let a = RawArray::<f64>::create_shm(&name, n)?;
    let values: Vec<f64> = (0..n).map(|i| i as f64).collect();
    a.copy_from_slice(&values)?;
    println!(
        "rust: created /dev/shm/{name}: {n} f64 ({} bytes), a[i] = i",
        n * size_of::<f64>()
    );

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/numpy_from_rust.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(a.name())
        .output()
        .expect("python runs");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        eprintln!("the Python script failed ({})", out.status);
        std::process::exit(1);
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));

    println!(
        "rust: a[3] = {}, a[{}] = {}",
        a.get(3).unwrap(),
        n - 1,
        a.get(n - 1).unwrap()
    );
    Ok(()) // `a` drops: the name is removed
}
