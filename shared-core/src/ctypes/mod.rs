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
pub type c_char = CChar;
/// `ctypes.c_wchar`: a `wchar_t`, 4 bytes on Linux (typecode `'u'`).
pub type c_wchar = WChar;
/// `ctypes.c_bool`: C's `_Bool`, one byte.
pub type c_bool = CBool;
/// `ctypes.c_byte`: `signed char` (typecode `'b'`).
pub type c_byte = i8;
/// `ctypes.c_ubyte`: `unsigned char` (typecode `'B'`).
pub type c_ubyte = u8;
/// `ctypes.c_short`: `short` (typecode `'h'`).
pub type c_short = core::ffi::c_short;
/// `ctypes.c_ushort`: `unsigned short` (typecode `'H'`).
pub type c_ushort = core::ffi::c_ushort;
/// `ctypes.c_int`: `int` (typecode `'i'`).
pub type c_int = core::ffi::c_int;
/// `ctypes.c_uint`: `unsigned int` (typecode `'I'`).
pub type c_uint = core::ffi::c_uint;
/// `ctypes.c_long`: `long`, 8 bytes on LP64 (typecode `'l'`).
pub type c_long = core::ffi::c_long;
/// `ctypes.c_ulong`: `unsigned long` (typecode `'L'`).
pub type c_ulong = core::ffi::c_ulong;
/// `ctypes.c_longlong`: `long long` (typecode `'q'`).
pub type c_longlong = core::ffi::c_longlong;
/// `ctypes.c_ulonglong`: `unsigned long long` (typecode `'Q'`).
pub type c_ulonglong = core::ffi::c_ulonglong;
/// `ctypes.c_float`: `float` (typecode `'f'`).
pub type c_float = f32;
/// `ctypes.c_double`: `double` (typecode `'d'`).
pub type c_double = f64;
/// `ctypes.c_size_t`: `size_t`.
pub type c_size_t = usize;
/// `ctypes.c_ssize_t`: `ssize_t`.
pub type c_ssize_t = isize;
/// `ctypes.c_int8`.
pub type c_int8 = i8;
/// `ctypes.c_int16`.
pub type c_int16 = i16;
/// `ctypes.c_int32`.
pub type c_int32 = i32;
/// `ctypes.c_int64`.
pub type c_int64 = i64;
/// `ctypes.c_uint8`.
pub type c_uint8 = u8;
/// `ctypes.c_uint16`.
pub type c_uint16 = u16;
/// `ctypes.c_uint32`.
pub type c_uint32 = u32;
/// `ctypes.c_uint64`.
pub type c_uint64 = u64;
