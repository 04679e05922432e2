//! [`SharedSlice`]: a run of elements in shared memory, accessed by copy. The element
//! operations of [`RawArray`](crate::RawArray), of locked arrays and of array fields all live
//! here.

mod chars;
mod iter;

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::{Bound, RangeBounds};
use core::ptr::NonNull;

pub use iter::Iter;

use crate::error::{Error, Result};
use crate::layout::SharedLayout;
use crate::place::Place;

/// `len` elements of `T` in shared memory, valid for `'a`.
///
/// Reached through [`RawArray::as_slice`](crate::RawArray::as_slice), a locked array's guard,
/// or an array field of a derived struct (`view.samples()`). Like [`Place`], it hands out
/// copies, never references: another process may write the elements at any moment.
///
/// ```
/// use sharedctypes::RawArray;
///
/// let arr = RawArray::from_slice(&[680, 626, 934, 821, 150])?;
/// let s = arr.as_slice();
/// assert_eq!(s.get(3), Some(821));
/// assert_eq!(s.get_range(1..3)?, vec![626, 934]);
/// s.set_range(3.., &[1, 2])?;
/// assert_eq!(s.to_vec(), vec![680, 626, 934, 1, 2]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct SharedSlice<'a, T> {
    ptr: NonNull<T>,
    len: usize,
    _life: PhantomData<&'a T>,
}

impl<T> Clone for SharedSlice<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SharedSlice<'_, T> {}

// SAFETY: like `Place`, a `SharedSlice` is a pointer into shared memory accessed only
// atomically, so it can move between threads.
unsafe impl<T: Sync> Send for SharedSlice<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for SharedSlice<'_, T> {}

impl<'a, T: SharedLayout> SharedSlice<'a, T> {
    /// Wraps `len` elements starting at `ptr`.
    ///
    /// # Safety
    ///
    /// Every element must satisfy the requirements of [`Place::new`] for `'a`.
    #[inline]
    pub const unsafe fn from_raw_parts(ptr: NonNull<T>, len: usize) -> Self {
        SharedSlice {
            ptr,
            len,
            _life: PhantomData,
        }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Pointer to the first element (for FFI).
    #[inline]
    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// The place of element `index`, or `None` past the end.
    #[inline]
    pub fn place(&self, index: usize) -> Option<Place<'a, T>> {
        // SAFETY: just checked that the index is in bounds.
        (index < self.len).then(|| unsafe { self.place_unchecked(index) })
    }

    /// The place of element `index`, which must be in bounds.
    #[inline]
    pub(crate) fn nth(&self, index: usize) -> Place<'a, T> {
        assert!(index < self.len, "element {index} of {}", self.len);
        // SAFETY: just checked that the index is in bounds.
        unsafe { self.place_unchecked(index) }
    }

    /// # Safety
    /// `index < self.len`.
    #[inline]
    unsafe fn place_unchecked(&self, index: usize) -> Place<'a, T> {
        // SAFETY: the caller keeps `index` in bounds, so the pointer stays inside the
        // elements this slice covers.
        let ptr = unsafe { self.ptr.add(index) };
        // SAFETY: every element satisfies `Place::new`'s requirements (constructor contract).
        unsafe { Place::new(ptr) }
    }

    fn check_index(&self, index: usize) -> Result<Place<'a, T>> {
        self.place(index).ok_or(Error::IndexOutOfRange {
            index,
            len: self.len,
        })
    }

    /// A copy of element `index`, or `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        self.place(index).map(Place::load)
    }

    /// Writes element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
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
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        Ok(self.check_index(index)?.update(f))
    }

    /// The accessor view of element `index` (`a.at(i).set_x(..)` for derived structs).
    ///
    /// # Panics
    /// If `index` is out of bounds, like slice indexing; [`try_at`](Self::try_at) returns an
    /// error instead.
    #[inline]
    #[track_caller]
    pub fn at(&self, index: usize) -> T::View<'a> {
        match self.place(index) {
            Some(place) => place.view(),
            None => panic!(
                "{}",
                Error::IndexOutOfRange {
                    index,
                    len: self.len
                }
            ),
        }
    }

    /// The accessor view of element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    pub fn try_at(&self, index: usize) -> Result<T::View<'a>> {
        Ok(self.check_index(index)?.view())
    }

    /// The elements in `range`.
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Result<SharedSlice<'a, T>> {
        let (start, end) = self.bounds(&range)?;
        // SAFETY: `start <= end <= len`, so the pointer stays inside (or one past) the
        // elements this slice covers.
        let ptr = unsafe { self.ptr.add(start) };
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
            Bound::Unbounded => Some(self.len),
        };
        match (start, end) {
            (Some(start), Some(end)) if start <= end && end <= self.len => Ok((start, end)),
            (start, end) => Err(Error::RangeOutOfBounds {
                start: start.unwrap_or(usize::MAX),
                end: end.unwrap_or(usize::MAX),
                len: self.len,
            }),
        }
    }

    /// Copies of the elements in `range` (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice.
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        Ok(self.slice(range)?.to_vec())
    }

    /// Writes `values` over the elements in `range` (Python's `arr[4:8] = ...`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the slice,
    /// [`Error::LengthMismatch`] if `values` is not exactly as long as the range.
    pub fn set_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<()> {
        self.slice(range)?.copy_from_slice(values)
    }

    /// Copies every element into a new `Vec` (Python's `arr[:]`).
    pub fn to_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        self.read_into(&mut out.spare_capacity_mut()[..self.len]);
        // SAFETY: `read_into` initialised the first `len` elements of the spare capacity.
        unsafe { out.set_len(self.len) };
        out
    }

    /// Copies every element into `dst`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `dst` is exactly as long as the slice.
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
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.check_len(src.len())?;
        for (i, &value) in src.iter().enumerate() {
            // SAFETY: `i < src.len() == self.len`.
            unsafe { self.place_unchecked(i) }.store(value);
        }
        Ok(())
    }

    /// Writes `value` into every element.
    pub fn fill(&self, value: T) {
        for i in 0..self.len {
            // SAFETY: `i < self.len`.
            unsafe { self.place_unchecked(i) }.store(value);
        }
    }

    /// An iterator over copies of the elements.
    pub fn iter(&self) -> Iter<'a, T> {
        Iter::new(*self)
    }

    fn check_len(&self, actual: usize) -> Result<()> {
        if actual == self.len {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                expected: self.len,
                actual,
            })
        }
    }

    fn read_into(&self, dst: &mut [MaybeUninit<T>]) {
        debug_assert_eq!(dst.len(), self.len);
        for (i, out) in dst.iter_mut().enumerate() {
            // SAFETY: `i < dst.len() == self.len`.
            out.write(unsafe { self.place_unchecked(i) }.load());
        }
    }
}

impl<'a, T: SharedLayout> IntoIterator for SharedSlice<'a, T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        Iter::new(self)
    }
}

impl<T: SharedLayout + fmt::Debug> fmt::Debug for SharedSlice<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
