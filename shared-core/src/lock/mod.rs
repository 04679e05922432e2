//! Process-shared, crash-robust locks: [`Lock`] and [`RLock`].
//!
//! Both are pthread mutexes in the shared heap with `PTHREAD_PROCESS_SHARED` and
//! `PTHREAD_MUTEX_ROBUST` (and `PTHREAD_MUTEX_RECURSIVE` for `RLock`), so they work between
//! threads and between forked processes alike, and a holder that dies never deadlocks the
//! others (CPython's semaphores do: gh-88304).

mod guard;
mod mutex;

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

pub use guard::LockGuard;

use crate::error::Result;
use mutex::{Acquired, SharedMutex};

/// The lock kinds a [`Synchronized`](crate::Synchronized) object can be guarded by:
/// [`Lock`] and [`RLock`] (lock_api style: the wrapper is generic over the lock).
///
/// The methods are the same as the locks' inherent ones, so generic code can use them.
///
/// ```
/// use sharedctypes::{Lock, RLock, SharedLock};
///
/// fn count_free<L: SharedLock>(lock: &L) -> sharedctypes::Result<bool> {
///     Ok(lock.try_acquire()?.is_some())
/// }
/// assert!(count_free(&Lock::new()?)?);
/// assert!(count_free(&RLock::new()?)?);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait SharedLock: Clone + Send + Sync + fmt::Debug + sealed::Sealed + 'static {
    /// Blocks until the lock is held (see [`Lock::acquire`]).
    ///
    /// ```
    /// use sharedctypes::{Lock, RLock, RawValue, Result, SharedLock};
    ///
    /// fn bump<L: SharedLock>(lock: &L, counter: &RawValue<u32>) -> Result<u32> {
    ///     let _guard = lock.acquire()?;
    ///     Ok(counter.update(|n| n + 1))
    /// }
    ///
    /// let counter = RawValue::new(0)?;
    /// assert_eq!(bump(&Lock::new()?, &counter)?, 1);
    /// assert_eq!(bump(&RLock::new()?, &counter)?, 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn acquire(&self) -> Result<LockGuard<'_>>;
    /// Takes the lock if it is free (see [`Lock::try_acquire`]).
    ///
    /// ```
    /// use sharedctypes::{Lock, RLock, Result, SharedLock};
    ///
    /// /// Can the thread that holds `lock` take it again?
    /// fn reenters<L: SharedLock>(lock: &L) -> Result<bool> {
    ///     let _outer = lock.acquire()?;
    ///     Ok(lock.try_acquire()?.is_some())
    /// }
    ///
    /// assert_eq!(reenters(&Lock::new()?)?, false);
    /// assert_eq!(reenters(&RLock::new()?)?, true);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn try_acquire(&self) -> Result<Option<LockGuard<'_>>>;
    /// Waits at most `timeout` (see [`Lock::acquire_timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::{Lock, Result, SharedLock};
    ///
    /// fn free_within<L: SharedLock>(lock: &L, timeout: Duration) -> Result<bool> {
    ///     // Asked from another thread, so that a holder in this thread counts as busy.
    ///     std::thread::scope(|s| {
    ///         s.spawn(|| lock.acquire_timeout(timeout).map(|g| g.is_some())).join().unwrap()
    ///     })
    /// }
    ///
    /// let lock = Lock::new()?;
    /// assert_eq!(free_within(&lock, Duration::ZERO)?, true);
    /// let _held = lock.acquire()?;
    /// assert_eq!(free_within(&lock, Duration::from_millis(10))?, false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Lock {}
    impl Sealed for super::RLock {}
}

/// A process-local handle to a mutex in shared memory; clones are the same mutex.
#[derive(Clone)]
struct Handle(Arc<SharedMutex>);

impl Handle {
    fn new(recursive: bool) -> Result<Handle> {
        Ok(Handle(Arc::new(SharedMutex::new(recursive)?)))
    }

