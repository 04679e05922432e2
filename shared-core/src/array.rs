//! [`RawArray`]: a fixed-length array in shared memory, without a lock.

use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::RangeBounds;
use core::ptr::NonNull;

use crate::access::{
    Iter, Place, SharedAtomic, SharedLayout, SharedSlice, Views, value_bytes, value_from_bytes,
};
use crate::ctypes::{CChar, WChar};
use crate::description::Kind;
use crate::description::{Description, ElemType};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::named::{self, DEFAULT_MODE, Named, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

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
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::<f64>::zeroed(3)?;
    /// assert_eq!(arr.to_vec(), [0.0, 0.0, 0.0]);
    /// assert_eq!(
    ///     RawArray::<u64>::zeroed(usize::MAX).unwrap_err(),
    ///     Error::SizeOverflow { len: usize::MAX, elem_size: 8 }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
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
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[9i32, 2, 8])?;
    /// assert_eq!((arr.len(), arr.to_vec()), (3, vec![9, 2, 8]));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
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

    /// The `len` elements in `block`, which another process allocated (received with a
    /// handle that was checked against `T`'s layout, the length and the alignment).
    pub(crate) fn from_block(block: Block, len: usize) -> Self {
        debug_assert!(
            block.len() >= len * size_of::<T>() && block.as_ptr() as usize % align_of::<T>() == 0
        );
        RawArray {
            block,
            len,
            _type: PhantomData,
        }
    }

    /// The block of the elements, to send them to another process.
    pub(crate) fn block(&self) -> &Block {
        &self.block
    }

    /// All elements, with every element operation.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1u8, 2, 3, 4, 5])?;
    /// arr.as_slice().slice(1..4)?.fill(0); // arr[1:4] = 0, 0, 0
    /// assert_eq!(arr.to_vec(), [1, 0, 0, 0, 5]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> SharedSlice<'_, T> {
        let ptr: NonNull<T> = self.block.as_non_null().cast();
        // SAFETY: the block is aligned for T and holds `len` initialised elements (zeroed on
        // allocation, then only written through places); it stays allocated while `self` is
        // borrowed, and this type never creates references to its contents.
        unsafe { SharedSlice::from_raw_parts(ptr, self.len) }
    }

    /// Number of elements (Python's `len(arr)`).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// assert_eq!(RawArray::<i16>::zeroed(7)?.len(), 7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an array of length 0.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// assert_eq!(RawArray::<u8>::zeroed(0)?.is_empty(), true);
    /// assert_eq!(RawArray::<u8>::zeroed(1)?.is_empty(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A copy of element `index`, or `None` past the end (Python's `arr[i]`).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[10u16, 20])?;
    /// assert_eq!((arr.get(1), arr.get(2)), (Some(20), None));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn get(&self, index: usize) -> Option<T> {
        self.as_slice().get(index)
    }

    /// Writes element `index` (Python's `arr[i] = v`).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::<i64>::zeroed(2)?;
    /// arr.set(0, -1)?;
    /// assert_eq!(arr.to_vec(), [-1, 0]);
    /// assert_eq!(arr.set(2, 5), Err(Error::IndexOutOfRange { index: 2, len: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self, index: usize, value: T) -> Result<()> {
        self.as_slice().set(index, value)
    }

    /// Stores `f(old)` into element `index` and returns it (load then store; not atomic
    /// without a lock).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1.5f64, 2.5])?;
    /// assert_eq!(arr.update(1, |x| x * 2.0)?, 5.0);
    /// assert_eq!(arr.to_vec(), [1.5, 5.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T> {
        self.as_slice().update(index, f)
    }

    /// The place of element `index`, or `None` past the end.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1u32, 2, 3])?;
    /// let last = arr.place(2).unwrap();
    /// last.store(30);
    /// assert_eq!(arr.to_vec(), [1, 2, 30]);
    /// assert!(arr.place(3).is_none());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn place(&self, index: usize) -> Option<Place<'_, T>> {
        self.as_slice().place(index)
    }

    /// The accessor view of element `index`: for derived structs, `arr.at(i).set_x(..)`.
    ///
    /// # Panics
    /// If `index` is out of bounds, like slice indexing; [`try_at`](Self::try_at) returns an
    /// error instead.
    ///
    /// ```
    /// use sharedctypes::{RawArray, SharedLayout};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
    /// #[repr(C)]
    /// struct Particle {
    ///     mass: f64,
    ///     charge: i32,
    /// }
    ///
    /// let arr = RawArray::<Particle>::zeroed(2)?;
    /// arr.at(1).set_charge(-1); // one field, without copying the whole struct
    /// assert_eq!(arr.at(1).charge(), -1);
    /// assert_eq!(arr.get(1), Some(Particle { mass: 0.0, charge: -1 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn at(&self, index: usize) -> T::View<'_> {
        self.as_slice().at(index)
    }

    /// The accessor view of element `index`.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] past the end.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let grid = RawArray::from_slice(&[[1u8, 2], [3, 4]])?;
    /// grid.try_at(1)?.set(0, 30)?; // the view of a `[u8; 2]` is a SharedSlice
    /// assert_eq!(grid.to_vec(), [[1, 2], [30, 4]]);
    /// assert_eq!(grid.try_at(2).unwrap_err(), Error::IndexOutOfRange { index: 2, len: 2 });
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_at(&self, index: usize) -> Result<T::View<'_>> {
        self.as_slice().try_at(index)
    }

    /// Copies of the elements in `range` (Python's `arr[2:7]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if the range is not inside the array.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::from_iter(0..10)?;
    /// assert_eq!(arr.get_range(2..7)?, [2, 3, 4, 5, 6]);
    /// assert_eq!(arr.get_range(8..)?, [8, 9]);
    /// assert_eq!(arr.get_range(5..11), Err(Error::RangeOutOfBounds { start: 5, end: 11, len: 10 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>> {
        self.as_slice().get_range(range)
    }

    /// Writes `values` over the elements in `range` (Python's `arr[4:8] = [1, 2, 3, 4]`).
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`], or [`Error::LengthMismatch`] if `values` is not as long
    /// as the range.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::<i32>::zeroed(8)?;
    /// arr.set_range(4..8, &[1, 2, 3, 4])?;
    /// assert_eq!(arr.to_vec(), [0, 0, 0, 0, 1, 2, 3, 4]);
    /// assert_eq!(arr.set_range(..2, &[7]), Err(Error::LengthMismatch { expected: 2, actual: 1 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<()> {
        self.as_slice().set_range(range, values)
    }

    /// Copies every element into a new `Vec` (Python's `arr[:]`).
    ///
    /// ```
    /// use sharedctypes::{Process, RawArray};
    /// let arr = RawArray::<u8>::zeroed(3)?;
    /// Process::start(|| arr.fill(7))?.join()?;
    /// assert_eq!(arr.to_vec(), vec![7, 7, 7]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }

    /// Copies every element into `dst`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `dst.len() == self.len()`.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::from_slice(&[4u16, 5, 6])?;
    /// let mut buf = [0u16; 3];
    /// arr.copy_to_slice(&mut buf)?;
    /// assert_eq!(buf, [4, 5, 6]);
    /// assert_eq!(
    ///     arr.copy_to_slice(&mut [0; 2]),
    ///     Err(Error::LengthMismatch { expected: 3, actual: 2 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_to_slice(&self, dst: &mut [T]) -> Result<()> {
        self.as_slice().copy_to_slice(dst)
    }

    /// Writes `src` over every element (Python's `arr[:] = ...`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `src.len() == self.len()`.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let arr = RawArray::<f32>::zeroed(2)?;
    /// arr.copy_from_slice(&[0.25, 0.75])?;
    /// assert_eq!(arr.to_vec(), [0.25, 0.75]);
    /// assert_eq!(
    ///     arr.copy_from_slice(&[1.0; 3]),
    ///     Err(Error::LengthMismatch { expected: 2, actual: 3 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn copy_from_slice(&self, src: &[T]) -> Result<()> {
        self.as_slice().copy_from_slice(src)
    }

    /// Writes `value` into every element.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[1i8, 2, 3])?;
    /// arr.fill(-1);
    /// assert_eq!(arr.to_vec(), [-1, -1, -1]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn fill(&self, value: T) {
        self.as_slice().fill(value)
    }

    /// An iterator over copies of the elements (Python's `list(arr)`).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::from_slice(&[3u32, 1, 4, 1, 5])?;
    /// assert_eq!(arr.iter().max(), Some(5));
    /// assert_eq!(arr.iter().filter(|&x| x == 1).count(), 2);
    /// let mut sum = 0;
    /// for x in &arr {
    ///     sum += x;
    /// }
    /// assert_eq!(sum, 14);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Iterator over the elements' accessor views (Python's `for p in arr:`, whose `p` of a
    /// `Structure` writes through to the array): [`at(i)`](Self::at) for each `i`. For a
    /// scalar element type the view is the value.
    ///
    /// ```
    /// use sharedctypes::{RawArray, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Particle {
    ///     pos: f32,
    ///     vel: f32,
    /// }
    ///
    /// let ps = RawArray::from_slice(&[Particle { pos: 0.0, vel: 1.5 }; 3])?;
    /// for p in ps.views() {
    ///     p.update_pos(|x| x + p.vel()); // one step
    /// }
    /// assert_eq!(ps.iter().map(|p| p.pos).sum::<f32>(), 4.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn views(&self) -> Views<'_, T> {
        self.as_slice().views()
    }

    /// Pointer to the first element, for C code that shares the array.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let arr = RawArray::<i32>::zeroed(4)?;
    /// let ptr = arr.as_ptr();
    /// // SAFETY: `ptr` points to 4 live, aligned elements, and nothing else accesses the third one
    /// // meanwhile (this is what C code handed the pointer would do).
    /// unsafe { ptr.add(2).write(9) };
    /// assert_eq!(arr.to_vec(), [0, 0, 9, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_ptr(&self) -> *mut T {
        self.block.as_ptr().cast()
    }
}

