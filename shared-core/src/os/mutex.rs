//! Robust, process-shared pthread mutexes (`libc`: `nix` has no pthread mutex API).
//!
//! [`PthreadMutex`] is the C `pthread_mutex_t` as it lies in shared memory. A shared
//! reference to one is only ever created for an initialised mutex (see
//! [`PthreadMutex::init`]); from then on the pthread calls are designed for concurrent use
//! from any thread of any process that maps it, so they are safe functions here, except the
//! ones whose precondition is "this thread holds it".

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use core::time::Duration;

use nix::time::{ClockId, clock_gettime};

use super::err;
use crate::error::{Error, Result};

/// A `pthread_mutex_t`, in shared memory.
#[repr(transparent)]
pub(crate) struct PthreadMutex(UnsafeCell<libc::pthread_mutex_t>);

// SAFETY: a pthread mutex is made to be used from many threads at once; every access goes
// through the pthread functions, which synchronise internally.
unsafe impl Sync for PthreadMutex {}
// SAFETY: as above; it has no thread affinity of its own (the *holder* is per thread, and
// that is tracked by the lock's guard, which is not `Send`).
unsafe impl Send for PthreadMutex {}

/// What an acquisition attempt returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquire {
    /// Acquired.
    Locked,
    /// Acquired, but the previous holder died holding it (`EOWNERDEAD`): the caller holds it
    /// and must call [`PthreadMutex::consistent`] before releasing it.
    OwnerDied,
    /// Not acquired: held by another thread (`EBUSY`), or the deadline passed (`ETIMEDOUT`).
    Busy,
    /// Not acquired: an error-checking mutex already held by this thread (`EDEADLK`).
    HeldByThisThread,
    /// Not acquired: a holder died and the mutex was released without being made consistent.
    NotRecoverable,
    /// Any other error number.
    Failed(i32),
}

impl Acquire {
    /// Success is tested first, alone: it is the lock's fast path.
    #[inline(always)]
    fn from_rc(rc: libc::c_int) -> Acquire {
        if rc == 0 {
            Acquire::Locked
        } else {
            Self::from_error(rc)
        }
    }

    #[cold]
    #[inline(never)]
    fn from_error(rc: libc::c_int) -> Acquire {
        match rc {
            0 => Acquire::Locked,
            libc::EOWNERDEAD => Acquire::OwnerDied,
            libc::EBUSY | libc::ETIMEDOUT => Acquire::Busy,
            libc::EDEADLK => Acquire::HeldByThisThread,
            libc::ENOTRECOVERABLE => Acquire::NotRecoverable,
            rc => Acquire::Failed(rc),
        }
    }
}

/// glibc's `pthread_mutex_clocklock` (`int (pthread_mutex_t *, clockid_t, const struct
/// timespec *)`, glibc 2.30 and later): `pthread_mutex_timedlock` on a clock of the caller's
/// choosing.
type ClockLock = unsafe extern "C" fn(
    *mut libc::pthread_mutex_t,
    libc::clockid_t,
    *const libc::timespec,
) -> libc::c_int;

/// `pthread_mutex_clocklock`, looked up at run time (the `libc` crate does not declare it,
/// and a glibc older than 2.30, a statically linked program or musl does not have it);
/// `None` where it is missing. Cached in an atomic (0: not looked up yet, 1: missing, else
/// the address), not a `OnceLock`, which a fork in the middle of its initialisation would
/// leave blocked in the child; two threads that look it up at once find the same address.
fn clocklock() -> Option<ClockLock> {
    static FOUND: AtomicUsize = AtomicUsize::new(0);
    let address = match FOUND.load(Relaxed) {
        0 => {
            // SAFETY: `dlsym` with `RTLD_DEFAULT` and a NUL-terminated name only looks a
            // symbol up in the objects already loaded.
            let symbol =
                unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"pthread_mutex_clocklock".as_ptr()) };
            let address = if symbol.is_null() { 1 } else { symbol as usize };
            FOUND.store(address, Relaxed);
            address
        }
        address => address,
    };
    (address != 1).then(|| {
        // SAFETY: `address` is what `dlsym` found for glibc's `pthread_mutex_clocklock` (never
        // 0 or 1 then), a function whose C declaration in <pthread.h> is the signature
        // `ClockLock` spells out; a function symbol's address is a valid pointer to it.
        unsafe { core::mem::transmute::<usize, ClockLock>(address) }
    })
}

