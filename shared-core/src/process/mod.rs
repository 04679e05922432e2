//! [`Process`]: a child process, started three ways (CPython's start methods, and more):
//!
//! - [`Process::start`] forks this process and runs a closure that borrows the shared
//!   objects (the `fork` start method): the fastest, but a forked child of a multi-threaded
//!   program may find other threads' locks held for ever;
//! - [`Process::spawn`] runs a plain function in a fresh process of this executable, with
//!   the objects as arguments (`spawn` and `forkserver`): safe from any program;
//! - [`Process::command`] starts any program, which finds the objects by name
//!   ([`inherited`](crate::share::inherited)).
//!
//! All three give the same `Process`: `join`, `exitcode`, `terminate`, … and join on drop.

mod command;
pub(crate) mod failure;
mod result;
pub(crate) mod spawn;

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;
use std::io::Write;

pub use command::Command;
pub use failure::MAX_FAILURE_LEN;
pub use result::{Exit, OkValue, ProcessResult};
pub use spawn::{SpawnArgs, SpawnFn};

use crate::error::{Error, Result};
use crate::os::process::{self as os, Forked, Sig};
use std::os::fd::OwnedFd;

/// A child process running a closure, forked from this one.
///
/// The child gets a copy of the parent's memory, and shares its shared objects
/// ([`Value`](crate::Value), [`RawArray`](crate::RawArray), locks, …): the closure borrows
/// them like any closure would. It ends with `_exit` — never returning into the parent's code
/// (test harness, `main`) — with exit code 0, or 1 if it panicked (the panic message goes to
/// stderr), or the code it returns (see [`ProcessResult`]).
///
/// The `Process` borrows whatever the closure borrows and **joins on drop**, so the borrow
/// checker rejects a parent that frees a shared object while a child still uses it (CPython
/// bug gh-110660). What the closure captures *by move* belongs to the child: the parent's
/// copy is dropped only after the child has ended (so a moved `RawValue` is not freed, nor a
/// moved lock guard released, under the child's feet). And where the borrow checker cannot
/// see — a `Process` leaked with `mem::forget`, a grandchild that outlives its parent — the
/// shared heap still never reuses a block that a running descendant may use: it quarantines
/// it until every process forked since the block's allocation has ended (see
/// [`heap`](crate::heap)).
///
/// ```compile_fail
/// use sharedctypes::{Process, Value};
/// let n = Value::new(0i32).unwrap();
/// let child = Process::start(|| n.set(1).unwrap()).unwrap();
/// drop(n); // error: `n` is borrowed by the running child
/// child.join().unwrap();
/// ```
///
/// ```
/// use sharedctypes::{Process, Value};
///
/// let n = Value::new(7i32)?;
/// let child = Process::start(|| n.update(|v| v * v).map(drop))?;
/// assert_eq!(child.join()?, 0);
/// assert_eq!(n.get()?, 49);
///
/// let crashing = Process::start(|| panic!("boom"))?;
/// assert_eq!(crashing.join()?, 1);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
///
/// # What is safe in the child
///
/// `fork` copies only the calling thread. Other threads of the parent do not exist in the
/// child; a process-local mutex one of them held stays locked there forever. sharedctypes
/// makes its own state fork-safe (its heap is re-initialised in the child, its locks are
/// process-shared, nothing it uses can be left locked by a vanished thread), and glibc does
/// the same for `malloc`. `Process::start` holds stdout across the fork, so it is flushed
/// first (buffered output is not printed twice) and usable in the child; the child's panic
/// message and the `Err` it returns are written to stderr without std's lock. Avoid, in the
/// child of a multi-threaded parent, other process-local locks that another thread may hold
/// at the moment of the fork: `eprintln!` (if another thread writes to stderr), your own or
/// other libraries' `std::sync::Mutex`es and `OnceLock`s, a `std::sync::mpsc` channel
/// another thread is using, … and a panic in the child while another thread of the parent is
/// panicking (std's panic hook holds a lock while it prints). A thread-free parent, or a
/// child that only touches shared objects, has nothing to fear.
///
/// The closure must be `Send`: what it captures is used by another process, and anything that
/// may not leave its thread — a [`LockGuard`](crate::LockGuard), which proves only that *this*
/// thread holds a lock — may not go there either:
///
/// ```compile_fail
/// use sharedctypes::{Process, Value};
/// let v = Value::new(0i32).unwrap();
/// let guard = v.lock().unwrap();
/// // error: the guard is not `Sync`, so the closure that borrows it is not `Send`
/// let child = Process::start(|| guard.set(1)).unwrap();
/// ```
#[must_use = "dropping a Process waits for the child to end (join it, or keep it while it runs)"]
pub struct Process<'scope> {
    /// This process's own child, however it was started: waited for with `waitpid`, and
    /// signalled by pid (it is not reaped while `Running`, so its pid cannot have been
    /// reused).
    pid: i32,
    state: Cell<State>,
    /// How it was started, and what that leaves the parent holding.
    kind: Kind<'scope>,
    /// Why the child failed, once it has ended.
    failure: failure::Failure,
    _scope: PhantomData<&'scope mut &'scope ()>,
}

