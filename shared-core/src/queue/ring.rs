//! The ring both queues are built on: a state of atomics, a ring of slots or bytes after
//! it, and two robust `Lock`s: one under which items go in (the queue's lock part), one
//! under which they come out (a lock cell inside the state).
//!
//! # Why two locks
//! A producer and a consumer never touch the same lock, nor (mostly) the same cache line:
//! the producers' words (`tail`, their last look at `head`) and the consumers' (`head`,
//! their last look at `tail`) sit on lines of their own, and each side reads the other's
//! word only when its own last look says the ring is full (or empty), or holds less than a
//! batch wants. With one producer and
//! one consumer, each lock stays in its own process's cache.
//!
//! # Why it survives a death
//! Everything that moves an item happens under its side's lock, and an item becomes
//! visible (or gone) by one store: a put writes its slot (or bytes) past `tail`, then stores
//! the new `tail`; a get reads its item at `head`, then stores the new `head`. A process
//! killed at any instruction leaves `head` and `tail` either before or after its item —
//! never an item half-written and visible, never one taken and still there — and the robust
//! lock passes to the next process of that side with the death recorded, which that
//! process's operation reports ([`Error::ParticipantDied`]) before the queue goes on as
//! usual. Everything else a process does outside the locks (counting itself asleep, waking
//! others) only costs time if it is cut short: sleepers look again every [`RESCUE`] in case
//! the wake-up meant for them went to a process that died before acting on it.
//!
//! # Sleeping without a system call per item
//! A put bumps `items` (and wakes a getter per item) only when a getter counts itself asleep in
//! `getters`. The two sides order their accesses so that one of them always sees the
//! other: a getter adds itself to `getters`, then reads `items`, then looks at `tail` once
//! more before sleeping on `items`; a put stores `tail`, then reads `getters` (all
//! sequentially consistent). Either the getter sees the new `tail`, or the put sees the
//! getter and changes `items` under it. The same holds for putters, `space` and `head`.
//!
//! A get wakes one putter of a `Queue` per slot it frees (every item takes one slot) but
//! every putter of a `BytesQueue` (the one woken might need more room than was freed), and a
//! waiter that leaves without taking what it was woken for (a timeout, an error) passes the
//! wake-up on.
//!
//! # Sleepers killed in their sleep
//! A process killed while asleep never takes itself out of `getters` (`putters`), and
//! would make every later put (get) pay a wake-up that wakes nobody. So the counts carry
//! an epoch in their top 16 bits: a sleeper takes itself out only of the epoch it counted
//! itself in, and a process whose wake-ups woke nobody [`FRUITLESS`] times in a row starts
//! a new epoch with a count of zero, then changes the word and wakes every sleeper on it.
//!
//! A wake-up also finds nobody when the sleeper it was for has counted itself but is not in
//! the kernel yet (with more processes than CPUs, one can wait a whole time slice there), so
//! live sleepers are wiped too; that much is on purpose (every operation of the other side
//! would pay a system call meanwhile), and none stays asleep uncounted past the new epoch's
//! wake-up: a sleeper looks at the count's epoch after it reads the word and counts itself
//! again if it changed, and a new epoch changes the word after the count, so a sleeper that
//! read the word before the change either sleeps on the old value and is woken by the new
//! epoch's wake-up, or does not sleep at all. (If the process that starts the new epoch dies
//! between the two, such a sleeper waits for its next look, [`RESCUE`].)

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::description::{
    Description, ElemType, Kind, LOCK_CELL, QUEUE_GET_LOCK, QUEUE_STATE, queue_layout,
};
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::lock::{Lock, LockGuard};
use crate::os::futex;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;
use crate::sync::state::{AtomicState, Shared};

