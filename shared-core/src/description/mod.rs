//! One description of a shared object: what it is (its kind, the type of its elements and
//! how many, its kind of lock) and where its parts lie (its data, or a synchronisation
//! primitive's state, and its lock cell), with one validation and two encodings:
//!
//! - a line of text ([`Display`](core::fmt::Display) / [`FromStr`](core::str::FromStr)), in
//!   the environment of a program started with `Process::command`;
//! - a binary header, at offset 0 of a named object's file, and in the requests that start
//!   spawned children.
//!
//! Both are specified byte by byte in `docs/format.md` (with test vectors that the Rust and
//! the Python tests read), so that a program in any language can read them. A named object
//! is "a description at offset 0 of its file, whose parts lie in that file"; an object handed
//! to another process is "a description plus the descriptors of the files its parts lie in".
//!
//! Nothing here trusts what it reads: [`Description::parts`] checks that every part lies
//! inside its file, aligned, and overlaps no other, and the expectations of the receiving
//! process (kind, element type, lock) are checked by [`Description::expect`] and
//! [`Description::expect_elem`] before anything is mapped.
//!
//! (The module is private: its items are `pub` only so that the sealed traits of
//! [`share`](crate::share) may name them.)

mod header;
mod text;
#[cfg(test)]
mod vectors;

use core::fmt;

pub(crate) use header::{Access, FIXED as HEADER_FIXED, MAGIC, MAX_LEN as MAX_HEADER};

use crate::access::SharedLayout;
use crate::error::{Error, Result};

/// The version of both encodings this crate writes and reads.
pub(crate) const VERSION: u32 = 2;

/// The size of a lock cell (see [`lock`](crate::lock)), and its alignment.
pub(crate) const LOCK_CELL: (u64, u64) = (56, 8);

/// What kind of object a description describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One element: `RawValue`, or `Value` with its lock.
    Value,
    /// `count` elements: `RawArray`, or `Array` with its lock.
    Array,
    /// A `Lock` or `RLock` alone (its cell is the lock part).
    Lock,
    /// A `Condition`: its state, and its lock.
    Condition,
    /// An `Event`: its state.
    Event,
    /// A `Semaphore`: its state.
    Semaphore,
    /// A `BoundedSemaphore`: its state.
    BoundedSemaphore,
    /// A `Barrier`: its state, and its internal `Lock`.
    Barrier,
    /// A plain value, copied into the description itself (spawn arguments and programs'
    /// environments only, never a file).
    Copy,
    /// A `Queue`: `count` slots of its element type after its state, and its `Lock`.
    Queue,
    /// A `BytesQueue`: a ring of `count` bytes after its state, and its `Lock`.
    BytesQueue,
}

impl Kind {
    /// Every kind, with its code (in headers) and its name (in text).
    const ALL: [(Kind, u32, &'static str); 11] = [
        (Kind::Value, 1, "value"),
        (Kind::Array, 2, "array"),
        (Kind::Lock, 3, "lock"),
        (Kind::Condition, 4, "condition"),
        (Kind::Event, 5, "event"),
        (Kind::Semaphore, 6, "semaphore"),
        (Kind::BoundedSemaphore, 7, "bounded_semaphore"),
        (Kind::Barrier, 8, "barrier"),
        (Kind::Copy, 9, "copy"),
        (Kind::Queue, 10, "queue"),
        (Kind::BytesQueue, 11, "bytes_queue"),
    ];

    pub(crate) fn code(self) -> u32 {
        Self::ALL.iter().find(|k| k.0 == self).map_or(0, |k| k.1)
    }

    pub(crate) fn from_code(code: u32) -> Option<Kind> {
        Self::ALL.iter().find(|k| k.1 == code).map(|k| k.0)
    }

    /// Whether descriptions of this kind carry a count: of elements (a value, an array), of
    /// slots (a queue) or of bytes (a bytes queue).
    pub(crate) fn has_count(self) -> bool {
        matches!(
            self,
            Kind::Value | Kind::Array | Kind::Queue | Kind::BytesQueue
        )
    }

    pub(crate) fn word(self) -> &'static str {
        Self::ALL.iter().find(|k| k.0 == self).map_or("?", |k| k.2)
    }

