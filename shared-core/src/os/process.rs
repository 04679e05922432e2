//! Processes: `fork`, `waitpid`, signals, `_exit`, the pid, and the fork handlers.

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use super::err;
use crate::error::Result;

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