impl RawArray<CChar> {
    /// The bytes up to the first NUL (Python's `arr.value`); see [`SharedSlice::value`].
    ///
    /// ```
    /// use sharedctypes::{RawArray, tc};
    /// let s = RawArray::<tc!('c')>::zeroed(10)?;
    /// s.set_raw(b"spam\0eggs")?;
    /// assert_eq!(s.value(), b"spam");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> Vec<u8> {
        self.as_slice().value()
    }

    /// Every byte (Python's `arr.raw`).
    ///
    /// ```
    /// use sharedctypes::{CChar, RawArray};
    /// let s = RawArray::<CChar>::zeroed(6)?;
    /// s.set_value(b"ab")?;
    /// assert_eq!(s.raw(), b"ab\0\0\0\0");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn raw(&self) -> Vec<u8> {
        self.as_slice().raw()
    }

    /// Stores `value`, NUL-terminated if shorter than the array (Python's `arr.value = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `value` is longer than the array.
    ///
    /// ```
    /// use sharedctypes::{CChar, Error, RawArray};
    /// let s = RawArray::<CChar>::zeroed(4)?;
    /// s.set_value(b"abcd")?;
    /// s.set_value(b"xy")?; // "xy" and a NUL; the rest is left as it was
    /// assert_eq!((s.value(), s.raw()), (b"xy".to_vec(), b"xy\0d".to_vec()));
    /// assert_eq!(
    ///     s.set_value(b"abcde"),
    ///     Err(Error::TooLong { what: "byte string", len: 5, capacity: 4 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.as_slice().set_value(value)
    }

    /// Overwrites the first `raw.len()` bytes (Python's `arr.raw = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] if `raw` is longer than the array.
    ///
    /// ```
    /// use sharedctypes::{CChar, RawArray};
    /// let s = RawArray::<CChar>::from_slice(&[CChar(b'.'); 5])?;
    /// s.set_raw(b"ab")?; // no NUL is added
    /// assert_eq!(s.raw(), b"ab...");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.as_slice().set_raw(raw)
    }
}

