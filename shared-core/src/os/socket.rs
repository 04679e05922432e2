//! Unix sockets that carry descriptors (`SCM_RIGHTS`): how objects and requests travel to
//! the fork server and to spawned children.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

use super::err;
use crate::error::{Error, Result};

/// The most descriptors one message carries (the kernel's `SCM_MAX_FD` is 253).
pub(crate) const MAX_FDS: usize = 240;

/// A connected pair of close-on-exec `SOCK_SEQPACKET` sockets: messages keep their
/// boundaries, and a closed end reads as end-of-file.
pub(crate) fn seqpacket_pair() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(err("socketpair"))
}

/// Sends one message with `fds` attached.
pub(crate) fn send(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
    if fds.len() > MAX_FDS {
        return Err(Error::os("sendmsg", Errno::ETOOMANYREFS as i32));
    }
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let cmsgs = if raw.is_empty() {
        Vec::new()
    } else {
        vec![ControlMessage::ScmRights(&raw)]
    };
    let iov = [IoSlice::new(bytes)];
    loop {
        match sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(_) => return Err(Error::os("sendmsg (short message)", Errno::EMSGSIZE as i32)),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(err("sendmsg")(e)),
        }
    }
}

/// One received message: its bytes and the descriptors that came with it (close-on-exec).
pub(crate) struct Message {
    pub(crate) bytes: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
}

/// Receives one message of at most `max_len` bytes; `None` at end-of-file (the other end
/// is closed). A message that did not fit is an error (`EMSGSIZE`), as are descriptors that
/// did not fit.
pub(crate) fn recv(sock: BorrowedFd<'_>, max_len: usize) -> Result<Option<Message>> {
    let mut buf = vec![0u8; max_len];
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let received = recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        );
        let msg = match received {
            Ok(msg) => msg,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(err("recvmsg")(e)),
        };
        let mut fds = Vec::new();
        for c in msg
            .cmsgs()
            .map_err(err("recvmsg (descriptors truncated)"))?
        {
            if let ControlMessageOwned::ScmRights(raw) = c {
                for fd in raw {
                    // SAFETY: the kernel just installed this descriptor in this process for
                    // this message; nothing else owns it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        let bytes = msg.bytes;
        if msg.flags.contains(MsgFlags::MSG_TRUNC) {
            return Err(Error::os(
                "recvmsg (message truncated)",
                Errno::EMSGSIZE as i32,
            ));
        }
        if bytes == 0 && fds.is_empty() {
            return Ok(None);
        }
        buf.truncate(bytes);
        return Ok(Some(Message { bytes: buf, fds }));
    }
}
