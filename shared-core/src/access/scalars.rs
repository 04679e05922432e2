//! `SharedLayout` for the C scalars, the ctypes newtypes and arrays, and `SharedAtomic` for
//! the integers: one table, from which both are generated.
//!
//! A scalar is read and written with one relaxed atomic operation of its own size, so a
//! concurrent write by another process is seen either entirely or not at all: no torn
//! scalars, and no data race in the sense of Rust's memory model. On x86-64 and AArch64 a
//! relaxed atomic load or store of a naturally aligned scalar is a plain `mov`/`ldr`/`str`.

use core::mem::{align_of, size_of};
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize};
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize};

use super::{NoFields, Place, SharedAtomic, SharedLayout, SharedSlice};
use crate::ctypes::{CBool, CChar, WChar};
use crate::layout::Layout;

/// One row per scalar: the Rust type, the atomic type of the same size and alignment that
/// reads and writes it, its C and `ctypes` names, and either `integer` (the atomic holds the
/// value itself, and is offered as [`SharedAtomic`]) or the conversion to and from the
/// atomic's bits.
macro_rules! scalars {
    ($($ty:ty => $atomic:ty, $c:literal, $ctypes:literal, $how:tt $( ($to:expr, $from:expr) )?;)*) => {$(
        scalars!(@one $ty, $atomic, $c, $ctypes, $how $( ($to, $from) )?);
    )*};

    (@one $ty:ty, $atomic:ty, $c:literal, $ctypes:literal, integer) => {
        scalars!(@layout $ty, $atomic, $c, $ctypes, |v: $ty| v, |bits| bits);

        impl SharedAtomic for $ty {
            type Atomic = $atomic;

            #[inline]
            fn atomic(place: Place<'_, Self>) -> &$atomic {
                // SAFETY: a `Place` is aligned and valid for its lifetime, and its bytes are
                // only accessed atomically in this process; `$atomic` has the layout of `$ty`
                // (asserted where the layout is implemented); atomics are interior-mutable,
                // so a shared reference to one that other processes also update is sound.
                unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) }
            }
        }
    };

    (@one $ty:ty, $atomic:ty, $c:literal, $ctypes:literal, bits ($to:expr, $from:expr)) => {
        scalars!(@layout $ty, $atomic, $c, $ctypes, $to, $from);
    };

    (@layout $ty:ty, $atomic:ty, $c:literal, $ctypes:literal, $to:expr, $from:expr) => {
        const _: () = assert!(
            size_of::<$atomic>() == size_of::<$ty>() && align_of::<$atomic>() == align_of::<$ty>(),
            concat!("sharedctypes needs ", stringify!($atomic), " to have the size and alignment of ", stringify!($ty))
        );

        // SAFETY: a C scalar: its layout is the platform's C layout for `$c` (size and
        // alignment checked against the atomic type above), every bit pattern is a valid
        // value (integers, floats, and the newtypes over integers), it holds no pointer, and
        // `load`/`store` touch exactly its bytes with one atomic access.
        unsafe impl SharedLayout for $ty {
            const LAYOUT: Layout =
                Layout::primitive(stringify!($ty), size_of::<$ty>(), align_of::<$ty>(), $c, $ctypes);
            type View<'a> = $ty;
            type Synced<S> = NoFields<S>;

            #[inline]
            fn load(place: Place<'_, Self>) -> Self {
                // SAFETY: a `Place` is aligned, valid for reads and writes for its lifetime,
                // and only ever accessed atomically in this process; `$atomic` has the size
                // and alignment of `$ty` (asserted above).
                let cell = unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) };
                let from: fn(_) -> $ty = $from;
                from(cell.load(Relaxed))
            }

            #[inline]
            fn store(place: Place<'_, Self>, value: Self) {
                // SAFETY: as in `load`.
                let cell = unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) };
                let to: fn($ty) -> _ = $to;
                cell.store(to(value), Relaxed);
            }

            #[inline]
            fn view(place: Place<'_, Self>) -> Self {
                Self::load(place)
            }
        }
    };
}

scalars! {
    i8 => AtomicI8, "int8_t", "c_int8", integer;
    u8 => AtomicU8, "uint8_t", "c_uint8", integer;
    i16 => AtomicI16, "int16_t", "c_int16", integer;
    u16 => AtomicU16, "uint16_t", "c_uint16", integer;
    i32 => AtomicI32, "int32_t", "c_int32", integer;
    u32 => AtomicU32, "uint32_t", "c_uint32", integer;
    i64 => AtomicI64, "int64_t", "c_int64", integer;
    u64 => AtomicU64, "uint64_t", "c_uint64", integer;
    isize => AtomicIsize, "ptrdiff_t", "c_ssize_t", integer;
    usize => AtomicUsize, "size_t", "c_size_t", integer;
    f32 => AtomicU32, "float", "c_float", bits(f32::to_bits, f32::from_bits);
    f64 => AtomicU64, "double", "c_double", bits(f64::to_bits, f64::from_bits);
    CChar => AtomicU8, "char", "c_char", bits(|v: CChar| v.0, CChar);
    CBool => AtomicU8, "_Bool", "c_bool", bits(|v: CBool| v.0, CBool);
    WChar => AtomicU32, "wchar_t", "c_wchar", bits(|v: WChar| v.0, WChar);
}

// SAFETY: `[T; N]` has the C array layout (N elements of T, no padding between them, since a
// type's size is a multiple of its alignment); every bit pattern is valid because every bit
// pattern of each T is; `load`/`store` go element by element through T's own impl, inside
// the array's bytes.
unsafe impl<T: SharedLayout, const N: usize> SharedLayout for [T; N] {
    const LAYOUT: Layout = Layout::array(&T::LAYOUT, N, size_of::<[T; N]>(), align_of::<[T; N]>());
    type View<'a> = &'a SharedSlice<T>;
    type Synced<S> = NoFields<S>;

    #[inline]
    fn load(place: Place<'_, Self>) -> Self {
        let elems = place.elements();
        core::array::from_fn(|i| elems.nth(i).load())
    }

    #[inline]
    fn store(place: Place<'_, Self>, value: Self) {
        let elems = place.elements();
        for (i, v) in value.into_iter().enumerate() {
            elems.nth(i).store(v);
        }
    }

    #[inline]
    fn view(place: Place<'_, Self>) -> &SharedSlice<T> {
        place.elements()
    }
}
