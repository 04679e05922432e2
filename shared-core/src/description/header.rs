//! The binary encoding of a [`Description`]: the header at offset 0 of every named object's
//! file, and each argument of a spawn request. Byte by byte (`docs/format.md` has the same
//! table), all numbers little-endian:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `b"SHCTYPES"` |
//! | 8 | 4 | format version, 2 |
//! | 12 | 4 | state: 0 while being built, 1 once complete (written last) |
//! | 16 | 4 | header length: 104 + the lengths of the three strings below |
//! | 20 | 4 | kind: 1 value, 2 array, 3 lock, 4 condition, 5 event, 6 semaphore, 7 bounded semaphore, 8 barrier, 9 copy |
//! | 24 | 4 | lock: 0 none, 1 a `Lock`, 2 an `RLock` |
//! | 28 | 4 | file of the lock part (0: this file) |
//! | 32 | 8 | layout fingerprint of the element type (0 without one) |
//! | 40 | 8 | element size (0 without) |
//! | 48 | 8 | element alignment (0 without) |
//! | 56 | 8 | count: 1 for a value, the length of an array, else 0 |
//! | 64 | 8 | offset of the lock part (0 without a lock) |
//! | 72 | 8 | offset of the data part (0 without one) |
//! | 80 | 8 | size of the file (0 in a spawn request) |
//! | 88 | 4 | length of the element type's name |
//! | 92 | 4 | length of the layout description |
//! | 96 | 4 | file of the data part (0: this file) |
//! | 100 | 4 | length of the copied value's bytes |
//! | 104 | | the type name, the layout description (UTF-8), the copied value's bytes |

use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use super::{At, Description, ElemType, Kind, Mutex, VERSION};
use crate::heap::Block;

/// The first bytes of every header.
pub(crate) const MAGIC: [u8; 8] = *b"SHCTYPES";
/// Bytes before the strings.
pub(crate) const FIXED: usize = 104;
/// `state` once the object is complete.
pub(crate) const READY: u32 = 1;
/// The most bytes a header may have (its strings are a type's name and layout): refuse
/// more rather than map and copy whatever a forged length says.
pub(crate) const MAX_LEN: usize = 16 << 20;

/// What a header says besides the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) state: u32,
    pub(crate) header_len: usize,
    pub(crate) file_size: u64,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Description {
    /// The header of this description, complete (`state` ready), for a file of `file_size`
    /// bytes (0: not a file).
    pub(crate) fn to_header(&self, file_size: u64) -> Vec<u8> {
        let (name, layout) = match &self.elem {
            Some(e) => (e.name.as_bytes(), e.layout.as_bytes()),
            None => (&[][..], &[][..]),
        };
        let bytes = self.bytes.as_deref().unwrap_or(&[]);
        let len = FIXED + name.len() + layout.len() + bytes.len();
        let mut out = Vec::with_capacity(len);
        let (lock, lock_at) = match self.lock {
            Some((m, at)) => (m.code(), at),
            None => (0, At { file: 0, offset: 0 }),
        };
        let data = self.data.unwrap_or(At { file: 0, offset: 0 });
        let e = self.elem.as_ref();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&READY.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&self.kind.code().to_le_bytes());
        out.extend_from_slice(&lock.to_le_bytes());
        out.extend_from_slice(&(lock_at.file as u32).to_le_bytes());
        for word in [
            e.map_or(0, |e| e.fingerprint),
            e.map_or(0, |e| e.size),
            e.map_or(0, |e| e.align),
            self.count,
            lock_at.offset,
            data.offset,
            file_size,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for word in [
            name.len() as u32,
            layout.len() as u32,
            data.file as u32,
            bytes.len() as u32,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(name);
        out.extend_from_slice(layout);
        out.extend_from_slice(bytes);
        debug_assert_eq!(out.len(), len);
        out
    }

    /// Reads a header: the description and its frame. Checks the syntax (magic, version,
    /// lengths, codes, text), not yet what the parts are (see [`parts`](Self::parts)); the
    /// reason if it is malformed.
    pub(crate) fn from_header(b: &[u8]) -> core::result::Result<(Description, Frame), String> {
        if b.len() < FIXED {
            return Err(format!("it is {} bytes, shorter than a header", b.len()));
        }
        if b[..8] != MAGIC {
            return Err("it does not start with the sharedctypes magic bytes".into());
        }
        let version = u32_at(b, 8);
        if version != VERSION {
            return Err(format!(
                "its format version is {version}, this crate reads version {VERSION}"
            ));
        }
        let frame = Frame {
            state: u32_at(b, 12),
            header_len: u32_at(b, 16) as usize,
            file_size: u64_at(b, 80),
        };
        let (name_len, layout_len, bytes_len) = (
            u32_at(b, 88) as usize,
            u32_at(b, 92) as usize,
            u32_at(b, 100) as usize,
        );
        let strings = name_len + layout_len + bytes_len;
        if FIXED + strings != frame.header_len || frame.header_len > b.len() {
            return Err(format!(
                "its header length {} disagrees with its strings ({FIXED} + {name_len} + {layout_len} + {bytes_len} bytes) or the bytes there are ({})",
                frame.header_len,
                b.len()
            ));
        }
        let kind = Kind::from_code(u32_at(b, 20))
            .ok_or_else(|| format!("it holds an object of unknown kind {}", u32_at(b, 20)))?;
        let lock = match u32_at(b, 24) {
            0 => None,
            1 => Some(Mutex::Lock),
            2 => Some(Mutex::RLock),
            other => return Err(format!("it has a lock of unknown kind {other}")),
        };
        let text = |from: usize, len: usize, what: &str| {
            core::str::from_utf8(&b[from..from + len])
                .map(str::to_string)
                .map_err(|_| format!("its {what} is not UTF-8"))
        };
        let elem = (name_len + layout_len > 0 || u64_at(b, 40) > 0).then(
            || -> core::result::Result<ElemType, String> {
                Ok(ElemType {
                    name: text(FIXED, name_len, "type name")?,
                    size: u64_at(b, 40),
                    align: u64_at(b, 48),
                    fingerprint: u64_at(b, 32),
                    layout: text(FIXED + name_len, layout_len, "layout description")?,
                })
            },
        );
        let elem = elem.transpose()?;
        let data_offset = u64_at(b, 72);
        let description = Description {
            kind,
            elem,
            count: u64_at(b, 56),
            data: kind_has_data(kind).then_some(At {
                file: u64::from(u32_at(b, 96)),
                offset: data_offset,
            }),
            lock: lock.map(|m| {
                (
                    m,
                    At {
                        file: u64::from(u32_at(b, 28)),
                        offset: u64_at(b, 64),
                    },
                )
            }),
            bytes: (kind == Kind::Copy)
                .then(|| b[FIXED + name_len + layout_len..frame.header_len].to_vec()),
        };
        Ok((description, frame))
    }
}

/// Whether objects of `kind` have a data part (their elements, or their state).
fn kind_has_data(kind: Kind) -> bool {
    !matches!(kind, Kind::Lock | Kind::Copy)
}

/// Reads and writes a header in shared memory, one atomic access at a time (another process
/// may map the same bytes).
pub(crate) struct Access<'a> {
    block: &'a Block,
}

