//! Lifelines: knowing when every process forked from this one is gone.
//!
//! At each fork the heap creates a pipe. The child keeps the write end open (close-on-exec),
//! and so does everything the child forks in turn; the parent keeps only the read end. The
//! read end reports "hang-up" once the last of those processes has exited or exec'd: from
//! then on, no process can reach the blocks that the parent owned at the fork through their
//! shared mapping, and a block the parent freed meanwhile can be reused. This holds however
//! the processes end (`_exit`, a crash, `SIGKILL`, an orphaned grandchild outliving its
//! parent) and whatever happened to the `Process` handle (joined, dropped, leaked).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// One fork: the epoch it happened at, and the read end of its pipe (`None` if the pipe
/// could not be created, e.g. out of file descriptors: such a fork is never known to have
/// ended, so what it may use stays quarantined for good).
pub(super) struct Lifeline {
    pub(super) epoch: u64,
    read: Option<OwnedFd>,
}

impl Lifeline {
    pub(super) fn new(epoch: u64, read: Option<OwnedFd>) -> Lifeline {
        Lifeline { epoch, read }
    }
}

/// A close-on-exec pipe, `(read, write)`, or `None` if the kernel refuses one.
pub(super) fn pipe() -> Option<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // SAFETY: as above.
    let write = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    Some((read, write))
}

/// Drops the lifelines whose every writer is gone (checked without blocking).
pub(super) fn prune(lifelines: &mut Vec<Lifeline>) {
    if lifelines.is_empty() {
        return;
    }
    let mut polled: Vec<libc::pollfd> = lifelines
        .iter()
        .map(|l| libc::pollfd {
            // A negative descriptor is ignored by poll: that lifeline never ends.
            fd: l.read.as_ref().map_or(-1, AsRawFd::as_raw_fd),
            events: 0, // hang-up and errors are always reported
            revents: 0,
        })
        .collect();
    // SAFETY: `polled` is a valid array of `polled.len()` pollfd structs; a zero timeout
    // makes the call non-blocking.
    let ready = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, 0) };
    if ready <= 0 {
        return; // nothing ended (or the call failed: try again next time)
    }
    let ended =
        |p: &libc::pollfd| p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0;
    let mut states = polled.iter().map(ended);
    lifelines.retain(|_| !states.next().unwrap_or(false));
}
