//! [`Semaphore`] and [`BoundedSemaphore`]: counters of permits processes wait for (Python's
//! `multiprocessing.Semaphore` and `BoundedSemaphore`).

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::time::Instant;

use super::state::{AtomicState, Shared};
use crate::description::Description;
use crate::error::{Error, Result};
use crate::named::{self, Named, Plan};
use crate::os::futex;
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};
use crate::spin::Budget;

#[repr(C)]
pub(crate) struct SemaphoreState {
    tag: AtomicU32,
    count: AtomicU32,
    waiters: AtomicU32,
    /// The initial value of a bounded semaphore (the most `release` may bring it to), or
    /// `u32::MAX` for an unbounded one.
    bound: AtomicU32,
}

// SAFETY: `#[repr(C)]`, only atomics, the tag first.
unsafe impl AtomicState for SemaphoreState {
    const TAG: u32 = u32::from_le_bytes(*b"SSEM");
    const WHAT: &'static str = "a semaphore";
}

const UNBOUNDED: u32 = u32::MAX;

/// The shared part of both kinds.
struct Counter {
    state: Shared<SemaphoreState>,
}

impl Counter {
    fn init(value: u32, bound: u32) -> impl FnOnce(&SemaphoreState) {
        move |s: &SemaphoreState| {
            s.count.store(value, Ordering::Relaxed);
            s.bound.store(bound, Ordering::Relaxed);
        }
    }

    fn new(value: u32, bound: u32) -> Result<Counter> {
        Ok(Counter {
            state: Shared::new(Self::init(value, bound))?,
        })
    }

    /// A counter in `block`, the fresh data part of a named object.
    fn init_in(block: crate::heap::Block, value: u32, bound: u32) -> Counter {
        Counter {
            state: Shared::init_in(block, Self::init(value, bound)),
        }
    }

    #[inline]
    fn try_take(&self) -> bool {
        let s = self.state.get();
        let mut c = s.count.load(Ordering::Relaxed);
        while c > 0 {
            match s
                .count
                .compare_exchange_weak(c, c - 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
        false
    }

    #[cold]
    fn take_until(&self, deadline: Option<Instant>) -> bool {
        let s = self.state.get();
        static SPIN: Budget = Budget::new();
        super::wait_while_equal(&s.count, 0, &s.waiters, deadline, &SPIN, || self.try_take())
    }

    #[inline]
    fn give(&self) -> Result<()> {
        let s = self.state.get();
        let bound = s.bound.load(Ordering::Relaxed);
        let mut c = s.count.load(Ordering::Relaxed);
        loop {
            if c >= bound {
                return Err(Error::TooManyReleases {
                    value: c,
                    max: bound,
                });
            }
            match s
                .count
                .compare_exchange_weak(c, c + 1, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => c = now,
            }
        }
        if s.waiters.load(Ordering::SeqCst) != 0 {
            futex::wake(&s.count, 1);
        }
        Ok(())
    }

    fn value(&self) -> u32 {
        self.state.get().count.load(Ordering::Relaxed)
    }
}

/// A permit of a semaphore, held until dropped (which releases it).
///
/// ```
/// use sharedctypes::Semaphore;
/// let s = Semaphore::new(1)?;
/// let permit = s.acquire();
/// assert!(s.try_acquire().is_none());
/// drop(permit);
/// assert!(s.try_acquire().is_some());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct Permit<'a> {
    counter: &'a Counter,
}

impl Permit<'_> {
    /// Keeps the permit taken for good (Python's `acquire()` without a `release()`): the count
    /// stays one lower.
    ///
    /// ```
    /// use sharedctypes::Semaphore;
    /// let s = Semaphore::new(2)?;
    /// s.acquire().forget();
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn forget(self) {
        core::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        // A permit's own release cannot exceed a bound (it was taken from the count), but a
        // `release()` in between may have; then the permit simply goes.
        let _ = self.counter.give();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permit")
    }
}

/// The kind of [`Semaphore`]: `release` may raise the count without bound.
#[derive(Debug)]
pub enum Unbounded {}

/// The kind of [`BoundedSemaphore`]: `release` may not raise the count past its initial
/// value.
#[derive(Debug)]
pub enum Bounded {}

/// The two kinds of semaphore (sealed).
pub trait SemaphoreKind: sealed::Kind + Send + Sync + 'static {}
impl SemaphoreKind for Unbounded {}
impl SemaphoreKind for Bounded {}

mod sealed {
    pub trait Kind {
        const BOUNDED: bool;
        const NAME: &'static str;
    }
    impl Kind for super::Unbounded {
        const BOUNDED: bool = false;
        const NAME: &'static str = "Semaphore";
    }
    impl Kind for super::Bounded {
        const BOUNDED: bool = true;
        const NAME: &'static str = "BoundedSemaphore";
    }
}