impl RawArray<WChar> {
    /// The characters up to the first NUL (Python's `arr.value`); see
    /// [`SharedSlice::<WChar>::value`](SharedSlice::value).
    ///
    /// ```
    /// use sharedctypes::{RawArray, tc};
    /// let s = RawArray::<tc!('u')>::zeroed(8)?;
    /// s.set_value("naïve")?;
    /// assert_eq!(s.value(), "naïve");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> String {
        self.as_slice().value()
    }

    /// The characters up to the first NUL.
    ///
    /// # Errors
    /// [`Error::InvalidWideChar`] for a `wchar_t` that is not a Unicode scalar value.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray, WChar};
    /// let s = RawArray::from_slice(&[WChar::from('o'), WChar::from('k'), WChar(0)])?;
    /// assert_eq!(s.try_value()?, "ok");
    /// s.set(1, WChar(0xD800))?; // a lone surrogate, as C code might write
    /// assert_eq!(s.try_value(), Err(Error::InvalidWideChar { index: 1, value: 0xD800 }));
    /// assert_eq!(s.value(), "o\u{FFFD}");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_value(&self) -> Result<String> {
        self.as_slice().try_value()
    }

    /// Stores `value`, NUL-terminated if shorter than the array.
    ///
    /// # Errors
    /// [`Error::TooLong`] if `value` has more characters than the array.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray, WChar};
    /// let s = RawArray::<WChar>::zeroed(3)?;
    /// s.set_value("日本語")?; // three characters fill three wchar_t, whatever their UTF-8 length
    /// assert_eq!(s.value(), "日本語");
    /// assert_eq!(
    ///     s.set_value("abcd"),
    ///     Err(Error::TooLong { what: "string", len: 4, capacity: 3 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.as_slice().set_value(value)
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
    #[must_use]
    pub fn atomic(&self, index: usize) -> Option<&T::Atomic> {
        self.as_slice().atomic(index)
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

impl<T: SharedLayout> RawArray<T> {
    /// Creates the named object `name` holding a copy of `values` (mode 0600); see
    /// [`RawValue::create_named`](crate::RawValue::create_named).
    ///
    /// # Errors
    /// As for [`RawValue::create_named`](crate::RawValue::create_named).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// # let name = format!("sharedctypes-doc-rawarray-{}", std::process::id());
    /// let a = RawArray::create_named(&name, &[1i64, 2, 3])?;
    /// let b = RawArray::<i64>::open_named(&name)?;
    /// b.set(0, 10)?;
    /// assert_eq!(a.to_vec(), [10, 2, 3]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, values: &[T]) -> Result<Named<RawArray<T>>> {
        Self::create_named_with_mode(name, values, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// # let name = format!("sharedctypes-doc-rawarray-mode-{}", std::process::id());
    /// let a = RawArray::create_named_with_mode(&name, &[0u8; 3], 0o644)?;
    /// assert_eq!(a.len(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(
        name: &str,
        values: &[T],
        mode: u32,
    ) -> Result<Named<RawArray<T>>> {
        let plan = Plan::elements::<T>(Kind::Array, values.len(), None)?;
        named::create(name, mode, plan, |p| {
            let a = RawArray::from_block(p.data(), values.len());
            a.copy_from_slice(values)?;
            Ok(a)
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, RawArray, RawValue};
# let name = format!("sharedctypes-doc-rawarray-open-{}", std::process::id());
let _a = RawArray::create_named(&name, &[1u8, 2])?;
assert_eq!(RawArray::<u8>::open_named(&name)?.len(), 2);
assert!(matches!(RawValue::<u8>::open_named(&name), Err(Error::NotNamedObject { .. })));
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{RawArray, named::OpenOptions};
# let name = format!("sharedctypes-doc-rawarray-open-with-{}", std::process::id());
let _created = RawArray::create_named(&name, &[1u8, 2])?;
let opened = RawArray::<u8>::open_named_with(&name, OpenOptions::default())?;
assert_eq!(opened.to_vec(), [1, 2]);
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<T: SharedLayout> Object for RawArray<T> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let mut d = crate::share::with_data(Kind::Array, self.block(), out)?;
        d.elem = Some(ElemType::of::<T>());
        d.count = self.len() as u64;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Array, None).map_err(crate::share::invalid)?;
        d.expect_elem::<T>()?;
        let len = usize::try_from(d.count)
            .map_err(|_| crate::share::invalid(format!("{} elements do not fit here", d.count)))?;
        let bytes = (len as u64)
            .checked_mul(size_of::<T>() as u64)
            .ok_or_else(|| crate::share::invalid(format!("{len} elements overflow")))?;
        let block = crate::share::data(d, from, bytes, align_of::<T>() as u64)?;
        Ok(RawArray::from_block(block, len))
    }
}

impl<T: SharedLayout> RawArray<T> {
    /// Every element's bytes, one after the other (Python's `bytes(arr)`); see
    /// [`RawValue::to_bytes`](crate::RawValue::to_bytes).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let a = RawArray::from_slice(&[1u16, 2])?;
    /// assert_eq!(a.to_bytes(), [1, 0, 2, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * size_of::<T>());
        for value in self.iter() {
            value_bytes(value, &mut out);
        }
        out
    }

    /// Overwrites every element with `bytes`: exactly `len() * size_of::<T>()` of them.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for another length (in bytes).
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let a = RawArray::<u8>::zeroed(3)?;
    /// a.set_bytes(b"abc")?;
    /// assert_eq!(a.to_vec(), b"abc");
    /// assert_eq!(a.set_bytes(b"ab"), Err(Error::LengthMismatch { expected: 3, actual: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        crate::error::check_len(self.len() * size_of::<T>(), bytes.len())?;
        if size_of::<T>() == 0 {
            return Ok(());
        }
        for (i, chunk) in bytes.chunks_exact(size_of::<T>()).enumerate() {
            self.set(i, value_from_bytes(chunk))?;
        }
        Ok(())
    }
}

