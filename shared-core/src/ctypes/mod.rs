//! The names of Python's `ctypes` module, as Rust types.
//!
//! Integer and float names are type aliases with this platform's C sizes (`c_long` is `i64` on
//! LP64 Linux, like Python's). The three types whose Rust counterparts are not valid for every
//! bit pattern (`char`, `bool`, wide characters) are `#[repr(transparent)]` newtypes instead —
//! [`CChar`], [`WChar`] and [`CBool`] — because a byte that another process wrote into shared
//! memory must be a valid value whatever it is.
//!
//! ```
//! use sharedctypes::ctypes::{c_char, c_double, c_int, c_short};
//! use sharedctypes::{CChar, RawArray, RawValue};
//!
//! let x = RawValue::<c_double>::new(2.4)?;
//! let a = RawArray::<c_short>::zeroed(7)?;
//! let n = RawValue::<c_int>::new(-3)?;
//! let s = RawArray::<c_char>::zeroed(5)?;
//! s.set_value(b"hi")?;
//! assert_eq!((x.get(), a.len(), n.get(), s.value()), (2.4, 7, -3, b"hi".to_vec()));
//! assert_eq!(CChar::from(b'x'), CChar(b'x'));
//! # Ok::<(), sharedctypes::Error>(())
//! ```
#![allow(non_camel_case_types)]

mod newtypes;

pub use newtypes::{CBool, CChar, WChar};

