//! The ring both queues are built on: a state of atomics, a ring of slots or bytes after
//! it, and a robust `Lock` under which items go in and out.
//!
//! # Why it survives a death
//! Everything that moves an item happens under the lock, and an item becomes visible (or
//! gone) by one store: a put writes its slot (or bytes) past `tail`, then stores the new
//! `tail`; a get reads its item at `head`, then stores the new `head`. A process killed at
//! any instruction leaves `head` and `tail` either before or after its item — never an item
//! half-written and visible, never one taken and still there — and the robust lock passes
//! to the next process with the death recorded, which that process's operation reports
//! ([`Error::ParticipantDied`]) before the queue goes on as usual. Everything else a
//! process does outside the lock (counting itself asleep, waking others) only costs time if
//! it is cut short: sleepers look again every [`RESCUE`] in case the wake-up meant for them
//! went to a process that died before acting on it.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::description::{Description, ElemType, Kind, QUEUE_STATE, queue_layout};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::lock::{Lock, LockGuard};
use crate::os::futex;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;
use crate::sync::state::{AtomicState, Shared};

/// The state at the start of a queue's data part (64 bytes, see `docs/format.md` §6).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct QueueState {
    /// `SQUE` (a `Queue`) or `SBQU` (a `BytesQueue`), checked on receipt against the kind.
    tag: AtomicU32,
    /// 1 once closed.
    closed: AtomicU32,
    /// Units (slots, or bytes) taken out since creation; changed only under the lock.
    head: AtomicU64,
    /// Units put in since creation; changed only under the lock. `tail - head` are in use.
    tail: AtomicU64,
    /// Bumped after every put and by `close`: getters sleep on it.
    items: AtomicU32,
    /// Bumped after every get and by `close`: putters sleep on it.
    space: AtomicU32,
    /// Getters asleep on `items` (a put with nobody asleep makes no system call).
    getters: AtomicU32,
    /// Putters asleep on `space`.
    putters: AtomicU32,
    /// The capacity in units, as created: checked against the description on receipt.
    capacity: AtomicU64,
    /// Zero; for later use.
    reserved: [AtomicU64; 2],
}

const _: () = assert!(core::mem::size_of::<QueueState>() as u64 == QUEUE_STATE);

/// The tag of a `Queue`'s state.
pub(crate) const TAG_QUEUE: u32 = u32::from_le_bytes(*b"SQUE");
/// The tag of a `BytesQueue`'s state.
pub(crate) const TAG_BYTES_QUEUE: u32 = u32::from_le_bytes(*b"SBQU");

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for QueueState {
    // A `Queue`'s; a `BytesQueue`'s is checked with `from_received_as`.
    const TAG: u32 = TAG_QUEUE;
    const WHAT: &'static str = "a queue";
}

/// How long a sleeper sleeps at most before it looks again (see the module docs).
const RESCUE: Duration = Duration::from_millis(100);

/// How long an operation may wait: not at all, until a moment, or for ever.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// Only if it can be done at once.
    No,
    /// Until the deadline (`None`: for ever).
    Until(Option<Instant>),
}

impl Wait {
    pub(crate) fn timeout(d: Duration) -> Wait {
        Wait::Until(Instant::now().checked_add(d))
    }
}

/// A queue's ring: its state and ring of units in one block, and its lock.
#[derive(Debug)]
pub(crate) struct Ring {
    data: Shared<QueueState>,
    lock: Lock,
    /// Where the units start in the data block.
    ring_at: usize,
    /// Capacity in units (slots or bytes): fixed when made or received, never read again
    /// from shared memory.
    capacity: u64,
}

/// Under the lock: the position of the first free unit (`tail`) or the first used one
/// (`head`), and how many units are used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub(crate) pos: u64,
    pub(crate) used: u64,
}

impl Ring {
    /// A new, empty ring in `data` (fresh, zeroed, laid out by [`queue_layout`] for `elem`
    /// and `capacity`), with its `lock`.
    pub(crate) fn create_in(
        data: Block,
        lock: Lock,
        tag: u32,
        elem: Option<&ElemType>,
        capacity: u64,
    ) -> Ring {
        let (ring_at, len, _) = queue_layout(elem, capacity).expect("checked by the caller");
        assert!(data.len() as u64 >= len, "a queue's data part is too short");
        let data = Shared::init_in(data, |s: &QueueState| {
            s.tag.store(tag, Ordering::Relaxed);
            s.capacity.store(capacity, Ordering::Relaxed);
        });
        Ring {
            data,
            lock,
            ring_at: ring_at as usize,
            capacity,
        }
    }

