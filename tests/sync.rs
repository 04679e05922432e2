//! Condition, Event, Semaphore, BoundedSemaphore and Barrier between processes: no lost
//! wakeups, waiters killed at random moments disturbing nobody, barrier rounds whose arrival
//! indices are permutations, broken barriers that release everyone, exact errors, timeouts
//! within bounds, and every primitive sent to spawned children.

use std::time::{Duration, Instant};

use sharedctypes::{
    Barrier, BoundedSemaphore, Condition, Error, Event, Exit, Lock, Process, RawArray, RawValue,
    Semaphore, Value,
};

mod common;
use common::wait_for;

/// Runs `child` to its end, failing (not hanging) after `secs`.
fn finish(child: &Process<'_>, secs: u64) -> i32 {
    match child.join_timeout(Duration::from_secs(secs)).unwrap() {
        Some(code) => code,
        None => {
            child.kill().unwrap();
            panic!("child {} did not end within {secs} s", child.pid());
        }
    }
}

/// A bounded buffer between processes: one lock, a condition for "not empty" and one for
/// "not full" (the classic, and the shape of CPython ring buffers).
struct Buffer {
    not_empty: Condition<Lock>,
    not_full: Condition<Lock>,
    items: RawArray<u64>,
    /// head (next to read), tail (next to write), in items since the start.
    ends: RawArray<u64>,
}

impl Buffer {
    fn new(capacity: usize) -> Buffer {
        let lock = Lock::new().unwrap();
        Buffer {
            not_empty: Condition::new(lock.clone()).unwrap(),
            not_full: Condition::new(lock).unwrap(),
            items: RawArray::zeroed(capacity).unwrap(),
            ends: RawArray::zeroed(2).unwrap(),
        }
    }

    fn put(&self, item: u64) {
        let cap = self.items.len() as u64;
        let g = self.not_full.acquire().unwrap();
        let (g, _) = self
            .not_full
            .wait_for(
                g,
                || self.ends.get(1).unwrap() - self.ends.get(0).unwrap() < cap,
                None,
            )
            .unwrap();
        let tail = self.ends.get(1).unwrap();
        self.items.set((tail % cap) as usize, item).unwrap();
        self.ends.set(1, tail + 1).unwrap();
        self.not_empty.notify(1);
        drop(g);
    }

    fn get(&self) -> u64 {
        let cap = self.items.len() as u64;
        let g = self.not_empty.acquire().unwrap();
        let (g, _) = self
            .not_empty
            .wait_for(
                g,
                || self.ends.get(1).unwrap() > self.ends.get(0).unwrap(),
                None,
            )
            .unwrap();
        let head = self.ends.get(0).unwrap();
        let item = self.items.get((head % cap) as usize).unwrap();
        self.ends.set(0, head + 1).unwrap();
        self.not_full.notify(1);
        drop(g);
        item
    }
}

#[test]
fn a_million_items_through_a_bounded_buffer_between_four_processes_none_lost() {
    const ITEMS: u64 = 1_000_000; // per producer pair: 500,000 each
    let buffer = Buffer::new(64);
    let consumed = RawArray::<u64>::zeroed(4).unwrap(); // count and sum per consumer
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let buffer = &buffer;
            Process::start(move || {
                for i in 0..ITEMS / 2 {
                    buffer.put(p * (ITEMS / 2) + i + 1);
                }
            })
            .unwrap()
        })
        .collect();
    let consumers: Vec<_> = (0..2usize)
        .map(|c| {
            let (buffer, consumed) = (&buffer, &consumed);
            Process::start(move || {
                let (mut count, mut sum) = (0u64, 0u64);
                for _ in 0..ITEMS / 2 {
                    sum += buffer.get();
                    count += 1;
                }
                consumed.set(2 * c, count).unwrap();
                consumed.set(2 * c + 1, sum).unwrap();
            })
            .unwrap()
        })
        .collect();
    for child in producers.iter().chain(&consumers) {
        assert_eq!(finish(child, 300), 0);
    }
    let all = consumed.to_vec();
    assert_eq!(all[0] + all[2], ITEMS, "items lost or duplicated");
    assert_eq!(all[1] + all[3], ITEMS * (ITEMS + 1) / 2, "wrong items");
    assert_eq!(buffer.ends.to_vec(), [ITEMS, ITEMS]);
}

