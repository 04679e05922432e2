//! File descriptors: close-on-exec pipes, and polling for hang-ups.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

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

/// The descriptor `fd` if it is open in this process (inherited from the parent, say).
/// Descriptors handed out this way are never closed by sharedctypes; the borrow is as good
/// as the caller's promise not to close it meanwhile.
pub(crate) fn inherited(fd: i32) -> Option<BorrowedFd<'static>> {
    if fd < 0 {
        return None;
    }
    // SAFETY: only used to ask the kernel whether `fd` is open (fcntl F_GETFD touches no
    // memory); if it is not, the result is an error and the borrow goes unused.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    nix::fcntl::fcntl(borrowed, nix::fcntl::FcntlArg::F_GETFD)
        .is_ok()
        .then_some(borrowed)
}

/// Which open file the descriptor number `fd` refers to now (device and inode), or `None`
/// if it is not open: a descriptor kept as a bare number can be told apart from another file
/// that was given the same number after it was closed.
pub(crate) fn identity(fd: i32) -> Option<(u64, u64)> {
    super::memory::file_info(inherited(fd)?)
        .ok()
        .map(|(_, key)| key)
}

/// Makes `stdin`, `stdout` and `stderr` this process's descriptors 0, 1 and 2 (a spawned
/// child takes its parent's current ones). Errors are ignored: the old ones stay.
pub(crate) fn install_stdio(stdin: BorrowedFd<'_>, stdout: BorrowedFd<'_>, stderr: BorrowedFd<'_>) {
    let _ = nix::unistd::dup2_stdin(stdin);
    let _ = nix::unistd::dup2_stdout(stdout);
    let _ = nix::unistd::dup2_stderr(stderr);
}

/// The working directory, as a descriptor (`O_PATH`: it needs no permission on the
/// directory, and names it even once it is renamed or removed).
pub(crate) fn working_directory() -> Result<OwnedFd> {
    nix::fcntl::open(
        ".",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(err("open (the working directory)"))
}

/// Makes the directory `dir` the working directory.
pub(crate) fn fchdir(dir: BorrowedFd<'_>) -> Result<()> {
    nix::unistd::fchdir(dir).map_err(err("fchdir"))
}

/// A close-on-exec pipe, `(read, write)`.
pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(err("pipe2"))
}

/// A close-on-exec, non-blocking pipe, `(read, write)`, for a child's report to its parent:
/// writes of at most [`PIPE_BUF`] bytes into it are whole and never block while it is empty,
/// and the reader takes what is there without waiting.
pub(crate) fn report_pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).map_err(err("pipe2"))
}

/// The most bytes one write to a pipe writes whole (POSIX's minimum, Linux's value).
pub(crate) const PIPE_BUF: usize = 4096;

/// Writes `bytes` (at most [`PIPE_BUF`] of them) in one call; errors are ignored (last words).
pub(crate) fn write_once(fd: BorrowedFd<'_>, bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(PIPE_BUF)];
    loop {
        match nix::unistd::write(fd, bytes) {
            Err(nix::errno::Errno::EINTR) => {}
            _ => return,
        }
    }
}

/// What can be read from the non-blocking `fd` now, at most `max` bytes.
pub(crate) fn read_available(fd: BorrowedFd<'_>, max: usize) -> Vec<u8> {
    let mut out = vec![0; max];
    let mut len = 0;
    while len < max {
        match nix::unistd::read(fd, &mut out[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break, // EAGAIN: nothing more now
        }
    }
    out.truncate(len);
    out
}

/// Which of `fds` report that what they watch has ended, checked without blocking: for the
/// read end of a pipe, that every write end is closed; for a pidfd, that the process ended.
/// `None` entries never end. On failure of the call itself, nothing is reported as ended.
pub(crate) fn hung_up(fds: &[Option<&OwnedFd>]) -> Vec<bool> {
    let mut polled: Vec<PollFd<'_>> = Vec::with_capacity(fds.len());
    let mut index = Vec::with_capacity(fds.len());
    for (i, fd) in fds.iter().enumerate() {
        if let Some(fd) = fd {
            // A pipe's read end (nobody writes data into lifelines) reports hang-up once every
            // write end is closed; a pidfd reports readable once its process has ended.
            polled.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            index.push(i);
        }
    }
    let mut ended = vec![false; fds.len()];
    if polled.is_empty() {
        return ended;
    }
    match poll(&mut polled, PollTimeout::ZERO) {
        Ok(n) if n > 0 => {
            let gone =
                PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
            for (p, &i) in polled.iter().zip(&index) {
                ended[i] = p.revents().is_some_and(|r| r.intersects(gone));
            }
        }
        _ => {}
    }
    ended
}
