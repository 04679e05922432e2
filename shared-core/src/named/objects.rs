//! `create_named` and `open_named` on every kind of object.

use core::mem::{align_of, size_of};
use std::sync::Arc;

use super::{
    DEFAULT_MODE, KIND_ARRAY, KIND_VALUE, LOCK_LOCK, LOCK_NONE, LOCK_RLOCK, Named, OpenOptions,
    Spec, create, open,
};
use crate::access::SharedLayout;
use crate::array::RawArray;
use crate::error::Result;
use crate::lock::{LockKind, RawMutex, RobustLock};
use crate::synchronized::{Synchronized, synchronized_with};
use crate::value::RawValue;

fn spec<T: SharedLayout>(kind: u32, lock: u32, count: usize) -> Spec {
    Spec {
        kind,
        lock,
        fingerprint: T::LAYOUT.fingerprint,
        elem_size: size_of::<T>(),
        elem_align: align_of::<T>(),
        count,
        type_name: T::LAYOUT.type_name(),
        layout: T::LAYOUT.describe(),
        summary: T::LAYOUT.summary(),
    }
}

fn lock_code<K: LockKind>() -> u32 {
    if RobustLock::<K>::is_recursive() {
        LOCK_RLOCK
    } else {
        LOCK_LOCK
    }
}

/// The lock in a named object's parts: created there by the creator, taken as it is by
/// openers (checked to be a lock of kind `K`).
fn lock_of<K: LockKind>(
    block: Option<crate::heap::Block>,
    creating: bool,
) -> Result<RobustLock<K>> {
    let block = block.expect("a lock was asked for");
    let recursive = RobustLock::<K>::is_recursive();
    let raw = if creating {
        RawMutex::create_in(block, recursive, true)?
    } else {
        RawMutex::from_received(block, recursive)?
    };
    Ok(RobustLock::from_raw(Arc::new(raw)))
}

impl<T: SharedLayout> RawValue<T> {
    /// Creates the named object `name` holding `value`, readable and writable by this user
    /// only (mode 0600). The returned handle removes the name when it drops, unless
    /// [`persist`](Named::persist)ed. See [`named`](crate::named).
    ///
    /// # Errors
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`](crate::Error::InvalidName); [`Error::Os`](crate::Error::Os).
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// # let name = format!("sharedctypes-doc-rawvalue-{}", std::process::id());
    /// let v = RawValue::create_named(&name, 2.5f64)?;
    /// assert_eq!(RawValue::<f64>::open_named(&name)?.get(), 2.5);
    /// assert_eq!(
    ///     RawValue::create_named(&name, 0.0f64).unwrap_err(),
    ///     Error::AlreadyExists { name: name.clone() }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, value: T) -> Result<Named<RawValue<T>>> {
        Self::create_named_with_mode(name, value, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode` (e.g. `0o660`
    /// for the owner's group too), applied exactly (the umask does not narrow them).
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use sharedctypes::RawValue;
    /// # let name = format!("sharedctypes-doc-rawvalue-mode-{}", std::process::id());
    /// let v = RawValue::create_named_with_mode(&name, 1u8, 0o640)?;
    /// let mode = std::fs::metadata(format!("/dev/shm/{name}")).unwrap().permissions().mode();
    /// assert_eq!(mode & 0o777, 0o640);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, value: T, mode: u32) -> Result<Named<RawValue<T>>> {
        let (v, key) = create(name, mode, &spec::<T>(KIND_VALUE, LOCK_NONE, 1), |p| {
            let v = RawValue::from_block(p.data);
            v.set(value);
            Ok(v)
        })?;
        Ok(Named::new(v, name, key, true))
    }

    /// Opens the named object `name`, checking that it holds a `T` (by layout fingerprint).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound),
    /// [`Error::LayoutMismatch`](crate::Error::LayoutMismatch) (both types and layouts named),
    /// [`Error::PermissionDenied`](crate::Error::PermissionDenied),
    /// [`Error::NotNamedObject`](crate::Error::NotNamedObject) for a file that is not a
    /// sharedctypes object of this format version, [`Error::InvalidName`](crate::Error::InvalidName).
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// # let name = format!("sharedctypes-doc-rawvalue-open-{}", std::process::id());
    /// let _v = RawValue::create_named(&name, 7i32)?;
    /// assert!(matches!(RawValue::<u32>::open_named(&name), Err(Error::LayoutMismatch { .. })));
    /// assert_eq!(RawValue::<i32>::open_named(&name)?.get(), 7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_named(name: &str) -> Result<Named<RawValue<T>>> {
        Self::open_named_with(name, OpenOptions::default())
    }

    /// [`open_named`](Self::open_named) with [`OpenOptions`] (e.g. to open an object
    /// another user owns, which is refused by default).
    ///
    /// # Errors
    /// As for [`open_named`](Self::open_named).
    pub fn open_named_with(name: &str, options: OpenOptions) -> Result<Named<RawValue<T>>> {
        let p = open(name, &spec::<T>(KIND_VALUE, LOCK_NONE, 1), options)?;
        Ok(Named::new(RawValue::from_block(p.data), name, p.key, false))
    }
}

