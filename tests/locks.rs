//! Lock behaviour across threads and processes: mutual exclusion, recursion, timeouts, and
//! crash robustness (a holder killed with SIGKILL, a thread that exits holding the lock).

use std::time::{Duration, Instant};

use sharedctypes::lock::SharedLock;
use sharedctypes::{Error, Lock, Process, RLock, RawValue, Value};

mod common;
use common::wait_for;

/// A child that takes `lock` `depth` times, sets `held` to 1, and holds the lock until it is
/// killed; returned once it holds it.
fn hold_in_child<'a, L: SharedLock>(
    lock: &'a L,
    held: &'a RawValue<u32>,
    depth: usize,
) -> Process<'a> {
    let child = Process::start(move || {
        let guards: Vec<_> = (0..depth).map(|_| lock.acquire().unwrap()).collect();
        held.set(1);
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let _ = &guards;
        }
    })
    .unwrap();
    wait_for(held, 1);
    child
}

/// A child takes `lock` (twice if `depth` is 2), signals, and is SIGKILLed while holding it.
/// Returns the child's pid.
fn kill_holder<L: SharedLock>(lock: &L, depth: usize) -> i32 {
    let held = RawValue::new(0u32).unwrap();
    let child = hold_in_child(lock, &held, depth);
    child.kill().unwrap();
    assert_eq!(child.join().unwrap(), -libc::SIGKILL);
    child.pid()
}

fn owner_died_is_reported<L: SharedLock>(lock: L, depth: usize) {
    let pid = kill_holder(&lock, depth);
    let guard = lock
        .acquire_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a lock whose holder died must be acquirable");
    assert!(guard.owner_died());
    assert_eq!(guard.dead_owner_pid(), Some(pid));
    drop(guard);
    // Not repaired yet: every acquirer is told, in this process and in another.
    let guard = lock.acquire().unwrap();
    assert_eq!(guard.dead_owner_pid(), Some(pid));
    drop(guard);
    let child = Process::start(|| {
        let g = lock.acquire().unwrap();
        assert_eq!(g.dead_owner_pid(), Some(pid));
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    // Repaired: clean from then on, in this process and in another.
    lock.acquire().unwrap().clear_owner_died();
    let guard = lock.acquire().unwrap();
    assert!(!guard.owner_died());
    drop(guard);
    let child = Process::start(|| assert!(!lock.acquire().unwrap().owner_died())).unwrap();
    assert_eq!(child.join().unwrap(), 0);
}

#[test]
fn sigkilled_lock_holder_is_reported_to_next_acquirer() {
    owner_died_is_reported(Lock::new().unwrap(), 1);
}

#[test]
fn sigkilled_rlock_holder_is_reported_to_next_acquirer() {
    owner_died_is_reported(RLock::new().unwrap(), 2);
}

#[test]
fn try_acquire_reports_owner_died_too() {
    let lock = Lock::new().unwrap();
    kill_holder(&lock, 1);
    let guard = lock
        .try_acquire()
        .unwrap()
        .expect("free after the holder died");
    assert!(guard.owner_died());
}

#[test]
fn value_operations_fail_with_owner_died_until_repaired() {
    let v = Value::new(10i64).unwrap();
    let pid = kill_holder(v.get_lock(), 1);
    // A guard-less operation (a monitor's `get`) cannot repair: it fails, and the report
    // stays for the process that will repair.
    assert_eq!(v.get(), Err(Error::OwnerDied { pid }));
    assert_eq!(v.update(|x| x + 1), Err(Error::OwnerDied { pid }));
    let child = Process::start(|| v.get().map(drop)).unwrap();
    assert_eq!(child.join().unwrap(), 1, "another process is told too");
    let g = v.lock().unwrap();
    assert_eq!(g.dead_owner_pid(), Some(pid));
    assert_eq!(g.get(), 10, "the failed update must not have run");
    g.clear_owner_died();
    drop(g);
    assert_eq!(v.update(|x| x + 1).unwrap(), 11);
}

#[test]
fn guard_of_synchronized_reports_owner_died_for_repair() {
    let v = Value::new(10i64).unwrap();
    kill_holder(v.get_lock(), 1);
    let g = v.lock().unwrap();
    assert!(g.owner_died());
    g.set(0); // repair under the lock
    g.clear_owner_died();
    drop(g);
    assert_eq!(v.get().unwrap(), 0);
}

#[test]
fn thread_that_exits_holding_the_lock_is_reported() {
    let lock = Lock::new().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| std::mem::forget(lock.acquire().unwrap()));
    });
    let guard = lock.acquire().unwrap();
    assert!(guard.owner_died());
    assert_eq!(guard.dead_owner_pid(), Some(std::process::id() as i32));
}

