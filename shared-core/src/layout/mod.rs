//! Layout metadata: what every [`SharedLayout`](crate::SharedLayout) type says about its
//! bytes — name, size, alignment, fields, and a fingerprint of all of it — plus the C layout
//! rules the derive checks against and the renderings as a pahole-style table, C and Python
//! `ctypes`.
//!
//! Plain data only: this module knows nothing about shared memory or locks.
//!
//! ```
//! use sharedctypes::{SharedLayout, ctypes::c_double};
//!
//! let layout = <[c_double; 4]>::LAYOUT;
//! assert_eq!((layout.size, layout.align), (32, 8));
//! assert_eq!(layout.type_name(), "[f64; 4]");
//! ```

mod c_rules;
mod describe;
mod fingerprint;
mod render;

pub use c_rules::{CStructLayout, c_struct_layout};
pub(crate) use fingerprint::Fnv;
pub use render::{c_declarations, ctypes_declarations};

/// The layout of a [`SharedLayout`](crate::SharedLayout) type.
///
/// `Display` prints a pahole-style table with holes and trailing padding;
/// [`to_c`](Self::to_c) and [`to_ctypes`](Self::to_ctypes) render the equivalent C declaration
/// and Python `ctypes.Structure`.
///
/// ```
/// use sharedctypes::SharedLayout;
/// let l = i32::LAYOUT;
/// assert_eq!((l.name, l.size, l.align), ("i32", 4, 4));
/// assert!(l.fields().is_empty());
/// assert_ne!(l.fingerprint, u32::LAYOUT.fingerprint);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Rust name of the type (`"f64"`, `"Point"`); `"array"` for arrays (see
    /// [`type_name`](Self::type_name)).
    pub name: &'static str,
    /// Size in bytes.
    pub size: usize,
    /// Alignment in bytes.
    pub align: usize,
    /// What kind of type this is.
    pub kind: LayoutKind,
    /// A hash of name, size, alignment and (recursively) every field's name, offset, size and
    /// type: two processes that agree on it agree on the layout. Type names count as written
    /// in the source, so spelling a field `c_double` rather than `f64` changes it too.
    pub fingerprint: u64,
}

/// What kind of type a [`Layout`] describes.
///
/// ```
/// use sharedctypes::{SharedLayout, layout::LayoutKind};
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C, align(16))]
/// struct Slot {
///     id: u32,
/// }
///
/// match <[u16; 3]>::LAYOUT.kind {
///     LayoutKind::Array { elem, len } => assert_eq!((elem.name, len), ("u16", 3)),
///     other => panic!("not an array: {other:?}"),
/// }
/// match Slot::LAYOUT.kind {
///     LayoutKind::Struct { fields, repr_align } => assert_eq!((fields.len(), repr_align), (1, Some(16))),
///     other => panic!("not a struct: {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutKind {
    /// A C scalar.
    Primitive {
        /// The C type (`"double"`, `"int32_t"`).
        c_type: &'static str,
        /// The Python `ctypes` type (`"c_double"`).
        ctypes: &'static str,
    },
    /// `[elem; len]`.
    Array {
        /// Layout of one element.
        elem: &'static Layout,
        /// Number of elements.
        len: usize,
    },
    /// A `#[repr(C)]` struct.
    Struct {
        /// Fields in declaration order.
        fields: &'static [FieldLayout],
        /// `N` of `#[repr(C, align(N))]`, if given.
        repr_align: Option<usize>,
    },
}

/// One field of a struct [`Layout`].
///
/// ```
/// use sharedctypes::SharedLayout;
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Reading {
///     sensor: u8,
///     values: [f32; 2],
/// }
///
/// let f = &Reading::LAYOUT.fields()[1];
/// assert_eq!((f.name, f.offset, f.size, f.type_name), ("values", 4, 8, "[f32; 2]"));
/// assert_eq!(f.layout, &<[f32; 2]>::LAYOUT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLayout {
    /// Field name (`"0"`, `"1"`, … for tuple structs).
    pub name: &'static str,
    /// Offset from the start of the struct, in bytes.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// The field's type as written in the source (`"[f64; 4]"`).
    pub type_name: &'static str,
    /// Layout of the field's type.
    pub layout: &'static Layout,
}

