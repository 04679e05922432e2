//! [`RawArray`]: a fixed-length array in shared memory, without a lock.

use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::NonNull;

use crate::access::{Iter, Place, SharedLayout, SharedSlice, value_bytes, value_from_bytes};
use crate::description::Kind;
use crate::description::{Description, ElemType};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::named::{self, DEFAULT_MODE, Named, OpenOptions, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

/// A fixed-length array of `T` in shared memory, without a lock (Python's
/// `sharedctypes.RawArray`).
///
/// It dereferences to [`SharedSlice`], as a `Vec` does to a slice, so the element operations
/// are [`SharedSlice`]'s: `len`, `get`/`set`/`update`, `at`/`try_at` (field accessors of
/// derived structs), `get_range`/`set_range`, `slice`, `to_vec`, `fill`, `iter`, `views`,
/// `atomic`, and for `CChar` arrays (typecode `'c'`) CPython's `value`/`raw` string methods,
/// for `WChar` arrays (`'u'`) `value` as a `String`. Elements are read and written by copy.
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
    pub fn as_slice(&self) -> &SharedSlice<T> {
        let ptr: NonNull<T> = self.block.as_non_null().cast();
        // SAFETY: the block is aligned for T and holds `len` initialised elements (zeroed on
        // allocation, then only written through places); it stays allocated while `self` is
        // borrowed, and this type never creates references to its contents.
        unsafe { SharedSlice::from_raw_parts(ptr, self.len) }
    }
}

impl<T: SharedLayout> Deref for RawArray<T> {
    type Target = SharedSlice<T>;

    /// The elements, as a `Vec` dereferences to its slice: every [`SharedSlice`] method is
    /// a method of the array.
    #[inline]
    fn deref(&self) -> &SharedSlice<T> {
        self.as_slice()
    }
}

impl<'a, T: SharedLayout> IntoIterator for &'a RawArray<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.as_slice().iter()
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