#[test]
fn lock_excludes_other_processes() {
    let lock = Lock::new().unwrap();
    let state = RawValue::new(0u32).unwrap();
    let guard = lock.acquire().unwrap();
    let child = Process::start(|| {
        state.set(1);
        let g = lock.acquire().unwrap(); // blocks until the parent releases
        assert_eq!(state.get(), 2, "acquired while the parent held the lock");
        drop(g);
    })
    .unwrap();
    wait_for(&state, 1);
    std::thread::sleep(Duration::from_millis(50));
    state.set(2);
    drop(guard);
    assert_eq!(child.join().unwrap(), 0);
}

#[test]
fn timeouts() {
    let lock = Lock::new().unwrap();
    let held = RawValue::new(0u32).unwrap();
    let child = Process::start(|| {
        let _g = lock.acquire().unwrap();
        held.set(1);
        while held.get() != 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
    })
    .unwrap();
    wait_for(&held, 1);

    assert!(lock.acquire_timeout(Duration::ZERO).unwrap().is_none());
    let start = Instant::now();
    assert!(
        lock.acquire_timeout(Duration::from_millis(100))
            .unwrap()
            .is_none()
    );
    assert!(start.elapsed() >= Duration::from_millis(100));

    held.set(2);
    // A timeout of years (or Duration::MAX) just waits for the holder.
    let g = lock
        .acquire_timeout(Duration::from_secs(100 * 365 * 86_400))
        .unwrap();
    assert!(g.is_some());
    drop(g);
    assert!(lock.acquire_timeout(Duration::MAX).unwrap().is_some());
    assert_eq!(child.join().unwrap(), 0);
}

/// A timed wait that is asleep in the kernel when the holder is killed ends with the lock and
/// the death reported, long before its timeout (the timed wait is `pthread_mutex_clocklock`
/// on the monotonic clock where glibc has it).
#[test]
fn a_timed_wait_is_handed_the_lock_when_its_holder_dies() {
    let lock = Lock::new().unwrap();
    let held = RawValue::new(0u32).unwrap();
    let child = hold_in_child(&lock, &held, 1);
    let pid = child.pid();
    std::thread::scope(|s| {
        let killer = s.spawn(move || {
            std::thread::sleep(Duration::from_millis(300)); // the waiter is asleep by then
            // SAFETY: sends a signal to the child started above.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        });
        let start = Instant::now();
        let guard = lock
            .acquire_timeout(Duration::from_secs(60))
            .unwrap()
            .expect("handed the lock when its holder died");
        assert!(guard.owner_died());
        assert_eq!(guard.dead_owner_pid(), Some(pid));
        assert!(start.elapsed() < Duration::from_secs(30));
        killer.join().unwrap();
    });
    assert_eq!(child.join().unwrap(), -libc::SIGKILL);
}

#[test]
fn lock_is_not_reentrant_but_rlock_is() {
    let lock = Lock::new().unwrap();
    let g = lock.acquire().unwrap();
    assert_eq!(lock.acquire().unwrap_err(), Error::WouldDeadlock);
    assert!(lock.try_acquire().unwrap().is_none());
    assert!(
        lock.acquire_timeout(Duration::from_secs(3600))
            .unwrap()
            .is_none()
    );
    drop(g);

    let rlock = RLock::new().unwrap();
    let guards: Vec<_> = (0..100).map(|_| rlock.acquire().unwrap()).collect();
    // Held by this thread: another process cannot take it.
    let child = Process::start(|| assert!(rlock.try_acquire().unwrap().is_none())).unwrap();
    assert_eq!(child.join().unwrap(), 0);
    drop(guards);
    let child = Process::start(|| assert!(rlock.try_acquire().unwrap().is_some())).unwrap();
    assert_eq!(child.join().unwrap(), 0);
}

#[test]
fn clones_are_the_same_lock_and_threads_exclude_each_other() {
    let lock = RLock::new().unwrap();
    let counter = RawValue::new(0u64).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let lock = lock.clone();
            let counter = &counter;
            s.spawn(move || {
                for _ in 0..10_000 {
                    let _g = lock.acquire().unwrap();
                    counter.set(counter.get() + 1);
                }
            });
        }
    });
    assert_eq!(counter.get(), 40_000);
    assert_eq!(lock, lock.clone());
    assert_ne!(lock, RLock::new().unwrap());
}

