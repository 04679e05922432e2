//! The parent's side of the fork server: starting it (once per process, by exec of this
//! executable), and submitting requests.

use core::sync::atomic::{AtomicI32, Ordering};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::process::Command;

use super::server::{HELLO_OK, MARKER, MAX_REQUEST};
use super::wire::Status;
use crate::error::{Error, Result};
use crate::os;

/// The control socket of this process's fork server, and the pid of the process it belongs
/// to: a forked child inherits both, sees that the pid is not its own, and starts its own
/// server (the parent's belongs to the parent).
static SERVER_FD: AtomicI32 = AtomicI32::new(-1);
static SERVER_OWNER: AtomicI32 = AtomicI32::new(0);
/// The server's pid, to reap it once it is found dead (it is this process's child).
static SERVER_PID: AtomicI32 = AtomicI32::new(0);
/// The pid of the process one of whose threads is starting the server right now (0: none).
/// Not a `std::sync::Mutex`: a forked child whose parent was starting the server at the
/// moment of the fork must be able to take over.
static STARTING: AtomicI32 = AtomicI32::new(0);

/// Holds `STARTING` for this process until dropped.
struct Starting;

impl Starting {
    fn take() -> Starting {
        let me = os::process::getpid();
        loop {
            let holder = STARTING.load(Ordering::Acquire);
            // Free, or held by a thread of the process this one was forked from (that
            // thread does not exist here).
            if (holder == 0 || holder != me)
                && STARTING
                    .compare_exchange(holder, me, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return Starting;
            }
            std::thread::yield_now();
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        STARTING.store(0, Ordering::Release);
    }
}

/// This process's fork server, started now if it has none.
fn connection() -> Result<BorrowedFd<'static>> {
    let me = os::process::getpid();
    if SERVER_OWNER.load(Ordering::Acquire) == me {
        return Ok(server_fd());
    }
    let _starting = Starting::take();
    if SERVER_OWNER.load(Ordering::Acquire) == me {
        return Ok(server_fd());
    }
    crate::fork::on_fork(&HOOKS);
    forget_inherited();
    let (fd, pid) = start()?;
    SERVER_PID.store(pid, Ordering::Release);
    SERVER_FD.store(fd.as_raw_fd(), Ordering::Release);
    std::mem::forget(fd); // owned by SERVER_FD from now on
    SERVER_OWNER.store(me, Ordering::Release);
    Ok(server_fd())
}

fn server_fd() -> BorrowedFd<'static> {
    // SAFETY: SERVER_FD is the open control socket of this process's server (its owner is
    // this process, checked by the callers); it is closed only by `reset`, which also clears
    // the owner first, under `Starting`.
    unsafe { BorrowedFd::borrow_raw(SERVER_FD.load(Ordering::Acquire)) }
}

static HOOKS: crate::fork::Hooks = crate::fork::Hooks {
    prepare: crate::fork::nothing,
    parent: crate::fork::nothing,
    child: forget_inherited,
};

