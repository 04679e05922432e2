//! What [`Synchronized`] adds for arrays: [`Array`](super::Array). Element operations are
//! [`SharedSlice`]'s, taken under the lock; their examples are there.

use core::ops::RangeBounds;

use super::{Synchronized, synchronized_with};
use crate::access::SharedLayout;
#[cfg(doc)]
use crate::access::SharedSlice;
use crate::array::RawArray;
use crate::ctypes::{CChar, WChar};
use crate::description::Kind;
use crate::error::{Error, Result};
use crate::lock::{LockKind, RobustLock};
use crate::lock::{RLock, SharedLock};
use crate::named::{self, DEFAULT_MODE, Named, Plan};

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

    /// Number of elements; fixed, so no lock is taken. See [`SharedSlice::len`].
    #[must_use]
    pub fn len(&self) -> usize {
        self.obj.len()
    }

    /// True for an array of length 0. See [`SharedSlice::is_empty`].
    #[must_use]
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

    /// [`SharedSlice::get`] under the lock (Python's `arr[i]`): a copy of element `index`,
    /// or [`Error::IndexOutOfRange`] (checked before locking).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn get(&self, index: usize) -> Result<T> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).load())
    }

    /// [`SharedSlice::set`] under the lock (Python's `arr[i] = v`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).store(value))
    }

    /// [`SharedSlice::update`] in one acquisition of the lock: atomic with respect to every
    /// process that uses the lock.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        self.check_index(index)?;
        self.locked(|a| a.as_slice().nth(index).update(f))
    }

    /// [`SharedSlice::get_range`] under the lock (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        let part = self.obj.as_slice().slice(range)?;
        self.locked(|_| part.to_vec())
    }

    /// [`SharedSlice::set_range`] under the lock (Python's `arr[4:8] = ...`); bounds and
    /// length are checked before locking.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
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

    /// [`SharedSlice::to_vec`] under the lock (Python's `arr[:]`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn to_vec(&self) -> Result<Vec<T>> {
        self.locked(|a| a.to_vec())
    }

    /// [`SharedSlice::copy_to_slice`] under the lock.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<()> {
        self.locked(|a| a.copy_to_slice(dst))?
    }

    /// [`SharedSlice::copy_from_slice`] under the lock (Python's `arr[:] = ...`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.locked(|a| a.copy_from_slice(src))?
    }

    /// [`SharedSlice::fill`] under the lock.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`] (see [`Synchronized::locked`]).
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

impl<T: SharedLayout, K: LockKind> Synchronized<RawArray<T>, RobustLock<K>> {
    /// Creates the named array `name` holding a copy of `values` and its own lock (mode
    /// 0600); see [`Value::create_named`](crate::Value).
    ///
    /// # Errors
    /// As for [`RawValue::create_named`](crate::RawValue::create_named).
    ///
    /// ```
    /// use sharedctypes::Array;
    /// # let name = format!("sharedctypes-doc-array-{}", std::process::id());
    /// let a = Array::<f32>::create_named(&name, &[1.5, 2.5])?;
    /// Array::<f32>::open_named(&name)?.set(1, 0.5)?;
    /// assert_eq!(a.to_vec()?, [1.5, 0.5]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, values: &[T]) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, values, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// ```
    /// use sharedctypes::Array;
    /// # let name = format!("sharedctypes-doc-array-mode-{}", std::process::id());
    /// let a = Array::<u16>::create_named_with_mode(&name, &[0; 2], 0o600)?;
    /// assert_eq!(a.len(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, values: &[T], mode: u32) -> Result<Named<Self>> {
        let plan = Plan::elements::<T>(Kind::Array, values.len(), Some(RobustLock::<K>::mutex()))?;
        named::create(name, mode, plan, |p| {
            let a = RawArray::from_block(p.data(), values.len());
            a.copy_from_slice(values)?;
            Ok(synchronized_with(a, RobustLock::<K>::create_in(p.lock())?))
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::Array;
# let name = format!("sharedctypes-doc-array-open-{}", std::process::id());
let _a = Array::<i8>::create_named(&name, &[7; 4])?;
assert_eq!(Array::<i8>::open_named(&name)?.to_vec()?, [7; 4]);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Array, named::OpenOptions};
# let name = format!("sharedctypes-doc-array-open-with-{}", std::process::id());
let _created = Array::<i64>::create_named(&name, &[4; 2])?;
let opened = Array::<i64>::open_named_with(&name, OpenOptions::default())?;
assert_eq!(opened.to_vec()?, [4, 4]);
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawArray<T>, L> {
    /// [`RawArray::to_bytes`] under the lock.
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::Array;
    /// assert_eq!(Array::from_slice(&[1u8, 2])?.to_bytes()?, [1, 2]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.locked(RawArray::to_bytes)
    }

    /// [`RawArray::set_bytes`] under the lock (the length is checked before locking).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::Array;
    /// let a = Array::<i8>::zeroed(2)?;
    /// a.set_bytes(&[0xff, 1])?;
    /// assert_eq!(a.to_vec()?, [-1, 1]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        crate::error::check_len(self.len() * size_of::<T>(), bytes.len())?;
        self.locked(|a| a.set_bytes(bytes))?
    }
}

impl<L: SharedLock> Synchronized<RawArray<CChar>, L> {
    /// [`SharedSlice::value`] under the lock (Python's `s.value`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    pub fn value(&self) -> Result<Vec<u8>> {
        self.locked(|a| a.value())
    }

    /// [`SharedSlice::raw`] under the lock (Python's `s.raw`).
    ///
    /// # Errors
    /// As for [`value`](Self::value).
    pub fn raw(&self) -> Result<Vec<u8>> {
        self.locked(|a| a.raw())
    }

    /// [`SharedSlice::set_value`] under the lock (Python's `s.value = ...`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`].
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }

    /// [`SharedSlice::set_raw`] under the lock (Python's `s.raw = ...`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`].
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.locked(|s| s.set_raw(raw))?
    }
}

impl<L: SharedLock> Synchronized<RawArray<WChar>, L> {
    /// [`SharedSlice::<WChar>::value`](SharedSlice::value) under the lock (Python's
    /// `w.value`; invalid characters read as U+FFFD).
    ///
    /// # Errors
    /// [`Error::OwnerDied`].
    pub fn value(&self) -> Result<String> {
        self.locked(|a| a.value())
    }

    /// [`SharedSlice::<WChar>::set_value`](SharedSlice::set_value) under the lock.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`].
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }
}
