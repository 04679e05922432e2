//! A robust, process-shared pthread mutex living in the shared heap.

use core::mem::{MaybeUninit, align_of, size_of};
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};
use core::time::Duration;

use crate::error::{Error, Result};
use crate::heap::{self, Block};

/// The shared-memory part of a lock: the mutex, and the pid of its latest holder (so that an
/// owner-died report can say who died).
#[repr(C)]
struct MutexCell {
    mutex: libc::pthread_mutex_t,
    holder: i32,
}

/// How an acquisition went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The previous holder released the lock normally.
    Clean,
    /// The previous holder (this pid) died holding it; the lock has been made consistent.
    OwnerDied(i32),
}

/// One robust, process-shared mutex (recursive or error-checking) in shared memory.
#[derive(Debug)]
pub(crate) struct SharedMutex {
    block: Block,
}

/// Calls a pthread function returning an error number, mapping non-zero to [`Error::Os`].
fn check(op: &'static str, rc: libc::c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::os(op, rc))
    }
}

impl SharedMutex {
    /// Creates a mutex in fresh shared memory: `PTHREAD_PROCESS_SHARED`,
    /// `PTHREAD_MUTEX_ROBUST`, and `PTHREAD_MUTEX_RECURSIVE` or `PTHREAD_MUTEX_ERRORCHECK`.
    pub(crate) fn new(recursive: bool) -> Result<SharedMutex> {
        let block = Block::alloc(size_of::<MutexCell>(), align_of::<MutexCell>())?;
        let kind = if recursive {
            libc::PTHREAD_MUTEX_RECURSIVE
        } else {
            libc::PTHREAD_MUTEX_ERRORCHECK
        };
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is writable storage for a mutexattr.
        check("pthread_mutexattr_init", unsafe {
            libc::pthread_mutexattr_init(attr.as_mut_ptr())
        })?;
        let attr = attr.as_mut_ptr();
        // SAFETY: `attr` was initialised by pthread_mutexattr_init above and is destroyed only
        // after its last use.
        let configured = check("pthread_mutexattr_settype", unsafe {
            libc::pthread_mutexattr_settype(attr, kind)
        })
        .and_then(|()| {
            // SAFETY: as above.
            check("pthread_mutexattr_setpshared", unsafe {
                libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED)
            })
        })
        .and_then(|()| {
            // SAFETY: as above.
            check("pthread_mutexattr_setrobust", unsafe {
                libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST)
            })
        })
        .and_then(|()| {
            // SAFETY: the block is fresh, suitably aligned for a MutexCell, owned by this
            // handle and not yet visible to any other thread or process; `attr` is valid.
            check("pthread_mutex_init", unsafe {
                libc::pthread_mutex_init(block.as_ptr().cast::<libc::pthread_mutex_t>(), attr)
            })
        });
        // SAFETY: `attr` is initialised and not used after this.
        unsafe { libc::pthread_mutexattr_destroy(attr) };
        configured?;
        Ok(SharedMutex { block })
    }

    /// The pthread mutex, for the pthread calls (which are designed for concurrent use of the
    /// same mutex from any thread of any process mapping it).
    pub(crate) fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.block.as_ptr().cast()
    }

    fn holder(&self) -> &AtomicI32 {
        let holder = self
            .block
            .as_ptr()
            .wrapping_add(core::mem::offset_of!(MutexCell, holder))
            .cast::<i32>();
        // SAFETY: the field lies inside the live block, is 4-aligned, and is only ever
        // accessed atomically (here, in every process).
        unsafe { AtomicI32::from_ptr(holder) }
    }

    /// Turns a pthread lock result into an outcome; `None` means "not acquired" (busy or
    /// timed out). `EDEADLK` (an error-checking mutex already held by this thread) is an
    /// error for a blocking lock, which would wait forever, and plain "not acquired" for a
    /// try or a timed wait, which would fail or time out anyway (CPython's `acquire(False)`
    /// returns `False`).
    fn outcome(
        &self,
        op: &'static str,
        rc: libc::c_int,
        blocking: bool,
    ) -> Result<Option<Acquired>> {
        match rc {
            0 => {
                self.holder().store(heap::current_pid(), Relaxed);
                Ok(Some(Acquired::Clean))
            }
            libc::EOWNERDEAD => {
                let dead = self.holder().load(Relaxed);
                // SAFETY: this thread holds the mutex (EOWNERDEAD means acquired), which is
                // what pthread_mutex_consistent requires.
                check("pthread_mutex_consistent", unsafe {
                    libc::pthread_mutex_consistent(self.raw())
                })?;
                self.holder().store(heap::current_pid(), Relaxed);
                Ok(Some(Acquired::OwnerDied(dead)))
            }
            libc::EBUSY | libc::ETIMEDOUT => Ok(None),
            libc::EDEADLK if blocking => Err(Error::WouldDeadlock),
            libc::EDEADLK => Ok(None),
            libc::ENOTRECOVERABLE => Err(Error::NotRecoverable),
            rc => Err(Error::os(op, rc)),
        }
    }

    /// Blocks until the mutex is acquired.
    #[inline]
    pub(crate) fn lock(&self) -> Result<Acquired> {
        // SAFETY: `raw()` is an initialised process-shared mutex that outlives this call.
        let rc = unsafe { libc::pthread_mutex_lock(self.raw()) };
        self.outcome("pthread_mutex_lock", rc, true)
            .map(|acquired| acquired.expect("a blocking lock returns acquired or an error"))
    }

    /// Acquires the mutex if it is free.
    pub(crate) fn try_lock(&self) -> Result<Option<Acquired>> {
        // SAFETY: as in `lock`.
        let rc = unsafe { libc::pthread_mutex_trylock(self.raw()) };
        self.outcome("pthread_mutex_trylock", rc, false)
    }

    /// Waits at most `timeout` for the mutex. A zero timeout is a `try_lock`; one too long to
    /// express as a deadline waits forever.
    pub(crate) fn lock_timeout(&self, timeout: Duration) -> Result<Option<Acquired>> {
        if timeout.is_zero() {
            return self.try_lock();
        }
        let Some(deadline) = deadline_after(timeout)? else {
            return self.lock().map(Some);
        };
        // SAFETY: as in `lock`; `deadline` is a valid timespec (nanoseconds < 1e9).
        let rc = unsafe { libc::pthread_mutex_timedlock(self.raw(), &deadline) };
        self.outcome("pthread_mutex_timedlock", rc, false)
    }

    /// Releases the mutex.
    ///
    /// # Safety
    /// Must pair with a successful acquisition by this thread that has not been released yet.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the mutex. A robust mutex checks ownership, so even a guard
        // inherited by a forked child (whose thread does not own the mutex) only gets EPERM
        // and cannot release the parent's lock; that error is deliberately ignored.
        unsafe { libc::pthread_mutex_unlock(self.raw()) };
    }
}

