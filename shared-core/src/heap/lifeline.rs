//! Lifelines: knowing when every process forked from this one is gone.
//!
//! At each fork the heap creates a pipe. The child keeps the write end open (close-on-exec),
//! and so does everything the child forks in turn; the parent keeps only the read end. The
//! read end reports "hang-up" once the last of those processes has exited or exec'd: from
//! then on, no process can reach the blocks that the parent owned at the fork through their
//! shared mapping, and a block the parent freed meanwhile can be reused. This holds however
//! the processes end (`_exit`, a crash, `SIGKILL`, an orphaned grandchild outliving its
//! parent) and whatever happened to the `Process` handle (joined, dropped, leaked).

use std::os::fd::OwnedFd;

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
    crate::os::fd::pipe().ok()
}

/// Drops the lifelines whose every writer is gone (checked without blocking).
pub(super) fn prune(lifelines: &mut Vec<Lifeline>) {
    if lifelines.is_empty() {
        return;
    }
    let fds: Vec<Option<&OwnedFd>> = lifelines.iter().map(|l| l.read.as_ref()).collect();
    let mut ended = crate::os::fd::hung_up(&fds).into_iter();
    lifelines.retain(|_| !ended.next().unwrap_or(false));
}
