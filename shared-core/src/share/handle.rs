//! The text form of a handle: one line that says where a shared object lies and what it is.

use core::fmt::Write as _;

use crate::error::{Error, Result};

/// The first word of every handle: the format and its version.
pub(crate) const VERSION: &str = "sharedctypes/1";

/// What kind of object a handle describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One value (`RawValue`, or `Value` with a lock).
    Value,
    /// An array (`RawArray`, or `Array` with a lock).
    Array,
    /// A lock on its own.
    Lock,
    /// A plain value, copied into the handle itself.
    Copy,
    /// A condition variable: its state (`data=`) and its lock.
    Condition,
    /// An event: its state (`data=`).
    Event,
    /// A semaphore (bounded or not): its state (`data=`).
    Semaphore,
    /// A barrier: its state (`data=`) and its internal lock.
    Barrier,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Value => "value",
            Kind::Array => "array",
            Kind::Lock => "lock",
            Kind::Copy => "copy",
            Kind::Condition => "condition",
            Kind::Event => "event",
            Kind::Semaphore => "semaphore",
            Kind::Barrier => "barrier",
        }
    }

    fn parse(s: &str) -> Result<Kind> {
        Ok(match s {
            "value" => Kind::Value,
            "array" => Kind::Array,
            "lock" => Kind::Lock,
            "copy" => Kind::Copy,
            "condition" => Kind::Condition,
            "event" => Kind::Event,
            "semaphore" => Kind::Semaphore,
            "barrier" => Kind::Barrier,
            other => return Err(invalid(format!("unknown kind `{other}`"))),
        })
    }
}

/// Where some bytes lie: a descriptor (a number in the receiving process, or a slot of the
/// descriptors sent with the handle) and an offset in the file it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(crate) fd: u64,
    pub(crate) offset: u64,
}

/// A lock inside a handle: recursive or not, and where its cell lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockRef {
    pub(crate) recursive: bool,
    pub(crate) at: Region,
}

/// The type of the elements of a value or array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeInfo {
    pub(crate) name: String,
    pub(crate) size: usize,
    pub(crate) align: usize,
    pub(crate) fingerprint: u64,
    pub(crate) layout: String,
}

/// A parsed handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handle {
    pub(crate) kind: Kind,
    pub(crate) ty: Option<TypeInfo>,
    pub(crate) count: usize,
    pub(crate) data: Option<Region>,
    pub(crate) lock: Option<LockRef>,
    pub(crate) bytes: Option<Vec<u8>>,
}

pub(crate) fn invalid(reason: String) -> Error {
    Error::InvalidHandle { reason }
}

fn encode_name(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn decode_name(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("bad escape in name `{s}`")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("name `{s}` is not UTF-8")))
}

impl Handle {
    /// The handle as one line of text.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!("{VERSION} kind={}", self.kind.name());
        if let Some(ty) = &self.ty {
            out.push_str(" type=");
            encode_name(&ty.name, &mut out);
            let _ = write!(
                out,
                " size={} align={} fingerprint={:016x}",
                ty.size, ty.align, ty.fingerprint
            );
        }
        if self.kind == Kind::Array {
            let _ = write!(out, " count={}", self.count);
        }
        if let Some(r) = self.data {
            let _ = write!(out, " data={}:{}", r.fd, r.offset);
        }
        if let Some(l) = self.lock {
            let kind = if l.recursive { "rlock" } else { "lock" };
            let _ = write!(out, " lock={kind}:{}:{}", l.at.fd, l.at.offset);
        }
        if let Some(bytes) = &self.bytes {
            out.push_str(" bytes=");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
        if let Some(ty) = &self.ty {
            let _ = write!(out, " layout={}", ty.layout);
        }
        out
    }

    /// Parses a handle, checking its syntax (not yet what it points to).
    pub(crate) fn parse(text: &str) -> Result<Handle> {
        let mut words = text.trim_end_matches('\n').split(' ');
        let version = words.next().unwrap_or("");
        if version != VERSION {
            return Err(invalid(format!(
                "it starts with `{version}`, not `{VERSION}` (another program, or another format version)"
            )));
        }
        let mut fields: Vec<(&str, &str)> = Vec::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{word}` is not key=value")))?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(invalid(format!("`{key}` appears twice")));
            }
            fields.push((key, value));
        }
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let number = |key: &str| -> Result<Option<u64>> {
            get(key)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| invalid(format!("{key}={v} is not a number")))
                })
                .transpose()
        };
        let size_of = |key: &str| -> Result<Option<usize>> {
            number(key)?
                .map(|n| usize::try_from(n).map_err(|_| invalid(format!("{key}={n} is too big"))))
                .transpose()
        };
        let region = |v: &str, what: &str| -> Result<Region> {
            let (fd, offset) = v
                .split_once(':')
                .ok_or_else(|| invalid(format!("{what}={v} is not descriptor:offset")))?;
            Ok(Region {
                fd: fd
                    .parse()
                    .map_err(|_| invalid(format!("descriptor `{fd}` in {what}={v}")))?,
                offset: offset
                    .parse()
                    .map_err(|_| invalid(format!("offset `{offset}` in {what}={v}")))?,
            })
        };
        for (key, _) in &fields {
            if !matches!(
                *key,
                "kind"
                    | "type"
                    | "size"
                    | "align"
                    | "fingerprint"
                    | "count"
                    | "data"
                    | "lock"
                    | "bytes"
                    | "layout"
            ) {
                return Err(invalid(format!("unknown field `{key}`")));
            }
        }
        let kind = Kind::parse(get("kind").ok_or_else(|| invalid("no kind".into()))?)?;
        let ty = match get("type") {
            None => None,
            Some(name) => {
                let fingerprint = get("fingerprint")
                    .ok_or_else(|| invalid("a type without a fingerprint".into()))?;
                Some(TypeInfo {
                    name: decode_name(name)?,
                    size: size_of("size")?.ok_or_else(|| invalid("no size".into()))?,
                    align: size_of("align")?.ok_or_else(|| invalid("no align".into()))?,
                    fingerprint: u64::from_str_radix(fingerprint, 16)
                        .map_err(|_| invalid(format!("fingerprint={fingerprint} is not hex")))?,
                    layout: get("layout").unwrap_or("").to_string(),
                })
            }
        };
        let lock = match get("lock") {
            None => None,
            Some(v) => {
                let (kind, at) = v
                    .split_once(':')
                    .ok_or_else(|| invalid(format!("lock={v} is not kind:descriptor:offset")))?;
                let recursive = match kind {
                    "lock" => false,
                    "rlock" => true,
                    other => return Err(invalid(format!("unknown lock kind `{other}`"))),
                };
                Some(LockRef {
                    recursive,
                    at: region(at, "lock")?,
                })
            }
        };
        let bytes = match get("bytes") {
            None => None,
            Some(hex) => {
                if hex.len() % 2 != 0 {
                    return Err(invalid("bytes= has an odd number of hex digits".into()));
                }
                Some(
                    (0..hex.len() / 2)
                        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
                        .collect::<core::result::Result<Vec<u8>, _>>()
                        .map_err(|_| invalid("bytes= is not hex".into()))?,
                )
            }
        };
        Ok(Handle {
            kind,
            ty,
            count: size_of("count")?.unwrap_or(1),
            data: get("data").map(|v| region(v, "data")).transpose()?,
            lock,
            bytes,
        })
    }
}
