//! The Rust side of every workload, and the hardware baselines (a bare robust process-shared
//! pthread mutex, a plain memcpy) measured in the same run.

use std::hint::black_box;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

use sharedctypes::heap::Block;
use sharedctypes::{
    Array, CChar, Condition, Event, Lock, Process, RawValue, Result, Semaphore, SharedLayout, Value,
};

/// Repetitions per timing; the median is reported.
const REPS: usize = 7;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Median over `REPS` runs of `run`, in nanoseconds per operation.
fn ns_per_op(ops: usize, mut run: impl FnMut()) -> f64 {
    run(); // warm-up
    median(
        (0..REPS)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_nanos() as f64 / ops as f64
            })
            .collect(),
    )
}

/// The machine's shared memory in use (`Shmem` in /proc/meminfo): the memfd (and /dev/shm)
/// pages actually allocated. The same measure as the CPython side.
pub fn shmem_bytes() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("Shmem:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Bytes of address space in this process's shared mappings (mapped, touched or not).
pub fn shared_mapped_bytes() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut shared = false;
    let mut total = 0;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            shared = words.next().and_then(|p| p.as_bytes().get(3)) == Some(&b's');
        } else if first == "Size:" && shared {
            total += words
                .next()
                .and_then(|kb| kb.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024;
        }
    }
    total
}

pub fn locked_increment(ops: usize) -> Result<f64> {
    let v = Value::new(0i64)?;
    let t = ns_per_op(ops, || {
        for _ in 0..ops {
            v.update(|x| x + 1).unwrap();
        }
    });
    assert_eq!(v.get()? as usize, ops * (REPS + 1));
    Ok(t)
}

pub fn guard_increment(ops: usize) -> Result<f64> {
    let v = Value::new(0i64)?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            let g = v.lock().unwrap();
            g.set(g.get() + 1);
        }
    }))
}

pub fn get_then_set(ops: usize) -> Result<f64> {
    let v = Value::new(0i64)?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            v.set(v.get().unwrap() + 1).unwrap();
        }
    }))
}

pub fn raw_increment(ops: usize) -> Result<f64> {
    let v = RawValue::new(0i64)?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            v.set(v.get() + 1);
        }
    }))
}

pub fn atomic_increment(ops: usize) -> Result<f64> {
    let v = RawValue::new(0i64)?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            v.as_atomic().fetch_add(1, SeqCst);
        }
    }))
}

/// A robust, process-shared pthread mutex in shared memory, locked and unlocked with nothing
/// around it: the floor for a locked increment.
pub fn bare_mutex(ops: usize) -> Result<f64> {
    let block = Block::alloc(size_of::<libc::pthread_mutex_t>(), 8)?;
    let m = block.as_ptr().cast::<libc::pthread_mutex_t>();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    let attr = attr.as_mut_ptr();
    // SAFETY: `attr` points to writable storage for a mutexattr.
    unsafe { libc::pthread_mutexattr_init(attr) };
    // SAFETY: `attr` was initialised just above.
    unsafe { libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) };
    // SAFETY: as above.
    unsafe { libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST) };
    // SAFETY: `m` is fresh, aligned, zeroed shared memory owned by this function.
    unsafe { libc::pthread_mutex_init(m, attr) };
    // SAFETY: `attr` is initialised and not used again.
    unsafe { libc::pthread_mutexattr_destroy(attr) };
    let t = ns_per_op(ops, || {
        for _ in 0..ops {
            // SAFETY: `m` is an initialised mutex that outlives the loop.
            unsafe { libc::pthread_mutex_lock(black_box(m)) };
            // SAFETY: this thread locked `m` just above.
            unsafe { libc::pthread_mutex_unlock(black_box(m)) };
        }
    });
    drop(block);
    Ok(t)
}

pub struct Alloc {
    pub ns_per_object: f64,
    /// Shared memory the objects use (pages allocated).
    pub shared_bytes: u64,
}

