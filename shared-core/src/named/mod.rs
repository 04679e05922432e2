//! Named shared objects, for processes that are not parent and child: one POSIX
//! shared-memory object per [`RawValue`](crate::RawValue), [`RawArray`](crate::RawArray),
//! [`Value`](crate::Value) or [`Array`](crate::Array), found by name, with a versioned header
//! (what type it holds, checked by layout fingerprint) and, for a `Value` or an `Array`, its
//! robust lock inside, so that every process that opens it uses the same lock.
//!
//! ```
//! use sharedctypes::{Value, named::unlink_named};
//!
//! # let name = format!("sharedctypes-doc-named-{}", std::process::id());
//! let created = Value::<u64>::create_named(&name, 0)?; // exclusive, mode 0600
//! let opened = Value::<u64>::open_named(&name)?; // in this or any other process
//! opened.update(|n| n + 5)?;
//! assert_eq!(created.get()?, 5);
//! drop(created); // the creator removes the name (unless it was persisted)
//! assert!(Value::<u64>::open_named(&name).is_err());
//! assert_eq!(opened.get()?, 5); // those who have it open keep it
//! # let _ = unlink_named;
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! # Ownership and crashes
//!
//! The handle `create_named` returns removes the name when it drops, unless
//! [`persist`](Named::persist) was called; handles from `open_named` never remove it, and
//! [`unlink_named`] removes a persisted one. The memory itself lives on while any process
//! maps it. A creator that crashes before dropping its handle leaves the name behind (it
//! reopens fine): remove it with `unlink_named(name)` or `rm /dev/shm/<name>`. A creator that
//! crashes *while creating* leaves only a hidden `/dev/shm/.sctmp-<random>` (never a
//! half-built object under the name), which `rm` removes; its random name never collides
//! with a later creation.
//!
//! # The trust model
//!
//! Every process that can write an object is trusted as much as its creator. This is not a
//! choice sharedctypes can undo: a robust pthread mutex keeps the links of its holder
//! thread's robust list *inside the shared lock cell*, and glibc's unlock follows them, so a
//! process that rewrites the cell while another holds the lock can make that holder's
//! unlock write a chosen value to a chosen address. (sharedctypes rewrites those links from
//! its own process-local record before every unlock, which closes the plain overwrite but not
//! a writer that races the unlock itself.) So sharedctypes enforces what it can:
//!
//! - objects are created readable and writable by their owner only (mode 0600) unless asked
//!   otherwise;
//! - [`open_named`](crate::RawValue::open_named) refuses a file another user owns
//!   ([`Error::OtherOwner`]) unless the caller opts in with
//!   `open_named_with(name, OpenOptions { allow_other_owner: true })`: an object planted
//!   under a name you meant to create, or one a less trusted user can write, is not used by
//!   accident;
//! - the header is checked before anything is mapped: its parts (header, lock, data) must lie
//!   inside the file, aligned, and not overlap ([`Error::NotNamedObject`] names the parts);
//! - a directory, a symbolic link or any other non-regular file under the name is refused.
//!
//! A named object is a file of `/dev/shm`, which cannot be sealed: a process that can write
//! it can also truncate it, and every process that maps it then dies of `SIGBUS` at its next
//! access to the lost pages. The size is checked at every open (the header must agree with
//! the file), so a truncated object is refused from then on; a process that had it mapped
//! before is within the trust model above. (Memory that is not named, the heap's memfds, is
//! sealed against shrinking and growing before any other process can see it.)
//!
//! # Names
//!
//! 1 to 200 ASCII letters, digits, `_`, `-` and `.`, not starting with `.`; the object is
//! `/dev/shm/<name>`. the Python package in `python/` opens the same objects.

mod header;
mod objects;

use core::sync::atomic::{AtomicBool, Ordering};
use std::os::fd::{AsFd, OwnedFd};

use header::{Access, FIXED, Header, MAGIC, READY, VERSION};
pub(crate) use header::{KIND_ARRAY, KIND_VALUE, LOCK_LOCK, LOCK_NONE, LOCK_RLOCK};

use crate::error::{Error, Result};
use crate::heap::Block;
use crate::os;

