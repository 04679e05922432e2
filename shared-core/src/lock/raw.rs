//! [`RawMutex`]: one robust, process-shared mutex in the shared heap, with the bookkeeping
//! that makes a dead holder recoverable and reportable. The locks ([`RobustLock`]) are
//! handles to one of these.
//!
//! [`RobustLock`]: super::RobustLock

use core::mem::{ManuallyDrop, align_of, offset_of, size_of};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::Relaxed};
use core::time::Duration;

use super::held;
use crate::error::{Error, Result};
use crate::heap::Block;
use crate::os::mutex::{Acquire, Deadline, PthreadMutex};
use crate::spin::Budget;

/// The most robust locks one thread may hold at once.
///
/// When a thread dies, the kernel releases the robust mutexes it holds by walking a list of
/// them, and stops after 2048 entries (`ROBUST_LIST_LIMIT`): locks past that would stay
/// locked for ever. sharedctypes counts the locks each thread holds and refuses to go past
/// 2000 ([`Error::TooManyLocksHeld`]), leaving room for robust mutexes other code in the same
/// thread may hold. Re-entering an [`RLock`](crate::RLock) the thread already holds does not
/// count again.
///
/// ```
/// use sharedctypes::lock::MAX_HELD_PER_THREAD;
/// assert_eq!(MAX_HELD_PER_THREAD, 2000);
/// ```
pub const MAX_HELD_PER_THREAD: usize = 2000;

/// The shared-memory part of a lock, 56 bytes. Its layout is part of the format other
/// processes (and the Python module) rely on:
///
/// | offset | field | meaning |
/// |---:|---|---|
/// | 0 | `mutex` | the `pthread_mutex_t` (40 bytes on 64-bit Linux) |
/// | 40 | `holder` | pid of the process that holds it; 0 when free or not yet recorded |
/// | 44 | `depth` | acquisitions outstanding (recursion depth); written only by the holder |
/// | 48 | `died` | sticky owner-died state: 0 clean, the pid of a holder that died, or -1 when that pid is unknown |
/// | 52 | `tag` | what the cell is: `0x4b434c53` (`b"SLCK"`, a `Lock`) or `0x4b434c52` (`b"RLCK"`, an `RLock`), written before the cell is shared |
#[repr(C)]
pub(crate) struct MutexCell {
    mutex: PthreadMutex,
    holder: AtomicI32,
    depth: AtomicU32,
    died: AtomicI32,
    tag: AtomicU32,
}

/// The `tag` of a [`MutexCell`] holding a non-recursive lock (`b"SLCK"` in memory).
pub(crate) const TAG_LOCK: u32 = u32::from_le_bytes(*b"SLCK");
/// The `tag` of a [`MutexCell`] holding a recursive lock (`b"RLCK"` in memory).
pub(crate) const TAG_RLOCK: u32 = u32::from_le_bytes(*b"RLCK");

const _: () = assert!(size_of::<MutexCell>() == 56 && offset_of!(MutexCell, holder) == 40);

/// `died` when a holder died before its pid was recorded.
const DIED_UNKNOWN: i32 = -1;

/// One robust, process-shared mutex (recursive or error-checking) in shared memory.
#[derive(Debug)]
pub(crate) struct RawMutex {
    /// Freed by `Drop`, unless the mutex is still held (then it is leaked).
    block: ManuallyDrop<Block>,
    /// Processes that are not this program may write the cell (a named lock, one received
    /// from another process, or one handed to another program): this thread's record of
    /// the locks it holds then tracks it, to write glibc's links back before each unlock
    /// (see the `held` module). Locks only this program's processes use skip that.
    exposed: AtomicBool,
}

impl RawMutex {
    /// Creates a mutex in fresh shared memory, in a cache line of its own (see
    /// [`Block::alloc_own_lines`]): `PTHREAD_PROCESS_SHARED`, `PTHREAD_MUTEX_ROBUST`, and
    /// `PTHREAD_MUTEX_RECURSIVE` or `PTHREAD_MUTEX_ERRORCHECK`.
    pub(crate) fn new(recursive: bool) -> Result<RawMutex> {
        let block = Block::alloc_own_lines(size_of::<MutexCell>(), align_of::<MutexCell>())?;
        Self::create_in(block, recursive, false)
    }