#[test]
fn guard_inherited_by_a_raw_forked_child_cannot_release_the_parents_lock() {
    // `Process::start` refuses a closure that captures a guard (it is not `Send`), but a raw
    // `fork` copies every guard on the stack: the child's copy must release nothing.
    let lock = Lock::new().unwrap();
    let step = RawValue::new(0u32).unwrap();
    let guard = lock.acquire().unwrap();
    // SAFETY: the child only drops its copy of the guard, writes a shared value and _exits.
    match unsafe { libc::fork() } {
        0 => {
            drop(guard); // the child's copy of the guard: must not release the parent's hold
            step.set(1);
            // SAFETY: ends the child without returning into the test harness.
            unsafe { libc::_exit(0) }
        }
        pid => {
            assert!(pid > 0, "fork failed");
            wait_for(&step, 1);
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            let held = std::thread::scope(|s| {
                s.spawn(|| lock.try_acquire().unwrap().is_none())
                    .join()
                    .unwrap()
            });
            assert!(held, "the child released the parent's lock");
            drop(guard);
            assert!(lock.try_acquire().unwrap().is_some());
        }
    }
}

#[test]
fn links_rewritten_by_a_peer_do_not_steer_the_holders_unlock() {
    // glibc keeps the links of a thread's held robust mutexes inside the mutex (shared
    // memory) and its unlock writes through them. A peer that rewrites them while this thread
    // holds the lock must not make the unlock write into this process's memory: the links
    // are written back from this thread's own record first. (In a child: if the defence
    // failed, the robust list would be left corrupt.)
    let probe = Process::start(|| {
        use std::os::unix::fs::FileExt;
        let name = format!("sharedctypes-test-links-{}", std::process::id());
        let v = Value::<u64, Lock>::create_named(&name, 1).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/dev/shm/{name}"))
            .unwrap();
        let mut word = [0u8; 8];
        file.read_exact_at(&mut word, 64).unwrap(); // the lock cell's offset, in the header
        let cell = u64::from_le_bytes(word);
        let first = Box::new(0u64);
        let second = Box::new(0u64);
        let (first_at, second_at) = (&*first as *const u64 as u64, &*second as *const u64 as u64);
        let guard = v.lock().unwrap();
        // `__list.__prev` (byte 24) and `__list.__next` (byte 32) of the pthread mutex: glibc's
        // unlock would write `prev` at `next - 8` and `next` at `prev`.
        file.write_all_at(&second_at.to_le_bytes(), cell + 24)
            .unwrap();
        file.write_all_at(&(first_at + 8).to_le_bytes(), cell + 32)
            .unwrap();
        drop(guard);
        assert_eq!(
            (*first, *second),
            (0, 0),
            "the unlock wrote where the peer chose"
        );
        // The list is intact: the lock (and others) work on.
        let other = Lock::new().unwrap();
        for _ in 0..3 {
            let a = v.lock().unwrap();
            let b = other.acquire().unwrap();
            drop(a);
            drop(b);
        }
        v.update(|n| n + 1).unwrap();
        assert_eq!(v.get().unwrap(), 2);
    })
    .unwrap();
    assert_eq!(probe.join().unwrap(), 0, "{:?}", probe.failure());
}

