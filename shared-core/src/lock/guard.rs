//! [`LockGuard`]: proof that this thread holds a lock; dropping it releases the lock.

use core::fmt;
use core::marker::PhantomData;

use super::mutex::{Acquired, SharedMutex};

/// Holds a [`Lock`](crate::Lock) or [`RLock`](crate::RLock) until dropped.
///
/// Only the thread that acquired a lock can release it, and only once: the guard is not
/// `Send`, and release is its `Drop`. If the previous holder died while holding the lock, the
/// guard says so ([`owner_died`](Self::owner_died)): you hold the lock, the lock is consistent
/// again, and the data it guards may be half-updated — repair it before dropping the guard.
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
    mutex: &'a SharedMutex,
    acquired: Acquired,
    /// The process generation (see `heap::fork`) that acquired the lock: a forked child's
    /// copy of the guard releases nothing (the lock is the parent's).
    generation: u32,
    /// Not `Send` (a lock is released by the thread that acquired it); a std guard says so in
    /// compile errors more clearly than a raw pointer would.
    _not_send: PhantomData<std::sync::MutexGuard<'static, ()>>,
}

impl<'a> LockGuard<'a> {
    /// # Safety
    /// The calling thread must just have acquired `mutex`, with this outcome.
    #[inline]
    pub(super) unsafe fn new(mutex: &'a SharedMutex, acquired: Acquired) -> Self {
        LockGuard {
            mutex,
            acquired,
            generation: crate::heap::generation(),
            _not_send: PhantomData,
        }
    }

    /// True if the previous holder died while holding the lock: the data it guards may be
    /// inconsistent. The lock itself has been made consistent; dropping this guard releases
    /// it normally.
    ///
    /// ```
    /// use sharedctypes::Lock;
    /// let lock = Lock::new()?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| std::mem::forget(lock.acquire().unwrap())); // ends holding the lock
    /// });
    /// let guard = lock.acquire()?;
    /// assert_eq!(guard.owner_died(), true);
    /// drop(guard); // released normally: clean from now on
    /// assert_eq!(lock.acquire()?.owner_died(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn owner_died(&self) -> bool {
        matches!(self.acquired, Acquired::OwnerDied(_))
    }

    /// The pid of the holder that died, if [`owner_died`](Self::owner_died).
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
    pub fn dead_owner_pid(&self) -> Option<i32> {
        match self.acquired {
            Acquired::OwnerDied(pid) => Some(pid),
            Acquired::Clean => None,
        }
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
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.generation == crate::heap::generation() {
            // SAFETY: a guard exists only for an acquisition by this thread (constructor
            // contract) in this process (just checked), it is not Send, and this drop runs
            // once.
            unsafe { self.mutex.unlock() };
        }
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("mutex", &self.mutex.raw())
            .field("owner_died", &self.owner_died())
            .finish()
    }
}
