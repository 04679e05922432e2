//! [`SharedSlice`]: a run of elements in shared memory, accessed by copy. The element
//! operations of [`RawArray`](crate::RawArray), of locked arrays and of array fields all live
//! here.

mod chars;
mod iter;

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::ops::{Bound, RangeBounds};
use core::ptr::NonNull;

pub use iter::{Iter, Views};

use super::{Place, SharedLayout};
use crate::error::{Error, Result};

/// A run of elements of `T` in shared memory, reached by reference: `&SharedSlice<T>` is to
/// shared memory what `&[T]` is to ordinary memory.
///
/// [`RawArray`](crate::RawArray) dereferences to it (as a `Vec` does to a slice), so every
/// method here is a method of the array; a locked array's guard, and an array field of a
/// derived struct (`view.samples()`), reach it too. Like [`Place`], it hands out copies, never
/// a `&T`: another process may write the elements at any moment, so each element is a cell
/// that is only read and written by copy, one scalar at a time with atomic operations.
///
/// ```
/// use sharedctypes::RawArray;
/// use sharedctypes::access::SharedSlice;
///
/// let arr = RawArray::from_slice(&[680, 626, 934, 821, 150])?;
/// let s: &SharedSlice<i32> = &arr;
/// assert_eq!(s.get(3), Some(821));
/// assert_eq!(s.get_range(1..3)?, vec![626, 934]);
/// s.set_range(3.., &[1, 2])?;
/// assert_eq!(arr.to_vec(), vec![680, 626, 934, 1, 2]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[repr(transparent)]
pub struct SharedSlice<T> {
    cells: [UnsafeCell<MaybeUninit<T>>],
}

// SAFETY: like `Place`, a `SharedSlice` is a run of cells in shared memory accessed only
// atomically (one scalar at a time, by copy), so references to it can move between threads.
unsafe impl<T: Sync> Send for SharedSlice<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SharedSlice<T> {}

