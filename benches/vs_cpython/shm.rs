//! Issue 20's row: a CPython process attaches with `SharedMemory(name)` to a block of 1M
//! `f64` Rust made with `RawArray::create_shm`, wraps it with numpy (`np.ndarray` over
//! `shm.buf`: no copy) and copies it out (`np.copyto`), against a plain memcpy of the same
//! 8 MB in Rust. The block's name reaches `cpython.py` in `$SHAREDCTYPES_BENCH_SHM`.

use sharedctypes::RawArray;
use sharedctypes::named::Named;

use crate::cpython_side::CPython;
use crate::report::Row;

/// The environment variable that names the block for `cpython.py`.
pub const ENV: &str = "SHAREDCTYPES_BENCH_SHM";

/// Elements in the block.
const LEN: usize = 1_000_000;

/// The block CPython reads, `a[i] = i` (`cpython.py` checks the sum). Its handle removes the
/// name when it drops.
pub fn block() -> sharedctypes::Result<Named<RawArray<f64>>> {
    let name = format!("sharedctypes-bench-shm-{}", std::process::id());
    let a = RawArray::<f64>::create_shm(&name, LEN)?;
    let values: Vec<f64> = (0..LEN).map(|i| i as f64).collect();
    a.copy_from_slice(&values)?;
    Ok(a)
}

/// The row, from what `cpython.py` printed (`shm_numpy_*` keys) and a memcpy of 8 MB between
/// private buffers measured in this run (GB/s).
pub fn row(cpython: &CPython, memcpy: f64) -> Row {
    let get = |key: &str| cpython.get(key);
    let workload =
        "CPython + numpy reads 1M f64 of a Rust create_shm block (np.copyto) vs memcpy of 8 MB";
    match (
        get("shm_numpy_read"),
        get("shm_numpy_first_read"),
        get("shm_numpy_attach"),
    ) {
        (Some(read), Some(first), Some(attach)) => Row {
            workload,
            unit: "GB/s",
            rust: memcpy,
            cpython: Some(read),
            ratio: Some(memcpy / read),
            target: Some((
                format!(
                    "at memcpy speed, no copy on attach (>= 50%): {:.0}%; attach {attach:.0} µs, first read after it {first:.1} GB/s (page faults)",
                    100.0 * read / memcpy
                ),
                read >= 0.5 * memcpy,
            )),
        },
        _ => {
            let why = match cpython.text("shm_numpy_missing") {
                Some(note) => note.to_string(),
                None if cpython.is_empty() => "python3 not found".to_string(),
                None => "the CPython side did not measure it".to_string(),
            };
            Row {
                // One row per run: leaking its text is harmless.
                workload: Box::leak(
                    format!("CPython + numpy reads 1M f64 of a Rust create_shm block: not measured ({why}); memcpy of 8 MB").into_boxed_str(),
                ),
                unit: "GB/s",
                rust: memcpy,
                cpython: None,
                ratio: None,
                target: None,
            }
        }
    }
}
