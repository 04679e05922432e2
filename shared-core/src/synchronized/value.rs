//! What [`Synchronized`] adds for a single value: [`Value`](super::Value).

use core::mem::{align_of, size_of};
use core::ops::Deref;

use super::{Synchronized, synchronized_with};
use crate::access::SharedLayout;
use crate::description::{Kind, LOCK_CELL};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::heap::{self, Block, CACHE_LINE};
use crate::lock::{LockKind, RobustLock};
use crate::lock::{RLock, SharedLock};
use crate::named::{self, DEFAULT_MODE, Named, Plan};
use crate::value::RawValue;

impl<T: SharedLayout> Synchronized<RawValue<T>, RLock> {
    /// `value` in shared memory behind a new [`RLock`] (Python's `Value('i', 7)`).
    ///
    /// # Errors
    /// As for [`RawValue::new`] and [`RLock::new`].
    ///
    /// ```
    /// use sharedctypes::{CBool, Value};
    /// let flag = Value::new(CBool::from(true))?;
    /// assert_eq!(flag.get()?.get(), true);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self> {
        let v = Self::zeroed()?;
        v.get_obj().set(value);
        Ok(v)
    }

    /// A zeroed value behind a new [`RLock`] (Python's `Value('i')`).
    ///
    /// # Errors
    /// As for [`new`](Self::new).
    ///
    /// ```
    /// use sharedctypes::{Value, tc};
    /// let v = Value::<tc!('Q')>::zeroed()?; // Python's Value('Q')
    /// assert_eq!(v.get()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn zeroed() -> Result<Self> {
        let (value, lock) = zeroed_behind_new_rlock::<T>()?;
        Ok(synchronized_with(value, lock))
    }
}

/// A zeroed `T` and a new [`RLock`] for it. A value of at most 8 bytes shares its lock's
/// cache line (the lock's cell takes 56 of the line's 64 bytes): the pair takes one line, as
/// much as the two took apart, and the lock's holder finds the value in the line it has just
/// written. A bigger value has a block of its own, the lock a line of its own; so have both
/// inside [`heap::isolated`](crate::heap::isolated), where each block is a file another
/// program may be handed: the value alone, or the lock alone, must not bring the other.
fn zeroed_behind_new_rlock<T: SharedLayout>() -> Result<(RawValue<T>, RLock)> {
    let cell = LOCK_CELL.0 as usize;
    let (size, align) = (size_of::<T>(), align_of::<T>());
    if size == 0 || size > CACHE_LINE - cell || cell % align != 0 || heap::isolating() {
        return Ok((RawValue::zeroed()?, RLock::new()?));
    }
    let lock = RLock::new_in(Block::alloc(CACHE_LINE, CACHE_LINE)?)?;
    // The value's part is `size` bytes at offset 56 of a 64-aligned block: aligned for `T`
    // (checked above), zeroed, and only this program has it. It keeps the lock's block (no
    // allocation of its own: a `Value::new` costs one heap block and one `Arc`, as before).
    Ok((RawValue::from_block(lock.part_of_block(cell, size)), lock))
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawValue<T>, L> {
    /// `value` in shared memory behind `lock` (Python's `Value('i', 7, lock=lock)`).
    ///
    /// # Errors
    /// As for [`RawValue::new`].
    ///
    /// ```
    /// use sharedctypes::{Error, Lock, Value};
    /// let lock = Lock::new()?;
    /// let v = Value::with_lock(5u8, lock.clone())?;
    /// let held = lock.acquire()?;
    /// assert_eq!(v.get(), Err(Error::WouldDeadlock)); // a Lock is not re-entrant
    /// drop(held);
    /// assert_eq!(v.get()?, 5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn with_lock(value: T, lock: L) -> Result<Self> {
        Ok(synchronized_with(RawValue::new(value)?, lock))
    }

    /// A copy of the value, under the lock (Python's `v.value`).
    ///
    /// # Errors
    /// [`Error::OwnerDied`] while a holder's death is unrepaired (see
    /// [`locked`](Self::locked)).
    ///
    /// ```
    /// use sharedctypes::{Error, Value};
    /// let v = Value::new(1i32)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(v.lock().unwrap())); // ends holding the lock
    /// });
    /// let died = Error::OwnerDied { pid: std::process::id() as i32 };
    /// assert_eq!(v.get(), Err(died.clone()));
    /// assert_eq!(v.get(), Err(died)); // until a guard holder says the data is repaired
    /// v.lock()?.clear_owner_died();
    /// assert_eq!(v.get()?, 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn get(&self) -> Result<T> {
        self.locked(RawValue::get)
    }

    /// Overwrites the value, under the lock (Python's `v.value = x`).
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let v = Value::new(0.0f64)?;
    /// let child = Process::start(|| v.set(2.5))?;
    /// assert_eq!(child.join()?, 0);
    /// assert_eq!(v.get()?, 2.5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self, value: T) -> Result<()> {
        self.locked(|v| v.set(value))
    }

    /// Stores `f(old)` and returns it, in one acquisition of the lock: atomic with respect to
    /// every process that uses the lock (Python's `with v.get_lock(): v.value += 1`).
    ///
    /// # Errors
    /// As for [`get`](Self::get); `f` does not run.
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let n = Value::new(0u32)?;
    /// let workers = (0..2)
    ///     .map(|_| Process::start(|| (0..500).try_for_each(|_| n.update(|x| x + 1).map(drop))))
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// for w in &workers {
    ///     assert_eq!(w.join()?, 0);
    /// }
    /// assert_eq!(n.get()?, 1000); // no increment lost
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn update(&self, f: impl FnOnce(T) -> T) -> Result<T> {
        self.locked(|v| v.update(f))
    }
}

