//! Shared memory: memfds, `MAP_SHARED` mappings, giving pages back, and the limits that
//! bound how much of it a process may map.

use core::ffi::CStr;
use core::ptr::NonNull;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use nix::errno::Errno;
use nix::fcntl::SealFlag;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};

use super::err;
use crate::error::{Error, Result};

/// The smallest page size sharedctypes assumes (and the largest alignment it guarantees).
pub(crate) const MIN_PAGE: usize = 4096;

/// This machine's page size (4 KiB on x86-64; 16 or 64 KiB on some AArch64 and POWER
/// kernels). Cached in an atomic, not a `OnceLock`, which a fork in the middle of its
/// initialisation would leave blocked in the child.
pub(crate) fn page_size() -> usize {
    static SIZE: AtomicUsize = AtomicUsize::new(0);
    match SIZE.load(Ordering::Relaxed) {
        0 => {
            let size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
                .ok()
                .flatten()
                .and_then(|s| usize::try_from(s).ok())
                .unwrap_or(MIN_PAGE)
                .max(MIN_PAGE);
            SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// The machine's memory plus swap: the most shared memory that can ever be backed. Cached
/// like [`page_size`].
pub(crate) fn memory_limit() -> u64 {
    static LIMIT: AtomicU64 = AtomicU64::new(0);
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let limit = nix::sys::sysinfo::sysinfo()
                .map(|info| info.ram_total().saturating_add(info.swap_total()))
                .unwrap_or(u64::MAX)
                .max(1);
            LIMIT.store(limit, Ordering::Relaxed);
            limit
        }
        limit => limit,
    }
}

/// Bytes of shared memory this process has mapped (every [`Mapping`] alive).
static MAPPED: AtomicU64 = AtomicU64::new(0);

/// How many more bytes of shared memory this process may map: the machine's memory plus
/// swap ([`memory_limit`]) minus what it has mapped already. Checked before every new
/// mapping, so that a process cannot map (and later touch) more shared memory than could
/// ever be backed, one request at a time.
pub(crate) fn budget_left() -> u64 {
    memory_limit().saturating_sub(MAPPED.load(Ordering::Relaxed))
}

/// Refuses a file size above this process's `RLIMIT_FSIZE`: growing a file past it would
/// not fail with an error but send `SIGXFSZ`, which kills the process.
fn check_file_size_limit(op: &'static str, size: u64) -> Result<()> {
    let (soft, _hard) = getrlimit(Resource::RLIMIT_FSIZE).map_err(err("getrlimit"))?;
    if soft != RLIM_INFINITY && size > soft {
        return Err(Error::os(op, Errno::EFBIG as i32));
    }
    Ok(())
}

/// A new memfd (close-on-exec) of `size` zero bytes, sealed at that size: no process it is
/// handed to can shrink it (which would kill every process that maps it with `SIGBUS` at its
/// next access) or grow it, nor add seals of its own.
pub(crate) fn memfd(name: &CStr, size: usize) -> Result<OwnedFd> {
    let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
        .map_err(err("memfd_create"))?;
    set_file_size(fd.as_fd(), size, "ftruncate (sizing a shared arena)")?;
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_ADD_SEALS(
            SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL,
        ),
    )
    .map_err(err("fcntl (F_ADD_SEALS)"))?;
    Ok(fd)
}

/// Sets the size of a shared-memory file (a memfd or a POSIX shared-memory object), refusing
/// sizes above `RLIMIT_FSIZE` with `EFBIG` instead of letting the kernel send `SIGXFSZ`.
pub(crate) fn set_file_size(fd: BorrowedFd<'_>, size: usize, op: &'static str) -> Result<()> {
    let size = u64::try_from(size).map_err(|_| Error::os(op, Errno::EFBIG as i32))?;
    check_file_size_limit(op, size)?;
    let len = i64::try_from(size).map_err(|_| Error::os(op, Errno::EFBIG as i32))?;
    nix::unistd::ftruncate(fd, len).map_err(err(op))
}

