//! Python `array`-module typecodes: [`TypeCode`] at run time, [`tc!`](crate::tc) at compile
//! time.

use core::fmt;

use crate::access::SharedLayout;
use crate::error::{Error, Result};
use crate::layout::Layout;

/// Maps a typecode that sharedctypes accepts (`c u b B h H i I l L q Q f d`, as CPython's
/// `sharedctypes.typecode_to_type`) to its Rust type, at compile time.
///
/// ```
/// use sharedctypes::{RawArray, RawValue, tc};
///
/// let x = RawValue::<tc!('d')>::new(2.4)?; // f64
/// let a = RawArray::<tc!('h')>::zeroed(7)?; // i16
/// let l: tc!('l') = 1 << 40; // C long: i64 on LP64
/// assert_eq!((x.get(), a.len(), l), (2.4, 7, 1 << 40));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
///
/// An unknown code does not compile, and the error lists the valid ones:
///
/// ```compile_fail
/// let v: sharedctypes::tc!('z') = 0; // error: unknown typecode 'z': valid typecodes are c u b B h H i I l L q Q f d
/// ```
#[macro_export]
macro_rules! tc {
    ('c') => {
        $crate::ctypes::c_char
    };
    ('u') => {
        $crate::ctypes::c_wchar
    };
    ('b') => {
        $crate::ctypes::c_byte
    };
    ('B') => {
        $crate::ctypes::c_ubyte
    };
    ('h') => {
        $crate::ctypes::c_short
    };
    ('H') => {
        $crate::ctypes::c_ushort
    };
    ('i') => {
        $crate::ctypes::c_int
    };
    ('I') => {
        $crate::ctypes::c_uint
    };
    ('l') => {
        $crate::ctypes::c_long
    };
    ('L') => {
        $crate::ctypes::c_ulong
    };
    ('q') => {
        $crate::ctypes::c_longlong
    };
    ('Q') => {
        $crate::ctypes::c_ulonglong
    };
    ('f') => {
        $crate::ctypes::c_float
    };
    ('d') => {
        $crate::ctypes::c_double
    };
    // A type (so that no follow-on "expected type" error appears) whose length is the error.
    ($other:tt) => {
        [(); {
            ::core::compile_error!(::core::concat!(
                "unknown typecode ",
                ::core::stringify!($other),
                ": valid typecodes are c u b B h H i I l L q Q f d"
            ));
            0
        }]
    };
}

/// A typecode that sharedctypes accepts, at run time.
///
/// ```
/// use sharedctypes::{Error, TypeCode};
///
/// let d = TypeCode::parse('d')?;
/// assert_eq!((d, d.size(), d.ctypes_name()), (TypeCode::Double, 8, "c_double"));
/// assert_eq!(
///     TypeCode::parse('z').unwrap_err().to_string(),
///     "unknown typecode 'z': valid typecodes are c u b B h H i I l L q Q f d"
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeCode {
    /// `'c'`: [`c_char`](crate::ctypes::c_char).
    Char,
    /// `'u'`: [`c_wchar`](crate::ctypes::c_wchar).
    WChar,
    /// `'b'`: [`c_byte`](crate::ctypes::c_byte).
    Byte,
    /// `'B'`: [`c_ubyte`](crate::ctypes::c_ubyte).
    UByte,
    /// `'h'`: [`c_short`](crate::ctypes::c_short).
    Short,
    /// `'H'`: [`c_ushort`](crate::ctypes::c_ushort).
    UShort,
    /// `'i'`: [`c_int`](crate::ctypes::c_int).
    Int,
    /// `'I'`: [`c_uint`](crate::ctypes::c_uint).
    UInt,
    /// `'l'`: [`c_long`](crate::ctypes::c_long).
    Long,
    /// `'L'`: [`c_ulong`](crate::ctypes::c_ulong).
    ULong,
    /// `'q'`: [`c_longlong`](crate::ctypes::c_longlong).
    LongLong,
    /// `'Q'`: [`c_ulonglong`](crate::ctypes::c_ulonglong).
    ULongLong,
    /// `'f'`: [`c_float`](crate::ctypes::c_float).
    Float,
    /// `'d'`: [`c_double`](crate::ctypes::c_double).
    Double,
}

impl TypeCode {
    /// Every typecode, in CPython's order.
    ///
    /// ```
    /// use sharedctypes::TypeCode;
    /// let codes: String = TypeCode::ALL.iter().map(|t| t.as_char()).collect();
    /// assert_eq!(codes, "cubBhHiIlLqQfd");
    /// ```
    pub const ALL: [TypeCode; 14] = [
        TypeCode::Char,
        TypeCode::WChar,
        TypeCode::Byte,
        TypeCode::UByte,
        TypeCode::Short,
        TypeCode::UShort,
        TypeCode::Int,
        TypeCode::UInt,
        TypeCode::Long,
        TypeCode::ULong,
        TypeCode::LongLong,
        TypeCode::ULongLong,
        TypeCode::Float,
        TypeCode::Double,
    ];

