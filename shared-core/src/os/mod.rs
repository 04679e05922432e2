//! The operating-system layer: every system call sharedctypes makes, each behind a function
//! of this module (memmap2's `os` module is the model).
//!
//! The rest of the crate never names `nix`, `libc` or `memmap2`. Shared mappings are
//! memmap2's (`MmapRaw` over a memfd or a shared-memory object: `MAP_SHARED`); other calls go
//! through `nix` wherever it has an API (memfd, seals, fork, wait, signals, pipes, poll,
//! fcntl, stat, sockets); `libc` is used only where `nix` has none (pthread mutexes,
//! `pthread_atfork`, futexes, `clone3`, `close_range`, the robust list, `_exit`).
//! Errors come back as [`Error::Os`](crate::Error::Os) with the name of the call, so no
//! `nix` or `libc` type reaches the public API.
//!
//! The few functions that stay `unsafe` have contracts that no type can express (a `fork`
//! in a multi-threaded process, memory that must not be in use); each says what its caller
//! must guarantee.

pub(crate) mod exec;
pub(crate) mod fd;
pub(crate) mod futex;
pub(crate) mod image;
pub(crate) mod memory;
pub(crate) mod mutex;
pub(crate) mod process;
pub(crate) mod shm;
pub(crate) mod socket;

use crate::error::Error;

/// `EINVAL`, for a malformed request.
pub(crate) const EINVAL: i32 = nix::errno::Errno::EINVAL as i32;

/// `ENOENT`: no such file.
pub(crate) const ENOENT: i32 = nix::errno::Errno::ENOENT as i32;
/// `EEXIST`: the file exists.
pub(crate) const EEXIST: i32 = nix::errno::Errno::EEXIST as i32;
/// `EACCES`: permission denied.
pub(crate) const EACCES: i32 = nix::errno::Errno::EACCES as i32;
/// `EPERM`: operation not permitted.
pub(crate) const EPERM: i32 = nix::errno::Errno::EPERM as i32;

/// `ELOOP`: a symbolic link where none is followed.
pub(crate) const ELOOP: i32 = nix::errno::Errno::ELOOP as i32;

/// `EPIPE`, `ECONNRESET`, `ENOTCONN`: the other end of a socket is gone.
pub(crate) const EPIPE: i32 = nix::errno::Errno::EPIPE as i32;
pub(crate) const ECONNRESET: i32 = nix::errno::Errno::ECONNRESET as i32;
pub(crate) const ENOTCONN: i32 = nix::errno::Errno::ENOTCONN as i32;

/// `EBADF`, for a descriptor that is not what it should be.
pub(crate) const EBADF: i32 = nix::errno::Errno::EBADF as i32;

/// Maps a `nix` error of the call `op` to [`Error::Os`].
pub(crate) fn err(op: &'static str) -> impl FnOnce(nix::errno::Errno) -> Error {
    move |errno| Error::os(op, errno as i32)
}