fn alloc_many<T>(count: usize, make: impl Fn() -> Result<T>) -> Result<Alloc> {
    let mut samples = Vec::new();
    let mut shared_bytes = 0;
    for _ in 0..REPS {
        sharedctypes::heap::trim();
        let before = shmem_bytes();
        let t = Instant::now();
        let made: Vec<T> = (0..count).map(|_| make()).collect::<Result<_>>()?;
        samples.push(t.elapsed().as_nanos() as f64 / count as f64);
        shared_bytes = shmem_bytes() - before;
        drop(made);
    }
    Ok(Alloc {
        ns_per_object: median(samples),
        shared_bytes,
    })
}

pub fn alloc_values(count: usize) -> Result<Alloc> {
    alloc_many(count, || Value::new(0i64))
}

pub fn alloc_raw_values(count: usize) -> Result<Alloc> {
    alloc_many(count, || RawValue::new(0i64))
}

/// Shared memory (allocated pages, mapped address space) used by a million locked `Value<i64>` in one process.
pub fn million_values_shared_bytes() -> Result<(u64, u64)> {
    sharedctypes::heap::trim();
    let (rss, mapped) = (shmem_bytes(), shared_mapped_bytes());
    let made: Vec<Value<i64>> = (0..1_000_000)
        .map(|_| Value::new(0i64))
        .collect::<Result<_>>()?;
    let bytes = (shmem_bytes() - rss, shared_mapped_bytes() - mapped);
    assert_eq!(made[999_999].get()?, 0);
    Ok(bytes)
}

pub fn contended_2proc(ops: usize) -> Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let v = Value::new(0i64)?;
        let t = Instant::now();
        let children: Vec<Process<'_>> = (0..2)
            .map(|_| {
                Process::start(|| -> Result<()> {
                    for _ in 0..ops {
                        v.update(|x| x + 1)?;
                    }
                    Ok(())
                })
            })
            .collect::<Result<_>>()?;
        for child in &children {
            assert_eq!(child.join()?, 0);
        }
        samples.push(t.elapsed().as_nanos() as f64 / (2 * ops) as f64);
        assert_eq!(v.get()?, 2 * ops as i64);
    }
    Ok(median(samples))
}

pub struct Copy {
    /// `arr.to_vec()` on a locked `Array<f64>` (Python's `arr[:]`), in GB/s.
    pub to_vec: f64,
    /// `arr.copy_to_slice(&mut buf)` into a reused buffer, in GB/s.
    pub into_buffer: f64,
    /// `buf.copy_from_slice(&plain)`: a plain memcpy between private buffers, in GB/s.
    pub memcpy: f64,
}

pub fn array_copy(count: usize) -> Result<Copy> {
    let arr = Array::from_iter((0..count).map(|i| i as f64))?;
    let plain: Vec<f64> = (0..count).map(|i| i as f64).collect();
    let mut buf = vec![0.0f64; count];
    let gbps = |ns_per_elem: f64| 8.0 / ns_per_elem;
    let to_vec = ns_per_op(count, || {
        black_box(arr.to_vec().unwrap());
    });
    let into_buffer = ns_per_op(count, || {
        arr.copy_to_slice(black_box(&mut buf)).unwrap();
    });
    assert_eq!(buf, plain);
    let memcpy = ns_per_op(count, || {
        black_box(&mut buf).copy_from_slice(black_box(&plain));
    });
    Ok(Copy {
        to_vec: gbps(to_vec),
        into_buffer: gbps(into_buffer),
        memcpy: gbps(memcpy),
    })
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

/// The reference program's pattern: fork, the child modifies shared objects, join.
pub fn fork_modify_join(ops: usize) -> Result<f64> {
    // The reference program's objects, with values that stay finite when squared again and
    // again (as on the CPython side).
    let lock = Lock::new()?;
    let n = Value::new(1i32)?;
    let x = RawValue::new(1.0f64)?;
    let s = Array::with_lock(&b"hello world".map(CChar), lock.clone())?;
    let a = Array::with_lock(
        &[
            Point { x: 1.0, y: -1.0 },
            Point { x: -1.0, y: 1.0 },
            Point { x: 1.0, y: 1.0 },
        ],
        lock,
    )?;
    let modify = || -> Result<()> {
        n.update(|n| n * n)?;
        x.update(|x| x * x);
        s.set_value(&s.value()?.to_ascii_uppercase())?;
        for i in 0..a.len() {
            let p = a.at(i);
            p.set_x(p.x().powi(2));
            p.set_y(p.y().powi(2));
        }
        Ok(())
    };
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            let p = Process::start(modify).unwrap();
            assert_eq!(p.join().unwrap(), 0);
        }
    }))
}

