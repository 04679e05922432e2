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

use super::{DEFAULT_MODE, Named, OpenOptions, create_hidden, map_os, not_ours, open_file};
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

impl<T: SharedLayout> RawArray<T> {
    /// Creates the plain POSIX shared-memory block `/dev/shm/<name>` holding `len` zeroed
    /// `T`s, and maps it: CPython's `SharedMemory(name, create=True, size=len *
    /// size_of::<T>())`, which CPython's `SharedMemory(name)` attaches to and numpy wraps
    /// without a copy.
    ///
    /// The block is exactly `len * size_of::<T>()` bytes (nothing is rounded: CPython's
    /// attach reads the size with `fstat`, so `shm.size` is that number on Linux), the
    /// elements lie at offset 0 in `T`'s own layout, and there is **no header**: whoever
    /// attaches must know the element type and derive the length from the size. The file is
    /// readable and writable by this user only (mode 0600, as CPython's), created
    /// exclusively, and published under `name` complete and sized (no process can see it
    /// empty, as it can a block CPython is still creating). Its start is page-aligned, which
    /// the alignment of every [`SharedLayout`] type divides.
    ///
    /// `name` follows CPython's rules: with or without a leading `/` (`"psm_1"` and
    /// `"/psm_1"` are the same block); the handle's [`name`](Named::name) is without it, as
    /// CPython's `shm.name` is.
    ///
    /// # Who removes it
    ///
    /// The returned [`Named`] handle removes the name when it drops (CPython's creator calls
    /// `shm.unlink()`); processes that have it attached keep the memory. To leave it for a
    /// Python process that attaches later, call [`persist`](Named::persist) (or
    /// [`into_inner`](Named::into_inner)), and let Python (`shm.unlink()`) or
    /// [`unlink_shm`](Self::unlink_shm) remove it.
    ///
    /// # CPython's resource tracker
    ///
    /// A Python process that merely *attaches* with `SharedMemory(name)` registers the block
    /// with its resource tracker, which **unlinks it when that process exits** and warns
    /// about a "leaked" object ([gh-82300]): the Rust program, and every later attacher,
    /// find the name gone. Python 3.13 added `track=False` to opt out (the default,
    /// `track=True`, still registers); before 3.13 the attacher unregisters the block
    /// itself, right after attaching (and only in a process that did not create it):
    ///
    /// ```python
    /// import sys
    /// import numpy as np
    /// from multiprocessing import resource_tracker
    /// from multiprocessing.shared_memory import SharedMemory
    ///
    /// if sys.version_info >= (3, 13):
    ///     shm = SharedMemory(name, track=False)
    /// else:
    ///     shm = SharedMemory(name)
    ///     resource_tracker.unregister(shm._name, "shared_memory")
    /// a = np.ndarray((shm.size // 8,), dtype=np.float64, buffer=shm.buf)  # no copy
    /// a *= 2                                  # Rust sees it
    /// del a                                   # release the buffer before close()
    /// shm.close()
    /// ```
    ///
    /// Without numpy, `shm.buf.cast("d")` is the same memory as a `memoryview` of doubles.
    ///
    /// [gh-82300]: https://github.com/python/cpython/issues/82300
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if the name is taken; [`Error::InvalidName`];
    /// [`Error::SizeOverflow`] if `len * size_of::<T>()` overflows;
    /// [`Error::InvalidArgument`] for an empty block (`len` 0 or a zero-sized `T`: CPython
    /// refuses size 0 and cannot attach to an empty block); [`Error::OutOfMemory`];
    /// [`Error::Os`] (`EFBIG` above `RLIMIT_FSIZE`).
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-create-shm-{}", std::process::id());
    /// let a = RawArray::<f64>::create_shm(&name, 4)?; // /dev/shm/<name>, 32 bytes, zeroed
    /// a.copy_from_slice(&[0.5, 1.5, 2.5, 3.5])?;
    /// // No header: the file is the elements, as CPython's SharedMemory(name) sees them.
    /// let bytes = std::fs::read(format!("/dev/shm/{name}")).unwrap();
    /// assert_eq!(bytes.len(), 32);
    /// assert_eq!(bytes[8..16], 1.5f64.to_ne_bytes());
    /// assert_eq!(
    ///     RawArray::<f64>::create_shm(&format!("/{name}"), 4).unwrap_err(), // the same name
    ///     Error::AlreadyExists { name: name.clone() }
    /// );
    /// drop(a); // the creator removes the name
    /// assert!(!std::path::Path::new(&format!("/dev/shm/{name}")).exists());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_shm(name: &str, len: usize) -> Result<Named<RawArray<T>>> {
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