impl<T: SharedLayout> RawArray<T> {
    /// Creates the named object `name` holding a copy of `values` (mode 0600); see
    /// [`RawValue::create_named`].
    ///
    /// # Errors
    /// As for [`RawValue::create_named`].
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// # let name = format!("sharedctypes-doc-rawarray-{}", std::process::id());
    /// let a = RawArray::create_named(&name, &[1i64, 2, 3])?;
    /// let b = RawArray::<i64>::open_named(&name)?;
    /// b.set(0, 10)?;
    /// assert_eq!(a.to_vec(), [10, 2, 3]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, values: &[T]) -> Result<Named<RawArray<T>>> {
        Self::create_named_with_mode(name, values, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// ```
    /// use sharedctypes::RawArray;
    /// # let name = format!("sharedctypes-doc-rawarray-mode-{}", std::process::id());
    /// let a = RawArray::create_named_with_mode(&name, &[0u8; 3], 0o644)?;
    /// assert_eq!(a.len(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(
        name: &str,
        values: &[T],
        mode: u32,
    ) -> Result<Named<RawArray<T>>> {
        let s = spec::<T>(KIND_ARRAY, LOCK_NONE, values.len());
        let (a, key) = create(name, mode, &s, |p| {
            let a = RawArray::from_block(p.data, p.count);
            a.copy_from_slice(values)?;
            Ok(a)
        })?;
        Ok(Named::new(a, name, key, true))
    }

    /// Opens the named array `name` (any length), checking its element type.
    ///
    /// # Errors
    /// As for [`RawValue::open_named`].
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray, RawValue};
    /// # let name = format!("sharedctypes-doc-rawarray-open-{}", std::process::id());
    /// let _a = RawArray::create_named(&name, &[1u8, 2])?;
    /// assert_eq!(RawArray::<u8>::open_named(&name)?.len(), 2);
    /// assert!(matches!(RawValue::<u8>::open_named(&name), Err(Error::NotNamedObject { .. })));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_named(name: &str) -> Result<Named<RawArray<T>>> {
        Self::open_named_with(name, OpenOptions::default())
    }

    /// [`open_named`](Self::open_named) with [`OpenOptions`] (e.g. to open an object
    /// another user owns, which is refused by default).
    ///
    /// # Errors
    /// As for [`open_named`](Self::open_named).
    pub fn open_named_with(name: &str, options: OpenOptions) -> Result<Named<RawArray<T>>> {
        let p = open(name, &spec::<T>(KIND_ARRAY, LOCK_NONE, 0), options)?;
        Ok(Named::new(
            RawArray::from_block(p.data, p.count),
            name,
            p.key,
            false,
        ))
    }
}