    /// The typecode for `code`.
    ///
    /// # Errors
    /// [`Error::UnknownTypeCode`], whose message lists the valid codes.
    ///
    /// ```
    /// use sharedctypes::{Error, TypeCode};
    /// assert_eq!(TypeCode::parse('i')?, TypeCode::Int);
    /// assert_eq!(TypeCode::try_from('Q')?, TypeCode::ULongLong);
    /// assert_eq!(TypeCode::parse('x'), Err(Error::UnknownTypeCode { code: 'x' }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn parse(code: char) -> Result<TypeCode> {
        TypeCode::ALL
            .into_iter()
            .find(|t| t.as_char() == code)
            .ok_or(Error::UnknownTypeCode { code })
    }

    /// The typecode character.
    ///
    /// ```
    /// use sharedctypes::TypeCode;
    /// assert_eq!(TypeCode::ULong.as_char(), 'L');
    /// assert_eq!(TypeCode::ULong.to_string(), "L"); // Display prints the character too
    /// ```
    pub const fn as_char(self) -> char {
        match self {
            TypeCode::Char => 'c',
            TypeCode::WChar => 'u',
            TypeCode::Byte => 'b',
            TypeCode::UByte => 'B',
            TypeCode::Short => 'h',
            TypeCode::UShort => 'H',
            TypeCode::Int => 'i',
            TypeCode::UInt => 'I',
            TypeCode::Long => 'l',
            TypeCode::ULong => 'L',
            TypeCode::LongLong => 'q',
            TypeCode::ULongLong => 'Q',
            TypeCode::Float => 'f',
            TypeCode::Double => 'd',
        }
    }

    /// The layout of the type the code stands for (the same type as `tc!`).
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, TypeCode, layout::LayoutKind, tc};
    /// let l = TypeCode::Short.layout();
    /// assert_eq!(l, &<tc!('h')>::LAYOUT);
    /// assert_eq!(l.kind, LayoutKind::Primitive { c_type: "int16_t", ctypes: "c_int16" });
    /// ```
    #[must_use]
    pub const fn layout(self) -> &'static Layout {
        use crate::ctypes::*;
        match self {
            TypeCode::Char => &c_char::LAYOUT,
            TypeCode::WChar => &c_wchar::LAYOUT,
            TypeCode::Byte => &c_byte::LAYOUT,
            TypeCode::UByte => &c_ubyte::LAYOUT,
            TypeCode::Short => &c_short::LAYOUT,
            TypeCode::UShort => &c_ushort::LAYOUT,
            TypeCode::Int => &c_int::LAYOUT,
            TypeCode::UInt => &c_uint::LAYOUT,
            TypeCode::Long => &c_long::LAYOUT,
            TypeCode::ULong => &c_ulong::LAYOUT,
            TypeCode::LongLong => &c_longlong::LAYOUT,
            TypeCode::ULongLong => &c_ulonglong::LAYOUT,
            TypeCode::Float => &c_float::LAYOUT,
            TypeCode::Double => &c_double::LAYOUT,
        }
    }

    /// Size in bytes of one element.
    ///
    /// ```
    /// use sharedctypes::TypeCode;
    /// let sizes = TypeCode::ALL.map(TypeCode::size); // on 64-bit Linux
    /// assert_eq!(sizes, [1, 4, 1, 1, 2, 2, 4, 4, 8, 8, 8, 8, 4, 8]);
    /// ```
    pub const fn size(self) -> usize {
        self.layout().size
    }

    /// The Python `ctypes` name (`"c_double"`).
    ///
    /// ```
    /// use sharedctypes::TypeCode;
    /// assert_eq!(TypeCode::parse('u')?.ctypes_name(), "c_wchar");
    /// assert_eq!(TypeCode::UByte.ctypes_name(), "c_ubyte");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub const fn ctypes_name(self) -> &'static str {
        match self {
            TypeCode::Char => "c_char",
            TypeCode::WChar => "c_wchar",
            TypeCode::Byte => "c_byte",
            TypeCode::UByte => "c_ubyte",
            TypeCode::Short => "c_short",
            TypeCode::UShort => "c_ushort",
            TypeCode::Int => "c_int",
            TypeCode::UInt => "c_uint",
            TypeCode::Long => "c_long",
            TypeCode::ULong => "c_ulong",
            TypeCode::LongLong => "c_longlong",
            TypeCode::ULongLong => "c_ulonglong",
            TypeCode::Float => "c_float",
            TypeCode::Double => "c_double",
        }
    }
}

impl TryFrom<char> for TypeCode {
    type Error = Error;
    fn try_from(code: char) -> Result<TypeCode> {
        TypeCode::parse(code)
    }
}

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}