    pub(crate) fn from_word(word: &str) -> Option<Kind> {
        Self::ALL.iter().find(|k| k.2 == word).map(|k| k.0)
    }

    /// The size and alignment of the state part of a synchronisation primitive (the data
    /// part of a value or an array depends on its element type and count).
    pub(crate) fn state(self) -> Option<(u64, u64)> {
        match self {
            Kind::Condition => Some((24, 8)),
            Kind::Event | Kind::Semaphore | Kind::BoundedSemaphore => Some((16, 4)),
            Kind::Barrier => Some((24, 4)),
            _ => None,
        }
    }
}

/// The bytes a queue's state takes at the start of its data part.
pub(crate) const QUEUE_STATE: u64 = 256;

/// Where the getters' lock cell lies in a queue's data part (after the state's three cache
/// lines; see `docs/format.md` §6).
pub(crate) const QUEUE_GET_LOCK: u64 = 192;

/// Where a queue's ring (its slots, or its bytes) lies in its data part, how long the data
/// part is and its alignment: `(ring_at, len, align)`. A `Queue` of `count` elements of
/// `elem` puts them at the first multiple of their alignment from [`QUEUE_STATE`]; a
/// `BytesQueue` of `count` bytes (a multiple of 8) puts them at [`QUEUE_STATE`]. `None` if
/// the length overflows.
pub(crate) fn queue_layout(elem: Option<&ElemType>, count: u64) -> Option<(u64, u64, u64)> {
    match elem {
        Some(e) => {
            let ring_at = QUEUE_STATE.max(e.align);
            let len = count.checked_mul(e.size)?.checked_add(ring_at)?;
            Some((ring_at, len, e.align.max(64)))
        }
        None => Some((QUEUE_STATE, count.checked_add(QUEUE_STATE)?, 64)),
    }
}

/// The kind of a lock part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutex {
    /// A `Lock` (error-checking).
    Lock,
    /// An `RLock` (recursive).
    RLock,
}

impl Mutex {
    pub(crate) fn of(recursive: bool) -> Mutex {
        if recursive { Mutex::RLock } else { Mutex::Lock }
    }

    pub(crate) fn code(self) -> u32 {
        match self {
            Mutex::Lock => 1,
            Mutex::RLock => 2,
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Mutex::Lock => "lock",
            Mutex::RLock => "rlock",
        }
    }
}

/// The element type of a value, an array or a copied value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElemType {
    /// The type's name as written (`Point`, `[f64; 4]`).
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) align: u64,
    /// The layout fingerprint ([`Layout::fingerprint`](crate::layout::Layout::fingerprint)).
    pub(crate) fingerprint: u64,
    /// The layout in one line ([`Layout::describe`](crate::layout::Layout::describe)).
    pub(crate) layout: String,
}

impl ElemType {
    /// `T`'s.
    pub(crate) fn of<T: SharedLayout>() -> ElemType {
        ElemType {
            name: T::LAYOUT.type_name(),
            size: core::mem::size_of::<T>() as u64,
            align: core::mem::align_of::<T>() as u64,
            fingerprint: T::LAYOUT.fingerprint,
            layout: T::LAYOUT.describe(),
        }
    }
}

/// Where a part lies: a file (0 for "this file" in a named object's header; a descriptor
/// number or a slot among the descriptors sent otherwise) and the offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub(crate) file: u64,
    pub(crate) offset: u64,
}

/// A description of a shared object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub(crate) kind: Kind,
    /// The element type (a value, an array, a copied value).
    pub(crate) elem: Option<ElemType>,
    /// Elements: 1 for a value, the length of an array; 0 for the other kinds.
    pub(crate) count: u64,
    /// The data part: the elements of a value or an array, the state of a primitive.
    pub(crate) data: Option<At>,
    /// The lock part, and its kind.
    pub(crate) lock: Option<(Mutex, At)>,
    /// The bytes of a copied value.
    pub(crate) bytes: Option<Vec<u8>>,
}

/// One part of an object in a file, for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub(crate) what: &'static str,
    pub(crate) at: At,
    pub(crate) len: u64,
    pub(crate) align: u64,
}