        // Sized under a hidden name, then published under `name` (exclusively) complete.
        let (tmp, fd) = create_hidden(DEFAULT_MODE)?;
        let built = (|| {
            // Exactly 0600: the umask may have taken bits away.
            let stat = os::memory::stat_of(fd.as_fd())?;
            if stat.mode != DEFAULT_MODE {
                os::shm::set_mode(fd.as_fd(), DEFAULT_MODE)?;
            }
            os::memory::set_file_size(
                fd.as_fd(),
                bytes,
                "ftruncate (sizing a shared-memory block)",
            )?;
            let block = ObjectFile::new(fd.as_fd(), bytes as u64, stat.key).block(
                0,
                bytes,
                align_of::<T>(),
            )?;
            let array = RawArray::from_block(block, len);
            os::shm::publish(&tmp, name).map_err(|e| map_os(name, e))?;
            Ok(Named::new(array, name, stat.key, true))
        })();
        let _ = os::shm::unlink(&tmp);
        built
    }

    /// Attaches to the plain POSIX shared-memory block `/dev/shm/<name>`, which CPython's
    /// `SharedMemory(name, create=True, size=n)` (or [`create_shm`](Self::create_shm), or any
    /// other program) made: its `size / size_of::<T>()` elements, from offset 0, mapped
    /// shared (writes are seen by every process that has it attached).
    ///
    /// **No fingerprint is checked**: a plain block has no header saying what it holds, so
    /// the only check is that its size is a whole number of `T`s. A block of 16 bytes opens
    /// as two `f64`s, four `u32`s or one `Point { x: f64, y: f64 }` alike; agreeing on the
    /// element type is up to the two programs (numpy's `dtype` against `T`). Named objects
    /// ([`create_named`](Self::create_named)) carry their layout and are checked;
    /// `open_shm` refuses one of them (it starts with their header) and points to
    /// [`open_named`](Self::open_named).
    ///
    /// What can be checked is: the name (CPython's rules, with or without the leading `/`;
    /// see [`create_shm`](Self::create_shm)), that it is a regular file (no directory, no
    /// symbolic link followed), that it belongs to this process's user (refused with
    /// [`Error::OtherOwner`] otherwise, as for every named object: see
    /// [`open_shm_with`](Self::open_shm_with)), that its size is a positive multiple of
    /// `size_of::<T>()` and can be mapped. The mapping starts at a page boundary, so every
    /// element is aligned.
    ///
    /// The handle never removes the name: the creator does (CPython's `shm.unlink()`), or
    /// [`unlink_shm`](Self::unlink_shm). A block that another process shrinks while it is
    /// mapped here kills this process with `SIGBUS` at its next access to the lost pages, as
    /// for any shared file (see [the trust model](crate::named#the-trust-model)).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::LengthMismatch`] if the size is not a multiple of
    /// `size_of::<T>()`, in bytes: `actual` is the block's size and `expected` the bytes its
    /// whole elements fill (the size rounded down to a multiple of `size_of::<T>()`);
    /// [`Error::InvalidArgument`] for an empty block (0 bytes, as a block CPython is still
    /// creating is for an instant; CPython cannot attach to one either), a zero-sized `T`, or
    /// a sharedctypes named object; [`Error::OtherOwner`]; [`Error::PermissionDenied`];
    /// [`Error::NotNamedObject`] for a directory or another non-regular file;
    /// [`Error::InvalidName`]; [`Error::OutOfMemory`].
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-open-shm-{}", std::process::id());
    /// // Python: shm = SharedMemory(name, create=True, size=12); shm.buf[:12] = ...
    /// # std::fs::write(format!("/dev/shm/{name}"), [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]).unwrap();
    /// let a = RawArray::<u32>::open_shm(&format!("/{name}"))?; // with or without the slash
    /// assert_eq!((a.name(), a.to_vec()), (name.as_str(), vec![1, 2, 3]));
    /// assert_eq!(
    ///     RawArray::<u64>::open_shm(&name).unwrap_err(), // 12 bytes are not whole u64s
    ///     Error::LengthMismatch { expected: 8, actual: 12 }
    /// );
    /// RawArray::<u32>::unlink_shm(&name)?; // CPython's shm.unlink()
    /// assert_eq!(
    ///     RawArray::<u32>::open_shm(&name).unwrap_err(),
    ///     Error::NotFound { name: name.clone() }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_shm(name: &str) -> Result<Named<RawArray<T>>> {
        Self::open_shm_with(name, OpenOptions::default())
    }

    /// [`open_shm`](Self::open_shm) with [`OpenOptions`]: `allow_other_owner: true` attaches
    /// to a block another user owns (refused by default, as for every named object: whoever
    /// can write the block, or planted it under a name you expected to create, controls what
    /// this process reads).
    ///
    /// # Errors
    /// As for [`open_shm`](Self::open_shm).
    ///
    /// ```
    /// use sharedctypes::{RawArray, named::OpenOptions};
    /// # let name = format!("sharedctypes-doc-open-shm-with-{}", std::process::id());
    /// let created = RawArray::<i16>::create_shm(&name, 3)?;
    /// created.set(2, -7)?;
    /// let opened = RawArray::<i16>::open_shm_with(&name, OpenOptions { allow_other_owner: true })?;
    /// assert_eq!(opened.to_vec(), [0, 0, -7]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn open_shm_with(name: &str, options: OpenOptions) -> Result<Named<RawArray<T>>> {
        let name = shm_name(name)?;
        let fd = open_file(name)?;
        let stat = os::memory::stat_of(fd.as_fd())?;
        match stat.kind {
            os::memory::FileKind::Regular => {}
            os::memory::FileKind::Directory => {
                return Err(not_ours(name, "it is a directory".into()));
            }
            os::memory::FileKind::Other => {
                return Err(not_ours(name, "it is not a regular file".into()));
            }
        }
        let me = os::memory::effective_user();
        if stat.owner != me && !options.allow_other_owner {
            return Err(Error::OtherOwner {
                name: name.to_string(),
                owner: stat.owner,
                user: me,
            });
        }
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

    /// Removes the name of the plain shared-memory block `name` (CPython's `shm.unlink()`,
    /// `shm_unlink`): it can no longer be attached to, and its memory goes once no process
    /// maps it. For a block that was [`persist`](Named::persist)ed, or that CPython made and
    /// left to this process to remove. The element type plays no part. Unlike
    /// [`unlink_named`](crate::named::unlink_named), it does not look inside: whatever file
    /// of `/dev/shm` is under the name goes (the directory's sticky bit lets only its owner,
    /// or root, remove it).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::PermissionDenied`]; [`Error::InvalidName`];
    /// [`Error::Os`] (e.g. `EISDIR` for a directory).
    ///
    /// ```
    /// use sharedctypes::{Error, RawArray};
    /// # let name = format!("sharedctypes-doc-unlink-shm-{}", std::process::id());
    /// RawArray::<u8>::create_shm(&name, 10)?.persist(); // stays after its handle drops
    /// assert_eq!(RawArray::<u8>::open_shm(&name)?.len(), 10);
    /// RawArray::<u8>::unlink_shm(&format!("/{name}"))?;
    /// assert_eq!(
    ///     RawArray::<u8>::unlink_shm(&name),
    ///     Err(Error::NotFound { name: name.clone() })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn unlink_shm(name: &str) -> Result<()> {
        let name = shm_name(name)?;
        os::shm::unlink(name).map_err(|e| map_os(name, e))
    }
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