/// A point in time for [`PthreadMutex::lock_until`]: on `CLOCK_MONOTONIC` where glibc has
/// `pthread_mutex_clocklock`, so that no change of the wall clock (a step, or a time service
/// slewing it) moves a timeout; on `CLOCK_REALTIME` (`pthread_mutex_timedlock`'s clock) on an
/// older glibc.
pub(crate) struct Deadline {
    at: libc::timespec,
    /// `Some` when `at` is on `CLOCK_MONOTONIC`.
    clocklock: Option<ClockLock>,
}

impl Deadline {
    /// Now plus `timeout`, or `None` if that cannot be expressed (wait forever).
    pub(crate) fn after(timeout: Duration) -> Result<Option<Deadline>> {
        Self::after_with(timeout, clocklock())
    }

    /// [`after`](Self::after), for `pthread_mutex_clocklock` if given, else for
    /// `pthread_mutex_timedlock`.
    fn after_with(timeout: Duration, clocklock: Option<ClockLock>) -> Result<Option<Deadline>> {
        let clock = if clocklock.is_some() {
            ClockId::CLOCK_MONOTONIC
        } else {
            ClockId::CLOCK_REALTIME
        };
        let now = clock_gettime(clock).map_err(err("clock_gettime"))?;
        let nanos = now.tv_nsec() + i64::from(timeout.subsec_nanos());
        let secs = i64::try_from(timeout.as_secs())
            .ok()
            .and_then(|s| now.tv_sec().checked_add(s))
            .and_then(|s| s.checked_add(nanos / 1_000_000_000));
        Ok(secs.map(|tv_sec| Deadline {
            at: libc::timespec {
                tv_sec,
                tv_nsec: nanos % 1_000_000_000,
            },
            clocklock,
        }))
    }
}

fn check(op: &'static str, rc: libc::c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::os(op, rc))
    }
}

