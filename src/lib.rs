#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub use shared_core::*;

/// Derives [`SharedLayout`](trait@SharedLayout): proves at compile time that a struct has the
/// C layout and holds nothing process-local, and generates its field accessors.
///
/// ```
/// use sharedctypes::{Array, RawValue, SharedLayout};
///
/// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
/// #[repr(C)]
/// #[shared(size = 16, align = 8)] // optional: pin the layout to a C header
/// struct Point {
///     #[shared(offset = 0)]
///     x: f64,
///     y: f64,
/// }
///
/// let a = Array::from_slice(&[Point { x: 1.5, y: -2.0 }, Point { x: 3.0, y: 0.5 }])?;
/// a.at(1).set_x(a.at(1).x() * 2.0); // A[1].x *= 2, one field at a time
/// assert_eq!(a.get(1)?, Point { x: 6.0, y: 0.5 });
///
/// let v = RawValue::new(Point { x: 0.0, y: 0.0 })?;
/// v.view().update_y(|y| y + 1.0);
/// assert_eq!(v.get().y, 1.0);
///
/// assert_eq!(Point::LAYOUT.fields()[1].offset, 8);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
///
/// # What is accepted
///
/// `#[repr(C)]` structs — named, tuple or unit, optionally `#[repr(C, align(N))]` — whose
/// fields are integers, `f32`/`f64`, [`CChar`], [`WChar`], [`CBool`], arrays `[T; N]` of
/// those, or other `SharedLayout` structs (nested to any depth).
///
/// # What is refused, and why
///
/// Every refusal is a compile error with a span on the offending item or field, and all
/// problems of one struct are reported together:
///
/// - a struct without `#[repr(C)]`: Rust's own layout is unspecified and may differ between
///   builds, so another process (or C, or Python) could see other offsets;
/// - enums (invalid discriminants), unions (no process knows the active field),
///   `#[repr(packed)]` (misaligned fields cannot be accessed atomically), generic structs
///   (the layout is proven once, at compile time);
/// - raw pointers, references, `fn` pointers, `Box`, `Vec`, `String`, `Rc`, `Arc`, … : a
///   pointer is only valid in the process that wrote it;
/// - `bool` and `char`: another process may write bytes that are not a valid `bool`/`char`
///   (use `CBool`, `WChar`);
/// - any other field type that does not implement `SharedLayout`.
///
/// ```compile_fail
/// #[derive(Clone, Copy, sharedctypes::SharedLayout)]
/// #[repr(C)]
/// struct Node {
///     value: i32,
///     next: *const Node, // error: a pointer is only valid in the process that wrote it
/// }
/// ```
///
/// # Attributes
///
/// - `#[shared(size = N, align = N)]` on the struct and `#[shared(offset = N)]` on a field
///   declare numbers from an external C definition; a mismatch is a compile error naming the
///   struct or field and both numbers (``expected `offset_of_y<8>`, found `offset_of_y<16>` ``).
/// - `#[shared(crate = "path")]` names the `sharedctypes` crate when it is re-exported under
///   another path.
///
/// # What is generated
///
/// - `unsafe impl SharedLayout`, with [`LAYOUT`](SharedLayout::LAYOUT): name, size,
///   alignment, fields (name, offset, size, type) and a fingerprint. Its `Display` is a
///   pahole-style table; [`Layout::to_c`] and [`Layout::to_ctypes`] render the C struct and the
///   Python `ctypes.Structure`.
/// - Compile-time assertions that size, alignment and every offset follow the C rules (and
///   the declared numbers).
/// - `{Name}View<'a>`, reached from any shared location of the struct — `RawValue::view()`,
///   `RawArray::at(i)`, `Array::at(i)`, a guard's `view()`/`at(i)` — with `x()`, `set_x(v)`,
///   `update_x(f)` per field (`_0()`, `set_0(v)` for tuple fields), nested views for struct
///   fields, and a [`SharedSlice`] for array fields (with `value()`/`raw()` for `CChar`
///   arrays). Accessors have the visibility of their field.
/// - `{Name}Synced<L>`, what `Value<Name, L>` dereferences to: `x()?`, `set_x(v)?`,
///   `update_x(f)?` each under one acquisition of the lock.
pub use shared_derive::SharedLayout;