/// The generated per-field accessors of a derived struct, each taking the lock (CPython's
/// `Synchronized` properties): `foo.x()?`, `foo.set_x(2)?`, `foo.update_x(|x| x * 2)?`.
impl<T: SharedLayout, L: SharedLock> Deref for Synchronized<RawValue<T>, L> {
    type Target = T::Synced<Self>;

    fn deref(&self) -> &T::Synced<Self> {
        let this: *const Self = self;
        // SAFETY: the `SharedLayout` contract makes `T::Synced<S>` a `#[repr(transparent)]`
        // wrapper around `S`, here `Synchronized<RawValue<T>, L>` itself, so the cast
        // reference points to a valid value of the target type with the same lifetime.
        unsafe { &*this.cast::<T::Synced<Self>>() }
    }
}

impl<T: SharedLayout, K: LockKind> Synchronized<RawValue<T>, RobustLock<K>> {
    /// Creates the named object `name` holding `value` and its own lock (an [`RLock`]
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
        let plan = Plan::elements::<T>(Kind::Value, 1, Some(RobustLock::<K>::mutex()))?;
        named::create(name, mode, plan, |p| {
            let v = RawValue::from_block(p.data());
            v.set(value);
            Ok(synchronized_with(v, RobustLock::<K>::create_in(p.lock())?))
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, Lock, Value};
# let name = format!("sharedctypes-doc-value-open-{}", std::process::id());
let _v = Value::<u8>::create_named(&name, 1)?; // an RLock
assert!(matches!(Value::<u8, Lock>::open_named(&name), Err(Error::NotNamedObject { .. })));
assert_eq!(Value::<u8>::open_named(&name)?.get()?, 1);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Value, named::OpenOptions};
# let name = format!("sharedctypes-doc-value-open-with-{}", std::process::id());
let _created = Value::<u16>::create_named(&name, 3)?;
let opened = Value::<u16>::open_named_with(&name, OpenOptions::default())?;
assert_eq!(opened.get()?, 3);
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<T: SharedLayout, L: SharedLock> Synchronized<RawValue<T>, L> {
    /// [`RawValue::to_bytes`] under the lock.
    ///
    /// # Errors
    /// [`Error::OwnerDied`] (see [`Synchronized::locked`]).
    ///
    /// ```
    /// use sharedctypes::Value;
    /// assert_eq!(Value::new(-1i8)?.to_bytes()?, [0xff]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.locked(RawValue::to_bytes)
    }