impl Part {
    fn end(&self) -> u64 {
        self.at.offset.saturating_add(self.len)
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "its {} (bytes {}..{})",
            self.what,
            self.at.offset,
            self.end()
        )
    }
}

impl Description {
    /// A description of `kind` with nothing else yet.
    pub(crate) fn new(kind: Kind) -> Description {
        Description {
            kind,
            elem: None,
            count: 0,
            data: None,
            lock: None,
            bytes: None,
        }
    }

    /// What the object is, for messages: "a value of Point", "an RLock", "a Barrier".
    pub(crate) fn what(&self) -> String {
        let with_lock = |what: &str| match self.lock {
            Some((Mutex::Lock, _)) => format!("{what} with a Lock"),
            Some((Mutex::RLock, _)) => format!("{what} with an RLock"),
            None => what.to_string(),
        };
        match self.kind {
            Kind::Value => with_lock("a value"),
            Kind::Array => with_lock("an array"),
            Kind::Lock => match self.lock {
                Some((Mutex::RLock, _)) => "an RLock".into(),
                _ => "a Lock".into(),
            },
            Kind::Condition => with_lock("a Condition"),
            Kind::Event => "an Event".into(),
            Kind::Semaphore => "a Semaphore".into(),
            Kind::BoundedSemaphore => "a BoundedSemaphore".into(),
            Kind::Barrier => "a Barrier".into(),
            Kind::Copy => "a copied value".into(),
            Kind::Queue => "a Queue".into(),
            Kind::BytesQueue => "a BytesQueue".into(),
        }
    }

    /// The parts the description says the object has, each checked for itself: its size
    /// computable, its alignment a power of two (the checks against files are
    /// [`check_files`](Self::check_files)'). The reason if the description is inconsistent
    /// (a part missing, or one too many, or a count that overflows).
    pub(crate) fn parts(&self) -> core::result::Result<Vec<Part>, String> {
        let mut parts = Vec::with_capacity(2);
        let elem = self.elem.as_ref();
        let needs_elem = matches!(
            self.kind,
            Kind::Value | Kind::Array | Kind::Copy | Kind::Queue
        );
        if needs_elem != elem.is_some() {
            return Err(if needs_elem {
                format!("{} without an element type", self.what())
            } else {
                format!("{} with an element type", self.what())
            });
        }
        if let Some(e) = elem {
            if !e.align.is_power_of_two() || e.align > crate::heap::MAX_ALIGN as u64 {
                return Err(format!(
                    "its element alignment {} is not a power of two up to {}",
                    e.align,
                    crate::heap::MAX_ALIGN
                ));
            }
            if e.size % e.align != 0 {
                return Err(format!(
                    "its element size {} is not a multiple of its alignment {}",
                    e.size, e.align
                ));
            }
        }
        let data = match (self.kind, elem) {
            (Kind::Value, Some(e)) => {
                if self.count != 1 {
                    return Err(format!("a value of {} elements", self.count));
                }
                Some((e.size, e.align))
            }
            (Kind::Array, Some(e)) => {
                let len = self.count.checked_mul(e.size).ok_or_else(|| {
                    format!("its {} elements of {} bytes overflow", self.count, e.size)
                })?;
                Some((len, e.align))
            }
            (Kind::Queue, Some(_)) | (Kind::BytesQueue, None) => {
                if self.count == 0 {
                    return Err(format!("{} of capacity 0", self.what()));
                }
                if self.kind == Kind::BytesQueue && self.count % 8 != 0 {
                    return Err(format!(
                        "a BytesQueue of {} bytes, not a multiple of 8",
                        self.count
                    ));
                }
                let (_, len, align) = queue_layout(elem, self.count).ok_or_else(|| {
                    format!("{} of capacity {} overflows", self.what(), self.count)
                })?;
                Some((len, align))
            }
            (kind, _) => kind.state(),
        };
        match (data, self.data) {
            (Some((len, align)), Some(at)) => parts.push(Part {
                what: "data",
                at,
                len,
                align,
            }),
            (None, None) => {}
            (Some(_), None) => return Err(format!("{} without its data", self.what())),
            (None, Some(_)) => return Err(format!("{} with a data part", self.what())),
        }
        let lock = match self.kind {
            Kind::Value | Kind::Array => None, // either way
            Kind::Lock | Kind::Condition | Kind::Barrier | Kind::Queue | Kind::BytesQueue => {
                Some(true)
            }
            _ => Some(false),
        };
        match (lock, self.lock) {
            (Some(false), Some(_)) => return Err(format!("{} with a lock", self.what())),
            (Some(true), None) => return Err(format!("{} without its lock", self.what())),
            _ => {}
        }
        if let Some((_, at)) = self.lock {
            parts.push(Part {
                what: "lock",
                at,
                len: LOCK_CELL.0,
                align: LOCK_CELL.1,
            });
        }
        match (self.kind == Kind::Copy, &self.bytes, elem) {
            (true, Some(bytes), Some(e)) if bytes.len() as u64 != e.size => {
                return Err(format!(
                    "{} bytes for a value of {} bytes",
                    bytes.len(),
                    e.size
                ));
            }
            (true, None, _) => return Err("a copied value without its bytes".into()),
            (false, Some(_), _) => return Err(format!("{} with bytes", self.what())),
            _ => {}
        }
        Ok(parts)
    }

