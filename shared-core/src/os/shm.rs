//! POSIX shared-memory objects (`shm_open`), for objects that unrelated processes find by
//! name. On Linux they are files of the tmpfs at `/dev/shm`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fchmod};

use super::err;
use crate::error::Result;

/// Where glibc keeps POSIX shared-memory objects.
const SHM_DIR: &str = "/dev/shm";

fn path(name: &str) -> String {
    format!("/{name}")
}

/// Creates the shared-memory object `name`, which must not exist, with the permissions
/// `mode` less the umask's (see [`set_mode`]).
pub(crate) fn create_exclusive(name: &str, mode: u32) -> Result<OwnedFd> {
    shm_open(
        path(name).as_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
    .map_err(err("shm_open (create)"))
}

/// Gives the object open at `fd` exactly the permissions `mode`.
pub(crate) fn set_mode(fd: BorrowedFd<'_>, mode: u32) -> Result<()> {
    fchmod(fd, Mode::from_bits_truncate(mode)).map_err(err("fchmod"))
}

/// What identifies the object `name` (device and inode), without opening it.
pub(crate) fn identity(name: &str) -> Result<(u64, u64)> {
    let st = nix::sys::stat::lstat(format!("{SHM_DIR}/{name}").as_str()).map_err(err("lstat"))?;
    Ok((st.st_dev, st.st_ino))
}

/// Opens the existing shared-memory object `name` for reading and writing.
pub(crate) fn open(name: &str) -> Result<OwnedFd> {
    shm_open(
        path(name).as_str(),
        OFlag::O_RDWR | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(err("shm_open"))
}

/// Gives the object `tmp` the (second) name `name`, atomically, failing with `EEXIST` if
/// `name` exists: an opener sees either nothing under `name` or the complete object.
pub(crate) fn publish(tmp: &str, name: &str) -> Result<()> {
    nix::unistd::linkat(
        AT_FDCWD,
        format!("{SHM_DIR}/{tmp}").as_str(),
        AT_FDCWD,
        format!("{SHM_DIR}/{name}").as_str(),
        AtFlags::empty(),
    )
    .map_err(err("link (publish a shared-memory object)"))
}

/// Creates a shared-memory object with no name yet (`O_TMPFILE` in `/dev/shm`), with the
/// permissions `mode` less the umask's; [`publish_unnamed`] names it. `None` where that is not
/// possible (a kernel or file system without unnamed files, no way to name one, or a sandbox
/// that forbids it): the caller then builds the object under a hidden name instead. A process
/// that dies before naming it leaves nothing behind.
pub(crate) fn create_unnamed(mode: u32) -> Result<Option<OwnedFd>> {
    if linker().is_none() {
        return Ok(None);
    }
    match open_unnamed(mode) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL | Errno::ENOENT) => Ok(None),
        Err(e) => Err(err("open (an unnamed object in /dev/shm)")(e)),
    }
}

fn open_unnamed(mode: u32) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        SHM_DIR,
        OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
}

/// How a process gives an unnamed object its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linker {
    /// `linkat` of the descriptor itself (`AT_EMPTY_PATH`), the cheaper of the two: allowed
    /// since Linux 6.10 to the process that opened the file, before that only with
    /// `CAP_DAC_READ_SEARCH` (root, in most containers).
    Descriptor,
    /// `linkat` of `/proc/self/fd/N` (`AT_SYMLINK_FOLLOW`): allowed to every process that has
    /// `/proc`, at the cost of a walk through it.
    Proc,
}