    #[inline]
    fn guard(&self, acquired: Acquired) -> LockGuard<'_> {
        // SAFETY: called right after this thread acquired the mutex with that outcome.
        unsafe { LockGuard::new(&self.0, acquired) }
    }

    #[inline]
    fn acquire(&self) -> Result<LockGuard<'_>> {
        let acquired = self.0.lock()?;
        Ok(self.guard(acquired))
    }

    fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
        Ok(self.0.try_lock()?.map(|a| self.guard(a)))
    }

    fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>> {
        Ok(self.0.lock_timeout(timeout)?.map(|a| self.guard(a)))
    }

    fn same(&self, other: &Handle) -> bool {
        self.0.raw() == other.0.raw()
    }
}

macro_rules! lock_type {
    ($(#[$doc:meta])* $name:ident, recursive = $recursive:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Handle);

        impl $name {
            /// Creates a new lock in shared memory, released.
            ///
            /// # Errors
            /// [`Error::Os`](crate::Error::Os) if the shared heap cannot grow or pthread
            /// refuses the attributes.
            ///
            #[doc = "```"]
            #[doc = concat!("use sharedctypes::", stringify!($name), ";")]
            #[doc = concat!("let lock = ", stringify!($name), "::new()?;")]
            #[doc = "assert_eq!(lock.clone(), lock); // a clone is the same lock"]
            #[doc = concat!("assert_ne!(", stringify!($name), "::new()?, lock);")]
            #[doc = "assert!(lock.try_acquire()?.is_some()); // created released"]
            #[doc = "# Ok::<(), sharedctypes::Error>(())"]
            #[doc = "```"]
            pub fn new() -> Result<Self> {
                Handle::new($recursive).map($name)
            }

            /// Blocks until this thread holds the lock, and returns the guard that releases it.
            ///
            /// If the previous holder died holding the lock, the guard reports it
            /// ([`LockGuard::owner_died`]); the caller holds the lock and should repair the
            /// data before releasing it.
            ///
            /// # Errors
            /// [`Error::WouldDeadlock`](crate::Error::WouldDeadlock) when a [`Lock`] is
            /// acquired again by the thread that holds it;
            /// [`Error::NotRecoverable`](crate::Error::NotRecoverable) for a lock abandoned
            /// inconsistent by foreign code.
            ///
            #[doc = "```"]
            #[doc = concat!("use sharedctypes::{Exit, ", stringify!($name), ", Process};")]
            #[doc = concat!("let lock = ", stringify!($name), "::new()?;")]
            #[doc = "let took_it = || lock.try_acquire().map(|g| Exit(g.is_some().into()));"]
            #[doc = "let guard = lock.acquire()?;"]
            #[doc = "assert_eq!(Process::start(took_it)?.join()?, 0); // held here: a child cannot take it"]
            #[doc = "drop(guard);"]
            #[doc = "assert_eq!(Process::start(took_it)?.join()?, 1);"]
            #[doc = "# Ok::<(), sharedctypes::Error>(())"]
            #[doc = "```"]
            #[inline]
            pub fn acquire(&self) -> Result<LockGuard<'_>> {
                self.0.acquire()
            }

            /// Takes the lock if it is free now; `Ok(None)` if another holder has it (Python's
            /// `acquire(False)`).
            ///
            /// # Errors
            /// As for [`acquire`](Self::acquire).
            ///
            #[doc = "```"]
            #[doc = concat!("use sharedctypes::", stringify!($name), ";")]
            #[doc = concat!("let lock = ", stringify!($name), "::new()?;")]
            #[doc = "let free_elsewhere = || {"]
            #[doc = "    std::thread::scope(|s| s.spawn(|| lock.try_acquire().map(|g| g.is_some())).join().unwrap())"]
            #[doc = "};"]
            #[doc = "assert_eq!(free_elsewhere()?, true);"]
            #[doc = "let _guard = lock.acquire()?;"]
            #[doc = "assert_eq!(free_elsewhere()?, false); // another thread does not wait, it gets None"]
            #[doc = "# Ok::<(), sharedctypes::Error>(())"]
            #[doc = "```"]
            pub fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
                self.0.try_acquire()
            }

            /// Waits at most `timeout` for the lock; `Ok(None)` if it did not come free in
            /// time (Python's `acquire(timeout=...)`). A zero timeout only tries; a timeout
            /// too long to express as a deadline waits forever. The deadline is measured on
            /// the realtime clock (pthread's), so a jump of the system clock shortens or
            /// lengthens the wait.
            ///
            /// # Errors
            /// As for [`acquire`](Self::acquire).
            ///
            #[doc = "```"]
            #[doc = "use std::time::Duration;"]
            #[doc = concat!("use sharedctypes::", stringify!($name), ";")]
            #[doc = concat!("let lock = ", stringify!($name), "::new()?;")]
            #[doc = "let guard = lock.acquire()?;"]
            #[doc = "let got = std::thread::scope(|s| {"]
            #[doc = "    s.spawn(|| lock.acquire_timeout(Duration::from_millis(20)).map(|g| g.is_some()))"]
            #[doc = "        .join()"]
            #[doc = "        .unwrap()"]
            #[doc = "})?;"]
            #[doc = "assert_eq!(got, false); // held by this thread for the whole 20 ms"]
            #[doc = "drop(guard);"]
            #[doc = "assert!(lock.acquire_timeout(Duration::from_millis(20))?.is_some());"]
            #[doc = "# Ok::<(), sharedctypes::Error>(())"]
            #[doc = "```"]
            pub fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>> {
                self.0.acquire_timeout(timeout)
            }

            /// The underlying `pthread_mutex_t` in shared memory, for C code that shares it.
            ///
            #[doc = "```"]
            #[doc = concat!("use sharedctypes::", stringify!($name), ";")]
            #[doc = concat!("let lock = ", stringify!($name), "::new()?;")]
            #[doc = "let mutex = lock.as_ptr();"]
            #[doc = "// SAFETY: `mutex` is the initialised process-shared mutex `lock` keeps alive (C code that"]
            #[doc = "// shares it would do the same)."]
            #[doc = "assert_eq!(unsafe { libc::pthread_mutex_lock(mutex) }, 0);"]
            #[doc = "let busy = std::thread::scope(|s| s.spawn(|| lock.try_acquire().map(|g| g.is_none())).join().unwrap())?;"]
            #[doc = "assert_eq!(busy, true); // what C locked, Rust sees locked"]
            #[doc = "// SAFETY: this thread locked `mutex` just above."]
            #[doc = "assert_eq!(unsafe { libc::pthread_mutex_unlock(mutex) }, 0);"]
            #[doc = "# Ok::<(), sharedctypes::Error>(())"]
            #[doc = "```"]
            pub fn as_ptr(&self) -> *mut libc::pthread_mutex_t {
                self.0 .0.raw()
            }
        }

        impl SharedLock for $name {
            #[inline]
            fn acquire(&self) -> Result<LockGuard<'_>> {
                self.0.acquire()
            }
            fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
                self.0.try_acquire()
            }
            fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>> {
                self.0.acquire_timeout(timeout)
            }
        }

        /// Two handles are equal when they are the same lock (clones, or the copies a forked
        /// child inherited).
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.same(&other.0)
            }
        }

        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:p})"), self.as_ptr())
            }
        }
    };
}

