//! What [`Synchronized`] adds for character arrays: CPython's `value` and `raw`, under the
//! lock. The string rules and their examples are on [`SharedSlice`].

use super::Synchronized;
#[cfg(doc)]
use crate::access::SharedSlice;
use crate::array::RawArray;
use crate::ctypes::{CChar, WChar};
use crate::error::Result;
use crate::lock::SharedLock;

impl<L: SharedLock> Synchronized<RawArray<CChar>, L> {
    /// [`SharedSlice::value`] under the lock (Python's `s.value`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`](crate::Error::OwnerDied) (see [`Synchronized::locked`]).
    pub fn value(&self) -> Result<Vec<u8>> {
        self.locked(RawArray::<CChar>::value)
    }

    /// [`SharedSlice::raw`] under the lock (Python's `s.raw`).
    ///
    /// # Errors
    /// As for [`value`](Self::value).
    pub fn raw(&self) -> Result<Vec<u8>> {
        self.locked(RawArray::<CChar>::raw)
    }

    /// [`SharedSlice::set_value`] under the lock (Python's `s.value = ...`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`](crate::Error::OwnerDied).
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }

    /// [`SharedSlice::set_raw`] under the lock (Python's `s.raw = ...`).
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`](crate::Error::OwnerDied).
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.locked(|s| s.set_raw(raw))?
    }
}

impl<L: SharedLock> Synchronized<RawArray<WChar>, L> {
    /// [`SharedSlice::<WChar>::value`](SharedSlice::value) under the lock (Python's
    /// `w.value`; invalid characters read as U+FFFD).
    ///
    /// # Errors
    /// [`Error::OwnerDied`](crate::Error::OwnerDied).
    pub fn value(&self) -> Result<String> {
        self.locked(RawArray::<WChar>::value)
    }

    /// [`SharedSlice::<WChar>::set_value`](SharedSlice::set_value) under the lock.
    ///
    /// # Errors
    /// As there, and [`Error::OwnerDied`](crate::Error::OwnerDied).
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.locked(|s| s.set_value(value))?
    }
}
