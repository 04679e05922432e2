//! Lock-free atomic operations on shared integers (what CPython users ask for in bpo-31654).
//!
//! A `RawValue` or `RawArray` element of an integer type can be used as the matching
//! `core::sync::atomic` type, with every operation and explicit orderings: `fetch_add`,
//! `fetch_sub`, `swap`, `compare_exchange`, `load`, `store`, … These are correct across
//! processes because the integer lives in shared memory and the atomics are lock-free
//! (address-free) on every platform sharedctypes supports. The impls are generated from the
//! scalar table (`scalars.rs`), next to the integers' `SharedLayout` impls.

use super::{Place, SharedLayout, SharedSlice};

/// Integer types with a lock-free atomic counterpart of the same layout.
///
/// ```
/// use std::sync::atomic::Ordering::Relaxed;
/// use sharedctypes::{RawArray, access::SharedAtomic};
///
/// fn first<T: SharedAtomic>(arr: &RawArray<T>) -> &T::Atomic {
///     arr.atomic(0).expect("not empty")
/// }
///
/// let arr = RawArray::from_slice(&[5u64, 6])?;
/// assert_eq!(first(&arr).fetch_add(1, Relaxed), 5);
/// assert_eq!(arr.to_vec(), [6, 6]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait SharedAtomic: SharedLayout {
    /// The `core::sync::atomic` type (`AtomicI64` for `i64`).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU16, Ordering::Relaxed};
    /// use sharedctypes::{RawValue, access::SharedAtomic};
    ///
    /// let v = RawValue::new(7u16)?;
    /// let a: &<u16 as SharedAtomic>::Atomic = v.as_atomic();
    /// let _: &AtomicU16 = a; // the same type
    /// assert_eq!(a.swap(9, Relaxed), 7);
    /// assert_eq!(v.get(), 9);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    type Atomic: Sync;

    /// The atomic at `place`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// use sharedctypes::{RawValue, access::SharedAtomic};
    /// let v = RawValue::new(-5i8)?;
    /// let a = <i8 as SharedAtomic>::atomic(v.place());
    /// assert_eq!(a.fetch_add(6, Relaxed), -5);
    /// assert_eq!(v.get(), 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn atomic(place: Place<'_, Self>) -> &Self::Atomic;
}

impl<'a, T: SharedAtomic> Place<'a, T> {
    /// The value as an atomic.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<usize>::zeroed(2)?;
    /// let counter = arr.place(1).unwrap().as_atomic();
    /// std::thread::scope(|s| {
    ///     for _ in 0..2 {
    ///         s.spawn(|| (0..1000).for_each(|_| drop(counter.fetch_add(1, Relaxed))));
    ///     }
    /// });
    /// assert_eq!(arr.to_vec(), [0, 2000]); // no increment lost
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_atomic(self) -> &'a T::Atomic {
        T::atomic(self)
    }
}

impl<T: SharedAtomic> SharedSlice<T> {
    /// Element `index` as a lock-free atomic, or `None` past the end.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([3u32, 8, 1])?;
    /// assert_eq!(v.view().atomic(1).unwrap().fetch_max(5, Relaxed), 8);
    /// assert_eq!(v.view().atomic(2).unwrap().fetch_max(5, Relaxed), 1);
    /// assert_eq!(v.get(), [3, 8, 5]);
    /// assert!(v.view().atomic(3).is_none());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn atomic(&self, index: usize) -> Option<&T::Atomic> {
        self.place(index).map(Place::as_atomic)
    }
}