/// A robust, process-shared mutex of another library (plain pthread), in shared memory.
fn foreign_robust_mutex() -> sharedctypes::heap::Block {
    let block = sharedctypes::heap::Block::alloc(size_of::<libc::pthread_mutex_t>(), 8).unwrap();
    let m = block.as_ptr().cast::<libc::pthread_mutex_t>();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    let attr = attr.as_mut_ptr();
    // SAFETY: `attr` points to storage for a mutexattr, initialised by the first call.
    unsafe { libc::pthread_mutexattr_init(attr) };
    // SAFETY: `attr` is initialised.
    unsafe { libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) };
    // SAFETY: as above.
    unsafe { libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST) };
    // SAFETY: `m` is fresh, zeroed, aligned shared memory.
    unsafe { libc::pthread_mutex_init(m, attr) };
    block
}

#[test]
fn another_librarys_robust_mutex_among_ours_leaves_every_lock_recoverable() {
    let name = |i: u32| format!("sharedctypes-test-among-{}-{i}", std::process::id());
    let a = Value::<u32, Lock>::create_named(&name(0), 0).unwrap();
    let b = Value::<u32, Lock>::create_named(&name(1), 0).unwrap();
    let common = Lock::new().unwrap();
    let foreign = foreign_robust_mutex();
    let f = foreign.as_ptr().cast::<libc::pthread_mutex_t>();
    // Taken and released in every order, with the foreign one in between.
    let probe = Process::start(|| {
        let f = foreign.as_ptr().cast::<libc::pthread_mutex_t>();
        for round in 0..50 {
            let ga = a.lock().unwrap();
            // SAFETY: an initialised robust mutex this thread does not hold.
            assert_eq!(unsafe { libc::pthread_mutex_lock(f) }, 0);
            let gc = common.acquire().unwrap();
            let gb = b.lock().unwrap();
            if round % 2 == 0 {
                drop(ga);
                // SAFETY: held by this thread.
                unsafe { libc::pthread_mutex_unlock(f) };
                drop(gb);
                drop(gc);
            } else {
                drop(gb);
                drop(gc);
                // SAFETY: held by this thread.
                unsafe { libc::pthread_mutex_unlock(f) };
                drop(ga);
            }
        }
        // Then it takes all four, releases the oldest (with the foreign one and the common
        // one linked between it and the newest), and dies holding the other three: the
        // kernel must find every one of them on its list.
        let ga = a.lock().unwrap();
        // SAFETY: an initialised robust mutex this thread does not hold.
        assert_eq!(unsafe { libc::pthread_mutex_lock(f) }, 0);
        std::mem::forget(common.acquire().unwrap());
        std::mem::forget(b.lock().unwrap());
        drop(ga);
    })
    .unwrap();
    assert_eq!(probe.join().unwrap(), 0, "{:?}", probe.failure());
    assert!(!a.lock().unwrap().owner_died());
    assert!(b.try_lock().unwrap().unwrap().owner_died());
    assert!(common.try_acquire().unwrap().unwrap().owner_died());
    // SAFETY: an initialised robust mutex; EOWNERDEAD says its holder died (EBUSY would say
    // it was lost from the list, held for ever).
    assert_eq!(unsafe { libc::pthread_mutex_trylock(f) }, libc::EOWNERDEAD);
}
