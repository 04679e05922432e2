//! [`copy`]: a new raw object in shared memory with the same contents (Python's
//! `sharedctypes.copy`).

use crate::access::SharedLayout;
use crate::array::RawArray;
use crate::error::Result;
use crate::lock::SharedLock;
use crate::synchronized::Synchronized;
use crate::value::RawValue;

/// Things [`copy`] can copy into new shared memory.
///
/// Implemented for plain shared values (`copy(&point)` → `RawValue<Point>`), slices
/// (→ `RawArray`), raw objects, and [`Synchronized`] objects (copied under their lock, giving
/// a raw object, as in CPython).
///
/// ```
/// use sharedctypes::{RawArray, RawValue, SharedCopy};
/// let v: RawValue<[u8; 2]> = [1u8, 2].shared_copy()?; // a value: one `[u8; 2]`
/// let a: RawArray<u8> = [1u8, 2][..].shared_copy()?; // a slice: an array of 2 `u8`
/// assert_eq!((v.get(), a.to_vec()), ([1, 2], vec![1, 2]));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait SharedCopy {
    /// The raw shared object the copy is.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedCopy, Value};
    /// let v = Value::new(1.5f64)?;
    /// let c: <Value<f64> as SharedCopy>::Output = v.shared_copy()?;
    /// let raw: RawValue<f64> = c; // the value is copied, not the lock
    /// assert_eq!(raw.get(), 1.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    type Output;

    /// Copies `self` into new shared memory.
    ///
    /// # Errors
    /// Allocation errors of the shared heap; [`Error::OwnerDied`](crate::Error::OwnerDied) for
    /// a synchronized object whose lock holder died.
    ///
    /// ```
    /// use sharedctypes::{Array, RawArray, SharedCopy};
    /// let arr = Array::from_slice(&[1i32, 2, 3])?;
    /// let snapshot: RawArray<i32> = arr.shared_copy()?; // taken under arr's lock
    /// arr.set(0, 9)?;
    /// assert_eq!((arr.to_vec()?, snapshot.to_vec()), (vec![9, 2, 3], vec![1, 2, 3]));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn shared_copy(&self) -> Result<Self::Output>;
}

/// A new raw shared object with the same contents as `obj` (Python's `copy(obj)`).
///
/// # Errors
/// See [`SharedCopy::shared_copy`].
///
/// ```
/// use sharedctypes::{RawArray, Value, copy};
///
/// let v = Value::new(2.5f64)?;
/// let c = copy(&v)?; // a RawValue<f64>, copied under v's lock
/// v.set(0.0)?;
/// assert_eq!(c.get(), 2.5);
///
/// let a = copy(&[1u16, 2, 3][..])?; // a RawArray<u16>
/// assert_eq!(copy(&a)?.to_vec(), [1, 2, 3]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub fn copy<O: SharedCopy + ?Sized>(obj: &O) -> Result<O::Output> {
    obj.shared_copy()
}

impl<T: SharedLayout> SharedCopy for T {
    type Output = RawValue<T>;
    fn shared_copy(&self) -> Result<RawValue<T>> {
        RawValue::new(*self)
    }
}

impl<T: SharedLayout> SharedCopy for [T] {
    type Output = RawArray<T>;
    fn shared_copy(&self) -> Result<RawArray<T>> {
        RawArray::from_slice(self)
    }
}

impl<T: SharedLayout> SharedCopy for RawValue<T> {
    type Output = RawValue<T>;
    fn shared_copy(&self) -> Result<RawValue<T>> {
        RawValue::new(self.get())
    }
}

impl<T: SharedLayout> SharedCopy for RawArray<T> {
    type Output = RawArray<T>;
    fn shared_copy(&self) -> Result<RawArray<T>> {
        let copy = RawArray::zeroed(self.len())?;
        for (i, value) in self.iter().enumerate() {
            copy.set(i, value)?;
        }
        Ok(copy)
    }
}

impl<O: SharedCopy, L: SharedLock> SharedCopy for Synchronized<O, L> {
    type Output = O::Output;
    fn shared_copy(&self) -> Result<O::Output> {
        self.locked(O::shared_copy)?
    }
}
