//! Blocks that cross a process boundary other than `fork`: exporting a block (its arena's
//! memfd and its offset) to send it, importing one received from another process (mapping
//! that arena once, however many objects come from it), and the lifelines that keep the
//! quarantine right for processes started from this one by other means than a fork.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Weak};

use super::lifeline::{self, Lifeline};
use super::{Block, Origin, heap_lock};
use crate::error::{Error, Result};
use crate::os::memory::{Mapping, budget_left, file_info, page_size};

/// Another process's arena, mapped into this one.
#[derive(Debug)]
pub(crate) struct Received {
    map: Mapping,
    fd: OwnedFd,
    key: (u64, u64),
    /// The file holds the parts of one object only (a named object).
    one_object: core::sync::atomic::AtomicBool,
}

impl Received {
    /// True if the file holds nothing but the parts of one object, or nothing but the block
    /// of `len` bytes at `addr`.
    pub(super) fn alone(&self, addr: usize, len: usize) -> bool {
        self.one_object.load(core::sync::atomic::Ordering::Relaxed)
            || (addr == self.map.base().as_ptr() as usize
                && len.next_multiple_of(page_size()) >= self.map.len())
    }
}

/// An arena this process inherited through `fork` from one of its ancestors: still mapped,
/// its memfd still open (never closed), but no longer in any heap of this process.
pub(super) struct Inherited {
    pub(super) base: usize,
    pub(super) size: usize,
    pub(super) fd: RawFd,
    /// The arena held one block only.
    pub(super) dedicated: bool,
}

/// Where a block lies, for sending: a duplicate of its arena's memfd, and its offset in it.
#[derive(Debug)]
pub(crate) struct Exported {
    pub(crate) fd: OwnedFd,
    pub(crate) offset: u64,
}

fn dup(fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    fd.try_clone_to_owned()
        .map_err(|e| Error::os("dup (an arena's memfd)", e.raw_os_error().unwrap_or(0)))
}

impl Block {
    /// Its arena's memfd (a duplicate) and its offset in it, to send the block to another
    /// process.
    pub(crate) fn export(&self) -> Result<Exported> {
        let addr = self.ptr.as_ptr() as usize;
        match &self.origin {
            Origin::Part(whole) => {
                let whole = whole.whole();
                let of_whole = whole.export()?;
                Ok(Exported {
                    fd: of_whole.fd,
                    offset: of_whole.offset + (addr - whole.as_ptr() as usize) as u64,
                })
            }
            Origin::Received(received) => Ok(Exported {
                fd: dup(received.fd.as_fd())?,
                offset: (addr - received.map.base().as_ptr() as usize) as u64,
            }),
            Origin::Heap { home, .. } if self.is_owned() => {
                let heap = heap_lock();
                let (base, fd) = heap.arena_fd(heap.arena_of(*home));
                Ok(Exported {
                    fd: dup(fd)?,
                    offset: (addr - base) as u64,
                })
            }
            Origin::Heap { .. } => {
                let heap = heap_lock();
                let arena = heap
                    .inherited
                    .iter()
                    .find(|a| (a.base..a.base + a.size).contains(&addr))
                    .ok_or(Error::os("export an inherited block", crate::os::EBADF))?;
                // SAFETY: inherited arenas' memfds are never closed (see `fork::child`), so
                // the descriptor is open for as long as this borrow.
                let fd = unsafe { BorrowedFd::borrow_raw(arena.fd) };
                Ok(Exported {
                    fd: dup(fd)?,
                    offset: (addr - arena.base) as u64,
                })
            }
        }
    }

    /// The block of `len` bytes at `offset` in the shared-memory file `fd` (an arena of
    /// another process), aligned to `align`. Maps the file unless a block of it is already
    /// mapped here. The file's real size bounds the block: a handle that says otherwise is
    /// an error, never an access outside the mapping.
    pub(crate) fn import(
        fd: BorrowedFd<'_>,
        offset: u64,
        len: usize,
        align: usize,
    ) -> Result<Block> {
        let (size, key) = file_info(fd)?;
        Self::import_known(fd, (size, key), offset, len, align)
    }

    /// [`import`](Block::import) from a file whose size and identity (device and inode)
    /// the caller has just read (`fstat`), once for all the parts it imports.
    fn import_known(
        fd: BorrowedFd<'_>,
        (size, key): (u64, (u64, u64)),
        offset: u64,
        len: usize,
        align: usize,
    ) -> Result<Block> {
        let invalid = |reason: String| Error::InvalidHandle { reason };
        let end = offset
            .checked_add(len as u64)
            .filter(|&end| end <= size)
            .ok_or_else(|| {
                invalid(format!(
                    "{len} bytes at offset {offset} do not lie inside the shared memory they name ({size} bytes)"
                ))
            })?;
        let _ = end;
        if !align.is_power_of_two() || offset % align as u64 != 0 {
            return Err(invalid(format!(
                "offset {offset} is not aligned to {align} bytes, the alignment of the type"
            )));
        }
        let received = received(fd, size, key)?;
        let ptr = received.map.base().as_ptr().wrapping_add(offset as usize);
        let ptr = core::ptr::NonNull::new(ptr).expect("inside a mapping");
        Ok(Block {
            ptr,
            len,
            span: len,
            origin: Origin::Received(received),
        })
    }
}