/// The reference program's work, in a child started with `Process::spawn` (a fork of the
/// fork server, not of this process).
fn modify_spawned(
    n: Value<i32>,
    x: RawValue<f64>,
    s: Array<CChar, Lock>,
    a: Array<Point, Lock>,
) -> Result<()> {
    n.update(|n| n * n)?;
    x.update(|x| x * x);
    s.set_value(&s.value()?.to_ascii_uppercase())?;
    for i in 0..a.len() {
        let p = a.at(i);
        p.set_x(p.x().powi(2));
        p.set_y(p.y().powi(2));
    }
    Ok(())
}

pub fn spawn_modify_join(ops: usize) -> Result<f64> {
    let lock = Lock::new()?;
    let n = Value::new(1i32)?;
    let x = RawValue::new(1.0f64)?;
    let s = Array::with_lock(&b"hello world".map(CChar), lock.clone())?;
    let a = Array::with_lock(
        &[
            Point { x: 1.0, y: -1.0 },
            Point { x: -1.0, y: 1.0 },
            Point { x: 1.0, y: 1.0 },
        ],
        lock,
    )?;
    // Untimed, as on the CPython side: starts the fork server.
    assert_eq!(Process::spawn(modify_spawned, (&n, &x, &s, &a))?.join()?, 0);
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            let p = Process::spawn(modify_spawned, (&n, &x, &s, &a)).unwrap();
            assert_eq!(p.join().unwrap(), 0);
        }
    }))
}

/// Two processes hand a turn back and forth through one `Condition` (over a `Lock`): ns per
/// round trip (two waits, two notifications).
pub fn condition_ping_pong(rounds: usize) -> Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let cond = Condition::new(Lock::new()?)?;
        let turn = RawValue::new(0u32)?;
        let pong = Process::start(|| -> Result<()> {
            for _ in 0..rounds {
                let g = cond.acquire()?;
                let (g, _) = cond.wait_for(g, || turn.get() == 1, None)?;
                turn.set(0);
                cond.notify(1);
                drop(g);
            }
            Ok(())
        })?;
        let t = Instant::now();
        for _ in 0..rounds {
            let g = cond.acquire()?;
            let (g, _) = cond.wait_for(g, || turn.get() == 0, None)?;
            turn.set(1);
            cond.notify(1);
            drop(g);
        }
        let g = cond.acquire()?;
        let (g, _) = cond.wait_for(g, || turn.get() == 0, None)?;
        drop(g);
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(pong.join()?, 0);
    }
    Ok(median(samples))
}

/// `e.set(); e.is_set()`, nobody waiting.
pub fn event_set_is_set(ops: usize) -> Result<f64> {
    let e = Event::new()?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            black_box(&e).set();
            black_box(black_box(&e).is_set());
        }
    }))
}

/// An uncontended `Semaphore` acquire and release (through the permit).
pub fn semaphore_acquire_release(ops: usize) -> Result<f64> {
    let s = Semaphore::new(1)?;
    Ok(ns_per_op(ops, || {
        for _ in 0..ops {
            drop(black_box(&s).acquire());
        }
    }))
}

/// The floor the uncontended operations are measured against: a store and a load of a shared
/// atomic (what an event's set and is_set must do at least), and a compare-and-swap and an
/// add (what a semaphore's acquire and release must do at least).
pub fn bare_atomics(ops: usize) -> Result<(f64, f64)> {
    use std::sync::atomic::Ordering::Relaxed;
    let v = RawValue::new(1u32)?;
    let a = v.as_atomic();
    let store_load = ns_per_op(ops, || {
        for _ in 0..ops {
            black_box(a).store(1, SeqCst);
            black_box(black_box(a).load(SeqCst));
        }
    });
    let cas_add = ns_per_op(ops, || {
        for _ in 0..ops {
            let _ = black_box(a).compare_exchange_weak(1, 0, SeqCst, Relaxed);
            black_box(a).fetch_add(1, SeqCst);
        }
    });
    Ok((store_load, cas_add))
}
