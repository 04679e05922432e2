//! Sending shared objects to other processes: to a child started with
//! [`Process::spawn`](crate::Process::spawn) (the objects arrive as the function's
//! arguments), or to any program started with [`Process::command`](crate::Process::command)
//! (which finds them with [`inherited`]).
//!
//! What travels is a *description* of the object, not its data: its kind, the type of its
//! elements (name, size, alignment, layout fingerprint), and where its parts lie (its data or
//! state, its lock): which file (a memfd, passed as a descriptor) and where in it. The
//! receiving process maps each file once, however many objects it receives from it, and
//! unmaps it when the last of them drops; it never frees the sender's memory. It checks
//! everything before any access: every part must lie inside its file, aligned, and overlap
//! no other; the kind and the lock must be the ones expected; the element type's fingerprint
//! must match ([`Error::LayoutMismatch`] names both types and layouts). Anything malformed,
//! forged, truncated or out of range is [`Error::InvalidHandle`].
//!
//! # The format
//!
//! A program started with `Process::command` finds each shared object in an environment
//! variable `SHAREDCTYPES_SHARED_<name>`, one line of space-separated words that a short
//! script in any language can read:
//!
//! ```text
//! sharedctypes/2 kind=array type=Point size=16 align=8 fingerprint=ac160217e9db6e08 count=3 data=5:0 lock=rlock:6:0 layout=Point(16,8){x@0:f64=f64,y@8:f64=f64}
//! ```
//!
//! `data=` and `lock=` name a descriptor open in the program and the offset in the file it
//! refers to (map the file, `MAP_SHARED`). The same description, in binary, heads every named
//! object's file. Both are specified byte by byte, with test vectors, in `docs/format.md`.
//!
//! The program receives the descriptors of the files the objects lie in, and no other
//! descriptor of the parent (they stay close-on-exec). It can read and write every byte of
//! those files, so an object for another program must lie in a file of its own: created
//! inside [`heap::isolated`](crate::heap::isolated), or by name
//! ([`named`](crate::named)). `share` refuses any other ([`Error::NotIsolated`]). Such
//! files are sealed against shrinking and growing: the program cannot truncate them under
//! the parent's feet.

mod copy;
mod files;

pub(crate) use files::{Exporter, Importer, Numbering, ObjectFile};

use crate::description::{At, Description, check_name};
use crate::error::{Error, Result};

/// Objects that can be sent to another process: [`RawValue`](crate::RawValue),
/// [`RawArray`](crate::RawArray), [`Value`](crate::Value) and [`Array`](crate::Array) with
/// either lock, [`Lock`](crate::Lock), [`RLock`](crate::RLock), the synchronization
/// primitives ([`Condition`](crate::Condition), [`Event`](crate::Event),
/// [`Semaphore`](crate::Semaphore), [`BoundedSemaphore`](crate::BoundedSemaphore),
/// [`Barrier`](crate::Barrier)), and plain [`SharedLayout`](crate::SharedLayout) values
/// (copied). Sealed: how an object is described and rebuilt is this crate's business.
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
pub trait Share: Sized + sealed::Object {}

impl<T: sealed::Object> Share for T {}

pub(crate) mod sealed {
    use super::{Exporter, Importer};
    use crate::description::Description;
    use crate::error::Result;

    /// How each kind of object is described for another process, and rebuilt from a
    /// description (whose parts [`receive`](super::receive) has checked).
    pub trait Object: Sized {
        /// The object's description, its files added to `out`.
        fn export(&self, out: &mut Exporter) -> Result<Description>;
        /// The object `d` describes, its files found in `from`.
        fn import(d: &Description, from: &Importer<'_>) -> Result<Self>;
    }
}

/// The object `d` describes, its files in `from`: every part is checked to lie inside its
/// file, aligned, apart from the others (and from `header`, the bytes a named object's own
/// header takes), before the object is rebuilt.
pub(crate) fn receive<T: Share>(
    d: &Description,
    from: &Importer<'_>,
    header: Option<u64>,
) -> Result<T> {
    let invalid = |reason: String| Error::InvalidHandle { reason };
    let mut parts = d.parts().map_err(invalid)?;
    if let Some(len) = header {
        parts.insert(
            0,
            crate::description::Part {
                what: "header",
                at: At { file: 0, offset: 0 },
                len,
                align: 8,
            },
        );
    }
    Description::check_files(&parts, |file| {
        from.size(file).map_err(|e| match e {
            Error::InvalidHandle { reason } => reason,
            e => e.to_string(),
        })
    })
    .map_err(invalid)?;
    T::import(d, from)
}

pub(crate) fn invalid(reason: String) -> Error {
    Error::InvalidHandle { reason }
}

/// The data part a description names (present: [`receive`] checked the parts), `len` bytes
/// aligned to `align`.
pub(crate) fn data(
    d: &Description,
    from: &Importer<'_>,
    len: u64,
    align: u64,
) -> Result<crate::heap::Block> {
    let at = d
        .data
        .ok_or_else(|| invalid(format!("{} without its data", d.what())))?;
    from.block(at, len, align)
}

/// A description of `kind` whose data part is `block`.
pub(crate) fn with_data(
    kind: crate::description::Kind,
    block: &crate::heap::Block,
    out: &mut Exporter,
) -> Result<Description> {
    let mut d = Description::new(kind);
    d.data = Some(out.at(block)?);
    Ok(d)
}

/// The environment variable that carries the description of the object shared as `name`.
pub(crate) fn env_var(name: &str) -> String {
    format!("SHAREDCTYPES_SHARED_{name}")
}

/// The object a description line describes, in a program that inherited the descriptors it
/// names (at the numbers it gives): for a line that came by other means than the environment
/// — an argument, a file, a pipe.
///
/// # Errors
/// As for [`inherited`], but for [`Error::NotShared`].
///
/// ```
/// use sharedctypes::{Error, RawValue, share::from_handle};
/// let err = from_handle::<RawValue<i32>>("sharedctypes/2 kind=value").unwrap_err();
/// assert!(matches!(err, Error::InvalidHandle { .. }));
/// ```
pub fn from_handle<T: Share>(line: &str) -> Result<T> {
    receive(&line.parse::<Description>()?, &Importer::Inherited, None)
}

/// The object the parent shared as `name` with [`Process::command`](crate::Process::command)
/// (`.share(name, &obj)`), in a program started that way.
///
/// # Errors
/// [`Error::NotShared`] if there is no such object; [`Error::InvalidName`] for a name that
/// could not have been shared; [`Error::LayoutMismatch`] if it has another type;
/// [`Error::InvalidHandle`] if its description is malformed or names memory it may not.
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