impl PthreadMutex {
    /// Initialises a mutex in place: `PTHREAD_PROCESS_SHARED`, `PTHREAD_MUTEX_ROBUST`, and
    /// `PTHREAD_MUTEX_RECURSIVE` or `PTHREAD_MUTEX_ERRORCHECK`.
    ///
    /// # Safety
    /// `this` must be valid for writes and aligned for a `pthread_mutex_t`, and no other
    /// thread or process may use the memory until this returns.
    pub(crate) unsafe fn init(this: *mut PthreadMutex, recursive: bool) -> Result<()> {
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
        // SAFETY: `attr` was initialised just above and is destroyed only after its last use.
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
            // SAFETY: `this` is writable, aligned and exclusively ours (the caller's
            // contract); `PthreadMutex` is a transparent `pthread_mutex_t`; `attr` is valid.
            check("pthread_mutex_init", unsafe {
                libc::pthread_mutex_init(this.cast(), attr)
            })
        });
        // SAFETY: `attr` is initialised and not used after this.
        unsafe { libc::pthread_mutexattr_destroy(attr) };
        configured
    }

    fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.0.get()
    }

    /// Blocks until acquired.
    #[inline]
    pub(crate) fn lock(&self) -> Acquire {
        // SAFETY: `self` is an initialised mutex (only such are ever referenced), and the
        // pthread functions may be called on it concurrently from any thread of any process.
        Acquire::from_rc(unsafe { libc::pthread_mutex_lock(self.raw()) })
    }

    /// Acquires if free.
    #[inline]
    pub(crate) fn try_lock(&self) -> Acquire {
        // SAFETY: as in `lock`.
        Acquire::from_rc(unsafe { libc::pthread_mutex_trylock(self.raw()) })
    }

    /// Waits until `deadline` at most.
    pub(crate) fn lock_until(&self, deadline: &Deadline) -> Acquire {
        let rc = match deadline.clocklock {
            // SAFETY: as in `lock`; `clocklock` is glibc's `pthread_mutex_clocklock` (see
            // `ClockLock`), given a deadline on the clock it names (a valid timespec,
            // nanoseconds below 1e9).
            Some(clocklock) => unsafe {
                clocklock(self.raw(), libc::CLOCK_MONOTONIC, &deadline.at)
            },
            // SAFETY: as in `lock`; the deadline is a valid timespec on `CLOCK_REALTIME`.
            None => unsafe { libc::pthread_mutex_timedlock(self.raw(), &deadline.at) },
        };
        Acquire::from_rc(rc)
    }

    /// Marks a mutex whose previous holder died as consistent again.
    ///
    /// # Safety
    /// This thread must hold the mutex, acquired with [`Acquire::OwnerDied`].
    pub(crate) unsafe fn consistent(&self) -> Result<()> {
        // SAFETY: the caller holds the mutex after EOWNERDEAD, as the call requires.
        check("pthread_mutex_consistent", unsafe {
            libc::pthread_mutex_consistent(self.raw())
        })
    }

    /// Releases the mutex.
    ///
    /// # Safety
    /// This thread must hold the mutex.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the mutex, so unlocking it is what pthread expects.
        unsafe { libc::pthread_mutex_unlock(self.raw()) };
    }

    /// Destroys the mutex.
    ///
    /// # Safety
    /// The mutex must not be held, and no thread of any process may use it afterwards.
    pub(crate) unsafe fn destroy(&self) {
        // SAFETY: the caller guarantees the mutex is unused from now on and not held.
        unsafe { libc::pthread_mutex_destroy(self.raw()) };
    }
}

/// The links of glibc's per-thread list of held robust mutexes, which glibc keeps *inside*
/// each mutex (so in shared memory) and follows when it unlocks one. Known for 64-bit glibc
/// (the `__list` field of `pthread_mutex_t`: `__prev` at byte 24, `__next` at byte 32; list
/// nodes point at `__next`); elsewhere nothing is known and [`robust_head`] says so.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
mod links {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// Offsets of `__list.__prev` and `__list.__next` in a `pthread_mutex_t`.
    const PREV: usize = 24;
    const NEXT: usize = 32;

    impl super::PthreadMutex {
        /// This mutex's node in a robust list (the address glibc links it by).
        #[inline]
        pub(crate) fn node(&self) -> usize {
            self.raw() as usize + NEXT
        }

        /// Writes the two links glibc follows when this thread unlocks the mutex.
        ///
        /// # Safety
        /// This thread holds the mutex, and `prev`/`next` are the nodes glibc linked it
        /// between (this thread's robust-list head, or mutexes this thread holds).
        #[inline]
        pub(crate) unsafe fn set_links(&self, prev: usize, next: usize) {
            let at = |offset: usize| self.raw().cast::<u8>().wrapping_add(offset).cast();
            // SAFETY: both fields lie inside this initialised, 8-aligned mutex, at 8-aligned
            // offsets; glibc writes them only in the holder thread (this one), and other
            // processes' writes to shared memory are outside this process's data races.
            unsafe { AtomicUsize::from_ptr(at(PREV)) }.store(prev, Relaxed);
            // SAFETY: as above.
            unsafe { AtomicUsize::from_ptr(at(NEXT)) }.store(next, Relaxed);
        }
    }

    /// The head of the calling thread's robust list, as registered with the kernel (an
    /// address in this thread's own, private memory), or 0 if unknown.
    pub(crate) fn robust_head() -> usize {
        crate::os::process::robust_list_head().map_or(0, |(head, _)| head)
    }

