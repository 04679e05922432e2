//! [`SyncGuard`]: the lock of a [`Synchronized`](super::Synchronized) object, held.

use core::fmt;
use core::ops::Deref;

use crate::lock::LockGuard;

/// The lock of a [`Synchronized`](super::Synchronized) object, held; dereferences to the
/// object.
///
/// ```
/// use sharedctypes::Array;
/// let arr = Array::from_slice(&[1, 2, 3])?;
/// let g = arr.lock()?;
/// g.set(0, g.get(1).unwrap() + g.get(2).unwrap())?; // both reads and the write in one hold
/// assert_eq!(g.to_vec(), [5, 2, 3]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct SyncGuard<'a, O> {
    obj: &'a O,
    guard: LockGuard<'a>,
}

impl<'a, O> SyncGuard<'a, O> {
    pub(super) fn new(obj: &'a O, guard: LockGuard<'a>) -> Self {
        SyncGuard { obj, guard }
    }

    /// True if a holder of the lock died holding it and nobody has cleared the report; see
    /// [`LockGuard::owner_died`].
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let balance = Value::new(100i64)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let g = balance.lock().unwrap();
    ///         g.set(-1); // half-way through an update…
    ///         std::mem::forget(g); // …and the thread ends holding the lock
    ///     });
    /// });
    /// let g = balance.lock()?;
    /// assert_eq!(g.owner_died(), true);
    /// g.set(100); // repair while holding the lock
    /// g.clear_owner_died();
    /// drop(g);
    /// assert_eq!(balance.lock()?.owner_died(), false);
    /// assert_eq!(balance.get()?, 100);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn owner_died(&self) -> bool {
        self.guard.owner_died()
    }

    /// The pid of the holder that died, if [`owner_died`](Self::owner_died).
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let v = Value::new(0u8)?;
    /// assert_eq!(v.lock()?.dead_owner_pid(), None);
    /// let child = Process::start(|| std::mem::forget(v.lock().unwrap()))?;
    /// child.join()?; // the child ended holding the lock
    /// assert_eq!(v.lock()?.dead_owner_pid(), Some(child.pid()));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn dead_owner_pid(&self) -> Option<i32> {
        self.guard.dead_owner_pid()
    }

    /// Ends the owner-died report once the data is repaired; see
    /// [`LockGuard::clear_owner_died`].
    pub fn clear_owner_died(&self) {
        self.guard.clear_owner_died()
    }
}

impl<O> Deref for SyncGuard<'_, O> {
    type Target = O;
    fn deref(&self) -> &O {
        self.obj
    }
}

impl<O: fmt::Debug> fmt::Debug for SyncGuard<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncGuard")
            .field("obj", self.obj)
            .field("owner_died", &self.owner_died())
            .finish()
    }
}