/// The words at the start of a queue's data part (see `docs/format.md` §6): one cache line
/// both sides read, one the producers write, one the consumers write. The getters' lock
/// cell follows at [`QUEUE_GET_LOCK`], the ring at [`QUEUE_STATE`].
#[derive(Debug)]
#[repr(C)]
pub(crate) struct QueueState {
    /// `SQU2` (a `Queue`) or `SBQ2` (a `BytesQueue`), checked on receipt against the kind.
    tag: AtomicU32,
    /// 1 once closed.
    closed: AtomicU32,
    /// The capacity in units, as created: checked against the description on receipt.
    capacity: AtomicU64,
    /// Getters asleep on `items` (a put with nobody asleep makes no system call).
    getters: AtomicU32,
    /// Putters asleep on `space`.
    putters: AtomicU32,
    /// Zero; for later use.
    _reserved: [AtomicU64; 5],
    /// Units (slots, or bytes) put in since creation; changed only under the put lock.
    tail: AtomicU64,
    /// Bumped by a put that sees a getter asleep, and by `close`: getters sleep on it.
    items: AtomicU32,
    _reserved_put: AtomicU32,
    /// `head` as a putter last read it (under the put lock): at most `head`.
    head_seen: AtomicU64,
    _reserved_put_line: [AtomicU64; 5],
    /// Units taken out since creation; changed only under the get lock. `tail - head` are in
    /// use.
    head: AtomicU64,
    /// Bumped by a get that sees a putter asleep, and by `close`: putters sleep on it.
    space: AtomicU32,
    _reserved_get: AtomicU32,
    /// `tail` as a getter last read it (under the get lock; Python's getters leave it): at most
    /// `tail`.
    tail_seen: AtomicU64,
    _reserved_get_line: [AtomicU64; 5],
}

const _: () = {
    assert!(core::mem::size_of::<QueueState>() as u64 == QUEUE_GET_LOCK);
    assert!(core::mem::offset_of!(QueueState, tail) == 64);
    assert!(core::mem::offset_of!(QueueState, head) == 128);
    assert!(QUEUE_GET_LOCK + LOCK_CELL.0 <= QUEUE_STATE);
};

/// The tag of a `Queue`'s state.
pub(crate) const TAG_QUEUE: u32 = u32::from_le_bytes(*b"SQU2");
/// The tag of a `BytesQueue`'s state.
pub(crate) const TAG_BYTES_QUEUE: u32 = u32::from_le_bytes(*b"SBQ2");

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for QueueState {
    // A `Queue`'s; a `BytesQueue`'s is checked with `from_received_as`.
    const TAG: u32 = TAG_QUEUE;
    const WHAT: &'static str = "a queue";
}

/// How long a sleeper sleeps at most before it looks again (see the module docs).
const RESCUE: Duration = Duration::from_millis(100);

/// [`RESCUE`]; in this module's tests, as long as a test sets (so that a sleeper can only be
/// woken by a wake-up).
fn rescue() -> Duration {
    #[cfg(test)]
    if let Some(d) = tests::rescue() {
        return d;
    }
    RESCUE
}

/// How long an operation that does not wait (`try_*`) waits for a side's lock, which a
/// holder keeps for the copy of one item (nanoseconds for a record): a bound on a holder that
/// is stopped, at the cost of a "not now" while another copies a large message (see the
/// `queue` module docs).
const TRY_LOCK: Duration = Duration::from_millis(1);

/// Wake-ups in a row that woke nobody after which a waker starts a new epoch of the
/// sleepers' count (see the module docs).
const FRUITLESS: u32 = 64;

/// The sleepers' count in a `getters`/`putters` word; the top 16 bits are its epoch (sixteen,
/// not eight: with more processes than CPUs, new epochs can come hundreds of times a second,
/// and a sleeper held up across a whole wrap of them would take another's count with its own).
const COUNT: u32 = 0x0000_FFFF;
/// One epoch, in a `getters`/`putters` word.
const EPOCH: u32 = 0x0001_0000;

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

/// A queue's ring: its state and ring of units in one block, and its two locks.
#[derive(Debug)]
pub(crate) struct Ring {
    data: Shared<QueueState>,
    /// Taken by putters: the queue's lock part.
    put_lock: Lock,
    /// Taken by getters: the cell at [`QUEUE_GET_LOCK`] in the data part.
    get_lock: Lock,
    /// Where the units start in the data block.
    ring_at: usize,
    /// Capacity in units (slots or bytes): fixed when made or received, never read again
    /// from shared memory.
    capacity: u64,
    /// Every item takes one unit (a `Queue`): a freed slot is room for any one putter.
    uniform: bool,
    /// This process's wake-ups of getters, and of putters, in a row that woke nobody (see
    /// the module docs).
    fruitless: [Fruitless; 2],
}

/// A process's wake-ups of one side in a row that woke nobody.
#[derive(Debug, Default)]
struct Fruitless {
    count: AtomicU32,
}