lock_type! {
    /// A process-shared, non-recursive, crash-robust lock (Python's `multiprocessing.Lock`).
    ///
    /// Clones are the same lock; a forked child that inherits a `Lock` shares it with its
    /// parent. Acquiring a `Lock` the current thread already holds is an error
    /// ([`Error::WouldDeadlock`](crate::Error::WouldDeadlock)) rather than a deadlock;
    /// [`try_acquire`](Self::try_acquire) and [`acquire_timeout`](Self::acquire_timeout)
    /// return `None` at once in that case, like CPython's `acquire(False)`.
    ///
    /// ```
    /// use sharedctypes::{Error, Lock};
    ///
    /// let lock = Lock::new()?;
    /// let same = lock.clone();
    /// let guard = lock.acquire()?;
    /// assert_eq!(same.acquire().unwrap_err(), Error::WouldDeadlock);
    /// assert!(same.try_acquire()?.is_none());
    /// drop(guard);
    /// assert!(same.try_acquire()?.is_some());
    /// assert_eq!(lock, same);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    ///
    /// # When a holder dies
    ///
    /// The mutex is robust: if the thread or process holding it dies (crash, `SIGKILL`,
    /// `_exit`, a thread that ends without releasing), the kernel marks it, and the next
    /// acquirer is told — it never waits forever. The recovery protocol:
    ///
    /// 1. The next [`acquire`](Self::acquire) / [`try_acquire`](Self::try_acquire) /
    ///    [`acquire_timeout`](Self::acquire_timeout) *succeeds*, and its guard reports
    ///    [`owner_died()`](LockGuard::owner_died) `== true` (with the dead holder's pid in
    ///    [`dead_owner_pid`](LockGuard::dead_owner_pid)). The lock has already been made
    ///    consistent, so no `ENOTRECOVERABLE` can follow by accident.
    /// 2. The data the lock guards may be half-updated. While still holding the guard,
    ///    check it and repair it (or recompute it, or mark it invalid).
    /// 3. Drop the guard. Later acquisitions are clean again.
    ///
    /// Operations that take the lock internally and do not hand out a guard
    /// ([`Value::get`](crate::Synchronized::get), [`Value::update`](crate::Synchronized::update),
    /// the array methods of [`Synchronized`](crate::Synchronized)…) cannot let you repair in
    /// between; they fail with [`Error::OwnerDied`](crate::Error::OwnerDied) without touching
    /// the data, after making the lock consistent and releasing it. The next call succeeds;
    /// use [`Synchronized::lock`](crate::Synchronized::lock) when you want to repair
    /// atomically.
    ///
    /// ```
    /// use sharedctypes::{Lock, Process, RawValue};
    ///
    /// let lock = Lock::new()?;
    /// let balance = RawValue::new(100i64)?;
    /// let child = Process::start(|| {
    ///     let guard = lock.acquire().unwrap();
    ///     balance.set(-1); // half-way through an update…
    ///     std::mem::forget(guard);
    ///     // …and the process ends without releasing the lock.
    /// })?;
    /// assert_eq!(child.join()?, 0);
    ///
    /// let guard = lock.acquire()?; // does not deadlock
    /// assert!(guard.owner_died());
    /// assert_eq!(guard.dead_owner_pid(), Some(child.pid()));
    /// if balance.get() < 0 {
    ///     balance.set(100); // repair under the lock
    /// }
    /// drop(guard);
    /// assert!(!lock.acquire()?.owner_died());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    Lock, recursive = false
}

lock_type! {
    /// A process-shared, recursive, crash-robust lock (Python's `multiprocessing.RLock`):
    /// the thread that holds it can acquire it again, and releases it when its last guard
    /// drops.
    ///
    /// The default lock of [`Value`](crate::Value) and [`Array`](crate::Array), like in
    /// CPython. Clones are the same lock. A dead holder is reported exactly as for
    /// [`Lock`] (see its recovery protocol).
    ///
    /// ```
    /// use sharedctypes::RLock;
    ///
    /// let lock = RLock::new()?;
    /// let outer = lock.acquire()?;
    /// let inner = lock.acquire()?; // same thread: fine
    /// drop(inner);
    /// drop(outer);
    /// assert!(lock.try_acquire()?.is_some());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    RLock, recursive = true
}
