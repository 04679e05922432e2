//! [`Place`]: the location of one value in shared memory, accessed only by copy.

use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::{SharedLayout, SharedSlice};

/// The location of a `T` in shared memory, valid for `'a`.
///
/// A `Place` is what every view and accessor is built on. It never hands out `&T` or
/// `&mut T` — another process may write the memory at any moment — only copies:
/// [`load`](Self::load), [`store`](Self::store), [`update`](Self::update), and the type's
/// accessor [`view`](Self::view).
///
/// ```
/// use sharedctypes::RawValue;
///
/// let v = RawValue::new(41i64)?;
/// let place = v.place();
/// assert_eq!(place.update(|x| x + 1), 42);
/// assert_eq!(v.get(), 42);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Place<'a, T> {
    ptr: NonNull<T>,
    _life: PhantomData<&'a T>,
}

impl<T> Clone for Place<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Place<'_, T> {}

// SAFETY: a `Place` is a pointer to shared memory that every thread accesses only through
// atomic operations (the `SharedLayout` contract), so it can move between threads.
unsafe impl<T: Sync> Send for Place<'_, T> {}
// SAFETY: as above; `&Place` only allows the same atomic copies.
unsafe impl<T: Sync> Sync for Place<'_, T> {}

/// `Place(49)`: the value, read now, never the address (use [`Place::as_ptr`] for that).
///
/// ```
/// use sharedctypes::RawValue;
/// let v = RawValue::new(49u16)?;
/// assert_eq!(format!("{:?}", v.place()), "Place(49)");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<T: SharedLayout + fmt::Debug> fmt::Debug for Place<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Place").field(&self.load()).finish()
    }
}

impl<'a, T: SharedLayout> Place<'a, T> {
    /// Wraps a pointer to a `T` in shared memory.
    ///
    /// # Safety
    ///
    /// For all of `'a`, `ptr` must be aligned for `T` and valid for reads and writes of
    /// `size_of::<T>()` initialised bytes, and no code in this process may access those bytes
    /// other than through `Place`s or atomic operations (in particular no `&T`/`&mut T` to them
    /// may exist).
    ///
    /// ```
    /// use core::ptr::NonNull;
    /// use sharedctypes::{RawValue, access::Place};
    /// let v = RawValue::new(3u16)?;
    /// let ptr = NonNull::new(v.as_ptr()).unwrap();
    /// // SAFETY: `ptr` is the aligned, initialised value of `v`, which outlives `place` and is only
    /// // accessed through places.
    /// let place = unsafe { Place::new(ptr) };
    /// place.store(4);
    /// assert_eq!(v.get(), 4);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub const unsafe fn new(ptr: NonNull<T>) -> Self {
        Place {
            ptr,
            _life: PhantomData,
        }
    }

    /// The raw pointer (for FFI or for handing to C code).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<u64>::zeroed(3)?;
    /// let p = arr.place(1).unwrap();
    /// assert_eq!(p.as_ptr(), arr.as_ptr().wrapping_add(1));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn as_ptr(self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Copies the value out.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([1u8, 2, 3])?;
    /// assert_eq!(v.place().load(), [1, 2, 3]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn load(self) -> T {
        T::load(self)
    }

    /// Copies `value` in.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<i16>::zeroed(2)?;
    /// arr.place(0).unwrap().store(-9);
    /// assert_eq!(arr.to_vec(), [-9, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn store(self, value: T) {
        T::store(self, value)
    }

    /// Stores `f(old)` and returns it. A load followed by a store: atomic with respect to
    /// other processes only while a lock guarding the value is held.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1.0f32, 2.0])?;
    /// let second = arr.place(1).unwrap();
    /// assert_eq!(second.update(|x| x / 4.0), 0.5);
    /// assert_eq!(arr.to_vec(), [1.0, 0.5]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn update(self, f: impl FnOnce(T) -> T) -> T {
        let new = f(self.load());
        self.store(new);
        new
    }

    /// The accessor view of the value: field accessors for derived structs, a
    /// [`SharedSlice`] for arrays, the value itself for scalars.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Stats {
    ///     count: u32,
    ///     total: f64,
    /// }
    ///
    /// let v = RawValue::new(Stats { count: 0, total: 0.0 })?;
    /// let stats = v.place().view(); // the generated accessors
    /// stats.update_count(|c| c + 1);
    /// stats.set_total(2.5);
    /// assert_eq!((v.get().count, v.get().total), (1, 2.5));
    /// assert_eq!(RawValue::new(7i8)?.place().view(), 7); // a scalar's view is its value
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn view(self) -> T::View<'a> {
        T::view(self)
    }

    /// The place of a field of type `F` at `offset` bytes into this value; used by the code
    /// `#[derive(SharedLayout)]` generates.
    ///
    /// # Safety
    ///
    /// `T` must have a field of type `F` at byte `offset` (as given by `offset_of!`).
    ///
    /// ```
    /// use core::mem::offset_of;
    /// use sharedctypes::{RawValue, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Sample {
    ///     id: u16,
    ///     value: f64,
    /// }
    ///
    /// let v = RawValue::new(Sample { id: 1, value: 0.5 })?;
    /// // SAFETY: `Sample` has an `f64` field at `offset_of!(Sample, value)`.
    /// let value = unsafe { v.place().field::<f64>(offset_of!(Sample, value)) };
    /// value.store(1.5);
    /// assert_eq!((v.get().id, v.get().value), (1, 1.5));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub unsafe fn field<F: SharedLayout>(self, offset: usize) -> Place<'a, F> {
        // SAFETY: the caller guarantees a field of type F at `offset` inside T, so the
        // result stays inside the same value and is aligned for F.
        let ptr = unsafe { self.ptr.byte_add(offset) }.cast::<F>();
        // SAFETY: the field's bytes are part of this place's bytes, so they inherit its
        // validity, lifetime and atomic-only access discipline.
        unsafe { Place::new(ptr) }
    }
}

impl<'a, T: SharedLayout, const N: usize> Place<'a, [T; N]> {
    /// The elements of an array in shared memory.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([[0u8; 2]; 3])?;
    /// let rows = v.place().elements(); // 3 rows of [u8; 2]
    /// rows.set(2, [5, 6])?;
    /// assert_eq!(rows.len(), 3);
    /// assert_eq!(v.get(), [[0, 0], [0, 0], [5, 6]]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn elements(self) -> &'a SharedSlice<T> {
        // SAFETY: a `[T; N]` is N contiguous `T`s, so this place's guarantees cover each of
        // them for the same lifetime.
        unsafe { SharedSlice::from_raw_parts(self.ptr.cast::<T>(), N) }
    }
}
