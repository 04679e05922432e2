//! [`RawValue`]: one value in shared memory, without a lock.

use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::access::{Place, SharedAtomic, SharedLayout, value_bytes, value_from_bytes};
use crate::description::Kind;
use crate::description::{Description, ElemType};
use crate::error::Result;
use crate::heap::Block;
use crate::named::{self, DEFAULT_MODE, Named, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

/// One `T` in shared memory, without a lock (Python's `sharedctypes.RawValue`).
///
/// A forked child (see [`Process`](crate::Process)) sees the same value: writes on either side
/// are visible to the other. Access is by copy — [`get`](Self::get), [`set`](Self::set),
/// [`update`](Self::update), and for derived structs the field accessors of
/// [`view`](Self::view) — each scalar with one atomic access, so a concurrent writer makes a
/// multi-field value torn, never undefined. Use [`Value`](crate::Value) (or a shared lock) when
/// several accesses must be atomic together.
///
/// ```
/// use sharedctypes::{Process, RawValue, ctypes::c_double};
///
/// let x = RawValue::<c_double>::new(1.0 / 3.0)?;
/// let child = Process::start(|| x.set(x.get() * x.get()))?;
/// child.join()?;
/// assert_eq!(x.get(), 1.0 / 9.0);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct RawValue<T> {
    block: Block,
    _type: PhantomData<T>,
}

impl<T: SharedLayout> RawValue<T> {
    /// Puts `value` in new shared memory.
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) or [`Error::OutOfMemory`](crate::Error::OutOfMemory) if
    /// the shared heap cannot grow;
    /// [`Error::UnsupportedAlignment`](crate::Error::UnsupportedAlignment) for a type aligned
    /// to more than a page.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([1.5f32, -2.0])?;
    /// assert_eq!(v.get(), [1.5, -2.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self> {
        let raw = Self::zeroed()?;
        raw.set(value);
        Ok(raw)
    }

    /// A new value with every byte zero (`RawValue(c_int)` in Python).
    ///
    /// # Errors
    /// As for [`new`](Self::new).
    ///
    /// ```
    /// use sharedctypes::{CBool, RawValue};
    /// assert_eq!(RawValue::<[u16; 3]>::zeroed()?.get(), [0, 0, 0]);
    /// assert_eq!(RawValue::<CBool>::zeroed()?.get(), CBool(0));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn zeroed() -> Result<Self> {
        Ok(RawValue {
            block: Block::alloc(size_of::<T>(), align_of::<T>())?,
            _type: PhantomData,
        })
    }

    /// The value in `block`, which another process allocated (received with a handle that
    /// was checked against `T`'s layout, size and alignment).
    pub(crate) fn from_block(block: Block) -> Self {
        debug_assert!(
            block.len() >= size_of::<T>() && block.as_ptr() as usize % align_of::<T>() == 0
        );
        RawValue {
            block,
            _type: PhantomData,
        }
    }

    /// The block of the value, to send it to another process.
    pub(crate) fn block(&self) -> &Block {
        &self.block
    }

    /// The location of the value, for the lower-level copy operations.
    ///
    /// ```
    /// use sharedctypes::{RawValue, access::Place};
    /// let v = RawValue::new(1u32)?;
    /// let place: Place<'_, u32> = v.place();
    /// place.store(5);
    /// assert_eq!((place.load(), v.get()), (5, 5));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn place(&self) -> Place<'_, T> {
        let ptr: NonNull<T> = self.block.as_non_null().cast();
        // SAFETY: the block is aligned for T, holds size_of::<T>() initialised bytes (zeroed
        // on allocation, then only written through places), stays allocated while `self` is
        // borrowed, and this type never creates references to its contents.
        unsafe { Place::new(ptr) }
    }

    /// A copy of the value (Python's `v.value`).
    ///
    /// ```
    /// use sharedctypes::{CChar, Process, RawValue};
    /// let v = RawValue::new(CChar(b'a'))?;
    /// Process::start(|| v.set(CChar(b'z')))?.join()?;
    /// assert_eq!(v.get(), CChar(b'z')); // the child's write
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn get(&self) -> T {
        self.place().load()
    }

    /// Overwrites the value (Python's `v.value = x`).
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new(0i16)?;
    /// v.set(-300);
    /// assert_eq!(v.get(), -300);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self, value: T) {
        self.place().store(value)
    }

    /// Stores `f(old)` and returns it. A load then a store: not atomic with respect to other
    /// writers unless you hold a lock (see [`Value::update`](crate::Synchronized::update)), or
    /// use the lock-free [`as_atomic`](Self::as_atomic) for integers.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new(10u8)?;
    /// assert_eq!(v.update(|x| x * 3), 30);
    /// assert_eq!(v.get(), 30);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn update(&self, f: impl FnOnce(T) -> T) -> T {
        self.place().update(f)
    }

    /// The field accessors of a derived struct (`v.view().set_x(1.0)`); for an array, its
    /// [`SharedSlice`](crate::access::SharedSlice).
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new([1i32, 2, 3])?;
    /// let elems = v.view(); // a &SharedSlice<i32>
    /// elems.set(1, 20)?;
    /// assert_eq!(v.get(), [1, 20, 3]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn view(&self) -> T::View<'_> {
        self.place().view()
    }

    /// Pointer to the value, for C code that shares it.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new(0i32)?;
    /// let ptr = v.as_ptr();
    /// // SAFETY: `ptr` points to the live, aligned value, and nothing else accesses it meanwhile
    /// // (this is what C code handed the pointer would do).
    /// unsafe { ptr.write(-7) };
    /// assert_eq!(v.get(), -7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_ptr(&self) -> *mut T {
        self.block.as_ptr().cast()
    }
}

