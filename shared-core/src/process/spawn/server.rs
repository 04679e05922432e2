//! The fork server: a copy of this executable, started by exec once per process that spawns,
//! single-threaded and clean (it never ran `main`), which forks the spawned children. A spawn
//! then costs a fork of this small process instead of an exec of the whole program. The
//! children it forks are its parent's (`CLONE_PARENT`): the parent waits for them directly,
//! their CPU time counts as its children's, and they run on if the server dies.
//!
//! The server is entered before `main`, from the executable's `.init_array`: a process whose
//! environment holds [`MARKER`] serves and never returns, so neither the program's `main` nor
//! a test harness ever runs in it, without any code in `main`.

use core::ffi::{c_char, c_int};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::child;
use super::wire::{Request, Status};
use crate::os;

/// The environment variable that makes a process a fork server; its value is the number of
/// the control socket's descriptor.
pub(super) const MARKER: &str = "__SHAREDCTYPES_FORKSERVER_FD";

/// The server's answer to a good hello.
pub(super) const HELLO_OK: &[u8] = b"ok";

/// The first message on the control socket: the identity of the parent's executable file.
pub(super) fn hello(exe: &os::image::ExeId) -> Vec<u8> {
    format!(
        "hello {} {} {} {} {}",
        exe.dev, exe.ino, exe.size, exe.mtime, exe.mtime_nsec
    )
    .into_bytes()
}

// SAFETY (of placing a function pointer in `.init_array`): the loader calls every entry of
// the section once, before `main`, with (argc, argv, envp) — the signature below. The entry
// returns at once unless the process was started as a fork server.
#[used]
#[unsafe(link_section = ".init_array")]
pub(super) static ENTER_IF_SERVER: extern "C" fn(
    c_int,
    *const *const c_char,
    *const *const c_char,
) = enter_if_server;

extern "C" fn enter_if_server(_: c_int, _: *const *const c_char, _: *const *const c_char) {
    let Some(fd) = std::env::var_os(MARKER) else {
        return;
    };
    // SAFETY: this process is single-threaded (it is before `main`, and nothing has started
    // a thread), so changing the environment races with nothing. The marker is removed so
    // that no process this one starts takes itself for a server.
    unsafe { std::env::remove_var(MARKER) };
    let fd: Option<RawFd> = fd.to_str().and_then(|s| s.parse().ok());
    let Some(control) = fd.and_then(os::fd::inherited) else {
        os::process::exit_now(101);
    };
    // SAFETY: the descriptor was inherited for this purpose (checked open just above) and
    // nothing else in this fresh process knows it.
    let control = unsafe { OwnedFd::from_raw_fd(std::os::fd::AsRawFd::as_raw_fd(&control)) };
    serve(control)
}

/// The server's loop: one request after another on the control socket, each forked into a
/// child that is the *parent's* (see [`os::process::fork_sibling`]), so the server keeps no
/// children: the parent waits for them, and they outlive the server.
fn serve(control: OwnedFd) -> ! {
    os::process::ignore_sigpipe();
    let Some(tid_slot) = greet(control.as_fd()) else {
        os::process::exit_now(0);
    };
    loop {
        match os::socket::recv(control.as_fd(), MAX_REQUEST) {
            // The parent is gone: so is the server (the children are the parent's anyway).
            Ok(None) | Err(_) => os::process::exit_now(0),
            Ok(Some(msg)) => {
                let mut fds = msg.fds.into_iter();
                let Some(status) = fds.next() else { continue };
                fork_child(&msg.bytes, fds.collect(), status, &control, tid_slot);
            }
        }
    }
}

/// The largest request the server takes, in bytes: the descriptions of the arguments must
/// fit (a request is one message, and must fit in a socket's buffer).
pub(super) const MAX_REQUEST: usize = 128 * 1024;

/// Checks that the parent runs the same executable file as this server, and that this
/// server can make children of the parent's; the place of the thread id (see
/// [`os::process::find_tid_slot`]) if all is well.
fn greet(control: BorrowedFd<'_>) -> Option<usize> {
    let Ok(Some(msg)) = os::socket::recv(control, 4096) else {
        return None;
    };
    let tid_slot = os::process::find_tid_slot();
    let reply = match (os::image::exe_id(), tid_slot) {
        (Ok(exe), Some(_)) if msg.bytes == hello(&exe) => HELLO_OK.to_vec(),
        (Ok(exe), _) if msg.bytes != hello(&exe) => {
            b"the executable file changed since the program started: its code may differ".to_vec()
        }
        (Ok(_), _) => b"this C library keeps the thread id where sharedctypes cannot find it, so spawned children cannot be made the caller's own".to_vec(),
        (Err(e), _) => e.to_string().into_bytes(),
    };
    let ok = os::socket::send(control, &reply, &[]).is_ok() && reply == HELLO_OK;
    if ok { tid_slot } else { None }
}

/// Forks the child of one request, tells the parent its pid on `status`, and forgets it (the
/// child itself never returns).
fn fork_child(
    bytes: &[u8],
    fds: Vec<OwnedFd>,
    status: OwnedFd,
    control: &OwnedFd,
    tid_slot: usize,
) {
    let request = match Request::decode(bytes) {
        Ok(r) => r,
        Err(_) => {
            let _ = os::socket::send(status.as_fd(), &Status::Failed(os::EINVAL).encode(), &[]);
            return;
        }
    };
    // SAFETY: the server is single-threaded and holds no lock, and `tid_slot` was found by
    // `find_tid_slot` in this process.
    match unsafe { os::process::fork_sibling(tid_slot) } {
        Err(e) => {
            let errno = match e {
                crate::Error::Os { errno, .. } => errno,
                _ => os::EINVAL,
            };
            let _ = os::socket::send(status.as_fd(), &Status::Failed(errno).encode(), &[]);
        }
        Ok(os::process::Forked::Child) => {
            // Nothing of the server's may stay open in the child.
            drop(status);
            // SAFETY: the descriptor is this process's copy of the server's control socket;
            // the owner is never dropped here (`child::run` does not return), so this closes
            // it exactly once.
            drop(unsafe { OwnedFd::from_raw_fd(std::os::fd::AsRawFd::as_raw_fd(control)) });
            child::run(request, fds)
        }
        Ok(os::process::Forked::Parent(pid)) => {
            // The server's copies go before the parent hears of the child: from then on only
            // the child holds its lifeline, arenas and streams.
            drop(fds);
            let _ = os::socket::send(status.as_fd(), &Status::Started(pid).encode(), &[]);
        }
    }
}
