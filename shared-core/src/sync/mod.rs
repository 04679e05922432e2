//! Waiting for each other: [`Condition`], [`Event`], [`Semaphore`], [`BoundedSemaphore`] and
//! [`Barrier`] (Python's `multiprocessing` synchronization primitives).
//!
//! All of them live in shared memory and work between threads, forked processes and spawned
//! ones (they can be sent as [`Process::spawn`](crate::Process::spawn) arguments). They are
//! built on futexes rather than semaphores (CPython's), so that a process that dies at any
//! point never leaves the others blocked for ever: nothing but a robust lock is ever held
//! across a wait, every wait has a timeout form, and a dead party is reported or
//! timed out. Each documents what a death means for it.

use core::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::os::futex::{self, Wake};
use crate::spin::Budget;

/// Waits until `done()` (which may also take what it waits for, as a semaphore's permit):
/// first spinning for the kind's `budget` (see [`crate::spin`]), then sleeping on `word`
/// while it holds `expected`, counting this thread in `waiters` while asleep (so a waker
/// with nobody to wake makes no system call). `false` if `deadline` passed first. Wake-ups
/// for other reasons (signals, spurious returns) only make it look again.
pub(crate) fn wait_while_equal(
    word: &AtomicU32,
    expected: u32,
    waiters: &AtomicU32,
    deadline: Option<Instant>,
    budget: &Budget,
    done: impl Fn() -> bool,
) -> bool {
    if budget.spin(&done) {
        return true;
    }
    loop {
        if done() {
            return true;
        }
        let left = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return done(),
            },
        };
        waiters.fetch_add(1, Ordering::SeqCst);
        let woke = futex::wait(word, expected, left);
        waiters.fetch_sub(1, Ordering::SeqCst);
        if woke == Wake::TimedOut {
            return done();
        }
    }
}

mod barrier;
mod condition;
mod event;
mod semaphore;
pub(crate) mod state;

pub use barrier::Barrier;
pub use condition::Condition;
pub use event::Event;
pub use semaphore::{
    Bounded, BoundedSemaphore, CountingSemaphore, Permit, Semaphore, SemaphoreKind, Unbounded,
};