/// The way this process names unnamed objects, `None` if it cannot make or name them (a
/// kernel, file system or sandbox may refuse either): tried on a probe object under a hidden
/// name removed at once, so that no creation fails half-way for it. Found once per process
/// and cached in an atomic (0: not tried yet, 1: neither way, 2: by descriptor, 3: through
/// `/proc`), not a `OnceLock`, which a fork in the middle of the probe would leave blocked in
/// the child; two threads that probe at once both find the same answer.
fn linker() -> Option<Linker> {
    static LINKER: AtomicU8 = AtomicU8::new(0);
    static PROBES: AtomicU32 = AtomicU32::new(0);
    match LINKER.load(Ordering::Relaxed) {
        1 => return None,
        2 => return Some(Linker::Descriptor),
        3 => return Some(Linker::Proc),
        _ => {}
    }
    let found = open_unnamed(0o600).ok().and_then(|fd| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Unique to this probe, even beside another thread's at the same instant.
        let probe = format!(
            ".sctmp-probe-{}-{nanos}-{}",
            std::process::id(),
            PROBES.fetch_add(1, Ordering::Relaxed)
        );
        // A refused link leaves the object unnamed (and linkable): the next way is tried on it.
        [Linker::Descriptor, Linker::Proc].into_iter().find(|&how| {
            let named = link_unnamed(fd.as_fd(), &probe, how).is_ok();
            if named {
                let _ = unlink(&probe);
            }
            named
        })
    });
    let code = match found {
        None => 1,
        Some(Linker::Descriptor) => 2,
        Some(Linker::Proc) => 3,
    };
    LINKER.store(code, Ordering::Relaxed);
    found
}

/// Gives the unnamed object open at `fd` (made by [`create_unnamed`]) the name `name`,
/// atomically, failing with `EEXIST` if `name` exists: an opener sees either nothing under
/// `name` or the complete object.
///
/// A descriptor link refused with `ENOENT` is tried again through `/proc`, and this process
/// links through `/proc` from then on: the probe may have run with privileges the process
/// has dropped since (before Linux 6.10, linking a descriptor needs `CAP_DAC_READ_SEARCH`;
/// since, the credentials it was opened with must be the caller's).
pub(crate) fn publish_unnamed(fd: BorrowedFd<'_>, name: &str) -> Result<()> {
    static BY_PROC: AtomicBool = AtomicBool::new(false);
    let how = match linker() {
        Some(Linker::Descriptor) if !BY_PROC.load(Ordering::Relaxed) => Linker::Descriptor,
        _ => Linker::Proc,
    };
    match link_unnamed(fd, name, how) {
        Err(crate::error::Error::Os { errno, .. })
            if how == Linker::Descriptor && errno == super::ENOENT =>
        {
            BY_PROC.store(true, Ordering::Relaxed);
            link_unnamed(fd, name, Linker::Proc)
        }
        linked => linked,
    }
}

/// [`publish_unnamed`] the way `how`.
pub(crate) fn link_unnamed(fd: BorrowedFd<'_>, name: &str, how: Linker) -> Result<()> {
    let to = format!("{SHM_DIR}/{name}");
    match how {
        Linker::Descriptor => {
            nix::unistd::linkat(fd, "", AT_FDCWD, to.as_str(), AtFlags::AT_EMPTY_PATH)
        }
        Linker::Proc => nix::unistd::linkat(
            AT_FDCWD,
            format!("/proc/self/fd/{}", fd.as_raw_fd()).as_str(),
            AT_FDCWD,
            to.as_str(),
            AtFlags::AT_SYMLINK_FOLLOW,
        ),
    }
    .map_err(err("link (publish a shared-memory object)"))
}

/// True if `name` is a directory of `/dev/shm` (glibc's `shm_open` reports one as `EINVAL`).
pub(crate) fn is_directory(name: &str) -> bool {
    nix::sys::stat::lstat(format!("{SHM_DIR}/{name}").as_str()).is_ok_and(|st| {
        nix::sys::stat::SFlag::from_bits_truncate(st.st_mode) & nix::sys::stat::SFlag::S_IFMT
            == nix::sys::stat::SFlag::S_IFDIR
    })
}