/// In a forked child (a fork hook): closes the copy of the parent's control socket, so that
/// the parent's server ends when the parent does. Also before a process starts a server of
/// its own.
fn forget_inherited() {
    let fd = SERVER_FD.load(Ordering::Acquire);
    if fd >= 0 && SERVER_OWNER.load(Ordering::Acquire) != os::process::getpid() {
        SERVER_FD.store(-1, Ordering::Release);
        SERVER_OWNER.store(0, Ordering::Release);
        SERVER_PID.store(0, Ordering::Release); // the parent's child, not this process's
        // SAFETY: the descriptor is this process's copy of its parent's control socket,
        // which nothing else in this process uses (only the owner's connection would).
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
}

/// Forgets a server that stopped answering, so that the next request starts a new one.
fn reset(dead: BorrowedFd<'_>) {
    let _starting = Starting::take();
    let fd = SERVER_FD.load(Ordering::Acquire);
    if fd == dead.as_raw_fd() && SERVER_OWNER.load(Ordering::Acquire) == os::process::getpid() {
        SERVER_OWNER.store(0, Ordering::Release);
        SERVER_FD.store(-1, Ordering::Release);
        // SAFETY: the control socket of this process's dead server, owned by SERVER_FD,
        // which no longer names it.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
        // Reaped, so that a killed server does not stay a zombie of this process.
        let pid = SERVER_PID.swap(0, Ordering::AcqRel);
        if pid > 0 {
            let _ = os::process::wait_child(pid, true);
        }
    }
}

/// Starts the fork server: this executable again (`/proc/self/exe`, with this process's
/// arguments, which its children see as theirs), which sees the marker in its environment
/// before `main` and serves instead. Checks that it is the same file. The control socket and
/// the server's pid.
fn start() -> Result<(OwnedFd, i32)> {
    let (ours, theirs) = os::socket::seqpacket_pair()?;
    let mut cmd = Command::new("/proc/self/exe");
    let mut args = std::env::args_os();
    if let Some(arg0) = args.next() {
        std::os::unix::process::CommandExt::arg0(&mut cmd, arg0);
    }
    cmd.args(args);
    cmd.env(MARKER, theirs.as_raw_fd().to_string());
    // Only the control socket: not a descriptor this process left inheritable by mistake
    // (the server and every child it forks would hold it open).
    let child = os::exec::spawn_keeping(&mut cmd, &[theirs.as_raw_fd()], true)?;
    drop(theirs);
    let pid = child.id() as i32;
    // The server is this process's child; it ends when this process (every copy of `ours`)
    // is gone, or is reaped here if found dead (`reset`).
    drop(child);
    let exe = os::image::exe_id()?;
    os::socket::send(ours.as_fd(), &super::server::hello(&exe), &[])?;
    match os::socket::recv(ours.as_fd(), 4096)? {
        Some(reply) if reply.bytes == HELLO_OK => Ok((ours, pid)),
        Some(reply) => Err(Error::spawn(
            "start the fork server",
            String::from_utf8_lossy(&reply.bytes).into_owned(),
        )),
        None => Err(Error::spawn(
            "start the fork server",
            "the server ended at once (was sharedctypes linked into the executable as a shared library?)".into(),
        )),
    }
}

/// True for the errors of a send to a server that is gone (killed, or ended).
fn server_gone(e: &Error) -> bool {
    matches!(e, Error::Os { errno, .. } if [os::EPIPE, os::ECONNRESET, os::ENOTCONN].contains(errno))
}

/// Sends a request (with its descriptors, the first being the request's status socket) and
/// waits until the child is started: its pid. The child is this process's own (see
/// [`server`](super::server)), whatever happens to the server afterwards.
///
/// A request too big for the server, or with too many descriptors, is refused before it is
/// sent; any error but a server that is gone fails this request only (the server and the
/// children it started are not touched); a server that is gone is replaced once.
pub(crate) fn submit(
    request: &[u8],
    fds: &[BorrowedFd<'_>],
    status: BorrowedFd<'_>,
) -> Result<i32> {
    if request.len() > MAX_REQUEST {
        return Err(Error::spawn(
            "spawn",
            format!(
                "the arguments' descriptions take {} bytes, more than the {MAX_REQUEST} one request to the fork server may carry",
                request.len()
            ),
        ));
    }
    if fds.len() > os::socket::MAX_FDS {
        return Err(Error::spawn(
            "spawn",
            format!(
                "the arguments lie in {} shared-memory files, and with the child's standard streams and lifelines {} descriptors are more than the {} one request may carry",
                fds.len().saturating_sub(7),
                fds.len(),
                os::socket::MAX_FDS
            ),
        ));
    }
    let mut retried = false;
    loop {
        let server = connection()?;
        match os::socket::send(server, request, fds) {
            Ok(()) => break,
            Err(e) if server_gone(&e) && !retried => {
                // The server is gone (killed?): start another one and try once more.
                reset(server);
                retried = true;
            }
            Err(e) => return Err(e),
        }
    }
    match os::socket::recv(status, 64)? {
        Some(msg) => match Status::decode(&msg.bytes) {
            Some(Status::Started(pid)) => Ok(pid),
            Some(Status::Failed(errno)) => Err(Error::os("fork (in the fork server)", errno)),
            _ => Err(Error::spawn(
                "spawn",
                "the fork server sent an unexpected reply".into(),
            )),
        },
        None => Err(Error::spawn(
            "spawn",
            "the fork server ended without starting the child".into(),
        )),
    }
}
