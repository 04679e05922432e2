//! Futexes on shared memory (`libc`: `nix` has no futex API): sleep until a 32-bit word
//! changes, and wake the sleepers, across processes (the shared, not the private, variant:
//! the kernel keys the word by its page, whatever address each process maps it at).

use core::sync::atomic::AtomicU32;
use core::time::Duration;

use nix::errno::Errno;

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Woken, or the word did not hold the expected value (look again), or a signal.
    Woken,
    /// The timeout passed.
    TimedOut,
}

/// Sleeps while `word` holds `expected`, for at most `timeout` (`None`: for ever). May return
/// spuriously: callers look at the word again.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> Wake {
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(core::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT reads the 32-bit word at `word` (a live, aligned atomic, valid for
    // the call) and sleeps; the timeout pointer is null or points to a valid timespec on this
    // stack. The shared variant is used on purpose: the word may live in memory other
    // processes map.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            core::ptr::null::<u32>(),
            0u32,
        )
    };
    if rc == -1 && Errno::last() == Errno::ETIMEDOUT {
        Wake::TimedOut
    } else {
        Wake::Woken
    }
}

/// Wakes at most `n` sleepers on `word`; how many were woken.
pub(crate) fn wake(word: &AtomicU32, n: u32) -> u32 {
    let n = n.min(i32::MAX as u32);
    // SAFETY: FUTEX_WAKE only uses the address of the word (live and aligned) as a key; it
    // reads and writes no memory of this process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            n,
            core::ptr::null::<libc::timespec>(),
            core::ptr::null::<u32>(),
            0u32,
        )
    };
    u32::try_from(rc).unwrap_or(0)
}