    /// A new ring in the shared heap.
    pub(crate) fn new(tag: u32, elem: Option<&ElemType>, capacity: u64) -> Result<Ring> {
        let (_, len, align) = Self::layout(elem, capacity)?;
        let data = Block::alloc(len, align)?;
        Ok(Self::create_in(data, Lock::new()?, tag, elem, capacity))
    }

    /// The data part's `(ring_at, len, align)`, as sizes of this address space.
    pub(crate) fn layout(elem: Option<&ElemType>, capacity: u64) -> Result<(usize, usize, usize)> {
        let overflow = || Error::SizeOverflow {
            len: capacity as usize,
            elem_size: elem.map_or(1, |e| e.size as usize),
        };
        let (ring_at, len, align) = queue_layout(elem, capacity).ok_or_else(overflow)?;
        let len = usize::try_from(len).map_err(|_| overflow())?;
        Ok((ring_at as usize, len, align as usize))
    }

    /// The ring a description names: its data part and lock checked, its state's tag and
    /// capacity against the description.
    pub(crate) fn receive(
        d: &Description,
        from: &Importer<'_>,
        kind: Kind,
        tag: u32,
    ) -> Result<Ring> {
        d.expect(kind, Some(Lock::mutex()))
            .map_err(crate::share::invalid)?;
        let (ring_at, len, align) = queue_layout(d.elem.as_ref(), d.count)
            .ok_or_else(|| crate::share::invalid(format!("{} overflows", d.what())))?;
        let block = crate::share::data(d, from, len, align)?;
        let data = Shared::<QueueState>::from_received_as(block, tag, &d.what())?;
        let s = data.get();
        let capacity = s.capacity.load(Ordering::Relaxed);
        if capacity != d.count {
            return Err(crate::share::invalid(format!(
                "its state says capacity {capacity}, its description {}",
                d.count
            )));
        }
        Ok(Ring {
            data,
            lock: Lock::import_from(d, from)?,
            ring_at: ring_at as usize,
            capacity,
        })
    }

    /// The description of this ring (`kind`, with `elem` if any) for another process.
    pub(crate) fn export(
        &self,
        kind: Kind,
        elem: Option<ElemType>,
        out: &mut Exporter,
    ) -> Result<Description> {
        let mut d = crate::share::with_data(kind, self.data.block(), out)?;
        d.elem = elem;
        d.count = self.capacity;
        self.lock.export_into(&mut d, out)?;
        Ok(d)
    }

    fn state(&self) -> &QueueState {
        self.data.get()
    }

    /// The first byte of the ring (valid for `capacity` units of the queue's kind: checked
    /// when the ring was made or received).
    pub(crate) fn ring_ptr(&self) -> *mut u8 {
        self.data.block().as_ptr().wrapping_add(self.ring_at)
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Units in use now (clamped to the capacity if another process wrote nonsense).
    pub(crate) fn used(&self) -> u64 {
        let s = self.state();
        // `head` first: it only grows, so `tail` read after it is at least as far along.
        let head = s.head.load(Ordering::Acquire);
        let tail = s.tail.load(Ordering::Acquire);
        tail.wrapping_sub(head).min(self.capacity)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state().closed.load(Ordering::SeqCst) != 0
    }

    /// Closes the ring: every later put fails, gets drain what is left, and every sleeper
    /// is woken to see it.
    pub(crate) fn close(&self) {
        let s = self.state();
        // Under the lock when it can be had, so that no put is half-way through when close
        // returns; the flag alone otherwise (a death stays recorded for the next operation
        // to report).
        let guard = self.lock.acquire();
        s.closed.store(1, Ordering::SeqCst);
        drop(guard);
        s.items.fetch_add(1, Ordering::SeqCst);
        s.space.fetch_add(1, Ordering::SeqCst);
        futex::wake(&s.items, u32::MAX);
        futex::wake(&s.space, u32::MAX);
    }

    /// The lock, taken; a death recorded on it is reported (and cleared: the ring is
    /// consistent whatever instruction the dead process was at).
    fn acquire(&self) -> Result<LockGuard<'_>> {
        let guard = self.lock.acquire()?;
        if guard.owner_died() {
            let pid = guard.dead_owner_pid().unwrap_or(0);
            guard.clear_owner_died();
            return Err(Error::ParticipantDied { pid });
        }
        Ok(guard)
    }

    /// `head` and `tail` under the lock, checked: the reason if another process left them
    /// inconsistent.
    fn ends(&self) -> Result<(u64, u64)> {
        let s = self.state();
        let head = s.head.load(Ordering::Relaxed);
        let tail = s.tail.load(Ordering::Relaxed);
        let used = tail.wrapping_sub(head);
        if used > self.capacity {
            return Err(Error::InvalidHandle {
                reason: format!(
                    "the queue's state is corrupt: {used} units in use (head {head}, tail {tail}) in a capacity of {}",
                    self.capacity
                ),
            });
        }
        Ok((head, tail))
    }

