//! Compile-time layout fingerprints (64-bit FNV-1a over every layout fact), and the same
//! hash as a [`Hasher`](core::hash::Hasher) for the crate's other fingerprints (the type
//! tag of a spawned function).

use super::{FieldLayout, Layout};

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

const fn bytes(mut hash: u64, data: &[u8]) -> u64 {
    let mut i = 0;
    while i < data.len() {
        hash ^= data[i] as u64;
        hash = hash.wrapping_mul(PRIME);
        i += 1;
    }
    hash
}

const fn word(hash: u64, value: u64) -> u64 {
    bytes(hash, &value.to_le_bytes())
}

/// A string, length-prefixed so that `("ab", "c")` and `("a", "bc")` differ.
const fn text(hash: u64, s: &str) -> u64 {
    bytes(word(hash, s.len() as u64), s.as_bytes())
}

const fn head(tag: &str, name: &str, size: usize, align: usize) -> u64 {
    let hash = text(OFFSET_BASIS, tag);
    let hash = text(hash, name);
    word(word(hash, size as u64), align as u64)
}

pub(super) const fn primitive(name: &str, size: usize, align: usize) -> u64 {
    head("primitive", name, size, align)
}

pub(super) const fn array(elem: &Layout, len: usize, size: usize, align: usize) -> u64 {
    let hash = head("array", "", size, align);
    word(word(hash, len as u64), elem.fingerprint)
}

pub(super) const fn structure(
    name: &str,
    size: usize,
    align: usize,
    fields: &[FieldLayout],
    repr_align: Option<usize>,
) -> u64 {
    let mut hash = head("struct", name, size, align);
    hash = word(
        hash,
        match repr_align {
            Some(n) => n as u64,
            None => 0,
        },
    );
    hash = word(hash, fields.len() as u64);
    let mut i = 0;
    while i < fields.len() {
        let f = &fields[i];
        hash = text(hash, f.name);
        hash = word(hash, f.offset as u64);
        hash = word(hash, f.size as u64);
        hash = text(hash, f.type_name);
        hash = word(hash, f.layout.fingerprint);
        i += 1;
    }
    hash
}

/// 64-bit FNV-1a, the one hash of the crate.
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(OFFSET_BASIS)
    }
}

impl core::hash::Hasher for Fnv {
    fn write(&mut self, data: &[u8]) {
        self.0 = bytes(self.0, data);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
