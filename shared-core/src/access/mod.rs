//! The access contract: which types may live in shared memory ([`SharedLayout`]), and the
//! only ways this crate touches their bytes: [`Place`] (one value) and [`SharedSlice`] (a run
//! of elements), by copy, one scalar at a time with atomic operations.
//!
//! Everything above this module — values, arrays, locks, synchronized wrappers — reaches
//! shared memory through these types; nothing hands out `&T` or `&mut T` into it, because
//! another process may write the bytes at any moment.
//!
//! ```
//! use sharedctypes::RawArray;
//! use sharedctypes::access::{Place, SharedSlice};
//!
//! let arr = RawArray::from_slice(&[1u32, 2, 3])?;
//! let all: &SharedSlice<u32> = &arr; // what the array dereferences to
//! let last: Place<'_, u32> = all.place(2).unwrap();
//! last.update(|x| x * 10);
//! assert_eq!(all.to_vec(), [1, 2, 30]);
//! # Ok::<(), sharedctypes::Error>(())
//! ```

mod atomic;
mod place;
mod scalars;
mod slice;

pub use atomic::SharedAtomic;
pub use place::Place;
pub use slice::{Iter, SharedSlice, Views};

use crate::layout::Layout;

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
/// - the bytes that layout leaves to padding are all the padding `Self` has: a
///   [`Primitive`](crate::layout::LayoutKind::Primitive) layout describes a type with none
///   (every one of its bytes is part of the value), and a struct layout lists every field
///   (values of types without padding are copied as plain bytes);
/// - `Self` holds no pointer, reference or handle whose meaning is local to one process;
/// - [`load`](Self::load) and [`store`](Self::store) access only the bytes of the place they
///   are given, only through atomic operations (or other `SharedLayout` impls), and never
///   read padding;
/// - `Synced<S>` is a `#[repr(transparent)]` wrapper around `S` (whatever `S` is).
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
    /// use sharedctypes::{SharedLayout, WChar, layout::LayoutKind};
    /// let l = WChar::LAYOUT;
    /// assert_eq!((l.name, l.size, l.align), ("WChar", 4, 4));
    /// assert_eq!(l.kind, LayoutKind::Primitive { c_type: "wchar_t", ctypes: "c_wchar" });
    /// ```
    const LAYOUT: Layout;

    /// What a field accessor returns for a field of this type: the value itself for
    /// primitives, a [`SharedSlice`] for arrays, the generated view for derived structs.
    ///
    /// ```
    /// use sharedctypes::{RawValue, SharedLayout, access::SharedSlice};
    /// let v = RawValue::new([1u8, 2, 3])?;
    /// let view: <[u8; 3] as SharedLayout>::View<'_> = v.view();
    /// let _: &SharedSlice<u8> = view; // arrays: a SharedSlice of their elements
    /// assert_eq!(view.get(2), Some(3));
    /// let x: <f64 as SharedLayout>::View<'_> = RawValue::new(2.5f64)?.view(); // scalars: an f64
    /// assert_eq!(x, 2.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    type View<'a>;

    /// The type `Value<Self, L>` dereferences to, given that `Value` as `S`
    /// (`S = Synchronized<RawValue<Self>, L>`): the generated per-field accessors that take
    /// the lock for each access, for derived structs; [`NoFields`] (nothing) for other types.
    ///
    /// It is generic over the wrapped type rather than the lock so that this trait, the base
    /// of the crate, does not depend on the locks and wrappers built on top of it.
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
    type Synced<S>;

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

    /// The value whose every byte is zero (Python fills missing fields with zeroes): valid for
    /// every `SharedLayout` type, which is valid for every bit pattern. A struct with a
    /// `[u8; 1000]` field has no `Default`; it has this.
    ///
    /// ```
    /// use sharedctypes::{CChar, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Message {
    ///     id: u32,
    ///     body: [CChar; 1000],
    /// }
    ///
    /// let m = Message::zeroed();
    /// assert_eq!((m.id, m.body.iter().all(|c| c.0 == 0)), (0, true));
    /// assert_eq!(<[f64; 3]>::zeroed(), [0.0; 3]);
    /// ```
    #[must_use]
    fn zeroed() -> Self {
        // SAFETY: every bit pattern of `Self` is a valid value (the trait's contract), the
        // all-zero one included.
        unsafe { core::mem::zeroed() }
    }
}

/// The bytes of `value` as shared memory holds them: every field's bytes at its offset,
/// padding zero (padding is not part of the value, and a copied value has none to read).
pub(crate) fn value_bytes<T: SharedLayout>(value: T, out: &mut Vec<u8>) {
    let mut buf = core::mem::MaybeUninit::<T>::zeroed();
    let ptr = core::ptr::NonNull::new(buf.as_mut_ptr()).expect("a stack buffer is not null");
    // SAFETY: `buf` is a local, aligned, zeroed (hence initialised: every bit pattern of a
    // SharedLayout type is valid) `T`, used only through this place while it lives.
    unsafe { Place::new(ptr) }.store(value);
    // SAFETY: every byte of `buf` is initialised: zeroed first, then fields overwritten
    // (padding stays zero), so reading them as bytes is reading initialised memory.
    let bytes = unsafe {
        core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), core::mem::size_of::<T>())
    };
    out.extend_from_slice(bytes);
}

/// The value whose bytes are `bytes` (exactly `size_of::<T>()` of them), padding included:
/// every bit pattern is a valid `T`.
pub(crate) fn value_from_bytes<T: SharedLayout>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), core::mem::size_of::<T>());
    let mut buf = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: `bytes` holds exactly size_of::<T>() bytes and `buf` is a distinct local of
    // that size.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.as_mut_ptr().cast::<u8>(), bytes.len())
    };
    // SAFETY: every byte of `buf` is now initialised (copied from `bytes`), and every bit
    // pattern is a valid `T` (SharedLayout's contract), so it is a valid value.
    unsafe { buf.assume_init() }
}

/// What `Value<T>` dereferences to when `T` has no generated accessors (scalars, arrays): a
/// transparent wrapper around the `Value` that adds nothing.
///
/// ```
/// use sharedctypes::{RLock, RawValue, Synchronized, Value, access::NoFields};
/// let v = Value::new(5u32)?;
/// let target: &NoFields<Synchronized<RawValue<u32>, RLock>> = &v; // what `*v` is for a scalar
/// assert_eq!(size_of_val(target), size_of_val(&v));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[repr(transparent)]
pub struct NoFields<S>(S);
