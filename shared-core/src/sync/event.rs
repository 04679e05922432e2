//! [`Event`]: a flag processes wait for (Python's `multiprocessing.Event`).

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::time::Instant;

use super::state::{AtomicState, Shared};
use crate::error::Result;
use crate::os::futex;

#[repr(C)]
pub(crate) struct EventState {
    tag: AtomicU32,
    flag: AtomicU32,
    waiters: AtomicU32,
    /// Bumped by every `set()`: waiters sleep on it, so that a waiter released by a `set()`
    /// goes on even if a `clear()` follows at once (CPython releases every process waiting
    /// at the moment of `set()`, whatever comes after).
    seq: AtomicU32,
}

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for EventState {
    const TAG: u32 = u32::from_le_bytes(*b"SEVT");
    const WHAT: &'static str = "an Event";
}

/// A flag in shared memory that processes and threads wait for (Python's `Event`).
///
/// It lives in shared memory and works between threads, forked and spawned processes alike;
/// waiting costs a futex wait, setting it a store (and a wake only when someone waits). No
/// lock is involved, so a process that dies at any point leaves the event usable.
///
/// ```
/// use sharedctypes::{Event, Process};
///
/// let ready = Event::new()?;
/// let child = Process::start(|| ready.wait())?;
/// assert!(!ready.is_set());
/// ready.set(); // the child wakes up
/// assert_eq!(child.join()?, 0);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Event {
    state: Shared<EventState>,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Errors
    /// As for [`RawValue::new`](crate::RawValue::new).
    ///
    /// ```
    /// use sharedctypes::Event;
    /// assert!(!Event::new()?.is_set());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new() -> Result<Event> {
        Ok(Event {
            state: Shared::new(|_| {})?,
        })
    }

    pub(crate) fn from_state(state: Shared<EventState>) -> Event {
        Event { state }
    }

    pub(crate) fn state(&self) -> &Shared<EventState> {
        &self.state
    }

    /// Sets the flag and wakes everyone waiting (a system call only if someone waits). Every
    /// process waiting at this moment is released, even if the flag is cleared again at
    /// once.
    ///
    /// ```
    /// use sharedctypes::Event;
    /// let e = Event::new()?;
    /// e.set();
    /// assert!(e.is_set());
    /// e.wait(); // returns at once
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn set(&self) {
        let s = self.state.get();
        s.flag.store(1, Ordering::SeqCst);
        s.seq.fetch_add(1, Ordering::SeqCst);
        if s.waiters.load(Ordering::SeqCst) != 0 {
            futex::wake(&s.seq, u32::MAX);
        }
    }

    /// Clears the flag.
    ///
    /// ```
    /// use sharedctypes::Event;
    /// let e = Event::new()?;
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn clear(&self) {
        self.state.get().flag.store(0, Ordering::SeqCst);
    }

    /// True if the flag is set.
    ///
    /// ```
    /// use sharedctypes::Event;
    /// let e = Event::new()?;
    /// assert_eq!(e.is_set(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_set(&self) -> bool {
        self.state.get().flag.load(Ordering::SeqCst) != 0
    }

    /// Blocks until the flag is set.
    ///
    /// ```
    /// use sharedctypes::{Event, Process};
    /// let go = Event::new()?;
    /// let waiter = Process::start(|| go.wait())?;
    /// go.set();
    /// assert_eq!(waiter.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Waits at most `timeout` for the flag; whether it is set (Python's
    /// `wait(timeout)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Event;
    /// let e = Event::new()?;
    /// assert_eq!(e.wait_timeout(Duration::from_millis(10)), false);
    /// e.set();
    /// assert_eq!(e.wait_timeout(Duration::from_secs(1)), true);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let s = self.state.get();
        // The generation first: a `set()` after this read changes it, and one before it has
        // already set the flag (it stores the flag before bumping the generation).
        let seq = s.seq.load(Ordering::SeqCst);
        let released = || s.flag.load(Ordering::SeqCst) != 0 || s.seq.load(Ordering::SeqCst) != seq;
        super::wait_while_equal(&s.seq, seq, &s.waiters, deadline, released)
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
