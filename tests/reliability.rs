//! What an adversarial review broke (issue 9), each as a probe that failed before its fix:
//! robust locks past the kernel's recovery limit, a lock-order deadlock in `Process::start`,
//! a forged `#[shared(crate = ...)]` path, locks leaked when their holder died, a file-size
//! limit that killed the process, shared memory mapped past what the machine can back, and a
//! dead holder's pid that named a live process.
//!
//! Probes that measure process-wide state (the heap's totals, the mapping budget, resource
//! limits) run inside a child, whose heap and limits no other test thread touches.

use std::time::Duration;

use sharedctypes::lock::MAX_HELD_PER_THREAD;
use sharedctypes::{Error, Exit, Lock, Process, RLock, RawArray, RawValue, SharedLayout, heap};

mod common;
use common::wait_for;

/// Runs `f` in a spawned child and returns its exit code, failing if it takes longer than
/// `limit` (a hang is a failure, not a hung test run).
///
/// Spawned, not forked: a fork of this test binary copies whatever lock another thread of
/// the harness held at that instant (the loader's, an I/O lock), and a probe that then
/// starts threads, prints or unwinds could wait on it for ever. A spawned child starts from
/// the clean fork server with one thread.
fn in_child<F, R>(limit: Duration, f: F) -> i32
where
    F: sharedctypes::process::SpawnFn<(), R> + Copy + Send + 'static,
    R: sharedctypes::process::ProcessResult + 'static,
{
    let child = Process::spawn(f, ()).unwrap();
    match child.join_timeout(limit).unwrap() {
        Some(code) => code,
        None => {
            child.kill().unwrap();
            panic!("the child did not finish within {limit:?}");
        }
    }
}

