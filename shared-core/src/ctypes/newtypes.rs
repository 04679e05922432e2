//! `CChar`, `WChar` and `CBool`: C character and boolean types that are valid for every bit
//! pattern, so that whatever another process wrote can be read back soundly.

use core::fmt;

/// One byte of a C string: Python's `c_char`, typecode `'c'`.
///
/// A newtype rather than `u8` so that arrays of it get the string methods `value()` / `raw()`
/// (see [`SharedSlice::value`](crate::access::SharedSlice::value)).
///
/// ```
/// use sharedctypes::CChar;
/// let c = CChar::from(b'x');
/// assert_eq!(c, CChar(b'x'));
/// assert_eq!(u8::from(c), b'x');
/// assert_eq!(format!("{c:?}"), "b'x'");
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CChar(pub u8);

impl From<u8> for CChar {
    fn from(b: u8) -> Self {
        CChar(b)
    }
}

impl From<CChar> for u8 {
    fn from(c: CChar) -> Self {
        c.0
    }
}

impl fmt::Debug for CChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b'{}'", core::ascii::escape_default(self.0))
    }
}

/// A C `wchar_t` (4 bytes on Linux): Python's `c_wchar`, typecode `'u'`.
///
/// Holds any 32-bit value, because another process may write any; convert to `char` with
/// [`WChar::to_char`] or `char::try_from`.
///
/// ```
/// use sharedctypes::WChar;
/// let w = WChar::from('é');
/// assert_eq!(w, WChar(0xE9));
/// assert_eq!(char::try_from(w), Ok('é'));
/// assert_eq!(WChar(0xD800).to_char(), None); // a lone surrogate is not a char
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct WChar(pub u32);

impl WChar {
    /// The `char` this wide character encodes, or `None` if it is not a Unicode scalar value.
    ///
    /// ```
    /// use sharedctypes::WChar;
    /// assert_eq!(WChar(0x263A).to_char(), Some('☺'));
    /// assert_eq!(WChar(0x11_0000).to_char(), None); // past U+10FFFF
    /// ```
    #[must_use]
    pub fn to_char(self) -> Option<char> {
        char::from_u32(self.0)
    }
}

impl From<char> for WChar {
    fn from(c: char) -> Self {
        WChar(c as u32)
    }
}

impl TryFrom<WChar> for char {
    type Error = core::char::CharTryFromError;
    fn try_from(w: WChar) -> Result<char, Self::Error> {
        char::try_from(w.0)
    }
}

impl fmt::Debug for WChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_char() {
            Some(c) => write!(f, "{c:?}"),
            None => write!(f, "WChar({:#x})", self.0),
        }
    }
}

/// C's `_Bool`: Python's `c_bool`, one byte.
///
/// Any non-zero byte reads as `true` (as in C), because another process may write any byte.
///
/// ```
/// use sharedctypes::CBool;
/// assert!(bool::from(CBool::from(true)));
/// assert!(CBool(7).get());
/// assert!(!CBool::default().get());
/// ```
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CBool(pub u8);

impl CBool {
    /// `false` for a zero byte, `true` for any other.
    ///
    /// ```
    /// use sharedctypes::CBool;
    /// assert_eq!((CBool(0).get(), CBool(1).get(), CBool(0xFF).get()), (false, true, true));
    /// ```
    #[must_use]
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for CBool {
    fn from(b: bool) -> Self {
        CBool(u8::from(b))
    }
}

impl From<CBool> for bool {
    fn from(b: CBool) -> Self {
        b.get()
    }
}

impl fmt::Debug for CBool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}
