//! [`Synchronized`]: a raw shared object behind a process-shared lock, and its two common
//! forms [`Value`] and [`Array`].

use core::fmt;
use core::ops::{Deref, RangeBounds};
use core::time::Duration;

use crate::array::RawArray;
use crate::ctypes::{CChar, WChar};
use crate::error::{Error, Result};
use crate::layout::SharedLayout;
use crate::lock::{LockGuard, RLock, SharedLock};
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
    /// ([`SyncGuard::owner_died`]) and the data may need repair; see [`Lock`](crate::Lock).
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
        Ok(SyncGuard {
            obj: &self.obj,
            guard: self.lock.acquire()?,
        })
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
        Ok(self.lock.try_acquire()?.map(|guard| SyncGuard {
            obj: &self.obj,
            guard,
        }))
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
        Ok(self.lock.acquire_timeout(timeout)?.map(|guard| SyncGuard {
            obj: &self.obj,
            guard,
        }))
    }

    /// Runs `f` on the object with the lock held, in one acquisition.
    ///
    /// # Errors
    /// [`Error::OwnerDied`] (without running `f`) if the lock's previous holder died; the lock
    /// is consistent and released again, so retrying works. Otherwise as for
    /// [`Lock::acquire`](crate::Lock::acquire).
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
        if let Some(pid) = guard.dead_owner_pid() {
            return Err(Error::OwnerDied { pid });
        }
        Ok(f(&self.obj))
    }
}

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
    /// [`Error::OwnerDied`] if the lock's previous holder died (see
    /// [`locked`](Self::locked)).
    ///
    /// ```
    /// use sharedctypes::{Error, Value};
    /// let v = Value::new(1i32)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(v.lock().unwrap())); // ends holding the lock
    /// });
    /// assert_eq!(v.get(), Err(Error::OwnerDied { pid: std::process::id() as i32 }));
    /// assert_eq!(v.get()?, 1); // the lock was made consistent and released
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
    type Target = T::Synced<L>;

    fn deref(&self) -> &T::Synced<L> {
        let this: *const Self = self;
        // SAFETY: the `SharedLayout` contract makes `T::Synced<L>` a `#[repr(transparent)]`
        // wrapper around exactly `Synchronized<RawValue<T>, L>`, so the cast reference points
        // to a valid value of the target type with the same lifetime.
        unsafe { &*this.cast::<T::Synced<L>>() }
    }
}

/// What `Value<T>` dereferences to when `T` has no generated accessors (scalars, arrays): a
/// transparent wrapper that adds nothing.
///
/// ```
/// use sharedctypes::{NoFields, RLock, Value};
/// let v = Value::new(5u32)?;
/// let target: &NoFields<u32, RLock> = &v; // what `*v` is for a scalar
/// assert_eq!(size_of_val(target), size_of_val(&v));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[repr(transparent)]
pub struct NoFields<T, L>(Synchronized<RawValue<T>, L>);