/// A counter of permits in shared memory (Python's `Semaphore`): [`Semaphore`] or
/// [`BoundedSemaphore`].
///
/// [`acquire`](Self::acquire) takes a permit (waiting while there is none) and returns a
/// [`Permit`] that gives it back when dropped; [`release`](Self::release) adds one, Python's
/// way. Works between threads, forked and spawned processes; an uncontended acquire or release
/// is one atomic operation (plus a wake only when someone waits).
///
/// # When a process dies
///
/// No lock is involved: a process that dies *waiting* disturbs nobody. A process that dies
/// *holding* a permit never gives it back — a semaphore cannot know who holds its permits —
/// so the count stays one lower for good, as with CPython's. Use a [`Lock`](crate::Lock)
/// where a dead holder must be detected, and [`acquire_timeout`](Self::acquire_timeout)
/// where waiting for ever is not an option.
///
/// ```
/// use sharedctypes::{Process, Semaphore, Value};
///
/// let slots = Semaphore::new(2)?; // at most two workers in the critical part at once
/// let inside = Value::new(0u32)?;
/// let most = Value::new(0u32)?;
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         Process::start(|| -> sharedctypes::Result<()> {
///             for _ in 0..100 {
///                 let _permit = slots.acquire();
///                 let n = inside.update(|n| n + 1)?;
///                 most.update(|m| m.max(n))?;
///                 inside.update(|n| n - 1)?;
///             }
///             Ok(())
///         })
///     })
///     .collect::<Result<_, _>>()?;
/// for w in &workers {
///     assert_eq!(w.join()?, 0);
/// }
/// assert!(most.get()? <= 2);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct CountingSemaphore<K: SemaphoreKind> {
    counter: Counter,
    _kind: core::marker::PhantomData<K>,
}

/// A semaphore whose `release` may raise the count without bound (Python's `Semaphore`).
/// Everything is documented on [`CountingSemaphore`].
///
/// ```
/// use sharedctypes::Semaphore;
/// let s = Semaphore::new(0)?;
/// s.release()?;
/// s.release()?; // no bound
/// assert_eq!(s.value(), 2);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type Semaphore = CountingSemaphore<Unbounded>;

/// A semaphore that refuses to be released past its initial value (Python's
/// `BoundedSemaphore`, whose `release()` raises `ValueError` then). Everything is documented
/// on [`CountingSemaphore`].
///
/// ```
/// use sharedctypes::{BoundedSemaphore, Error};
/// let s = BoundedSemaphore::new(1)?;
/// assert_eq!(s.release(), Err(Error::TooManyReleases { value: 1, max: 1 }));
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type BoundedSemaphore = CountingSemaphore<Bounded>;

impl<K: SemaphoreKind> CountingSemaphore<K> {
    /// A semaphore with `value` free permits (Python's `Semaphore(value)`); for a
    /// [`BoundedSemaphore`], `value` is also the most it may hold.
    ///
    /// # Errors
    /// As for [`RawValue::new`](crate::RawValue::new); [`Error::InvalidArgument`] for a
    /// value of `u32::MAX` (the most is `u32::MAX - 1`).
    ///
    /// ```
    /// use sharedctypes::{BoundedSemaphore, Semaphore};
    /// let s = Semaphore::new(3)?;
    /// let held = (s.acquire(), s.acquire(), s.acquire());
    /// assert!(s.try_acquire().is_none());
    /// drop(held);
    /// assert_eq!((s.value(), BoundedSemaphore::new(2)?.value()), (3, 2));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(value: u32) -> Result<Self> {
        let bound = Self::bound_of(value)?;
        Ok(CountingSemaphore {
            counter: Counter::new(value, bound)?,
            _kind: core::marker::PhantomData,
        })
    }

    /// The bound of a semaphore of this kind made with `value` permits.
    fn bound_of(value: u32) -> Result<u32> {
        if value == UNBOUNDED {
            return Err(Error::InvalidArgument {
                reason: format!(
                    "a semaphore holds at most {} permits, not {value}",
                    UNBOUNDED - 1
                ),
            });
        }
        Ok(if <K as sealed::Kind>::BOUNDED {
            value
        } else {
            UNBOUNDED
        })
    }

    pub(crate) fn from_state(state: Shared<SemaphoreState>) -> Result<Self> {
        let bounded = state.get().bound.load(Ordering::Relaxed) != UNBOUNDED;
        if bounded != <K as sealed::Kind>::BOUNDED {
            return Err(Error::InvalidHandle {
                reason: format!(
                    "the handle names a {} where a {} is expected",
                    if bounded {
                        "BoundedSemaphore"
                    } else {
                        "Semaphore"
                    },
                    <K as sealed::Kind>::NAME
                ),
            });
        }
        Ok(CountingSemaphore {
            counter: Counter { state },
            _kind: core::marker::PhantomData,
        })
    }

    /// The kind of object descriptions name it.
    pub(crate) fn kind() -> crate::description::Kind {
        if <K as sealed::Kind>::BOUNDED {
            crate::description::Kind::BoundedSemaphore
        } else {
            crate::description::Kind::Semaphore
        }
    }

    pub(crate) fn state(&self) -> &Shared<SemaphoreState> {
        &self.counter.state
    }

    /// Blocks until a permit is free and takes it; the permit gives it back when dropped.
    ///
    /// ```
    /// use sharedctypes::{Process, Semaphore};
    /// let s = Semaphore::new(0)?;
    /// let giver = Process::start(|| s.release())?;
    /// let permit = s.acquire(); // waits for the child's release
    /// assert_eq!(giver.join()?, 0);
    /// drop(permit);
    /// assert_eq!(s.value(), 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn acquire(&self) -> Permit<'_> {
        if !self.counter.try_take() {
            self.counter.take_until(None);
        }
        Permit {
            counter: &self.counter,
        }
    }

    /// Takes a permit if one is free now (Python's `acquire(False)`).
    ///
    /// ```
    /// use sharedctypes::Semaphore;
    /// let s = Semaphore::new(1)?;
    /// let p = s.try_acquire();
    /// assert!(p.is_some() && s.try_acquire().is_none());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.counter.try_take().then(|| Permit {
            counter: &self.counter,
        })
    }

    /// Waits at most `timeout` for a permit (Python's `acquire(timeout=...)`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Semaphore;
    /// let s = Semaphore::new(0)?;
    /// assert!(s.acquire_timeout(Duration::from_millis(10)).is_none());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.counter
            .take_until(Instant::now().checked_add(timeout))
            .then(|| Permit {
                counter: &self.counter,
            })
    }

    /// Adds a permit (Python's `release()`), waking one waiter.
    ///
    /// # Errors
    /// [`Error::TooManyReleases`] if that would bring a [`BoundedSemaphore`] past its initial
    /// value (Python's `ValueError: Semaphore released too many times`), or any semaphore past
    /// `u32::MAX - 1`.
    ///
    /// ```
    /// use sharedctypes::{BoundedSemaphore, Error};
    /// let s = BoundedSemaphore::new(2)?;
    /// s.acquire().forget();
    /// s.release()?;
    /// assert_eq!(s.release(), Err(Error::TooManyReleases { value: 2, max: 2 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn release(&self) -> Result<()> {
        self.counter.give()
    }

    /// The number of free permits now (Python's `get_value()`).
    ///
    /// ```
    /// use sharedctypes::Semaphore;
    /// let s = Semaphore::new(4)?;
    /// let _p = s.acquire();
    /// assert_eq!(s.value(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn value(&self) -> u32 {
        self.counter.value()
    }
}