/// The three ways a child is started.
enum Kind<'scope> {
    /// Forked from this process (`start`). The parent's copy of the closure is dropped only
    /// once the child has ended: what the closure captured by move now belongs to the child,
    /// and dropping it here earlier could free a shared block or release a lock the child is
    /// still using.
    Forked(Cell<Option<Box<dyn Captured + 'scope>>>),
    /// Forked by the fork server on this process's behalf (`spawn`): a fresh process of this
    /// executable, this process's child all the same.
    Spawned,
    /// Another program (`command`), and the pipes to its standard streams.
    Program(command::Stdio),
}

/// Anything: lets `Process` hold the parent's copy of a closure of any type.
trait Captured {}
impl<T> Captured for T {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    /// Reaped (by `is_alive`/`exitcode`), not yet returned by `join`.
    Exited(i32),
    Joined(i32),
}

impl<'scope> Process<'scope> {
    /// Forks a child that runs `f` and exits.
    ///
    /// `f` returns `()`, an [`Exit`] code, or any `Result` (see [`ProcessResult`]); if it
    /// panics or returns `Err`, [`failure`](Self::failure) tells the parent why.
    ///
    /// # Starting children in a loop
    ///
    /// A `move` closure in a loop moves the shared object into the first child, and the
    /// second iteration fails with E0382 ("use of moved value"). Move a *reference* instead:
    /// shadow the object with one before the loop, and every child borrows the same object.
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let counter = Value::new(0i32)?;
    /// let counter = &counter; // each `move` closure copies the reference
    /// let mut children = Vec::new();
    /// for i in 1..=4 {
    ///     children.push(Process::start(move || counter.update(|v| v + i))?);
    /// }
    /// for child in &children {
    ///     assert_eq!(child.join()?, 0);
    /// }
    /// assert_eq!(counter.get()?, 10);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Os`] if `fork` fails (e.g. the process limit).
    ///
    /// ```
    /// use sharedctypes::{Process, RawArray};
    /// let squares = RawArray::<u32>::zeroed(4)?;
    /// let children = (0..4)
    ///     .map(|i| {
    ///         let squares = &squares;
    ///         Process::start(move || squares.set(i, (i * i) as u32)) // one element per child
    ///     })
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// for child in &children {
    ///     assert_eq!(child.join()?, 0);
    /// }
    /// assert_eq!(squares.to_vec(), [0, 1, 4, 9]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn start<F, R>(f: F) -> Result<Process<'scope>>
    where
        F: FnOnce() -> R + Send + 'scope,
        R: ProcessResult,
    {
        // Hold stdout across the fork: its buffered output is flushed first (so it is not
        // printed twice), and no other thread of the parent can hold its lock at the moment
        // of the fork (a lock held by a thread that does not exist in the child would block
        // the child's first print forever). Only this one lock: holding two (stdout, then
        // stderr) would deadlock with a thread that holds stderr and then prints to stdout.
        // Stderr is unbuffered, and the child's own last words (a panic message, an `Err`)
        // are written without its lock.
        // The child's report pipe. Without one (no descriptor left), the child still runs;
        // it just cannot say why it fails.
        let (report_read, report_write) = match crate::os::fd::report_pipe() {
            Ok((read, write)) => (Some(read), Some(write)),
            Err(_) => (None, None),
        };
        // std's standard input handle is made on first use, under a once-lock: if another
        // thread were making it at the moment of the fork, the child's first use (e.g. by
        // `Process::spawn`, which passes it on) would wait for ever. Made here, it is made.
        let _ = std::io::stdin();
        let mut out = std::io::stdout().lock();
        let _ = out.flush();
        // SAFETY: what the child may do after the fork is discussed in the type's
        // documentation; the child never returns from this function (run_child ends in
        // _exit).
        let forked = unsafe { os::fork() };
        drop(out);
        match forked? {
            Forked::Child => {
                drop(report_read);
                failure::install(report_write);
                run_child(f)
            }
            Forked::Parent(pid) => {
                drop(report_write);
                Ok(Process::new(
                    pid,
                    Kind::Forked(Cell::new(Some(Box::new(f)))),
                    report_read,
                ))
            }
        }
    }

