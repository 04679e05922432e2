//! Plain POSIX shared-memory blocks, as CPython's `multiprocessing.shared_memory.SharedMemory`
//! makes and attaches to them: `/dev/shm/<name>`, the elements at offset 0, no header, no
//! lock. [`RawArray::create_shm`], [`RawArray::open_shm`], [`RawArray::open_shm_with`] and
//! [`RawArray::unlink_shm`].
//!
//! They reuse what named objects have (the [`Named`] handle, the owner policy of
//! [`OpenOptions`], the atomic publication of a complete file under its name) but read and
//! write no header: a block has no fingerprint, and the element type's size is the only check
//! an opener can make.

use core::mem::{align_of, size_of};
use std::os::fd::AsFd;

use super::{DEFAULT_MODE, Named, OpenOptions, map_os, open_checked};
use crate::RawArray;
use crate::access::SharedLayout;
use crate::description::{Access, MAGIC};
use crate::error::{Error, Result};
use crate::os;
use crate::share::ObjectFile;

/// The longest name a file of `/dev/shm` can have (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;

/// The name of a block as glibc's `shm_open` sees it: `name` without its leading slashes
/// (CPython's `SharedMemory(name)` passes `"/" + name`, and glibc strips every leading `/`,
/// so `x`, `/x` and `//x` are the same object `/dev/shm/x`). What is left must be 1 to 255
/// bytes, hold no other `/` and no NUL byte, and not be `.` or `..`.
fn shm_name(name: &str) -> Result<&str> {
    let bare = name.trim_start_matches('/');
    let reason = if bare.is_empty() {
        Some("it is empty (or only slashes)")
    } else if bare.len() > NAME_MAX {
        Some("it is longer than 255 bytes (NAME_MAX), not counting its leading slashes")
    } else if bare.contains('/') {
        Some(
            "a `/` may only lead it: a shared-memory block is a file of /dev/shm, not of a subdirectory",
        )
    } else if bare.contains('\0') {
        Some("it contains a NUL byte")
    } else if bare == "." || bare == ".." {
        Some("`.` and `..` are directories, not shared-memory blocks")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(bare),
    }
}

/// [`RawArray::create_shm`].
pub(crate) fn create_shm<T: SharedLayout>(name: &str, len: usize) -> Result<Named<RawArray<T>>> {
    let name = shm_name(name)?;
    let elem_size = size_of::<T>();
    let bytes = len
        .checked_mul(elem_size)
        .filter(|&b| isize::try_from(b).is_ok())
        .ok_or(Error::SizeOverflow { len, elem_size })?;
    if bytes == 0 {
        return Err(Error::InvalidArgument {
            reason: format!(
                "a shared-memory block of {len} elements of {elem_size} bytes would be empty: CPython's SharedMemory refuses size 0 and cannot attach to an empty block"
            ),
        });
    }
    let available = os::memory::budget_left();
    if (bytes as u64).next_multiple_of(os::memory::page_size() as u64) > available {
        return Err(Error::OutOfMemory {
            requested: bytes,
            available,
        });
    }

    super::build_file(
        name,
        DEFAULT_MODE,
        bytes,
        os::shm::create_unnamed,
        "ftruncate (sizing a shared-memory block)",
        |file| {
            let block = file.block(0, bytes, align_of::<T>())?;
            Ok(RawArray::<T>::from_block(block, len))
        },
    )
}

/// [`RawArray::open_shm`].
pub(crate) fn open_shm<T: SharedLayout>(name: &str) -> Result<Named<RawArray<T>>> {
    open_shm_with::<T>(name, OpenOptions::default())
}

/// [`RawArray::open_shm_with`].
pub(crate) fn open_shm_with<T: SharedLayout>(
    name: &str,
    options: OpenOptions,
) -> Result<Named<RawArray<T>>> {
    let name = shm_name(name)?;
    let (fd, stat) = open_checked(name, options)?;
    let elem_size = size_of::<T>();
    let size = stat.size;
    let invalid = |reason: String| Error::InvalidArgument { reason };
    if elem_size == 0 {
        return Err(invalid(format!(
            "the elements of `{}` take no bytes: a shared-memory block cannot say how many there are",
            core::any::type_name::<T>()
        )));
    }
    if size == 0 {
        return Err(invalid(format!(
            "the shared-memory block {name:?} is empty (0 bytes): its creator has not sized it yet, or never will (CPython creates a block, then sizes it, and cannot attach to an empty one)"
        )));
    }
    let bytes = usize::try_from(size).map_err(|_| Error::OutOfMemory {
        requested: usize::MAX,
        available: os::memory::budget_left(),
    })?;
    if bytes % elem_size != 0 {
        return Err(Error::LengthMismatch {
            expected: bytes - bytes % elem_size,
            actual: bytes,
        });
    }
    let block = ObjectFile::new(fd.as_fd(), size, stat.key).block(0, bytes, align_of::<T>())?;
    if bytes >= MAGIC.len() && Access::new(&block).read(MAGIC.len()) == MAGIC {
        return Err(invalid(format!(
            "{name:?} is a sharedctypes named object (it starts with its header), not a plain shared-memory block: open it with open_named, which checks its type"
        )));
    }
    Ok(Named::new(
        RawArray::from_block(block, bytes / elem_size),
        name,
        stat.key,
        false,
    ))
}

/// [`RawArray::unlink_shm`].
pub(crate) fn unlink_shm(name: &str) -> Result<()> {
    let name = shm_name(name)?;
    os::shm::unlink(name).map_err(|e| map_os(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cpython_and_glibc() {
        assert_eq!(shm_name("psm_1a2b"), Ok("psm_1a2b"));
        assert_eq!(shm_name("/psm_1a2b"), Ok("psm_1a2b"));
        assert_eq!(shm_name("//psm_1a2b"), Ok("psm_1a2b")); // CPython's "/" + "/psm_1a2b"
        assert_eq!(shm_name(".hidden é"), Ok(".hidden é"));
        assert_eq!(shm_name(&"x".repeat(255)), Ok("x".repeat(255).as_str()));
        let refused = |name: &str, reason: &'static str| {
            assert_eq!(
                shm_name(name),
                Err(Error::InvalidName {
                    name: name.to_string(),
                    reason
                })
            );
        };
        refused("", "it is empty (or only slashes)");
        refused("//", "it is empty (or only slashes)");
        refused(
            &"x".repeat(256),
            "it is longer than 255 bytes (NAME_MAX), not counting its leading slashes",
        );
        refused(
            "/a/b",
            "a `/` may only lead it: a shared-memory block is a file of /dev/shm, not of a subdirectory",
        );
        refused("a\0b", "it contains a NUL byte");
        refused(
            "/..",
            "`.` and `..` are directories, not shared-memory blocks",
        );
        refused(
            ".",
            "`.` and `..` are directories, not shared-memory blocks",
        );
    }
}
