//! Exactness under load: no update is lost when many processes (and threads) update shared
//! state through its lock. The full-size runs of issue 5 are `#[ignore]`d (run them with
//! `cargo test --release --test exactness -- --ignored`); the same code runs smaller in CI.

use sharedctypes::{Array, Lock, Process, Value};

fn locked_updates(processes: usize, per_process: usize) {
    let v = Value::new(0i64).unwrap();
    let children: Vec<Process<'_>> = (0..processes)
        .map(|_| {
            Process::start(|| -> sharedctypes::Result<()> {
                for _ in 0..per_process {
                    v.update(|x| x + 1)?;
                }
                Ok(())
            })
            .unwrap()
        })
        .collect();
    for child in &children {
        assert_eq!(child.join().unwrap(), 0);
    }
    assert_eq!(v.get().unwrap(), (processes * per_process) as i64);
}

/// Issue 2's check: 4 processes x 250,000 `update(|v| v + 1)` end at exactly 1,000,000.
#[test]
fn four_processes_times_250k_locked_increments() {
    locked_updates(4, 250_000);
}

#[test]
fn eight_processes_locked_updates() {
    locked_updates(8, 25_000);
}

#[test]
#[ignore = "long: 8 x 1,000,000 updates"]
fn eight_processes_times_a_million_locked_updates() {
    locked_updates(8, 1_000_000);
}

fn own_element_plus_shared_total(processes: usize, per_process: usize) {
    let lock = Lock::new().unwrap();
    let parts = Array::<i64, Lock>::zeroed_with_lock(processes, lock.clone()).unwrap();
    let total = Value::with_lock(0i64, lock.clone()).unwrap();
    let children: Vec<Process<'_>> = (0..processes)
        .map(|i| {
            let (lock, parts, total) = (&lock, &parts, &total);
            Process::start(move || {
                for _ in 0..per_process {
                    let _held = lock.acquire().unwrap();
                    parts.get_obj().update(i, |p| p + 1).unwrap();
                    total.get_obj().update(|t| t + 1);
                }
            })
            .unwrap()
        })
        .collect();
    for child in &children {
        assert_eq!(child.join().unwrap(), 0);
    }
    assert_eq!(parts.to_vec().unwrap(), vec![per_process as i64; processes]);
    assert_eq!(total.get().unwrap(), (processes * per_process) as i64);
}

#[test]
fn eight_processes_own_element_plus_shared_total() {
    own_element_plus_shared_total(8, 20_000);
}

#[test]
#[ignore = "long: 8 x 1,000,000 updates"]
fn eight_processes_own_element_plus_shared_total_long() {
    own_element_plus_shared_total(8, 1_000_000);
}

fn threads_and_processes(processes: usize, threads: usize, per_thread: usize) {
    let v = Value::new(0u64).unwrap();
    let work = || {
        for _ in 0..per_thread {
            v.update(|x| x + 1).unwrap();
        }
    };
    let children: Vec<Process<'_>> = (0..processes)
        .map(|_| {
            Process::start(|| {
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(work);
                    }
                })
            })
            .unwrap()
        })
        .collect();
    // The parent's own threads join in too.
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(work);
        }
    });
    for child in &children {
        assert_eq!(child.join().unwrap(), 0);
    }
    assert_eq!(
        v.get().unwrap(),
        ((processes + 1) * threads * per_thread) as u64
    );
}

#[test]
fn mixed_threads_and_processes_on_one_lock() {
    threads_and_processes(3, 3, 10_000);
}

#[test]
#[ignore = "long"]
fn mixed_threads_and_processes_on_one_lock_long() {
    threads_and_processes(4, 4, 250_000);
}