impl<T: SharedLayout> Synchronized<RawArray<T>, RLock> {
    /// `len` zeroed elements behind a new [`RLock`] (Python's `Array('i', 10)`).
    ///
    /// # Errors
    /// As for [`RawArray::zeroed`] and [`RLock::new`].
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let arr = Array::<f64>::zeroed(3)?; // Python's Array('d', 3)
    /// assert_eq!(arr.to_vec()?, [0.0, 0.0, 0.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn zeroed(len: usize) -> Result<Self> {
        Self::zeroed_with_lock(len, RLock::new()?)
    }

    /// A copy of `values` behind a new [`RLock`] (Python's `Array('i', [9, 2, 8])`).
    ///
    /// # Errors
    /// As for [`zeroed`](Self::zeroed).
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let arr = Array::from_slice(&[9i32, 2, 8])?;
    /// assert_eq!((arr.len(), arr.get(2)?), (3, 8));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<Self> {
        Self::with_lock(values, RLock::new()?)
    }

    /// The items of `iter` behind a new [`RLock`] (Python's `Array('i', range(10))`).
    ///
    /// # Errors
    /// As for [`zeroed`](Self::zeroed).
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let squares = Array::from_iter((1..=4).map(|i| i * i))?;
    /// assert_eq!(squares.to_vec()?, [1, 4, 9, 16]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // allocation can fail; FromIterator cannot
    pub fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Result<Self> {
        Ok(synchronized_with(RawArray::from_iter(iter)?, RLock::new()?))
    }
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawArray<T>, L> {
    /// A copy of `values` behind `lock` (Python's `Array('i', seq, lock=lock)`).
    ///
    /// # Errors
    /// As for [`RawArray::from_slice`].
    ///
    /// ```
    /// use sharedctypes::{Array, RLock};
    /// let lock = RLock::new()?;
    /// let xs = Array::with_lock(&[1.0f64, 2.0], lock.clone())?;
    /// let ys = Array::with_lock(&[3.0f64, 4.0], lock.clone())?;
    /// {
    ///     let _held = lock.acquire()?; // other processes see both changes or neither
    ///     xs.set(0, 10.0)?; // re-enters the RLock
    ///     ys.set(0, 30.0)?;
    /// }
    /// assert_eq!((xs.to_vec()?, ys.to_vec()?), (vec![10.0, 2.0], vec![30.0, 4.0]));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn with_lock(values: &[T], lock: L) -> Result<Self> {
        Ok(synchronized_with(RawArray::from_slice(values)?, lock))
    }

    /// `len` zeroed elements behind `lock`.
    ///
    /// # Errors
    /// As for [`RawArray::zeroed`].
    ///
    /// ```
    /// use sharedctypes::{Array, Lock};
    /// let arr: Array<u8, Lock> = Array::zeroed_with_lock(4, Lock::new()?)?;
    /// assert_eq!(arr.to_vec()?, [0, 0, 0, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn zeroed_with_lock(len: usize, lock: L) -> Result<Self> {
        Ok(synchronized_with(RawArray::zeroed(len)?, lock))
    }

    /// Number of elements (fixed, so no lock is taken).
    ///
    /// ```
    /// use sharedctypes::{Array, Lock};
    /// let arr = Array::with_lock(&[1, 2, 3], Lock::new()?)?;
    /// let _held = arr.get_lock().acquire()?;
    /// assert_eq!(arr.len(), 3); // no lock taken (a held Lock would refuse this thread)
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.obj.len()
    }

    /// True for an array of length 0.
    ///
    /// ```
    /// use sharedctypes::Array;
    /// assert_eq!(Array::<i32>::zeroed(0)?.is_empty(), true);
    /// assert_eq!(Array::from_slice(&[0i32])?.is_empty(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.obj.is_empty()
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index < self.len() {
            Ok(())
        } else {
            Err(Error::IndexOutOfRange {
                index,
                len: self.len(),
            })
        }
    }

    /// A copy of element `index`, under the lock (Python's `arr[i]`).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end (checked before locking);
    /// [`Error::OwnerDied`] as for [`locked`](Self::locked).
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::from_slice(&[5u8, 6])?;
    /// assert_eq!(arr.get(1)?, 6);
    /// assert_eq!(arr.get(2), Err(Error::IndexOutOfRange { index: 2, len: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Result<T> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).load())
    }

    /// Writes element `index`, under the lock (Python's `arr[i] = v`).
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::{Array, Process};
    /// let arr = Array::<i64>::zeroed(2)?;
    /// Process::start(|| arr.set(1, 42))?.join()?;
    /// assert_eq!(arr.to_vec()?, [0, 42]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).store(value))
    }

    /// Stores `f(old)` into element `index` and returns it, in one acquisition.
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::from_slice(&[1u32, 2])?;
    /// assert_eq!(arr.update(1, |x| x * 10)?, 20);
    /// assert_eq!(arr.to_vec()?, [1, 20]);
    /// assert_eq!(arr.update(2, |x| x), Err(Error::IndexOutOfRange { index: 2, len: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).update(f))
    }

    /// Copies of the elements in `range`, under the lock (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::from_iter(0..10)?;
    /// assert_eq!(arr.get_range(..=2)?, [0, 1, 2]);
    /// assert_eq!(arr.get_range(7..)?, [7, 8, 9]);
    /// assert_eq!(arr.get_range(9..12), Err(Error::RangeOutOfBounds { start: 9, end: 12, len: 10 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        let part = self.obj.as_slice().slice(range)?;
        self.locked(|_| part.to_vec())
    }

    /// Writes `values` over `range`, under the lock (Python's `arr[4:8] = ...`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`], [`Error::LengthMismatch`] (both checked before locking);
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::<u16>::zeroed(5)?;
    /// arr.set_range(1..4, &[7, 8, 9])?;
    /// assert_eq!(arr.to_vec()?, [0, 7, 8, 9, 0]);
    /// assert_eq!(
    ///     arr.set_range(3.., &[1]),
    ///     Err(Error::LengthMismatch { expected: 2, actual: 1 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<()> {
        let part = self.obj.as_slice().slice(range)?;
        if part.len() != values.len() {
            return Err(Error::LengthMismatch {
                expected: part.len(),
                actual: values.len(),
            });
        }
        self.locked(|_| part.copy_from_slice(values))?
    }

    /// Copies every element, under the lock (Python's `arr[:]`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Process};
    /// let arr = Array::<u8>::zeroed(3)?;
    /// Process::start(|| arr.fill(3))?.join()?;
    /// assert_eq!(arr.to_vec()?, vec![3, 3, 3]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>> {
        self.locked(RawArray::to_vec)
    }

    /// Copies every element into `dst`, under the lock.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::from_slice(&[1.5f32, 2.5])?;
    /// let mut buf = [0.0; 2];
    /// arr.copy_to_slice(&mut buf)?;
    /// assert_eq!(buf, [1.5, 2.5]);
    /// assert_eq!(
    ///     arr.copy_to_slice(&mut [0.0; 3]),
    ///     Err(Error::LengthMismatch { expected: 2, actual: 3 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<()> {
        self.locked(|a| a.copy_to_slice(dst))?
    }

    /// Writes `src` over every element, under the lock (Python's `arr[:] = ...`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::<i8>::zeroed(3)?;
    /// arr.copy_from_slice(&[-1, 0, 1])?;
    /// assert_eq!(arr.to_vec()?, [-1, 0, 1]);
    /// assert_eq!(
    ///     arr.copy_from_slice(&[1, 2]),
    ///     Err(Error::LengthMismatch { expected: 3, actual: 2 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.locked(|a| a.copy_from_slice(src))?
    }

    /// Writes `value` into every element, under the lock.
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let arr = Array::from_slice(&[1u64, 2, 3])?;
    /// arr.fill(0)?;
    /// assert_eq!(arr.to_vec()?, [0, 0, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn fill(&self, value: T) -> Result<()> {
        self.locked(|a| a.fill(value))
    }

    /// The accessor view of element `index`, *without* the lock — like CPython, where
    /// `A[i].x = ...` on a synchronized array writes the field unlocked. Each field access is
    /// still one atomic access; hold [`lock`](Self::lock) (and use the guard's `at`) to make
    /// several accesses atomic together.
    ///
    /// # Panics
    /// If `index` is out of bounds; [`try_at`](Self::try_at) returns an error instead.
    ///
    /// ```
    /// use sharedctypes::{Array, SharedLayout};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
    /// #[repr(C)]
    /// struct Point {
    ///     x: f64,
    ///     y: f64,
    /// }
    ///
    /// let arr = Array::from_slice(&[Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }])?;
    /// arr.at(0).set_y(-2.0); // A[0].y = -2.0, unlocked like in CPython
    /// {
    ///     let g = arr.lock()?; // several field accesses atomic together
    ///     g.at(1).set_x(g.at(0).x() + g.at(1).x());
    /// }
    /// assert_eq!(arr.to_vec()?, [Point { x: 1.0, y: -2.0 }, Point { x: 4.0, y: 4.0 }]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[track_caller]
    pub fn at(&self, index: usize) -> T::View<'_> {
        self.obj.at(index)
    }

    /// The accessor view of element `index`, without the lock (see [`at`](Self::at)).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::{Array, Error};
    /// let arr = Array::from_slice(&[10u8, 20])?;
    /// assert_eq!(arr.try_at(1)?, 20); // the view of a scalar is its value
    /// assert_eq!(arr.try_at(2).unwrap_err(), Error::IndexOutOfRange { index: 2, len: 2 });
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_at(&self, index: usize) -> Result<T::View<'_>> {
        self.obj.try_at(index)
    }
}