impl<'a> Access<'a> {
    pub(crate) fn new(block: &'a Block) -> Self {
        debug_assert!(block.as_ptr() as usize % 8 == 0);
        Access { block }
    }

    fn byte(&self, offset: usize) -> &AtomicU8 {
        assert!(offset < self.block.len(), "inside the header");
        // SAFETY: the byte lies inside the block (asserted), which stays mapped for `'a`;
        // bytes of a header are only accessed atomically.
        unsafe { AtomicU8::from_ptr(self.block.as_ptr().wrapping_add(offset)) }
    }

    fn state(&self) -> &AtomicU32 {
        assert!(16 <= self.block.len(), "inside the header");
        // SAFETY: bytes 12..16 lie inside the block (asserted), which is 8-aligned, so the
        // word is 4-aligned; it is only accessed atomically.
        unsafe { AtomicU32::from_ptr(self.block.as_ptr().wrapping_add(12).cast()) }
    }

    /// A copy of the block's bytes (at most `len`), the state read first with acquire
    /// ordering: everything the creator wrote before marking it ready is in the copy.
    pub(crate) fn read(&self, len: usize) -> Vec<u8> {
        let len = len.min(self.block.len());
        if self.block.len() >= 16 {
            let _ = self.state().load(Ordering::Acquire);
        }
        (0..len)
            .map(|i| self.byte(i).load(Ordering::Relaxed))
            .collect()
    }

    /// Writes a complete header, its state (ready) last, with release ordering: whoever
    /// reads it with acquire ordering sees everything written before.
    pub(crate) fn write(&self, header: &[u8]) {
        for (i, b) in header.iter().enumerate() {
            if !(12..16).contains(&i) {
                self.byte(i).store(*b, Ordering::Relaxed);
            }
        }
        self.state().store(u32_at(header, 12), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_every_cut_is_refused() {
        let mut d = Description::new(Kind::Array);
        d.elem = Some(ElemType::of::<[u16; 3]>());
        d.count = 5;
        d.data = Some(At {
            file: 0,
            offset: 192,
        });
        d.lock = Some((
            Mutex::Lock,
            At {
                file: 0,
                offset: 128,
            },
        ));
        let h = d.to_header(4096);
        let (back, frame) = Description::from_header(&h).unwrap();
        assert_eq!(back, d);
        assert_eq!(
            frame,
            Frame {
                state: READY,
                header_len: h.len(),
                file_size: 4096
            }
        );
        for cut in 0..h.len() {
            assert!(Description::from_header(&h[..cut]).is_err(), "cut at {cut}");
        }
    }
}
