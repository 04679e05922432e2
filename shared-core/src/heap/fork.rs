//! What the heap does around `fork`.
//!
//! A forked child inherits the parent's arenas (they are `MAP_SHARED`, so inherited objects
//! stay valid and shared), but it must never allocate from their free space: the parent keeps
//! allocating there too, and both would hand out the same bytes. CPython re-creates its heap
//! when the pid changes; we do the same, eagerly, with `pthread_atfork`:
//!
//! - *prepare* (in the parent, before the fork) takes the heap lock, so no other thread of the
//!   parent is half-way through the allocator when the address space is copied;
//! - *parent* releases it;
//! - *child* leaks the inherited allocator state (its mappings stay mapped for the objects the
//!   child inherited), starts an empty heap, bumps the heap [generation](generation), refreshes
//!   the cached pid, and releases the lock.
//!
//! Blocks remember the generation that allocated them; a block dropped in a later generation
//! (an inherited object dropped in the child) is not returned to any free list.
//!
//! This covers `fork(2)` as called through libc (`libc::fork`, `nix::unistd::fork`,
//! [`Process::start`](crate::Process::start)); a raw `clone` system call bypasses it.

use std::cell::RefCell;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use std::os::fd::OwnedFd;

use super::lifeline::{self, Lifeline};
use super::{HEAP, Heap};

/// Registration of the fork handlers: [`UNREGISTERED`], [`REGISTERED`], or the pid of the
/// process one of whose threads is registering them right now.
///
/// Not a `std::sync::Once`: a process forked while another of its threads is inside
/// `call_once` inherits a `Once` that stays "running" forever, and the child would block on
/// its first shared allocation. Here the child notices that the registering thread belongs to
/// another process and takes over (if the registration had completed before the fork, the
/// child handler, which then ran in the child, has already set [`REGISTERED`]).
static STATE: AtomicI32 = AtomicI32::new(UNREGISTERED);
const UNREGISTERED: i32 = 0;
const REGISTERED: i32 = -1;
static GENERATION: AtomicU32 = AtomicU32::new(0);
static PID: AtomicI32 = AtomicI32::new(0);

/// What *prepare* hands to *parent* / *child*: the heap lock, and the new fork's lifeline
/// pipe.
type AcrossFork = (MutexGuard<'static, Heap>, Option<(OwnedFd, OwnedFd)>);

thread_local! {
    /// Held by the forking thread between *prepare* and *parent*/*child*.
    static HELD_ACROSS_FORK: RefCell<Option<AcrossFork>> = const { RefCell::new(None) };
}

/// Installs the fork handlers once per process (children inherit them). Every use of the heap
/// and of the cached pid goes through here first.
#[inline]
pub(crate) fn ensure_registered() {
    if STATE.load(Ordering::Acquire) != REGISTERED {
        register();
    }
}

#[cold]
fn register() {
    let me = crate::os::process::getpid();
    loop {
        let state = STATE.load(Ordering::Acquire);
        let claimable = match state {
            REGISTERED => return,
            UNREGISTERED => true,
            // Claimed by a thread of the process this one was forked from: that thread does
            // not exist here, and the handlers were not registered before the fork.
            pid => pid != me,
        };
        if claimable
            && STATE
                .compare_exchange(state, me, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            PID.store(me, Ordering::Relaxed);
            crate::os::process::at_fork(prepare, parent, child);
            STATE.store(REGISTERED, Ordering::Release);
            return;
        }
        // Another thread of this process is registering: it will be done in a moment.
        std::thread::yield_now();
    }
}

/// The heap generation of this process: 0 in the first process, one more in each forked
/// generation below it.
#[inline]
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// This process's id, without a system call (glibc no longer caches `getpid`).
#[inline]
pub(crate) fn current_pid() -> i32 {
    match PID.load(Ordering::Relaxed) {
        // Set by the registration (and by the child handler after a fork).
        0 => {
            ensure_registered();
            PID.load(Ordering::Relaxed)
        }
        pid => pid,
    }
}

extern "C" fn prepare() {
    let guard = HEAP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pipe = lifeline::pipe();
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some((guard, pipe)));
}

extern "C" fn parent() {
    let Some((mut heap, pipe)) = HELD_ACROSS_FORK.with(|held| held.borrow_mut().take()) else {
        return;
    };
    // The child holds the write end now; the parent keeps only the read end.
    let read = pipe.map(|(read, write)| {
        drop(write);
        read
    });
    // Forget the forks whose descendants have all gone, so that a program that forks many
    // short-lived children (with or without `Process`) keeps a bounded number of pipes open.
    lifeline::prune(&mut heap.lifelines);
    let epoch = heap.epoch;
    heap.lifelines.push(Lifeline::new(epoch, read));
    heap.epoch += 1;
}

extern "C" fn child() {
    STATE.store(REGISTERED, Ordering::Release);
    GENERATION.fetch_add(1, Ordering::Relaxed);
    PID.store(crate::os::process::getpid(), Ordering::Relaxed);
    let held = HELD_ACROSS_FORK.with(|held| held.borrow_mut().take());
    let (mut guard, pipe) = match held {
        Some(held) => held,
        // Only reachable if the handlers were registered between prepare and child, which
        // cannot happen (registration and fork both run under glibc's atfork lock).
        None => (
            HEAP.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            None,
        ),
    };
    let mut inherited = std::mem::replace(&mut *guard, Heap::new());
    // The inherited arenas stay mapped (and their memfds open) for as long as the child
    // lives: objects it inherited point into them, and it may send them on. Their free
    // lists belong to the parent and are simply dropped from view, never used to allocate.
    inherited.bequeath(&mut guard);
    if let Some((read, write)) = pipe {
        drop(read);
        // This process's end of the lifeline: open until it (and everything it forks)
        // exits or execs. Never closed explicitly; handed on to processes it spawns.
        guard.held.push(std::os::fd::IntoRawFd::into_raw_fd(write));
    }
    // The parent's lifelines are the parent's business: close their read ends here.
    drop(std::mem::take(&mut inherited.lifelines));
    std::mem::forget(inherited);
}
