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
//! crashes *while creating* leaves nothing: the object is built in an unnamed file
//! (`O_TMPFILE`) and named only once complete, so no half-built object ever appears under the
//! name. (Where the kernel has no unnamed files or `/proc` is not mounted, it is built under a
//! hidden `/dev/shm/.sctmp-<random>` instead, which such a crash leaves behind for `rm`; its
//! random name never collides with a later creation.)
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

use core::sync::atomic::{AtomicBool, Ordering};
use std::os::fd::{AsFd, OwnedFd};

use crate::description::{
    Access, At, Description, ElemType, HEADER_FIXED, Kind, LOCK_CELL, MAGIC, MAX_HEADER, Mutex,
    check_name, check_named,
};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::os;
use crate::share::{Importer, ObjectFile, Share};

pub(crate) mod plain;

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
        if os::shm::identity(&self.name).is_ok_and(|key| key == self.key) {
            let _ = os::shm::unlink(&self.name);
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
    let (size, key) = os::memory::file_info(fd.as_fd())?;
    if size < MAGIC.len() as u64 {
        return Err(not_ours(
            name,
            format!("it is {size} bytes, shorter than a header"),
        ));
    }
    let head = import(
        name,
        &ObjectFile::new(fd.as_fd(), size, key),
        0,
        MAGIC.len(),
        8,
    )?;
    if Access::new(&head).read(MAGIC.len()) != MAGIC {
        return Err(not_ours(
            name,
            "it does not start with the sharedctypes magic bytes".into(),
        ));
    }
    os::shm::unlink(name).map_err(|e| map_os(name, e))
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

/// What a named object is made of, before it exists: its kind, its element type and count,
/// the size and alignment of its data part, and the kind of its lock.
pub(crate) struct Plan {
    pub(crate) kind: Kind,
    pub(crate) elem: Option<ElemType>,
    pub(crate) count: u64,
    pub(crate) data: Option<(u64, u64)>,
    pub(crate) lock: Option<Mutex>,
}

impl Plan {
    /// A value or an array of `count` `T`s, with a lock of kind `lock` or none.
    pub(crate) fn elements<T: crate::SharedLayout>(
        kind: Kind,
        count: usize,
        lock: Option<Mutex>,
    ) -> Result<Plan> {
        let elem = ElemType::of::<T>();
        let len = (count as u64)
            .checked_mul(elem.size)
            .ok_or(Error::SizeOverflow {
                len: count,
                elem_size: elem.size as usize,
            })?;
        Ok(Plan {
            kind,
            data: Some((len, elem.align)),
            elem: Some(elem),
            count: count as u64,
            lock,
        })
    }

    /// A queue of `kind` with `capacity` units (slots of `elem`, or bytes), a data part of
    /// `len` bytes aligned to `align` (its state and ring), and its `Lock`.
    pub(crate) fn queue(
        kind: Kind,
        elem: Option<ElemType>,
        capacity: u64,
        len: usize,
        align: usize,
    ) -> Plan {
        Plan {
            kind,
            elem,
            count: capacity,
            data: Some((len as u64, align as u64)),
            lock: Some(Mutex::Lock),
        }
    }

    /// A synchronisation primitive of `kind` (its state is its data part), with a lock of
    /// kind `lock` or none.
    pub(crate) fn primitive(kind: Kind, lock: Option<Mutex>) -> Plan {
        Plan {
            kind,
            elem: None,
            count: 0,
            data: kind.state(),
            lock,
        }
    }
}

/// The parts of a named object being created, for its kind to build it in.
pub(crate) struct Parts {
    pub(crate) data: Option<Block>,
    pub(crate) lock: Option<Block>,
}

impl Parts {
    /// The data part (present when the plan has one).
    pub(crate) fn data(&mut self) -> Block {
        self.data.take().expect("the plan has a data part")
    }

    /// The lock part (present when the plan has a lock).
    pub(crate) fn lock(&mut self) -> Block {
        self.lock.take().expect("the plan has a lock")
    }
}

/// Creates `name` as planned, with `init` building the object in its parts (filling the
/// data, creating the lock) before anyone can open it; exclusive. The file is laid out as
/// the header (its description), then the lock cell at the next multiple of 64 bytes, then
/// the data at the next multiple of 64 (or of its alignment), in whole pages.
pub(crate) fn create<X>(
    name: &str,
    mode: u32,
    plan: Plan,
    init: impl FnOnce(&mut Parts) -> Result<X>,
) -> Result<Named<X>> {
    create_with(name, mode, plan, init, os::shm::create_unnamed)
}

/// [`create`], with `unnamed` making the unnamed file to build in (`None`: build under a
/// hidden name).
fn create_with<X>(
    name: &str,
    mode: u32,
    plan: Plan,
    init: impl FnOnce(&mut Parts) -> Result<X>,
    unnamed: fn(u32) -> Result<Option<OwnedFd>>,
) -> Result<Named<X>> {
    check_name(name)?;
    check_mode(mode)?;
    let mut d = Description::new(plan.kind);
    d.elem = plan.elem;
    d.count = plan.count;
    let header_len = d.to_header(0).len() as u64;
    let mut end = header_len;
    if let Some(m) = plan.lock {
        let offset = end.next_multiple_of(64);
        d.lock = Some((m, At { file: 0, offset }));
        end = offset + LOCK_CELL.0;
    }
    if let Some((len, align)) = plan.data {
        let offset = end.next_multiple_of(align.max(64));
        d.data = Some(At { file: 0, offset });
        end = offset.checked_add(len).ok_or(Error::SizeOverflow {
            len: plan.count as usize,
            elem_size: 0,
        })?;
    }
    let total = usize::try_from(end)
        .ok()
        .and_then(|e| e.checked_next_multiple_of(os::memory::page_size()))
        .ok_or(Error::SizeOverflow {
            len: plan.count as usize,
            elem_size: 0,
        })?;

    let sizing = "ftruncate (sizing a named object)";
    build_file(name, mode, total, unnamed, sizing, |file| {
        let head = file.block(0, header_len as usize, 8)?;
        let from = Importer::File(file);
        let mut parts = Parts {
            data: match (d.data, plan.data) {
                (Some(at), Some((len, align))) => Some(from.block(at, len, align)?),
                _ => None,
            },
            lock: match d.lock {
                Some((_, at)) => Some(from.block(at, LOCK_CELL.0, LOCK_CELL.1)?),
                None => None,
            },
        };
        let obj = init(&mut parts)?;
        Access::new(&head).write(&d.to_header(total as u64));
        Ok(obj)
    })
}

/// Makes the file of a new object of `size` bytes with exactly the permissions `mode`, lets
/// `build` make the object in it, and publishes it under `name` (exclusively) only once
/// complete: built in an unnamed file (`unnamed` makes one, if the system can), else under a
/// hidden name, which is unpredictable, so a planted or stale file cannot make the creation
/// fail (and another attempt is made if one is there anyway). `sizing` names the sizing
/// call in its error.
pub(crate) fn build_file<X>(
    name: &str,
    mode: u32,
    size: usize,
    unnamed: fn(u32) -> Result<Option<OwnedFd>>,
    sizing: &'static str,
    build: impl FnOnce(ObjectFile<'_>) -> Result<X>,
) -> Result<Named<X>> {
    let (tmp, fd) = new_file(mode, unnamed(mode)?)?;
    let hidden = tmp.as_deref();
    let built = (move || {
        // Exactly `mode`: the umask may have taken bits away (only then is it set again).
        let stat = os::memory::stat_of(fd.as_fd())?;
        if stat.mode != mode {
            os::shm::set_mode(fd.as_fd(), mode)?;
        }
        os::memory::set_file_size(fd.as_fd(), size, sizing)?;
        // The mapping keeps this descriptor, to hand the object on (no duplicate).
        let made = crate::heap::MadeFile::map(fd, size as u64, stat.key)?;
        let obj = build(ObjectFile::new(made.fd(), size as u64, stat.key))?;
        match hidden {
            None => os::shm::publish_unnamed(made.fd(), name),
            Some(tmp) => os::shm::publish(tmp, name),
        }
        .map_err(|e| map_os(name, e))?;
        Ok(Named::new(obj, name, stat.key, true))
    })();
    if let Some(tmp) = tmp {
        let _ = os::shm::unlink(&tmp);
    }
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

/// The file a creation builds its object in: `unnamed` (no name to remove afterwards) if
/// the system could make one, else a new hidden object and its name.
fn new_file(mode: u32, unnamed: Option<OwnedFd>) -> Result<(Option<String>, OwnedFd)> {
    match unnamed {
        Some(fd) => Ok((None, fd)),
        None => create_hidden(mode).map(|(tmp, fd)| (Some(tmp), fd)),
    }
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
            crate::fork::current_pid(),
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

/// Opens the file `name` and checks it is one to map: a regular file, of this user unless
/// `options` allow another owner. The descriptor and what `fstat` said.
pub(crate) fn open_checked(
    name: &str,
    options: OpenOptions,
) -> Result<(OwnedFd, os::memory::FileStat)> {
    let fd = open_file(name)?;
    let stat = os::memory::stat_of(fd.as_fd())?;
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
    Ok((fd, stat))
}

/// Opens `name` as an `X`: the file's own checks (a regular file, its owner, its size), then
/// its header, read once into this process's memory and checked as every description is
/// (every part inside the file, aligned, apart from the others and from the header), then
/// the object rebuilt as an object received from another process is.
pub(crate) fn open<X: Share>(name: &str, options: OpenOptions) -> Result<Named<X>> {
    check_name(name)?;
    let (fd, stat) = open_checked(name, options)?;
    let size = stat.size;
    let bad = |reason: String| not_ours(name, reason);
    if size < HEADER_FIXED as u64 {
        return Err(bad(format!("it is {size} bytes, shorter than a header")));
    }
    let file = ObjectFile::new(fd.as_fd(), size, stat.key);
    let fixed = import(name, &file, 0, HEADER_FIXED, 8)?;
    let header_len = Access::new(&fixed).read(HEADER_FIXED);
    // The declared length, bounded by the file (checked again once read whole).
    let declared = u32::from_le_bytes(header_len[16..20].try_into().expect("4 bytes")) as u64;
    let len = declared.clamp(HEADER_FIXED as u64, size.min(MAX_HEADER as u64)) as usize;
    let head = import(name, &file, 0, len, 8)?;
    let bytes = Access::new(&head).read(len);
    let d = check_named(&bytes, size).map_err(bad)?;
    // The parts were checked against the file; the object checks its kind, type and lock.
    let obj = X::import(&d, &Importer::File(file)).map_err(|e| match e {
        Error::InvalidHandle { reason } => bad(reason),
        e => e,
    })?;
    Ok(Named::new(obj, name, stat.key, false))
}

/// The block of the named object `name` at `offset`: any refusal is about the object.
fn import(
    name: &str,
    file: &ObjectFile<'_>,
    offset: u64,
    len: usize,
    align: usize,
) -> Result<Block> {
    file.block(offset, len, align).map_err(|e| match e {
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

/// `open_named` and `open_named_with`, the same on every kind of object: `$open` and
/// `$open_with` are their doc examples.
macro_rules! open_named_methods {
    ($open:literal, $open_with:literal) => {
        /// Opens the named object `name`, created by `create_named` in this or any other
        /// process of this user, checking that it is this kind of object (with these
        /// elements, by layout fingerprint, and this kind of lock). See
        /// [`named`](crate::named).
        ///
        /// # Errors
        /// [`Error::NotFound`](crate::Error::NotFound);
        /// [`Error::NotNamedObject`](crate::Error::NotNamedObject) for another kind of
        /// object, another program's file, another format version, or a forged or truncated
        /// header (the reason names both kinds, or the parts that collide);
        /// [`Error::LayoutMismatch`](crate::Error::LayoutMismatch) for other elements (both
        /// types and layouts named); [`Error::OtherOwner`](crate::Error::OtherOwner) for a
        /// file another user owns; [`Error::PermissionDenied`](crate::Error::PermissionDenied);
        /// [`Error::InvalidName`](crate::Error::InvalidName).
        ///
        #[doc = $open]
        pub fn open_named(name: &str) -> crate::error::Result<crate::named::Named<Self>> {
            crate::named::open(name, crate::named::OpenOptions::default())
        }

        /// [`open_named`](Self::open_named) with
        /// [`OpenOptions`](crate::named::OpenOptions), e.g. to open an object another user
        /// owns (refused by default).
        ///
        /// # Errors
        /// As for [`open_named`](Self::open_named).
        ///
        #[doc = $open_with]
        pub fn open_named_with(
            name: &str,
            options: crate::named::OpenOptions,
        ) -> crate::error::Result<crate::named::Named<Self>> {
            crate::named::open(name, options)
        }
    };
}
pub(crate) use open_named_methods;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawValue;

    /// The two tests below count hidden files: one at a time.
    static HIDDEN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn hidden_files() -> usize {
        std::fs::read_dir("/dev/shm")
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with(".sctmp-"))
            })
            .count()
    }

    fn published(name: &str) -> bool {
        std::path::Path::new(&format!("/dev/shm/{name}")).exists()
    }

    /// Builds a `RawValue<u64>` named `name` with `unnamed` choosing the file, checking
    /// while it builds that the name is not there yet and how many hidden files are.
    fn build(
        name: &str,
        unnamed: fn(u32) -> Result<Option<OwnedFd>>,
        hidden_while_building: usize,
    ) -> Named<RawValue<u64>> {
        let plan = Plan::elements::<u64>(Kind::Value, 1, None).unwrap();
        create_with(
            name,
            0o600,
            plan,
            |p| {
                assert!(!published(name), "published before it was complete");
                assert_eq!(hidden_files(), hidden_while_building);
                let v = RawValue::<u64>::from_block(p.data());
                v.set(0x5eed_cafe);
                Ok(v)
            },
            unnamed,
        )
        .unwrap()
    }

    /// Where the system has no unnamed files, the object is built under a hidden name and
    /// published whole, and the hidden name is gone afterwards.
    #[test]
    fn without_unnamed_files_an_object_is_built_under_a_hidden_name() {
        let _one = HIDDEN.lock().unwrap_or_else(|e| e.into_inner());
        let name = format!("sharedctypes-unit-hidden-{}", std::process::id());
        let before = hidden_files();
        let created = build(&name, |_| Ok(None), before + 1);
        assert_eq!(created.get(), 0x5eed_cafe);
        let opened = RawValue::<u64>::open_named(&name).unwrap();
        assert_eq!(opened.get(), 0x5eed_cafe);
        opened.set(7);
        assert_eq!(created.get(), 7);
        assert_eq!(hidden_files(), before);
        drop(created);
        assert!(!published(&name));
    }

    /// Where the system has them, an object is built in a file with no name at all: no
    /// hidden file appears, and the name only once the object is complete.
    #[test]
    fn where_the_system_allows_an_object_is_built_with_no_name_at_all() {
        let _one = HIDDEN.lock().unwrap_or_else(|e| e.into_inner());
        if os::shm::create_unnamed(0o600).unwrap().is_none() {
            eprintln!("not checked: this system has no unnamed files in /dev/shm");
            return;
        }
        let name = format!("sharedctypes-unit-unnamed-{}", std::process::id());
        let before = hidden_files();
        let created = build(&name, os::shm::create_unnamed, before);
        assert!(published(&name));
        assert_eq!(
            RawValue::<u64>::open_named(&name).unwrap().get(),
            0x5eed_cafe
        );
        drop(created);
        assert!(!published(&name));
    }
}
