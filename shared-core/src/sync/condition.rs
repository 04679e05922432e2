//! [`Condition`]: waiting for a change made under a lock (Python's
//! `multiprocessing.Condition`).

use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::time::Duration;
use std::time::Instant;

use super::state::{AtomicState, Shared};
use crate::description::{Description, Kind};
use crate::error::{Error, Result};
use crate::lock::{LockGuard, LockKind, RLock, RobustLock};
use crate::named::{self, Named, Plan};
use crate::os::futex;
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;

#[repr(C)]
pub(crate) struct ConditionState {
    tag: AtomicU32,
    /// Bumped by every notification that wakes someone: waiters sleep on it.
    seq: AtomicU32,
    /// Two counters in one word, changed together: waiters not yet notified (high half), and
    /// wake-ups granted by notifications but not yet taken (low half). Their sum is the
    /// number of threads inside a wait. `notify(n)` turns at most `n` waiters into wake-ups;
    /// a waiter returns "notified" only by taking one. A waiter killed while waiting stays
    /// counted: a later notification may then grant a wake-up nobody takes (or that another
    /// waiter takes in its place).
    counts: AtomicU64,
    /// Threads asleep on `seq` (not those still spinning): a notification with nobody asleep
    /// makes no system call. A waiter killed in its sleep stays counted, which only costs
    /// later notifications a system call.
    sleepers: AtomicU32,
    /// Zero; for a later use.
    reserved: AtomicU32,
}

/// One waiter, in [`ConditionState::counts`].
const WAITER: u64 = 1 << 32;
const TOKENS: u64 = WAITER - 1;

impl ConditionState {
    /// Takes a wake-up if one is granted; `true` if taken.
    fn take_wakeup(&self) -> bool {
        self.counts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                (c & TOKENS != 0).then(|| c - 1)
            })
            .is_ok()
    }

    /// Leaves the wait after its deadline: takes a wake-up if a notification came since
    /// `registered` (then the wait *was* notified), else gives back its place as a waiter.
    /// `true` if notified.
    fn leave(&self, registered: u32) -> bool {
        let notified_since = self.seq.load(Ordering::SeqCst) != registered;
        let mut notified = false;
        let _ = self
            .counts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                let (waiters, tokens) = (c >> 32, c & TOKENS);
                notified = (notified_since || waiters == 0) && tokens != 0;
                if notified {
                    Some(c - 1)
                } else if waiters != 0 {
                    Some(c - WAITER)
                } else {
                    None // inconsistent counts (another process wrote them): leave them
                }
            });
        notified
    }
}

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for ConditionState {
    const TAG: u32 = u32::from_le_bytes(*b"SCND");
    const WHAT: &'static str = "a Condition";
}

/// A condition variable in shared memory, over a [`Lock`](crate::Lock) or an [`RLock`]
/// (Python's `Condition`): wait, holding the lock, until another thread or process changes
/// what you wait for and notifies.
///
/// [`wait`](Self::wait) takes the guard of the condition's lock, releases the lock (every
/// level of an `RLock`), sleeps until notified, takes the lock again and gives the guard
/// back. Like every condition variable it may wake without a notification: check what you
/// wait for in a loop, or let [`wait_for`](Self::wait_for) do it.
///
/// It lives in shared memory and works between threads, forked and spawned processes. It is
/// built on a futex, not on semaphores (CPython's): a waiter killed while waiting disturbs
/// no later notification, and a notification with nobody waiting costs no system call. The
/// death of a *lock* holder is reported on the guard [`wait`](Self::wait) returns, as on any
/// guard ([`LockGuard::owner_died`]).
///
/// ```
/// use sharedctypes::{Condition, Process, RawValue};
///
/// let cond = Condition::new_rlock()?;
/// let ready = RawValue::new(0u32)?; // guarded by the condition's lock
/// let child = Process::start(|| -> sharedctypes::Result<()> {
///     let guard = cond.acquire()?;
///     ready.set(1);
///     cond.notify_all();
///     drop(guard);
///     Ok(())
/// })?;
/// let guard = cond.acquire()?;
/// let (guard, ok) = cond.wait_for(guard, || ready.get() == 1, None)?;
/// assert!(ok);
/// drop(guard);
/// assert_eq!(child.join()?, 0);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Condition<L = RLock> {
    lock: L,
    state: Shared<ConditionState>,
}

