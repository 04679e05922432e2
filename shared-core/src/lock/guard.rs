//! [`LockGuard`]: proof that this thread holds a lock; dropping it releases the lock.

use core::fmt;
use core::marker::PhantomData;

use super::RawMutex;

/// Holds a [`Lock`](crate::Lock) or [`RLock`](crate::RLock) until dropped.
///
/// Only the thread that acquired a lock can use or release the guard: it is neither `Send`
/// nor `Sync`, so it cannot move to, or be shared with, another thread — nor be captured by
/// a child [`Process`](crate::Process), which would otherwise write "under the lock" while
/// the parent does too. Release is its `Drop`.
///
/// If a holder died while holding the lock, the guard says so
/// ([`owner_died`](Self::owner_died)) until one holder repairs the data and calls
/// [`clear_owner_died`](Self::clear_owner_died); see
/// [`RobustLock`](crate::lock::RobustLock#when-a-holder-dies).
///
/// ```
/// use sharedctypes::Lock;
///
/// let lock = Lock::new()?;
/// let guard = lock.acquire()?;
/// assert!(!guard.owner_died());
/// assert!(lock.try_acquire()?.is_none()); // held (even by this thread, like CPython's Lock)
/// drop(guard);
/// assert!(lock.try_acquire()?.is_some());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    mutex: &'a RawMutex,
    /// The process generation (see `heap::fork`) that acquired the lock: a forked child's
    /// copy of the guard releases nothing (the lock is the parent's).
    generation: u32,
    /// Neither `Send` (as std's guards; the compile error then names `MutexGuard`) nor
    /// `Sync` (the error names `Cell`): a lock is used and released by the thread that
    /// holds it.
    _not_send_sync: PhantomData<(std::sync::MutexGuard<'static, ()>, core::cell::Cell<()>)>,
}

impl<'a> LockGuard<'a> {
    /// # Safety
    /// The calling thread must just have acquired `mutex`.
    #[inline]
    pub(crate) unsafe fn new(mutex: &'a RawMutex) -> Self {
        LockGuard {
            mutex,
            generation: crate::fork::generation(),
            _not_send_sync: PhantomData,
        }
    }

    /// True if a holder of the lock died while holding it and nobody has cleared the report
    /// since ([`clear_owner_died`](Self::clear_owner_died)): the data the lock guards may be
    /// half-updated. The lock itself works normally.
    ///
    /// ```
    /// use sharedctypes::Lock;
    /// let lock = Lock::new()?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(lock.acquire().unwrap())); // ends holding the lock
    /// });
    /// let guard = lock.acquire()?;
    /// assert_eq!(guard.owner_died(), true);
    /// drop(guard); // not cleared: the next holder is told too
    /// let guard = lock.acquire()?;
    /// assert_eq!(guard.owner_died(), true);
    /// guard.clear_owner_died(); // repaired
    /// drop(guard);
    /// assert_eq!(lock.acquire()?.owner_died(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn owner_died(&self) -> bool {
        self.mutex.death().is_some()
    }

    /// The pid of the holder that died, if [`owner_died`](Self::owner_died) and its pid is
    /// known (a holder killed between taking the lock and recording itself is reported with
    /// its pid unknown, never with a wrong one).
    ///
    /// ```
    /// use sharedctypes::RLock;
    /// let lock = RLock::new()?;
    /// assert_eq!(lock.acquire()?.dead_owner_pid(), None);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(lock.acquire().unwrap()));
    /// });
    /// // The holder was a thread of this process: the pid is this process's.
    /// assert_eq!(lock.acquire()?.dead_owner_pid(), Some(std::process::id() as i32));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn dead_owner_pid(&self) -> Option<i32> {
        self.mutex.death().flatten()
    }

    /// Ends the owner-died report: call it once the data the lock guards is consistent again.
    /// Until then every acquirer, in every process, is told that a holder died.
    ///
    /// ```
    /// use sharedctypes::{Error, Value};
    /// let v = Value::new(10i32)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let g = v.lock().unwrap();
    ///         g.set(-1); // half-way…
    ///         std::mem::forget(g); // …and gone
    ///     });
    /// });
    /// assert!(matches!(v.get(), Err(Error::OwnerDied { .. }))); // no guard: cannot repair
    /// let g = v.lock()?;
    /// g.set(10); // repair
    /// g.clear_owner_died();
    /// drop(g);
    /// assert_eq!(v.get()?, 10);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn clear_owner_died(&self) {
        self.mutex.clear_death();
    }

    /// Releases the lock (the same as dropping the guard; Python's `lock.release()`).
    ///
    /// ```
    /// use sharedctypes::Lock;
    /// let lock = Lock::new()?;
    /// let guard = lock.acquire()?;
    /// guard.release();
    /// assert!(lock.try_acquire()?.is_some());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn release(self) {}

    /// The mutex this guard holds.
    pub(crate) fn raw(&self) -> &'a RawMutex {
        self.mutex
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.generation == crate::fork::generation() {
            // SAFETY: a guard exists only for an acquisition by this thread (constructor
            // contract) in this process (just checked); it is neither Send nor Sync, and this
            // drop runs once.
            unsafe { self.mutex.unlock() };
        }
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("owner_died", &self.owner_died())
            .finish()
    }
}
