//! What a child's closure returns, and how it becomes the child's exit code.

use core::fmt;

/// What a child's closure may return: how it becomes the child's exit code (like
/// `std::process::Termination` for `main`).
///
/// - `()` → 0;
/// - `!` (a closure that never returns, e.g. a worker loop that is killed from outside);
/// - [`Exit(n)`](Exit) → `n` (the OS keeps the low 8 bits), like Python's `sys.exit(n)`;
/// - `Result<T, E>` → `T`'s code, or 1 after printing `Error: {e:?}` to stderr.
///
/// ```
/// use sharedctypes::{Exit, Process};
/// let p = Process::start(|| Exit(3))?;
/// assert_eq!(p.join()?, 3);
/// let q = Process::start(|| -> Result<(), String> { Err("no input".into()) })?;
/// assert_eq!(q.join()?, 1);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait ProcessResult {
    /// The exit code of the child.
    ///
    /// ```
    /// use sharedctypes::{Exit, ProcessResult};
    /// assert_eq!(().exit_code(), 0);
    /// assert_eq!(Exit(3).exit_code(), 3);
    /// assert_eq!(Ok::<Exit, String>(Exit(2)).exit_code(), 2);
    /// ```
    fn exit_code(self) -> i32;
}

/// An explicit exit code for a child process (Python's `sys.exit(n)`); see [`ProcessResult`].
///
/// ```
/// use sharedctypes::{Exit, Process, RawArray};
/// let data = RawArray::from_slice(&[3, -1, 4])?;
/// let check = Process::start(|| Exit(data.iter().filter(|&x| x < 0).count() as i32))?;
/// assert_eq!(check.join()?, 1); // one negative number
/// let wrapped = Process::start(|| Exit(256 + 7))?;
/// assert_eq!(wrapped.join()?, 7); // the OS keeps the low 8 bits
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

impl ProcessResult for () {
    fn exit_code(self) -> i32 {
        0
    }
}

/// Names the never type `!` on stable Rust (`<fn() -> ! as Ret>::Output`), so that a child
/// whose closure never returns (a worker loop that is killed from outside) is accepted.
mod never {
    pub trait Ret {
        type Output;
    }
    impl<R> Ret for fn() -> R {
        type Output = R;
    }
    pub type Never = <fn() -> ! as Ret>::Output;
}

/// A closure that never returns (`|| loop { .. }`).
impl ProcessResult for never::Never {
    fn exit_code(self) -> i32 {
        self
    }
}

impl ProcessResult for Exit {
    fn exit_code(self) -> i32 {
        self.0
    }
}

impl<T: ProcessResult, E: fmt::Debug> ProcessResult for core::result::Result<T, E> {
    fn exit_code(self) -> i32 {
        match self {
            Ok(value) => value.exit_code(),
            Err(err) => {
                // Not `eprintln!`: in a forked child, std's stderr lock may have been held by
                // another thread of the parent at the moment of the fork.
                let text = format!("Error: {err:?}\n");
                crate::os::fd::write_stderr_unlocked(text.as_bytes());
                1
            }
        }
    }
}
