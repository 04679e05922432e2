//! What [`Synchronized`] adds for a single value: [`Value`](super::Value).

use core::ops::Deref;

use super::{Synchronized, synchronized_with};
use crate::access::SharedLayout;
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::lock::{RLock, SharedLock};
use crate::value::RawValue;

impl<T: SharedLayout> Synchronized<RawValue<T>, RLock> {
    /// `value` in shared memory behind a new [`RLock`] (Python's `Value('i', 7)`).
    ///
    /// # Errors
    /// As for [`RawValue::new`] and [`RLock::new`].
    ///
    /// ```
    /// use sharedctypes::{CBool, Value};
    /// let flag = Value::new(CBool::from(true))?;
    /// assert_eq!(flag.get()?.get(), true);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self> {
        Self::with_lock(value, RLock::new()?)
    }

    /// A zeroed value behind a new [`RLock`] (Python's `Value('i')`).
    ///
    /// # Errors
    /// As for [`new`](Self::new).
    ///
    /// ```
    /// use sharedctypes::{Value, tc};
    /// let v = Value::<tc!('Q')>::zeroed()?; // Python's Value('Q')
    /// assert_eq!(v.get()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn zeroed() -> Result<Self> {
        Ok(synchronized_with(RawValue::zeroed()?, RLock::new()?))
    }
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawValue<T>, L> {
    /// `value` in shared memory behind `lock` (Python's `Value('i', 7, lock=lock)`).
    ///
    /// # Errors
    /// As for [`RawValue::new`].
    ///
    /// ```
    /// use sharedctypes::{Error, Lock, Value};
    /// let lock = Lock::new()?;
    /// let v = Value::with_lock(5u8, lock.clone())?;
    /// let held = lock.acquire()?;
    /// assert_eq!(v.get(), Err(Error::WouldDeadlock)); // a Lock is not re-entrant
    /// drop(held);
    /// assert_eq!(v.get()?, 5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn with_lock(value: T, lock: L) -> Result<Self> {
        Ok(synchronized_with(RawValue::new(value)?, lock))
    }

    /// A copy of the value, under the lock (Python's `v.value`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`] while a holder's death is unrepaired (see
    /// [`locked`](Self::locked)).
    ///
    /// ```
    /// use sharedctypes::{Error, Value};
    /// let v = Value::new(1i32)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(v.lock().unwrap())); // ends holding the lock
    /// });
    /// let died = Error::OwnerDied { pid: std::process::id() as i32 };
    /// assert_eq!(v.get(), Err(died.clone()));
    /// assert_eq!(v.get(), Err(died)); // until a guard holder says the data is repaired
    /// v.lock()?.clear_owner_died();
    /// assert_eq!(v.get()?, 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn get(&self) -> Result<T> {
        self.locked(RawValue::get)
    }

    /// Overwrites the value, under the lock (Python's `v.value = x`).
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let v = Value::new(0.0f64)?;
    /// let child = Process::start(|| v.set(2.5))?;
    /// assert_eq!(child.join()?, 0);
    /// assert_eq!(v.get()?, 2.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self, value: T) -> Result<()> {
        self.locked(|v| v.set(value))
    }

    /// Stores `f(old)` and returns it, in one acquisition of the lock: atomic with respect to
    /// every process that uses the lock (Python's `with v.get_lock(): v.value += 1`).
    ///
    /// # Errors
    /// As for [`get`](Self::get); `f` does not run.
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let n = Value::new(0u32)?;
    /// let workers = (0..2)
    ///     .map(|_| Process::start(|| (0..500).try_for_each(|_| n.update(|x| x + 1).map(drop))))
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// for w in &workers {
    ///     assert_eq!(w.join()?, 0);
    /// }
    /// assert_eq!(n.get()?, 1000); // no increment lost
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn update(&self, f: impl FnOnce(T) -> T) -> Result<T> {
        self.locked(|v| v.update(f))
    }
}

/// The generated per-field accessors of a derived struct, each taking the lock (CPython's
/// `Synchronized` properties): `foo.x()?`, `foo.set_x(2)?`, `foo.update_x(|x| x * 2)?`.
impl<T: SharedLayout, L: SharedLock> Deref for Synchronized<RawValue<T>, L> {
    type Target = T::Synced<Self>;

    fn deref(&self) -> &T::Synced<Self> {
        let this: *const Self = self;
        // SAFETY: the `SharedLayout` contract makes `T::Synced<S>` a `#[repr(transparent)]`
        // wrapper around `S`, here `Synchronized<RawValue<T>, L>` itself, so the cast
        // reference points to a valid value of the target type with the same lifetime.
        unsafe { &*this.cast::<T::Synced<Self>>() }
    }
}
