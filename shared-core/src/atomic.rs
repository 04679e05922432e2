//! Lock-free atomic operations on shared integers (what CPython users ask for in bpo-31654).
//!
//! A `RawValue` or `RawArray` element of an integer type can be used as the matching
//! `core::sync::atomic` type, with every operation and explicit orderings: `fetch_add`,
//! `fetch_sub`, `swap`, `compare_exchange`, `load`, `store`, … These are correct across
//! processes because the integer lives in shared memory and the atomics are lock-free
//! (address-free) on every platform sharedctypes supports.

use core::sync::atomic::{AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize};
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize};

use crate::array::RawArray;
use crate::layout::SharedLayout;
use crate::place::Place;
use crate::slice::SharedSlice;
use crate::value::RawValue;

/// Integer types with a lock-free atomic counterpart of the same layout.
///
/// ```
/// use std::sync::atomic::Ordering::Relaxed;
/// use sharedctypes::{RawArray, SharedAtomic};
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
    /// use sharedctypes::{RawValue, SharedAtomic};
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
    /// use sharedctypes::{RawValue, SharedAtomic};
    /// let v = RawValue::new(-5i8)?;
    /// let a = <i8 as SharedAtomic>::atomic(v.place());
    /// assert_eq!(a.fetch_add(6, Relaxed), -5);
    /// assert_eq!(v.get(), 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn atomic(place: Place<'_, Self>) -> &Self::Atomic;
}

macro_rules! shared_atomic {
    ($($ty:ty => $atomic:ty),* $(,)?) => {$(
        impl SharedAtomic for $ty {
            type Atomic = $atomic;

            #[inline]
            fn atomic(place: Place<'_, Self>) -> &$atomic {
                // SAFETY: a `Place` is aligned and valid for its lifetime, and its bytes are only
                // accessed atomically in this process (`$atomic` has the layout of `$ty`,
                // checked where `SharedLayout` is implemented); atomics are interior-mutable,
                // so a shared reference to one that other processes also update is sound.
                unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) }
            }
        }
    )*};
}

shared_atomic! {
    i8 => AtomicI8, u8 => AtomicU8, i16 => AtomicI16, u16 => AtomicU16,
    i32 => AtomicI32, u32 => AtomicU32, i64 => AtomicI64, u64 => AtomicU64,
    isize => AtomicIsize, usize => AtomicUsize,
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
    pub fn as_atomic(self) -> &'a T::Atomic {
        T::atomic(self)
    }
}

impl<T: SharedAtomic> RawValue<T> {
    /// The value as a lock-free atomic, shared with every process that shares the value.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::SeqCst;
    /// use sharedctypes::{Process, RawValue};
    ///
    /// let hits = RawValue::new(0u64)?;
    /// let children: Vec<_> = (0..2)
    ///     .map(|_| Process::start(|| for _ in 0..1000 { hits.as_atomic().fetch_add(1, SeqCst); }))
    ///     .collect::<Result<_, _>>()?;
    /// for c in &children {
    ///     c.join()?;
    /// }
    /// assert_eq!(hits.as_atomic().load(SeqCst), 2000);
    /// assert_eq!(hits.as_atomic().compare_exchange(2000, 0, SeqCst, SeqCst), Ok(2000));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn as_atomic(&self) -> &T::Atomic {
        self.place().as_atomic()
    }
}

impl<'a, T: SharedAtomic> SharedSlice<'a, T> {
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
    pub fn atomic(&self, index: usize) -> Option<&'a T::Atomic> {
        self.place(index).map(Place::as_atomic)
    }
}

impl<T: SharedAtomic> RawArray<T> {
    /// Element `index` as a lock-free atomic, or `None` past the end.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::Relaxed;
    /// use sharedctypes::RawArray;
    /// let counts = RawArray::<i32>::zeroed(4)?;
    /// counts.atomic(2).unwrap().fetch_sub(5, Relaxed);
    /// assert_eq!(counts.to_vec(), [0, 0, -5, 0]);
    /// assert!(counts.atomic(4).is_none());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn atomic(&self, index: usize) -> Option<&T::Atomic> {
        self.as_slice().atomic(index)
    }
}
