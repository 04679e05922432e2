//! [`Synchronized`]: a raw shared object behind a process-shared lock, and its two common
//! forms [`Value`] and [`Array`].
//!
//! The core wrapper is here; what it adds for values, arrays and character arrays is in
//! `value.rs`, `array.rs` and `chars.rs`, and the guard of a held lock in `guard.rs`.

mod array;
mod guard;
mod print;
mod value;

use core::time::Duration;

pub use guard::SyncGuard;

use crate::array::RawArray;
use crate::description::{Description, Mutex};
use crate::error::{Error, Result};
use crate::lock::{LockKind, RobustLock};
use crate::lock::{RLock, SharedLock};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};
use crate::value::RawValue;

/// A raw shared object `O` together with the lock `L` that guards it (Python's
/// `Synchronized`, `SynchronizedArray`, …).
///
/// Generic over the lock kind, lock_api style: [`RLock`] by default (a fresh one per object,
/// like CPython), or any [`Lock`](crate::Lock)/[`RLock`] you pass to `with_lock`, so one lock
/// can guard several objects. [`get_obj`](Self::get_obj) and [`get_lock`](Self::get_lock) give
/// the parts; [`lock`](Self::lock) holds the lock and gives the object for several operations
/// in one acquisition.
///
/// ```
/// use sharedctypes::{Array, Lock, Value};
///
/// let lock = Lock::new()?;
/// let total = Value::with_lock(0i64, lock.clone())?;
/// let parts = Array::with_lock(&[0i64; 4], lock.clone())?;
/// {
///     let _held = lock.acquire()?; // one acquisition for a consistent update of both
///     parts.get_obj().set(2, 5)?;
///     total.get_obj().update(|t| t + 5);
/// }
/// assert_eq!((total.get()?, parts.get(2)?), (5, 5));
/// assert_eq!(total.get_lock(), parts.get_lock());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Synchronized<O, L = RLock> {
    obj: O,
    lock: L,
}

/// A value in shared memory behind a lock (Python's `multiprocessing.Value`); an [`RLock`] of
/// its own unless built `with_lock`.
///
/// ```
/// use sharedctypes::{Process, Value};
///
/// let n = Value::new(7i32)?;
/// let child = Process::start(|| n.update(|v| v * v).map(|_| ()))?;
/// child.join()?;
/// assert_eq!(n.get()?, 49);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type Value<T, L = RLock> = Synchronized<RawValue<T>, L>;

/// An array in shared memory behind a lock (Python's `multiprocessing.Array`); an [`RLock`]
/// of its own unless built `with_lock`.
///
/// ```
/// use sharedctypes::Array;
///
/// let arr = Array::from_slice(&[1.5f64, 2.5])?;
/// arr.set(1, 4.0)?;
/// assert_eq!(arr.to_vec()?, vec![1.5, 4.0]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type Array<T, L = RLock> = Synchronized<RawArray<T>, L>;

/// Puts `obj` behind a new [`RLock`] (Python's `synchronized(obj)`).
///
/// # Errors
/// As for [`RLock::new`].
///
/// ```
/// use sharedctypes::{RawValue, synchronized};
/// let v = synchronized(RawValue::new(1u8)?)?;
/// v.set(2)?;
/// assert_eq!(v.get()?, 2);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn synchronized<O>(obj: O) -> Result<Synchronized<O, RLock>> {
    Ok(synchronized_with(obj, RLock::new()?))
}

/// Puts `obj` behind `lock` (Python's `synchronized(obj, lock)`).
///
/// ```
/// use sharedctypes::{Lock, RawArray, synchronized_with};
/// let lock = Lock::new()?;
/// let a = synchronized_with(RawArray::<u8>::zeroed(3)?, lock.clone());
/// assert_eq!(a.get_lock(), &lock);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn synchronized_with<O, L: SharedLock>(obj: O, lock: L) -> Synchronized<O, L> {
    Synchronized { obj, lock }
}

