//! `Debug` and `Display` of synchronized objects: their values, read under the lock if it is
//! free now, never the lock's address; `<locked>` when it is not (so printing an object whose
//! lock this thread holds cannot deadlock).

use core::fmt;

use super::Synchronized;
use crate::access::SharedLayout;
use crate::array::RawArray;
use crate::lock::{LockGuard, SharedLock};
use crate::value::RawValue;

/// The raw objects a [`Synchronized`] prints, with the name it prints them under.
mod sealed {
    pub trait Printed {
        /// `Value`, `Array`.
        const NAME: &'static str;
        /// The contents, without a name: `49`, `[1, 2, 3]`.
        fn fmt_contents(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result;
    }
}

impl<T: SharedLayout + fmt::Debug> sealed::Printed for RawValue<T> {
    const NAME: &'static str = "Value";
    fn fmt_contents(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl<T: SharedLayout + fmt::Debug> sealed::Printed for RawArray<T> {
    const NAME: &'static str = "Array";
    fn fmt_contents(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_slice(), f)
    }
}

/// Writes its text as is, as a field of a `debug_tuple`.
struct Verbatim<'a>(&'a str);

impl fmt::Debug for Verbatim<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The contents of a printed object, as a field of a `debug_tuple`.
struct Contents<'a, O>(&'a O);

impl<O: sealed::Printed> fmt::Debug for Contents<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_contents(f)
    }
}

/// What printing found the lock in.
enum Access<'a> {
    /// Held now, by this call (or re-entered: an [`RLock`](crate::RLock) this thread holds).
    Held(LockGuard<'a>),
    /// Held by another thread or process, or a [`Lock`](crate::Lock) this thread holds.
    Busy,
    /// Acquiring failed (e.g. too many locks held by this thread).
    Failed,
}

fn try_hold<L: SharedLock>(lock: &L) -> Access<'_> {
    match lock.try_acquire() {
        Ok(Some(guard)) => Access::Held(guard),
        Ok(None) => Access::Busy,
        Err(_) => Access::Failed,
    }
}

/// `Value(49)`, `Array([1, 2, 3])`; `Value(<locked>)` while the lock is busy;
/// `Value(49, <owner died>)` while a dead holder's report is not cleared.
///
/// The lock is tried, never waited for: printing an object whose [`Lock`](crate::Lock) this
/// thread holds shows `<locked>` instead of deadlocking (an [`RLock`](crate::RLock) it holds
/// is re-entered, and the value shown).
///
/// ```
/// use sharedctypes::{Array, Lock, Value};
///
/// let n = Value::new(49i32)?;
/// assert_eq!(format!("{n:?}"), "Value(49)");
/// let a = Array::from_slice(&[1.5f32, 2.0])?;
/// assert_eq!(format!("{a:?}"), "Array([1.5, 2.0])");
///
/// let m = Value::with_lock(7u8, Lock::new()?)?;
/// let held = m.lock()?;
/// assert_eq!(format!("{m:?}"), "Value(<locked>)"); // no deadlock
/// drop(held);
/// assert_eq!(format!("{m:?}"), "Value(7)");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<O: sealed::Printed, L: SharedLock> fmt::Debug for Synchronized<O, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_tuple(O::NAME);
        match try_hold(&self.lock) {
            Access::Held(guard) => {
                out.field(&Contents(&self.obj));
                if guard.owner_died() {
                    out.field(&Verbatim("<owner died>"));
                }
            }
            Access::Busy => {
                out.field(&Verbatim("<locked>"));
            }
            Access::Failed => {
                out.field(&Verbatim("<unavailable>"));
            }
        }
        out.finish()
    }
}

/// The value, like `T`'s own `Display` (`println!("{}", n)`); `<locked>` while the lock is
/// busy (see the `Debug` impl), `<owner died>` while a dead holder's report is not cleared
/// (the value may be half-updated; [`lock`](Synchronized::lock) and repair it).
///
/// ```
/// use sharedctypes::Value;
/// let n = Value::new(49i32)?;
/// assert_eq!(n.to_string(), "49");
/// assert_eq!(format!("{:>5.1}", Value::new(2.25f64)?), "  2.2"); // T's format spec applies
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<T: SharedLayout + fmt::Display, L: SharedLock> fmt::Display for Synchronized<RawValue<T>, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match try_hold(&self.lock) {
            Access::Held(guard) if guard.owner_died() => f.write_str("<owner died>"),
            Access::Held(_) => fmt::Display::fmt(&self.obj.get(), f),
            Access::Busy => f.write_str("<locked>"),
            Access::Failed => f.write_str("<unavailable>"),
        }
    }
}