    /// Checks that every part (and `header`, the part a named object's header takes at the
    /// start of its file) lies inside its file (`size_of(file)` bytes), aligned, and
    /// overlaps no other part of the same file (empty parts overlap nothing).
    pub(crate) fn check_files(
        parts: &[Part],
        size_of: impl Fn(u64) -> core::result::Result<u64, String>,
    ) -> core::result::Result<(), String> {
        for part in parts {
            let size = size_of(part.at.file)?;
            if part
                .at
                .offset
                .checked_add(part.len)
                .is_none_or(|end| end > size)
            {
                return Err(format!(
                    "{part} runs past the end of the file ({size} bytes)"
                ));
            }
            if part.at.offset % part.align != 0 {
                return Err(format!("{part} is not aligned to {} bytes", part.align));
            }
        }
        for (i, a) in parts.iter().enumerate() {
            for b in &parts[i + 1..] {
                let apart = a.at.file != b.at.file
                    || a.len == 0
                    || b.len == 0
                    || a.end() <= b.at.offset
                    || b.end() <= a.at.offset;
                if !apart {
                    return Err(format!("{a} overlaps {b}"));
                }
            }
        }
        Ok(())
    }

    /// Checks that the object is of the kind expected, with a lock of the kind expected
    /// (`None`: any lock, or none). The reason if not, naming both kinds.
    pub(crate) fn expect(
        &self,
        kind: Kind,
        lock: Option<Mutex>,
    ) -> core::result::Result<(), String> {
        let mut expected = Description::new(kind);
        expected.lock = lock.map(|m| (m, At { file: 0, offset: 0 }));
        let lock_ok = match (lock, self.lock) {
            (None, _) => true,
            (Some(want), Some((have, _))) => want == have,
            (Some(_), None) => false,
        };
        if self.kind == kind && lock_ok {
            return Ok(());
        }
        if self.kind == kind && matches!(kind, Kind::Value | Kind::Array) {
            let has = |l: Option<(Mutex, At)>| match l {
                Some((Mutex::Lock, _)) => "a Lock",
                Some((Mutex::RLock, _)) => "an RLock",
                None => "no lock",
            };
            return Err(format!(
                "it has {}, not {}",
                has(self.lock),
                has(expected.lock)
            ));
        }
        Err(format!("it holds {}, not {}", self.what(), expected.what()))
    }

    /// Checks that the elements are `T`s: same fingerprint, size and alignment. The one
    /// place a [`Error::LayoutMismatch`] is made, naming both types and layouts.
    pub(crate) fn expect_elem<T: SharedLayout>(&self) -> Result<()> {
        let Some(have) = &self.elem else {
            return Err(Error::InvalidHandle {
                reason: format!("{} has no element type", self.what()),
            });
        };
        let want = ElemType::of::<T>();
        if have.fingerprint == want.fingerprint
            && have.size == want.size
            && have.align == want.align
        {
            return Ok(());
        }
        Err(Error::LayoutMismatch {
            expected: want.name,
            expected_layout: format!("{} ({})", T::LAYOUT.summary(), want.layout),
            found: have.name.clone(),
            found_layout: format!(
                "{} bytes, align {}, fingerprint {:#018x} ({})",
                have.size, have.align, have.fingerprint, have.layout
            ),
        })
    }
}

