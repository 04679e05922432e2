//! The [`SharedLayout`] trait — what may live in shared memory — and the layout metadata every
//! such type carries.
//!
//! A type is `SharedLayout` when its layout is the C layout every process (and C, and Python's
//! `ctypes`) agrees on, every bit pattern is a valid value (another process may write any
//! bytes), and it contains nothing whose meaning is local to one process (pointers,
//! references, heap handles). The primitives, the [`ctypes`](crate::ctypes) newtypes and
//! arrays of shared types implement it here; `#[derive(SharedLayout)]` implements it for
//! `#[repr(C)]` structs after proving their layout at compile time.
//!
//! ```
//! use sharedctypes::{SharedLayout, ctypes::c_double};
//!
//! let layout = <[c_double; 4]>::LAYOUT;
//! assert_eq!((layout.size, layout.align), (32, 8));
//! assert_eq!(layout.type_name(), "[f64; 4]");
//! ```

mod c_rules;
mod fingerprint;
mod primitives;
mod render;

pub use c_rules::{CStructLayout, c_struct_layout};
pub use render::{c_declarations, ctypes_declarations};

use crate::lock::SharedLock;
use crate::place::Place;

/// A type that can live in shared memory: C layout, valid for every bit pattern, nothing
/// process-local inside.
///
/// Implemented for `i8`…`u64`, `isize`, `usize`, `f32`, `f64`, [`CChar`](crate::CChar),
/// [`WChar`](crate::WChar), [`CBool`](crate::CBool), `[T; N]` of shared types, and by
/// `#[derive(SharedLayout)]` for `#[repr(C)]` structs. `bool` and `char` are not: a byte
/// written by another process may not be a valid `bool` or `char`; use `CBool` and `WChar`.
///
/// Values move in and out of shared memory by copy ([`load`](Self::load),
/// [`store`](Self::store)), one primitive field at a time with relaxed atomic operations: a
/// concurrent writer in another process can make a multi-field value *torn* (some fields old,
/// some new), never undefined behaviour; hold a lock for consistent multi-field access.
///
/// # Safety
///
/// An implementation promises that
/// - `Self` has the C layout described by [`LAYOUT`](Self::LAYOUT) (size, alignment, field
///   offsets, field layouts), and every bit pattern of that size is a valid `Self`;
/// - `Self` holds no pointer, reference or handle whose meaning is local to one process;
/// - [`load`](Self::load) and [`store`](Self::store) access only the bytes of the place they
///   are given, only through atomic operations (or other `SharedLayout` impls), and never
///   read padding;
/// - `Synced<L>` is a `#[repr(transparent)]` wrapper around
///   `Synchronized<RawValue<Self>, L>`.
///
/// The derive upholds all of this and checks the layout at compile time; implementing the
/// trait by hand is rarely needed.
///
/// ```
/// use sharedctypes::{CBool, SharedLayout};
///
/// /// Bytes a `T` takes in shared memory.
/// fn shared_size<T: SharedLayout>() -> usize {
///     T::LAYOUT.size
/// }
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Flags {
///     ready: CBool,
///     done: CBool,
///     count: u16,
/// }
///
/// assert_eq!(shared_size::<Flags>(), 4);
/// assert_eq!(shared_size::<[Flags; 3]>(), 12);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be placed in shared memory: it does not implement `SharedLayout`",
    label = "not a shared-memory type",
    note = "shared memory holds integers, floats, `CChar`/`WChar`/`CBool`, arrays of them, and `#[repr(C)]` structs with `#[derive(SharedLayout)]`",
    note = "pointers, references, `Box`, `Vec`, `String`, `Rc` and `Arc` are only valid in the process that created them; `bool` and `char` are not valid for every byte another process may write (use `CBool`, `WChar`)"
)]
pub unsafe trait SharedLayout: Copy + Send + Sync + 'static {
    /// The layout of the type: size, alignment, fields, and a fingerprint of all of it.
    ///
    /// ```
    /// use sharedctypes::{LayoutKind, SharedLayout, WChar};
    /// let l = WChar::LAYOUT;
    /// assert_eq!((l.name, l.size, l.align), ("WChar", 4, 4));
    /// assert_eq!(l.kind, LayoutKind::Primitive { c_type: "wchar_t", ctypes: "c_wchar" });
    /// ```
    const LAYOUT: Layout;

    /// What a field accessor returns for a field of this type: the value itself for
    /// primitives, a [`SharedSlice`](crate::SharedSlice) for arrays, the generated view for
    /// derived structs.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout, SharedSlice};
    /// let v = RawValue::new([1u8, 2, 3])?;
    /// let view: <[u8; 3] as SharedLayout>::View<'_> = v.view();
    /// let _: SharedSlice<'_, u8> = view; // arrays: a SharedSlice of their elements
    /// assert_eq!(view.get(2), Some(3));
    /// let x: <f64 as SharedLayout>::View<'_> = RawValue::new(2.5f64)?.view(); // scalars: an f64
    /// assert_eq!(x, 2.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    type View<'a>;

    /// The type `Value<Self, L>` dereferences to: the generated per-field accessors that take
    /// the lock for each access, for derived structs; nothing for other types.
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, Value};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Account {
    ///     balance: i64,
    ///     ops: u32,
    /// }
    ///
    /// let acct = Value::new(Account { balance: 0, ops: 0 })?;
    /// acct.update_balance(|b| b + 50)?; // each accessor takes the lock
    /// acct.set_ops(1)?;
    /// assert_eq!((acct.balance()?, acct.ops()?), (50, 1));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    type Synced<L: SharedLock>;

    /// Copies the value out of shared memory, field by field.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout};
    /// let v = RawValue::new([1u16, 2])?;
    /// assert_eq!(<[u16; 2]>::load(v.place()), [1, 2]); // what `v.get()` does
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn load(place: Place<'_, Self>) -> Self;

    /// Copies `value` into shared memory, field by field, leaving padding untouched.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout};
    /// let v = RawValue::new(0.0f32)?;
    /// f32::store(v.place(), 0.5); // what `v.set(0.5)` does
    /// assert_eq!(v.get(), 0.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn store(place: Place<'_, Self>, value: Self);

    /// The accessor view of the value at `place`.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout};
    /// let v = RawValue::new([0i32; 3])?;
    /// <[i32; 3]>::view(v.place()).set(1, 7)?; // what `v.view()` does
    /// assert_eq!(v.get(), [0, 7, 0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn view(place: Place<'_, Self>) -> Self::View<'_>;
}

/// The layout of a [`SharedLayout`] type.
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
/// use sharedctypes::{LayoutKind, SharedLayout};
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
    /// use sharedctypes::{FieldLayout, SharedLayout};
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
    /// use sharedctypes::{Layout, SharedLayout};
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
    /// use sharedctypes::{Layout, SharedLayout};
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
    /// use sharedctypes::{FieldLayout, Layout, SharedLayout};
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
    pub fn padding(&self) -> usize {
        match self.kind {
            LayoutKind::Struct { fields, .. } => {
                self.size - fields.iter().map(|f| f.size).sum::<usize>().min(self.size)
            }
            _ => 0,
        }
    }
}