/// xorshift64, for reproducible random moments.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn waiters_killed_at_random_moments_disturb_no_later_notification() {
    let cond = Condition::new(Lock::new().unwrap()).unwrap();
    let ticks = Value::with_lock(0u64, cond.get_lock().clone()).unwrap();
    let done = RawValue::new(0u32).unwrap();
    let victims = RawValue::new(0u32).unwrap();
    // Two steady waiters that must see every one of 200 ticks in order.
    let steady: Vec<_> = (0..2)
        .map(|_| {
            Process::start(|| {
                let mut seen = 0;
                let mut g = cond.acquire().unwrap();
                while seen < 200 {
                    let (g2, _) = cond
                        .wait_for(
                            g,
                            || ticks.get_obj().get() > seen,
                            Some(Duration::from_secs(30)),
                        )
                        .unwrap();
                    g = g2;
                    let now = ticks.get_obj().get();
                    assert!(now > seen, "a notification was lost");
                    seen = now;
                }
                Exit(0)
            })
            .unwrap()
        })
        .collect();
    // Meanwhile victims wait on the same condition and are killed at random moments.
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    // It ticks on until at least 5 victims were killed, however slowly they start.
    let notifier = Process::start(|| {
        let mut tick = 0;
        while tick < 200 || victims.get() < 5 {
            tick += 1;
            {
                let _g = cond.acquire().unwrap();
                ticks.get_obj().update(|t| t + 1);
                cond.notify_all();
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        done.set(1);
    })
    .unwrap();
    let mut killed = 0;
    while done.get() == 0 {
        let victim = Process::start(|| {
            let mut g = cond.acquire().unwrap();
            loop {
                g = cond.wait_timeout(g, Duration::from_secs(60)).unwrap().0;
            }
        })
        .unwrap();
        std::thread::sleep(Duration::from_micros(next(&mut seed) % 2_000));
        victim.kill().unwrap();
        assert_eq!(finish(&victim, 10), -9);
        killed += 1;
        victims.set(killed);
        // A victim killed holding the lock is a dead holder: repair (nothing to repair).
        let g = cond.acquire().unwrap();
        g.clear_owner_died();
    }
    assert_eq!(finish(&notifier, 60), 0);
    for s in &steady {
        assert_eq!(finish(s, 60), 0, "a steady waiter missed a notification");
    }
    assert!(killed >= 5, "only {killed} victims");
}

#[test]
fn eight_processes_pass_a_barrier_ten_thousand_times_with_permuted_indices() {
    const PARTIES: usize = 8;
    const ROUNDS: usize = 10_000;
    let barrier = Barrier::new(PARTIES as u32).unwrap();
    // For each round, the sum of the arrival indices must be 0 + 1 + ... + 7 = 28, and their
    // xor-of-bits mask must be all of them: a permutation.
    let masks = RawArray::<u32>::zeroed(ROUNDS).unwrap();
    let parties: Vec<_> = (0..PARTIES)
        .map(|_| {
            let (barrier, masks) = (&barrier, &masks);
            Process::start(move || {
                for round in 0..ROUNDS {
                    let i = barrier.wait_timeout(Duration::from_secs(60)).unwrap();
                    assert!((i as usize) < PARTIES);
                    masks
                        .atomic(round)
                        .unwrap()
                        .fetch_or(1 << i, std::sync::atomic::Ordering::SeqCst);
                }
            })
            .unwrap()
        })
        .collect();
    for p in &parties {
        assert_eq!(finish(p, 300), 0);
    }
    let full = (1u32 << PARTIES) - 1;
    let bad: Vec<usize> = (0..ROUNDS)
        .filter(|&r| masks.get(r) != Some(full))
        .collect();
    assert!(
        bad.is_empty(),
        "rounds without a permutation: {:?}",
        &bad[..bad.len().min(10)]
    );
    assert!(!barrier.is_broken());
}

#[test]
fn a_party_that_never_arrives_breaks_the_barrier_for_the_others_within_their_timeout() {
    let barrier = Barrier::new(4).unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|k| {
            let barrier = &barrier;
            Process::start(move || {
                let start = Instant::now();
                // One waiter times out; the others wait without a timeout, and are released
                // by the break all the same.
                let r = if k == 0 {
                    barrier.wait_timeout(Duration::from_millis(300))
                } else {
                    barrier.wait()
                };
                let waited = start.elapsed();
                Exit(i32::from(
                    r == Err(Error::BrokenBarrier) && waited < Duration::from_secs(20),
                ))
            })
            .unwrap()
        })
        .collect();
    for w in &waiters {
        assert_eq!(finish(w, 60), 1);
    }
    assert!(barrier.is_broken());
    assert_eq!(barrier.wait(), Err(Error::BrokenBarrier));
    barrier.reset().unwrap();
    assert!(!barrier.is_broken());
    // Usable again.
    let others: Vec<_> = (0..3)
        .map(|_| Process::start(|| barrier.wait().map(drop)).unwrap())
        .collect();
    barrier.wait().unwrap();
    for o in &others {
        assert_eq!(finish(o, 60), 0);
    }
}