impl<K: SemaphoreKind> CountingSemaphore<K> {
    /// Creates the named semaphore `name` with `value` free permits (mode 0600); for a
    /// [`BoundedSemaphore`], `value` is also the most it may hold. Every process that opens
    /// it takes and gives the same permits. The returned handle removes the name when it
    /// drops, unless [`persist`](Named::persist)ed. See [`named`](crate::named).
    ///
    /// # Errors
    /// As for [`new`](Self::new); [`Error::AlreadyExists`] if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`].
    ///
    /// ```
    /// use sharedctypes::Semaphore;
    /// # let name = format!("sharedctypes-doc-semaphore-{}", std::process::id());
    /// let slots = Semaphore::create_named(&name, 2)?;
    /// let other = Semaphore::open_named(&name)?; // in this or any other process
    /// let held = other.acquire();
    /// assert_eq!(slots.value(), 1);
    /// drop(held);
    /// assert_eq!(slots.value(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, value: u32) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, value, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::BoundedSemaphore;
    /// # let name = format!("sharedctypes-doc-bounded-mode-{}", std::process::id());
    /// let s = BoundedSemaphore::create_named_with_mode(&name, 3, 0o660)?;
    /// assert_eq!(s.value(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, value: u32, mode: u32) -> Result<Named<Self>> {
        let bound = Self::bound_of(value)?;
        named::create(name, mode, Plan::primitive(Self::kind(), None), |p| {
            Ok(CountingSemaphore {
                counter: Counter::init_in(p.data(), value, bound),
                _kind: core::marker::PhantomData,
            })
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{BoundedSemaphore, Error, Semaphore};
# let name = format!("sharedctypes-doc-semaphore-open-{}", std::process::id());
let _s = BoundedSemaphore::create_named(&name, 1)?;
assert_eq!(BoundedSemaphore::open_named(&name)?.value(), 1);
assert_eq!(
    Semaphore::open_named(&name).unwrap_err(),
    Error::NotNamedObject {
        name: name.clone(),
        reason: "it holds a BoundedSemaphore, not a Semaphore".into()
    }
);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Semaphore, named::OpenOptions};
# let name = format!("sharedctypes-doc-semaphore-open-with-{}", std::process::id());
let _s = Semaphore::create_named(&name, 4)?;
assert_eq!(Semaphore::open_named_with(&name, OpenOptions::default())?.value(), 4);
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

impl<K: SemaphoreKind> fmt::Debug for CountingSemaphore<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(<K as sealed::Kind>::NAME)
            .field("value", &self.value())
            .finish()
    }
}

impl<K: SemaphoreKind> Object for CountingSemaphore<K> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        crate::share::with_data(CountingSemaphore::<K>::kind(), self.state().block(), out)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(CountingSemaphore::<K>::kind(), None)
            .map_err(crate::share::invalid)?;
        CountingSemaphore::from_state(Shared::<SemaphoreState>::received(d, from)?)
    }
}