impl Fruitless {
    /// After a wake-up that woke `woken` sleepers: `true` when that makes [`FRUITLESS`] in a
    /// row that woke nobody (then counting starts again).
    fn note(&self, woken: u32) -> bool {
        if woken > 0 {
            self.count.store(0, Ordering::Relaxed);
            return false;
        }
        if self.count.fetch_add(1, Ordering::Relaxed) + 1 >= FRUITLESS {
            self.count.store(0, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// Under a side's lock: the position of the first free unit (`tail`) or the first used one
/// (`head`), and how many units are used (at least; exactly for a get's item).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub(crate) pos: u64,
    pub(crate) used: u64,
}

/// The data part cut into the state and ring (all of it) and the getters' lock cell.
fn parts(data: Block) -> [Block; 2] {
    let len = data.len();
    data.into_parts([(0, len), (QUEUE_GET_LOCK as usize, LOCK_CELL.0 as usize)])
}

impl Ring {
    /// A new, empty ring in `data` (fresh, zeroed, laid out by [`queue_layout`] for `elem`
    /// and `capacity`), with its `put_lock`; its get lock is made in the data part, as
    /// reachable by other programs as `put_lock` is.
    pub(crate) fn create_in(
        data: Block,
        put_lock: Lock,
        tag: u32,
        elem: Option<&ElemType>,
        capacity: u64,
    ) -> Result<Ring> {
        let (ring_at, len, _) = queue_layout(elem, capacity).expect("checked by the caller");
        assert!(data.len() as u64 >= len, "a queue's data part is too short");
        let [whole, cell] = parts(data);
        let get_lock = Lock::create_beside(cell, &put_lock)?;
        let data = Shared::init_in(whole, |s: &QueueState| {
            s.tag.store(tag, Ordering::Relaxed);
            s.capacity.store(capacity, Ordering::Relaxed);
        });
        Ok(Ring {
            data,
            put_lock,
            get_lock,
            ring_at: ring_at as usize,
            capacity,
            uniform: elem.is_some(),
            fruitless: Default::default(),
        })
    }

    /// A new ring in the shared heap.
    pub(crate) fn new(tag: u32, elem: Option<&ElemType>, capacity: u64) -> Result<Ring> {
        let (_, len, align) = Self::layout(elem, capacity)?;
        let data = Block::alloc(len, align)?;
        Self::create_in(data, Lock::new()?, tag, elem, capacity)
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

    /// The ring a description names: its data part and locks checked, its state's tag and
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
        let [whole, cell] = parts(crate::share::data(d, from, len, align)?);
        let data = Shared::<QueueState>::from_received_as(whole, tag, &d.what())?;
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
            put_lock: Lock::import_from(d, from)?,
            get_lock: Lock::from_received_cell(cell)?,
            ring_at: ring_at as usize,
            capacity,
            uniform: d.elem.is_some(),
            fruitless: Default::default(),
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
        self.put_lock.export_into(&mut d, out)?;
        if out.for_program() {
            // Another program may write the getters' cell from now on, as the putters'.
            self.get_lock.raw().expose();
        }
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

    /// Unit `pos`'s index in a ring of `units` (the capacity, or a `BytesQueue`'s words): a
    /// mask when `units` is a power of two, as most capacities are (a division costs more
    /// than a lock's fast path on some CPUs).
    #[inline(always)]
    pub(crate) fn index(pos: u64, units: u64) -> u64 {
        if units.is_power_of_two() {
            pos & (units - 1)
        } else {
            pos % units
        }
    }

    /// Units in use now (clamped to the capacity if another process wrote nonsense).
    pub(crate) fn used(&self) -> u64 {
        let s = self.state();
        // `head` first: it only grows, so `tail` read after it is at least as far along.
        let head = s.head.load(Ordering::SeqCst);
        let tail = s.tail.load(Ordering::SeqCst);
        tail.wrapping_sub(head).min(self.capacity)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state().closed.load(Ordering::SeqCst) != 0
    }

    /// Closes the ring: every later put fails, gets drain what is left, and every sleeper
    /// is woken to see it.
    pub(crate) fn close(&self) {
        let s = self.state();
        // Under the put lock when it can be had, so that no put is half-way through when
        // close returns; the flag alone otherwise (a death stays recorded for the next put
        // to report).
        let guard = self.put_lock.acquire();
        s.closed.store(1, Ordering::SeqCst);
        drop(guard);
        s.items.fetch_add(1, Ordering::SeqCst);
        s.space.fetch_add(1, Ordering::SeqCst);
        futex::wake(&s.items, u32::MAX);
        futex::wake(&s.space, u32::MAX);
    }

    /// `lock`, taken within what `wait` allows (`None` if it did not come free in time: at
    /// most [`TRY_LOCK`] for an operation that does not wait, at least that for one whose
    /// deadline is near), so that a holder that is alive but stopped (`SIGSTOP`, a debugger)
    /// holds up no `try_*` or `*_timeout` for longer; a death recorded on it is reported (and
    /// cleared: the ring is consistent whatever instruction the dead process was at).
    #[inline]
    fn acquire(lock: &Lock, wait: Wait) -> Result<Option<LockGuard<'_>>> {
        let guard = match wait {
            Wait::Until(None) => lock.acquire()?,
            Wait::No => match lock.acquire_timeout(TRY_LOCK)? {
                Some(guard) => guard,
                None => return Ok(None),
            },
            Wait::Until(Some(deadline)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                match lock.acquire_timeout(left.max(TRY_LOCK))? {
                    Some(guard) => guard,
                    None => return Ok(None),
                }
            }
        };
        if guard.owner_died() {
            let pid = guard.dead_owner_pid().unwrap_or(0);
            guard.clear_owner_died();
            return Err(Error::ParticipantDied { pid });
        }
        Ok(Some(guard))
    }

    /// The units in use between `head` and `tail`, checked: the reason if another process
    /// left them inconsistent.
    fn in_use(&self, head: u64, tail: u64) -> Result<u64> {
        let used = tail.wrapping_sub(head);
        if used > self.capacity {
            return Err(Error::InvalidHandle {
                reason: format!(
                    "the queue's state is corrupt: {used} units in use (head {head}, tail {tail}) in a capacity of {}",
                    self.capacity
                ),
            });
        }
        Ok(used)
    }

    /// Puts an item of `need` units (at most the capacity): `write` fills them from the
    /// position it is given (under the put lock), then they become visible. `Ok(false)` if
    /// there was no room in time.
    pub(crate) fn put(
        &self,
        need: u64,
        wait: Wait,
        write: impl FnOnce(&Self, At) -> Result<()>,
    ) -> Result<bool> {
        let put = self.put_some(need, need, wait, |ring, at| {
            write(ring, at).map(|()| (need, 1))
        })?;
        Ok(put.is_some())
    }

    /// Puts at least `need` units and as many as `want` if there is room (`need <= want`,
    /// `need` at most the capacity): `write` fills them from the position it is given, with
    /// at least `need` free, and says how many units it filled (between `need` and the room,
    /// that is the capacity less `At::used`) with how many items, then they become visible at
    /// once and as many sleeping getters are woken. How many units and items were put;
    /// `Ok(None)` if there was no room in time.
    pub(crate) fn put_some(
        &self,
        need: u64,
        want: u64,
        wait: Wait,
        write: impl FnOnce(&Self, At) -> Result<(u64, u64)>,
    ) -> Result<Option<(u64, u64)>> {
        debug_assert!(need <= self.capacity && need <= want);
        let mut write = Some(write);
        let room = || self.capacity - self.used() >= need;
        let put = self.until(wait, self.putters(), room, || {
            self.put_once(need, want, wait, &mut write)
        })?;
        if let Some((_, items)) = put {
            self.getters()
                .wake(u32::try_from(items).unwrap_or(u32::MAX));
        }
        Ok(put)
    }

    /// One attempt of [`put_some`](Self::put_some) under the put lock: the units and items
    /// put, or `None` if there is no room.
    fn put_once(
        &self,
        need: u64,
        want: u64,
        wait: Wait,
        write: &mut Option<impl FnOnce(&Self, At) -> Result<(u64, u64)>>,
    ) -> Result<Option<(u64, u64)>> {
        let s = self.state();
        let Some(_guard) = Self::acquire(&self.put_lock, wait)? else {
            return Ok(None);
        };
        if s.closed.load(Ordering::Relaxed) != 0 {
            return Err(Error::Closed);
        }
        let tail = s.tail.load(Ordering::Relaxed);
        // The last look at `head` first: only when it says there is less room than wanted,
        // a new one.
        let seen = tail.wrapping_sub(s.head_seen.load(Ordering::Relaxed));
        let used = if seen <= self.capacity && self.capacity - seen >= want.min(self.capacity) {
            seen
        } else {
            let head = s.head.load(Ordering::SeqCst);
            let used = self.in_use(head, tail)?;
            s.head_seen.store(head, Ordering::Relaxed);
            used
        };
        if self.capacity - used < need {
            return Ok(None);
        }
        let write = write.take().expect("written once");
        let (wrote, items) = write(self, At { pos: tail, used })?;
        assert!(
            wrote >= need && wrote <= self.capacity - used,
            "a put wrote {wrote} units where {need} to {} fit",
            self.capacity - used
        );
        s.tail.store(tail.wrapping_add(wrote), Ordering::SeqCst);
        Ok(Some((wrote, items)))
    }

    /// Gets the item at `head`: `read` reads it (under the get lock) and says how many units
    /// it took, then they are freed. `Ok(None)` if there was none in time;
    /// [`Error::Closed`] once closed and empty.
    pub(crate) fn get<R>(
        &self,
        wait: Wait,
        read: impl FnOnce(&Self, At) -> Result<(R, u64)>,
    ) -> Result<Option<R>> {
        self.get_some(1, wait, read)
    }

    /// [`get`](Self::get) where `read` may take several items: it is given at least
    /// `want.min(capacity)` units in use when that many are there (`At::used`), a look at
    /// `tail` fresh enough for that.
    pub(crate) fn get_some<R>(
        &self,
        want: u64,
        wait: Wait,
        read: impl FnOnce(&Self, At) -> Result<(R, u64)>,
    ) -> Result<Option<R>> {
        let mut read = Some(read);
        let some = || self.used() > 0;
        let item = self.until(wait, self.getters(), some, || {
            self.get_once(want, wait, &mut read)
        })?;
        Ok(item.map(|(item, took)| {
            // A `Queue`'s units are slots, each room for one putter; a `BytesQueue`'s putters
            // are all woken (the first might need more room than was freed).
            let putters = if self.uniform { took } else { u64::MAX };
            self.putters()
                .wake(u32::try_from(putters).unwrap_or(u32::MAX));
            item
        }))
    }

    /// Makes `attempt`s (each under its side's lock) until one gives a result, waiting as
    /// `wait` allows between them for `pending()` (the room, or the item, an attempt needs)
    /// or a close; `Ok(None)` if the wait ended first. A waiter that leaves without a result
    /// (a timeout, an error) after it slept passes its wake-up on.
    #[inline(always)]
    fn until<T>(
        &self,
        wait: Wait,
        side: Waiters<'_>,
        pending: impl Fn() -> bool,
        mut attempt: impl FnMut() -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let s = self.state();
        let mut slept = false;
        loop {
            match attempt() {
                Ok(None) => {}
                Err(e) if slept => {
                    side.pass_on(&pending);
                    return Err(e);
                }
                done => return done,
            }
            let Wait::Until(deadline) = wait else {
                return Ok(None);
            };
            // Past the deadline (an attempt may have waited that long for the side's lock,
            // with what it waits for there all along): done.
            if deadline.is_some_and(|d| Instant::now() >= d) {
                if slept {
                    side.pass_on(&pending);
                }
                return Ok(None);
            }
            slept = true;
            let ready = || pending() || s.closed.load(Ordering::SeqCst) != 0;
            if !side.sleep(deadline, ready) {
                side.pass_on(&pending);
                return Ok(None);
            }
        }
    }

    /// One attempt of [`get_some`](Self::get_some) under the get lock: what `read` read and
    /// the units it took, or `None` if the ring is empty.
    fn get_once<R>(
        &self,
        want: u64,
        wait: Wait,
        read: &mut Option<impl FnOnce(&Self, At) -> Result<(R, u64)>>,
    ) -> Result<Option<(R, u64)>> {
        let s = self.state();
        loop {
            let Some(guard) = Self::acquire(&self.get_lock, wait)? else {
                return Ok(None);
            };
            let head = s.head.load(Ordering::Relaxed);
            // The last look at `tail` first (it always lies between whole items): only when
            // it says the ring holds less than wanted, a new one.
            let seen = s.tail_seen.load(Ordering::Relaxed).wrapping_sub(head);
            let used = if seen >= want.min(self.capacity) && seen > 0 && seen <= self.capacity {
                seen
            } else {
                let tail = s.tail.load(Ordering::SeqCst);
                let used = self.in_use(head, tail)?;
                s.tail_seen.store(tail, Ordering::Relaxed);
                used
            };
            if used > 0 {
                let read = read.take().expect("read once");
                let (item, took) = read(self, At { pos: head, used })?;
                assert!(
                    took > 0 && took <= used,
                    "a get took {took} units of {used} in use"
                );
                s.head.store(head.wrapping_add(took), Ordering::SeqCst);
                drop(guard);
                return Ok(Some((item, took)));
            }
            if s.closed.load(Ordering::SeqCst) == 0 {
                return Ok(None);
            }
            // Every put that returned before the close is in `tail` by now.
            if s.tail.load(Ordering::SeqCst) == head {
                return Err(Error::Closed);
            }
        }
    }

    /// How many putters a putter that leaves without putting (a timeout, an error) wakes in
    /// its place: one for a `Queue` (a freed slot is room for any one of them), all for a
    /// `BytesQueue` (the first might need more room than was freed).
    fn putters_per_room(&self) -> u32 {
        if self.uniform { 1 } else { u32::MAX }
    }

    /// Putters, waiting for room.
    #[inline(always)]
    fn putters(&self) -> Waiters<'_> {
        static SPIN: Budget = Budget::new();
        let s = self.state();
        Waiters {
            word: &s.space,
            sleepers: &s.putters,
            leaving: self.putters_per_room(),
            spin: &SPIN,
            fruitless: &self.fruitless[1],
        }
    }

    /// Getters, waiting for an item.
    #[inline(always)]
    fn getters(&self) -> Waiters<'_> {
        static SPIN: Budget = Budget::new();
        let s = self.state();
        Waiters {
            word: &s.items,
            sleepers: &s.getters,
            leaving: 1,
            spin: &SPIN,
            fruitless: &self.fruitless[0],
        }
    }
}

/// The waiters of one side: putters waiting for room, or getters for an item.
#[derive(Clone, Copy)]
struct Waiters<'a> {
    /// The word they sleep on (`space`, or `items`).
    word: &'a AtomicU32,
    /// Their count (`putters`, or `getters`), with its epoch.
    sleepers: &'a AtomicU32,
    /// How many one that leaves wakes in its place.
    leaving: u32,
    /// Their spin policy.
    spin: &'static Budget,
    /// This process's wake-ups of them in a row that woke nobody (see the module docs).
    fruitless: &'a Fruitless,
}

