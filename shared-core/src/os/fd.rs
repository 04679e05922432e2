//! File descriptors: close-on-exec pipes, and polling for hang-ups.

use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::err;
use crate::error::Result;

/// Writes all of `bytes` to the standard error descriptor directly, without std's `Stderr`
/// lock (which, in a forked child, another thread of the parent may have held at the fork).
/// Errors are ignored: this is for last words.
pub(crate) fn write_stderr_unlocked(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match nix::unistd::write(std::io::stderr(), bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// A close-on-exec pipe, `(read, write)`.
pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(err("pipe2"))
}

/// Which of `fds` report hang-up or an error right now (checked without blocking): for the
/// read end of a pipe, that every write end is closed. `None` entries never end. On failure
/// of the call itself, nothing is reported as ended.
pub(crate) fn hung_up(fds: &[Option<&OwnedFd>]) -> Vec<bool> {
    let mut polled: Vec<PollFd<'_>> = Vec::with_capacity(fds.len());
    let mut index = Vec::with_capacity(fds.len());
    for (i, fd) in fds.iter().enumerate() {
        if let Some(fd) = fd {
            // Hang-up and errors are always reported, whatever the requested events.
            polled.push(PollFd::new(fd.as_fd(), PollFlags::empty()));
            index.push(i);
        }
    }
    let mut ended = vec![false; fds.len()];
    if polled.is_empty() {
        return ended;
    }
    match poll(&mut polled, PollTimeout::ZERO) {
        Ok(n) if n > 0 => {
            let gone = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
            for (p, &i) in polled.iter().zip(&index) {
                ended[i] = p.revents().is_some_and(|r| r.intersects(gone));
            }
        }
        _ => {}
    }
    ended
}