    /// Puts an item of `need` units (at most the capacity): `write` fills them from the
    /// position it is given (under the lock), then they become visible. `Ok(false)` if
    /// there was no room in time.
    pub(crate) fn put(
        &self,
        need: u64,
        wait: Wait,
        write: impl FnOnce(&Self, At) -> Result<()>,
    ) -> Result<bool> {
        debug_assert!(need <= self.capacity);
        let s = self.state();
        let mut write = Some(write);
        loop {
            let guard = self.acquire()?;
            if s.closed.load(Ordering::Relaxed) != 0 {
                return Err(Error::Closed);
            }
            let (head, tail) = self.ends()?;
            let used = tail - head;
            if self.capacity - used >= need {
                let write = write.take().expect("written once");
                write(self, At { pos: tail, used })?;
                s.tail.store(tail.wrapping_add(need), Ordering::Release);
                drop(guard);
                s.items.fetch_add(1, Ordering::SeqCst);
                if s.getters.load(Ordering::SeqCst) != 0 {
                    futex::wake(&s.items, 1);
                }
                return Ok(true);
            }
            // Read under the lock: a get after this changes it.
            let seen = s.space.load(Ordering::SeqCst);
            drop(guard);
            let Wait::Until(deadline) = wait else {
                return Ok(false);
            };
            static SPIN: Budget = Budget::new();
            let room =
                || s.space.load(Ordering::SeqCst) != seen || s.closed.load(Ordering::SeqCst) != 0;
            if !self.sleep(&s.space, seen, &s.putters, deadline, &SPIN, room) {
                // Leaving: a wake-up this putter took may have been meant for another.
                self.pass_on(&s.space, &s.putters, || self.capacity - self.used() >= need);
                return Ok(false);
            }
        }
    }

    /// Gets the item at `head`: `read` reads it (under the lock) and says how many units it
    /// took, then they are freed. `Ok(None)` if there was none in time;
    /// [`Error::Closed`] once closed and empty.
    pub(crate) fn get<R>(
        &self,
        wait: Wait,
        read: impl FnOnce(&Self, At) -> Result<(R, u64)>,
    ) -> Result<Option<R>> {
        let s = self.state();
        let mut read = Some(read);
        loop {
            let guard = self.acquire()?;
            let (head, tail) = self.ends()?;
            let used = tail - head;
            if used > 0 {
                let read = read.take().expect("read once");
                let (item, took) = read(self, At { pos: head, used })?;
                debug_assert!(took > 0 && took <= used);
                s.head.store(head.wrapping_add(took), Ordering::Release);
                drop(guard);
                s.space.fetch_add(1, Ordering::SeqCst);
                if s.putters.load(Ordering::SeqCst) != 0 {
                    futex::wake(&s.space, 1);
                }
                return Ok(Some(item));
            }
            if s.closed.load(Ordering::Relaxed) != 0 {
                return Err(Error::Closed);
            }
            let seen = s.items.load(Ordering::SeqCst);
            drop(guard);
            let Wait::Until(deadline) = wait else {
                return Ok(None);
            };
            static SPIN: Budget = Budget::new();
            let item =
                || s.items.load(Ordering::SeqCst) != seen || s.closed.load(Ordering::SeqCst) != 0;
            if !self.sleep(&s.items, seen, &s.getters, deadline, &SPIN, item) {
                self.pass_on(&s.items, &s.getters, || self.used() > 0);
                return Ok(None);
            }
        }
    }

    /// Waits until `done()` or the deadline (`false` then), sleeping at most [`RESCUE`] at a
    /// time; `true` also when a rescue look is due, for the caller to look under the lock.
    fn sleep(
        &self,
        word: &AtomicU32,
        seen: u32,
        sleepers: &AtomicU32,
        deadline: Option<Instant>,
        budget: &Budget,
        done: impl Fn() -> bool,
    ) -> bool {
        let now = Instant::now();
        let rescue = now + RESCUE;
        let until = match deadline {
            Some(d) if d <= rescue => Some(d),
            _ => Some(rescue),
        };
        if crate::sync::wait_while_equal(word, seen, sleepers, until, budget, &done) {
            return true;
        }
        // Timed out: at the caller's deadline, or only at a rescue look.
        deadline.is_none_or(|d| Instant::now() < d)
    }

    /// Wakes one more sleeper on `word` if `pending()` (the thing they wait for is there)
    /// and one is asleep.
    fn pass_on(&self, word: &AtomicU32, sleepers: &AtomicU32, pending: impl Fn() -> bool) {
        if sleepers.load(Ordering::SeqCst) != 0 && pending() {
            futex::wake(word, 1);
        }
    }
}