/// The mode of a created object unless another is asked for: readable and writable by its
/// owner only.
pub const DEFAULT_MODE: u32 = 0o600;

/// A named object, and whether this handle removes the name when it drops: what
/// `create_named` and `open_named` return. Dereferences to the object.
///
/// ```
/// use sharedctypes::RawArray;
/// # let name = format!("sharedctypes-doc-named-handle-{}", std::process::id());
/// let a = RawArray::create_named(&name, &[1u16, 2, 3])?;
/// assert_eq!((a.name(), a.to_vec()), (name.as_str(), vec![1, 2, 3])); // Deref to the array
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Named<O> {
    obj: O,
    name: String,
    /// The file's identity: only that file is unlinked, not one created under the same name
    /// after this one was removed.
    key: (u64, u64),
    unlinks: AtomicBool,
}

/// `Named { name: "jobs", obj: Value(3) }`.
///
/// ```
/// use sharedctypes::Value;
/// # let name = format!("sharedctypes-doc-named-debug-{}", std::process::id());
/// let jobs = Value::<u32>::create_named(&name, 3)?;
/// assert_eq!(format!("{jobs:?}"), format!("Named {{ name: {name:?}, obj: Value(3) }}"));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<O: core::fmt::Debug> core::fmt::Debug for Named<O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Named")
            .field("name", &self.name)
            .field("obj", &self.obj)
            .finish()
    }
}

impl<O> core::ops::Deref for Named<O> {
    type Target = O;
    fn deref(&self) -> &O {
        &self.obj
    }
}

impl Named<crate::RawArray<u8>> {
    /// [`RawArray::view_at`](crate::RawArray::view_at) on the named byte array: the view of
    /// the `T` at byte `offset`, borrowing this handle mutably.
    ///
    /// # Errors
    /// As for [`RawArray::read_at`](crate::RawArray::read_at).
    ///
    /// ```
    /// use sharedctypes::{RawArray, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Slot {
    ///     seq: u64,
    ///     len: u32,
    /// }
    ///
    /// # let name = format!("sharedctypes-doc-named-view-at-{}", std::process::id());
    /// let mut ring = RawArray::<u8>::create_named(&name, &[0; 256])?;
    /// ring.view_at::<Slot>(64)?.set_len(12);
    /// assert_eq!(ring.read_at::<u32>(72)?, 12);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn view_at<T: crate::SharedLayout>(&mut self, offset: usize) -> crate::Result<T::View<'_>> {
        self.obj.view_at::<T>(offset)
    }
}

impl<O> Named<O> {
    /// The name.
    ///
    /// ```
    /// use sharedctypes::RawValue;
    /// # let name = format!("sharedctypes-doc-named-name-{}", std::process::id());
    /// assert_eq!(RawValue::create_named(&name, 1u8)?.name(), name);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Keeps the name when this (creating) handle drops: the object stays for later openers
    /// until [`unlink_named`] removes it. Does nothing on an opened handle.
    ///
    /// ```
    /// use sharedctypes::{RawValue, named::unlink_named};
    /// # let name = format!("sharedctypes-doc-named-persist-{}", std::process::id());
    /// let v = RawValue::create_named(&name, 7u32)?;
    /// v.persist();
    /// drop(v);
    /// assert_eq!(RawValue::<u32>::open_named(&name)?.get(), 7); // still there
    /// unlink_named(&name)?;
    /// assert!(RawValue::<u32>::open_named(&name).is_err());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn persist(&self) {
        self.unlinks.store(false, Ordering::Relaxed);
    }

    /// The object, which stays usable; the name is left as if persisted.
    ///
    /// ```
    /// use sharedctypes::{Value, named::unlink_named};
    /// # let name = format!("sharedctypes-doc-named-inner-{}", std::process::id());
    /// let v: Value<i8> = Value::<i8>::create_named(&name, -1)?.into_inner();
    /// assert_eq!(v.get()?, -1);
    /// unlink_named(&name)?;
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn into_inner(self) -> O {
        self.persist();
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; its other fields (a String and
        // plain data) are dropped right after, so nothing leaks but the moved-out object.
        let obj = unsafe { core::ptr::read(&this.obj) };
        // SAFETY: as above: the name is read out once and dropped here.
        drop(unsafe { core::ptr::read(&this.name) });
        obj
    }
}

