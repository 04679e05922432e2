//! Sending shared objects to other processes: to a child started with
//! [`Process::spawn`](crate::Process::spawn) (the objects arrive as the function's
//! arguments), or to any program started with [`Process::command`](crate::Process::command)
//! (which finds them with [`inherited`]).
//!
//! What travels is a *handle*, not the data: which arena of shared memory (its memfd,
//! passed as a descriptor), where in it, and what type lies there (name, size, alignment,
//! layout fingerprint), plus where the lock is for a [`Value`](crate::Value) or
//! [`Array`](crate::Array). The receiving process maps each arena once, however many objects
//! it receives from it, and unmaps it when the last of them drops; it never frees the
//! sender's memory. It checks everything before any access: the type's fingerprint
//! ([`Error::LayoutMismatch`] names both types and layouts),
//! the bounds against the arena's real size, the alignment, the kind of lock
//! ([`Error::InvalidHandle`] for anything malformed, forged,
//! truncated or out of range).
//!
//! # The handle format
//!
//! A program started with `Process::command` finds each shared object in an environment
//! variable `SHAREDCTYPES_SHARED_<name>`, one line of space-separated words that a short
//! script in any language can read:
//!
//! ```text
//! sharedctypes/1 kind=array type=Point size=16 align=8 fingerprint=0f3cc4c9b8e038c4 count=3 data=5:4096 lock=lock:5:192 layout=Point(16,8){x@0:f64=f64,y@8:f64=f64}
//! ```
//!
//! | word | meaning |
//! |---|---|
//! | `sharedctypes/1` | the format and its version; always first |
//! | `kind=` | `value` (one element), `array` (`count` elements), `lock` (a lock alone), `copy` (a plain value, in `bytes=`), or a synchronization primitive: `condition`, `event`, `semaphore`, `barrier` (its state in `data=`, its lock in `lock=`) |
//! | `type=` | the element type's name, percent-encoded (bytes outside `[A-Za-z0-9_]` as `%XX`) |
//! | `size=`, `align=` | the element type's size and alignment, in bytes |
//! | `fingerprint=` | the element type's layout fingerprint, 16 hex digits |
//! | `count=` | number of elements (arrays) |
//! | `data=fd:offset` | the elements: a descriptor open in the receiving process, and the byte offset in the file it refers to (map the file, `MAP_SHARED`) |
//! | `lock=kind:fd:offset` | the lock (`lock` or `rlock`): a 56-byte cell whose first 40 bytes are a robust, process-shared `pthread_mutex_t` (its layout is described on [`lock`](crate::lock)) |
//! | `bytes=` | a copied value, in hex |
//! | `layout=` | the layout in one line ([`Layout::describe`](crate::layout::Layout::describe)) |
//!
//! The program receives the descriptors of the files the objects lie in, and no other
//! descriptor of the parent (they stay close-on-exec). It can read and write every byte of
//! those files, so an object for another program must lie in a file of its own: created
//! inside [`heap::isolated`](crate::heap::isolated), or by name
//! ([`named`](crate::named)). `share` refuses any other ([`Error::NotIsolated`]). Such
//! files are sealed against shrinking and growing: the program cannot truncate them under
//! the parent's feet.

mod handle;
mod impls;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub(crate) use handle::{Handle, Kind, LockRef, Region, TypeInfo};

use crate::error::{Error, Result};
use crate::heap::Block;
use crate::os;

/// Objects that can be sent to another process: [`RawValue`](crate::RawValue),
/// [`RawArray`](crate::RawArray), [`Value`](crate::Value) and [`Array`](crate::Array) with
/// either lock, [`Lock`](crate::Lock), [`RLock`](crate::RLock), the synchronization
/// primitives ([`Condition`](crate::Condition), [`Event`](crate::Event),
/// [`Semaphore`](crate::Semaphore), [`BoundedSemaphore`](crate::BoundedSemaphore),
/// [`Barrier`](crate::Barrier)), and plain [`SharedLayout`](crate::SharedLayout) values
/// (copied). Sealed.
///
/// ```
/// use sharedctypes::{Array, Lock, RawValue, share::Share};
///
/// fn sendable<T: Share>(_: &T) {}
/// sendable(&RawValue::new(1.5f64)?);
/// sendable(&Array::with_lock(&[1u8, 2], Lock::new()?)?);
/// sendable(&7i32); // copied
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait Share: Sized + sealed::Sealed {
    /// Describes the object for another process. Not a public API.
    #[doc(hidden)]
    fn export(&self, out: &mut Exporter) -> Result<Sent>;
    /// Rebuilds the object from what another process sent. Not a public API.
    #[doc(hidden)]
    fn import(sent: &Sent, fds: &Importer) -> Result<Self>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A described object (opaque).
#[doc(hidden)]
#[derive(Debug)]
pub struct Sent(pub(crate) Handle);

/// How descriptors are named in the handles an [`Exporter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbering {
    /// By their position among the descriptors sent with the handles (`Process::spawn`).
    Slots,
    /// By their number, which the receiving program inherits unchanged (`Process::command`).
    Inherited,
}