impl Drop for SharedMutex {
    fn drop(&mut self) {
        if self.block.is_owned() {
            // SAFETY: the last handle of this process is going away and the block is about to
            // be freed; no guard can exist (guards borrow a handle). Destroying a robust mutex
            // another process still holds would be a logic error of that process's parent,
            // which `Process` prevents by borrowing; glibc reports it as EBUSY, not UB.
            unsafe { libc::pthread_mutex_destroy(self.raw()) };
        }
    }
}

/// `CLOCK_REALTIME` now plus `timeout` (pthread_mutex_timedlock's clock), or `None` if that
/// does not fit in a `timespec`.
fn deadline_after(timeout: Duration) -> Result<Option<libc::timespec>> {
    let mut now = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: `now` is writable storage for a timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, now.as_mut_ptr()) } != 0 {
        return Err(Error::last_os("clock_gettime"));
    }
    // SAFETY: clock_gettime succeeded, so it filled `now`.
    let now = unsafe { now.assume_init() };
    let nanos = now.tv_nsec + timeout.subsec_nanos() as libc::c_long;
    let carry = nanos / 1_000_000_000;
    let secs = i64::try_from(timeout.as_secs())
        .ok()
        .and_then(|s| now.tv_sec.checked_add(s))
        .and_then(|s| s.checked_add(carry));
    Ok(secs.map(|tv_sec| libc::timespec {
        tv_sec,
        tv_nsec: nanos % 1_000_000_000,
    }))
}