impl FieldLayout {
    /// Describes a field; used by the derive.
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, layout::FieldLayout};
    /// let f = FieldLayout::new("y", 8, "f64", &f64::LAYOUT);
    /// assert_eq!((f.name, f.offset, f.size), ("y", 8, 8)); // the size comes from the layout
    /// ```
    pub const fn new(
        name: &'static str,
        offset: usize,
        type_name: &'static str,
        layout: &'static Layout,
    ) -> FieldLayout {
        FieldLayout {
            name,
            offset,
            size: layout.size,
            type_name,
            layout,
        }
    }
}

impl Layout {
    /// The layout of a C scalar.
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, layout::Layout};
    /// const U16: Layout = Layout::primitive("u16", 2, 2, "uint16_t", "c_uint16");
    /// assert_eq!(U16, u16::LAYOUT);
    /// ```
    pub const fn primitive(
        name: &'static str,
        size: usize,
        align: usize,
        c_type: &'static str,
        ctypes: &'static str,
    ) -> Layout {
        Layout {
            name,
            size,
            align,
            kind: LayoutKind::Primitive { c_type, ctypes },
            fingerprint: fingerprint::primitive(name, size, align),
        }
    }

    /// The layout of `[elem; len]`, given its size and alignment.
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, layout::Layout};
    /// const QUAD: Layout = Layout::array(&u8::LAYOUT, 4, 4, 1);
    /// assert_eq!(QUAD, <[u8; 4]>::LAYOUT);
    /// assert_eq!(QUAD.type_name(), "[u8; 4]");
    /// ```
    pub const fn array(elem: &'static Layout, len: usize, size: usize, align: usize) -> Layout {
        Layout {
            name: "array",
            size,
            align,
            kind: LayoutKind::Array { elem, len },
            fingerprint: fingerprint::array(elem, len, size, align),
        }
    }

    /// The layout of a `#[repr(C)]` struct; used by the derive.
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, layout::{FieldLayout, Layout}};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Point {
    ///     x: i32,
    ///     y: f64,
    /// }
    ///
    /// const FIELDS: &[FieldLayout] = &[
    ///     FieldLayout::new("x", 0, "i32", &i32::LAYOUT),
    ///     FieldLayout::new("y", 8, "f64", &f64::LAYOUT),
    /// ];
    /// const POINT: Layout = Layout::structure("Point", 16, 8, FIELDS, None);
    /// assert_eq!(POINT, Point::LAYOUT); // what the derive generates
    /// ```
    pub const fn structure(
        name: &'static str,
        size: usize,
        align: usize,
        fields: &'static [FieldLayout],
        repr_align: Option<usize>,
    ) -> Layout {
        Layout {
            name,
            size,
            align,
            kind: LayoutKind::Struct { fields, repr_align },
            fingerprint: fingerprint::structure(name, size, align, fields, repr_align),
        }
    }

    /// The fields of a struct; empty for other types.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Pair(u8, u64);
    ///
    /// let names: Vec<_> = Pair::LAYOUT.fields().iter().map(|f| (f.name, f.offset)).collect();
    /// assert_eq!(names, [("0", 0), ("1", 8)]);
    /// assert_eq!(<[Pair; 2]>::LAYOUT.fields().len(), 0); // not a struct
    /// ```
    #[must_use]
    pub const fn fields(&self) -> &'static [FieldLayout] {
        match self.kind {
            LayoutKind::Struct { fields, .. } => fields,
            _ => &[],
        }
    }

    /// True for struct layouts.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Empty;
    ///
    /// assert_eq!(Empty::LAYOUT.is_struct(), true);
    /// assert_eq!(<[Empty; 2]>::LAYOUT.is_struct(), false);
    /// assert_eq!(u8::LAYOUT.is_struct(), false);
    /// ```
    #[must_use]
    pub const fn is_struct(&self) -> bool {
        matches!(self.kind, LayoutKind::Struct { .. })
    }

    /// The Rust spelling of the type: `"f64"`, `"Point"`, `"[[u8; 4]; 2]"`.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    /// let l = <[[u8; 4]; 2]>::LAYOUT;
    /// assert_eq!((l.name, l.type_name()), ("array", "[[u8; 4]; 2]".to_string()));
    /// ```
    #[must_use]
    pub fn type_name(&self) -> String {
        match self.kind {
            LayoutKind::Array { elem, len } => format!("[{}; {len}]", elem.type_name()),
            _ => self.name.to_string(),
        }
    }

    /// Bytes of padding between fields and at the end of a struct (0 for other types).
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Loose {
    ///     a: u8, // 3 bytes of padding follow
    ///     b: u32,
    ///     c: u8, // 3 bytes of trailing padding
    /// }
    ///
    /// assert_eq!((Loose::LAYOUT.size, Loose::LAYOUT.padding()), (12, 6));
    /// ```
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    /// assert_eq!(<[u8; 3]>::LAYOUT.padding(), 0);
    /// assert_eq!(u32::LAYOUT.padding(), 0);
    /// ```
    #[must_use]
    pub fn padding(&self) -> usize {
        match self.kind {
            LayoutKind::Struct { fields, .. } => {
                self.size - fields.iter().map(|f| f.size).sum::<usize>().min(self.size)
            }
            _ => 0,
        }
    }

    /// True when no byte of the type is padding, at any depth (a struct's own holes, those
    /// inside its struct fields, those inside an array's elements): every byte of a value is
    /// a byte of some primitive, so a value's bytes can be copied as they are.
    pub(crate) const fn is_dense(&self) -> bool {
        match self.kind {
            LayoutKind::Primitive { .. } => true,
            LayoutKind::Array { elem, .. } => elem.is_dense(),
            LayoutKind::Struct { fields, .. } => {
                let (mut i, mut sum) = (0, 0);
                while i < fields.len() {
                    if !fields[i].layout.is_dense() {
                        return false;
                    }
                    sum += fields[i].size;
                    i += 1;
                }
                sum == self.size
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldLayout, Layout};

    // Built here, not taken from the scalars' `SharedLayout` impls: this module sits below
    // `access` (which uses it), and must not reach back up.
    static U8: Layout = Layout::primitive("u8", 1, 1, "uint8_t", "c_uint8");
    static U16: Layout = Layout::primitive("u16", 2, 2, "uint16_t", "c_uint16");
    static U32: Layout = Layout::primitive("u32", 4, 4, "uint32_t", "c_uint32");
    static U64: Layout = Layout::primitive("u64", 8, 8, "uint64_t", "c_uint64");
    static U16X2: Layout = Layout::array(&U16, 2, 4, 2);
    static F64X3: Layout = Layout::array(&U64, 3, 24, 8);

    /// `{ a: u8, b: u32 }`: three bytes of padding after `a`.
    static LOOSE: Layout = Layout::structure(
        "Loose",
        8,
        4,
        &[
            FieldLayout::new("a", 0, "u8", &U8),
            FieldLayout::new("b", 4, "u32", &U32),
        ],
        None,
    );
    /// `{ inner: Loose, c: u64 }`: no hole of its own, but its field has one.
    static OUTER: Layout = Layout::structure(
        "Outer",
        16,
        8,
        &[
            FieldLayout::new("inner", 0, "Loose", &LOOSE),
            FieldLayout::new("c", 8, "u64", &U64),
        ],
        None,
    );
    /// `{ x: u32, y: [u16; 2] }`: dense.
    static TIGHT: Layout = Layout::structure(
        "Tight",
        8,
        4,
        &[
            FieldLayout::new("x", 0, "u32", &U32),
            FieldLayout::new("y", 4, "[u16; 2]", &U16X2),
        ],
        None,
    );

    #[test]
    fn density_sees_holes_at_every_depth() {
        assert!(U8.is_dense() && F64X3.is_dense());
        assert!(TIGHT.is_dense());
        assert!(!LOOSE.is_dense());
        assert_eq!(OUTER.padding(), 0, "no hole of its own");
        assert!(!OUTER.is_dense(), "but one inside a field");
        assert!(!Layout::array(&LOOSE, 2, 16, 4).is_dense());
    }
}
