//! The robust locks this thread holds, recorded in this thread's own memory: how many (the
//! kernel recovers at most 2048 from a dying thread), and, for the links glibc keeps inside
//! each shared mutex, what they must be.
//!
//! glibc keeps a thread's held robust mutexes in a doubly linked list whose links live *in
//! the mutexes*, that is in shared memory, and its unlock writes through them: a process
//! that can write a lock cell while this thread holds it could make the unlock write a chosen
//! value at a chosen address of this process. So this thread records, when it acquires a
//! lock, where glibc linked it (which only private memory tells: the list head lives in the
//! thread's own memory), and before each unlock writes the two links back from that record.
//! glibc still reads them itself a moment later, so a writer racing that moment can still
//! win: that much glibc forces (see the trust model in [`named`](crate::named)).
//!
//! The record is exact only while every robust mutex on this thread's list is one of
//! sharedctypes' (and there are at most 32 of them). When another robust mutex shows up
//! among them (another library's), or the list's layout is not the one expected, the links
//! are left to glibc until the thread holds no sharedctypes lock any more.

use core::cell::UnsafeCell;

use crate::os::mutex::{self, PthreadMutex};

/// How many held locks the record follows link by link; a thread holding more at once
/// leaves the links to glibc until it holds none (the count goes on).
const TRACKED: usize = 32;

/// What [`Record::before_acquiring`] says for a lock that is not tracked.
pub(super) const UNTRACKED: usize = usize::MAX;

/// This thread's record. Plain data, so that the thread-local needs no destructor (and its
/// access no check of one): this is on every lock's fast path.
#[derive(Clone, Copy)]
struct Held {
    /// Robust locks this thread holds (first acquisitions, not re-entries).
    count: usize,
    /// How many of them are tracked: locks other processes may write (see
    /// [`RawMutex`](super::RawMutex)), up to [`TRACKED`].
    tracked: usize,
    /// Their list nodes, oldest first.
    nodes: [usize; TRACKED],
    /// The head of this thread's robust list (0: not looked up yet, 1: unknown).
    head: usize,
    /// The record is not exact: another robust mutex is on the list among these, or more
    /// are held than tracked, or the list is not laid out as expected. Links are then
    /// glibc's alone until this thread holds no sharedctypes lock.
    inexact: bool,
    /// The layout of the list was checked on this thread (at its first acquisition).
    checked: bool,
}

thread_local! {
    /// Only touched through [`Record`], whose methods take a reference for a few
    /// instructions and call out to nothing meanwhile (so no two references exist at once).
    static HELD: UnsafeCell<Held> = const {
        UnsafeCell::new(Held {
            count: 0,
            tracked: 0,
            nodes: [0; TRACKED],
            head: 0,
            inexact: false,
            checked: false,
        })
    };
}

/// This thread's record, reached once per lock operation (the thread-local lookup is the
/// costly part). Not `Send`: it is valid on this thread only.
#[derive(Clone, Copy)]
pub(super) struct Record(*mut Held);

/// This thread's record.
#[inline(always)]
pub(super) fn record() -> Record {
    Record(HELD.with(UnsafeCell::get))
}

impl Record {
    /// The record itself, briefly.
    #[inline(always)]
    fn get(&mut self) -> &mut Held {
        // SAFETY: the pointer is this thread's own thread-local, alive as long as the thread
        // (a `Record` never leaves it: it is not `Send`); the methods below take this
        // reference for a few instructions each, calling nothing that could take another.
        unsafe { &mut *self.0 }
    }

    /// Before an acquisition: for a `tracked` lock, the newest node of this thread's robust
    /// list now (0 if unknown), which [`acquired`](Self::acquired) checks to see that
    /// nothing foreign sits on the list; for another, [`UNTRACKED`].
    #[inline(always)]
    pub(super) fn before_acquiring(mut self, tracked: bool) -> usize {
        if tracked {
            self.get().newest_now()
        } else {
            UNTRACKED
        }
    }

    /// Records that this thread has just acquired `mutex` for the first time (not a
    /// re-entry), `before` being what [`before_acquiring`](Self::before_acquiring) said
    /// just before; the number of robust locks this thread holds now.
    #[inline(always)]
    pub(super) fn acquired(mut self, mutex: &PthreadMutex, before: usize) -> usize {
        let h = self.get();
        h.count += 1;
        if before != UNTRACKED {
            h.track(mutex.node(), before);
        }
        h.count
    }

    /// Before this thread's last release of `mutex` (it holds it): forgets the lock and,
    /// for a `tracked` one, writes the links glibc is about to follow from the record when
    /// the record is exact.
    ///
    /// # Safety
    /// This thread holds `mutex`, recorded by [`acquired`](Self::acquired).
    #[inline(always)]
    pub(super) unsafe fn releasing(mut self, mutex: &PthreadMutex, tracked: bool) {
        let h = self.get();
        h.count = h.count.saturating_sub(1);
        if tracked && h.tracked != 0 {
            // SAFETY: as for this function.
            unsafe { h.release_tracked(mutex) };
        }
    }