/// Removes the name `name` (the memory goes when the last process unmaps it).
pub(crate) fn unlink(name: &str) -> Result<()> {
    shm_unlink(path(name).as_str()).map_err(err("shm_unlink"))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::error::Error;

    /// Each way of naming an unnamed object names that very object, and refuses a name that
    /// exists; the way this process chose is one of them.
    #[test]
    fn each_linker_publishes_the_object_itself_and_only_under_a_free_name() {
        let Ok(fd) = open_unnamed(0o600) else {
            eprintln!("not checked: this system has no unnamed files in /dev/shm");
            return;
        };
        drop(fd);
        for how in [Linker::Descriptor, Linker::Proc] {
            let fd = open_unnamed(0o600).unwrap();
            let mut file = std::fs::File::from(fd);
            file.write_all(b"linked whole").unwrap();
            let name = format!("sharedctypes-unit-linker-{how:?}-{}", std::process::id());
            match link_unnamed(file.as_fd(), &name, how) {
                Ok(()) => {}
                Err(Error::Os { errno, .. })
                    if how == Linker::Descriptor
                        && (errno == libc::ENOENT || errno == libc::EPERM) =>
                {
                    eprintln!(
                        "not checked: {how:?} needs Linux 6.10 or CAP_DAC_READ_SEARCH: not here"
                    );
                    continue;
                }
                Err(e) => panic!("{how:?}: {e}"),
            }
            let mut seen = String::new();
            std::fs::File::open(format!("{SHM_DIR}/{name}"))
                .unwrap()
                .read_to_string(&mut seen)
                .unwrap();
            assert_eq!(seen, "linked whole", "{how:?}");
            let other = open_unnamed(0o600).unwrap();
            match link_unnamed(other.as_fd(), &name, how) {
                Err(Error::Os { errno, .. }) => assert_eq!(errno, libc::EEXIST, "{how:?}"),
                other => panic!("{how:?}: linked over an existing name: {other:?}"),
            }
            unlink(&name).unwrap();
        }
        assert!(
            linker().is_some(),
            "unnamed files work here, so a way to name them does"
        );
    }

    /// A process that probed the descriptor way with privileges it has dropped since (here:
    /// root that became nobody, which also changes its credentials) is refused that way, and
    /// publishes through `/proc` instead.
    #[test]
    fn a_descriptor_link_refused_after_a_privilege_drop_goes_through_proc() {
        use crate::os::process::{Forked, exit_now, fork, wait_child};
        if linker() != Some(Linker::Descriptor) || !nix::unistd::geteuid().is_root() {
            eprintln!("not checked: needs root and the descriptor way to drop from");
            return;
        }
        let name = format!("sharedctypes-unit-linker-drop-{}", std::process::id());
        // SAFETY: the child makes a few system calls and ends with `_exit`.
        match unsafe { fork() }.unwrap() {
            Forked::Child => {
                let ok = (|| -> Option<()> {
                    let fd = open_unnamed(0o600).ok()?;
                    // Readable and writable by the user it becomes, whom `/proc`'s link needs.
                    set_mode(fd.as_fd(), 0o666).ok()?;
                    let nobody = nix::unistd::Uid::from_raw(65534);
                    let nogroup = nix::unistd::Gid::from_raw(65534);
                    nix::unistd::setresgid(nogroup, nogroup, nogroup).ok()?;
                    nix::unistd::setresuid(nobody, nobody, nobody).ok()?;
                    let probe = format!("{name}-probe");
                    if link_unnamed(fd.as_fd(), &probe, Linker::Descriptor).is_ok() {
                        return None; // not refused: nothing to check
                    }
                    publish_unnamed(fd.as_fd(), &name).ok()
                })()
                .is_some();
                exit_now(if ok { 0 } else { 1 })
            }
            Forked::Parent(child) => {
                assert_eq!(wait_child(child, true).unwrap(), Some(0));
                assert!(identity(&name).is_ok(), "not published");
                unlink(&name).unwrap();
            }
        }
    }
}