/// The size of the file behind `fd`, in bytes, and what identifies the file (device and
/// inode): two descriptors of the same memfd or shared-memory object agree on it.
pub(crate) fn file_info(fd: BorrowedFd<'_>) -> Result<(u64, (u64, u64))> {
    let stat = stat_of(fd)?;
    Ok((stat.size, stat.key))
}

/// What sharedctypes needs to know about a file before it maps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStat {
    /// Size in bytes.
    pub(crate) size: u64,
    /// Device and inode.
    pub(crate) key: (u64, u64),
    /// The user that owns it.
    pub(crate) owner: u32,
    /// Its permission bits (`0o777` at most).
    pub(crate) mode: u32,
    /// What kind of file it is.
    pub(crate) kind: FileKind,
}

/// The kind of a file, as far as sharedctypes cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// A regular file (memfds and POSIX shared-memory objects are).
    Regular,
    /// A directory.
    Directory,
    /// Anything else: a device, a socket, a pipe, …
    Other,
}

/// `fstat` of `fd`.
pub(crate) fn stat_of(fd: BorrowedFd<'_>) -> Result<FileStat> {
    let stat = nix::sys::stat::fstat(fd).map_err(err("fstat"))?;
    let size =
        u64::try_from(stat.st_size).map_err(|_| Error::os("fstat", Errno::EOVERFLOW as i32))?;
    let kind = match nix::sys::stat::SFlag::from_bits_truncate(stat.st_mode)
        & nix::sys::stat::SFlag::S_IFMT
    {
        nix::sys::stat::SFlag::S_IFREG => FileKind::Regular,
        nix::sys::stat::SFlag::S_IFDIR => FileKind::Directory,
        _ => FileKind::Other,
    };
    Ok(FileStat {
        size,
        key: (stat.st_dev, stat.st_ino),
        owner: stat.st_uid,
        mode: stat.st_mode & 0o777,
        kind,
    })
}

/// The effective user id of this process (whose files it creates).
pub(crate) fn effective_user() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// A readable and writable `MAP_SHARED` mapping of a file (memmap2's `MmapRaw`, over a
/// memfd or a POSIX shared-memory object), unmapped on drop.
///
/// Every process that maps the same file sees the same bytes; the memory stays alive for as
/// long as any process maps it (or holds the file open).
#[derive(Debug)]
pub(crate) struct Mapping {
    map: memmap2::MmapRaw,
}

impl Mapping {
    /// Maps `len` bytes of `fd` from `offset` (a multiple of the page size), shared.
    pub(crate) fn shared(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping> {
        if len == 0 {
            return Err(Error::os("mmap", Errno::EINVAL as i32));
        }
        let map = memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map_raw(&fd)
            .map_err(|e| {
                Error::os(
                    "mmap (MAP_SHARED)",
                    e.raw_os_error().unwrap_or(Errno::EINVAL as i32),
                )
            })?;
        MAPPED.fetch_add(len as u64, Ordering::Relaxed);
        Ok(Mapping { map })
    }

    /// The first byte of the mapping.
    pub(crate) fn base(&self) -> NonNull<u8> {
        NonNull::new(self.map.as_mut_ptr()).expect("a mapping is never at address 0")
    }

    /// Length of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Gives the whole pages of `offset..offset + len` back to the kernel (`MADV_REMOVE`):
    /// they read back as zeroes, in every process that maps them.
    ///
    /// # Safety
    /// The range must lie inside the mapping, be page-aligned, and hold no live object: no
    /// code in this or any other process may rely on its contents any more.
    pub(crate) unsafe fn remove_pages(&self, offset: usize, len: usize) -> Result<()> {
        debug_assert!(offset % page_size() == 0 && len % page_size() == 0);
        debug_assert!(offset <= self.len() && len <= self.len() - offset);
        // SAFETY: the range is inside this mapping and holds no live object (the caller's
        // contract), so dropping its pages (which then read as zeroes) breaks nothing.
        unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::Remove, offset, len)
        }
        .map_err(|e| {
            Error::os(
                "madvise (MADV_REMOVE)",
                e.raw_os_error().unwrap_or(Errno::EINVAL as i32),
            )
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // memmap2 unmaps the range when `map` drops, right after this.
        MAPPED.fetch_sub(self.map.len() as u64, Ordering::Relaxed);
    }
}
