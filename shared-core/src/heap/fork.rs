//! What the heap does around `fork`.
//!
//! A forked child inherits the parent's arenas (they are `MAP_SHARED`, so inherited objects
//! stay valid and shared), but it must never allocate from their free space: the parent keeps
//! allocating there too, and both would hand out the same bytes. CPython re-creates its heap
//! when the pid changes; we do the same, eagerly, with fork hooks (see [`crate::fork`]):
//!
//! - *prepare* (in the parent, before the fork) takes the heap lock, so no other thread of the
//!   parent is half-way through the allocator when the address space is copied;
//! - *parent* releases it;
//! - *child* leaks the inherited allocator state (its mappings stay mapped for the objects the
//!   child inherited), starts an empty heap, and releases the lock (the process generation and
//!   the cached pid are `crate::fork`'s).
//!
//! Blocks remember the generation that allocated them; a block dropped in a later generation
//! (an inherited object dropped in the child) is not returned to any free list.
//!

use std::cell::RefCell;
use std::sync::MutexGuard;
use std::sync::atomic::{AtomicBool, Ordering};

use std::os::fd::OwnedFd;

use super::lifeline::{self, Lifeline};
use super::{HEAP, Heap};
use crate::fork::Hooks;

/// What *prepare* hands to *parent* / *child*: the heap lock, and the new fork's lifeline
/// pipe.
type AcrossFork = (MutexGuard<'static, Heap>, Option<(OwnedFd, OwnedFd)>);

thread_local! {
    /// Held by the forking thread between *prepare* and *parent*/*child*.
    static HELD_ACROSS_FORK: RefCell<Option<AcrossFork>> = const { RefCell::new(None) };
}

static HOOKS: Hooks = Hooks {
    prepare,
    parent,
    child,
};

/// Set once the heap's hooks are registered (with [`crate::fork`]).
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Registers the heap's fork hooks once per process (children inherit them). Every use of
/// the heap goes through here first.
#[inline]
pub(crate) fn ensure_registered() {
    if !REGISTERED.load(Ordering::Acquire) {
        register();
    }
}

#[cold]
fn register() {
    crate::fork::on_fork(&HOOKS);
    REGISTERED.store(true, Ordering::Release);
}

fn prepare() {
    let guard = HEAP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pipe = lifeline::pipe();
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some((guard, pipe)));
}

fn parent() {
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

fn child() {
    let held = HELD_ACROSS_FORK.with(|held| held.borrow_mut().take());
    let (mut guard, pipe) = match held {
        Some(held) => held,
        // Only reachable if the hooks were registered between prepare and child (by another
        // thread, during this fork).
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
