//! The fork server: a copy of this executable, started by exec once per process that spawns,
//! single-threaded and clean (it never ran `main`), which forks the spawned children. A spawn
//! then costs a fork of this small process instead of an exec of the whole program.
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

/// The server's loop: requests on the control socket, `SIGCHLD` for children that end.
fn serve(control: OwnedFd) -> ! {
    os::process::ignore_sigpipe();
    if !greet(control.as_fd()) {
        os::process::exit_now(0);
    }
    let Ok(sigchld) = os::process::sigchld_fd() else {
        os::process::exit_now(102);
    };
    let mut children: Vec<(i32, OwnedFd)> = Vec::new();
    loop {
        let Ok(ready) = os::socket::wait_any(&[control.as_fd(), sigchld.as_fd()]) else {
            os::process::exit_now(103);
        };
        if ready[1] {
            os::process::drain_sigchld(sigchld.as_fd());
            while let Some((pid, code)) = os::process::reap_any() {
                if let Some(i) = children.iter().position(|(p, _)| *p == pid) {
                    let (_, status) = children.swap_remove(i);
                    let _ = os::socket::send(status.as_fd(), &Status::Exited(code).encode(), &[]);
                }
            }
        }
        if ready[0] {
            match os::socket::recv(control.as_fd(), 1 << 20) {
                // The parent is gone: so is the server (its children run on).
                Ok(None) | Err(_) => os::process::exit_now(0),
                Ok(Some(msg)) => {
                    let mut fds = msg.fds.into_iter();
                    let Some(status) = fds.next() else { continue };
                    let rest: Vec<OwnedFd> = fds.collect();
                    if let Some(pid) =
                        fork_child(&msg.bytes, rest, &status, &control, &sigchld, &children)
                    {
                        children.push((pid, status));
                    }
                }
            }
        }
    }
}

/// Checks that the parent runs the same executable file as this server.
fn greet(control: BorrowedFd<'_>) -> bool {
    let Ok(Some(msg)) = os::socket::recv(control, 4096) else {
        return false;
    };
    let reply = match os::image::exe_id() {
        Ok(exe) if msg.bytes == hello(&exe) => HELLO_OK.to_vec(),
        Ok(_) => {
            b"the executable file changed since the program started: its code may differ".to_vec()
        }
        Err(e) => e.to_string().into_bytes(),
    };
    os::socket::send(control, &reply, &[]).is_ok() && reply == HELLO_OK
}

/// Forks the child of one request; its pid (the child itself never returns).
fn fork_child(
    bytes: &[u8],
    fds: Vec<OwnedFd>,
    status: &OwnedFd,
    control: &OwnedFd,
    sigchld: &OwnedFd,
    children: &[(i32, OwnedFd)],
) -> Option<i32> {
    let request = match Request::decode(bytes) {
        Ok(r) => r,
        Err(_) => {
            let _ = os::socket::send(status.as_fd(), &Status::Failed(os::EINVAL).encode(), &[]);
            return None;
        }
    };
    // SAFETY: the server is single-threaded, so the child may run anything.
    match unsafe { os::process::fork() } {
        Err(e) => {
            let errno = match e {
                crate::Error::Os { errno, .. } => errno,
                _ => os::EINVAL,
            };
            let _ = os::socket::send(status.as_fd(), &Status::Failed(errno).encode(), &[]);
            None
        }
        Ok(os::process::Forked::Child) => {
            // Nothing of the server's may stay open in the child: not its sockets, not other
            // children's status sockets.
            for fd in [control, sigchld, status]
                .iter()
                .map(|f| std::os::fd::AsRawFd::as_raw_fd(*f))
                .chain(
                    children
                        .iter()
                        .map(|(_, s)| std::os::fd::AsRawFd::as_raw_fd(s)),
                )
            {
                // SAFETY: the descriptor is this process's copy of one the server owns; the
                // owner is never dropped here (`child::run` does not return), so this closes
                // it exactly once.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            child::run(request, fds)
        }
        Ok(os::process::Forked::Parent(pid)) => {
            let pidfd = os::process::pidfd_open(pid).ok();
            let attached: Vec<BorrowedFd<'_>> = pidfd.iter().map(AsFd::as_fd).collect();
            let _ = os::socket::send(status.as_fd(), &Status::Started(pid).encode(), &attached);
            Some(pid)
        }
    }
}