    /// Creates a mutex in `block`.
    ///
    /// `block` must be fresh: zeroed, at least a cell long, aligned for one, and not yet
    /// visible to any other thread or process (a new heap block, or a named object that is
    /// not published yet); both are checked or guaranteed by the callers. `exposed`: it will
    /// be reachable by other programs (a named object).
    pub(crate) fn create_in(block: Block, recursive: bool, exposed: bool) -> Result<RawMutex> {
        held::ensure_registered();
        assert!(
            block.len() >= size_of::<MutexCell>()
                && block.as_ptr() as usize % align_of::<MutexCell>() == 0,
            "a lock cell needs {} bytes aligned to {}",
            size_of::<MutexCell>(),
            align_of::<MutexCell>()
        );
        let mutex = block.as_ptr().cast::<PthreadMutex>();
        // SAFETY: the block is fresh (zeroed), big enough and aligned for a MutexCell (whose
        // first field is the mutex; asserted above), and not yet visible to any other thread
        // or process (the callers' contract).
        unsafe { PthreadMutex::init(mutex, recursive)? };
        let raw = RawMutex {
            block: ManuallyDrop::new(block),
            exposed: AtomicBool::new(exposed),
        };
        let tag = if recursive { TAG_RLOCK } else { TAG_LOCK };
        raw.cell().tag.store(tag, Relaxed);
        Ok(raw)
    }

    /// The lock whose cell another process placed in `block` (received with an object).
    ///
    /// # Errors
    /// [`Error::InvalidHandle`] unless the block is big enough for a cell, aligned for it,
    /// and carries the tag of the expected kind: a handle that names other bytes as a lock
    /// is refused rather than handed to pthread.
    pub(crate) fn from_received(block: Block, recursive: bool) -> Result<RawMutex> {
        held::ensure_registered();
        let invalid = |reason: String| Error::InvalidHandle { reason };
        if block.len() < size_of::<MutexCell>()
            || block.as_ptr() as usize % align_of::<MutexCell>() != 0
        {
            return Err(invalid(format!(
                "a lock needs {} bytes aligned to {}",
                size_of::<MutexCell>(),
                align_of::<MutexCell>()
            )));
        }
        let tag = block
            .as_ptr()
            .wrapping_add(offset_of!(MutexCell, tag))
            .cast::<u32>();
        // SAFETY: the block is at least a cell long and aligned for one (checked above), so
        // the tag field is in bounds and 4-aligned; it is read atomically, like every field
        // of a cell.
        let tag = unsafe { AtomicU32::from_ptr(tag) }.load(Relaxed);
        let want = if recursive { TAG_RLOCK } else { TAG_LOCK };
        if tag != want {
            let what = |t| match t {
                TAG_LOCK => "a Lock".to_string(),
                TAG_RLOCK => "an RLock".to_string(),
                other => format!("not a lock (tag {other:#010x})"),
            };
            return Err(invalid(format!(
                "the handle names {} where {} is expected",
                what(tag),
                what(want)
            )));
        }
        Ok(RawMutex {
            block: ManuallyDrop::new(block),
            exposed: AtomicBool::new(true),
        })
    }

    /// From now on other programs may write the cell (it is handed to one).
    pub(crate) fn expose(&self) {
        self.exposed.store(true, Relaxed);
    }

    /// True once other programs may write the cell (see [`exposed`](Self::exposed)).
    pub(crate) fn is_exposed(&self) -> bool {
        self.tracked()
    }

    /// Whether this thread's record tracks the lock (see [`exposed`](Self::exposed)).
    #[inline(always)]
    fn tracked(&self) -> bool {
        self.exposed.load(Relaxed)
    }

    /// The block of the cell, to send the lock to another process.
    pub(crate) fn block(&self) -> &Block {
        &self.block
    }

    /// The shared cell.
    #[inline]
    fn cell(&self) -> &MutexCell {
        // SAFETY: the block holds a MutexCell whose mutex was initialised by `new`, it stays
        // allocated while `self` lives, and every field is either an atomic or the pthread
        // mutex (interior-mutable, used only through the pthread calls), so a shared
        // reference is sound although other threads and processes change it concurrently.
        unsafe { &*self.block.as_ptr().cast::<MutexCell>() }
    }