impl<O> Drop for Named<O> {
    fn drop(&mut self) {
        if !self.unlinks.load(Ordering::Relaxed) {
            return;
        }
        // Only the file this handle created: a name removed and created again by another
        // process is that process's.
        if let Ok(fd) = os::shm::open(&self.name) {
            if os::memory::file_info(fd.as_fd()).is_ok_and(|(_, key)| key == self.key) {
                let _ = os::shm::unlink(&self.name);
            }
        }
    }
}

/// Removes the name of a named object (a persisted one, or one a crashed creator left): it
/// can no longer be opened, and its memory goes once no process maps it.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::NotNamedObject`] if the name is not a sharedctypes object
/// (it is left alone); [`Error::InvalidName`]; [`Error::PermissionDenied`].
///
/// ```
/// use sharedctypes::{Error, named::unlink_named};
/// assert_eq!(
///     unlink_named("sharedctypes-doc-never-created"),
///     Err(Error::NotFound { name: "sharedctypes-doc-never-created".into() })
/// );
/// ```
pub fn unlink_named(name: &str) -> Result<()> {
    check_name(name)?;
    let fd = open_file(name)?;
    let (size, _) = os::memory::file_info(fd.as_fd())?;
    if size < FIXED as u64 {
        return Err(not_ours(
            name,
            format!("it is {size} bytes, shorter than a header"),
        ));
    }
    let block = Block::import(fd.as_fd(), 0, FIXED, 8)?;
    if Access::new(&block).magic() != MAGIC {
        return Err(not_ours(
            name,
            "it does not start with the sharedctypes magic bytes".into(),
        ));
    }
    os::shm::unlink(name).map_err(|e| map_os(name, e))
}

