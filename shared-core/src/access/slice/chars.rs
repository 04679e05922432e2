//! String views of character arrays, with CPython's exact rules.
//!
//! CPython's `c_char` arrays have `.value` (the bytes up to the first NUL) and `.raw` (all
//! bytes). Writing `.value`: a value longer than the array is an error ("byte string too
//! long"); one exactly as long is stored without a NUL; a shorter one is followed by a NUL.
//! Writing `.raw` with a shorter value overwrites only that prefix. `c_wchar` arrays have
//! `.value` with the same rules, counted in characters.

use super::SharedSlice;
use crate::ctypes::{CChar, WChar};
use crate::error::{Error, Result};

impl SharedSlice<CChar> {
    /// The bytes up to (not including) the first NUL, or all of them if there is none
    /// (Python's `arr.value`).
    ///
    /// ```
    /// use sharedctypes::{CChar, RawArray};
    /// let s = RawArray::<CChar>::zeroed(8)?;
    /// s.set_raw(b"ab\0cd")?;
    /// assert_eq!(s.value(), b"ab");
    /// assert_eq!(s.raw(), b"ab\0cd\0\0\0");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> Vec<u8> {
        self.iter().map(u8::from).take_while(|&b| b != 0).collect()
    }

    /// Every byte of the array (Python's `arr.raw`).
    ///
    /// ```
    /// use sharedctypes::{CChar, RawArray};
    /// let s = RawArray::<CChar>::zeroed(4)?;
    /// s.set_value(b"ok")?;
    /// assert_eq!(s.as_slice().raw(), b"ok\0\0");
    /// assert_eq!(s.as_slice().slice(1..3)?.raw(), b"k\0");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn raw(&self) -> Vec<u8> {
        self.iter().map(u8::from).collect()
    }

    /// Stores `value` and, if it is shorter than the array, a terminating NUL after it
    /// (Python's `arr.value = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] ("byte string too long") if `value` is longer than the array.
    ///
    /// ```
    /// use sharedctypes::{CChar, Error, RawArray};
    /// let s = RawArray::<CChar>::zeroed(5)?;
    /// s.set_value(b"hello")?; // exactly as long: no NUL needed
    /// assert_eq!(s.value(), b"hello");
    /// s.set_value(b"hi")?;
    /// assert_eq!(s.raw(), b"hi\0lo");
    /// assert_eq!(
    ///     s.set_value(b"hello!").unwrap_err(),
    ///     Error::TooLong { what: "byte string", len: 6, capacity: 5 }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &[u8]) -> Result<()> {
        self.check_fits("byte string", value.len())?;
        self.write_bytes(value);
        if let Some(nul) = self.place(value.len()) {
            nul.store(CChar(0));
        }
        Ok(())
    }

    /// Overwrites the first `raw.len()` bytes, leaving the rest as they are (Python's
    /// `arr.raw = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] ("byte string too long") if `raw` is longer than the array.
    ///
    /// ```
    /// use sharedctypes::{CChar, Error, RawArray};
    /// let s = RawArray::<CChar>::zeroed(5)?;
    /// s.as_slice().set_raw(b"hello")?;
    /// s.as_slice().set_raw(b"J")?; // only the first byte changes
    /// assert_eq!(s.value(), b"Jello");
    /// assert_eq!(
    ///     s.as_slice().set_raw(b"hello!"),
    ///     Err(Error::TooLong { what: "byte string", len: 6, capacity: 5 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_raw(&self, raw: &[u8]) -> Result<()> {
        self.check_fits("byte string", raw.len())?;
        self.write_bytes(raw);
        Ok(())
    }

    fn write_bytes(&self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.nth(i).store(CChar(b));
        }
    }
}

impl SharedSlice<WChar> {
    /// The characters up to the first NUL (Python's `arr.value`); a `wchar_t` that is not a
    /// Unicode scalar value reads as U+FFFD (use [`try_value`](Self::try_value) to get an
    /// error instead).
    ///
    /// ```
    /// use sharedctypes::{RawArray, WChar};
    /// let s = RawArray::<WChar>::zeroed(10)?;
    /// s.set_value("grüße")?;
    /// assert_eq!(s.value(), "grüße");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> String {
        self.chars()
            .map(|(_, w)| w.to_char().unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }

    /// The characters up to the first NUL.
    ///
    /// # Errors
    /// [`Error::InvalidWideChar`] for a `wchar_t` that is not a Unicode scalar value.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue, WChar};
    /// let v = RawValue::new([WChar::from('a'), WChar(0x11_0000), WChar(0)])?;
    /// assert_eq!(
    ///     v.view().try_value(),
    ///     Err(Error::InvalidWideChar { index: 1, value: 0x11_0000 })
    /// );
    /// assert_eq!(v.view().slice(..1)?.try_value()?, "a");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_value(&self) -> Result<String> {
        self.chars()
            .map(|(index, w)| {
                w.to_char()
                    .ok_or(Error::InvalidWideChar { index, value: w.0 })
            })
            .collect()
    }

    fn chars(&self) -> impl Iterator<Item = (usize, WChar)> + '_ {
        self.iter().enumerate().take_while(|&(_, w)| w.0 != 0)
    }

    /// Stores the characters of `value` and, if there are fewer than the array holds, a NUL
    /// after them (Python's `arr.value = ...`).
    ///
    /// # Errors
    /// [`Error::TooLong`] ("string too long") if `value` has more characters than the array.
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray, WChar};
    /// let s = RawArray::<WChar>::zeroed(4)?;
    /// s.as_slice().set_value("ab")?;
    /// assert_eq!(s.to_vec(), [WChar::from('a'), WChar::from('b'), WChar(0), WChar(0)]);
    /// assert_eq!(
    ///     s.as_slice().set_value("héllo"),
    ///     Err(Error::TooLong { what: "string", len: 5, capacity: 4 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_value(&self, value: &str) -> Result<()> {
        self.check_fits("string", value.chars().count())?;
        let mut end = 0;
        for (i, c) in value.chars().enumerate() {
            self.nth(i).store(WChar::from(c));
            end = i + 1;
        }
        if let Some(nul) = self.place(end) {
            nul.store(WChar(0));
        }
        Ok(())
    }
}

impl<T: crate::access::SharedLayout> SharedSlice<T> {
    fn check_fits(&self, what: &'static str, len: usize) -> Result<()> {
        if len > self.len() {
            Err(Error::TooLong {
                what,
                len,
                capacity: self.len(),
            })
        } else {
            Ok(())
        }
    }
}