impl<T: SharedAtomic> RawValue<T> {
    /// The value as a lock-free atomic, shared with every process that shares the value.
    ///
    /// ```
    /// use std::sync::atomic::Ordering::SeqCst;
    /// use sharedctypes::{Process, RawValue};
    ///
    /// let hits = RawValue::new(0u64)?;
    /// let children: Vec<_> = (0..2)
    ///     .map(|_| Process::start(|| for _ in 0..1000 { hits.as_atomic().fetch_add(1, SeqCst); }))
    ///     .collect::<Result<_, _>>()?;
    /// for c in &children {
    ///     c.join()?;
    /// }
    /// assert_eq!(hits.as_atomic().load(SeqCst), 2000);
    /// assert_eq!(hits.as_atomic().compare_exchange(2000, 0, SeqCst, SeqCst), Ok(2000));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_atomic(&self) -> &T::Atomic {
        self.place().as_atomic()
    }
}

/// `RawValue(49)`: the value, read now.
///
/// ```
/// use sharedctypes::RawValue;
/// assert_eq!(format!("{:?}", RawValue::new(49u32)?), "RawValue(49)");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<T: SharedLayout + fmt::Debug> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawValue").field(&self.get()).finish()
    }
}

/// The value, like `T`'s own `Display` (`println!("{}", v)`), its format spec included.
///
/// ```
/// use sharedctypes::RawValue;
/// let v = RawValue::new(3.14159f64)?;
/// assert_eq!(format!("{v} {v:.2}"), "3.14159 3.14");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<T: SharedLayout + fmt::Display> fmt::Display for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
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
        let plan = Plan::elements::<T>(Kind::Value, 1, None)?;
        named::create(name, mode, plan, |p| {
            let v = RawValue::from_block(p.data());
            v.set(value);
            Ok(v)
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, RawValue};
# let name = format!("sharedctypes-doc-rawvalue-open-{}", std::process::id());
let _v = RawValue::create_named(&name, 7i32)?;
assert!(matches!(RawValue::<u32>::open_named(&name), Err(Error::LayoutMismatch { .. })));
assert_eq!(RawValue::<i32>::open_named(&name)?.get(), 7);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{RawValue, named::OpenOptions};
# let name = format!("sharedctypes-doc-rawvalue-open-with-{}", std::process::id());
let _created = RawValue::create_named(&name, 1u8)?;
let opened = RawValue::<u8>::open_named_with(&name, OpenOptions { allow_other_owner: true })?;
assert_eq!(opened.get(), 1);
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<T: SharedLayout> Object for RawValue<T> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let mut d = crate::share::with_data(Kind::Value, self.block(), out)?;
        d.elem = Some(ElemType::of::<T>());
        d.count = 1;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Value, None).map_err(crate::share::invalid)?;
        d.expect_elem::<T>()?;
        let block = crate::share::data(d, from, size_of::<T>() as u64, align_of::<T>() as u64)?;
        Ok(RawValue::from_block(block))
    }
}

impl<T: SharedLayout> RawValue<T> {
    /// The value's bytes (Python's `bytes(v)`): each field's bytes at its offset, in the
    /// machine's byte order, padding zero.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// let v = RawValue::new(0x0102_0304u32)?;
    /// assert_eq!(v.to_bytes(), [4, 3, 2, 1]); // little-endian
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(size_of::<T>());
        value_bytes(self.get(), &mut out);
        out
    }

    /// Overwrites the value with `bytes` (Python's `memoryview(v)[:] = b`): exactly
    /// `size_of::<T>()` of them, whatever they are (every bit pattern is a valid `T`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for another length.
    ///
    /// ```
    /// use sharedctypes::{Error, RawValue};
    /// let v = RawValue::new(0u16)?;
    /// v.set_bytes(&[0x34, 0x12])?;
    /// assert_eq!(v.get(), 0x1234);
    /// assert_eq!(v.set_bytes(&[1]), Err(Error::LengthMismatch { expected: 2, actual: 1 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        crate::error::check_len(size_of::<T>(), bytes.len())?;
        self.set(value_from_bytes(bytes));
        Ok(())
    }
}