/// Checks a name: 1 to 200 of `[A-Za-z0-9_.-]`, not starting with `.`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 200 {
        Some("it is longer than 200 bytes")
    } else if name.starts_with('.') {
        Some("it starts with `.` (hidden names are for objects being created)")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        Some("only ASCII letters, digits, `_`, `-` and `.` are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn not_ours(name: &str, reason: String) -> Error {
    Error::NotNamedObject {
        name: name.to_string(),
        reason,
    }
}

/// The error of an `shm_open`/`shm_unlink` of `name`, by what it means.
fn map_os(name: &str, e: Error) -> Error {
    let name = name.to_string();
    match e {
        Error::Os { errno, .. } if errno == os::ENOENT => Error::NotFound { name },
        Error::Os { errno, .. } if errno == os::EEXIST => Error::AlreadyExists { name },
        Error::Os { errno, .. } if errno == os::EACCES || errno == os::EPERM => {
            Error::PermissionDenied { name }
        }
        Error::Os { errno, .. } if errno == os::ELOOP => Error::NotNamedObject {
            name,
            reason: "it is a symbolic link (never followed)".into(),
        },
        e => e,
    }
}

fn open_file(name: &str) -> Result<OwnedFd> {
    os::shm::open(name).map_err(|e| match e {
        Error::Os { errno, .. } if errno == os::EINVAL && os::shm::is_directory(name) => {
            not_ours(name, "it is a directory".into())
        }
        e => map_os(name, e),
    })
}

/// What a named object holds, as its creator describes it and its openers expect it.
pub(crate) struct Spec {
    pub(crate) kind: u32,
    pub(crate) lock: u32,
    pub(crate) fingerprint: u64,
    pub(crate) elem_size: usize,
    pub(crate) elem_align: usize,
    pub(crate) count: usize,
    pub(crate) type_name: String,
    pub(crate) layout: String,
    /// For openers: the expected type's summary, for a mismatch message.
    pub(crate) summary: String,
}

/// The parts of a named object in this process.
pub(crate) struct Parts {
    pub(crate) data: Block,
    pub(crate) lock: Option<Block>,
    pub(crate) count: usize,
    pub(crate) key: (u64, u64),
}

const LOCK_CELL: usize = 56;

/// Creates `name` as described, with `init` building the object from its parts (filling the
/// data, creating the lock) before anyone can open it; exclusive. The object and the file's
/// identity.
pub(crate) fn create<R>(
    name: &str,
    mode: u32,
    spec: &Spec,
    init: impl FnOnce(Parts) -> Result<R>,
) -> Result<(R, (u64, u64))> {
    check_name(name)?;
    check_mode(mode)?;
    let header_len = FIXED + spec.type_name.len() + spec.layout.len();
    let lock_offset = if spec.lock == LOCK_NONE {
        0
    } else {
        header_len.next_multiple_of(64)
    };
    let after_lock = if spec.lock == LOCK_NONE {
        header_len
    } else {
        lock_offset + LOCK_CELL
    };
    let data_offset = after_lock.next_multiple_of(spec.elem_align.max(64));
    let data_len = spec
        .count
        .checked_mul(spec.elem_size)
        .ok_or(Error::SizeOverflow {
            len: spec.count,
            elem_size: spec.elem_size,
        })?;
    let total = data_offset
        .checked_add(data_len)
        .map(|t| t.next_multiple_of(os::memory::page_size()))
        .ok_or(Error::SizeOverflow {
            len: spec.count,
            elem_size: spec.elem_size,
        })?;

    // Built under a hidden name, published under `name` only once complete. The hidden name
    // is unpredictable, so a planted or stale file cannot make the creation fail (and
    // another attempt is made if one is there anyway).
    let (tmp, fd) = create_hidden(mode)?;
    let built = (|| {
        os::memory::set_file_size(fd.as_fd(), total, "ftruncate (sizing a named object)")?;
        let (_, key) = os::memory::file_info(fd.as_fd())?;
        let head = Block::import_from_object_file(fd.as_fd(), 0, header_len, 8)?;
        let lock = if spec.lock == LOCK_NONE {
            None
        } else {
            Some(Block::import_from_object_file(
                fd.as_fd(),
                lock_offset as u64,
                LOCK_CELL,
                8,
            )?)
        };
        let data = Block::import_from_object_file(
            fd.as_fd(),
            data_offset as u64,
            data_len,
            spec.elem_align,
        )?;
        let parts = Parts {
            data,
            lock,
            count: spec.count,
            key,
        };
        let built = init(parts)?;
        Access::new(&head).write(&Header {
            version: VERSION,
            state: READY,
            header_len,
            kind: spec.kind,
            lock: spec.lock,
            fingerprint: spec.fingerprint,
            elem_size: spec.elem_size as u64,
            elem_align: spec.elem_align as u64,
            count: spec.count as u64,
            lock_offset: lock_offset as u64,
            data_offset: data_offset as u64,
            total: total as u64,
            type_name: spec.type_name.clone(),
            layout: spec.layout.clone(),
        });
        os::shm::publish(&tmp, name).map_err(|e| map_os(name, e))?;
        Ok((built, key))
    })();
    let _ = os::shm::unlink(&tmp);
    built
}

/// Refuses permission bits outside `0o777` (set-user-id, set-group-id and sticky bits mean
/// nothing for shared memory and are most likely a mistake, such as a decimal `777`).
fn check_mode(mode: u32) -> Result<()> {
    if mode & !0o777 != 0 {
        return Err(Error::InvalidArgument {
            reason: format!(
                "mode {mode:#o} has bits outside 0o777: only read and write permissions for the owner, group and others apply to shared memory"
            ),
        });
    }
    Ok(())
}

/// Creates a new hidden object `.sctmp-<random>` (exclusive), trying other names if one
/// exists already; its name and descriptor.
fn create_hidden(mode: u32) -> Result<(String, OwnedFd)> {
    use core::hash::BuildHasher;
    static SERIAL: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let mut last = None;
    for _ in 0..16 {
        // std's hasher is keyed with random bits from the operating system: its output for
        // this process, counter and moment cannot be guessed by another process.
        let random = std::collections::hash_map::RandomState::new().hash_one((
            os::process::getpid(),
            SERIAL.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now(),
        ));
        let tmp = format!(".sctmp-{random:016x}");
        match os::shm::create_exclusive(&tmp, mode) {
            Ok(fd) => return Ok((tmp, fd)),
            Err(Error::Os { errno, .. }) if errno == os::EEXIST => last = Some(tmp),
            Err(e) => return Err(map_os(&tmp, e)),
        }
    }
    Err(Error::AlreadyExists {
        name: last.unwrap_or_default(),
    })
}

/// How `open_named_with` opens a named object.
///
/// ```
/// use sharedctypes::{RawValue, named::OpenOptions};
/// # let name = format!("sharedctypes-doc-open-options-{}", std::process::id());
/// let _v = RawValue::create_named(&name, 5u16)?;
/// let opened = RawValue::<u16>::open_named_with(&name, OpenOptions { allow_other_owner: true })?;
/// assert_eq!(opened.get(), 5);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenOptions {
    /// Open an object whose file belongs to another user. Off by default: every process that
    /// can write an object is trusted as much as its creator (see [the trust
    /// model](self#the-trust-model)), and an object another user planted under a name you
    /// expected to create is the classic way in.
    pub allow_other_owner: bool,
}

