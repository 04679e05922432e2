//! What a child's closure returns, and how it becomes the child's exit code.

use core::fmt;

use crate::ctypes::{CBool, CChar, WChar};

/// What a child's closure may return: how it becomes the child's exit code (like
/// `std::process::Termination` for `main`).
///
/// - `()` → 0;
/// - `!` (a closure that never returns, e.g. a worker loop that is killed from outside);
/// - [`Exit(n)`](Exit) → `n` (the OS keeps the low 8 bits), like Python's `sys.exit(n)`;
/// - `Result<T, E>` → for `Ok(value)`, what the value gives (see [`OkValue`]): 0 for a plain
///   value, which is dropped as Python drops what a target returns, `n` for `Ok(Exit(n))`,
///   and a nested `Result` counts (`Ok(Err(e))` fails like `Err(e)`); for `Err(e)`, 1 after
///   printing `Error: {e:?}` to stderr, and the parent reads the text from
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
/// let nested = Process::start(|| counter.locked(|c| c.set(-1)).map(|_| Exit(5)))?;
/// assert_eq!(nested.join()?, 5);
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
    /// use sharedctypes::{Exit, process::ProcessResult};
    /// assert_eq!(().exit_code(), 0);
    /// assert_eq!(Exit(3).exit_code(), 3);
    /// assert_eq!(Ok::<Exit, String>(Exit(2)).exit_code(), 2);
    /// assert_eq!(Ok::<Vec<u8>, String>(vec![9]).exit_code(), 0); // the value is dropped
    /// assert_eq!(Ok::<Result<u8, &str>, String>(Err("inner")).exit_code(), 1);
    /// ```
    fn exit_code(self) -> i32;
}

/// What the `Ok` of a child's `Result` may hold, and the exit code it gives: 0 for a value
/// (dropped, as Python drops what a target returns); `n` for [`Exit(n)`](Exit); for a nested
/// `Result`, what it gives (so an error inside an `Ok`, as `arr.locked(|a| a.set(i, x))`
/// returns, still fails the child); for an `Option`, what `Some` holds, 0 for `None`.
///
/// Implemented for `()`, [`Exit`], the numbers, `bool`, `char`, `CChar`, `CBool`, `WChar`,
/// arrays of these, `String`, `&str`, `Vec<T>`, and `Option`/`Result` of these; implement it
/// for your own types (a derived struct, say), or map them away (`.map(drop)`).
///
/// ```
/// use sharedctypes::{Exit, process::OkValue};
/// assert_eq!(42u64.ok_code(), 0);
/// assert_eq!(Some(Exit(4)).ok_code(), 4);
/// assert_eq!(String::from("done").ok_code(), 0);
/// ```
#[diagnostic::on_unimplemented(
    message = "a child's `Ok` cannot hold a value of type `{Self}`",
    label = "the child's closure returns `Ok` of a `{Self}`",
    note = "`Ok` may hold `()`, `Exit(n)`, a number, `bool`, `char`, an array, `String`, `Vec`, or an `Option`/`Result` of these: it exits 0 (`Ok(Exit(n))`: n)",
    note = "map the value away (`.map(drop)`), or, for a type of your own, implement `sharedctypes::process::OkValue`"
)]
pub trait OkValue {
    /// The exit code of a child that returned `Ok(self)`.
    fn ok_code(self) -> i32;
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

/// `Ok(value)` → what the value gives ([`OkValue`]); `Err(e)` → 1, after printing
/// `Error: {e:?}` to stderr and, in a child, keeping the text for the parent
/// ([`Process::failure`](crate::Process::failure)).
impl<T: OkValue, E: fmt::Debug> ProcessResult for core::result::Result<T, E> {
    fn exit_code(self) -> i32 {
        match self {
            Ok(value) => value.ok_code(),
            Err(err) => {
                let text = format!("{err:?}");
                // Not `eprintln!`: in a forked child, std's stderr lock may have been held by
                // another thread of the parent at the moment of the fork.
                crate::os::fd::write_stderr_unlocked(format!("Error: {text}\n").as_bytes());
                super::failure::report(text);
                1
            }
        }
    }
}

/// Values that are dropped: exit code 0.
macro_rules! ok_values {
    ($($ty:ty),*) => {$(
        impl OkValue for $ty {
            fn ok_code(self) -> i32 {
                0
            }
        }
    )*};
}
ok_values!(
    (),
    String,
    &str,
    bool,
    char,
    i8,
    u8,
    i16,
    u16,
    i32,
    u32,
    i64,
    u64,
    i128,
    u128,
    isize,
    usize,
    f32,
    f64,
    CChar,
    CBool,
    WChar
);

impl<T: OkValue, const N: usize> OkValue for [T; N] {
    fn ok_code(self) -> i32 {
        0
    }
}

impl<T> OkValue for Vec<T> {
    fn ok_code(self) -> i32 {
        0
    }
}

impl OkValue for Exit {
    fn ok_code(self) -> i32 {
        self.0
    }
}

impl<T: OkValue> OkValue for Option<T> {
    fn ok_code(self) -> i32 {
        self.map_or(0, OkValue::ok_code)
    }
}

impl<T: OkValue, E: fmt::Debug> OkValue for core::result::Result<T, E> {
    fn ok_code(self) -> i32 {
        self.exit_code()
    }
}