    /// Address of the mutex, to tell locks apart.
    pub(crate) fn addr(&self) -> *const u8 {
        self.block.as_ptr()
    }

    /// Blocks until acquired.
    #[inline]
    pub(crate) fn lock(&self) -> Result<()> {
        let record = held::record();
        let before = record.before_acquiring(self.tracked());
        let mutex = &self.cell().mutex;
        let mut acquired = mutex.try_lock();
        if acquired == Acquire::Busy {
            acquired = self.lock_contended(None);
        }
        self.outcome(acquired, true, record, before)
            .map(|got| debug_assert!(got, "a blocking lock acquires or fails"))
    }

    /// The slow path of [`lock`](Self::lock) and [`lock_timeout`](Self::lock_timeout): the
    /// holder usually releases within a microsecond or two, so spin for it (see
    /// [`crate::spin`]), trying again whenever it seems free, before sleeping in
    /// `pthread_mutex_lock` (or, until `deadline`, `pthread_mutex_clocklock` on the monotonic
    /// clock, `pthread_mutex_timedlock` before glibc 2.30).
    #[cold]
    #[inline(never)]
    fn lock_contended(&self, deadline: Option<&Deadline>) -> Acquire {
        static SPIN: Budget = Budget::new();
        let cell = self.cell();
        let got = core::cell::Cell::new(Acquire::Busy);
        let free = SPIN.spin(|| {
            cell.holder.load(Relaxed) == 0 && {
                got.set(cell.mutex.try_lock());
                got.get() != Acquire::Busy
            }
        });
        match (free, deadline) {
            (true, _) => got.get(),
            (false, None) => cell.mutex.lock(),
            (false, Some(deadline)) => cell.mutex.lock_until(deadline),
        }
    }

    /// Acquires if free; `Ok(false)` if not.
    pub(crate) fn try_lock(&self) -> Result<bool> {
        let record = held::record();
        let before = record.before_acquiring(self.tracked());
        let acquired = self.cell().mutex.try_lock();
        self.outcome(acquired, false, record, before)
    }

    /// Waits at most `timeout`; `Ok(false)` if not acquired in time. A zero timeout only
    /// tries; one too long to express as a deadline waits forever.
    pub(crate) fn lock_timeout(&self, timeout: Duration) -> Result<bool> {
        if timeout.is_zero() {
            return self.try_lock();
        }
        let record = held::record();
        let before = record.before_acquiring(self.tracked());
        let mut acquired = self.cell().mutex.try_lock();
        if acquired == Acquire::Busy {
            // The clock is read only now: a free lock costs no more than `try_lock`. A
            // timeout too long to express waits forever; either way a Lock this thread holds
            // already is "not acquired" (the outcome of a timed wait), not an error.
            acquired = match Deadline::after(timeout)? {
                Some(deadline) => self.lock_contended(Some(&deadline)),
                None => self.lock_contended(None),
            };
        }
        self.outcome(acquired, false, record, before)
    }

    /// Records, stickily, that the holder died (with its pid if it had recorded it).
    fn record_death(&self, cell: &MutexCell) {
        let dead = cell.holder.load(Relaxed);
        cell.died
            .store(if dead > 0 { dead } else { DIED_UNKNOWN }, Relaxed);
        cell.holder.store(0, Relaxed);
    }

    /// Turns a pthread result into "acquired" (`true`), "not acquired" (`false`) or an
    /// error, and does the bookkeeping of an acquisition. The common case is inlined into
    /// every acquisition; everything else is [`outcome_slow`](Self::outcome_slow).
    #[inline(always)]
    fn outcome(
        &self,
        acquired: Acquire,
        blocking: bool,
        record: held::Record,
        before: usize,
    ) -> Result<bool> {
        if acquired == Acquire::Locked {
            let cell = self.cell();
            let depth = cell.depth.load(Relaxed);
            if depth == 0 {
                // A first acquisition (not a re-entry): one more robust lock on this thread.
                if record.acquired(&cell.mutex, before) > MAX_HELD_PER_THREAD {
                    return self.too_many(record);
                }
                cell.holder.store(crate::fork::current_pid(), Relaxed);
            }
            cell.depth.store(depth + 1, Relaxed);
            Ok(true)
        } else {
            self.outcome_slow(acquired, blocking, record, before)
        }
    }