impl Condition<RLock> {
    /// A condition over a new [`RLock`] (Python's `Condition()`).
    ///
    /// # Errors
    /// As for [`RLock::new`](crate::lock::RobustLock::new).
    ///
    /// ```
    /// use sharedctypes::Condition;
    /// let c = Condition::new_rlock()?;
    /// let g = c.acquire()?;
    /// let again = c.acquire()?; // an RLock: re-entered
    /// drop((again, g));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new_rlock() -> Result<Condition<RLock>> {
        Condition::new(RLock::new()?)
    }

    /// Creates the named condition `name` (mode 0600) with its own [`RLock`] in the same
    /// object (Python's `Condition()`): every process that opens it waits and notifies on the
    /// same condition, under the same lock. The
    /// returned handle removes the name when it drops, unless
    /// [`persist`](Named::persist)ed. See [`named`](crate::named).
    ///
    /// # Errors
    /// As for [`new`](Self::new); [`Error::AlreadyExists`] if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`].
    ///
    /// ```
    /// use sharedctypes::{Condition, Process, RawValue};
    /// # let name = format!("sharedctypes-doc-condition-{}", std::process::id());
    /// let cond = Condition::create_named(&name)?;
    /// let ready = RawValue::new(0u32)?; // guarded by the condition's lock
    /// let other = Process::start(|| -> sharedctypes::Result<()> {
    ///     // An unrelated process would do the same: open it by name.
    ///     let cond = Condition::open_named(&name)?;
    ///     let _g = cond.acquire()?;
    ///     ready.set(1);
    ///     cond.notify_all();
    ///     Ok(())
    /// })?;
    /// let g = cond.acquire()?;
    /// let (_g, ok) = cond.wait_for(g, || ready.get() == 1, None)?;
    /// assert!(ok);
    /// assert_eq!(other.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::Condition;
    /// # let name = format!("sharedctypes-doc-condition-mode-{}", std::process::id());
    /// let c = Condition::create_named_with_mode(&name, 0o660)?;
    /// drop(c.acquire()?);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, mode: u32) -> Result<Named<Self>> {
        let plan = Plan::primitive(Kind::Condition, Some(RLock::mutex()));
        named::create(name, mode, plan, |p| {
            Ok(Condition {
                lock: RLock::create_in(p.lock())?,
                state: Shared::init_in(p.data(), |_| {}),
            })
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Condition, Error, Event};
# let name = format!("sharedctypes-doc-condition-open-{}", std::process::id());
let _c = Condition::create_named(&name)?;
drop(Condition::open_named(&name)?.acquire()?);
assert_eq!(
    Event::open_named(&name).unwrap_err(),
    Error::NotNamedObject {
        name: name.clone(),
        reason: "it holds a Condition with an RLock, not an Event".into()
    }
);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Condition, named::OpenOptions};
# let name = format!("sharedctypes-doc-condition-open-with-{}", std::process::id());
let _c = Condition::create_named(&name)?;
let c = Condition::open_named_with(&name, OpenOptions::default())?;
c.notify_all(); // nobody waits
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<K: LockKind> Condition<RobustLock<K>> {
    /// A condition over `lock` (Python's `Condition(lock)`): several conditions may share
    /// one lock (a bounded buffer's "not empty" and "not full").
    ///
    /// # Errors
    /// As for [`RawValue::new`](crate::RawValue::new).
    ///
    /// ```
    /// use sharedctypes::{Condition, Lock};
    /// let lock = Lock::new()?;
    /// let not_empty = Condition::new(lock.clone())?;
    /// let not_full = Condition::new(lock.clone())?;
    /// assert_eq!(not_empty.get_lock(), not_full.get_lock());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(lock: RobustLock<K>) -> Result<Self> {
        Ok(Condition {
            lock,
            state: Shared::new(|_| {})?,
        })
    }

    pub(crate) fn from_parts(lock: RobustLock<K>, state: Shared<ConditionState>) -> Self {
        Condition { lock, state }
    }

    pub(crate) fn state(&self) -> &Shared<ConditionState> {
        &self.state
    }

    /// The lock (Python's `Condition` used as a context manager takes it).
    ///
    /// ```
    /// use sharedctypes::{Condition, Lock};
    /// let lock = Lock::new()?;
    /// assert_eq!(Condition::new(lock.clone())?.get_lock(), &lock);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn get_lock(&self) -> &RobustLock<K> {
        &self.lock
    }

    /// Takes the lock: the guard to [`wait`](Self::wait) with (Python's `with cond:`).
    ///
    /// # Errors
    /// As for [`RobustLock::acquire`].
    ///
    /// ```
    /// use sharedctypes::Condition;
    /// let c = Condition::new_rlock()?;
    /// let guard = c.acquire()?;
    /// assert!(!guard.owner_died());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn acquire(&self) -> Result<LockGuard<'_>> {
        self.lock.acquire()
    }

    /// Releases the lock, sleeps until notified, and takes the lock again (Python's
    /// `wait()`). May return without a notification: check the condition in a loop, or use
    /// [`wait_for`](Self::wait_for).
    ///
    /// # Errors
    /// [`Error::NotTheLock`] for a guard of another lock (that lock is released, as the
    /// guard drops); otherwise as for [`RobustLock::acquire`] when the lock is taken again.
    ///
    /// ```
    /// use sharedctypes::{Condition, Process, RawValue};
    /// let c = Condition::new_rlock()?;
    /// let n = RawValue::new(0u32)?;
    /// let producer = Process::start(|| -> sharedctypes::Result<()> {
    ///     let _g = c.acquire()?;
    ///     n.set(42);
    ///     c.notify(1);
    ///     Ok(())
    /// })?;
    /// let mut g = c.acquire()?;
    /// while n.get() == 0 {
    ///     g = c.wait(g)?;
    /// }
    /// assert_eq!(n.get(), 42);
    /// drop(g);
    /// assert_eq!(producer.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait<'a>(&'a self, guard: LockGuard<'a>) -> Result<LockGuard<'a>> {
        self.wait_until(guard, None).map(|(g, _)| g)
    }

    /// [`wait`](Self::wait) for at most `timeout`; the guard, and `false` if the timeout
    /// passed (Python's `wait(timeout)`).
    ///
    /// # Errors
    /// As for [`wait`](Self::wait).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Condition;
    /// let c = Condition::new_rlock()?;
    /// let g = c.acquire()?;
    /// let (g, notified) = c.wait_timeout(g, Duration::from_millis(10))?;
    /// assert!(!notified); // nobody notified
    /// drop(g);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait_timeout<'a>(
        &'a self,
        guard: LockGuard<'a>,
        timeout: Duration,
    ) -> Result<(LockGuard<'a>, bool)> {
        self.wait_until(guard, Instant::now().checked_add(timeout))
    }

    /// Waits until `predicate()` is true, for at most `timeout` (`None`: for ever); the
    /// guard and the predicate's last value (Python's `wait_for(predicate, timeout)`). The
    /// predicate is evaluated with the lock held.
    ///
    /// # Errors
    /// As for [`wait`](Self::wait).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::{Condition, RawValue};
    /// let c = Condition::new_rlock()?;
    /// let items = RawValue::new(0u32)?;
    /// let g = c.acquire()?;
    /// let (g, ready) = c.wait_for(g, || items.get() > 0, Some(Duration::from_millis(10)))?;
    /// assert!(!ready); // nothing came in time
    /// items.set(1);
    /// let (_g, ready) = c.wait_for(g, || items.get() > 0, None)?; // true at once
    /// assert!(ready);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<(LockGuard<'a>, bool)> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if predicate() {
                return Ok((guard, true));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok((guard, false));
            }
            guard = self.wait_until(guard, deadline)?.0;
        }
    }

    fn wait_until<'a>(
        &'a self,
        guard: LockGuard<'a>,
        deadline: Option<Instant>,
    ) -> Result<(LockGuard<'a>, bool)> {
        let raw = guard.raw();
        if raw.addr() != self.lock.raw().addr() {
            return Err(Error::NotTheLock);
        }
        let s = self.state.get();
        // The generation first, then the place among the waiters: a notification that counts
        // this waiter bumps the generation after counting it, so this waiter may take a
        // wake-up; one that came before does not count it, and its wake-ups are for others.
        let registered = s.seq.load(Ordering::SeqCst);
        s.counts.fetch_add(WAITER, Ordering::SeqCst);
        core::mem::forget(guard);
        // SAFETY: this thread holds the mutex: `guard` proved it, and was forgotten so that
        // nothing else releases it.
        let depth = unsafe { raw.release_all() };
        let notified = loop {
            let seen = s.seq.load(Ordering::SeqCst);
            if seen != registered && s.take_wakeup() {
                break true;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                break s.leave(registered);
            }
            // The notifier, running on another core, usually answers at once: look again
            // for a moment before sleeping.
            static SPIN: Budget = Budget::new();
            if SPIN.spin(|| s.seq.load(Ordering::SeqCst) != seen) {
                continue;
            }
            // Counted before the futex compares `seq` with `seen`, so a notifier that bumped
            // `seq` after that either sees the count and wakes, or made the futex return at once.
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            // Returns on a notification, a signal, a timeout or spuriously: all look again.
            futex::wait(&s.seq, seen, left);
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
        };
        // (The notifier usually still holds the lock for a moment: the lock spins for it
        // before sleeping on it.)
        raw.reacquire(depth)?;
        // SAFETY: this thread has just taken the mutex again (`depth` times, the outer
        // guards it still holds owning the other levels).
        let guard = unsafe { LockGuard::new(raw) };
        Ok((guard, notified))
    }

    /// Wakes at most `n` waiters (Python's `notify(n)`); no system call if nobody waits.
    /// Call it after changing, under the lock, what the waiters wait for.
    ///
    /// ```
    /// use sharedctypes::Condition;
    /// let c = Condition::new_rlock()?;
    /// c.notify(1); // nobody waits: nothing happens
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn notify(&self, n: u32) {
        let s = self.state.get();
        let mut woken = 0;
        let granted = s
            .counts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                woken = (c >> 32).min(u64::from(n));
                (woken != 0).then(|| c - woken * WAITER + woken)
            });
        if granted.is_ok() {
            s.seq.fetch_add(1, Ordering::SeqCst);
            if s.sleepers.load(Ordering::SeqCst) != 0 {
                futex::wake(&s.seq, woken as u32);
            }
        }
    }

    /// Wakes every waiter (Python's `notify_all()`).
    ///
    /// ```
    /// use sharedctypes::{Condition, Process, RawValue};
    /// let c = Condition::new_rlock()?;
    /// let go = RawValue::new(0u32)?;
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         Process::start(|| -> sharedctypes::Result<()> {
    ///             let g = c.acquire()?;
    ///             let (_g, ok) = c.wait_for(g, || go.get() == 1, None)?;
    ///             assert!(ok);
    ///             Ok(())
    ///         })
    ///     })
    ///     .collect::<Result<_, _>>()?;
    /// let g = c.acquire()?;
    /// go.set(1);
    /// c.notify_all();
    /// drop(g);
    /// for w in &waiters {
    ///     assert_eq!(w.join()?, 0);
    /// }
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn notify_all(&self) {
        self.notify(u32::MAX);
    }
}

impl<L: fmt::Debug> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field(
                "waiters",
                &(self.state.get().counts.load(Ordering::Relaxed) >> 32),
            )
            .finish()
    }
}

impl<K: LockKind> Object for Condition<RobustLock<K>> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let mut d = crate::share::with_data(Kind::Condition, self.state().block(), out)?;
        self.get_lock().export_into(&mut d, out)?;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Condition, Some(RobustLock::<K>::mutex()))
            .map_err(crate::share::invalid)?;
        let state = Shared::<ConditionState>::received(d, from)?;
        Ok(Condition::from_parts(
            RobustLock::import_from(d, from)?,
            state,
        ))
    }
}
