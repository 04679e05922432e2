//! Forking while other threads of the parent hold a shared lock or are inside the heap
//! allocator: the child must not deadlock on process-local state.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use sharedctypes::heap::{self, Block};
use sharedctypes::{Lock, Process, RawArray, RawValue, Value};

/// Joins a child that must finish promptly; kills it and fails if it hangs.
fn join_promptly(child: &Process<'_>, what: &str) -> i32 {
    match child.join_timeout(Duration::from_secs(20)).unwrap() {
        Some(code) => code,
        None => {
            child.kill().unwrap();
            let _ = child.join();
            panic!("{what}: the child deadlocked");
        }
    }
}

#[test]
fn fork_while_another_thread_holds_a_shared_lock() {
    let lock = Lock::new().unwrap();
    let held = AtomicBool::new(false);
    let release = AtomicBool::new(false);
    std::thread::scope(|s| {
        let _release = SetOnDrop(&release);
        s.spawn(|| {
            let _g = lock.acquire().unwrap();
            held.store(true, SeqCst);
            while !release.load(SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        while !held.load(SeqCst) {
            std::thread::yield_now();
        }
        let child = Process::start(|| {
            // The parent's thread (not this child) holds the lock: it is busy, not broken.
            assert!(lock.try_acquire().unwrap().is_none());
            assert!(
                lock.acquire_timeout(Duration::from_millis(20))
                    .unwrap()
                    .is_none()
            );
            // The child's own heap and locks work.
            let v = Value::new(5u32).unwrap();
            assert_eq!(v.update(|x| x * 2).unwrap(), 10);
        })
        .unwrap();
        assert_eq!(join_promptly(&child, "fork while a thread holds a lock"), 0);
    });
    assert!(lock.try_acquire().unwrap().is_some());
}

/// Sets the flag when dropped, so a failing test stops its helper thread instead of hanging.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn fork_while_another_thread_is_inside_the_allocator() {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let _stop = SetOnDrop(&stop);
        s.spawn(|| {
            let mut live = Vec::new();
            let mut i = 0usize;
            while !stop.load(SeqCst) {
                live.push(Block::alloc(8 + i % 3000, 8).unwrap());
                if live.len() > 64 {
                    live.swap_remove(i % 64);
                }
                i += 1;
            }
        });
        for round in 0..40 {
            let child = Process::start(|| {
                // A fresh heap, not the parent's half-updated one.
                assert_eq!(heap::stats().live_blocks, 0);
                let objects: Vec<RawArray<u32>> =
                    (0..200).map(|n| RawArray::zeroed(n + 1).unwrap()).collect();
                for (n, o) in objects.iter().enumerate() {
                    o.fill(n as u32);
                }
                assert!(
                    objects
                        .iter()
                        .enumerate()
                        .all(|(n, o)| o.iter().all(|x| x == n as u32))
                );
            })
            .unwrap();
            assert_eq!(join_promptly(&child, &format!("round {round}")), 0);
        }
    });
}

#[test]
fn objects_inherited_by_a_grandchild_stay_shared() {
    let v = RawValue::new(1u64).unwrap();
    let child = Process::start(|| {
        let mine = RawValue::new(10u64).unwrap();
        let grandchild = Process::start(|| {
            v.set(v.get() + 1);
            mine.set(mine.get() + 1);
        })
        .unwrap();
        assert_eq!(grandchild.join().unwrap(), 0);
        assert_eq!(mine.get(), 11);
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(v.get(), 2);
}
