//! Processes: `fork`, `waitpid`, signals, `_exit`, the pid, and the fork handlers.

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal, kill};
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

/// This process's parent's id: 1 (or a subreaper's) once the parent has died.
pub(crate) fn getppid() -> i32 {
    nix::unistd::getppid().as_raw()
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

/// This thread's kernel thread id.
pub(crate) fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

/// The kernel's `struct clone_args`, for `clone3` (`libc` has no definition).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// How far past `pthread_self()` the probe looks for the thread id (glibc's thread
/// descriptor is about 2.3 KiB; the id lies at 720 bytes on x86-64).
const TID_SCAN: usize = 1024;

/// Reads the `i32` at `offset` in this thread's descriptor.
fn descriptor_i32(offset: usize) -> i32 {
    // SAFETY: `pthread_self` has no preconditions.
    let base = unsafe { libc::pthread_self() } as usize;
    // SAFETY: the C library's descriptor of this thread lies in this process's memory at
    // `base`, initialised and at least TID_SCAN bytes long (glibc's is about 2.3 KiB), and
    // `offset < TID_SCAN` is a multiple of 4 (the descriptor is 8-aligned). It is only read,
    // from the one thread that writes it.
    unsafe { core::ptr::read_volatile((base + offset) as *const i32) }
}

/// Where the C library keeps the calling thread's kernel thread id, as an offset from
/// `pthread_self()`: the place a fork of this process must have the kernel write the child's
/// id into (`CLONE_CHILD_SETTID`), as the C library's own `fork` does. Found by a probe: of
/// the places that hold this thread's id, the one that holds the child's id in a child made
/// by the C library's `fork`. `None` if there is no single such place.
///
/// Only for a single-threaded process (the fork server): the probe forks.
pub(crate) fn find_tid_slot() -> Option<usize> {
    let me = gettid();
    let candidates: Vec<usize> = (0..TID_SCAN)
        .step_by(4)
        .filter(|&o| descriptor_i32(o) == me)
        .collect();
    if candidates.is_empty() || candidates.len() > 200 {
        return None;
    }
    // SAFETY: the caller is single-threaded, so the child may run anything; it only reads
    // its own memory and exits.
    match unsafe { fork() }.ok()? {
        Forked::Child => {
            let child = gettid();
            let found = candidates.iter().position(|&o| descriptor_i32(o) == child);
            exit_now(found.map_or(255, |i| i as i32))
        }
        Forked::Parent(pid) => {
            let code = wait_child(pid, true).ok()??;
            usize::try_from(code)
                .ok()
                .and_then(|i| candidates.get(i))
                .copied()
        }
    }
}

/// The head of this thread's robust-mutex list, as registered with the kernel, and its
/// length.
pub(crate) fn robust_list_head() -> Option<(usize, usize)> {
    let mut head: usize = 0;
    let mut len: usize = 0;
    // SAFETY: get_robust_list writes the head pointer and its length into the two
    // variables, both valid for writes; pid 0 is the calling thread.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_get_robust_list,
            0,
            &mut head as *mut usize,
            &mut len as *mut usize,
        )
    };
    (rc == 0 && head != 0).then_some((head, len))
}

/// Forks this (single-threaded) process as a *sibling*: the child's parent is this process's
/// parent (`CLONE_PARENT`), which can wait for it, signal it and collect its CPU time as for
/// any child of its own, and it does not depend on this process at all. Like the C library's
/// `fork`, the kernel writes the child's thread id at `tid_slot` past `pthread_self()` (see
/// [`find_tid_slot`]) and the child registers its robust-mutex list again; the C library's
/// fork handlers do not run.
///
/// # Safety
/// The process must be single-threaded and hold no lock (the fork server), and `tid_slot`
/// must come from [`find_tid_slot`] in this process.
pub(crate) unsafe fn fork_sibling(tid_slot: usize) -> Result<Forked> {
    let robust = robust_list_head();
    // SAFETY: `pthread_self` has no preconditions.
    let base = unsafe { libc::pthread_self() } as usize;
    let args = CloneArgs {
        flags: (libc::CLONE_PARENT | libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u64,
        child_tid: (base + tid_slot) as u64,
        // Must be 0 with CLONE_PARENT: the child signals its end the way this process
        // does to the same parent (SIGCHLD, as this process was forked normally).
        exit_signal: 0,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM and without a stack makes a copy of this process, as
    // fork does; the arguments are a valid `clone_args` of the size given. The kernel writes
    // the child's id at `child_tid`, this thread's id field (the caller's contract), in the
    // child's copy of the memory.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            core::mem::size_of::<CloneArgs>(),
        )
    };
    match rc {
        -1 => Err(Error::os("clone3 (CLONE_PARENT)", Errno::last() as i32)),
        0 => {
            if let Some((head, len)) = robust {
                // SAFETY: registers the same (empty) list head the parent had, at the same
                // address in this copy of its memory, as the C library's fork does: a fork
                // starts with no robust list in the kernel.
                unsafe { libc::syscall(libc::SYS_set_robust_list, head, len) };
            }
            Ok(Forked::Child)
        }
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// True if this process has one thread (`num_threads` of `/proc/self/stat`); false if that
/// cannot be read.
pub(crate) fn single_threaded() -> bool {
    use std::io::Read;
    // One read (the line is a few hundred bytes; a longer one is not believed).
    let mut buf = [0u8; 1024];
    let Ok(n) = std::fs::File::open("/proc/self/stat").and_then(|mut f| f.read(&mut buf)) else {
        return false;
    };
    let stat = &buf[..n];
    // The command name, in parentheses, may hold anything: the fields that follow its last
    // `)` start with the 3rd (`state`); `num_threads` is the 20th.
    let Some(close) = stat.iter().rposition(|&b| b == b')') else {
        return false;
    };
    n < buf.len()
        && stat[close + 1..]
            .split(u8::is_ascii_whitespace)
            .filter(|field| !field.is_empty())
            .nth(17)
            == Some(b"1".as_slice())
}

/// Marks every descriptor from 3 up close-on-exec (`close_range`, Linux 5.11; `nix` has no
/// wrapper). Async-signal-safe: for use between fork and exec.
pub(crate) fn cloexec_from_3() -> bool {
    // SAFETY: close_range takes two descriptor numbers and flags, and touches no memory.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    rc == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test harness runs this on a thread of its own: two threads at least. A forked child
    /// has one.
    #[test]
    fn a_forked_child_is_single_threaded_and_the_harness_is_not() {
        assert!(!single_threaded());
        // SAFETY: the child only reads /proc/self/stat (malloc is usable in a forked child
        // with glibc) and ends with `_exit`.
        match unsafe { fork() }.unwrap() {
            Forked::Child => exit_now(if single_threaded() { 0 } else { 1 }),
            Forked::Parent(child) => assert_eq!(wait_child(child, true).unwrap(), Some(0)),
        }
    }
}