    /// The number of robust locks this thread holds.
    #[inline(always)]
    pub(super) fn count(mut self) -> usize {
        self.get().count
    }
}

impl Held {
    /// The part of [`Record::releasing`] for a tracked lock while the record tracks some:
    /// out of line, so that the untracked fast path stays a few instructions.
    ///
    /// # Safety
    /// As for [`Record::releasing`].
    #[inline(never)]
    unsafe fn release_tracked(&mut self, mutex: &PthreadMutex) {
        let node = mutex.node();
        let n = self.tracked;
        if self.nodes[n - 1] == node && !self.inexact && self.newest() == node {
            // The usual case: the lock taken last, released first.
            self.tracked = n - 1;
            let next = if n == 1 { self.head } else { self.nodes[n - 2] };
            // SAFETY: this thread holds the mutex (the caller's contract), and with the
            // record exact, the list head and `next` are the nodes glibc linked it between.
            unsafe { mutex.set_links(self.head, next) };
        } else {
            // SAFETY: as above.
            unsafe { self.release_inside(mutex, node) };
        }
        if self.tracked == 0 {
            self.inexact = false;
        }
    }

    /// The head of this thread's robust list, or `None` if it cannot be known.
    #[inline(always)]
    fn head(&mut self) -> Option<usize> {
        if self.head == 0 {
            self.head = match mutex::robust_head() {
                0 => 1,
                head => head,
            };
        }
        (self.head != 1).then_some(self.head)
    }

    /// [`newest`](Self::newest), out of line: a tracked lock's acquisition only.
    #[inline(never)]
    fn newest_now(&mut self) -> usize {
        self.newest()
    }

    /// The newest node of this thread's robust list now (0 if unknown).
    #[inline(always)]
    fn newest(&mut self) -> usize {
        match self.head() {
            // SAFETY: the head was looked up by this thread.
            Some(head) => unsafe { mutex::newest(head) },
            None => 0,
        }
    }

    /// Records the node of a lock just acquired; `before` is the newest node of the list
    /// just before.
    #[inline(never)]
    fn track(&mut self, node: usize, before: usize) {
        // glibc linked the mutex in front of the newest node it found (`before`), which must
        // be the newest one recorded here.
        let expected = match self.tracked {
            0 => self.head,
            n => self.nodes[n - 1],
        };
        if self.tracked == TRACKED || before == 0 || before != expected {
            self.inexact = true;
        }
        if self.tracked < TRACKED {
            self.nodes[self.tracked] = node;
            self.tracked += 1;
            if !self.checked {
                self.check_layout(node);
            }
        }
    }

    /// Once per thread, at its first tracked acquisition: is the list laid out as expected
    /// (the node just linked its newest)? If not, links are never rewritten on this thread.
    #[cold]
    fn check_layout(&mut self, node: usize) {
        self.checked = true;
        if self.newest() != node {
            self.head = 1;
            self.inexact = true;
        }
    }

    /// [`Record::releasing`] of a tracked lock that is not the newest one held, or while the
    /// record is not exact.
    ///
    /// # Safety
    /// As for [`Record::releasing`].
    #[cold]
    unsafe fn release_inside(&mut self, mutex: &PthreadMutex, node: usize) {
        let n = self.tracked;
        let Some(i) = self.nodes[..n].iter().rposition(|&x| x == node) else {
            return; // acquired untracked (exposed since): glibc's links alone
        };
        if !self.inexact && self.newest() == self.nodes[n - 1] {
            let next = if i == 0 { self.head } else { self.nodes[i - 1] };
            let prev = if i + 1 == n {
                self.head
            } else {
                self.nodes[i + 1]
            };
            // SAFETY: this thread holds the mutex (the caller's contract), and with the
            // record exact, `prev` and `next` are the nodes glibc linked it between.
            unsafe { mutex.set_links(prev, next) };
        } else {
            // A robust mutex from elsewhere was locked since.
            self.inexact = true;
        }
        self.nodes.copy_within(i + 1..n, i);
        self.tracked = n - 1;
    }
}

static HOOKS: crate::fork::Hooks = crate::fork::Hooks {
    prepare: crate::fork::nothing,
    parent: crate::fork::nothing,
    child: forget_after_fork,
};

/// Registers, once, the fork hook that resets the record in a forked child.
#[inline]
pub(super) fn ensure_registered() {
    static REGISTERED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !REGISTERED.load(core::sync::atomic::Ordering::Acquire) {
        crate::fork::on_fork(&HOOKS);
        REGISTERED.store(true, core::sync::atomic::Ordering::Release);
    }
}

/// In a forked child (a fork hook): the locks its forking thread held belong to the parent's
/// thread, and are not on the child's (empty) robust list. (After a raw `clone`, which runs
/// no hook, the inherited record stays: it only overestimates the count, and the next
/// acquisition finds the list empty where the record is not, and leaves the links to glibc.)
fn forget_after_fork() {
    let mut record = record();
    let h = record.get();
    h.count = 0;
    h.tracked = 0;
    h.inexact = false;
}