/// The part of a named object's file that a header says lies at `offset`, `len` bytes long.
struct Part {
    what: &'static str,
    offset: u64,
    len: u64,
}

impl Part {
    fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
}

impl core::fmt::Display for Part {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "its {} (bytes {}..{})",
            self.what,
            self.offset,
            self.end()
        )
    }
}

/// Checks that every part lies inside a file of `size` bytes, aligned as asked, and that no
/// two overlap (empty parts overlap nothing); the reason if not.
fn check_parts(parts: &[(Part, u64)], size: u64) -> core::result::Result<(), String> {
    for (part, align) in parts {
        if part
            .offset
            .checked_add(part.len)
            .is_none_or(|end| end > size)
        {
            return Err(format!(
                "{part} runs past the end of the file ({size} bytes)"
            ));
        }
        if part.offset % align != 0 {
            return Err(format!("{part} is not aligned to {align} bytes"));
        }
    }
    for (i, (a, _)) in parts.iter().enumerate() {
        for (b, _) in &parts[i + 1..] {
            if a.len != 0 && b.len != 0 && a.offset < b.end() && b.offset < a.end() {
                return Err(format!("{a} overlaps {b}"));
            }
        }
    }
    Ok(())
}

/// Opens `name`, checking that it holds what `spec` expects (its `count` is ignored for
/// arrays: the object says how many elements it has), and that its header describes parts
/// that lie inside the file, aligned and disjoint.
pub(crate) fn open(name: &str, spec: &Spec, options: OpenOptions) -> Result<Parts> {
    check_name(name)?;
    let fd = open_file(name)?;
    let stat = os::memory::stat_of(fd.as_fd())?;
    let size = stat.size;
    match stat.kind {
        os::memory::FileKind::Regular => {}
        os::memory::FileKind::Directory => return Err(not_ours(name, "it is a directory".into())),
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
    if size < FIXED as u64 {
        return Err(not_ours(
            name,
            format!("it is {size} bytes, shorter than a header"),
        ));
    }
    let head = import(name, fd.as_fd(), 0, FIXED, 8)?;
    let access = Access::new(&head);
    if access.magic() != MAGIC {
        return Err(not_ours(
            name,
            "it does not start with the sharedctypes magic bytes".into(),
        ));
    }
    let fixed = access.read_fixed();
    if fixed.version != VERSION {
        return Err(not_ours(
            name,
            format!(
                "its format version is {}, this crate reads version {VERSION}",
                fixed.version
            ),
        ));
    }
    if fixed.state != READY {
        return Err(not_ours(name, "its creator has not finished it".into()));
    }
    let (name_len, layout_len) = access.string_lens();
    let bad = |what: String| not_ours(name, what);
    if fixed.total != size {
        return Err(bad(format!(
            "its header gives its size as {} bytes, but the file has {size} (truncated or grown by another process?)",
            fixed.total
        )));
    }
    if FIXED + name_len + layout_len != fixed.header_len || fixed.header_len as u64 > size {
        return Err(bad(format!(
            "its header length {} disagrees with its strings ({FIXED} + {name_len} + {layout_len} bytes) or the file ({size} bytes)",
            fixed.header_len
        )));
    }
    let head = import(name, fd.as_fd(), 0, fixed.header_len, 8)?;
    let (type_name, layout) = Access::new(&head).strings(name_len, layout_len);

    let kind_name = |k| match k {
        KIND_VALUE => "a value".to_string(),
        KIND_ARRAY => "an array".to_string(),
        other => format!("an object of unknown kind {other}"),
    };
    if fixed.kind != spec.kind {
        return Err(bad(format!(
            "it holds {}, not {}",
            kind_name(fixed.kind),
            kind_name(spec.kind)
        )));
    }
    if fixed.fingerprint != spec.fingerprint
        || fixed.elem_size != spec.elem_size as u64
        || fixed.elem_align != spec.elem_align as u64
    {
        return Err(Error::LayoutMismatch {
            expected: spec.type_name.clone(),
            expected_layout: format!("{} ({})", spec.summary, spec.layout),
            found: type_name,
            found_layout: format!(
                "{} bytes, align {}, fingerprint {:#018x} ({layout})",
                fixed.elem_size, fixed.elem_align, fixed.fingerprint
            ),
        });
    }
    let lock_name = |l| match l {
        LOCK_NONE => "no lock".to_string(),
        LOCK_LOCK => "a Lock".to_string(),
        LOCK_RLOCK => "an RLock".to_string(),
        other => format!("a lock of unknown kind {other}"),
    };
    if !matches!(fixed.lock, LOCK_NONE | LOCK_LOCK | LOCK_RLOCK) {
        return Err(bad(format!("it has {}", lock_name(fixed.lock))));
    }
    if spec.lock != LOCK_NONE && spec.lock != fixed.lock {
        return Err(bad(format!(
            "it has {}, not {}",
            lock_name(fixed.lock),
            lock_name(spec.lock)
        )));
    }
    let count = usize::try_from(fixed.count).map_err(|_| bad("its count is too big".into()))?;
    if spec.kind == KIND_VALUE && count != 1 {
        return Err(bad(format!("a value of {count} elements")));
    }
    let data_len = count.checked_mul(spec.elem_size).ok_or_else(|| {
        bad(format!(
            "its {count} elements of {} bytes overflow",
            spec.elem_size
        ))
    })?;
    let mut parts = vec![
        (
            Part {
                what: "header",
                offset: 0,
                len: fixed.header_len as u64,
            },
            8,
        ),
        (
            Part {
                what: "data",
                offset: fixed.data_offset,
                len: data_len as u64,
            },
            spec.elem_align as u64,
        ),
    ];
    if fixed.lock != LOCK_NONE {
        parts.push((
            Part {
                what: "lock",
                offset: fixed.lock_offset,
                len: LOCK_CELL as u64,
            },
            8,
        ));
    }
    check_parts(&parts, size).map_err(bad)?;
    let lock = match spec.lock {
        LOCK_NONE => None,
        _ => Some(import(name, fd.as_fd(), fixed.lock_offset, LOCK_CELL, 8)?),
    };
    let data = import(
        name,
        fd.as_fd(),
        fixed.data_offset,
        data_len,
        spec.elem_align,
    )?;
    Ok(Parts {
        data,
        lock,
        count,
        key: stat.key,
    })
}

/// The block of the named object `name` at `offset`: any refusal is about the object.
fn import(
    name: &str,
    fd: std::os::fd::BorrowedFd<'_>,
    offset: u64,
    len: usize,
    align: usize,
) -> Result<Block> {
    Block::import_from_object_file(fd, offset, len, align).map_err(|e| match e {
        Error::InvalidHandle { reason } => not_ours(name, reason),
        e => e,
    })
}

impl<O> Named<O> {
    pub(crate) fn new(obj: O, name: &str, key: (u64, u64), creator: bool) -> Self {
        Named {
            obj,
            name: name.to_string(),
            key,
            unlinks: AtomicBool::new(creator),
        }
    }
}
