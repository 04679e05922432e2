//! Starting programs with some descriptors inherited: the fork server, and the programs of
//! `Process::command`.

use std::os::fd::{BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};

use crate::error::{Error, Result};

/// Starts `cmd` with the descriptors `keep` inherited (at the same numbers) and every other
/// close-on-exec descriptor closed, as usual; with `only_these`, every descriptor above 2
/// that is not in `keep` is closed too, close-on-exec or not (as CPython's spawn does: a
/// pipe's write end the caller left inheritable must not keep its reader waiting).
pub(crate) fn spawn_keeping(cmd: &mut Command, keep: &[RawFd], only_these: bool) -> Result<Child> {
    let keep = keep.to_vec();
    let inherit = move || {
        if only_these && !super::process::cloexec_from_3() {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSYS));
        }
        for &fd in &keep {
            // SAFETY: `fd` is open in the parent for the duration of the spawn (the caller
            // holds it), hence in the child between fork and exec, where this runs.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))
                .map_err(|e| std::io::Error::from_raw_os_error(e as i32))?;
        }
        Ok(())
    };
    // SAFETY: the hook runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it only calls close_range and fcntl, and
    // allocates nothing (`keep` was built before).
    unsafe { cmd.pre_exec(inherit) };
    cmd.spawn()
        .map_err(|e| Error::os("spawn a program", e.raw_os_error().unwrap_or(libc::EIO)))
}
