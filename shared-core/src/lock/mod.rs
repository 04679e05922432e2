//! Process-shared, crash-robust locks, in lock_api's shape: one raw robust mutex
//! ([`raw`](self) module, private), one generic handle [`RobustLock<K>`] over a sealed kind,
//! and the two kinds users name: [`Lock`] (non-recursive) and [`RLock`] (recursive).
//!
//! Both are pthread mutexes in the shared heap with `PTHREAD_PROCESS_SHARED` and
//! `PTHREAD_MUTEX_ROBUST`, so they work between threads and between processes alike, and a
//! holder that dies never deadlocks the others (CPython's semaphores do: gh-88304).

//!
//! # The lock in shared memory
//!
//! Each lock is a 56-byte cell, the same for every process (and for other languages: the
//! Python module uses it through `ctypes`):
//!
//! | offset | field | meaning |
//! |---:|---|---|
//! | 0 | `mutex` | a `pthread_mutex_t` (40 bytes on 64-bit Linux): process-shared, robust, recursive (`RLock`) or error-checking (`Lock`) |
//! | 40 | `holder` | `i32`: pid of the process that holds it; 0 when free or not yet recorded |
//! | 44 | `depth` | `u32`: acquisitions outstanding; written only by the holder |
//! | 48 | `died` | `i32`: 0, or the pid of a holder that died (-1 if unknown) until a holder clears it |
//! | 52 | `tag` | `u32`: `b"SLCK"` for a `Lock`, `b"RLCK"` for an `RLock` |
//!
//! A holder records its pid and increments `depth` right after `pthread_mutex_lock`
//! succeeds, and decrements `depth` (clearing `holder` at zero) right before unlocking. On
//! `EOWNERDEAD` it calls `pthread_mutex_consistent`, sets `died` to the recorded holder (or
//! -1) and `depth` to 0, then records itself.

mod guard;
mod held;
mod raw;

use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;
use std::sync::Arc;

pub use guard::LockGuard;
pub use raw::MAX_HELD_PER_THREAD;
pub(crate) use raw::RawMutex;

