//! [`RawArray`]: a fixed-length array in shared memory, without a lock.

use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::RangeBounds;
use core::ptr::NonNull;

use crate::ctypes::{CChar, WChar};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::layout::SharedLayout;
use crate::place::Place;
use crate::slice::{Iter, SharedSlice};

/// A fixed-length array of `T` in shared memory, without a lock (Python's
/// `sharedctypes.RawArray`).
///
/// Elements are read and written by copy; see [`SharedSlice`] for the full set of element
/// operations ([`as_slice`](Self::as_slice)), the most common of which are repeated here.
/// `CChar` arrays (typecode `'c'`) also have CPython's `value`/`raw` string methods, `WChar`
/// arrays (`'u'`) `value` as a `String`.
///
/// ```
/// use sharedctypes::{Process, RawArray};
///
/// let seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
/// let arr = RawArray::<i32>::from_slice(&seq)?;
/// assert_eq!((arr.len(), arr.get(3)), (10, Some(821)));
/// let child = Process::start(|| {
///     for i in 1..arr.len() {
///         arr.set(i, arr.get(i).unwrap() + arr.get(i - 1).unwrap()).unwrap();
///     }
/// })?;
/// child.join()?;
/// assert_eq!(arr.get(9), Some(6519));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct RawArray<T> {
    block: Block,
    len: usize,
    _type: PhantomData<T>,
}

impl<T: SharedLayout> RawArray<T> {
    /// `len` zeroed elements (Python's `RawArray('i', 10)`).
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] if `len * size_of::<T>()` overflows; otherwise as for
    /// [`RawValue::new`](crate::RawValue::new).
    pub fn zeroed(len: usize) -> Result<Self> {
        let bytes = len.checked_mul(size_of::<T>()).ok_or(Error::SizeOverflow {
            len,
            elem_size: size_of::<T>(),
        })?;
        let block = Block::alloc(bytes, align_of::<T>()).map_err(|e| match e {
            Error::SizeOverflow { .. } => Error::SizeOverflow {
                len,
                elem_size: size_of::<T>(),
            },
            other => other,
        })?;
        Ok(RawArray {
            block,
            len,
            _type: PhantomData,
        })
    }

    /// A copy of `values` in shared memory (Python's `RawArray('i', [9, 2, 8])`).
    ///
    /// # Errors
    /// As for [`zeroed`](Self::zeroed).
    pub fn from_slice(values: &[T]) -> Result<Self> {
        let arr = Self::zeroed(values.len())?;
        arr.as_slice().copy_from_slice(values)?;
        Ok(arr)
    }

    /// The items of `iter` in shared memory (Python's `RawArray('i', range(10))`).
    ///
    /// # Errors
    /// As for [`zeroed`](Self::zeroed).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_iter((0..10).map(|i| i * i))?;
    /// assert_eq!(arr.to_vec(), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // allocation can fail; FromIterator cannot
    pub fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Result<Self> {
        let values: Vec<T> = iter.into_iter().collect();
        Self::from_slice(&values)
    }

    /// All elements, with every element operation.
    #[inline]
    pub fn as_slice(&self) -> SharedSlice<'_, T> {
        let ptr: NonNull<T> = self.block.as_non_null().cast();
        // SAFETY: the block is aligned for T and holds `len` initialised elements (zeroed on
        // allocation, then only written through places); it stays allocated while `self` is
        // borrowed, and this type never creates references to its contents.
        unsafe { SharedSlice::from_raw_parts(ptr, self.len) }
    }

    /// Number of elements (Python's `len(arr)`).
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an array of length 0.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A copy of element `index`, or `None` past the end (Python's `arr[i]`).
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        self.as_slice().get(index)
    }

    /// Writes element `index` (Python's `arr[i] = v`).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    #[inline]
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.as_slice().set(index, value)
    }

    /// Stores `f(old)` into element `index` and returns it (load then store; not atomic
    /// without a lock).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        self.as_slice().update(index, f)
    }

    /// The place of element `index`, or `None` past the end.
    pub fn place(&self, index: usize) -> Option<Place<'_, T>> {
        self.as_slice().place(index)
    }

    /// The accessor view of element `index`: for derived structs, `arr.at(i).set_x(..)`.
    ///
    /// # Panics
    /// If `index` is out of bounds, like slice indexing; [`try_at`](Self::try_at) returns an
    /// error instead.
    #[inline]
    #[track_caller]
    pub fn at(&self, index: usize) -> T::View<'_> {
        self.as_slice().at(index)
    }

    /// The accessor view of element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    pub fn try_at(&self, index: usize) -> Result<T::View<'_>> {
        self.as_slice().try_at(index)
    }

    /// Copies of the elements in `range` (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the array.
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        self.as_slice().get_range(range)
    }

    /// Writes `values` over the elements in `range` (Python's `arr[4:8] = [1, 2, 3, 4]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`], or [`Error::LengthMismatch`] if `values` is not as long
    /// as the range.
    pub fn set_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<()> {
        self.as_slice().set_range(range, values)
    }

    /// Copies every element into a new `Vec` (Python's `arr[:]`).
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }

    /// Copies every element into `dst`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `dst.len() == self.len()`.
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<()> {
        self.as_slice().copy_to_slice(dst)
    }

    /// Writes `src` over every element (Python's `arr[:] = ...`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `src.len() == self.len()`.
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.as_slice().copy_from_slice(src)
    }

    /// Writes `value` into every element.
    pub fn fill(&self, value: T) {
        self.as_slice().fill(value)
    }

    /// An iterator over copies of the elements (Python's `list(arr)`).
    pub fn iter(&self) -> Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Pointer to the first element, for C code that shares the array.
    pub fn as_ptr(&self) -> *mut T {
        self.block.as_ptr().cast()
    }
}

impl RawArray<CChar> {
    /// The bytes up to the first NUL (Python's `arr.value`); see [`SharedSlice::value`].
    pub fn value(&self) -> Vec<u8> {
        self.as_slice().value()
    }

    /// Every byte (Python's `arr.raw`).
    pub fn raw(&self) -> Vec<u8> {
        self.as_slice().raw()
    }

    /// Stores `value`, NUL-terminated if shorter than the array (Python's `arr.value = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `value` is longer than the array.
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.as_slice().set_value(value)
    }

    /// Overwrites the first `raw.len()` bytes (Python's `arr.raw = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `raw` is longer than the array.
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.as_slice().set_raw(raw)
    }
}

impl RawArray<WChar> {
    /// The characters up to the first NUL (Python's `arr.value`); see
    /// [`SharedSlice::<WChar>::value`](SharedSlice::value).
    pub fn value(&self) -> String {
        self.as_slice().value()
    }

    /// The characters up to the first NUL.
    ///
    /// # Errors
    /// [`Error::InvalidWideChar`] for a `wchar_t` that is not a Unicode scalar value.
    pub fn try_value(&self) -> Result<String> {
        self.as_slice().try_value()
    }

    /// Stores `value`, NUL-terminated if shorter than the array.
    ///
    /// # Errors
    /// [`Error::TooLong`] if `value` has more characters than the array.
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.as_slice().set_value(value)
    }
}

impl<'a, T: SharedLayout> IntoIterator for &'a RawArray<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T: SharedLayout + fmt::Debug> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawArray").field(&self.as_slice()).finish()
    }
}
