//! Processes: `fork`, `waitpid`, signals, `_exit`, the pid, and the fork handlers.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal, kill};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use super::err;
use crate::error::{Error, Result};

/// Which side of a [`fork`] this is.
pub(crate) enum Forked {
    /// The parent; the child has this pid.
    Parent(i32),
    /// The child.
    Child,
}

/// Forks the process.
///
/// # Safety
/// In the child of a multi-threaded process, only the calling thread exists: a lock that
/// another thread held at the moment of the fork stays locked for ever there. The caller must
/// make sure the child never waits for such a lock (see `Process::start`).
pub(crate) unsafe fn fork() -> Result<Forked> {
    // SAFETY: the caller takes on fork's contract (above).
    match unsafe { nix::unistd::fork() }.map_err(err("fork"))? {
        ForkResult::Parent { child } => Ok(Forked::Parent(child.as_raw())),
        ForkResult::Child => Ok(Forked::Child),
    }
}

/// Ends this process at once with `code`, without running destructors, `atexit` handlers or
/// flushing stdio buffers (`_exit`).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions; it never returns.
    unsafe { libc::_exit(code) }
}

/// This process's id.
pub(crate) fn getpid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// Waits for the child `pid` (retrying on `EINTR`) and returns CPython's `exitcode`: the
/// exit status, or `-N` after signal `N`. With `block == false`, `None` while it runs.
pub(crate) fn wait_child(pid: i32, block: bool) -> Result<Option<i32>> {
    let flags = if block {
        None
    } else {
        Some(WaitPidFlag::WNOHANG)
    };
    loop {
        match waitpid(Pid::from_raw(pid), flags) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(Some(-(signal as i32))),
            Ok(WaitStatus::StillAlive) => return Ok(None),
            // Stopped or continued (only with flags we do not pass): keep waiting.
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(err("waitpid")(errno)),
        }
    }
}

/// The exit code (CPython's convention) of a wait status, if the process ended.
fn exitcode(status: WaitStatus) -> Option<(i32, i32)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), code)),
        WaitStatus::Signaled(pid, signal, _) => Some((pid.as_raw(), -(signal as i32))),
        _ => None,
    }
}

/// Reaps one ended child of this process, without blocking: `(pid, exitcode)`, or `None`
/// if no child has ended (or there is none).
pub(crate) fn reap_any() -> Option<(i32, i32)> {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return None,
            Ok(status) => {
                if let Some(ended) = exitcode(status) {
                    return Some(ended);
                }
            }
            Err(Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
}

/// A descriptor that refers to the process `pid` for as long as it is open, even once the
/// pid is reused (`pidfd_open`, Linux 5.3; `nix` has no wrapper). The caller must make sure
/// `pid` has not been reaped yet (it is its own unreaped child).
pub(crate) fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: the pidfd_open system call takes a pid and flags and returns a new descriptor
    // or -1; it touches no memory of this process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Error::os("pidfd_open", Errno::last() as i32));
    }
    // SAFETY: the system call returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sends `sig` to the process a pidfd refers to (a process that has ended is `ESRCH`).
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: Sig) -> Result<()> {
    // SAFETY: pidfd_send_signal takes a descriptor, a signal number, a null siginfo and no
    // flags; it touches no memory of this process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig.nix() as i32,
            core::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc < 0 {
        return Err(Error::os("pidfd_send_signal", Errno::last() as i32));
    }
    Ok(())
}

/// `SIGCHLD` blocked for this thread, and a descriptor that reads as readable when it
/// arrives (the fork server waits on it and on its requests with one `poll`).
pub(crate) fn sigchld_fd() -> Result<OwnedFd> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    set.thread_block().map_err(err("pthread_sigmask"))?;
    let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(err("signalfd"))?;
    Ok(OwnedFd::from(fd))
}

/// Empties a `SIGCHLD` signalfd (the signals only say "look again").
pub(crate) fn drain_sigchld(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 128 * 8];
    while nix::unistd::read(fd, &mut buf).is_ok_and(|n| n > 0) {}
}

/// Unblocks every signal for this thread and restores the default action of `SIGCHLD`: how
/// a child of the fork server starts (`SIGPIPE` stays ignored, as under Rust's runtime).
pub(crate) fn reset_signals() {
    let _ = SigSet::all().thread_unblock();
    // SAFETY: installs the default action, which runs no code of this process.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGCHLD, SigHandler::SigDfl) };
}

/// Ignores `SIGPIPE`, as Rust's runtime does before `main` (a write to a closed pipe is then
/// an error instead of a death): the fork server and its children never run that runtime.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: installs the "ignore" action, which runs no code of this process.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

/// The name of signal `n` (`"SIGKILL"` for 9), if it is one this system knows.
pub(crate) fn signal_name(n: i32) -> Option<&'static str> {
    Signal::try_from(n).ok().map(Signal::as_str)
}

/// The signals sharedctypes sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sig {
    /// `SIGTERM`: ask to end.
    Term,
    /// `SIGKILL`: end now.
    Kill,
}

impl Sig {
    fn nix(self) -> Signal {
        match self {
            Sig::Term => Signal::SIGTERM,
            Sig::Kill => Signal::SIGKILL,
        }
    }
}

/// Sends `sig` to `pid`.
pub(crate) fn send_signal(pid: i32, sig: Sig) -> Result<()> {
    kill(Pid::from_raw(pid), sig.nix()).map_err(err("kill"))
}

/// Registers fork handlers (`pthread_atfork`; `nix` has no wrapper). They run in the forking
/// thread: `prepare` before the fork, `parent` and `child` after it on each side.
pub(crate) fn at_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: the handlers are plain `extern "C"` functions, which is all pthread_atfork
    // requires of them (they must not unwind: an `extern "C"` function aborts if it would).
    let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    assert_eq!(rc, 0, "pthread_atfork failed: out of memory");
}