impl<T: SharedLayout> SharedSlice<T> {
    /// The `len` elements starting at `ptr`, for `'a`.
    ///
    /// # Safety
    ///
    /// Every element must satisfy the requirements of [`Place::new`] for `'a`, and the
    /// `len` elements must lie in one allocation (so their size fits in an `isize`).
    ///
    /// ```
    /// use core::ptr::NonNull;
    /// use sharedctypes::{RawArray, access::SharedSlice};
    /// let arr = RawArray::from_slice(&[1u16, 2, 3, 4])?;
    /// let ptr = NonNull::new(arr.as_ptr()).unwrap();
    /// // SAFETY: the first two elements of `arr`, which outlives `head` and is only accessed
    /// // through places.
    /// let head = unsafe { SharedSlice::from_raw_parts(ptr, 2) };
    /// head.set(1, 20)?;
    /// assert_eq!(arr.to_vec(), [1, 20, 3, 4]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub const unsafe fn from_raw_parts<'a>(ptr: NonNull<T>, len: usize) -> &'a Self {
        let cells = ptr.as_ptr().cast::<UnsafeCell<MaybeUninit<T>>>();
        let slice = core::ptr::slice_from_raw_parts(cells, len) as *const Self;
        // SAFETY: `SharedSlice` is a transparent wrapper of `[UnsafeCell<MaybeUninit<T>>]`,
        // which has `T`'s layout, so the pointer covers exactly the `len` elements; the caller
        // keeps them allocated, aligned and inside one allocation for `'a`. `MaybeUninit`
        // asks nothing of the bytes and `UnsafeCell` lets them change behind the reference,
        // which is what other processes (and this one, through places) do.
        unsafe { &*slice }
    }

    /// Pointer to the first element, from which places are made.
    #[inline]
    fn first(&self) -> NonNull<T> {
        NonNull::from(&self.cells).cast::<T>()
    }

    /// Number of elements (Python's `len(arr)`).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<u8>::zeroed(10)?;
    /// assert_eq!((arr.len(), arr.slice(3..)?.len()), (10, 7));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True if there are no elements.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<u8>::zeroed(4)?;
    /// assert_eq!((arr.is_empty(), arr.slice(4..)?.is_empty()), (false, true));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Pointer to the first element, for C code that shares the elements.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<i32>::zeroed(6)?;
    /// let ptr = arr.as_ptr();
    /// // SAFETY: `ptr` points to 6 live, aligned elements, and nothing else accesses the
    /// // third one meanwhile (this is what C code handed the pointer would do).
    /// unsafe { ptr.add(2).write(9) };
    /// assert_eq!(arr.to_vec(), [0, 0, 9, 0, 0, 0]);
    /// assert_eq!(arr.slice(2..)?.as_ptr(), ptr.wrapping_add(2));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn as_ptr(&self) -> *mut T {
        self.first().as_ptr()
    }

    /// The place of element `index`, or `None` past the end.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([5i64, 6, 7])?;
    /// let elems = v.view();
    /// assert_eq!(elems.place(0).map(|p| p.update(|x| x * 10)), Some(50));
    /// assert!(elems.place(3).is_none());
    /// assert_eq!(v.get(), [50, 6, 7]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn place(&self, index: usize) -> Option<Place<'_, T>> {
        // SAFETY: just checked that the index is in bounds.
        (index < self.len()).then(|| unsafe { self.place_unchecked(index) })
    }

    /// The place of element `index`, which must be in bounds.
    #[inline]
    pub(crate) fn nth(&self, index: usize) -> Place<'_, T> {
        assert!(index < self.len(), "element {index} of {}", self.len());
        // SAFETY: just checked that the index is in bounds.
        unsafe { self.place_unchecked(index) }
    }

    /// # Safety
    /// `index < self.len()`.
    #[inline]
    unsafe fn place_unchecked(&self, index: usize) -> Place<'_, T> {
        // SAFETY: the caller keeps `index` in bounds, so the pointer stays inside the
        // elements this slice covers.
        let ptr = unsafe { self.first().add(index) };
        // SAFETY: every element satisfies `Place::new`'s requirements (constructor contract).
        unsafe { Place::new(ptr) }
    }

    fn check_index(&self, index: usize) -> Result<Place<'_, T>> {
        self.place(index).ok_or(Error::IndexOutOfRange {
            index,
            len: self.len(),
        })
    }

    /// A copy of element `index`, or `None` past the end.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[7u8, 8, 9])?;
    /// let tail = arr.as_slice().slice(1..)?;
    /// assert_eq!((tail.get(0), tail.get(1), tail.get(2)), (Some(8), Some(9), None));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn get(&self, index: usize) -> Option<T> {
        self.place(index).map(Place::load)
    }

    /// Writes element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let v = RawValue::new([0.0f32; 2])?;
    /// v.view().set(0, 1.5)?;
    /// assert_eq!(v.get(), [1.5, 0.0]);
    /// assert_eq!(v.view().set(2, 1.0), Err(Error::IndexOutOfRange { index: 2, len: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.check_index(index)?.store(value);
        Ok(())
    }

    /// Stores `f(old)` into element `index` and returns it (a load then a store; hold a lock
    /// to make it atomic with respect to other processes).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1u32, 2, 3])?;
    /// let s = arr.as_slice();
    /// assert_eq!(s.update(2, |x| x + 100)?, 103);
    /// assert_eq!(s.to_vec(), [1, 2, 103]);
    /// assert!(s.update(3, |x| x).is_err());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        Ok(self.check_index(index)?.update(f))
    }

    /// The accessor view of element `index` (`a.at(i).set_x(..)` for derived structs).
    ///
    /// # Panics
    /// If `index` is out of bounds, like slice indexing; [`try_at`](Self::try_at) returns an
    /// error instead.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Cell {
    ///     hits: u32,
    /// }
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Board {
    ///     cells: [Cell; 4],
    /// }
    ///
    /// let board = RawValue::new(Board { cells: [Cell { hits: 0 }; 4] })?;
    /// board.view().cells().at(2).update_hits(|h| h + 1); // board.cells[2].hits += 1
    /// assert_eq!(board.get().cells.map(|c| c.hits), [0, 0, 1, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn at(&self, index: usize) -> T::View<'_> {
        match self.place(index) {
            Some(place) => place.view(),
            None => panic!(
                "{}",
                Error::IndexOutOfRange {
                    index,
                    len: self.len()
                }
            ),
        }
    }

    /// The accessor view of element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let m = RawValue::new([[1i8, 2], [3, 4]])?; // a 2×2 matrix
    /// m.view().try_at(0)?.set(1, 20)?; // m[0][1] = 20
    /// assert_eq!(m.get(), [[1, 20], [3, 4]]);
    /// assert_eq!(m.view().try_at(5).unwrap_err(), Error::IndexOutOfRange { index: 5, len: 2 });
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_at(&self, index: usize) -> Result<T::View<'_>> {
        Ok(self.check_index(index)?.view())
    }

    /// The elements in `range`.
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::from_iter(0..6)?;
    /// let mid = arr.as_slice().slice(2..=4)?;
    /// assert_eq!((mid.len(), mid.get(0)), (3, Some(2)));
    /// mid.fill(-1); // writes through to the array
    /// assert_eq!(arr.to_vec(), [0, 1, -1, -1, -1, 5]);
    /// assert_eq!(
    ///     arr.as_slice().slice(4..2).unwrap_err(),
    ///     Error::RangeOutOfBounds { start: 4, end: 2, len: 6 }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Result<&SharedSlice<T>> {
        let (start, end) = self.bounds(&range)?;
        // SAFETY: `start <= end <= len`, so the pointer stays inside (or one past) the
        // elements this slice covers.
        let ptr = unsafe { self.first().add(start) };
        // SAFETY: `start..end` lies inside this slice, so the sub-slice's elements are
        // elements of this one.
        Ok(unsafe { SharedSlice::from_raw_parts(ptr, end - start) })
    }

    fn bounds(&self, range: &impl RangeBounds<usize>) -> Result<(usize, usize)> {
        let start = match range.start_bound() {
            Bound::Included(&s) => Some(s),
            Bound::Excluded(&s) => s.checked_add(1),
            Bound::Unbounded => Some(0),
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.checked_add(1),
            Bound::Excluded(&e) => Some(e),
            Bound::Unbounded => Some(self.len()),
        };
        match (start, end) {
            (Some(start), Some(end)) if start <= end && end <= self.len() => Ok((start, end)),
            (start, end) => Err(Error::RangeOutOfBounds {
                start: start.unwrap_or(usize::MAX),
                end: end.unwrap_or(usize::MAX),
                len: self.len(),
            }),
        }
    }

    /// Copies of the elements in `range` (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([10u16, 20, 30, 40])?;
    /// assert_eq!(v.view().get_range(1..3)?, [20, 30]);
    /// assert_eq!(v.view().get_range(..)?, [10, 20, 30, 40]);
    /// assert!(v.view().get_range(3..5).is_err());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        Ok(self.slice(range)?.to_vec())
    }

    /// Writes `values` over the elements in `range` (Python's `arr[4:8] = ...`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice,
    /// [`Error::LengthMismatch`] if `values` is not exactly as long as the range.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let v = RawValue::new([0u8; 5])?;
    /// v.view().set_range(1..=2, &[7, 8])?;
    /// assert_eq!(v.get(), [0, 7, 8, 0, 0]);
    /// assert_eq!(
    ///     v.view().set_range(3.., &[1, 2, 3]),
    ///     Err(Error::LengthMismatch { expected: 2, actual: 3 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<()> {
        self.slice(range)?.copy_from_slice(values)
    }

    /// Copies every element into a new `Vec` (Python's `arr[:]`).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1.0f64, 2.0, 3.0, 4.0])?;
    /// assert_eq!(arr.as_slice().slice(2..)?.to_vec(), vec![3.0, 4.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        self.read_into(&mut out.spare_capacity_mut()[..self.len()]);
        // SAFETY: `read_into` initialised the first `len` elements of the spare capacity.
        unsafe { out.set_len(self.len()) };
        out
    }

    /// Copies every element into `dst`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `dst` is exactly as long as the slice.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1i32, 2, 3, 4])?;
    /// let mut pair = [0; 2];
    /// arr.as_slice().slice(1..3)?.copy_to_slice(&mut pair)?;
    /// assert_eq!(pair, [2, 3]);
    /// assert!(arr.as_slice().copy_to_slice(&mut pair).is_err()); // 4 elements, 2 slots
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<()> {
        self.check_len(dst.len())?;
        for (i, out) in dst.iter_mut().enumerate() {
            // SAFETY: `i < dst.len() == self.len`.
            *out = unsafe { self.place_unchecked(i) }.load();
        }
        Ok(())
    }

    /// Writes `src` over every element.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `src` is exactly as long as the slice.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let v = RawValue::new([0u32; 3])?;
    /// v.view().copy_from_slice(&[4, 5, 6])?;
    /// assert_eq!(v.get(), [4, 5, 6]);
    /// assert_eq!(
    ///     v.view().copy_from_slice(&[1]),
    ///     Err(Error::LengthMismatch { expected: 3, actual: 1 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.check_len(src.len())?;
        for (i, &value) in src.iter().enumerate() {
            // SAFETY: `i < src.len() == self.len`.
            unsafe { self.place_unchecked(i) }.store(value);
        }
        Ok(())
    }

    /// Writes `value` into every element.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<u8>::zeroed(5)?;
    /// arr.as_slice().slice(..2)?.fill(0xff);
    /// assert_eq!(arr.to_vec(), [0xff, 0xff, 0, 0, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn fill(&self, value: T) {
        for i in 0..self.len() {
            // SAFETY: `i < self.len`.
            unsafe { self.place_unchecked(i) }.store(value);
        }
    }

    /// An iterator over copies of the elements.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([2u64, 3, 5, 7])?;
    /// assert_eq!(v.view().iter().product::<u64>(), 210);
    /// assert_eq!(v.view().iter().len(), 4);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self)
    }

    /// Iterator over the elements' accessor views ([`at(i)`](Self::at) for each `i`): field
    /// accessors for a derived struct, the value for a scalar.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let m = RawValue::new([[1i8, 2], [3, 4]])?; // a 2×2 matrix
    /// for row in m.view().views() {
    ///     row.update(0, |x| -x)?; // rows are slices: negate the first column
    /// }
    /// assert_eq!(m.get(), [[-1, 2], [-3, 4]]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn views(&self) -> Views<'_, T> {
        Views::new(self)
    }

    fn check_len(&self, actual: usize) -> Result<()> {
        if actual == self.len() {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                expected: self.len(),
                actual,
            })
        }
    }

    fn read_into(&self, dst: &mut [MaybeUninit<T>]) {
        debug_assert_eq!(dst.len(), self.len());
        for (i, out) in dst.iter_mut().enumerate() {
            // SAFETY: `i < dst.len() == self.len`.
            out.write(unsafe { self.place_unchecked(i) }.load());
        }
    }
}

impl<'a, T: SharedLayout> IntoIterator for &'a SharedSlice<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        Iter::new(self)
    }
}

impl<T: SharedLayout + fmt::Debug> fmt::Debug for SharedSlice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