    /// The newest node of the robust list whose head is `head` (without glibc's flag bit).
    ///
    /// # Safety
    /// `head` came from [`robust_head`] in the calling thread.
    #[inline]
    pub(crate) unsafe fn newest(head: usize) -> usize {
        // SAFETY: the head is the calling thread's own `struct robust_list_head`, in its
        // private memory, alive as long as the thread; its first word is the list pointer,
        // written only by this thread (in glibc's lock and unlock).
        unsafe { core::ptr::read_volatile(head as *const usize) & !1 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")))]
mod links {
    impl super::PthreadMutex {
        pub(crate) fn node(&self) -> usize {
            self.raw() as usize
        }
        pub(crate) unsafe fn set_links(&self, _: usize, _: usize) {}
    }
    /// Unknown here: the links are left to the C library.
    pub(crate) fn robust_head() -> usize {
        0
    }
    pub(crate) unsafe fn newest(_: usize) -> usize {
        0
    }
}

pub(crate) use links::{newest, robust_head};

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use nix::time::{ClockId, clock_gettime};

    use super::{Acquire, Deadline, PthreadMutex};

    /// glibc's version, as `(major, minor)`.
    #[cfg(target_env = "gnu")]
    fn glibc() -> (u32, u32) {
        // SAFETY: `gnu_get_libc_version` takes nothing and only returns a pointer.
        let version = unsafe { libc::gnu_get_libc_version() };
        // SAFETY: that pointer is to glibc's static, NUL-terminated version string.
        let version = unsafe { core::ffi::CStr::from_ptr(version) };
        let mut parts = version
            .to_str()
            .unwrap()
            .split('.')
            .map(|p| p.parse().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    }

    /// Without `pthread_mutex_clocklock` (glibc before 2.30, static linking, musl), a timed
    /// wait is `pthread_mutex_timedlock` on the realtime clock: it times out on a mutex another
    /// thread holds, and takes a free one.
    #[test]
    fn the_realtime_fallback_waits_and_takes() {
        let mut cell = Box::new(core::mem::MaybeUninit::<PthreadMutex>::zeroed());
        // SAFETY: `cell` is fresh, aligned memory for a mutex, used by nothing else yet.
        unsafe { PthreadMutex::init(cell.as_mut_ptr(), false) }.unwrap();
        // SAFETY: initialised just above, and it lives until the end of the test.
        let mutex = unsafe { cell.assume_init_ref() };
        let deadline = |ms| {
            Deadline::after_with(Duration::from_millis(ms), None)
                .unwrap()
                .unwrap()
        };
        let (held, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(mutex.lock(), Acquire::Locked);
                held.wait();
                release.wait();
                // SAFETY: this thread locked it just above.
                unsafe { mutex.unlock() };
            });
            held.wait();
            let start = std::time::Instant::now();
            assert_eq!(mutex.lock_until(&deadline(50)), Acquire::Busy);
            assert!(
                start.elapsed() >= Duration::from_millis(40),
                "{:?}",
                start.elapsed()
            );
            release.wait();
        });
        assert_eq!(mutex.lock_until(&deadline(5_000)), Acquire::Locked);
        // SAFETY: this thread locked it just above.
        unsafe { mutex.unlock() };
    }

    #[test]
    #[cfg(target_env = "gnu")]
    fn deadlines_are_on_the_monotonic_clock_where_glibc_has_clocklock() {
        let deadline = Deadline::after(Duration::from_secs(10)).unwrap().unwrap();
        let monotonic = glibc() >= (2, 30);
        assert_eq!(
            deadline.clocklock.is_some(),
            monotonic,
            "glibc {:?}",
            glibc()
        );
        let clock = if monotonic {
            ClockId::CLOCK_MONOTONIC
        } else {
            ClockId::CLOCK_REALTIME
        };
        let left = deadline.at.tv_sec - clock_gettime(clock).unwrap().tv_sec();
        assert!((9..=10).contains(&left), "{left} s left of 10");
    }
}