#[test]
fn a_bounded_semaphore_released_too_often_is_the_exact_error() {
    let s = BoundedSemaphore::new(2).unwrap();
    assert_eq!(
        s.release(),
        Err(Error::TooManyReleases { value: 2, max: 2 })
    );
    assert_eq!(
        s.release().unwrap_err().to_string(),
        "semaphore released too many times: it holds 2 permits, the most it may hold is 2"
    );
    let a = s.acquire();
    let b = s.acquire();
    assert!(s.try_acquire().is_none());
    drop(a);
    s.release().unwrap(); // b's permit, released Python's way
    b.forget();
    assert_eq!(s.value(), 2);
    let plain = Semaphore::new(0).unwrap();
    for _ in 0..5 {
        plain.release().unwrap();
    }
    assert_eq!(plain.value(), 5);
}

#[test]
fn timeouts_return_within_bounds() {
    let bound = |timeout: Duration, f: &dyn Fn() -> bool| {
        let start = Instant::now();
        assert!(!f(), "nothing should have come");
        let took = start.elapsed();
        assert!(
            took >= timeout,
            "returned after {took:?}, before {timeout:?}"
        );
        assert!(
            took < timeout + Duration::from_secs(10),
            "returned after {took:?}"
        );
    };
    let t = Duration::from_millis(50);
    let s = Semaphore::new(0).unwrap();
    bound(t, &|| s.acquire_timeout(t).is_some());
    let e = Event::new().unwrap();
    bound(t, &|| e.wait_timeout(t));
    let c = Condition::new_rlock().unwrap();
    bound(t, &|| c.wait_timeout(c.acquire().unwrap(), t).unwrap().1);
    bound(t, &|| {
        let g = c.acquire().unwrap();
        c.wait_for(g, || false, Some(t)).unwrap().1
    });
    let b = Barrier::new(2).unwrap();
    bound(t, &|| b.wait_timeout(t).is_ok());
}

#[test]
fn an_event_wakes_every_waiting_process() {
    let e = Event::new().unwrap();
    let started = RawValue::new(0u32).unwrap();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            Process::start(|| {
                started
                    .as_atomic()
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                e.wait();
            })
            .unwrap()
        })
        .collect();
    wait_for(&started, 4);
    std::thread::sleep(Duration::from_millis(20));
    e.set();
    for w in &waiters {
        assert_eq!(finish(w, 30), 0);
    }
    e.clear();
    assert!(!e.is_set());
}

