//! sharedctypes inside a shared library (a `cdylib`) that another program loads, here
//! `python3` through `ctypes`: `Process::spawn` refuses at once, saying why, instead of
//! starting a fresh copy of the *running executable* (which is `python3`, not the library)
//! as its fork server. Start such children with `Process::command` instead.
//!
//! ```console
//! $ cargo build --example spawn_from_library
//! $ python3 -c 'import ctypes
//! lib = ctypes.CDLL("target/debug/examples/libspawn_from_library.so")
//! out = ctypes.create_string_buffer(4096)
//! lib.sharedctypes_try_spawn(out, 4096)
//! print(out.value.decode())'
//! could not spawn: the function lies in `…/libspawn_from_library.so`, which is not the running executable (`python3`): …
//! ```

use sharedctypes::{Process, RawValue};

fn bump(v: RawValue<u32>) {
    v.update(|n| n + 1);
}

/// Tries to spawn `bump`; writes what happened into `out` (at most `len` bytes, NUL
/// included) and returns 0 if the spawn was refused, 1 if it ran.
///
/// # Safety
/// `out` must be valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sharedctypes_try_spawn(out: *mut u8, len: usize) -> i32 {
    let (code, text) = match RawValue::new(0u32).and_then(|v| Process::spawn(bump, (&v,))?.join()) {
        Ok(exit) => (1, format!("spawned, exit code {exit}")),
        Err(e) => (0, e.to_string()),
    };
    let n = text.len().min(len.saturating_sub(1));
    if len > 0 {
        // SAFETY: `out` is valid for `len` bytes (the caller's contract) and `n < len`; the
        // text is a separate allocation, so the two ranges do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), out, n) };
        // SAFETY: as above; `n < len`, so the terminating NUL is in bounds too.
        let end = unsafe { out.add(n) };
        // SAFETY: `end` lies inside the `len` bytes the caller gave.
        unsafe { end.write(0) };
    }
    code
}
