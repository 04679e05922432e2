//! The header at the start of every named object: what it is, where its parts are. Its
//! layout is a format other programs (the Python module) read:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `b"SHCTYPES"` |
//! | 8 | 4 | format version, 1 |
//! | 12 | 4 | state: 0 while being built, 1 once complete (written last) |
//! | 16 | 4 | header length in bytes (with the two strings) |
//! | 20 | 4 | kind: 1 a value, 2 an array |
//! | 24 | 4 | lock: 0 none, 1 a `Lock`, 2 an `RLock` |
//! | 28 | 4 | reserved, 0 |
//! | 32 | 8 | layout fingerprint of the element type |
//! | 40 | 8 | element size |
//! | 48 | 8 | element alignment |
//! | 56 | 8 | element count |
//! | 64 | 8 | offset of the lock's 56-byte cell (0 without a lock) |
//! | 72 | 8 | offset of the data |
//! | 80 | 8 | size of the object (file) |
//! | 88 | 4 | length of the type name |
//! | 92 | 4 | length of the layout description |
//! | 96 | | the type name, then the layout description (`Layout::describe`), UTF-8 |
//!
//! All numbers are little-endian.

use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use crate::heap::Block;

/// The first bytes of every named object.
pub(crate) const MAGIC: [u8; 8] = *b"SHCTYPES";
/// The format version this crate writes and reads.
pub(crate) const VERSION: u32 = 1;
/// Bytes before the strings.
pub(crate) const FIXED: usize = 96;
/// `state` once the object is complete.
pub(crate) const READY: u32 = 1;

pub(crate) const KIND_VALUE: u32 = 1;
pub(crate) const KIND_ARRAY: u32 = 2;
pub(crate) const LOCK_NONE: u32 = 0;
pub(crate) const LOCK_LOCK: u32 = 1;
pub(crate) const LOCK_RLOCK: u32 = 2;

/// The fields of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) state: u32,
    pub(crate) header_len: usize,
    pub(crate) kind: u32,
    pub(crate) lock: u32,
    pub(crate) fingerprint: u64,
    pub(crate) elem_size: u64,
    pub(crate) elem_align: u64,
    pub(crate) count: u64,
    pub(crate) lock_offset: u64,
    pub(crate) data_offset: u64,
    pub(crate) total: u64,
    pub(crate) type_name: String,
    pub(crate) layout: String,
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

    fn at(&self, offset: usize, size: usize) -> *mut u8 {
        assert!(offset + size <= self.block.len(), "inside the header");
        self.block.as_ptr().wrapping_add(offset)
    }

    pub(crate) fn u8(&self, offset: usize) -> &AtomicU8 {
        // SAFETY: the byte lies inside the block (asserted by `at`), which stays mapped for
        // `'a`; bytes of a header are only accessed atomically.
        unsafe { AtomicU8::from_ptr(self.at(offset, 1)) }
    }

    pub(crate) fn u32(&self, offset: usize) -> &AtomicU32 {
        debug_assert!(offset % 4 == 0);
        // SAFETY: in bounds (asserted by `at`) and 4-aligned (the block is 8-aligned and
        // every u32 field is at a multiple of 4); only accessed atomically.
        unsafe { AtomicU32::from_ptr(self.at(offset, 4).cast()) }
    }

    pub(crate) fn u64(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset % 8 == 0);
        // SAFETY: in bounds (asserted by `at`) and 8-aligned (the block is 8-aligned and
        // every u64 field is at a multiple of 8); only accessed atomically.
        unsafe { AtomicU64::from_ptr(self.at(offset, 8).cast()) }
    }

    fn bytes(&self, offset: usize, len: usize) -> Vec<u8> {
        (offset..offset + len)
            .map(|i| self.u8(i).load(Ordering::Relaxed))
            .collect()
    }

    /// Writes a complete header, state last (`READY`, with release ordering: whoever reads
    /// it with acquire ordering sees everything written before).
    pub(crate) fn write(&self, h: &Header) {
        let r = Ordering::Relaxed;
        for (i, b) in MAGIC.iter().enumerate() {
            self.u8(i).store(*b, r);
        }
        self.u32(8).store(h.version, r);
        self.u32(16).store(h.header_len as u32, r);
        self.u32(20).store(h.kind, r);
        self.u32(24).store(h.lock, r);
        self.u32(28).store(0, r);
        self.u64(32).store(h.fingerprint, r);
        self.u64(40).store(h.elem_size, r);
        self.u64(48).store(h.elem_align, r);
        self.u64(56).store(h.count, r);
        self.u64(64).store(h.lock_offset, r);
        self.u64(72).store(h.data_offset, r);
        self.u64(80).store(h.total, r);
        self.u32(88).store(h.type_name.len() as u32, r);
        self.u32(92).store(h.layout.len() as u32, r);
        for (i, b) in h.type_name.bytes().chain(h.layout.bytes()).enumerate() {
            self.u8(FIXED + i).store(b, r);
        }
        self.u32(12).store(h.state, Ordering::Release);
    }

    /// The magic bytes.
    pub(crate) fn magic(&self) -> [u8; 8] {
        core::array::from_fn(|i| self.u8(i).load(Ordering::Relaxed))
    }

    /// The fixed fields (strings empty), state first (acquire).
    pub(crate) fn read_fixed(&self) -> Header {
        let state = self.u32(12).load(Ordering::Acquire);
        let r = Ordering::Relaxed;
        Header {
            version: self.u32(8).load(r),
            state,
            header_len: self.u32(16).load(r) as usize,
            kind: self.u32(20).load(r),
            lock: self.u32(24).load(r),
            fingerprint: self.u64(32).load(r),
            elem_size: self.u64(40).load(r),
            elem_align: self.u64(48).load(r),
            count: self.u64(56).load(r),
            lock_offset: self.u64(64).load(r),
            data_offset: self.u64(72).load(r),
            total: self.u64(80).load(r),
            type_name: String::new(),
            layout: String::new(),
        }
    }

    /// The lengths of the two strings.
    pub(crate) fn string_lens(&self) -> (usize, usize) {
        (
            self.u32(88).load(Ordering::Relaxed) as usize,
            self.u32(92).load(Ordering::Relaxed) as usize,
        )
    }

    /// The two strings (checked to lie in the block by the caller), lossily as UTF-8.
    pub(crate) fn strings(&self, name_len: usize, layout_len: usize) -> (String, String) {
        let bytes = self.bytes(FIXED, name_len + layout_len);
        let (name, layout) = bytes.split_at(name_len);
        (
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(layout).into_owned(),
        )
    }
}