impl<T: SharedLayout, K: LockKind> Synchronized<RawValue<T>, RobustLock<K>> {
    /// Creates the named object `name` holding `value` and its own lock (an [`RLock`](crate::RLock)
    /// for `Value<T>`), which every process that opens it uses (mode 0600); see
    /// [`RawValue::create_named`].
    ///
    /// # Errors
    /// As for [`RawValue::create_named`].
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// # let name = format!("sharedctypes-doc-value-{}", std::process::id());
    /// let counter = Value::<u64>::create_named(&name, 0)?;
    /// let child = Process::start(|| {
    ///     // An unrelated process would do the same: open by name, use the same lock.
    ///     let c = Value::<u64>::open_named(&name).unwrap();
    ///     (0..1000).try_for_each(|_| c.update(|n| n + 1).map(drop))
    /// })?;
    /// (0..1000).try_for_each(|_| counter.update(|n| n + 1).map(drop))?;
    /// assert_eq!(child.join()?, 0);
    /// assert_eq!(counter.get()?, 2000);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, value: T) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, value, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// ```
    /// use sharedctypes::{Lock, Value};
    /// # let name = format!("sharedctypes-doc-value-mode-{}", std::process::id());
    /// let v = Value::<i32, Lock>::create_named_with_mode(&name, 3, 0o660)?;
    /// assert_eq!(v.get()?, 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, value: T, mode: u32) -> Result<Named<Self>> {
        let s = spec::<T>(KIND_VALUE, lock_code::<K>(), 1);
        let (v, key) = create(name, mode, &s, |p| {
            let v = RawValue::from_block(p.data);
            v.set(value);
            Ok(synchronized_with(v, lock_of::<K>(p.lock, true)?))
        })?;
        Ok(Named::new(v, name, key, true))
    }

    /// Opens the named object `name` with its lock, checking the type and the kind of lock.
    ///
    /// # Errors
    /// As for [`RawValue::open_named`]; [`Error::NotNamedObject`](crate::Error::NotNamedObject)
    /// for an object without a lock or with the other kind.
    ///
    /// ```
    /// use sharedctypes::{Error, Lock, Value};
    /// # let name = format!("sharedctypes-doc-value-open-{}", std::process::id());
    /// let _v = Value::<u8>::create_named(&name, 1)?; // an RLock
    /// assert!(matches!(Value::<u8, Lock>::open_named(&name), Err(Error::NotNamedObject { .. })));
    /// assert_eq!(Value::<u8>::open_named(&name)?.get()?, 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_named(name: &str) -> Result<Named<Self>> {
        Self::open_named_with(name, OpenOptions::default())
    }

    /// [`open_named`](Self::open_named) with [`OpenOptions`].
    ///
    /// # Errors
    /// As for [`open_named`](Self::open_named).
    pub fn open_named_with(name: &str, options: OpenOptions) -> Result<Named<Self>> {
        let p = open(name, &spec::<T>(KIND_VALUE, lock_code::<K>(), 1), options)?;
        let lock = lock_of::<K>(p.lock, false)?;
        Ok(Named::new(
            synchronized_with(RawValue::from_block(p.data), lock),
            name,
            p.key,
            false,
        ))
    }
}

impl<T: SharedLayout, K: LockKind> Synchronized<RawArray<T>, RobustLock<K>> {
    /// Creates the named array `name` holding a copy of `values` and its own lock (mode
    /// 0600); see [`Value::create_named`](crate::Value).
    ///
    /// # Errors
    /// As for [`RawValue::create_named`].
    ///
    /// ```
    /// use sharedctypes::Array;
    /// # let name = format!("sharedctypes-doc-array-{}", std::process::id());
    /// let a = Array::<f32>::create_named(&name, &[1.5, 2.5])?;
    /// Array::<f32>::open_named(&name)?.set(1, 0.5)?;
    /// assert_eq!(a.to_vec()?, [1.5, 0.5]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, values: &[T]) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, values, DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// ```
    /// use sharedctypes::Array;
    /// # let name = format!("sharedctypes-doc-array-mode-{}", std::process::id());
    /// let a = Array::<u16>::create_named_with_mode(&name, &[0; 2], 0o600)?;
    /// assert_eq!(a.len(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, values: &[T], mode: u32) -> Result<Named<Self>> {
        let s = spec::<T>(KIND_ARRAY, lock_code::<K>(), values.len());
        let (a, key) = create(name, mode, &s, |p| {
            let a = RawArray::from_block(p.data, p.count);
            a.copy_from_slice(values)?;
            Ok(synchronized_with(a, lock_of::<K>(p.lock, true)?))
        })?;
        Ok(Named::new(a, name, key, true))
    }

    /// Opens the named array `name` with its lock.
    ///
    /// # Errors
    /// As for [`Value::open_named`](crate::Value).
    ///
    /// ```
    /// use sharedctypes::Array;
    /// # let name = format!("sharedctypes-doc-array-open-{}", std::process::id());
    /// let _a = Array::<i8>::create_named(&name, &[7; 4])?;
    /// assert_eq!(Array::<i8>::open_named(&name)?.to_vec()?, [7; 4]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_named(name: &str) -> Result<Named<Self>> {
        Self::open_named_with(name, OpenOptions::default())
    }

    /// [`open_named`](Self::open_named) with [`OpenOptions`].
    ///
    /// # Errors
    /// As for [`open_named`](Self::open_named).
    pub fn open_named_with(name: &str, options: OpenOptions) -> Result<Named<Self>> {
        let p = open(name, &spec::<T>(KIND_ARRAY, lock_code::<K>(), 0), options)?;
        let lock = lock_of::<K>(p.lock, false)?;
        Ok(Named::new(
            synchronized_with(RawArray::from_block(p.data, p.count), lock),
            name,
            p.key,
            false,
        ))
    }
}