impl Block {
    /// [`import`](Block::import) from the file of a named object, which holds the parts of
    /// that one object only; `file` is its size and identity, as just read (`fstat`).
    pub(crate) fn import_from_object_file(
        fd: BorrowedFd<'_>,
        file: (u64, (u64, u64)),
        offset: u64,
        len: usize,
        align: usize,
    ) -> Result<Block> {
        let block = Block::import_known(fd, file, offset, len, align)?;
        if let Origin::Received(received) = &block.origin {
            received
                .one_object
                .store(true, core::sync::atomic::Ordering::Relaxed);
        }
        Ok(block)
    }
}

/// The mapping of the shared-memory file `fd` (identified by `key`), made now or found among
/// those alive.
fn received(fd: BorrowedFd<'_>, size: u64, key: (u64, u64)) -> Result<Arc<Received>> {
    let mut heap = heap_lock();
    heap.received.retain(|w| w.strong_count() > 0);
    if let Some(found) = heap
        .received
        .iter()
        .filter_map(Weak::upgrade)
        .find(|r| r.key == key && r.map.len() as u64 >= size)
    {
        return Ok(found);
    }
    let map = Mapping::shared(fd, 0, mappable(size)?)?;
    let received = Arc::new(Received {
        map,
        fd: dup(fd)?,
        key,
        one_object: core::sync::atomic::AtomicBool::new(false),
    });
    heap.received.push(Arc::downgrade(&received));
    Ok(received)
}

/// `size` as the length of a mapping, if it is one and fits the budget of mapped memory.
fn mappable(size: u64) -> Result<usize> {
    let len = usize::try_from(size)
        .ok()
        .filter(|&l| l > 0)
        .ok_or_else(|| Error::InvalidHandle {
            reason: format!("the shared memory it names has {size} bytes"),
        })?;
    let available = budget_left();
    if size.next_multiple_of(page_size() as u64) > available {
        return Err(Error::OutOfMemory {
            requested: len,
            available,
        });
    }
    Ok(len)
}

/// A file this process has just made for one object (a named object being built), mapped:
/// the blocks [`Block::import_from_object_file`] makes of it share this mapping, which keeps
/// `fd` itself (no duplicate) to hand the object on.
#[derive(Debug)]
pub(crate) struct MadeFile(Arc<Received>);

impl MadeFile {
    /// Maps `fd`, `size` bytes identified by `key` (as just read with `fstat`).
    pub(crate) fn map(fd: OwnedFd, size: u64, key: (u64, u64)) -> Result<MadeFile> {
        let mut heap = heap_lock();
        let map = Mapping::shared(fd.as_fd(), 0, mappable(size)?)?;
        let received = Arc::new(Received {
            map,
            fd,
            key,
            one_object: core::sync::atomic::AtomicBool::new(true),
        });
        heap.received.retain(|w| w.strong_count() > 0);
        heap.received.push(Arc::downgrade(&received));
        Ok(MadeFile(received))
    }

    /// The file's descriptor.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.0.fd.as_fd()
    }
}

/// A new lifeline for a process started from this one without a fork (a spawned child): the
/// write end, for the child to hold for as long as it (and whatever it starts) runs. Blocks
/// allocated until now and freed while it is open are quarantined, as for a fork. `None` if
/// no pipe could be made (then those blocks stay quarantined for good).
pub(crate) fn new_lifeline() -> Option<OwnedFd> {
    let mut heap = heap_lock();
    lifeline::prune(&mut heap.lifelines);
    let (read, write) = match lifeline::pipe() {
        Some((read, write)) => (Some(read), Some(write)),
        None => (None, None),
    };
    let epoch = heap.epoch;
    heap.lifelines.push(Lifeline::new(epoch, read));
    heap.epoch += 1;
    write
}

/// Duplicates of the lifeline write ends this process holds for its ancestors, to hand on to
/// a process it starts: what that process receives from here may be an ancestor's.
pub(crate) fn held_lifelines() -> Vec<OwnedFd> {
    let heap = heap_lock();
    heap.held
        .iter()
        // SAFETY: held lifeline descriptors are never closed (see `hold_lifelines` and
        // `fork::child`), so each is open for the duration of this borrow.
        .filter_map(|&fd| dup(unsafe { BorrowedFd::borrow_raw(fd) }).ok())
        .collect()
}

/// Keeps lifeline write ends received from the process that started this one open for as
/// long as this process runs (and hands them on to what it starts).
pub(crate) fn hold_lifelines(fds: Vec<OwnedFd>) {
    let mut heap = heap_lock();
    heap.held
        .extend(fds.into_iter().map(IntoRawFd::into_raw_fd));
}

impl super::Heap {
    /// Base address and memfd of one of this heap's arenas.
    fn arena_fd(&self, id: u32) -> (usize, BorrowedFd<'_>) {
        let arena = self.fit.arena(id);
        (arena.base().as_ptr() as usize, arena.fd())
    }

    /// What a forked child keeps of its parent's heap: every arena (still mapped, memfd still
    /// open), the arenas the parent had inherited itself, the arenas it had received, and the
    /// lifelines it held.
    pub(super) fn bequeath(&mut self, to: &mut super::Heap) {
        to.inherited = std::mem::take(&mut self.inherited);
        to.inherited
            .extend(self.fit.mapped().map(|(_, a)| Inherited {
                base: a.base().as_ptr() as usize,
                size: a.size(),
                fd: a.fd().as_raw_fd(),
                dedicated: a.dedicated,
            }));
        to.received = std::mem::take(&mut self.received);
        to.held = std::mem::take(&mut self.held);
    }
}
