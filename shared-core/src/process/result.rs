//! What a child's closure returns, and how it becomes the child's exit code.

use core::any::Any;
use core::fmt;

/// What a child's closure may return: how it becomes the child's exit code (like
/// `std::process::Termination` for `main`).
///
/// - `()` → 0;
/// - `!` (a closure that never returns, e.g. a worker loop that is killed from outside);
/// - [`Exit(n)`](Exit) → `n` (the OS keeps the low 8 bits), like Python's `sys.exit(n)`;
/// - `Result<T, E>` for any `T` → 0 for `Ok(value)`: the value is dropped, as Python drops
///   what a target returns (`Ok(Exit(n))` → `n`); for `Err(e)`, 1 after printing
///   `Error: {e:?}` to stderr, and the parent reads the text from
///   [`Process::failure`](crate::Process::failure).
///
/// So `Process::start(|| counter.update(|v| v + 1))` is a child that exits 0, even though
/// `update` returns the new value (in a `Result`). A closure ending in a plain value (an
/// `i32`, a `Vec`) is refused at compile time: end it with `;` to drop the value, or return
/// [`Exit(n)`](Exit) for an exit code.
///
/// ```
/// use sharedctypes::{Exit, Process, Value};
/// let counter = Value::new(0i32)?;
/// let p = Process::start(|| counter.update(|v| v + 1))?; // Ok(1): exits 0
/// assert_eq!((p.join()?, counter.get()?), (0, 1));
/// let q = Process::start(|| Exit(3))?;
/// assert_eq!(q.join()?, 3);
/// let r = Process::start(|| -> Result<(), String> { Err("no input".into()) })?;
/// assert_eq!(r.join()?, 1);
/// assert_eq!(r.failure().as_deref(), Some("\"no input\""));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "a child process cannot end with a value of type `{Self}`",
    label = "the child's closure returns `{Self}` here",
    note = "a child's closure returns `()`, `Exit(n)`, or a `Result<T, E>` (`Ok(_)` exits 0, `Err(e)` exits 1 and the parent reads `{{e:?}}` from `Process::failure`)",
    note = "to drop the value, end the closure with `;` (`|| {{ counter.get_obj().update(|v| v + 1); }}`), or return `Exit(n)` for exit code `n`"
)]
pub trait ProcessResult {
    /// The exit code of the child.
    ///
    /// ```
    /// use sharedctypes::{Exit, ProcessResult};
    /// assert_eq!(().exit_code(), 0);
    /// assert_eq!(Exit(3).exit_code(), 3);
    /// assert_eq!(Ok::<Exit, String>(Exit(2)).exit_code(), 2);
    /// assert_eq!(Ok::<Vec<u8>, String>(vec![9]).exit_code(), 0); // the value is dropped
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

/// `Ok(value)` → 0 whatever the value (`Ok(Exit(n))` → `n`); `Err(e)` → 1, after printing
/// `Error: {e:?}` to stderr and reporting the text to the parent
/// ([`Process::failure`](crate::Process::failure)).
impl<T: 'static, E: fmt::Debug> ProcessResult for core::result::Result<T, E> {
    fn exit_code(self) -> i32 {
        match self {
            Ok(value) => match (&value as &dyn Any).downcast_ref::<Exit>() {
                Some(exit) => exit.0,
                None => 0,
            },
            Err(err) => {
                let text = format!("{err:?}");
                // Not `eprintln!`: in a forked child, std's stderr lock may have been held by
                // another thread of the parent at the moment of the fork.
                crate::os::fd::write_stderr_unlocked(format!("Error: {text}\n").as_bytes());
                super::failure::report(&text);
                1
            }
        }
    }
}