impl Waiters<'_> {
    /// After a get (put): if one of them counts itself asleep, changes the word and wakes
    /// `n` of them; after [`FRUITLESS`] wake-ups in a row that woke nobody, starts a new
    /// epoch of the count (see the module docs).
    #[inline(always)]
    fn wake(&self, n: u32) {
        let count = self.sleepers.load(Ordering::SeqCst);
        if count & COUNT == 0 {
            return;
        }
        self.word.fetch_add(1, Ordering::SeqCst);
        if self.fruitless.note(futex::wake(self.word, n)) {
            self.new_epoch(count);
        }
    }

    /// Starts a new epoch of the count, which read `count`, with nobody in it (the sleepers
    /// counted may have died asleep), then changes the word and wakes every sleeper on it:
    /// a live one wiped with them counts itself again (see the module docs).
    #[cold]
    #[inline(never)]
    fn new_epoch(&self, count: u32) {
        let wiped = self
            .sleepers
            .compare_exchange(
                count,
                count.wrapping_add(EPOCH) & !COUNT,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok();
        if wiped {
            self.word.fetch_add(1, Ordering::SeqCst);
            futex::wake(self.word, u32::MAX);
        }
    }

    /// Wakes [`leaving`](Self::leaving) more of them if `pending()` (what they wait for is
    /// there) and one is asleep: a waiter that leaves may have taken a wake-up meant for
    /// another.
    fn pass_on(&self, pending: impl Fn() -> bool) {
        if self.sleepers.load(Ordering::SeqCst) & COUNT != 0 && pending() {
            self.word.fetch_add(1, Ordering::SeqCst);
            futex::wake(self.word, self.leaving);
        }
    }

    /// Waits until `ready()` or the deadline (`false` then): spinning, then sleeping on the
    /// word at most [`RESCUE`] at a time, counted among the sleepers (see the module docs for
    /// the order); `true` also when a rescue look is due, for the caller to look under the
    /// lock.
    fn sleep(&self, deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
        if self.spin.spin(&ready) {
            return true;
        }
        let rescue = Instant::now() + rescue();
        let until = match deadline {
            Some(d) if d <= rescue => d,
            _ => rescue,
        };
        while let Some(left) = until
            .checked_duration_since(Instant::now())
            .filter(|l| !l.is_zero())
        {
            let epoch = self.sleepers.fetch_add(1, Ordering::SeqCst).wrapping_add(1) & !COUNT;
            let seen = self.word.load(Ordering::SeqCst);
            if self.sleepers.load(Ordering::SeqCst) & !COUNT != epoch {
                // Wiped by a new epoch since it counted itself: count again, in that one.
                continue;
            }
            let woke = if ready() {
                None
            } else {
                Some(futex::wait(self.word, seen, Some(left)))
            };
            uncount(self.sleepers, epoch);
            if woke.is_none() || ready() {
                return true;
            }
            if woke == Some(futex::Wake::TimedOut) {
                break;
            }
        }
        if ready() {
            return true;
        }
        // Timed out: at the caller's deadline, or only at a rescue look.
        deadline.is_none_or(|d| Instant::now() < d)
    }
}

