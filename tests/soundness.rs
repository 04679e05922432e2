//! Regression tests for ways safe code could once corrupt shared memory: a lock dropped
//! while a forgotten guard still held it, a `Process` that was leaked (or a grandchild that
//! outlived its parent) while the parent freed and reused a block the child still wrote, and
//! a panic in a child's exit path unwinding into the parent's code.
//!
//! These tests look at process-wide heap state, so they run one at a time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sharedctypes::heap::{self, Block};
use sharedctypes::{Lock, Process, RawValue, Value};

mod common;
use common::wait_for;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits (up to 10 s) until the heap holds no quarantined block, reclaiming as it goes.
fn wait_until_reclaimed() {
    let start = Instant::now();
    loop {
        heap::trim();
        if heap::stats().quarantined_blocks == 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "quarantine never drained"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Allocates fresh objects while a descendant still writes the freed block at `addr`: none
/// may get that block, and none may change.
fn assert_fresh_objects_untouched(addr: usize, writer: &str) {
    let fresh: Vec<RawValue<u64>> = (0..1_000).map(|_| RawValue::new(42).unwrap()).collect();
    assert!(
        fresh.iter().all(|v| v.as_ptr() as usize != addr),
        "the block was reused under a live {writer}"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        fresh.iter().all(|v| v.get() == 42),
        "a fresh object was written by the {writer}"
    );
}

fn kill_and_reap(pid: i32) {
    // SAFETY: plain system calls on a pid this test created.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: as above; `status` is a valid out-pointer.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

#[test]
fn a_lock_dropped_while_a_forgotten_guard_holds_it_is_never_reused() {
    let _serial = serial();
    let lock = Lock::new().unwrap();
    let addr = lock.as_ptr() as usize;
    std::mem::forget(lock.acquire().unwrap());
    drop(lock);
    // The same for the lock inside a Value.
    let v = Value::new(0u64).unwrap();
    let value_lock = v.get_lock().as_ptr() as usize;
    std::mem::forget(v.lock().unwrap());
    drop(v);
    let blocks: Vec<Block> = (0..4_000).map(|_| Block::alloc(48, 8).unwrap()).collect();
    for b in &blocks {
        let at = b.as_ptr() as usize;
        assert!(
            at != addr && at != value_lock,
            "a still-held mutex's block was reused"
        );
    }
    // Locks created and used afterwards are unaffected.
    let other = Lock::new().unwrap();
    drop(other.acquire().unwrap());
    assert!(other.try_acquire().unwrap().is_some());
}

#[test]
fn a_leaked_process_keeps_what_it_uses_out_of_reuse() {
    let _serial = serial();
    let n = RawValue::new(0u64).unwrap();
    let addr = n.as_ptr() as usize;
    let started = RawValue::new(0u32).unwrap();
    let p = Process::start(|| {
        loop {
            n.set(0xBAD);
            started.set(1);
            std::thread::sleep(Duration::from_millis(1));
        }
    })
    .unwrap();
    let pid = p.pid();
    wait_for(&started, 1);
    std::mem::forget(p); // the borrow of `n` ends, but the child still writes it
    drop(n);
    assert_eq!(heap::stats().quarantined_blocks, 1);

    assert_fresh_objects_untouched(addr, "child");

    kill_and_reap(pid);
    wait_until_reclaimed();
}

#[test]
fn an_orphaned_grandchild_keeps_what_it_uses_out_of_reuse() {
    let _serial = serial();
    let n = RawValue::new(0u64).unwrap();
    let addr = n.as_ptr() as usize;
    let grandchild = RawValue::new(0i32).unwrap();
    let child = Process::start(|| {
        let g = Process::start(|| {
            loop {
                n.set(0xBAD);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .unwrap();
        grandchild.set(g.pid());
        // The child ends without joining its own child (as after a crash or `kill`).
        // SAFETY: ends this child process at once; nothing of the parent's runs.
        unsafe { libc::_exit(0) }
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    drop(child);
    drop(n);

    assert_fresh_objects_untouched(addr, "grandchild");

    // The grandchild is not our child (it was reparented): kill it; its lifeline closes.
    // SAFETY: a plain system call on the grandchild's pid.
    unsafe { libc::kill(grandchild.get(), libc::SIGKILL) };
    wait_until_reclaimed();
}

#[test]
fn blocks_freed_after_the_children_ended_are_reused_at_once() {
    let _serial = serial();
    let n = RawValue::new(1u64).unwrap();
    let child = Process::start(|| n.set(2)).unwrap();
    assert_eq!(child.join().unwrap(), 0);
    drop(child);
    assert_eq!(n.get(), 2);
    drop(n);
    assert_eq!(heap::stats().quarantined_blocks, 0);
}

/// An error whose `Debug` panics: the child prints errors with `{:?}` on its way out.
struct Nasty;

impl std::fmt::Debug for Nasty {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug of the child's error panics")
    }
}

#[test]
fn a_panic_on_the_childs_way_out_never_runs_the_parents_code() {
    let _serial = serial();
    let after_start = RawValue::new(0u32).unwrap();
    let p = Process::start(|| -> Result<(), Nasty> { Err(Nasty) }).unwrap();
    // Only the parent gets here; a child that unwound out of `start` would count too.
    after_start.update(|n| n + 1);
    assert_eq!(p.join().unwrap(), 1);
    assert_eq!(after_start.get(), 1);
}

#[test]
fn a_failing_parent_does_not_hang_on_a_running_child() {
    let _serial = serial();
    let start = Instant::now();
    let result = std::panic::catch_unwind(|| {
        let _worker = Process::start(|| {
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .unwrap();
        // Unwinds as a panic does, without the panic hook (which may print a slow backtrace
        // under RUST_BACKTRACE, inside the time measured here).
        std::panic::resume_unwind(Box::new("the parent fails while its child runs"));
    });
    assert!(result.is_err());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "dropping the Process hung"
    );
}

#[test]
fn a_child_reaped_behind_our_back_is_reported() {
    let _serial = serial();
    // Ignoring SIGCHLD makes the kernel reap children itself; done in a child process so the
    // test binary's own children are unaffected.
    let outer = Process::start(|| {
        // SAFETY: setting a signal disposition to SIG_IGN has no memory-safety conditions.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
        let p = Process::start(|| ()).unwrap();
        let start = Instant::now();
        while p.is_alive() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "still alive after it ended"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(p.exitcode(), None, "no exit code can be known");
        assert!(p.join_timeout(Duration::from_millis(10)).is_err());
        assert!(p.join().is_err());
    })
    .unwrap();
    assert_eq!(outer.join().unwrap(), 0);
}

#[test]
fn many_raw_forks_keep_a_bounded_number_of_lifelines_open() {
    let _serial = serial();
    let _v = RawValue::new(1u8).unwrap(); // the heap (and its fork handlers) exist
    let open_fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let before = open_fds();
    for _ in 0..500 {
        // SAFETY: the child only calls _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child at once.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just forked; `status` is a valid out-pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    assert!(
        open_fds() <= before + 2,
        "lifelines of ended forks stayed open"
    );
}