impl<L: SharedLock> Synchronized<RawArray<CChar>, L> {
    /// The bytes up to the first NUL, under the lock (Python's `s.value`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, CChar};
    /// let s = Array::<CChar>::zeroed(8)?;
    /// s.set_raw(b"key\0val")?;
    /// assert_eq!(s.value()?, b"key");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn value(&self) -> Result<Vec<u8>> {
        self.locked(RawArray::<CChar>::value)
    }

    /// Every byte, under the lock (Python's `s.raw`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, CChar};
    /// let s = Array::<CChar>::zeroed(4)?;
    /// s.set_value(b"ab")?;
    /// assert_eq!(s.raw()?, b"ab\0\0");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn raw(&self) -> Result<Vec<u8>> {
        self.locked(RawArray::<CChar>::raw)
    }

    /// Stores `value`, NUL-terminated if shorter than the array, under the lock.
    ///
    /// # Errors
    /// [`Error::TooLong`] ("byte string too long"); [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, CChar, Error, Process};
    /// let s = Array::<CChar>::zeroed(6)?;
    /// Process::start(|| s.set_value(b"child"))?.join()?;
    /// assert_eq!(s.value()?, b"child");
    /// assert_eq!(
    ///     s.set_value(b"toolong"),
    ///     Err(Error::TooLong { what: "byte string", len: 7, capacity: 6 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }

    /// Overwrites the first `raw.len()` bytes, under the lock.
    ///
    /// # Errors
    /// [`Error::TooLong`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, CChar};
    /// let s = Array::from_slice(&[CChar(b'-'); 4])?;
    /// s.set_raw(b"ab")?; // no NUL is added
    /// assert_eq!(s.raw()?, b"ab--");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.locked(|s| s.set_raw(raw))?
    }
}