/// Reads and checks the header of a named object's file of `file_size` bytes, `bytes` being
/// (a copy of) its first bytes, at least the header's declared length: the description,
/// with every part in this file, inside it, aligned and apart from the others and from the
/// header itself. The reason if not.
pub(crate) fn check_named(
    bytes: &[u8],
    file_size: u64,
) -> core::result::Result<Description, String> {
    let (d, frame) = Description::from_header(bytes)?;
    if frame.state != header::READY {
        return Err("its creator has not finished it".into());
    }
    if frame.file_size != file_size {
        return Err(format!(
            "its header gives its size as {} bytes, but the file has {file_size} (truncated or grown by another process?)",
            frame.file_size
        ));
    }
    let mut parts = d.parts()?;
    if parts.iter().any(|p| p.at.file != 0) {
        return Err("it names parts in other files than its own".into());
    }
    parts.insert(
        0,
        Part {
            what: "header",
            at: At { file: 0, offset: 0 },
            len: frame.header_len as u64,
            align: 8,
        },
    );
    Description::check_files(&parts, |_| Ok(file_size))?;
    Ok(d)
}

/// Checks a name given to a shared object (a named object's, or one a program finds with
/// `inherited`): 1 to 200 ASCII letters, digits, `_`, `-` and `.`, not starting with `.`.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: u64, offset: u64) -> At {
        At { file, offset }
    }

    #[test]
    fn parts_lie_inside_their_files_aligned_and_apart() {
        let mut d = Description::new(Kind::Value);
        d.elem = Some(ElemType::of::<u64>());
        d.count = 1;
        d.data = Some(at(0, 192));
        d.lock = Some((Mutex::RLock, at(0, 128)));
        let parts = d.parts().unwrap();
        let size = |_| Ok(4096);
        assert_eq!(Description::check_files(&parts, size), Ok(()));
        d.data = Some(at(0, 136));
        assert_eq!(
            Description::check_files(&d.parts().unwrap(), size),
            Err("its data (bytes 136..144) overlaps its lock (bytes 128..184)".into())
        );
        d.data = Some(at(1, 136)); // another file
        assert_eq!(Description::check_files(&d.parts().unwrap(), size), Ok(()));
        d.data = Some(at(0, 4092));
        assert_eq!(
            Description::check_files(&d.parts().unwrap(), size),
            Err("its data (bytes 4092..4100) runs past the end of the file (4096 bytes)".into())
        );
        d.count = 0;
        assert_eq!(d.parts(), Err("a value of 0 elements".into()));
    }

    #[test]
    fn every_kind_has_its_parts_and_no_other() {
        let mut e = Description::new(Kind::Event);
        assert_eq!(e.parts(), Err("an Event without its data".into()));
        e.data = Some(at(0, 0));
        assert_eq!(e.parts().unwrap().len(), 1);
        e.lock = Some((Mutex::Lock, at(0, 64)));
        assert_eq!(e.parts(), Err("an Event with a lock".into()));
        let mut b = Description::new(Kind::Barrier);
        b.data = Some(at(0, 0));
        assert_eq!(b.parts(), Err("a Barrier without its lock".into()));
        for (kind, code, word) in Kind::ALL {
            assert_eq!(
                (Kind::from_code(code), Kind::from_word(word)),
                (Some(kind), Some(kind))
            );
        }
    }

    #[test]
    fn the_wrong_kind_is_named_with_the_right_one() {
        let mut d = Description::new(Kind::Event);
        d.data = Some(at(0, 0));
        assert_eq!(
            d.expect(Kind::Barrier, Some(Mutex::Lock)),
            Err("it holds an Event, not a Barrier".into())
        );
        let mut v = Description::new(Kind::Value);
        v.lock = Some((Mutex::RLock, at(0, 0)));
        assert_eq!(
            v.expect(Kind::Value, Some(Mutex::Lock)),
            Err("it has an RLock, not a Lock".into())
        );
        assert_eq!(v.expect(Kind::Value, None), Ok(()));
        assert_eq!(
            v.expect(Kind::Array, None),
            Err("it holds a value with an RLock, not an array".into())
        );
    }
}
