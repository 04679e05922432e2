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
///
/// Without `only_these`, in a process of one thread (or with nothing to keep), no hook is
/// set: std then starts the program its fast way (`posix_spawn`), where any `pre_exec` hook
/// makes it fork (see [`spawn_inheriting`]).
pub(crate) fn spawn_keeping(cmd: &mut Command, keep: &[RawFd], only_these: bool) -> Result<Child> {
    if !only_these && (keep.is_empty() || super::process::single_threaded()) {
        return spawn_inheriting(cmd, keep);
    }
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

/// Starts `cmd` with the descriptors `keep` inherited by clearing their close-on-exec flag in
/// this process for the time of the spawn (and setting it again whatever happens): no hook,
/// so std may use `posix_spawn`. For a process whose only thread is the caller (or with
/// nothing to keep): no other thread can start a program meanwhile and inherit them too.
fn spawn_inheriting(cmd: &mut Command, keep: &[RawFd]) -> Result<Child> {
    let set = |fd: RawFd, flags: FdFlag| {
        // SAFETY: `fd` is open for the duration of the spawn (the caller holds it).
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        fcntl(fd, FcntlArg::F_SETFD(flags))
    };
    let mut cleared = 0;
    let mut spawned = Ok(());
    for &fd in keep {
        if let Err(e) = set(fd, FdFlag::empty()) {
            spawned = Err(Error::os(
                "fcntl (hand a descriptor to a program)",
                e as i32,
            ));
            break;
        }
        cleared += 1;
    }
    let spawned = spawned.and_then(|()| {
        cmd.spawn()
            .map_err(|e| Error::os("spawn a program", e.raw_os_error().unwrap_or(libc::EIO)))
    });
    for &fd in &keep[..cleared] {
        // Ours, made close-on-exec: so again.
        let _ = set(fd, FdFlag::FD_CLOEXEC);
    }
    spawned
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, AsRawFd};

    use super::*;

    /// The descriptors handed over without a hook reach the program, and are close-on-exec
    /// again in this process afterwards.
    #[test]
    fn descriptors_handed_over_without_a_hook_reach_the_program_and_close_on_exec_again() {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let (r, w) = (read.as_raw_fd(), write.as_raw_fd());
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            &format!("test -e /proc/self/fd/{r} && test -e /proc/self/fd/{w}"),
        ]);
        let status = spawn_inheriting(&mut cmd, &[r, w]).unwrap().wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "the program did not get both descriptors"
        );
        for fd in [read.as_fd(), write.as_fd()] {
            let flags = FdFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFD).unwrap());
            assert!(flags.contains(FdFlag::FD_CLOEXEC), "left inheritable");
        }
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("test -e /proc/self/fd/{r}")]);
        let status = spawn_inheriting(&mut cmd, &[]).unwrap().wait().unwrap();
        assert_eq!(
            status.code(),
            Some(1),
            "a descriptor not handed over reached the program"
        );
    }

    /// A program that cannot be started is an error, and the descriptors are close-on-exec
    /// again all the same.
    #[test]
    fn a_program_that_cannot_start_leaves_the_descriptors_close_on_exec() {
        let (read, _write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let mut cmd = Command::new("/nonexistent/sharedctypes-program");
        let err = spawn_inheriting(&mut cmd, &[read.as_raw_fd()]).unwrap_err();
        assert!(
            matches!(err, Error::Os { errno, .. } if errno == libc::ENOENT),
            "{err:?}"
        );
        let flags = FdFlag::from_bits_truncate(fcntl(read.as_fd(), FcntlArg::F_GETFD).unwrap());
        assert!(flags.contains(FdFlag::FD_CLOEXEC));
    }
}