impl<L: SharedLock> Synchronized<RawArray<WChar>, L> {
    /// The characters up to the first NUL, under the lock (invalid ones read as U+FFFD).
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, WChar};
    /// let s = Array::from_slice(&[WChar::from('π'), WChar(0), WChar::from('x')])?;
    /// assert_eq!(s.value()?, "π"); // up to the first NUL
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn value(&self) -> Result<String> {
        self.locked(RawArray::<WChar>::value)
    }

    /// Stores `value`, NUL-terminated if shorter than the array, under the lock.
    ///
    /// # Errors
    /// [`Error::TooLong`] ("string too long"); [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::{Array, Error, WChar};
    /// let s = Array::<WChar>::zeroed(5)?;
    /// s.set_value("Grüß")?;
    /// assert_eq!(s.value()?, "Grüß");
    /// assert_eq!(
    ///     s.set_value("Grüße!"),
    ///     Err(Error::TooLong { what: "string", len: 6, capacity: 5 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }
}

impl<O: fmt::Debug, L: fmt::Debug> fmt::Debug for Synchronized<O, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Synchronized")
            .field("obj", &self.obj)
            .field("lock", &self.lock)
            .finish()
    }
}

/// The lock of a [`Synchronized`] object, held; dereferences to the object.
///
/// ```
/// use sharedctypes::Array;
/// let arr = Array::from_slice(&[1, 2, 3])?;
/// let g = arr.lock()?;
/// g.set(0, g.get(1).unwrap() + g.get(2).unwrap())?; // both reads and the write in one hold
/// assert_eq!(g.to_vec(), [5, 2, 3]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct SyncGuard<'a, O> {
    obj: &'a O,
    guard: LockGuard<'a>,
}

impl<O> SyncGuard<'_, O> {
    /// True if the lock's previous holder died holding it; see
    /// [`LockGuard::owner_died`].
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let balance = Value::new(100i64)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let g = balance.lock().unwrap();
    ///         g.set(-1); // half-way through an update…
    ///         std::mem::forget(g); // …and the thread ends holding the lock
    ///     });
    /// });
    /// let g = balance.lock()?;
    /// assert_eq!(g.owner_died(), true);
    /// g.set(100); // repair while holding the lock
    /// drop(g);
    /// assert_eq!(balance.lock()?.owner_died(), false);
    /// assert_eq!(balance.get()?, 100);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn owner_died(&self) -> bool {
        self.guard.owner_died()
    }

    /// The pid of the holder that died, if [`owner_died`](Self::owner_died).
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let v = Value::new(0u8)?;
    /// assert_eq!(v.lock()?.dead_owner_pid(), None);
    /// let child = Process::start(|| std::mem::forget(v.lock().unwrap()))?;
    /// child.join()?; // the child ended holding the lock
    /// assert_eq!(v.lock()?.dead_owner_pid(), Some(child.pid()));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn dead_owner_pid(&self) -> Option<i32> {
        self.guard.dead_owner_pid()
    }
}

impl<O> Deref for SyncGuard<'_, O> {
    type Target = O;
    fn deref(&self) -> &O {
        self.obj
    }
}

impl<O: fmt::Debug> fmt::Debug for SyncGuard<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncGuard")
            .field("obj", self.obj)
            .field("owner_died", &self.owner_died())
            .finish()
    }
}