/// `ctypes.c_char`: one byte of a C string (typecode `'c'`).
///
/// ```
/// use sharedctypes::{CChar, ctypes::c_char};
/// assert_eq!((size_of::<c_char>(), c_char::from(b'A')), (1, CChar(65)));
/// ```
pub type c_char = CChar;
/// `ctypes.c_wchar`: a `wchar_t`, 4 bytes on Linux (typecode `'u'`).
///
/// ```
/// use sharedctypes::{WChar, ctypes::c_wchar};
/// assert_eq!((size_of::<c_wchar>(), c_wchar::from('€')), (4, WChar(0x20AC)));
/// ```
pub type c_wchar = WChar;
/// `ctypes.c_bool`: C's `_Bool`, one byte.
///
/// ```
/// use sharedctypes::{CBool, ctypes::c_bool};
/// assert_eq!((size_of::<c_bool>(), c_bool::from(true)), (1, CBool(1)));
/// ```
pub type c_bool = CBool;
/// `ctypes.c_byte`: `signed char` (typecode `'b'`).
///
/// ```
/// use sharedctypes::ctypes::c_byte;
/// assert_eq!((c_byte::MIN, c_byte::MAX), (-128, 127));
/// ```
pub type c_byte = i8;
/// `ctypes.c_ubyte`: `unsigned char` (typecode `'B'`).
///
/// ```
/// use sharedctypes::ctypes::c_ubyte;
/// assert_eq!(c_ubyte::MAX, 255);
/// ```
pub type c_ubyte = u8;
/// `ctypes.c_short`: `short` (typecode `'h'`).
///
/// ```
/// use sharedctypes::ctypes::c_short;
/// assert_eq!((c_short::MIN, c_short::MAX), (-32768, 32767));
/// ```
pub type c_short = core::ffi::c_short;
/// `ctypes.c_ushort`: `unsigned short` (typecode `'H'`).
///
/// ```
/// use sharedctypes::ctypes::c_ushort;
/// assert_eq!(c_ushort::MAX, 65535);
/// ```
pub type c_ushort = core::ffi::c_ushort;
/// `ctypes.c_int`: `int` (typecode `'i'`).
///
/// ```
/// use sharedctypes::ctypes::c_int;
/// assert_eq!(size_of::<c_int>(), 4);
/// ```
pub type c_int = core::ffi::c_int;
/// `ctypes.c_uint`: `unsigned int` (typecode `'I'`).
///
/// ```
/// use sharedctypes::ctypes::c_uint;
/// assert_eq!(c_uint::MAX, 4_294_967_295);
/// ```
pub type c_uint = core::ffi::c_uint;
/// `ctypes.c_long`: `long`, 8 bytes on LP64 (typecode `'l'`).
///
/// ```
/// use sharedctypes::ctypes::c_long;
/// assert_eq!(size_of::<c_long>(), 8); // on 64-bit Linux
/// ```
pub type c_long = core::ffi::c_long;
/// `ctypes.c_ulong`: `unsigned long` (typecode `'L'`).
///
/// ```
/// use sharedctypes::ctypes::c_ulong;
/// assert_eq!(c_ulong::MAX, u64::MAX.into()); // on 64-bit Linux
/// ```
pub type c_ulong = core::ffi::c_ulong;
/// `ctypes.c_longlong`: `long long` (typecode `'q'`).
///
/// ```
/// use sharedctypes::ctypes::c_longlong;
/// assert_eq!(c_longlong::MIN, -9_223_372_036_854_775_808);
/// ```
pub type c_longlong = core::ffi::c_longlong;
/// `ctypes.c_ulonglong`: `unsigned long long` (typecode `'Q'`).
///
/// ```
/// use sharedctypes::ctypes::c_ulonglong;
/// assert_eq!(c_ulonglong::MAX, 18_446_744_073_709_551_615);
/// ```
pub type c_ulonglong = core::ffi::c_ulonglong;
/// `ctypes.c_float`: `float` (typecode `'f'`).
///
/// ```
/// use sharedctypes::ctypes::c_float;
/// assert_eq!((size_of::<c_float>(), 0.1 as c_float), (4, 0.1f32));
/// ```
pub type c_float = f32;
/// `ctypes.c_double`: `double` (typecode `'d'`).
///
/// ```
/// use sharedctypes::ctypes::c_double;
/// assert_eq!(size_of::<c_double>(), 8);
/// ```
pub type c_double = f64;
/// `ctypes.c_size_t`: `size_t`.
///
/// ```
/// use sharedctypes::ctypes::c_size_t;
/// assert_eq!(size_of::<c_size_t>(), size_of::<*const u8>()); // pointer-sized
/// ```
pub type c_size_t = usize;
/// `ctypes.c_ssize_t`: `ssize_t`.
///
/// ```
/// use sharedctypes::ctypes::{c_size_t, c_ssize_t};
/// assert_eq!(c_ssize_t::MAX as c_size_t, c_size_t::MAX / 2);
/// ```
pub type c_ssize_t = isize;
/// `ctypes.c_int8`.
///
/// ```
/// use sharedctypes::ctypes::c_int8;
/// assert_eq!((size_of::<c_int8>(), c_int8::MIN), (1, -128));
/// ```
pub type c_int8 = i8;
/// `ctypes.c_int16`.
///
/// ```
/// use sharedctypes::ctypes::c_int16;
/// assert_eq!((size_of::<c_int16>(), c_int16::MIN), (2, -32768));
/// ```
pub type c_int16 = i16;
/// `ctypes.c_int32`.
///
/// ```
/// use sharedctypes::ctypes::c_int32;
/// assert_eq!((size_of::<c_int32>(), c_int32::MIN), (4, -2_147_483_648));
/// ```
pub type c_int32 = i32;
/// `ctypes.c_int64`.
///
/// ```
/// use sharedctypes::ctypes::c_int64;
/// assert_eq!((size_of::<c_int64>(), c_int64::MIN), (8, -9_223_372_036_854_775_808));
/// ```
pub type c_int64 = i64;
/// `ctypes.c_uint8`.
///
/// ```
/// use sharedctypes::ctypes::c_uint8;
/// assert_eq!((size_of::<c_uint8>(), c_uint8::MAX), (1, 255));
/// ```
pub type c_uint8 = u8;
/// `ctypes.c_uint16`.
///
/// ```
/// use sharedctypes::ctypes::c_uint16;
/// assert_eq!((size_of::<c_uint16>(), c_uint16::MAX), (2, 65_535));
/// ```
pub type c_uint16 = u16;
/// `ctypes.c_uint32`.
///
/// ```
/// use sharedctypes::ctypes::c_uint32;
/// assert_eq!((size_of::<c_uint32>(), c_uint32::MAX), (4, 4_294_967_295));
/// ```
pub type c_uint32 = u32;
/// `ctypes.c_uint64`.
///
/// ```
/// use sharedctypes::ctypes::c_uint64;
/// assert_eq!((size_of::<c_uint64>(), c_uint64::MAX), (8, 18_446_744_073_709_551_615));
/// ```
pub type c_uint64 = u64;