/// Collects the descriptors of the arenas that objects lie in, each once (opaque).
#[doc(hidden)]
#[derive(Debug)]
pub struct Exporter {
    numbering: Numbering,
    fds: Vec<OwnedFd>,
    keys: Vec<(u64, u64)>,
    /// For another program: the name of the object being exported, whose memory must hold
    /// nothing else (see [`heap::isolated`](crate::heap::isolated)).
    isolated: Option<String>,
}

impl Exporter {
    pub(crate) fn new(numbering: Numbering) -> Exporter {
        Exporter {
            numbering,
            fds: Vec::new(),
            keys: Vec::new(),
            isolated: None,
        }
    }

    /// From now on, every block exported must be alone in its file (for another program);
    /// `name` is the object's, for the error.
    pub(crate) fn require_isolation(&mut self, name: &str) {
        self.isolated = Some(name.to_string());
    }

    /// Where `block` lies, with its arena's descriptor added to those to send.
    pub(crate) fn region(&mut self, block: &Block) -> Result<Region> {
        if let Some(name) = &self.isolated {
            if !block.alone_in_its_file() {
                return Err(Error::NotIsolated { name: name.clone() });
            }
        }
        let exported = block.export()?;
        let (_, key) = os::memory::file_info(exported.fd.as_fd())?;
        let slot = match self.keys.iter().position(|k| *k == key) {
            Some(slot) => slot,
            None => {
                self.keys.push(key);
                self.fds.push(exported.fd);
                self.fds.len() - 1
            }
        };
        let fd = match self.numbering {
            Numbering::Slots => slot as u64,
            Numbering::Inherited => self.fds[slot].as_raw_fd() as u64,
        };
        Ok(Region {
            fd,
            offset: exported.offset,
        })
    }

    /// True when exporting for another program (not this one's spawned children).
    pub(crate) fn for_program(&self) -> bool {
        self.isolated.is_some()
    }

    /// The descriptors to send, in slot order.
    pub(crate) fn fds(&self) -> &[OwnedFd] {
        &self.fds
    }
}

/// The descriptors handles refer to, in the receiving process (opaque).
#[doc(hidden)]
#[derive(Debug)]
pub enum Importer {
    /// Received with the handles, by position.
    Slots(Vec<OwnedFd>),
    /// Inherited at the numbers the handles give.
    Inherited,
}

impl Importer {
    /// The descriptor a handle names.
    pub(crate) fn fd(&self, n: u64) -> Result<BorrowedFd<'_>> {
        let bad = |what: &str| Error::InvalidHandle {
            reason: format!("descriptor {n} {what}"),
        };
        match self {
            Importer::Slots(fds) => usize::try_from(n)
                .ok()
                .and_then(|i| fds.get(i))
                .map(AsFd::as_fd)
                .ok_or_else(|| bad(&format!("was not sent (only {} were)", fds.len()))),
            Importer::Inherited => {
                let raw = i32::try_from(n).map_err(|_| bad("is not a descriptor number"))?;
                os::fd::inherited(raw).ok_or_else(|| bad("is not open in this process"))
            }
        }
    }

    /// The block of `len` bytes aligned to `align` that `at` names.
    pub(crate) fn block(&self, at: Region, len: usize, align: usize) -> Result<Block> {
        Block::import(self.fd(at.fd)?, at.offset, len, align)
    }
}

/// Checks a name given to a shared object: 1 to 64 ASCII letters, digits or `_`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 64 {
        Some("it is longer than 64 bytes")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some("only ASCII letters, digits and `_` are allowed")
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

/// The environment variable that carries the handle of the object shared as `name`.
pub(crate) fn env_var(name: &str) -> String {
    format!("SHAREDCTYPES_SHARED_{name}")
}

/// The object a handle describes, in a program that inherited the descriptors the handle
/// names (at the numbers it gives): for a handle that came by other means than the
/// environment — an argument, a file, a pipe.
///
/// # Errors
/// As for [`inherited`], but for [`Error::NotShared`].
///
/// ```
/// use sharedctypes::{Error, RawValue, share::from_handle};
/// let err = from_handle::<RawValue<i32>>("sharedctypes/2 kind=value").unwrap_err();
/// assert!(matches!(err, Error::InvalidHandle { .. }));
/// ```
pub fn from_handle<T: Share>(handle: &str) -> Result<T> {
    T::import(&Sent(Handle::parse(handle)?), &Importer::Inherited)
}

/// The object the parent shared as `name` with [`Process::command`](crate::Process::command)
/// (`.share(name, &obj)`), in a program started that way.
///
/// # Errors
/// [`Error::NotShared`] if there is no such object; [`Error::InvalidName`] for a name that
/// could not have been shared; [`Error::LayoutMismatch`] if it has another type;
/// [`Error::InvalidHandle`] if its handle is malformed or names memory it may not.
///
/// ```
/// use sharedctypes::{Error, Value, share::inherited};
/// let err = inherited::<Value<i32>>("counter").unwrap_err();
/// assert_eq!(err, Error::NotShared { name: "counter".into(), var: "SHAREDCTYPES_SHARED_counter".into() });
/// ```
pub fn inherited<T: Share>(name: &str) -> Result<T> {
    check_name(name)?;
    let var = env_var(name);
    let text = std::env::var(&var).map_err(|_| Error::NotShared {
        name: name.to_string(),
        var,
    })?;
    from_handle(&text)
}