    /// The one place a `Process` is made: the child `pid`, how it was started, and the read
    /// end of its report pipe (a program has none).
    fn new(pid: i32, kind: Kind<'scope>, report: Option<OwnedFd>) -> Process<'scope> {
        Process {
            pid,
            state: Cell::new(State::Running),
            kind,
            failure: failure::Failure::new(report),
            _scope: PhantomData,
        }
    }

    /// What the parent holds of a forked child's closure, dropped once the child has ended.
    fn drop_captures(&self) {
        if let Kind::Forked(captures) = &self.kind {
            captures.take();
        }
    }

    /// Waits for the child to end, for at most `timeout` (`None`: for ever); its exit code,
    /// or `None` if it still runs.
    fn wait(&self, timeout: Option<Duration>) -> Result<Option<i32>> {
        match timeout {
            None => os::wait_child(self.pid, true),
            Some(t) if t.is_zero() => os::wait_child(self.pid, false),
            Some(t) => {
                let start = std::time::Instant::now();
                let mut pause = Duration::from_micros(100);
                loop {
                    if let Some(code) = os::wait_child(self.pid, false)? {
                        return Ok(Some(code));
                    }
                    let left = t.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    std::thread::sleep(pause.min(left));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }

    /// The child's process id.
    ///
    /// ```
    /// use sharedctypes::{Process, RawValue};
    /// let seen = RawValue::new(0u32)?;
    /// let child = Process::start(|| seen.set(std::process::id()))?;
    /// child.join()?;
    /// assert_eq!(seen.get() as i32, child.pid());
    /// assert_ne!(child.pid(), std::process::id() as i32);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits for the child to end and returns its exit code, as CPython's `exitcode`: 0 on
    /// success, 1 if the closure panicked, the code it returned, or `-N` if signal `N` killed
    /// it.
    ///
    /// # Errors
    /// [`Error::AlreadyJoined`] on a second call (the first one's code is in the error and in
    /// [`exitcode`](Self::exitcode)); [`Error::Os`] if `waitpid` fails (e.g. `SIGCHLD` is
    /// ignored, so the child was reaped by the kernel).
    ///
    /// ```
    /// use sharedctypes::{Error, Exit, Process};
    /// let child = Process::start(|| Exit(5))?;
    /// assert_eq!(child.join()?, 5);
    /// assert_eq!(child.join(), Err(Error::AlreadyJoined { pid: child.pid(), exitcode: 5 }));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn join(&self) -> Result<i32> {
        let code = match self.state.get() {
            State::Joined(exitcode) => {
                return Err(Error::AlreadyJoined {
                    pid: self.pid,
                    exitcode,
                });
            }
            State::Exited(code) => code,
            State::Running => self.wait(None)?.expect("a blocking wait returns a status"),
        };
        self.reaped(State::Joined(code));
        Ok(code)
    }

    /// Waits at most `timeout` for the child to end; `Ok(None)` if it is still running
    /// (Python's `join(timeout)`, which then leaves `exitcode` as `None`).
    ///
    /// # Errors
    /// As for [`join`](Self::join).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::{Lock, Process};
    /// let lock = Lock::new()?;
    /// let held = lock.acquire()?;
    /// let child = Process::start(|| lock.acquire().map(drop))?; // waits for `held`
    /// assert_eq!(child.join_timeout(Duration::from_millis(20))?, None);
    /// drop(held);
    /// assert_eq!(child.join_timeout(Duration::from_secs(10))?, Some(0));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<Option<i32>> {
        if self.state.get() == State::Running {
            match self.wait(Some(timeout))? {
                None => return Ok(None),
                Some(code) => self.reaped(State::Exited(code)),
            }
        }
        self.join().map(Some)
    }

    /// The exit code if the child has ended (checked without blocking), else `None`.
    ///
    /// ```
    /// use sharedctypes::{Exit, Process};
    /// let child = Process::start(|| Exit(4))?;
    /// while child.exitcode().is_none() {
    ///     std::thread::yield_now(); // free to do other work meanwhile
    /// }
    /// assert_eq!(child.exitcode(), Some(4));
    /// assert_eq!(child.join()?, 4); // `join` still returns the code, at once
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn exitcode(&self) -> Option<i32> {
        self.poll().ok().flatten()
    }

    /// Why the child failed, once it has ended (after [`join`](Self::join), or once
    /// [`exitcode`](Self::exitcode) is known): the message it panicked with, the `Debug` text
    /// of the `Err` it returned, or which signal killed it (`"killed by signal 9 (SIGKILL)"`).
    /// `None` while it runs, and for a child that did not fail that way (it returned `()`,
    /// `Ok`, or an [`Exit`] code of its choosing). At most [`MAX_FAILURE_LEN`] bytes: a
    /// longer text is cut, ending with `…`.
    ///
    /// A program started by [`Process::command`] is not a sharedctypes child: only a death
    /// by signal is reported for it; so for a forked child that `start` could give no report
    /// pipe (no descriptor left: the child runs anyway). Each running child costs its parent
    /// one descriptor, as CPython's sentinel pipe does. In a program built with
    /// `panic = "abort"` a panic ends the child before it can report: the failure is then
    /// `killed by signal 6 (SIGABRT)`. A child that closes descriptors it did not open (as
    /// a daemon closes everything above 2) closes its report pipe with them: it reports
    /// nothing, and nothing is written into files it opens under the pipe's old number.
    ///
    /// ```
    /// use sharedctypes::{Error, Process, Value};
    ///
    /// let jobs = Value::new(3u32)?;
    /// let worker = Process::start(|| -> sharedctypes::Result<()> {
    ///     let n = jobs.get()?;
    ///     if n > 2 {
    ///         return Err(Error::InvalidArgument { reason: format!("{n} jobs, at most 2") });
    ///     }
    ///     Ok(())
    /// })?;
    /// assert_eq!(worker.join()?, 1);
    /// assert_eq!(
    ///     worker.failure().as_deref(),
    ///     Some(r#"InvalidArgument { reason: "3 jobs, at most 2" }"#)
    /// );
    ///
    /// let panicking = Process::start(|| assert!(jobs.get().unwrap() < 3, "too many jobs"))?;
    /// assert_eq!(panicking.join()?, 1);
    /// assert_eq!(panicking.failure().as_deref(), Some("too many jobs"));
    ///
    /// let looping = Process::start(|| loop {
    ///     std::thread::sleep(std::time::Duration::from_millis(10));
    /// })?;
    /// assert_eq!(looping.failure(), None); // still running
    /// looping.kill()?;
    /// assert_eq!(looping.join()?, -9);
    /// assert_eq!(looping.failure().as_deref(), Some("killed by signal 9 (SIGKILL)"));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn failure(&self) -> Option<String> {
        self.failure.text()
    }

    /// The exit code if the child has ended, checked without blocking; the `waitpid` error if
    /// the child cannot be waited for (e.g. `SIGCHLD` is ignored and the kernel reaped it).
    fn poll(&self) -> Result<Option<i32>> {
        match self.state.get() {
            State::Exited(code) | State::Joined(code) => Ok(Some(code)),
            State::Running => {
                let Some(code) = self.wait(Some(Duration::ZERO))? else {
                    return Ok(None);
                };
                self.reaped(State::Exited(code));
                Ok(Some(code))
            }
        }
    }

    /// Records the end of the child: its captures can go, and shared blocks the parent freed
    /// while it ran may be reusable now.
    fn reaped(&self, state: State) {
        if let State::Exited(code) | State::Joined(code) = state {
            if self.state.get() == State::Running {
                self.failure.collect(code);
            }
        }
        self.state.set(state);
        self.drop_captures();
        crate::heap::reclaim();
    }

    /// True while the child runs.
    ///
    /// ```
    /// use sharedctypes::{Lock, Process};
    /// let lock = Lock::new()?;
    /// let held = lock.acquire()?;
    /// let child = Process::start(|| lock.acquire().map(drop))?; // waits for `held`
    /// assert_eq!(child.is_alive(), true);
    /// drop(held);
    /// child.join()?;
    /// assert_eq!(child.is_alive(), false);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_alive(&self) -> bool {
        // A child that cannot be waited for any more (reaped by someone else) is not alive.
        matches!(self.poll(), Ok(None))
    }