use crate::description::{self, Description, Kind, LOCK_CELL, Mutex};
use crate::error::Result;
use crate::heap::Block;
use crate::named::{self, Named, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

/// A process-shared, non-recursive, crash-robust lock (Python's `multiprocessing.Lock`).
///
/// Acquiring a `Lock` the current thread already holds is an error
/// ([`Error::WouldDeadlock`](crate::Error::WouldDeadlock)) rather than a deadlock;
/// [`try_acquire`](RobustLock::try_acquire) and
/// [`acquire_timeout`](RobustLock::acquire_timeout) return `None` at once in that case,
/// like CPython's `acquire(False)`. Everything else is documented on [`RobustLock`].
///
/// ```
/// use sharedctypes::{Error, Lock};
///
/// let lock = Lock::new()?;
/// let same = lock.clone();
/// let guard = lock.acquire()?;
/// assert_eq!(same.acquire().unwrap_err(), Error::WouldDeadlock);
/// assert!(same.try_acquire()?.is_none());
/// drop(guard);
/// assert!(same.try_acquire()?.is_some());
/// assert_eq!(lock, same);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type Lock = RobustLock<NonRecursive>;

/// A process-shared, recursive, crash-robust lock (Python's `multiprocessing.RLock`): the
/// thread that holds it can acquire it again, and releases it when its last guard drops.
///
/// The default lock of [`Value`](crate::Value) and [`Array`](crate::Array), as in CPython.
/// Everything else is documented on [`RobustLock`].
///
/// ```
/// use sharedctypes::RLock;
///
/// let lock = RLock::new()?;
/// let outer = lock.acquire()?;
/// let inner = lock.acquire()?; // same thread: fine
/// drop(inner);
/// drop(outer);
/// assert!(lock.try_acquire()?.is_some());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type RLock = RobustLock<Recursive>;

/// The kind of [`Lock`]: acquiring it again from the thread that holds it is an error.
#[derive(Debug)]
pub enum NonRecursive {}

/// The kind of [`RLock`]: the thread that holds it may acquire it again.
#[derive(Debug)]
pub enum Recursive {}

/// The two kinds of lock, [`NonRecursive`] and [`Recursive`] (sealed).
pub trait LockKind: sealed::Kind + Send + Sync + 'static {}
impl LockKind for NonRecursive {}
impl LockKind for Recursive {}

mod sealed {
    pub trait Kind {
        const RECURSIVE: bool;
        const NAME: &'static str;
    }
    impl Kind for super::NonRecursive {
        const RECURSIVE: bool = false;
        const NAME: &'static str = "Lock";
    }
    impl Kind for super::Recursive {
        const RECURSIVE: bool = true;
        const NAME: &'static str = "RLock";
    }
    pub trait Lock {}
    impl<K: super::LockKind> Lock for super::RobustLock<K> {}
}

/// A handle to a process-shared, robust lock in shared memory: [`Lock`] or [`RLock`].
///
/// Clones are the same lock; a forked child that inherits a handle shares the lock with its
/// parent, and so does a process the lock is sent to. The methods return a [`LockGuard`]
/// that releases the lock when dropped: only the thread that acquired a lock can release it,
/// and only once.
///
/// # When a holder dies
///
/// The mutex is robust: if the thread or process holding it dies (crash, `SIGKILL`, `_exit`,
/// a thread that ends without releasing), the kernel marks it, and the next acquirer is told
/// — it never waits forever. The recovery protocol, modelled on the poisoning of std's
/// `Mutex`:
///
/// 1. The next [`acquire`](Self::acquire) / [`try_acquire`](Self::try_acquire) /
///    [`acquire_timeout`](Self::acquire_timeout) *succeeds*, and its guard reports
///    [`owner_died()`](LockGuard::owner_died) `== true`, with the dead holder's pid in
///    [`dead_owner_pid`](LockGuard::dead_owner_pid). The mutex itself has been made
///    consistent, so no `ENOTRECOVERABLE` can follow by accident.
/// 2. The data the lock guards may be half-updated. While still holding the guard, check it
///    and repair it (or recompute it, or mark it invalid), then call
///    [`clear_owner_died`](LockGuard::clear_owner_died).
/// 3. Until someone does, the owner-died state stays in shared memory: *every* later
///    acquirer's guard reports it, in every process, so the report cannot be lost to a
///    process that does not repair. Operations that take the lock internally and hand out no
///    guard ([`Value::get`](crate::Synchronized::get), [`Value::update`](crate::Value),
///    the array methods of [`Synchronized`](crate::Synchronized)…) cannot repair; they fail
///    with [`Error::OwnerDied`](crate::Error::OwnerDied) without touching the data, and
///    release the lock again.
///
/// The pid is recorded right after the lock is taken and cleared right before it is
/// released; a holder killed in between those instructions and the lock call is reported
/// with its pid unknown ([`dead_owner_pid`](LockGuard::dead_owner_pid) is `None`), never with
/// the wrong one.
///
/// ```
/// use sharedctypes::{Lock, Process, RawValue};
///
/// let lock = Lock::new()?;
/// let balance = RawValue::new(100i64)?;
/// let child = Process::start(|| {
///     let guard = lock.acquire().unwrap();
///     balance.set(-1); // half-way through an update…
///     std::mem::forget(guard);
///     // …and the process ends without releasing the lock.
/// })?;
/// assert_eq!(child.join()?, 0);
///
/// let guard = lock.acquire()?; // does not deadlock
/// assert!(guard.owner_died());
/// assert_eq!(guard.dead_owner_pid(), Some(child.pid()));
/// if balance.get() < 0 {
///     balance.set(100); // repair under the lock…
/// }
/// guard.clear_owner_died(); // …and say so
/// drop(guard);
/// assert!(!lock.acquire()?.owner_died());
/// # Ok::<(), sharedctypes::Error>(())
/// ```
///
/// # How many at once
///
/// One thread may hold at most [`MAX_HELD_PER_THREAD`] locks at once (the kernel recovers
/// only so many from a dying thread); acquiring more is
/// [`Error::TooManyLocksHeld`](crate::Error::TooManyLocksHeld).
pub struct RobustLock<K: LockKind> {
    raw: Arc<RawMutex>,
    _kind: PhantomData<K>,
}

impl<K: LockKind> RobustLock<K> {
    /// Creates a new lock in shared memory, released.
    ///
    /// # Errors
    /// [`Error::Os`](crate::Error::Os) or [`Error::OutOfMemory`](crate::Error::OutOfMemory)
    /// if the shared heap cannot grow or pthread refuses the attributes.
    ///
    /// ```
    /// use sharedctypes::{Lock, RLock};
    /// let lock = Lock::new()?;
    /// assert_eq!(lock.clone(), lock); // a clone is the same lock
    /// assert_ne!(Lock::new()?, lock);
    /// assert!(RLock::new()?.try_acquire()?.is_some()); // created released
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new() -> Result<Self> {
        Ok(Self::from_raw(Arc::new(RawMutex::new(
            <K as sealed::Kind>::RECURSIVE,
        )?)))
    }

    /// True for [`RLock`].
    pub(crate) fn is_recursive() -> bool {
        <K as sealed::Kind>::RECURSIVE
    }

    /// The kind of lock, as descriptions name it.
    pub(crate) fn mutex() -> Mutex {
        Mutex::of(Self::is_recursive())
    }

    /// This lock as the lock part of `d`, its file added to `out`.
    pub(crate) fn export_into(&self, d: &mut Description, out: &mut Exporter) -> Result<()> {
        if out.for_program() {
            // Another program may write the cell from now on.
            self.raw.expose();
        }
        d.lock = Some((Self::mutex(), out.at(self.raw.block())?));
        Ok(())
    }

    /// The lock part of `d`, which must be a lock of this kind.
    pub(crate) fn import_from(d: &Description, from: &Importer<'_>) -> Result<Self> {
        let (kind, at) = d
            .lock
            .ok_or_else(|| crate::share::invalid(format!("{} without a lock", d.what())))?;
        if kind != Self::mutex() {
            let name = |m| match m {
                Mutex::Lock => "a Lock",
                Mutex::RLock => "an RLock",
            };
            return Err(crate::share::invalid(format!(
                "it names {} where {} is expected",
                name(kind),
                name(Self::mutex())
            )));
        }
        Self::from_received_cell(from.block(at, LOCK_CELL.0, LOCK_CELL.1)?)
    }

    /// The lock whose cell another process made in `block` (checked: a cell of this kind).
    pub(crate) fn from_received_cell(block: Block) -> Result<Self> {
        Ok(Self::from_raw(Arc::new(RawMutex::from_received(
            block,
            Self::is_recursive(),
        )?)))
    }

    /// A new lock in `block`, a fresh cell inside another part of the object `like` locks
    /// (a queue's lock for its getters), reachable by other programs exactly when `like` is.
    pub(crate) fn create_beside(block: Block, like: &Self) -> Result<Self> {
        Ok(Self::from_raw(Arc::new(RawMutex::create_in(
            block,
            Self::is_recursive(),
            like.raw.is_exposed(),
        )?)))
    }

    /// A new lock whose cell starts `block`, a fresh block this program just allocated and
    /// has not shared yet, longer than a cell (a small `Value`'s cache line): the rest of it
    /// is for [`part_of_block`](Self::part_of_block).
    pub(crate) fn new_in(block: Block) -> Result<Self> {
        Ok(Self::from_raw(Arc::new(RawMutex::create_in(
            block,
            Self::is_recursive(),
            false,
        )?)))
    }

    /// The `len` bytes at `offset` of the lock's block (made by [`new_in`](Self::new_in)),
    /// past its cell, as a block that keeps the lock's block while it lives: no allocation
    /// of its own, the lock's shared handle is what keeps both.
    pub(crate) fn part_of_block(&self, offset: usize, len: usize) -> Block {
        debug_assert!(offset >= LOCK_CELL.0 as usize, "a part inside the cell");
        Block::part_of(self.raw.clone(), offset, len)
    }

    /// A new lock in `block`, the fresh cell of a named object not published yet (which
    /// other programs may open, hence write).
    pub(crate) fn create_in(block: Block) -> Result<Self> {
        Ok(Self::from_raw(Arc::new(RawMutex::create_in(
            block,
            Self::is_recursive(),
            true,
        )?)))
    }

    /// Creates the named lock `name` (mode 0600), which every process that opens it takes:
    /// the same lock. The returned handle removes the name when it drops, unless
    /// [`persist`](Named::persist)ed. See [`named`].
    ///
    /// # Errors
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) if the name is taken (creation is
    /// exclusive); [`Error::InvalidName`](crate::Error::InvalidName); [`Error::Os`](crate::Error::Os).
    ///
    /// ```
    /// use sharedctypes::{Lock, Process};
    /// # let name = format!("sharedctypes-doc-lock-{}", std::process::id());
    /// let lock = Lock::create_named(&name)?;
    /// let held = lock.acquire()?;
    /// let other = Process::start(|| {
    ///     // An unrelated process would do the same: open it by name.
    ///     let same = Lock::open_named(&name).unwrap();
    ///     sharedctypes::Exit(same.try_acquire().unwrap().is_none().into())
    /// })?;
    /// assert_eq!(other.join()?, 1); // held here
    /// drop(held);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode` (e.g. `0o660`
    /// for the owner's group too).
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::RLock;
    /// # let name = format!("sharedctypes-doc-rlock-mode-{}", std::process::id());
    /// let lock = RLock::create_named_with_mode(&name, 0o660)?;
    /// assert!(lock.try_acquire()?.is_some());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, mode: u32) -> Result<Named<Self>> {
        let plan = Plan::primitive(description::Kind::Lock, Some(Self::mutex()));
        named::create(name, mode, plan, |p| Self::create_in(p.lock()))
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, Lock, RLock};
# let name = format!("sharedctypes-doc-lock-open-{}", std::process::id());
let _lock = Lock::create_named(&name)?;
assert!(Lock::open_named(&name)?.try_acquire()?.is_some());
assert_eq!(
    RLock::open_named(&name).unwrap_err(),
    Error::NotNamedObject { name: name.clone(), reason: "it holds a Lock, not an RLock".into() }
);
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{RLock, named::OpenOptions};
# let name = format!("sharedctypes-doc-rlock-open-with-{}", std::process::id());
let _lock = RLock::create_named(&name)?;
let lock = RLock::open_named_with(&name, OpenOptions::default())?;
let outer = lock.acquire()?;
let inner = lock.acquire()?; // re-entered
drop((inner, outer));
# Ok::<(), sharedctypes::Error>(())
```"#
    );

    /// The raw mutex, to send the lock to another process.
    pub(crate) fn raw(&self) -> &RawMutex {
        &self.raw
    }

    pub(crate) fn from_raw(raw: Arc<RawMutex>) -> Self {
        RobustLock {
            raw,
            _kind: PhantomData,
        }
    }

    /// Blocks until this thread holds the lock, and returns the guard that releases it.
    ///
    /// If a previous holder died holding the lock, the guard reports it
    /// ([`LockGuard::owner_died`]); see "When a holder dies" above.
    ///
    /// # Errors
    /// [`Error::WouldDeadlock`](crate::Error::WouldDeadlock) when a [`Lock`] is acquired
    /// again by the thread that holds it;
    /// [`Error::TooManyLocksHeld`](crate::Error::TooManyLocksHeld) past
    /// [`MAX_HELD_PER_THREAD`]; [`Error::NotRecoverable`](crate::Error::NotRecoverable) for
    /// a lock abandoned inconsistent by foreign code.
    ///
    /// ```
    /// use sharedctypes::{Exit, Lock, Process};
    /// let lock = Lock::new()?;
    /// let took_it = || lock.try_acquire().map(|g| Exit(g.is_some().into()));
    /// let guard = lock.acquire()?;
    /// assert_eq!(Process::start(took_it)?.join()?, 0); // held here: a child cannot take it
    /// drop(guard);
    /// assert_eq!(Process::start(took_it)?.join()?, 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[inline]
    pub fn acquire(&self) -> Result<LockGuard<'_>> {
        self.raw.lock()?;
        Ok(self.guard())
    }

    /// Takes the lock if it is free now; `Ok(None)` if another holder has it (Python's
    /// `acquire(False)`).
    ///
    /// # Errors
    /// As for [`acquire`](Self::acquire).
    ///
    /// ```
    /// use sharedctypes::RLock;
    /// let lock = RLock::new()?;
    /// let free_elsewhere = || {
    ///     std::thread::scope(|s| s.spawn(|| lock.try_acquire().map(|g| g.is_some())).join().unwrap())
    /// };
    /// assert_eq!(free_elsewhere()?, true);
    /// let _guard = lock.acquire()?;
    /// assert_eq!(free_elsewhere()?, false); // another thread does not wait, it gets None
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
        Ok(self.raw.try_lock()?.then(|| self.guard()))
    }

    /// Waits at most `timeout` for the lock; `Ok(None)` if it did not come free in time
    /// (Python's `acquire(timeout=...)`). A zero timeout only tries; a timeout too long to
    /// express as a deadline waits forever. The deadline is measured on the monotonic clock
    /// (`pthread_mutex_clocklock`), which no change of the system clock moves (and which
    /// stands still while the machine is suspended); where that call is not found (a glibc
    /// older than 2.30, a statically linked program), on the realtime clock
    /// (`pthread_mutex_timedlock`), so that a jump of the system clock shortens or lengthens
    /// the wait.
    ///
    /// # Errors
    /// As for [`acquire`](Self::acquire).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Lock;
    /// let lock = Lock::new()?;
    /// let guard = lock.acquire()?;
    /// let got = std::thread::scope(|s| {
    ///     s.spawn(|| lock.acquire_timeout(Duration::from_millis(20)).map(|g| g.is_some()))
    ///         .join()
    ///         .unwrap()
    /// })?;
    /// assert_eq!(got, false); // held by this thread for the whole 20 ms
    /// drop(guard);
    /// assert!(lock.acquire_timeout(Duration::from_millis(20))?.is_some());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>> {
        Ok(self.raw.lock_timeout(timeout)?.then(|| self.guard()))
    }

    /// The `pthread_mutex_t` in shared memory, for C code that shares the lock (it is the
    /// first field of the 56-byte cell described in the README's lock format).
    ///
    /// ```
    /// use sharedctypes::Lock;
    /// let lock = Lock::new()?;
    /// let mutex = lock.as_ptr().cast::<libc::pthread_mutex_t>();
    /// // SAFETY: `mutex` is the initialised process-shared mutex `lock` keeps alive (C code
    /// // that shares it would do the same).
    /// assert_eq!(unsafe { libc::pthread_mutex_lock(mutex) }, 0);
    /// let busy = std::thread::scope(|s| s.spawn(|| lock.try_acquire().map(|g| g.is_none())).join().unwrap())?;
    /// assert_eq!(busy, true); // what C locked, Rust sees locked
    /// // SAFETY: this thread locked `mutex` just above.
    /// assert_eq!(unsafe { libc::pthread_mutex_unlock(mutex) }, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn as_ptr(&self) -> *mut core::ffi::c_void {
        self.raw.addr().cast_mut().cast()
    }

    #[inline]
    fn guard(&self) -> LockGuard<'_> {
        // SAFETY: called right after this thread acquired the mutex.
        unsafe { LockGuard::new(&self.raw) }
    }
}