impl RawArray<u8> {
    /// Where a `T` at byte `offset` would lie, if it lies inside the array and is aligned.
    fn at_offset<T>(&self, offset: usize) -> Result<NonNull<u8>> {
        let len = self.len();
        let end = offset.saturating_add(size_of::<T>());
        if end > len {
            return Err(Error::RangeOutOfBounds {
                start: offset,
                end,
                len,
            });
        }
        let ptr = self.as_ptr().wrapping_add(offset);
        if ptr as usize % align_of::<T>() != 0 {
            return Err(Error::Misaligned {
                offset,
                align: align_of::<T>(),
            });
        }
        Ok(NonNull::new(ptr).expect("inside a live block"))
    }

    /// A copy of the `T` at byte `offset` (Python's `Record.from_buffer_copy(buf, offset)`),
    /// padding included: the bytes are read one by one, as the array's own elements are.
    ///
    /// # Errors
    /// [`Error::RangeOutOfBounds`] if it does not lie inside the array; [`Error::Misaligned`]
    /// if `offset` does not suit `T`'s alignment.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// let buf = RawArray::from_slice(&[1u8, 0, 0, 0, 2, 0, 0, 0])?;
    /// assert_eq!(buf.read_at::<u32>(4)?, 2);
    /// assert_eq!(buf.read_at::<u32>(2), Err(Error::Misaligned { offset: 2, align: 4 }));
    /// assert_eq!(
    ///     buf.read_at::<u64>(4),
    ///     Err(Error::RangeOutOfBounds { start: 4, end: 12, len: 8 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn read_at<T: SharedLayout>(&self, offset: usize) -> Result<T> {
        self.at_offset::<T>(offset)?;
        let bytes = self.get_range(offset..offset + size_of::<T>())?;
        // Padding bytes included: shared memory holds no uninitialised bytes (its pages read
        // as zero until written, and every write writes initialised bytes), so each byte read
        // here is an initialised `u8`, and every bit pattern is a valid `T`.
        Ok(value_from_bytes(&bytes))
    }

    /// Writes `value` at byte `offset` (Python's `buf[offset:offset + n] = bytes(record)`):
    /// its fields' bytes, padding zero, one by one as the array's own elements are written.
    ///
    /// # Errors
    /// As for [`read_at`](Self::read_at).
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// let buf = RawArray::<u8>::zeroed(8)?;
    /// buf.write_at(4, 0x0102u16)?;
    /// assert_eq!(buf.to_vec(), [0, 0, 0, 0, 2, 1, 0, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn write_at<T: SharedLayout>(&self, offset: usize, value: T) -> Result<()> {
        self.at_offset::<T>(offset)?;
        let mut bytes = Vec::with_capacity(size_of::<T>());
        value_bytes(value, &mut bytes);
        self.set_range(offset..offset + size_of::<T>(), &bytes)
    }

    /// The accessor view of the `T` at byte `offset` (Python's
    /// `Record.from_buffer(buf, offset)`): the same field accessors as
    /// [`at(i)`](RawArray::at) of a `RawArray<T>`, over slots whose size is known only at run
    /// time.
    ///
    /// It borrows the array mutably: while the view lives, this handle cannot access the same
    /// bytes as bytes (nor through a second view of another type), which would mix atomic
    /// accesses of different sizes to the same memory, and Rust's memory model makes racing
    /// ones undefined behaviour. So one view at a time per handle: to work on several records
    /// at once, copy them out and in with [`read_at`](Self::read_at) and
    /// [`write_at`](Self::write_at). Another process may access the bytes as it likes; a
    /// second handle to the same array in this process (opened or received twice) is not
    /// stopped by the borrow, so do not access the viewed bytes through it from another
    /// thread while the view is in use.
    ///
    /// The array's first byte is aligned to at least 8 bytes, so for types aligned to 8 or
    /// less, whether an offset is aligned depends on the offset alone.
    ///
    /// # Errors
    /// As for [`read_at`](Self::read_at).
    ///
    /// ```
    /// use sharedctypes::{RawArray, SharedLayout};
    ///
    /// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
    /// #[repr(C)]
    /// struct Record {
    ///     id: u32,
    ///     score: f32,
    /// }
    ///
    /// let mut slots = RawArray::<u8>::zeroed(64)?; // records of 8 bytes at run-time offsets
    /// let r = slots.view_at::<Record>(16)?;
    /// r.set_id(7);
    /// r.update_score(|s| s + 1.5);
    /// assert_eq!(slots.read_at::<Record>(16)?, Record { id: 7, score: 1.5 });
    /// assert!(slots.view_at::<Record>(60).is_err()); // would end past the array
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn view_at<T: SharedLayout>(&mut self, offset: usize) -> Result<T::View<'_>> {
        let ptr = self.at_offset::<T>(offset)?;
        // SAFETY: the `T` lies inside the array (checked), aligned for `T` (checked), in a
        // block that lives as long as the borrow of `self`; its bytes are initialised (shared
        // memory holds no uninitialised bytes: its pages read as zero until written, and
        // every write stores initialised bytes) and every bit pattern is a valid `T`. All
        // accesses to them are atomic, never through `&T`/`&mut T` (Place's contract). The
        // mutable borrow keeps this handle from accessing the same bytes with accesses of
        // another size (as bytes, or through a view of another type) while the view lives.
        // Another process accessing them is outside this process's memory model, as with
        // every shared object; so is, as far as the borrow can tell, a second handle to the
        // same array in this process (the method's docs warn against mixing sizes there).
        let place = unsafe { Place::new(ptr.cast::<T>()) };
        Ok(place.view())
    }
}