    /// Sends `SIGTERM` (Python's `terminate()`). Does nothing once the child has been reaped
    /// (its pid may belong to another process by then).
    ///
    /// # Errors
    /// [`Error::Os`] if `kill` fails.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Process;
    /// let worker = Process::start(|| loop {
    ///     std::thread::sleep(Duration::from_millis(10));
    /// })?;
    /// worker.terminate()?;
    /// assert_eq!(worker.join()?, -15); // ended by signal 15, SIGTERM
    /// worker.terminate()?; // reaped: nothing to do
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn terminate(&self) -> Result<()> {
        self.signal(Sig::Term)
    }

    /// Sends `SIGKILL` (Python's `kill()`). Does nothing once the child has been reaped.
    ///
    /// # Errors
    /// [`Error::Os`] if `kill` fails.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Process;
    /// let worker = Process::start(|| loop {
    ///     std::thread::sleep(Duration::from_millis(10));
    /// })?;
    /// worker.kill()?;
    /// assert_eq!(worker.join()?, -9); // ended by signal 9, SIGKILL
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.signal(Sig::Kill)
    }

    fn signal(&self, signal: Sig) -> Result<()> {
        if self.state.get() != State::Running {
            return Ok(());
        }
        // The pid is our unreaped child, so it cannot have been recycled.
        os::send_signal(self.pid, signal)
    }
}

