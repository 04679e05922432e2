//! [`Barrier`]: parties wait until all have arrived (Python's `multiprocessing.Barrier`).

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::time::Instant;

use super::state::{AtomicState, Shared};
use crate::description::{Description, Kind, Mutex};
use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::lock::RobustLock;
use crate::named::{self, Named, Plan};
use crate::os::futex::{self, Wake};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;

#[repr(C)]
pub(crate) struct BarrierState {
    tag: AtomicU32,
    parties: AtomicU32,
    /// Parties that have arrived in the current round.
    arrived: AtomicU32,
    /// Bumped when a round passes, is broken or is reset: waiters sleep on it.
    generation: AtomicU32,
    /// 1 while broken (by `abort` or a timeout), until `reset`.
    broken: AtomicU32,
    /// The round whose waiters were sent away broken (`u32::MAX`: none yet).
    broken_round: AtomicU32,
}

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for BarrierState {
    const TAG: u32 = u32::from_le_bytes(*b"SBAR");
    const WHAT: &'static str = "a Barrier";
}

/// A barrier in shared memory for a fixed number of parties (Python's `Barrier`): each
/// [`wait`](Self::wait) blocks until all parties have called it, then all go on, each with a
/// different arrival index in `0..parties`; the barrier is then ready for the next round.
///
/// A timeout or an [`abort`](Self::abort) *breaks* the barrier: every waiter of the round,
/// and every later `wait`, fails with [`Error::BrokenBarrier`] — nobody hangs — until
/// [`reset`](Self::reset). A party that dies (or never comes) leaves the others waiting only
/// until their timeout. The barrier's bookkeeping is guarded by a robust lock: a party that
/// dies inside it breaks the barrier rather than leaving it inconsistent.
///
/// ```
/// use sharedctypes::{Barrier, Process, RawArray};
///
/// let barrier = Barrier::new(3)?;
/// let seen = RawArray::<u32>::zeroed(3)?;
/// let parties: Vec<_> = (0..2)
///     .map(|_| Process::start(|| barrier.wait().map(|i| seen.set(i as usize, 1))))
///     .collect::<Result<_, _>>()?;
/// let mine = barrier.wait()?;
/// seen.set(mine as usize, 1)?;
/// for p in &parties {
///     assert_eq!(p.join()?, 0);
/// }
/// assert_eq!(seen.to_vec(), [1, 1, 1]); // three different indices
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Barrier {
    lock: Lock,
    state: Shared<BarrierState>,
}

