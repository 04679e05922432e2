//! Shared objects as bytes (Python's `bytes(obj)` and `memoryview(obj)[:] = b`), and typed
//! access at a byte offset of a byte array (Python's `Record.from_buffer(buf, offset)`).

use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::access::{Place, SharedLayout, value_bytes, value_from_bytes};
use crate::array::RawArray;
use crate::error::{Error, Result};
use crate::lock::SharedLock;
use crate::synchronized::Synchronized;
use crate::value::RawValue;

fn check_len(expected: usize, actual: usize) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, actual })
    }
}

impl<T: SharedLayout> RawValue<T> {
    /// The value's bytes (Python's `bytes(v)`): each field's bytes at its offset, in the
    /// machine's byte order, padding zero.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new(0x0102_0304u32)?;
    /// assert_eq!(v.to_bytes(), [4, 3, 2, 1]); // little-endian
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(size_of::<T>());
        value_bytes(self.get(), &mut out);
        out
    }

    /// Overwrites the value with `bytes` (Python's `memoryview(v)[:] = b`): exactly
    /// `size_of::<T>()` of them, whatever they are (every bit pattern is a valid `T`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for another length.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let v = RawValue::new(0u16)?;
    /// v.set_bytes(&[0x34, 0x12])?;
    /// assert_eq!(v.get(), 0x1234);
    /// assert_eq!(v.set_bytes(&[1]), Err(Error::LengthMismatch { expected: 2, actual: 1 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        check_len(size_of::<T>(), bytes.len())?;
        self.set(value_from_bytes(bytes));
        Ok(())
    }
}

impl<T: SharedLayout> RawArray<T> {
    /// Every element's bytes, one after the other (Python's `bytes(arr)`); see
    /// [`RawValue::to_bytes`].
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
        check_len(self.len() * size_of::<T>(), bytes.len())?;
        if size_of::<T>() == 0 {
            return Ok(());
        }
        for (i, chunk) in bytes.chunks_exact(size_of::<T>()).enumerate() {
            self.set(i, value_from_bytes(chunk))?;
        }
        Ok(())
    }
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawValue<T>, L> {
    /// [`RawValue::to_bytes`] under the lock.
    ///
    /// # Errors
    /// [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    ///
    /// ```
    /// use sharedctypes::Value;
    /// assert_eq!(Value::new(-1i8)?.to_bytes()?, [0xff]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.locked(RawValue::to_bytes)
    }

    /// [`RawValue::set_bytes`] under the lock (the length is checked before locking).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let v = Value::new(0u32)?;
    /// v.set_bytes(&7u32.to_ne_bytes())?;
    /// assert_eq!(v.get()?, 7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        check_len(size_of::<T>(), bytes.len())?;
        self.locked(|v| v.set_bytes(bytes))?
    }
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
        check_len(self.len() * size_of::<T>(), bytes.len())?;
        self.locked(|a| a.set_bytes(bytes))?
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