    /// [`RawValue::set_bytes`] under the lock (the length is checked before locking).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::OwnerDied`].
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let v = Value::new(0u32)?;
    /// v.set_bytes(&7u32.to_ne_bytes())?;
    /// assert_eq!(v.get()?, 7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn set_bytes(&self, bytes: &[u8]) -> Result<()> {
        crate::error::check_len(size_of::<T>(), bytes.len())?;
        self.locked(|v| v.set_bytes(bytes))?
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Result;
    use crate::heap::{self, CACHE_LINE};
    use crate::share::sealed::Object;
    use crate::share::{Exporter, Importer, Numbering};
    use crate::{Event, Lock, Value};

    fn line(addr: *const u8) -> usize {
        addr as usize / CACHE_LINE
    }

    /// Objects made one after the other never share a cache line between two locks (or a
    /// lock and a waiting primitive's state); a small value sits in its own lock's line.
    #[test]
    fn locks_and_states_have_lines_of_their_own_and_a_small_value_shares_its_locks() -> Result<()> {
        let values = (0..8)
            .map(|_| Value::new(7u64))
            .collect::<Result<Vec<_>>>()?;
        let locks = (0..8).map(|_| Lock::new()).collect::<Result<Vec<_>>>()?;
        let events = (0..8).map(|_| Event::new()).collect::<Result<Vec<_>>>()?;
        let mut lines = Vec::new();
        for v in &values {
            let lock = v.get_lock().raw().addr();
            assert_eq!(lock as usize % CACHE_LINE, 0);
            assert_eq!(v.get_obj().block().as_ptr() as usize, lock as usize + 56);
            assert_eq!(v.get()?, 7);
            lines.push(line(lock));
        }
        for l in &locks {
            assert_eq!(l.raw().addr() as usize % CACHE_LINE, 0);
            lines.push(line(l.raw().addr()));
        }
        for e in &events {
            assert_eq!(e.state().block().as_ptr() as usize % CACHE_LINE, 0);
            lines.push(line(e.state().block().as_ptr()));
        }
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len(), 24, "24 objects, 24 lines");

        // A value too big for the line's last 8 bytes has a block of its own.
        let big = Value::new([1u64, 2])?;
        let lock = big.get_lock().raw().addr();
        assert_eq!(lock as usize % CACHE_LINE, 0);
        assert_ne!(line(big.get_obj().block().as_ptr()), line(lock));
        assert_eq!(big.get()?, [1, 2]);
        Ok(())
    }

    /// A small value's part keeps its lock's line: either can go first, and the line is freed
    /// (for the next block of its class) only once both are gone.
    #[test]
    fn a_small_value_and_its_lock_each_keep_their_line() -> Result<()> {
        let (value, lock) = Value::new(7u64)?.into_parts();
        let at = lock.raw().addr() as usize;
        drop(lock);
        assert_eq!(value.get(), 7, "the value outlives its lock");
        let other = Value::new(9u64)?;
        assert_ne!(
            other.get_lock().raw().addr() as usize,
            at,
            "not reused while the value lives"
        );
        drop(value);
        let (value, lock) = Value::new(8u64)?.into_parts();
        drop(value);
        assert!(!lock.acquire()?.owner_died(), "the lock outlives its value");
        Ok(())
    }

    /// Inside `heap::isolated` the value and its lock stay two blocks, two files: a program
    /// handed only one of them gets nothing of the other, and a process that received the
    /// value can hand it on to a program (a part at offset 56 of a received file would not
    /// count as alone in it).
    #[test]
    fn an_isolated_small_value_and_its_lock_are_files_of_their_own() -> Result<()> {
        let v = heap::isolated(|| Value::new(5u64))?;
        let (value, lock) = (v.get_obj().block(), v.get_lock().raw().block());
        assert!(value.alone_in_its_file() && lock.alone_in_its_file());
        assert_ne!(line(value.as_ptr()), line(lock.as_ptr()));

        let mut out = Exporter::new(Numbering::Slots);
        let d = v.export(&mut out)?;
        let fds = out.fds().iter().map(|f| f.try_clone().unwrap()).collect();
        let got: Value<u64> = crate::share::receive(&d, &Importer::Slots(fds), None)?;
        assert_eq!(got.get()?, 5);
        let mut on = Exporter::new(Numbering::Inherited);
        on.require_isolation("n");
        got.export(&mut on)?;
        Ok(())
    }
}