impl Barrier {
    /// A barrier for `parties` parties (Python's `Barrier(parties)`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 parties; as for [`Lock::new`](crate::lock::RobustLock::new).
    ///
    /// ```
    /// use sharedctypes::{Barrier, Error};
    /// assert_eq!(Barrier::new(4)?.parties(), 4);
    /// assert!(matches!(Barrier::new(0), Err(Error::InvalidArgument { .. })));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(parties: u32) -> Result<Barrier> {
        Ok(Barrier {
            lock: Lock::new()?,
            state: Shared::new(Self::init(parties)?)?,
        })
    }

    /// What a new barrier's state starts as, for `parties` parties (at least 1).
    fn init(parties: u32) -> Result<impl FnOnce(&BarrierState)> {
        if parties == 0 {
            return Err(Error::InvalidArgument {
                reason: "a barrier needs at least 1 party".into(),
            });
        }
        Ok(move |s: &BarrierState| {
            s.parties.store(parties, Ordering::Relaxed);
            s.broken_round.store(u32::MAX, Ordering::Relaxed);
        })
    }

    /// Creates the named barrier `name` for `parties` parties (mode 0600), with its internal
    /// lock in the same object: every process that opens it meets at the same barrier. The
    /// returned handle removes the name when it drops, unless [`persist`](Named::persist)ed.
    /// See [`named`](crate::named).
    ///
    /// # Errors
    /// As for [`new`](Self::new); [`Error::AlreadyExists`] if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`].
    ///
    /// ```
    /// use sharedctypes::{Barrier, Process};
    /// # let name = format!("sharedctypes-doc-barrier-{}", std::process::id());
    /// let here = Barrier::create_named(&name, 2)?;
    /// let other = Process::start(|| {
    ///     // An unrelated process would do the same: open it by name.
    ///     Barrier::open_named(&name)?.wait().map(drop)
    /// })?;
    /// assert!(here.wait()? < 2);
    /// assert_eq!(other.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, parties: u32) -> Result<Named<Barrier>> {
        Self::create_named_with_mode(name, parties, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// # let name = format!("sharedctypes-doc-barrier-mode-{}", std::process::id());
    /// let b = Barrier::create_named_with_mode(&name, 3, 0o660)?;
    /// assert_eq!(b.parties(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, parties: u32, mode: u32) -> Result<Named<Barrier>> {
        let init = Self::init(parties)?;
        let plan = Plan::primitive(Kind::Barrier, Some(Mutex::Lock));
        named::create(name, mode, plan, |p| {
            Ok(Barrier {
                lock: Lock::create_in(p.lock())?,
                state: Shared::init_in(p.data(), init),
            })
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Barrier, Error, Event};
# let name = format!("sharedctypes-doc-barrier-open-{}", std::process::id());
let _b = Barrier::create_named(&name, 4)?;
assert_eq!(Barrier::open_named(&name)?.parties(), 4);
assert_eq!(
    Event::open_named(&name).unwrap_err(),
    Error::NotNamedObject { name: name.clone(), reason: "it holds a Barrier, not an Event".into() }
);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Barrier, named::OpenOptions};
# let name = format!("sharedctypes-doc-barrier-open-with-{}", std::process::id());
let _b = Barrier::create_named(&name, 1)?;
assert_eq!(Barrier::open_named_with(&name, OpenOptions::default())?.wait()?, 0);
# Ok::<(), sharedctypes::Error>(())
```"#
    );

    pub(crate) fn from_parts(lock: Lock, state: Shared<BarrierState>) -> Result<Barrier> {
        if state.get().parties.load(Ordering::Relaxed) == 0 {
            return Err(Error::InvalidHandle {
                reason: "a barrier of 0 parties".into(),
            });
        }
        Ok(Barrier { lock, state })
    }

    pub(crate) fn parts(&self) -> (&Lock, &Shared<BarrierState>) {
        (&self.lock, &self.state)
    }

    /// The number of parties.
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// assert_eq!(Barrier::new(2)?.parties(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn parties(&self) -> u32 {
        self.state.get().parties.load(Ordering::Relaxed)
    }

    /// The number of parties waiting now (Python's `n_waiting`).
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// assert_eq!(Barrier::new(2)?.n_waiting(), 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn n_waiting(&self) -> u32 {
        self.state.get().arrived.load(Ordering::Relaxed)
    }

    /// True while the barrier is broken (until [`reset`](Self::reset)).
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// let b = Barrier::new(2)?;
    /// b.abort()?;
    /// assert!(b.is_broken());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_broken(&self) -> bool {
        self.state.get().broken.load(Ordering::SeqCst) != 0
    }

    /// Waits until all parties have arrived; this party's arrival index, in `0..parties`
    /// (Python's `wait()`).
    ///
    /// # Errors
    /// [`Error::BrokenBarrier`] if the barrier is broken, or breaks while waiting.
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// let alone = Barrier::new(1)?;
    /// assert_eq!(alone.wait()?, 0); // one party: passes at once
    /// assert_eq!(alone.wait()?, 0); // and again, the next round
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait(&self) -> Result<u32> {
        self.wait_until(None)
    }

    /// [`wait`](Self::wait) for at most `timeout`: if the round does not complete in time,
    /// the barrier breaks (for every waiter) and this is [`Error::BrokenBarrier`].
    ///
    /// # Errors
    /// [`Error::BrokenBarrier`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::{Barrier, Error};
    /// let b = Barrier::new(2)?; // the other party never comes
    /// assert_eq!(b.wait_timeout(Duration::from_millis(10)), Err(Error::BrokenBarrier));
    /// assert!(b.is_broken());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32> {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// The internal lock, held; a party that died inside breaks the barrier.
    fn locked<R>(&self, f: impl FnOnce(&BarrierState) -> Result<R>) -> Result<R> {
        let guard = self.lock.acquire()?;
        let s = self.state.get();
        if guard.owner_died() {
            Self::break_round(s);
            guard.clear_owner_died();
            return Err(Error::BrokenBarrier);
        }
        f(s)
    }

    /// Breaks the current round: its waiters and every later `wait` fail until `reset`.
    fn break_round(s: &BarrierState) {
        s.broken.store(1, Ordering::SeqCst);
        s.broken_round
            .store(s.generation.load(Ordering::SeqCst), Ordering::SeqCst);
        s.arrived.store(0, Ordering::SeqCst);
        s.generation.fetch_add(1, Ordering::SeqCst);
        futex::wake(&s.generation, u32::MAX);
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u32> {
        let (index, round) = self.locked(|s| {
            if s.broken.load(Ordering::SeqCst) != 0 {
                return Err(Error::BrokenBarrier);
            }
            let index = s.arrived.fetch_add(1, Ordering::SeqCst);
            let round = s.generation.load(Ordering::SeqCst);
            if index + 1 >= s.parties.load(Ordering::SeqCst) {
                // The last party: the round passes.
                s.arrived.store(0, Ordering::SeqCst);
                s.generation.fetch_add(1, Ordering::SeqCst);
                futex::wake(&s.generation, u32::MAX);
                return Ok((index, None));
            }
            Ok((index, Some(round)))
        })?;
        let Some(round) = round else {
            return Ok(index);
        };
        let s = self.state.get();
        static SPIN: Budget = Budget::new();
        SPIN.spin(|| s.generation.load(Ordering::SeqCst) != round);
        while s.generation.load(Ordering::SeqCst) == round {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let woke = if left.is_some_and(|l| l.is_zero()) {
                Wake::TimedOut
            } else {
                futex::wait(&s.generation, round, left)
            };
            if woke == Wake::TimedOut && s.generation.load(Ordering::SeqCst) == round {
                // Too late: break the round for everyone (unless it passed meanwhile).
                self.locked(|s| {
                    if s.generation.load(Ordering::SeqCst) == round {
                        Self::break_round(s);
                    }
                    Ok(())
                })?;
            }
        }
        if s.broken_round.load(Ordering::SeqCst) == round {
            Err(Error::BrokenBarrier)
        } else {
            Ok(index)
        }
    }

    /// Breaks the barrier (Python's `abort()`): every waiter, and every later `wait`, fails
    /// with [`Error::BrokenBarrier`] until [`reset`](Self::reset).
    ///
    /// # Errors
    /// As for [`Lock::acquire`](crate::lock::RobustLock::acquire) on the internal lock.
    ///
    /// ```
    /// use sharedctypes::{Barrier, Error, Process};
    /// let b = Barrier::new(2)?;
    /// let waiter = Process::start(|| match b.wait() {
    ///     Err(Error::BrokenBarrier) => sharedctypes::Exit(0),
    ///     _ => sharedctypes::Exit(1),
    /// })?;
    /// std::thread::sleep(std::time::Duration::from_millis(20));
    /// b.abort()?;
    /// assert_eq!(waiter.join()?, 0);
    /// assert_eq!(b.wait(), Err(Error::BrokenBarrier));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn abort(&self) -> Result<()> {
        let guard = self.lock.acquire()?;
        Self::break_round(self.state.get());
        guard.clear_owner_died();
        Ok(())
    }

    /// Back to the empty, unbroken state (Python's `reset()`): parties waiting now fail with
    /// [`Error::BrokenBarrier`]; the next rounds work.
    ///
    /// # Errors
    /// As for [`abort`](Self::abort).
    ///
    /// ```
    /// use sharedctypes::Barrier;
    /// let b = Barrier::new(1)?;
    /// b.abort()?;
    /// b.reset()?;
    /// assert!(!b.is_broken());
    /// assert_eq!(b.wait()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn reset(&self) -> Result<()> {
        let guard = self.lock.acquire()?;
        let s = self.state.get();
        if s.arrived.load(Ordering::SeqCst) > 0 {
            Self::break_round(s);
        }
        s.arrived.store(0, Ordering::SeqCst);
        s.broken.store(0, Ordering::SeqCst);
        guard.clear_owner_died();
        Ok(())
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.is_broken())
            .finish()
    }
}

impl Object for Barrier {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let (lock, state) = self.parts();
        let mut d = crate::share::with_data(Kind::Barrier, state.block(), out)?;
        lock.export_into(&mut d, out)?;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Barrier, Some(Mutex::Lock))
            .map_err(crate::share::invalid)?;
        let state = Shared::<BarrierState>::received(d, from)?;
        Barrier::from_parts(RobustLock::import_from(d, from)?, state)
    }
}