impl Drop for Process<'_> {
    fn drop(&mut self) {
        if self.state.get() == State::Running {
            if std::thread::panicking() {
                // The parent is failing (a test assertion, say): waiting for a child that may
                // never end would hang instead of reporting the failure.
                let _ = self.kill();
            }
            let _ = self.wait(None);
        }
        // After the wait: what the closure captured by move belonged to the child.
        self.drop_captures();
        crate::heap::reclaim();
    }
}

impl fmt::Debug for Process<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("exitcode", &self.exitcode())
            .finish()
    }
}

/// The child's side of `start`: run the closure, flush, `_exit`. Nothing may unwind out of
/// here: the caller's frames are the parent's code (its `main`, its test harness), which the
/// child must never run.
fn run_child<F: FnOnce() -> R, R: ProcessResult>(f: F) -> ! {
    // (The locks' record, the fork server connection and the report pipe of the parent
    // were forgotten by the fork hooks: see `crate::fork`.)
    /// Ends the process if anything below unwinds after all.
    struct ExitOnUnwind;
    impl Drop for ExitOnUnwind {
        fn drop(&mut self) {
            os::exit_now(1)
        }
    }
    let guard = ExitOnUnwind;
    // `exit_code` runs user code too (`Debug` of an error, drops of the result), so it is
    // inside the catch as well.
    let code = failure::run_reporting(|| f().exit_code());
    // Stdout was held by this thread across the fork, so its lock is usable here. Stderr is
    // unbuffered: nothing to flush, and its lock may belong to a thread that is not here.
    let _ = std::io::stdout().flush();
    failure::send(code);
    std::mem::forget(guard);
    // _exit ends the process immediately without running atexit handlers or destructors of
    // the parent's copied state (which belong to the parent).
    os::exit_now(code)
}