/// Two processes hand a turn back and forth with a pair of Events (each waits for its own,
/// clears it, sets the other's) while spinning threads keep the machine busy, so that a
/// process is often preempted in the middle of a `set()`. Each release must be the one the
/// round expects: a `set()` seen in two halves (its flag, then the rest) once released a
/// waiter a second time, ran the two sides out of step and left one waiting for ever.
#[test]
fn a_pair_of_events_hands_a_turn_back_and_forth_without_a_spurious_release() {
    const ROUNDS: u64 = 50_000;
    let (ping, pong) = (Event::new().unwrap(), Event::new().unwrap());
    let (sent, answered) = (RawValue::new(0u64).unwrap(), RawValue::new(0u64).unwrap());
    // Spinning threads for as long as the test runs (stopped even when an assertion fails).
    struct Busy(std::sync::Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Busy {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let busy = Busy(Default::default());
    for _ in 0..2 {
        let stop = busy.0.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
    }
    let other = Process::start(|| {
        for round in 1..=ROUNDS {
            if !ping.wait_timeout(Duration::from_secs(20)) || sent.get() != round {
                return Exit(1);
            }
            ping.clear();
            answered.set(round);
            pong.set();
        }
        Exit(0)
    })
    .unwrap();
    for round in 1..=ROUNDS {
        sent.set(round);
        ping.set();
        if !pong.wait_timeout(Duration::from_secs(20)) || answered.get() != round {
            other.kill().unwrap();
            panic!(
                "round {round}: answered {} (a release by another round's set)",
                answered.get()
            );
        }
        pong.clear();
    }
    drop(busy);
    assert_eq!(finish(&other, 30), 0);
}

#[test]
fn a_condition_refuses_the_guard_of_another_lock() {
    let c = Condition::new(Lock::new().unwrap()).unwrap();
    let other = Lock::new().unwrap();
    assert!(matches!(
        c.wait_timeout(other.acquire().unwrap(), Duration::ZERO),
        Err(Error::NotTheLock)
    ));
    assert!(
        other.try_acquire().unwrap().is_some(),
        "the other lock was released"
    );
}

fn use_primitives(
    cond: Condition<Lock>,
    event: Event,
    sem: Semaphore,
    bounded: BoundedSemaphore,
    barrier: Barrier,
    value: Value<u32, Lock>,
) -> sharedctypes::Result<()> {
    barrier.wait()?; // meets the parent
    let g = cond.acquire()?;
    value.get_obj().set(7);
    cond.notify_all();
    drop(g);
    sem.release()?;
    bounded.acquire().forget();
    event.wait();
    Ok(())
}

#[test]
fn every_primitive_travels_to_a_spawned_child() {
    let lock = Lock::new().unwrap();
    let cond = Condition::new(lock.clone()).unwrap();
    let value = Value::with_lock(0u32, lock).unwrap();
    let event = Event::new().unwrap();
    let sem = Semaphore::new(0).unwrap();
    let bounded = BoundedSemaphore::new(1).unwrap();
    let barrier = Barrier::new(2).unwrap();
    let child = Process::spawn(
        use_primitives,
        (&cond, &event, &sem, &bounded, &barrier, &value),
    )
    .unwrap();
    let index = barrier.wait_timeout(Duration::from_secs(30)).unwrap();
    assert!(index < 2);
    let g = cond.acquire().unwrap();
    let (g, ok) = cond
        .wait_for(
            g,
            || value.get_obj().get() == 7,
            Some(Duration::from_secs(30)),
        )
        .unwrap();
    assert!(ok);
    drop(g);
    assert!(sem.acquire_timeout(Duration::from_secs(30)).is_some());
    event.set();
    assert_eq!(finish(&child, 30), 0);
    assert_eq!(
        bounded.value(),
        0,
        "the child took the bounded semaphore's permit"
    );
}

/// True once the process `pid` is asleep in the kernel (state `S`): after it has announced
/// that it is about to wait, the only place it can sleep is the futex of the wait.
fn asleep(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|st| st == "S"))
        })
        .unwrap_or(false)
}

fn wait_until_asleep(children: &[Process<'_>]) {
    let start = Instant::now();
    while !children.iter().all(|c| asleep(c.pid())) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "waiters never slept"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn an_event_pulse_releases_every_process_waiting_at_the_set() {
    // `set()` then `clear()` at once: every process waiting at the `set()` goes on
    // (CPython's semantics), although the flag reads false again when they wake.
    for _ in 0..5 {
        let e = Event::new().unwrap();
        let started = RawValue::new(0u32).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                Process::start(|| {
                    started
                        .as_atomic()
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Exit(if e.wait_timeout(Duration::from_secs(60)) {
                        0
                    } else {
                        7
                    })
                })
                .unwrap()
            })
            .collect();
        wait_for(&started, 3);
        wait_until_asleep(&waiters);
        e.set();
        e.clear();
        for w in &waiters {
            assert_eq!(finish(w, 30), 0, "a waiter missed the pulse");
        }
    }
}

#[test]
fn an_event_pulse_releases_waiting_threads_too() {
    let e = Event::new().unwrap();
    let inside = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|s| {
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    e.wait_timeout(Duration::from_secs(60))
                })
            })
            .collect();
        while inside.load(std::sync::atomic::Ordering::SeqCst) < 4 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(50));
        e.set();
        e.clear();
        for w in waiters {
            assert!(w.join().unwrap(), "a thread missed the pulse");
        }
    });
    assert!(!e.is_set());
}

