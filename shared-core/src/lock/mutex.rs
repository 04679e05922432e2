//! A robust, process-shared pthread mutex living in the shared heap.

use core::mem::{ManuallyDrop, MaybeUninit, align_of, size_of};
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering::Relaxed};
use core::time::Duration;

use crate::error::{Error, Result};
use crate::heap::{self, Block};

/// The shared-memory part of a lock: the mutex, the pid of its latest holder (so that an
/// owner-died report can say who died), and how many times it is held (recursion depth; only
/// written by a holder). 48 bytes.
#[repr(C)]
struct MutexCell {
    mutex: libc::pthread_mutex_t,
    holder: i32,
    depth: u32,
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
    /// Freed by `Drop`, unless the mutex is still held (then it is leaked).
    block: ManuallyDrop<Block>,
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
        Ok(SharedMutex {
            block: ManuallyDrop::new(block),
        })
    }

    /// The pthread mutex, for the pthread calls (which are designed for concurrent use of the
    /// same mutex from any thread of any process mapping it).
    pub(crate) fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.block.as_ptr().cast()
    }

    /// A field of the [`MutexCell`] (by offset), for its atomic accessors.
    fn cell_field<T>(&self, offset: usize) -> *mut T {
        self.block.as_ptr().wrapping_add(offset).cast()
    }

    fn holder(&self) -> &AtomicI32 {
        let holder = self.cell_field(core::mem::offset_of!(MutexCell, holder));
        // SAFETY: the field lies inside the live block, is 4-aligned, and is only ever
        // accessed atomically (here, in every process).
        unsafe { AtomicI32::from_ptr(holder) }
    }

    /// How many acquisitions are outstanding. Changed only by a thread that holds the mutex
    /// (so a load and a store suffice), read without it by `Drop`.
    fn depth(&self) -> &AtomicU32 {
        let depth = self.cell_field(core::mem::offset_of!(MutexCell, depth));
        // SAFETY: as for `holder`.
        unsafe { AtomicU32::from_ptr(depth) }
    }

    /// Turns a pthread lock result into an outcome; `None` means "not acquired" (busy or
    /// timed out). The common case (acquired, previous holder fine) is inlined into every
    /// acquisition; everything else is [`outcome_slow`](Self::outcome_slow).
    #[inline(always)]
    fn outcome(
        &self,
        op: &'static str,
        rc: libc::c_int,
        blocking: bool,
    ) -> Result<Option<Acquired>> {
        if rc == 0 {
            self.holder().store(heap::current_pid(), Relaxed);
            let depth = self.depth();
            depth.store(depth.load(Relaxed) + 1, Relaxed);
            Ok(Some(Acquired::Clean))
        } else {
            self.outcome_slow(op, rc, blocking)
        }
    }

    /// The uncommon lock results. `EDEADLK` (an error-checking mutex already held by this
    /// thread) is an error for a blocking lock, which would wait forever, and plain "not
    /// acquired" for a try or a timed wait, which would fail or time out anyway (CPython's
    /// `acquire(False)` returns `False`).
    #[cold]
    #[inline(never)]
    fn outcome_slow(
        &self,
        op: &'static str,
        rc: libc::c_int,
        blocking: bool,
    ) -> Result<Option<Acquired>> {
        match rc {
            libc::EOWNERDEAD => {
                let dead = self.holder().load(Relaxed);
                // SAFETY: this thread holds the mutex (EOWNERDEAD means acquired), which is
                // what pthread_mutex_consistent requires.
                let rc = unsafe { libc::pthread_mutex_consistent(self.raw()) };
                if rc != 0 {
                    // SAFETY: this thread holds the mutex (see above) and no guard exists for
                    // this acquisition, so it is released here, exactly once.
                    unsafe { libc::pthread_mutex_unlock(self.raw()) };
                    return Err(Error::os("pthread_mutex_consistent", rc));
                }
                self.holder().store(heap::current_pid(), Relaxed);
                // The dead holder's recursion is gone with it (glibc restarts the count at 1).
                self.depth().store(1, Relaxed);
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
            // Too long to express: wait forever, but report a Lock this thread already holds
            // as "not acquired", like every other timed wait does.
            return match self.lock() {
                Err(Error::WouldDeadlock) => Ok(None),
                other => other.map(Some),
            };
        };
        // SAFETY: as in `lock`; `deadline` is a valid timespec (nanoseconds < 1e9).
        let rc = unsafe { libc::pthread_mutex_timedlock(self.raw(), &deadline) };
        self.outcome("pthread_mutex_timedlock", rc, false)
    }

    /// Releases the mutex.
    ///
    /// # Safety
    /// Must pair with a successful acquisition by this thread (in this process) that has not
    /// been released yet.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        let depth = self.depth();
        depth.store(depth.load(Relaxed).saturating_sub(1), Relaxed);
        // SAFETY: the caller holds the mutex, so unlocking it is what pthread expects.
        unsafe { libc::pthread_mutex_unlock(self.raw()) };
    }
}

impl Drop for SharedMutex {
    fn drop(&mut self) {
        if !self.block.is_owned() {
            // Inherited through fork: the parent owns (and frees) the block; this process's
            // handle to it goes without touching the mutex.
            // SAFETY: `block` is dropped here, once, and never used again (this is `Drop`).
            unsafe { ManuallyDrop::drop(&mut self.block) };
            return;
        }
        if self.depth().load(Relaxed) != 0 {
            // Still held: by a guard that was `mem::forget`-ten, or by another process. A
            // held robust mutex sits on its holder thread's robust list, which glibc and the
            // kernel write through; destroying it and letting the heap reuse the block would
            // let them scribble over the next object. Leak it instead: the block is never
            // freed or reused.
            return;
        }
        // SAFETY: the mutex is initialised, this is the last handle in this process, and it is
        // not held (depth 0: every acquisition was released), so nothing references it.
        unsafe { libc::pthread_mutex_destroy(self.raw()) };
        // SAFETY: `block` is dropped here, once, and never used again (this is `Drop`).
        unsafe { ManuallyDrop::drop(&mut self.block) };
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
