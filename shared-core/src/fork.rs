//! What this crate does around every `fork` of the process, in one place: the fork handlers
//! (`pthread_atfork`, registered once), and the hooks the other modules hand them:
//!
//! - the heap takes its lock before the fork, and in the child starts a fresh heap (the
//!   parent's arenas stay mapped but are never allocated from) and a lifeline;
//! - the locks forget, in the child, the robust locks the forking thread held (they are the
//!   parent's; the child's robust list starts empty);
//! - the fork server connection is the parent's: the child closes its copy;
//! - a child's failure report pipe is its parent's: the child forgets it.
//!
//! Here too: the process *generation* (0 in the first process, one more in each forked
//! generation below it), by which objects know whether they were made in this process, and
//! this process's id, cached (glibc no longer caches `getpid`).
//!
//! This covers `fork(2)` as called through libc (`libc::fork`, `nix::unistd::fork`,
//! [`Process::start`](crate::Process::start), `std::process::Command` when it forks); a raw
//! `clone` system call bypasses it (the fork server's `clone3` does so on purpose: it is
//! single-threaded and runs none of this).

use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, Ordering};

/// What a module does around a fork. The hooks run in the forking thread: `prepare` before
/// the fork (in the reverse order of registration), `parent` and `child` after it on each
/// side (in the order of registration). They must not unwind, and `child` must do only what
/// is safe in the child of a multi-threaded process (no lock another thread may hold).
pub(crate) struct Hooks {
    pub(crate) prepare: fn(),
    pub(crate) parent: fn(),
    pub(crate) child: fn(),
}

/// A hook that does nothing.
pub(crate) fn nothing() {}

/// The hooks registered so far (at most one set per module that uses forks).
static HOOKS: [AtomicPtr<Hooks>; 8] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 8];

/// Registration of the fork handlers: [`UNREGISTERED`], [`REGISTERED`], or the pid of the
/// process one of whose threads is registering them right now.
///
/// Not a `std::sync::Once`: a process forked while another of its threads is inside
/// `call_once` inherits a `Once` that stays "running" forever. Here the child notices that
/// the registering thread belongs to another process and takes over (if the registration had
/// completed before the fork, the child handler, which then ran in the child, has already set
/// [`REGISTERED`]).
static STATE: AtomicI32 = AtomicI32::new(UNREGISTERED);
const UNREGISTERED: i32 = 0;
const REGISTERED: i32 = -1;
static GENERATION: AtomicU32 = AtomicU32::new(0);
static PID: AtomicI32 = AtomicI32::new(0);

/// Adds `hooks` to what runs around every fork (once: a set already registered is not added
/// again). Call it before the state the hooks protect is first used.
pub(crate) fn on_fork(hooks: &'static Hooks) {
    ensure_registered();
    let ptr = (hooks as *const Hooks).cast_mut();
    for slot in &HOOKS {
        match slot.compare_exchange(
            core::ptr::null_mut(),
            ptr,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(existing) if existing == ptr => return,
            Err(_) => {}
        }
    }
    unreachable!("more sets of fork hooks than slots");
}

/// The registered hooks, in registration order.
fn hooks() -> impl DoubleEndedIterator<Item = &'static Hooks> {
    HOOKS.iter().filter_map(|slot| {
        let ptr = slot.load(Ordering::Acquire);
        // SAFETY: non-null slots hold `&'static Hooks` stored by `on_fork`.
        (!ptr.is_null()).then(|| unsafe { &*ptr })
    })
}

/// Installs the fork handlers once per process (children inherit them).
#[inline]
fn ensure_registered() {
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

extern "C" fn prepare() {
    hooks().rev().for_each(|h| (h.prepare)());
}

extern "C" fn parent() {
    hooks().for_each(|h| (h.parent)());
}

extern "C" fn child() {
    STATE.store(REGISTERED, Ordering::Release);
    GENERATION.fetch_add(1, Ordering::Relaxed);
    PID.store(crate::os::process::getpid(), Ordering::Relaxed);
    hooks().for_each(|h| (h.child)());
}

/// The process generation: 0 in the first process, one more in each forked generation below
/// it.
#[inline]
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// This process's id, without a system call.
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