/// The lock kinds a [`Synchronized`](crate::Synchronized) object can use: [`Lock`] and
/// [`RLock`], lock_api style. Sealed; generic code can acquire through it.
///
/// ```
/// use sharedctypes::{Lock, RLock, RawValue, Result, lock::SharedLock};
///
/// fn bump<L: SharedLock>(lock: &L, counter: &RawValue<u32>) -> Result<u32> {
///     let _guard = lock.acquire()?;
///     Ok(counter.update(|n| n + 1))
/// }
///
/// let counter = RawValue::new(0)?;
/// assert_eq!(bump(&Lock::new()?, &counter)?, 1);
/// assert_eq!(bump(&RLock::new()?, &counter)?, 2);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait SharedLock: Clone + Send + Sync + fmt::Debug + sealed::Lock + 'static {
    /// See [`RobustLock::acquire`].
    fn acquire(&self) -> Result<LockGuard<'_>>;
    /// See [`RobustLock::try_acquire`].
    fn try_acquire(&self) -> Result<Option<LockGuard<'_>>>;
    /// See [`RobustLock::acquire_timeout`].
    fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>>;
}

impl<K: LockKind> SharedLock for RobustLock<K> {
    #[inline]
    fn acquire(&self) -> Result<LockGuard<'_>> {
        RobustLock::acquire(self)
    }
    fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
        RobustLock::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard<'_>>> {
        RobustLock::acquire_timeout(self, timeout)
    }
}