/// Takes a sleeper out of the count of `sleepers`, if the count is still of the `epoch` it
/// counted itself in (a new epoch has none of the old sleepers).
fn uncount(sleepers: &AtomicU32, epoch: u32) {
    let mut now = sleepers.load(Ordering::SeqCst);
    while now & !COUNT == epoch && now & COUNT != 0 {
        match sleepers.compare_exchange_weak(now, now - 1, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return,
            Err(seen) => now = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use super::{COUNT, EPOCH, Ring, TAG_BYTES_QUEUE, Wait};

    /// The sleepers' look at [`super::RESCUE`], in milliseconds, when not 0.
    static RESCUE_MS: AtomicU64 = AtomicU64::new(0);

    /// While it lives, sleepers look again only after a minute, so that only a wake-up
    /// wakes them; one test at a time (the tests of a binary run in parallel).
    struct NoRescue(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

    impl NoRescue {
        fn new() -> NoRescue {
            static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let guard = ONE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            RESCUE_MS.store(60_000, Ordering::Relaxed);
            NoRescue(guard)
        }
    }

    impl Drop for NoRescue {
        fn drop(&mut self) {
            RESCUE_MS.store(0, Ordering::Relaxed);
        }
    }

    pub(super) fn rescue() -> Option<Duration> {
        match RESCUE_MS.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A batch wakes as many sleeping getters as it has items (or messages), and taking a
    /// batch as many sleeping putters as it frees slots. With no look at 100 ms, a sleeper left out would
    /// sleep for a minute: the test fails after 10 s.
    #[test]
    fn a_batch_wakes_a_sleeper_for_each_item_or_slot() {
        let _no_rescue = NoRescue::new();
        let q = &crate::queue::Queue::<u32>::new(3).unwrap();
        let sleepers = |word: &AtomicU32| word.load(Ordering::SeqCst) & COUNT;
        let state = q.ring().state();
        std::thread::scope(|s| {
            let getters: Vec<_> = (0..3).map(|_| s.spawn(|| q.get())).collect();
            wait_for("three getters asleep", || sleepers(&state.getters) == 3);
            assert_eq!(q.put_many(&[1, 2, 3]), Ok(3));
            wait_for("every getter woken", || {
                getters.iter().all(|g| g.is_finished())
            });
            let mut got: Vec<u32> = getters
                .into_iter()
                .map(|g| g.join().unwrap().unwrap())
                .collect();
            got.sort();
            assert_eq!(got, [1, 2, 3]);
            assert_eq!(q.put_many(&[4, 5, 6]), Ok(3));
            let putters: Vec<_> = (7..10).map(|x| s.spawn(move || q.put(x))).collect();
            wait_for("three putters asleep", || sleepers(&state.putters) == 3);
            assert_eq!(q.get_many(3), Ok(vec![4, 5, 6]));
            wait_for("every putter woken", || {
                putters.iter().all(|p| p.is_finished())
            });
            for p in putters {
                p.join().unwrap().unwrap();
            }
            let mut rest = q.get_many(3).unwrap();
            rest.sort();
            assert_eq!(rest, [7, 8, 9]);
        });
        // A batch of messages: a getter per message.
        let b = &crate::queue::BytesQueue::new(64).unwrap();
        let state = b.ring().state();
        std::thread::scope(|s| {
            let getters: Vec<_> = (0..3).map(|_| s.spawn(|| b.get())).collect();
            wait_for("three getters asleep", || sleepers(&state.getters) == 3);
            assert_eq!(b.put_many(&[b"1", b"2", b"3"]), Ok(3));
            wait_for("every getter woken", || {
                getters.iter().all(|g| g.is_finished())
            });
            let mut got: Vec<Vec<u8>> = getters
                .into_iter()
                .map(|g| g.join().unwrap().unwrap())
                .collect();
            got.sort();
            assert_eq!(got, [b"1", b"2", b"3"]);
        });
    }

    /// A process killed inside a batch (in the middle of its copy, before `tail` or `head`
    /// moves) moves none of it; the next operation on its side reports the death once, and
    /// the one after works.
    #[test]
    fn a_process_killed_inside_a_batch_moves_none_of_it() {
        use crate::os::process::{Sig, send_signal};
        use crate::{Error, Process, Result};
        let q = crate::queue::Queue::<u32>::new(8).unwrap();
        assert_eq!(q.put_many(&[1, 2]), Ok(2));
        let die = || send_signal(crate::fork::current_pid(), Sig::Kill);
        let putter = Process::start(|| {
            q.ring()
                .put_some(1, 4, Wait::Until(None), |_, _| -> Result<(u64, u64)> {
                    die()?; // in the middle of the copy
                    Ok((4, 4))
                })
                .map(drop)
        })
        .unwrap();
        assert_eq!(putter.join().unwrap(), -9);
        assert_eq!(q.len(), 2);
        assert!(matches!(
            q.put_many(&[3]),
            Err(Error::ParticipantDied { .. })
        ));
        assert_eq!(q.put_many(&[3, 4]), Ok(2));
        let getter = Process::start(|| {
            q.ring()
                .get_some(4, Wait::Until(None), |_, _| -> Result<((), u64)> {
                    die()?;
                    Ok(((), 4))
                })
        })
        .unwrap();
        assert_eq!(getter.join().unwrap(), -9);
        assert_eq!(q.len(), 4);
        assert!(matches!(q.get_many(8), Err(Error::ParticipantDied { .. })));
        assert_eq!(q.get_many(8), Ok(vec![1, 2, 3, 4]));
    }

    /// A slot's index is the position modulo the units, masked or divided.
    #[test]
    fn index_is_the_position_modulo_the_units() {
        let positions = [0, 1, 6, 7, 8, 999, 1000, 1023, 1024, 1025, u64::MAX - 1];
        for units in [1, 2, 7, 8, 1000, 1024, 1 << 40, (1 << 40) + 3] {
            for pos in positions.into_iter().chain([u64::MAX]) {
                assert_eq!(Ring::index(pos, units), pos % units, "{pos} % {units}");
            }
        }
    }

    /// A live sleeper asleep in the kernel, wiped by a new epoch (as when a wake-up meant for
    /// it went to a sleeper not in the kernel yet, 64 times in a row), is woken by the new
    /// epoch and counts itself again: with no look at 100 ms, nothing else would wake it.
    #[test]
    fn a_new_epoch_wakes_a_live_sleeper_it_wiped() {
        let no_rescue = NoRescue::new();
        let ring = Ring::new(TAG_BYTES_QUEUE, None, 64).unwrap();
        let getters = &ring.state().getters;
        let ready = AtomicBool::new(false);
        std::thread::scope(|s| {
            let sleeper = s.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(60);
                ring.getters()
                    .sleep(Some(deadline), || ready.load(Ordering::SeqCst))
            });
            wait_for("the sleeper counts itself", || {
                getters.load(Ordering::SeqCst) == 1
            });
            std::thread::sleep(Duration::from_millis(300)); // in the kernel by now
            ring.getters().new_epoch(1);
            wait_for("the sleeper counts itself again, in the new epoch", || {
                getters.load(Ordering::SeqCst) == EPOCH + 1
            });
            ready.store(true, Ordering::SeqCst);
            ring.getters().wake(1);
            assert!(sleeper.join().unwrap(), "woken, with what it waited for");
        });
        drop(no_rescue);
        assert_eq!(getters.load(Ordering::SeqCst) & COUNT, 0);
    }
}
