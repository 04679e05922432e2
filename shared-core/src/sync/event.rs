//! [`Event`]: a flag processes wait for (Python's `multiprocessing.Event`).

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::time::Instant;

use super::state::{AtomicState, Shared};
use crate::description::{Description, Kind};
use crate::error::Result;
use crate::named::{self, Named, Plan};
use crate::os::futex;
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;

#[repr(C)]
pub(crate) struct EventState {
    tag: AtomicU32,
    /// The flag (bit 0) and the number of `set()` calls (the other bits, wrapping), in one
    /// word that every `set()` changes at once: waiters sleep on it, so that a waiter
    /// released by a `set()` goes on even if a `clear()` follows at once (CPython releases
    /// every process waiting at the moment of `set()`, whatever comes after). One word, so
    /// that no waiter can see a `set()` half done — its flag and not yet its count — and be
    /// released a second time by the rest of it.
    word: AtomicU32,
    waiters: AtomicU32,
    /// Zero; for a later use.
    reserved: AtomicU32,
}

/// The flag's bit in [`EventState::word`].
const SET: u32 = 1;
/// One `set()` in the count of [`EventState::word`].
const ONE_SET: u32 = 2;

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
        let _ = s
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                Some(w.wrapping_add(ONE_SET) | SET)
            });
        if s.waiters.load(Ordering::SeqCst) != 0 {
            futex::wake(&s.word, u32::MAX);
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
        self.state.get().word.fetch_and(!SET, Ordering::SeqCst);
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
        self.state.get().word.load(Ordering::SeqCst) & SET != 0
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
        // Released when the flag is set, or when a `set()` came since this read (its count
        // differs), even if the flag was cleared again.
        let seen = s.word.load(Ordering::SeqCst);
        let released = || {
            let now = s.word.load(Ordering::SeqCst);
            now & SET != 0 || now & !SET != seen & !SET
        };
        static SPIN: Budget = Budget::new();
        super::wait_while_equal(&s.word, seen, &s.waiters, deadline, &SPIN, released)
    }
}

impl Event {
    /// Creates the named event `name`, not set (mode 0600): every process that opens it
    /// waits for and sets the same flag. The returned handle removes the name when it drops,
    /// unless [`persist`](Named::persist)ed. See [`named`](crate::named).
    ///
    /// # Errors
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`](crate::Error::InvalidName); [`Error::Os`](crate::Error::Os).
    ///
    /// ```
    /// use sharedctypes::{Event, Process};
    /// # let name = format!("sharedctypes-doc-event-{}", std::process::id());
    /// let done = Event::create_named(&name)?;
    /// let worker = Process::start(|| {
    ///     // An unrelated process would do the same: open it by name.
    ///     Event::open_named(&name).map(|e| e.set())
    /// })?;
    /// done.wait();
    /// assert_eq!(worker.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Named<Event>> {
        Self::create_named_with_mode(name, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::Event;
    /// # let name = format!("sharedctypes-doc-event-mode-{}", std::process::id());
    /// let e = Event::create_named_with_mode(&name, 0o660)?;
    /// assert!(!e.is_set());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, mode: u32) -> Result<Named<Event>> {
        named::create(name, mode, Plan::primitive(Kind::Event, None), |p| {
            Ok(Event::from_state(Shared::init_in(p.data(), |_| {})))
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, Event, Semaphore};
# let name = format!("sharedctypes-doc-event-open-{}", std::process::id());
let created = Event::create_named(&name)?;
let opened = Event::open_named(&name)?; // in this or any other process
created.set();
assert!(opened.is_set());
assert_eq!(
    Semaphore::open_named(&name).unwrap_err(),
    Error::NotNamedObject { name: name.clone(), reason: "it holds an Event, not a Semaphore".into() }
);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Event, named::OpenOptions};
# let name = format!("sharedctypes-doc-event-open-with-{}", std::process::id());
let _e = Event::create_named(&name)?;
assert!(!Event::open_named_with(&name, OpenOptions::default())?.is_set());
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

impl Object for Event {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        crate::share::with_data(Kind::Event, self.state().block(), out)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Event, None).map_err(crate::share::invalid)?;
        Ok(Event::from_state(Shared::<EventState>::received(d, from)?))
    }
}