    /// Gives back a first acquisition that would go past [`MAX_HELD_PER_THREAD`]. (Checked
    /// once acquired, when a re-entry can be told from a first acquisition; the thread held
    /// one lock too many only in between, which the kernel's limit of 2048 leaves room for.)
    #[cold]
    #[inline(never)]
    fn too_many(&self, record: held::Record) -> Result<bool> {
        let mutex = &self.cell().mutex;
        // SAFETY: this thread acquired the mutex just now (recorded), and no guard exists
        // for it.
        unsafe { record.releasing(mutex, self.tracked()) };
        // SAFETY: as above.
        unsafe { mutex.unlock() };
        Err(Error::TooManyLocksHeld {
            held: record.count(),
            max: MAX_HELD_PER_THREAD,
        })
    }

    /// The uncommon lock results. `EDEADLK` (an error-checking mutex already held by this
    /// thread) is an error for a blocking lock, which would wait forever, and plain "not
    /// acquired" for a try or a timed wait (CPython's `acquire(False)` returns `False`).
    #[cold]
    #[inline(never)]
    fn outcome_slow(
        &self,
        acquired: Acquire,
        blocking: bool,
        record: held::Record,
        before: usize,
    ) -> Result<bool> {
        let cell = self.cell();
        match acquired {
            Acquire::Locked => unreachable!("handled inline"),
            Acquire::OwnerDied => {
                let held = record.acquired(&cell.mutex, before);
                // SAFETY: this thread holds the mutex after EOWNERDEAD, as required.
                if let Err(e) = unsafe { cell.mutex.consistent() } {
                    // SAFETY: this thread holds the mutex (recorded) and no guard exists for
                    // this acquisition, so it is released here, exactly once.
                    unsafe { record.releasing(&cell.mutex, self.tracked()) };
                    // SAFETY: as above.
                    unsafe { cell.mutex.unlock() };
                    return Err(e);
                }
                self.record_death(cell);
                // The dead holder's recursion is gone with it (glibc restarts the count at 1).
                cell.depth.store(0, Relaxed);
                if held > MAX_HELD_PER_THREAD {
                    // Consistent again, and the death stays on record for the next acquirer.
                    return self.too_many(record);
                }
                cell.holder.store(crate::fork::current_pid(), Relaxed);
                cell.depth.store(1, Relaxed);
                Ok(true)
            }
            Acquire::Busy => Ok(false),
            Acquire::HeldByThisThread if blocking => Err(Error::WouldDeadlock),
            Acquire::HeldByThisThread => Ok(false),
            Acquire::NotRecoverable => Err(Error::NotRecoverable),
            Acquire::Failed(rc) => Err(Error::os("pthread_mutex_lock", rc)),
        }
    }

    /// Releases the mutex.
    ///
    /// # Safety
    /// Must pair with a successful acquisition by this thread (in this process) that has not
    /// been released yet.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        let cell = self.cell();
        let depth = cell.depth.load(Relaxed).saturating_sub(1);
        cell.depth.store(depth, Relaxed);
        if depth == 0 {
            // Cleared before the release: a holder that dies after this line is reported
            // with its pid unknown, never with a wrong one.
            cell.holder.store(0, Relaxed);
            // SAFETY: the caller holds the mutex, for the last time now.
            unsafe { held::record().releasing(&cell.mutex, self.tracked()) };
        }
        // SAFETY: the caller holds the mutex.
        unsafe { cell.mutex.unlock() };
    }

    /// True if nobody seems to hold the mutex (a hint: no holder recorded).
    pub(crate) fn is_free(&self) -> bool {
        self.cell().holder.load(Relaxed) == 0
    }

    /// Releases every acquisition this thread holds, for a condition wait (which re-takes
    /// them with [`reacquire`](Self::reacquire)); how many there were.
    ///
    /// # Safety
    /// This thread must hold the mutex (at least once).
    pub(crate) unsafe fn release_all(&self) -> u32 {
        let cell = self.cell();
        let depth = cell.depth.load(Relaxed).max(1);
        cell.depth.store(0, Relaxed);
        cell.holder.store(0, Relaxed);
        // SAFETY: this thread holds the mutex (the caller's contract); the loop below releases
        // it for the last time (the earlier unlocks of a recursive mutex only count down).
        unsafe { held::record().releasing(&cell.mutex, self.tracked()) };
        for _ in 0..depth {
            // SAFETY: this thread holds the mutex `depth` times (the caller's contract, and
            // `depth` counts its acquisitions).
            unsafe { cell.mutex.unlock() };
        }
        depth
    }

    /// Takes the mutex again `depth` times after [`release_all`](Self::release_all).
    pub(crate) fn reacquire(&self, depth: u32) -> Result<()> {
        for _ in 0..depth.max(1) {
            self.lock()?;
        }
        Ok(())
    }

    /// The sticky owner-died state: `None` if clean, else `Some(pid)` of the holder that
    /// died (`Some(None)` when its pid is unknown). Read by a holder, so it is stable.
    #[inline]
    pub(crate) fn death(&self) -> Option<Option<i32>> {
        match self.cell().died.load(Relaxed) {
            0 => None,
            pid if pid > 0 => Some(Some(pid)),
            _ => Some(None),
        }
    }

    /// Ends the owner-died state; called by a holder once the data is repaired.
    pub(crate) fn clear_death(&self) {
        self.cell().died.store(0, Relaxed);
    }
}

