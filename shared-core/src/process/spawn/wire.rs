//! The messages between a parent, the fork server and a spawned child, as bytes.

use crate::error::{Error, Result};

/// First bytes of a request (`b"SCRQ"`), and the version of this layout.
const MAGIC: u32 = u32::from_le_bytes(*b"SCRQ");
const VERSION: u32 = 4;

/// What the parent asks the fork server for: run this function (by its offset from an anchor
/// in the executable) with these objects (their descriptions, in binary: the encoding of a
/// named object's header, files numbered by slot).
///
/// The descriptors sent with it, in order: the status socket, the lifeline, stdin, stdout,
/// stderr, the write end of the failure report pipe, the parent's working directory, `held`
/// lifelines the parent holds for its own ancestors, then the arenas the handles refer to by
/// slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    pub(super) entry: i64,
    pub(super) tag: u64,
    pub(super) held: u32,
    pub(super) args: Vec<Vec<u8>>,
}

fn bad(what: &str) -> Error {
    Error::InvalidHandle {
        reason: format!("a spawn request {what}"),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.0.len() < n {
            return Err(bad("is truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl Request {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.entry.to_le_bytes());
        out.extend_from_slice(&self.tag.to_le_bytes());
        out.extend_from_slice(&self.held.to_le_bytes());
        out.extend_from_slice(&(self.args.len() as u32).to_le_bytes());
        for a in &self.args {
            put_bytes(&mut out, a);
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Request> {
        let mut r = Reader(bytes);
        if r.u32()? != MAGIC || r.u32()? != VERSION {
            return Err(bad("has the wrong magic number or version"));
        }
        let entry = r.u64()? as i64;
        let tag = r.u64()?;
        let held = r.u32()?;
        let n = r.u32()? as usize;
        let mut args = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            args.push(r.bytes()?);
        }
        if !r.0.is_empty() {
            return Err(bad("has trailing bytes"));
        }
        Ok(Request {
            entry,
            tag,
            held,
            args,
        })
    }
}

/// What the fork server tells the parent about one request, on that request's status socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Forked, with this pid: a child of the parent's.
    Started(i32),
    /// Could not fork: this error number.
    Failed(i32),
}

impl Status {
    pub(super) fn encode(self) -> [u8; 8] {
        let (tag, value) = match self {
            Status::Started(pid) => (1u32, pid),
            Status::Failed(errno) => (2, errno),
        };
        let mut out = [0; 8];
        out[..4].copy_from_slice(&tag.to_le_bytes());
        out[4..].copy_from_slice(&value.to_le_bytes());
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Option<Status> {
        let tag = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
        let value = i32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
        match (tag, bytes.len()) {
            (1, 8) => Some(Status::Started(value)),
            (2, 8) => Some(Status::Failed(value)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_truncation_is_an_error() {
        let req = Request {
            entry: -12345,
            tag: 0xdead_beef,
            held: 2,
            args: vec![b"SHCTYPES".to_vec(), b"x".to_vec()],
        };
        let bytes = req.encode();
        assert_eq!(Request::decode(&bytes).unwrap(), req);
        for cut in 0..bytes.len() {
            assert!(Request::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for status in [Status::Started(42), Status::Failed(11)] {
            assert_eq!(Status::decode(&status.encode()), Some(status));
        }
        assert_eq!(Status::decode(&[1, 0, 0]), None);
    }
}
