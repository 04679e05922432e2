//! The files objects lie in: collected, each once, for sending them ([`Exporter`]); found
//! again on receipt ([`Importer`]). (A private module: its items are `pub` only so that the
//! sealed [`Object`](super::sealed::Object) may name them.)

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::description::At;
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::os;

/// How descriptors are named in the descriptions an [`Exporter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbering {
    /// By their position among the descriptors sent with the descriptions
    /// (`Process::spawn`).
    Slots,
    /// By their number, which the receiving program inherits unchanged
    /// (`Process::command`).
    Inherited,
}

/// Collects the descriptors of the files that objects lie in, each once.
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

    /// True when exporting for another program (not this one's spawned children).
    pub(crate) fn for_program(&self) -> bool {
        self.isolated.is_some()
    }

    /// Where `block` lies, with its file's descriptor added to those to send.
    pub(crate) fn at(&mut self, block: &Block) -> Result<At> {
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
        let file = match self.numbering {
            Numbering::Slots => slot as u64,
            Numbering::Inherited => self.fds[slot].as_raw_fd() as u64,
        };
        Ok(At {
            file,
            offset: exported.offset,
        })
    }

    /// The descriptors to send, in slot order.
    pub(crate) fn fds(&self) -> &[OwnedFd] {
        &self.fds
    }
}

/// The files descriptions refer to, in the receiving process.
#[derive(Debug)]
pub enum Importer<'a> {
    /// Received with the descriptions, by position (a spawned child).
    Slots(Vec<OwnedFd>),
    /// Inherited at the numbers the descriptions give (a program).
    Inherited,
    /// The file of a named object, which holds its parts (file 0).
    File(ObjectFile<'a>),
}

/// The file of a named object, with its size and identity as read once (`fstat`) when it was
/// opened or created: every part is imported against that one reading.
#[derive(Debug, Clone, Copy)]
pub struct ObjectFile<'a> {
    fd: BorrowedFd<'a>,
    size: u64,
    key: (u64, u64),
}

impl<'a> ObjectFile<'a> {
    /// `fd`, whose size and identity (device and inode) were just read.
    pub(crate) fn new(fd: BorrowedFd<'a>, size: u64, key: (u64, u64)) -> Self {
        ObjectFile { fd, size, key }
    }

    /// The block of `len` bytes aligned to `align` at `offset`.
    pub(crate) fn block(&self, offset: u64, len: usize, align: usize) -> Result<Block> {
        Block::import_from_object_file(self.fd, (self.size, self.key), offset, len, align)
    }
}

impl Importer<'_> {
    /// The descriptor `file` names.
    fn fd(&self, file: u64) -> Result<BorrowedFd<'_>> {
        let bad = |what: &str| Error::InvalidHandle {
            reason: format!("file {file} {what}"),
        };
        match self {
            Importer::Slots(fds) => usize::try_from(file)
                .ok()
                .and_then(|i| fds.get(i))
                .map(AsFd::as_fd)
                .ok_or_else(|| bad(&format!("was not sent (only {} were)", fds.len()))),
            Importer::Inherited => {
                let raw = i32::try_from(file).map_err(|_| bad("is not a descriptor number"))?;
                os::fd::inherited(raw).ok_or_else(|| bad("is not open in this process"))
            }
            Importer::File(f) if file == 0 => Ok(f.fd),
            Importer::File(_) => Err(bad("is not this object's own file")),
        }
    }

    /// The size of the file `file` names.
    pub(crate) fn size(&self, file: u64) -> Result<u64> {
        if let (Importer::File(f), 0) = (self, file) {
            return Ok(f.size); // a regular file (checked when opened or created)
        }
        let stat = os::memory::stat_of(self.fd(file)?)?;
        if stat.kind != os::memory::FileKind::Regular {
            return Err(Error::InvalidHandle {
                reason: format!("file {file} is not a regular file"),
            });
        }
        Ok(stat.size)
    }

    /// The block of `len` bytes aligned to `align` at `at`.
    pub(crate) fn block(&self, at: At, len: u64, align: u64) -> Result<Block> {
        let len = usize::try_from(len).map_err(|_| Error::InvalidHandle {
            reason: format!("{len} bytes do not fit in this address space"),
        })?;
        let fd = self.fd(at.file)?;
        match self {
            Importer::File(f) => f.block(at.offset, len, align as usize),
            _ => Block::import(fd, at.offset, len, align as usize),
        }
    }
}