/// The number of waiters a condition counts (from its `Debug`, which prints it).
fn waiting(c: &Condition<Lock>) -> u64 {
    let text = format!("{c:?}");
    let at = text.find("waiters: ").expect("Debug prints the waiters") + 9;
    text[at..]
        .split(|ch: char| !ch.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn notify_one_wakes_exactly_one_of_several_fresh_waiters() {
    // The waiters are notified while still spinning at the start of their wait (where a
    // notification used to release every spinner): exactly one may go.
    for round in 0..20 {
        let c = Condition::new(Lock::new().unwrap()).unwrap();
        let returned = RawValue::new(0u32).unwrap();
        let notified = RawValue::new(0u32).unwrap();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                Process::start(|| {
                    let g = c.acquire().unwrap();
                    let (g, ok) = c.wait_timeout(g, Duration::from_secs(60)).unwrap();
                    drop(g);
                    returned
                        .as_atomic()
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if ok {
                        notified
                            .as_atomic()
                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
                .unwrap()
            })
            .collect();
        let start = Instant::now();
        while waiting(&c) < 4 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waiters never waited"
            );
            std::hint::spin_loop();
        }
        let g = c.acquire().unwrap();
        c.notify(1);
        drop(g);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            (returned.get(), notified.get()),
            (1, 1),
            "round {round}: notify(1) released more or fewer than one waiter"
        );
        let g = c.acquire().unwrap();
        c.notify_all();
        drop(g);
        for w in &waiters {
            assert_eq!(finish(w, 30), 0);
        }
        assert_eq!((returned.get(), notified.get()), (4, 4));
    }
}

#[test]
fn a_timed_out_wait_is_not_notified_when_another_waiter_was() {
    for _ in 0..5 {
        let c = Condition::new(Lock::new().unwrap()).unwrap();
        let results = RawArray::<u32>::zeroed(2).unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|i| {
                let (c, results) = (&c, &results);
                Process::start(move || {
                    let g = c.acquire().unwrap();
                    let (_g, ok) = c.wait_timeout(g, Duration::from_millis(500)).unwrap();
                    results.set(i, if ok { 1 } else { 2 }).unwrap();
                })
                .unwrap()
            })
            .collect();
        let start = Instant::now();
        while waiting(&c) < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waiters never waited"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let g = c.acquire().unwrap();
        c.notify(1);
        drop(g);
        for w in &waiters {
            assert_eq!(finish(w, 30), 0);
        }
        let mut seen = results.to_vec();
        seen.sort();
        assert_eq!(seen, [1, 2], "one notified, one timed out");
    }
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn a_signal_does_not_end_a_timed_condition_wait_early() {
    let c = Condition::new(Lock::new().unwrap()).unwrap();
    let ready = RawValue::new(0u32).unwrap();
    let outcome = RawArray::<u64>::zeroed(2).unwrap();
    let child = Process::start(|| {
        // A handler without SA_RESTART: the futex wait returns EINTR when it runs.
        // SAFETY: an all-zero sigaction is a valid value (no flags, empty mask).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = ignore_signal as *const () as usize;
        // SAFETY: installs a handler that does nothing, for SIGUSR1 only.
        unsafe { libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()) };
        let g = c.acquire().unwrap();
        ready.set(1);
        let start = Instant::now();
        let (_g, ok) = c.wait_timeout(g, Duration::from_secs(2)).unwrap();
        outcome.set(0, start.elapsed().as_millis() as u64).unwrap();
        outcome.set(1, u64::from(ok)).unwrap();
    })
    .unwrap();
    wait_for(&ready, 1);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: sends SIGUSR1 to our own unreaped child.
        unsafe { libc::kill(child.pid(), libc::SIGUSR1) };
    }
    assert_eq!(finish(&child, 30), 0);
    let (took, notified) = (outcome.get(0).unwrap(), outcome.get(1).unwrap());
    assert_eq!(notified, 0, "nobody notified");
    assert!(
        took >= 1990,
        "the wait ended after {took} ms, before its 2 s"
    );
}

#[test]
fn a_semaphore_too_big_to_release_names_its_limit() {
    for err in [
        Semaphore::new(u32::MAX).unwrap_err(),
        BoundedSemaphore::new(u32::MAX).unwrap_err(),
    ] {
        assert_eq!(
            err,
            Error::InvalidArgument {
                reason: "a semaphore holds at most 4294967294 permits, not 4294967295".into()
            }
        );
    }
    assert_eq!(Semaphore::new(u32::MAX - 1).unwrap().value(), u32::MAX - 1);
}