impl<K: LockKind> Clone for RobustLock<K> {
    fn clone(&self) -> Self {
        Self::from_raw(Arc::clone(&self.raw))
    }
}

/// Two handles are equal when they are the same lock (clones, the copies a forked child
/// inherited, or handles sent to the same process).
impl<K: LockKind> PartialEq for RobustLock<K> {
    fn eq(&self, other: &Self) -> bool {
        self.raw.addr() == other.raw.addr()
    }
}

impl<K: LockKind> Eq for RobustLock<K> {}

/// `Lock { held: false, owner_died: false }`: the lock's state as last recorded (it may
/// change the next moment), never its address. Printing does not take the lock, so a holder
/// that died shows as `held: true` until the next acquirer finds out (then
/// `held: false, owner_died: true`).
///
/// ```
/// use sharedctypes::RLock;
/// let lock = RLock::new()?;
/// let held = lock.acquire()?;
/// assert_eq!(format!("{lock:?}"), "RLock { held: true, owner_died: false }");
/// drop(held);
/// assert_eq!(format!("{lock:?}"), "RLock { held: false, owner_died: false }");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<K: LockKind> fmt::Debug for RobustLock<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(<K as sealed::Kind>::NAME)
            .field("held", &!self.raw.is_free())
            .field("owner_died", &self.raw.death().is_some())
            .finish()
    }
}

impl<K: LockKind> Object for RobustLock<K> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        let mut d = Description::new(Kind::Lock);
        self.export_into(&mut d, out)?;
        Ok(d)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Lock, Some(Self::mutex()))
            .map_err(crate::share::invalid)?;
        RobustLock::import_from(d, from)
    }
}