impl<O, L: SharedLock> Synchronized<O, L> {
    /// The raw object, for access without the lock (Python's `get_obj()`).
    ///
    /// ```
    /// use sharedctypes::{RawValue, Value};
    /// let v = Value::new(1u32)?;
    /// let raw: &RawValue<u32> = v.get_obj();
    /// raw.set(3); // RawValue::set: no lock taken
    /// assert_eq!(v.get()?, 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn get_obj(&self) -> &O {
        &self.obj
    }

    /// The lock (Python's `get_lock()`).
    ///
    /// ```
    /// use sharedctypes::{RLock, Value};
    /// let v = Value::new(10i32)?;
    /// let lock: &RLock = v.get_lock();
    /// let _held = lock.acquire()?;
    /// assert_eq!(v.update(|x| x + 1)?, 11); // an RLock: the same thread re-enters it
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn get_lock(&self) -> &L {
        &self.lock
    }

    /// Splits into the raw object and the lock.
    ///
    /// ```
    /// use sharedctypes::{Array, RLock, RawArray};
    /// let arr = Array::from_slice(&[1u8, 2])?;
    /// let (raw, lock): (RawArray<u8>, RLock) = arr.into_parts();
    /// assert_eq!(raw.to_vec(), [1, 2]);
    /// assert!(lock.try_acquire()?.is_some());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn into_parts(self) -> (O, L) {
        (self.obj, self.lock)
    }

    /// Holds the lock; the guard dereferences to the object (Python's
    /// `with v.get_lock(): ...`).
    ///
    /// If the lock's previous holder died, the guard says so
    /// ([`SyncGuard::owner_died`]) and the data may need repair; see
    /// [`RobustLock`](crate::lock::RobustLock#when-a-holder-dies).
    ///
    /// # Errors
    /// As for [`Lock::acquire`](crate::Lock::acquire).
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let v = Value::new(1i64)?;
    /// let g = v.lock()?;
    /// g.set(g.get() + 1);
    /// drop(g);
    /// assert_eq!(v.get()?, 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn lock(&self) -> Result<SyncGuard<'_, O>> {
        Ok(SyncGuard::new(&self.obj, self.lock.acquire()?))
    }

    /// Holds the lock if it is free now; `Ok(None)` if another holder has it.
    ///
    /// # Errors
    /// As for [`Lock::acquire`](crate::Lock::acquire).
    ///
    /// ```
    /// use sharedctypes::{Lock, Value};
    /// let v = Value::with_lock(1i64, Lock::new()?)?;
    /// let held = v.lock()?;
    /// assert!(v.try_lock()?.is_none()); // a Lock is busy even for the thread holding it
    /// drop(held);
    /// assert_eq!(v.try_lock()?.map(|g| g.get()), Some(1));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_lock(&self) -> Result<Option<SyncGuard<'_, O>>> {
        Ok(self
            .lock
            .try_acquire()?
            .map(|guard| SyncGuard::new(&self.obj, guard)))
    }

    /// Waits at most `timeout` for the lock; `Ok(None)` if it did not come free in time.
    ///
    /// # Errors
    /// As for [`Lock::acquire`](crate::Lock::acquire).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Array;
    /// let arr = Array::from_slice(&[1, 2])?;
    /// let held = arr.lock()?;
    /// let timed_out = std::thread::scope(|s| {
    ///     s.spawn(|| arr.lock_timeout(Duration::from_millis(10)).map(|g| g.is_none()))
    ///         .join()
    ///         .unwrap()
    /// })?;
    /// assert_eq!(timed_out, true); // another thread held the lock throughout
    /// drop(held);
    /// let g = arr.lock_timeout(Duration::from_secs(1))?.expect("the lock is free");
    /// assert_eq!(g.to_vec(), [1, 2]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Result<Option<SyncGuard<'_, O>>> {
        Ok(self
            .lock
            .acquire_timeout(timeout)?
            .map(|guard| SyncGuard::new(&self.obj, guard)))
    }

    /// Runs `f` on the object with the lock held, in one acquisition.
    ///
    /// # Errors
    /// [`Error::OwnerDied`] (without running `f`) while the lock reports that a holder died
    /// and nobody has repaired the data since (see
    /// [`RobustLock`](crate::lock::RobustLock#when-a-holder-dies)); the lock is released
    /// again. Otherwise as for [`Lock::acquire`](crate::Lock::acquire).
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let arr = Array::from_slice(&[3, 1, 2])?;
    /// let sum: i32 = arr.locked(|a| a.iter().sum())?;
    /// assert_eq!(sum, 6);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn locked<R>(&self, f: impl FnOnce(&O) -> R) -> Result<R> {
        let guard = self.lock.acquire()?;
        if guard.owner_died() {
            return Err(Error::OwnerDied {
                pid: guard.dead_owner_pid().unwrap_or(0),
            });
        }
        Ok(f(&self.obj))
    }
}

impl<O: Object, K: LockKind> Object for Synchronized<O, RobustLock<K>> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let mut d = self.get_obj().export(out)?;
        self.get_lock().export_into(&mut d, out)?;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        let obj = O::import(d, from)?;
        d.expect(d.kind, Some(Mutex::of(RobustLock::<K>::is_recursive())))
            .map_err(crate::share::invalid)?;
        Ok(synchronized_with(obj, RobustLock::import_from(d, from)?))
    }
}
