//! The text encoding of a [`Description`]: one line of space-separated `key=value` words,
//! as a program started with `Process::command` finds it in its environment
//! (`docs/format.md` specifies it):
//!
//! ```text
//! sharedctypes/2 kind=array type=Point size=16 align=8 fingerprint=ac160217e9db6e08 count=3 data=5:0 lock=rlock:6:0 layout=Point(16,8){x@0:f64=f64,y@8:f64=f64}
//! ```
//!
//! The words after the version may come in any order, each at most once: `kind`; for an
//! element type `type` (percent-encoded: bytes outside `[A-Za-z0-9_]` as `%XX`), `size`,
//! `align`, `fingerprint` (16 hex digits) and `layout`; `count`; `data=FILE:OFFSET`;
//! `lock=KIND:FILE:OFFSET` (`lock` or `rlock`); `bytes=HEX` for a copied value.

use core::fmt::{self, Write as _};
use core::str::FromStr;

use super::{At, Description, ElemType, Kind, Mutex, VERSION};
use crate::error::Error;

/// The first word of every line.
fn version_word() -> String {
    format!("sharedctypes/{VERSION}")
}

fn invalid(reason: String) -> Error {
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

fn decode_name(s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
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

/// A decimal number made of ASCII digits only (no sign, no `+`).
fn number(key: &str, v: &str) -> Result<u64, Error> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return Err(invalid(format!("{key}={v} is not a number")));
    }
    v.parse::<u64>()
        .map_err(|_| invalid(format!("{key}={v} is too big")))
}

fn location(key: &str, v: &str) -> Result<At, Error> {
    let (file, offset) = v
        .split_once(':')
        .ok_or_else(|| invalid(format!("{key}={v} is not file:offset")))?;
    Ok(At {
        file: number(&format!("the file in {key}"), file)?,
        offset: number(&format!("the offset in {key}"), offset)?,
    })
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = format!("{} kind={}", version_word(), self.kind.word());
        if let Some(e) = &self.elem {
            out.push_str(" type=");
            encode_name(&e.name, &mut out);
            let _ = write!(
                out,
                " size={} align={} fingerprint={:016x}",
                e.size, e.align, e.fingerprint
            );
        }
        if self.kind.has_count() {
            let _ = write!(out, " count={}", self.count);
        }
        if let Some(at) = self.data {
            let _ = write!(out, " data={}:{}", at.file, at.offset);
        }
        if let Some((m, at)) = self.lock {
            let _ = write!(out, " lock={}:{}:{}", m.word(), at.file, at.offset);
        }
        if let Some(bytes) = &self.bytes {
            out.push_str(" bytes=");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
        if let Some(e) = &self.elem {
            let _ = write!(out, " layout={}", e.layout);
        }
        f.write_str(&out)
    }
}

impl FromStr for Description {
    type Err = Error;

    /// Parses a line, checking its syntax (not yet what its parts are: see
    /// [`parts`](Description::parts)).
    fn from_str(text: &str) -> Result<Description, Error> {
        let mut words = text.trim_end_matches('\n').split(' ');
        let version = words.next().unwrap_or("");
        if version != version_word() {
            return Err(invalid(format!(
                "it starts with `{version}`, not `{}` (another program, or another format version)",
                version_word()
            )));
        }
        let mut fields: Vec<(&str, &str)> = Vec::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{word}` is not key=value")))?;
            if !matches!(
                key,
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
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(invalid(format!("`{key}` appears twice")));
            }
            fields.push((key, value));
        }
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let kind_word = get("kind").ok_or_else(|| invalid("no kind".into()))?;
        let kind = Kind::from_word(kind_word)
            .ok_or_else(|| invalid(format!("unknown kind `{kind_word}`")))?;
        let elem = match get("type") {
            None => None,
            Some(name) => {
                let field =
                    |key: &str| get(key).ok_or_else(|| invalid(format!("a type without {key}=")));
                let fingerprint = field("fingerprint")?;
                if fingerprint.len() != 16 || !fingerprint.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(invalid(format!(
                        "fingerprint={fingerprint} is not 16 hex digits"
                    )));
                }
                Some(ElemType {
                    name: decode_name(name)?,
                    size: number("size", field("size")?)?,
                    align: number("align", field("align")?)?,
                    fingerprint: u64::from_str_radix(fingerprint, 16)
                        .map_err(|_| invalid(format!("fingerprint={fingerprint} is not hex")))?,
                    layout: field("layout")?.to_string(),
                })
            }
        };
        let lock = match get("lock") {
            None => None,
            Some(v) => {
                let (m, at) = v
                    .split_once(':')
                    .ok_or_else(|| invalid(format!("lock={v} is not kind:file:offset")))?;
                let m = match m {
                    "lock" => Mutex::Lock,
                    "rlock" => Mutex::RLock,
                    other => return Err(invalid(format!("unknown lock kind `{other}`"))),
                };
                Some((m, location("lock", at)?))
            }
        };
        let bytes = match get("bytes") {
            None => None,
            Some(hex) => {
                if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(invalid("bytes= is not an even number of hex digits".into()));
                }
                Some(
                    (0..hex.len() / 2)
                        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
                        .collect(),
                )
            }
        };
        let count = match (kind.has_count(), get("count")) {
            (true, Some(v)) => number("count", v)?,
            (true, None) => {
                return Err(invalid(format!("{} without count=", kind.word())));
            }
            (false, Some(v)) => {
                return Err(invalid(format!(
                    "count={v}, but only a value, an array or a queue has a count, not kind={}",
                    kind.word()
                )));
            }
            (_, None) => 0,
        };
        Ok(Description {
            kind,
            elem,
            count,
            data: get("data").map(|v| location("data", v)).transpose()?,
            lock,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips() {
        let mut d = Description::new(Kind::Value);
        d.elem = Some(ElemType::of::<[u8; 2]>());
        d.count = 1;
        d.data = Some(At { file: 5, offset: 8 });
        d.lock = Some((Mutex::RLock, At { file: 6, offset: 0 }));
        let line = d.to_string();
        assert!(line.starts_with("sharedctypes/2 kind=value type=%5Bu8%3B%202%5D size=2 align=1 "));
        assert_eq!(line.parse::<Description>().unwrap(), d);
        let mut c = Description::new(Kind::Copy);
        c.elem = Some(ElemType::of::<u16>());
        c.bytes = Some(vec![1, 0xab]);
        assert!(c.to_string().contains(" bytes=01ab "));
        assert_eq!(c.to_string().parse::<Description>().unwrap(), c);
    }
}
