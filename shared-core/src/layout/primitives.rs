//! `SharedLayout` for the C scalars, the ctypes newtypes and arrays.
//!
//! A scalar is read and written with one relaxed atomic operation of its own size, so a
//! concurrent write by another process is seen either entirely or not at all: no torn
//! scalars, and no data race in the sense of Rust's memory model. On x86-64 and AArch64 a
//! relaxed atomic load or store of a naturally aligned scalar is a plain `mov`/`ldr`/`str`.

use core::mem::{align_of, size_of};
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize};
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize};

use super::{Layout, SharedLayout};
use crate::ctypes::{CBool, CChar, WChar};
use crate::lock::SharedLock;
use crate::place::Place;
use crate::slice::SharedSlice;
use crate::synchronized::NoFields;

macro_rules! scalar {
    ($($ty:ty => $atomic:ty, $c:literal, $ctypes:literal, |$v:ident| $to_bits:expr, |$bits:ident| $from_bits:expr;)*) => {$(
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
            type Synced<L: SharedLock> = NoFields<$ty, L>;

            #[inline]
            fn load(place: Place<'_, Self>) -> Self {
                // SAFETY: a `Place` is aligned, valid for reads and writes for its lifetime,
                // and only ever accessed atomically in this process; `$atomic` has the size
                // and alignment of `$ty` (asserted above).
                let cell = unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) };
                let $bits = cell.load(Relaxed);
                $from_bits
            }

            #[inline]
            fn store(place: Place<'_, Self>, $v: Self) {
                // SAFETY: as in `load`.
                let cell = unsafe { <$atomic>::from_ptr(place.as_ptr().cast()) };
                cell.store($to_bits, Relaxed);
            }

            #[inline]
            fn view(place: Place<'_, Self>) -> Self {
                Self::load(place)
            }
        }
    )*};
}

scalar! {
    i8 => AtomicI8, "int8_t", "c_int8", |v| v, |b| b;
    u8 => AtomicU8, "uint8_t", "c_uint8", |v| v, |b| b;
    i16 => AtomicI16, "int16_t", "c_int16", |v| v, |b| b;
    u16 => AtomicU16, "uint16_t", "c_uint16", |v| v, |b| b;
    i32 => AtomicI32, "int32_t", "c_int32", |v| v, |b| b;
    u32 => AtomicU32, "uint32_t", "c_uint32", |v| v, |b| b;
    i64 => AtomicI64, "int64_t", "c_int64", |v| v, |b| b;
    u64 => AtomicU64, "uint64_t", "c_uint64", |v| v, |b| b;
    isize => AtomicIsize, "ptrdiff_t", "c_ssize_t", |v| v, |b| b;
    usize => AtomicUsize, "size_t", "c_size_t", |v| v, |b| b;
    f32 => AtomicU32, "float", "c_float", |v| v.to_bits(), |b| f32::from_bits(b);
    f64 => AtomicU64, "double", "c_double", |v| v.to_bits(), |b| f64::from_bits(b);
    CChar => AtomicU8, "char", "c_char", |v| v.0, |b| CChar(b);
    CBool => AtomicU8, "_Bool", "c_bool", |v| v.0, |b| CBool(b);
    WChar => AtomicU32, "wchar_t", "c_wchar", |v| v.0, |b| WChar(b);
}

// SAFETY: `[T; N]` has the C array layout (N elements of T, no padding between them, since a
// type's size is a multiple of its alignment); every bit pattern is valid because every bit
// pattern of each T is; `load`/`store` go element by element through T's own impl, inside
// the array's bytes.
unsafe impl<T: SharedLayout, const N: usize> SharedLayout for [T; N] {
    const LAYOUT: Layout = Layout::array(&T::LAYOUT, N, size_of::<[T; N]>(), align_of::<[T; N]>());
    type View<'a> = SharedSlice<'a, T>;
    type Synced<L: SharedLock> = NoFields<[T; N], L>;

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
    fn view(place: Place<'_, Self>) -> SharedSlice<'_, T> {
        place.elements()
    }
}