/// Locks a child holds when it dies past the kernel's limit of 2048 would stay locked for
/// ever; sharedctypes refuses to take them instead, so every lock the child took recovers.
fn held_locks_all_recover(attempts: usize) {
    let locks: Vec<Lock> = (0..attempts).map(|_| Lock::new().unwrap()).collect();
    let taken = RawValue::new(0u32).unwrap();
    let refused = RawValue::new(0u32).unwrap();
    let child = Process::start(|| {
        let mut guards = Vec::new();
        for lock in &locks {
            match lock.acquire() {
                Ok(g) => guards.push(g),
                Err(e) => {
                    let expected = Error::TooManyLocksHeld {
                        held: MAX_HELD_PER_THREAD,
                        max: MAX_HELD_PER_THREAD,
                    };
                    assert_eq!(e, expected);
                    refused.update(|n| n + 1);
                }
            }
        }
        // Re-entering a held RLock does not count as another lock, even at the limit.
        taken.set(guards.len() as u32);
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .unwrap();
    let want = attempts.min(MAX_HELD_PER_THREAD) as u32;
    wait_for(&taken, want);
    child.kill().unwrap();
    assert_eq!(child.join().unwrap(), -9);
    assert_eq!(
        refused.get() as usize,
        attempts.saturating_sub(MAX_HELD_PER_THREAD)
    );
    for (i, lock) in locks.iter().enumerate() {
        let guard = lock
            .acquire_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap_or_else(|| panic!("lock {i} of {attempts} never recovered"));
        assert_eq!(i < want as usize, guard.owner_died(), "lock {i}");
    }
}

#[test]
fn a_thread_holds_at_most_2000_robust_locks_and_every_one_recovers_when_it_dies() {
    held_locks_all_recover(2_100);
}

#[test]
fn at_the_limit_a_held_rlock_can_still_be_reentered() {
    let code = in_child(
        Duration::from_secs(60),
        probe_at_the_limit_a_held_rlock_can_still_be_reentered,
    );
    assert_eq!(code, 1);
}

fn probe_at_the_limit_a_held_rlock_can_still_be_reentered() -> Exit {
    let locks: Vec<RLock> = (0..MAX_HELD_PER_THREAD)
        .map(|_| RLock::new().unwrap())
        .collect();
    let guards: Vec<_> = locks.iter().map(|l| l.acquire().unwrap()).collect();
    let again = locks[7].acquire().unwrap(); // a re-entry: allowed
    let more = RLock::new().unwrap();
    let refused = more.acquire().map(drop);
    let try_refused = more.try_acquire().map(|g| g.is_some());
    drop((again, guards));
    let after = more.acquire().map(drop); // room again
    let full = Error::TooManyLocksHeld {
        held: MAX_HELD_PER_THREAD,
        max: MAX_HELD_PER_THREAD,
    };
    Exit(i32::from(
        refused == Err(full.clone()) && try_refused == Err(full) && after.is_ok(),
    ))
}

#[test]
fn process_start_does_not_deadlock_with_a_thread_that_holds_stderr_then_prints() {
    // Before the fix, `Process::start` took stdout's lock and then stderr's, while this thread
    // takes stderr's and then stdout's: the two deadlocked within seconds.
    let code = in_child(
        Duration::from_secs(120),
        probe_process_start_does_not_deadlock_with_a_thread_that_holds_stderr_then_prints,
    );
    assert_eq!(code, 0);
}

fn probe_process_start_does_not_deadlock_with_a_thread_that_holds_stderr_then_prints() {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _err = std::io::stderr().lock();
                let _out = std::io::stdout().lock();
            }
        });
        for _ in 0..2_000 {
            let child = Process::start(|| ()).unwrap();
            assert_eq!(child.join().unwrap(), 0);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn a_childs_last_words_do_not_need_the_stderr_lock() {
    // A thread holds stderr's lock for good; a child that panics or returns `Err` must still
    // say why and end (std's lock is not free in the child).
    let code = in_child(
        Duration::from_secs(60),
        probe_a_childs_last_words_do_not_need_the_stderr_lock,
    );
    assert_eq!(code, 1);
}

fn probe_a_childs_last_words_do_not_need_the_stderr_lock() -> Exit {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _err = std::io::stderr().lock();
        tx.send(()).unwrap();
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap();
    let panicking = Process::start(|| panic!("a panic message")).unwrap();
    let failing = Process::start(|| Err::<(), _>("an error")).unwrap();
    let ok = panicking.join_timeout(Duration::from_secs(20)).unwrap() == Some(1)
        && failing.join_timeout(Duration::from_secs(20)).unwrap() == Some(1);
    let _ = (panicking.kill(), failing.kill());
    // Never return through the thread that holds stderr for good: end here.
    Exit(i32::from(ok))
}

/// A module that re-exports the real runtime but forges what a derive could take from it.
/// (Forging the layout check too is refused at compile time: `tests/ui/forged_crate_layout.rs`.)
#[allow(unused_macros, clippy::extra_unused_type_parameters)]
mod forged {
    pub mod __private {
        pub use sharedctypes::__private::*;
        macro_rules! offset_of {
            ($t:ty, $f:tt) => {
                4096
            };
        }
        #[allow(unused_imports)]
        pub(crate) use offset_of;
        #[allow(dead_code)]
        pub const fn size_of<T>() -> usize {
            1 << 20
        }
        #[allow(dead_code)]
        pub const fn align_of<T>() -> usize {
            4096
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
#[shared(crate = "forged")]
struct Victim {
    a: u64,
    b: u64,
}

#[test]
fn a_forged_crate_path_cannot_move_the_offsets_the_generated_code_writes_at() {
    let arr = RawArray::from_slice(&[Victim { a: 1, b: 2 }, Victim { a: 3, b: 4 }]).unwrap();
    let neighbour = RawArray::<u64>::zeroed(4096).unwrap();
    arr.at(0).set_b(20);
    arr.at(1).set_a(30);
    assert_eq!(
        arr.to_vec(),
        [Victim { a: 1, b: 20 }, Victim { a: 30, b: 4 }]
    );
    assert!(neighbour.iter().all(|x| x == 0), "a neighbour was written");
    assert_eq!((Victim::LAYOUT.size, Victim::LAYOUT.align), (16, 8));
    assert_eq!(Victim::LAYOUT.fields()[1].offset, 8);
}

#[test]
fn a_lock_whose_holder_died_is_freed_when_dropped() {
    let code = in_child(
        Duration::from_secs(60),
        probe_a_lock_whose_holder_died_is_freed_when_dropped,
    );
    assert_eq!(code, 0, "blocks of dead holders' locks left live");
}

fn probe_a_lock_whose_holder_died_is_freed_when_dropped() -> Exit {
    heap::trim();
    let before = heap::stats().live_blocks;
    let locks: Vec<Lock> = (0..200).map(|_| Lock::new().unwrap()).collect();
    let holder = Process::start(|| {
        for lock in &locks {
            std::mem::forget(lock.acquire().unwrap());
        }
        // Ends holding all 200.
    })
    .unwrap();
    assert_eq!(holder.join().unwrap(), 0);
    drop(holder);
    drop(locks);
    heap::trim();
    let after = heap::stats().live_blocks;
    Exit((after - before) as i32)
}

#[test]
fn a_lock_held_by_this_thread_is_still_leaked_when_dropped() {
    // Leaking is right when the lock is truly held: it sits on this thread's robust list.
    let code = in_child(
        Duration::from_secs(60),
        probe_a_lock_held_by_this_thread_is_still_leaked_when_dropped,
    );
    assert_eq!(code, 2);
}

fn probe_a_lock_held_by_this_thread_is_still_leaked_when_dropped() -> Exit {
    heap::trim();
    let before = heap::stats().live_blocks;
    for recursive in [false, true] {
        if recursive {
            let lock = RLock::new().unwrap();
            std::mem::forget(lock.acquire().unwrap());
            drop(lock);
        } else {
            let lock = Lock::new().unwrap();
            std::mem::forget(lock.acquire().unwrap());
            drop(lock);
        }
    }
    heap::trim();
    Exit((heap::stats().live_blocks - before) as i32)
}

#[test]
fn a_file_size_limit_is_an_error_not_a_signal() {
    let code = in_child(
        Duration::from_secs(60),
        probe_a_file_size_limit_is_an_error_not_a_signal,
    );
    assert_eq!(code, 0, "-25 would be death by SIGXFSZ");
}

fn probe_a_file_size_limit_is_an_error_not_a_signal() -> Exit {
    let limit = libc::rlimit {
        rlim_cur: 16 * 1024,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: sets a resource limit of this (child) process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit) }, 0);
    // The child's heap is fresh: its first object needs a new arena, bigger than 16 KiB.
    match sharedctypes::Value::new(1u64) {
        Err(Error::Os { errno, .. }) if errno == libc::EFBIG => Exit(0),
        other => {
            eprintln!("unexpected: {other:?}");
            Exit(2)
        }
    }
}

/// The machine's memory plus swap, as the heap's bound counts it.
fn memory_and_swap() -> u64 {
    let mut info = std::mem::MaybeUninit::<libc::sysinfo>::zeroed();
    // SAFETY: `info` is a writable `struct sysinfo`.
    assert_eq!(unsafe { libc::sysinfo(info.as_mut_ptr()) }, 0);
    // SAFETY: filled by sysinfo.
    let info = unsafe { info.assume_init() };
    (info.totalram + info.totalswap) * u64::from(info.mem_unit)
}

#[test]
fn mapping_more_shared_memory_than_the_machine_can_back_is_refused_in_total() {
    let code = in_child(
        Duration::from_secs(60),
        probe_mapping_more_shared_memory_than_the_machine_can_back_is_refused_in_total,
    );
    assert_eq!(code, 3);
}

fn probe_mapping_more_shared_memory_than_the_machine_can_back_is_refused_in_total() -> Exit {
    let chunk = (memory_and_swap() / 5 * 2) as usize; // 40 %: two fit, three do not
    let first = RawArray::<u8>::zeroed(chunk).unwrap();
    let second = RawArray::<u8>::zeroed(chunk).unwrap();
    let third = match RawArray::<u8>::zeroed(chunk) {
        Err(Error::OutOfMemory {
            requested,
            available,
        }) => requested == chunk && available < chunk as u64,
        other => {
            eprintln!("unexpected: {:?}", other.map(|a| a.len()));
            false
        }
    };
    drop(first);
    let again = RawArray::<u8>::zeroed(chunk).is_ok(); // the budget came back
    drop(second);
    Exit(i32::from(third) + 2 * i32::from(again))
}

#[test]
fn a_dead_holder_that_never_recorded_its_pid_is_reported_as_unknown_not_as_another() {
    let lock = Lock::new().unwrap();
    drop(lock.acquire().unwrap()); // this process held it last, and released it
    // A holder that dies between taking the lock and recording itself: C code taking the
    // mutex directly is exactly that.
    let child = Process::start(|| {
        let mutex = lock.as_ptr().cast::<libc::pthread_mutex_t>();
        // SAFETY: the initialised process-shared mutex `lock` keeps alive.
        assert_eq!(unsafe { libc::pthread_mutex_lock(mutex) }, 0);
        // Ends holding it, without having recorded a pid.
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    let guard = lock.acquire().unwrap();
    assert!(guard.owner_died());
    assert_eq!(
        guard.dead_owner_pid(),
        None,
        "must not name this (live) process, the previous holder"
    );
    drop(guard);
    let v = sharedctypes::Value::with_lock(0u8, lock.clone()).unwrap();
    assert_eq!(v.get(), Err(Error::OwnerDied { pid: 0 }));
    assert_eq!(
        v.get().unwrap_err().to_string(),
        "a holder of the lock (pid unknown) died while holding it: the data it guards may be half-updated until a holder repairs it and calls clear_owner_died()"
    );
}