/// A lock whose block holds more than its cell (a small `Value`'s line) keeps that block for
/// the parts cut from it (see [`Block::part_of`]).
impl crate::heap::Whole for RawMutex {
    fn whole(&self) -> &Block {
        &self.block
    }
}

impl Drop for RawMutex {
    fn drop(&mut self) {
        if !self.block.is_owned() {
            // Inherited through fork or received from another process: that process owns
            // (and frees) the block; this handle goes without touching the mutex. But if a
            // thread of this process still holds it (a forgotten guard), its memory must
            // stay mapped: the kernel walks that thread's robust list when it dies, and an
            // unmapped entry would leave the lock held for ever. Keep the block (and with a
            // received one, its mapping) then.
            if self.cell().holder.load(Relaxed) == crate::fork::current_pid() {
                return;
            }
            // SAFETY: `block` is dropped here, once, and never used again (this is `Drop`).
            unsafe { ManuallyDrop::drop(&mut self.block) };
            return;
        }
        let cell = self.cell();
        // A mutex that is held sits on its holder thread's robust list, which glibc and the
        // kernel write through: destroying it and letting the heap reuse the block would let
        // them scribble over the next object. Take it first; if that fails, it is truly held
        // (by a guard that was `mem::forget`-ten, or by another thread or process): leak it.
        let record = held::record();
        let before = record.before_acquiring(self.tracked());
        let free = match cell.mutex.try_lock() {
            // Acquired with a depth above zero: a recursive lock this thread still holds.
            Acquire::Locked if cell.depth.load(Relaxed) > 0 => {
                // SAFETY: acquired just above by this thread (a re-entry, which glibc does
                // not link again).
                unsafe { cell.mutex.unlock() };
                false
            }
            Acquire::Locked => {
                record.acquired(&cell.mutex, before);
                // SAFETY: acquired (and recorded) just above by this thread.
                unsafe { record.releasing(&cell.mutex, self.tracked()) };
                // SAFETY: as above.
                unsafe { cell.mutex.unlock() };
                true
            }
            // The holder died: nobody holds it any more; make it consistent and release it.
            Acquire::OwnerDied => {
                record.acquired(&cell.mutex, before);
                // SAFETY: acquired (EOWNERDEAD) just above by this thread.
                let consistent = unsafe { cell.mutex.consistent() };
                // SAFETY: still held by this thread, and recorded.
                unsafe { record.releasing(&cell.mutex, self.tracked()) };
                // SAFETY: still held by this thread.
                unsafe { cell.mutex.unlock() };
                consistent.is_ok()
            }
            // Not on anyone's robust list any more.
            Acquire::NotRecoverable => true,
            Acquire::Busy | Acquire::HeldByThisThread | Acquire::Failed(_) => false,
        };
        if !free {
            return;
        }
        // SAFETY: the mutex is initialised, not held (just checked by taking and releasing
        // it), and this is the last handle in the process that owns it, so nothing uses it.
        unsafe { cell.mutex.destroy() };
        // SAFETY: `block` is dropped here, once, and never used again (this is `Drop`).
        unsafe { ManuallyDrop::drop(&mut self.block) };
    }
}