/// Plain POSIX shared-memory blocks, as CPython's `SharedMemory` makes them and attaches to
/// them: no header, the elements at offset 0.
impl<T: SharedLayout> RawArray<T> {
    /// Creates the plain POSIX shared-memory block `/dev/shm/<name>` holding `len` zeroed
    /// `T`s, and maps it: CPython's `SharedMemory(name, create=True, size=len *
    /// size_of::<T>())`, which CPython's `SharedMemory(name)` attaches to and numpy wraps
    /// without a copy.
    ///
    /// The block is exactly `len * size_of::<T>()` bytes (nothing is rounded: CPython's
    /// attach reads the size with `fstat`, so `shm.size` is that number on Linux), the
    /// elements lie at offset 0 in `T`'s own layout, and there is **no header**: whoever
    /// attaches must know the element type and derive the length from the size. The file is
    /// readable and writable by this user only (mode 0600, as CPython's), created
    /// exclusively, and published under `name` complete and sized (no process can see it
    /// empty, as it can a block CPython is still creating). Its start is page-aligned, which
    /// the alignment of every [`SharedLayout`] type divides.
    ///
    /// `name` follows CPython's rules: with or without a leading `/` (`"psm_1"` and
    /// `"/psm_1"` are the same block); the handle's [`name`](Named::name) is without it, as
    /// CPython's `shm.name` is.
    ///
    /// # Who removes it
    ///
    /// The returned [`Named`] handle removes the name when it drops (CPython's creator calls
    /// `shm.unlink()`); processes that have it attached keep the memory. To leave it for a
    /// Python process that attaches later, call [`persist`](Named::persist) (or
    /// [`into_inner`](Named::into_inner)), and let Python (`shm.unlink()`) or
    /// [`unlink_shm`](Self::unlink_shm) remove it.
    ///
    /// # CPython's resource tracker
    ///
    /// A Python process that merely *attaches* with `SharedMemory(name)` registers the block
    /// with its resource tracker, which **unlinks it when that process exits** and warns
    /// about a "leaked" object ([gh-82300]): the Rust program, and every later attacher,
    /// find the name gone. Python 3.13 added `track=False` to opt out (the default,
    /// `track=True`, still registers); before 3.13 the attacher unregisters the block
    /// itself, right after attaching (and only in a process that did not create it):
    ///
    /// ```python
    /// import sys
    /// import numpy as np
    /// from multiprocessing import resource_tracker
    /// from multiprocessing.shared_memory import SharedMemory
    ///
    /// if sys.version_info >= (3, 13):
    ///     shm = SharedMemory(name, track=False)
    /// else:
    ///     shm = SharedMemory(name)
    ///     resource_tracker.unregister(shm._name, "shared_memory")
    /// a = np.ndarray((shm.size // 8,), dtype=np.float64, buffer=shm.buf)  # no copy
    /// a *= 2                                  # Rust sees it
    /// del a                                   # release the buffer before close()
    /// shm.close()
    /// ```
    ///
    /// Without numpy, `shm.buf.cast("d")` is the same memory as a `memoryview` of doubles.
    ///
    /// [gh-82300]: https://github.com/python/cpython/issues/82300
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if the name is taken; [`Error::InvalidName`];
    /// [`Error::SizeOverflow`] if `len * size_of::<T>()` overflows;
    /// [`Error::InvalidArgument`] for an empty block (`len` 0 or a zero-sized `T`: CPython
    /// refuses size 0 and cannot attach to an empty block); [`Error::OutOfMemory`];
    /// [`Error::Os`] (`EFBIG` above `RLIMIT_FSIZE`).
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-create-shm-{}", std::process::id());
    /// let a = RawArray::<f64>::create_shm(&name, 4)?; // /dev/shm/<name>, 32 bytes, zeroed
    /// a.copy_from_slice(&[0.5, 1.5, 2.5, 3.5])?;
    /// // No header: the file is the elements, as CPython's SharedMemory(name) sees them.
    /// let bytes = std::fs::read(format!("/dev/shm/{name}")).unwrap();
    /// assert_eq!(bytes.len(), 32);
    /// assert_eq!(bytes[8..16], 1.5f64.to_ne_bytes());
    /// assert_eq!(
    ///     RawArray::<f64>::create_shm(&format!("/{name}"), 4).unwrap_err(), // the same name
    ///     Error::AlreadyExists { name: name.clone() }
    /// );
    /// drop(a); // the creator removes the name
    /// assert!(!std::path::Path::new(&format!("/dev/shm/{name}")).exists());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_shm(name: &str, len: usize) -> Result<Named<RawArray<T>>> {
        named::plain::create_shm::<T>(name, len)
    }

    /// Attaches to the plain POSIX shared-memory block `/dev/shm/<name>`, which CPython's
    /// `SharedMemory(name, create=True, size=n)` (or [`create_shm`](Self::create_shm), or any
    /// other program) made: its `size / size_of::<T>()` elements, from offset 0, mapped
    /// shared (writes are seen by every process that has it attached).
    ///
    /// **No fingerprint is checked**: a plain block has no header saying what it holds, so
    /// the only check is that its size is a whole number of `T`s. A block of 16 bytes opens
    /// as two `f64`s, four `u32`s or one `Point { x: f64, y: f64 }` alike; agreeing on the
    /// element type is up to the two programs (numpy's `dtype` against `T`). Named objects
    /// ([`create_named`](Self::create_named)) carry their layout and are checked;
    /// `open_shm` refuses one of them (it starts with their header) and points to
    /// [`open_named`](Self::open_named).
    ///
    /// What can be checked is: the name (CPython's rules, with or without the leading `/`;
    /// see [`create_shm`](Self::create_shm)), that it is a regular file (no directory, no
    /// symbolic link followed), that it belongs to this process's user (refused with
    /// [`Error::OtherOwner`] otherwise, as for every named object: see
    /// [`open_shm_with`](Self::open_shm_with)), that its size is a positive multiple of
    /// `size_of::<T>()` and can be mapped. The mapping starts at a page boundary, so every
    /// element is aligned.
    ///
    /// The handle never removes the name: the creator does (CPython's `shm.unlink()`), or
    /// [`unlink_shm`](Self::unlink_shm). A block that another process shrinks while it is
    /// mapped here kills this process with `SIGBUS` at its next access to the lost pages, as
    /// for any shared file (see [the trust model](crate::named#the-trust-model)).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::LengthMismatch`] if the size is not a multiple of
    /// `size_of::<T>()`, in bytes: `actual` is the block's size and `expected` the bytes its
    /// whole elements fill (the size rounded down to a multiple of `size_of::<T>()`);
    /// [`Error::InvalidArgument`] for an empty block (0 bytes, as a block CPython is still
    /// creating is for an instant; CPython cannot attach to one either), a zero-sized `T`, or
    /// a sharedctypes named object; [`Error::OtherOwner`]; [`Error::PermissionDenied`];
    /// [`Error::NotNamedObject`] for a directory or another non-regular file;
    /// [`Error::InvalidName`]; [`Error::OutOfMemory`].
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-open-shm-{}", std::process::id());
    /// // Python: shm = SharedMemory(name, create=True, size=12); shm.buf[:12] = ...
    /// # std::fs::write(format!("/dev/shm/{name}"), [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]).unwrap();
    /// let a = RawArray::<u32>::open_shm(&format!("/{name}"))?; // with or without the slash
    /// assert_eq!((a.name(), a.to_vec()), (name.as_str(), vec![1, 2, 3]));
    /// assert_eq!(
    ///     RawArray::<u64>::open_shm(&name).unwrap_err(), // 12 bytes are not whole u64s
    ///     Error::LengthMismatch { expected: 8, actual: 12 }
    /// );
    /// RawArray::<u32>::unlink_shm(&name)?; // CPython's shm.unlink()
    /// assert_eq!(
    ///     RawArray::<u32>::open_shm(&name).unwrap_err(),
    ///     Error::NotFound { name: name.clone() }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_shm(name: &str) -> Result<Named<RawArray<T>>> {
        named::plain::open_shm::<T>(name)
    }

    /// [`open_shm`](Self::open_shm) with [`OpenOptions`]: `allow_other_owner: true` attaches
    /// to a block another user owns (refused by default, as for every named object: whoever
    /// can write the block, or planted it under a name you expected to create, controls what
    /// this process reads).
    ///
    /// # Errors
    /// As for [`open_shm`](Self::open_shm).
    ///
    /// ```
    /// use sharedctypes::{RawArray, named::OpenOptions};
    /// # let name = format!("sharedctypes-doc-open-shm-with-{}", std::process::id());
    /// let created = RawArray::<i16>::create_shm(&name, 3)?;
    /// created.set(2, -7)?;
    /// let opened = RawArray::<i16>::open_shm_with(&name, OpenOptions { allow_other_owner: true })?;
    /// assert_eq!(opened.to_vec(), [0, 0, -7]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_shm_with(name: &str, options: OpenOptions) -> Result<Named<RawArray<T>>> {
        named::plain::open_shm_with::<T>(name, options)
    }

    /// Removes the name of the plain shared-memory block `name` (CPython's `shm.unlink()`,
    /// `shm_unlink`): it can no longer be attached to, and its memory goes once no process
    /// maps it. For a block that was [`persist`](Named::persist)ed, or that CPython made and
    /// left to this process to remove. The element type plays no part. Unlike
    /// [`unlink_named`](crate::named::unlink_named), it does not look inside: whatever file
    /// of `/dev/shm` is under the name goes (the directory's sticky bit lets only its owner,
    /// or root, remove it).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::PermissionDenied`]; [`Error::InvalidName`];
    /// [`Error::Os`] (e.g. `EISDIR` for a directory).
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-unlink-shm-{}", std::process::id());
    /// RawArray::<u8>::create_shm(&name, 10)?.persist(); // stays after its handle drops
    /// assert_eq!(RawArray::<u8>::open_shm(&name)?.len(), 10);
    /// RawArray::<u8>::unlink_shm(&format!("/{name}"))?;
    /// assert_eq!(
    ///     RawArray::<u8>::unlink_shm(&name),
    ///     Err(Error::NotFound { name: name.clone() })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn unlink_shm(name: &str) -> Result<()> {
        named::plain::unlink_shm(name)
    }
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
    /// [`at(i)`](SharedSlice::at) of a `RawArray<T>`, over slots whose size is known only at run
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
